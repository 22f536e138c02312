/*
 * tls.c -- gtcat's TLS options, shared by listen and connect:
 *   --tls  --cert FILE  --key FILE  --cacert FILE  --insecure
 * --cert/--key/--cacert/--insecure imply --tls.  A server needs --cert (the
 * key may be in the same file); a client verifies the server against
 * --cacert or the system store, with the host name, unless --insecure.
 */
#include <stdio.h>
#include <stdlib.h>

#include "gtcat.h"

bool tls_opt(tls_args *t, int c, const char *arg)
{
    switch (c) {
    case 'T': t->on = true; return true;
    case 'C': t->on = true, t->cert = arg; return true;
    case 'K': t->on = true, t->key = arg; return true;
    case 'A': t->on = true, t->cacert = arg; return true;
    case 'I': t->on = true, t->insecure = true; return true;
    }
    return false;
}

gt_tls_ctx *tls_context(const tls_args *t, bool server)
{
    if (server && !t->cert)
        usage_error("a TLS listener needs --cert FILE");
    gt_tls_opts o = {.certfile = t->cert,
                     .keyfile = t->key,
                     .cafile = t->cacert,
                     .verify = t->insecure ? GT_TLS_VERIFY_NONE
                               : server && t->cacert ? GT_TLS_VERIFY_PEER
                                                     : GT_TLS_VERIFY_DEFAULT};
    gt_tls_ctx *c = NULL;
    char why[300];
    int rc = gt_tls_ctx_new(&o, server, &c, why, sizeof why);
    if (rc) {
        fprintf(stderr, "gtcat: tls: %s\n", why[0] ? why : gt_strerror(rc));
        exit(EXIT_USAGE);
    }
    return c;
}

void tls_die(const char *what, gt_socket s, int err)
{
    char why[300];
    if (err == GT_ETLS && gt_tls_last_error(s, why, sizeof why)) {
        fflush(stdout);
        fprintf(stderr, "gtcat: %s: tls_alert (%s)\n", what, why);
        exit(EXIT_NETWORK);
    }
    die(what, err);
}
