/*
 * none.c -- the TLS calls in a build without OpenSSL (make TLS=0, the
 * AArch64 cross build): each answers -EPROTONOSUPPORT, nothing else; in a
 * forked child GT_EFORKED, as the OpenSSL build does (fork_test).
 */
#include <errno.h>

#include "internal.h"

int gt_tls_ctx_new(const gt_tls_opts *o, bool server, gt_tls_ctx **out, char *err, size_t errlen)
{
    (void)o, (void)server, (void)err, (void)errlen;
    int rc = gt__forked() ? GT_EFORKED : -EPROTONOSUPPORT;
    if (out)
        *out = NULL;
    return rc;
}
void gt_tls_ctx_free(gt_tls_ctx *c) { (void)c; }
int gt_tls_connect(gt_tls_ctx *c, const char *host, int port, gt_optlist opts, int64_t t,
                   gt_socket *out)
{
    (void)c, (void)host, (void)port, (void)opts, (void)t, (void)out;
    return gt__forked() ? GT_EFORKED : -EPROTONOSUPPORT;
}
int gt_tls_listen(gt_tls_ctx *c, int port, gt_optlist opts, gt_socket *out)
{
    (void)c, (void)port, (void)opts, (void)out;
    return gt__forked() ? GT_EFORKED : -EPROTONOSUPPORT;
}
int gt_tls_transport_accept(gt_socket l, int64_t t, gt_socket *out)
{
    (void)l, (void)t, (void)out;
    return gt__forked() ? GT_EFORKED : -EPROTONOSUPPORT;
}
int gt_tls_handshake(gt_socket s, int64_t t)
{
    (void)s, (void)t;
    return gt__forked() ? GT_EFORKED : -EPROTONOSUPPORT;
}
int gt_tls_upgrade(gt_socket s, gt_tls_ctx *c, const char *host, int64_t t)
{
    (void)s, (void)c, (void)host, (void)t;
    return gt__forked() ? GT_EFORKED : -EPROTONOSUPPORT;
}
size_t gt_tls_last_error(gt_socket s, char *buf, size_t len)
{
    (void)s;
    if (buf && len)
        buf[0] = 0;
    return 0;
}
int gt_tls_info(gt_socket s, gt_tls_info_item item, char *buf, size_t len)
{
    (void)s, (void)item, (void)buf, (void)len;
    return gt__forked() ? GT_EFORKED : -EPROTONOSUPPORT;
}
int gt_tls_peer_cert(gt_socket s, uint8_t **der, size_t *len)
{
    (void)s, (void)der, (void)len;
    return gt__forked() ? GT_EFORKED : -EPROTONOSUPPORT;
}
