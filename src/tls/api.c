/*
 * api.c -- the public TLS calls: gen_tcp's calls on the socket layer with
 * the TLS transport under the socket, Erlang ssl's connect / listen /
 * transport_accept / handshake, STARTTLS, and what a handshake negotiated.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "socket/sock.h"
#include "tls/tls.h"

/* The calls below need the TLS table of the socket: a socket's table is
 * its context's, found through the context pointer in the table. */
static bool is_tls(const gt_transport *t) { return t && t->open == gt__tls_open; }

typedef struct peer_arg {
    const char *host, *key;
} peer_arg;

static int set_peer(void *ctx, void *arg)
{
    peer_arg *a = arg;
    return gt__tls_set_peer(ctx, a->host, a->key);
}

static int client_setup(gt_socket s, const gt_transport *t, const char *host, int port)
{
    char key[TLS_KEY_MAX];
    snprintf(key, sizeof key, "%s:%d", host ? host : "", port);
    peer_arg a = {host, key};
    return gt__sock_with_tp(s, t, set_peer, &a);
}

int gt_tls_connect(gt_tls_ctx *c, const char *host, int port, gt_optlist opts,
                   int64_t timeout_ms, gt_socket *sock_out)
{
    if (gt__forked())
        return GT_EFORKED;
    if (!c || c->server || !sock_out || (opts.count && !opts.opts) || opts.count > 62)
        return GT_EBADARG;
    *sock_out = (gt_socket){0};
    gt_opt buf[64];
    for (size_t i = 0; i < opts.count; i++)
        buf[i] = opts.opts[i];
    buf[opts.count] = GT_TCP_MODULE(&c->table);
    int64_t deadline = gt__deadline(timeout_ms);
    gt_socket s;
    int rc = gt_connect(host, port, (gt_optlist){buf, opts.count + 1}, timeout_ms, &s);
    if (rc)
        return rc;
    if ((rc = client_setup(s, &c->table, host, port)) != 0) {
        gt_close(s);
        return rc;
    }
    int64_t left = deadline - gt__now_ms();
    rc = gt_transport_handshake(s, deadline < 0 ? GT_INFINITY : left < 0 ? 0 : left);
    *sock_out = s; /* also on failure: gt_tls_last_error reads it */
    return rc;
}

int gt_tls_listen(gt_tls_ctx *c, int port, gt_optlist opts, gt_socket *lsock_out)
{
    if (gt__forked())
        return GT_EFORKED;
    if (!c || !c->server || !lsock_out || (opts.count && !opts.opts) || opts.count > 62)
        return GT_EBADARG;
    gt_opt buf[64];
    for (size_t i = 0; i < opts.count; i++)
        buf[i] = opts.opts[i];
    buf[opts.count] = GT_TCP_MODULE(&c->table);
    return gt_listen(port, (gt_optlist){buf, opts.count + 1}, lsock_out);
}

int gt_tls_transport_accept(gt_socket lsock, int64_t timeout_ms, gt_socket *sock_out)
{
    if (gt__forked())
        return GT_EFORKED;
    if (!is_tls(gt__sock_tp_of(lsock)))
        return sock_out ? -EINVAL : GT_EBADARG;
    return gt_accept(lsock, timeout_ms, sock_out);
}

int gt_tls_handshake(gt_socket s, int64_t timeout_ms)
{
    if (gt__forked())
        return GT_EFORKED;
    if (!is_tls(gt__sock_tp_of(s)))
        return -EINVAL;
    return gt_transport_handshake(s, timeout_ms);
}

int gt_tls_upgrade(gt_socket s, gt_tls_ctx *c, const char *host, int64_t timeout_ms)
{
    if (gt__forked())
        return GT_EFORKED;
    if (!c)
        return GT_EBADARG;
    int rc = gt_transport_attach(s, &c->table);
    if (rc)
        return rc;
    struct sockaddr_storage sa = {0};
    socklen_t sl = sizeof sa;
    int port = 0;
    if (gt_peername(s, &sa, &sl) == 0)
        port = ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&sa)->sin6_port
                                               : ((struct sockaddr_in *)&sa)->sin_port);
    if (!c->server && (rc = client_setup(s, &c->table, host, port)) != 0)
        return rc;
    return gt_transport_handshake(s, timeout_ms);
}

/* ---- what happened ---- */

typedef struct text_arg {
    char *buf;
    size_t len;
    int item;
    size_t full;
} text_arg;

static int put(text_arg *a, const char *s)
{
    size_t n = strlen(s);
    if (a->buf && a->len) {
        size_t k = n < a->len - 1 ? n : a->len - 1;
        memcpy(a->buf, s, k);
        a->buf[k] = 0;
    }
    a->full = n;
    return 0;
}

size_t gt_tls_last_error(gt_socket s, char *buf, size_t len)
{
    if (buf && len)
        buf[0] = 0;
    if (gt__forked())
        return 0; /* the socket's lock may be a vanished thread's */
    return is_tls(gt__sock_tp_of(s)) ? gt_transport_error(s, buf, len) : 0;
}

static int info(void *ctx, void *arg)
{
    tls_conn *c = ctx;
    text_arg *a = arg;
    if (!SSL_is_init_finished(c->ssl))
        return -ENOTCONN;
    switch (a->item) {
    case GT_TLS_PROTOCOL: return put(a, SSL_get_version(c->ssl));
    case GT_TLS_CIPHER: return put(a, SSL_get_cipher_name(c->ssl));
    case GT_TLS_SESSION_REUSED: return put(a, SSL_session_reused(c->ssl) ? "true" : "false");
    case GT_TLS_KTLS: {
        bool tx = BIO_get_ktls_send(SSL_get_wbio(c->ssl)) > 0;
        bool rx = BIO_get_ktls_recv(SSL_get_rbio(c->ssl)) > 0;
        return put(a, tx && rx ? "send+recv" : tx ? "send" : rx ? "recv" : "none");
    }
    case GT_TLS_ALPN: {
        const unsigned char *p = NULL;
        unsigned n = 0;
        SSL_get0_alpn_selected(c->ssl, &p, &n);
        char tmp[256];
        snprintf(tmp, sizeof tmp, "%.*s", (int)n, p ? (const char *)p : "");
        return put(a, tmp);
    }
    case GT_TLS_PEER_SUBJECT: {
        X509 *x = SSL_get0_peer_certificate(c->ssl);
        char tmp[512] = "";
        if (x)
            X509_NAME_oneline(X509_get_subject_name(x), tmp, sizeof tmp);
        return put(a, tmp);
    }
    }
    return GT_EBADARG;
}

int gt_tls_info(gt_socket s, gt_tls_info_item item, char *buf, size_t len)
{
    if (gt__forked())
        return GT_EFORKED;
    const gt_transport *t = gt__sock_tp_of(s);
    if (!is_tls(t))
        return -EINVAL;
    text_arg a = {buf, len, item, 0};
    int rc = gt__sock_with_tp(s, t, info, &a);
    return rc ? rc : (int)a.full;
}

typedef struct der_arg {
    uint8_t *der;
    size_t len;
} der_arg;

static int peer_der(void *ctx, void *arg)
{
    tls_conn *c = ctx;
    der_arg *a = arg;
    X509 *x = SSL_get0_peer_certificate(c->ssl);
    if (!x)
        return -ENOENT;
    unsigned char *p = NULL;
    int n = i2d_X509(x, &p);
    if (n <= 0)
        return -ENOMEM;
    a->der = malloc((size_t)n);
    if (a->der)
        memcpy(a->der, p, (size_t)n);
    OPENSSL_free(p);
    a->len = (size_t)n;
    return a->der ? 0 : -ENOMEM;
}

int gt_tls_peer_cert(gt_socket s, uint8_t **der_out, size_t *len_out)
{
    if (gt__forked())
        return GT_EFORKED;
    if (!der_out || !len_out)
        return GT_EBADARG;
    const gt_transport *t = gt__sock_tp_of(s);
    if (!is_tls(t))
        return -EINVAL;
    der_arg a = {0};
    int rc = gt__sock_with_tp(s, t, peer_der, &a);
    if (rc == 0) {
        *der_out = a.der;
        *len_out = a.len;
    }
    return rc;
}
