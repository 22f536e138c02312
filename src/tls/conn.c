/*
 * conn.c -- the TLS transport: an SSL object on the socket's non-blocking
 * fd, read and written by the socket layer under its lock.  OpenSSL reads
 * one record at a time from the kernel (no read-ahead), so the kernel's
 * readiness still tells whether anything is left: only a WANT_READ ends a
 * read burst (transport contract).  Failures are explained into the
 * connection's err: the alert (by its Erlang name) and why OpenSSL sent
 * it, the certificate check's reason.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "tls/tls.h"

/* RFC 8446 section 6 names, as Erlang's ssl spells the alerts. */
const char *gt__tls_alert_name(int d)
{
    switch (d) {
    case 0: return "close_notify";
    case 10: return "unexpected_message";
    case 20: return "bad_record_mac";
    case 22: return "record_overflow";
    case 40: return "handshake_failure";
    case 42: return "bad_certificate";
    case 43: return "unsupported_certificate";
    case 44: return "certificate_revoked";
    case 45: return "certificate_expired";
    case 46: return "certificate_unknown";
    case 47: return "illegal_parameter";
    case 48: return "unknown_ca";
    case 49: return "access_denied";
    case 50: return "decode_error";
    case 51: return "decrypt_error";
    case 70: return "protocol_version";
    case 71: return "insufficient_security";
    case 80: return "internal_error";
    case 86: return "inappropriate_fallback";
    case 90: return "user_canceled";
    case 109: return "missing_extension";
    case 110: return "unsupported_extension";
    case 112: return "unrecognized_name";
    case 113: return "bad_certificate_status_response";
    case 115: return "unknown_psk_identity";
    case 116: return "certificate_required";
    case 120: return "no_application_protocol";
    default: return "unknown_alert";
    }
}

static void on_info(const SSL *ssl, int where, int ret)
{
    if (!(where & SSL_CB_ALERT))
        return;
    tls_conn *c = SSL_get_app_data(ssl);
    if (!c || (ret & 0xff) == 0) /* close_notify is no failure */
        return;
    if (where & SSL_CB_READ)
        c->alert_rcvd = ret & 0xff;
    else
        c->alert_sent = ret & 0xff;
}

/* Fills c->err for a failure OpenSSL just reported; returns GT_ETLS. */
static int explain(tls_conn *c)
{
    char lib[160] = "", why[200] = "";
    unsigned long e = ERR_peek_last_error();
    if (e)
        ERR_error_string_n(e, lib, sizeof lib);
    ERR_clear_error();
    long v = SSL_get_verify_result(c->ssl);
    if (v != X509_V_OK)
        snprintf(why, sizeof why, "certificate verify failed: %s", X509_verify_cert_error_string(v));
    else
        snprintf(why, sizeof why, "%s", *lib ? lib : "TLS failure");
    if (c->alert_rcvd >= 0)
        snprintf(c->err, sizeof c->err, "alert %s received from the peer: %s",
                 gt__tls_alert_name(c->alert_rcvd), lib);
    else if (c->alert_sent >= 0)
        snprintf(c->err, sizeof c->err, "alert %s sent: %s", gt__tls_alert_name(c->alert_sent),
                 why);
    else
        snprintf(c->err, sizeof c->err, "%s", why);
    return GT_ETLS;
}

/* OpenSSL's socket BIO writes with write(2): a peer that is gone would
 * raise SIGPIPE and kill the program, where gentcp's plain sockets send
 * with MSG_NOSIGNAL.  So the BIO is the socket BIO with its write
 * replaced; reads, controls (set fd, kTLS) stay OpenSSL's.  With kernel
 * TLS sending, records and their control messages go through OpenSSL's
 * own write (docs/TLS.md: a kTLS program should ignore SIGPIPE). */
static BIO_METHOD *nosig_method;
static int (*sock_write)(BIO *, const char *, int);
static pthread_once_t nosig_once = PTHREAD_ONCE_INIT;

static int nosig_write(BIO *b, const char *in, int inl)
{
    if (BIO_get_ktls_send(b))
        return sock_write(b, in, inl);
    int fd = -1;
    BIO_get_fd(b, &fd);
    BIO_clear_retry_flags(b);
    ssize_t n = send(fd, in, (size_t)inl, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        BIO_set_retry_write(b);
    return (int)n;
}

static void nosig_init(void)
{
    const BIO_METHOD *base = BIO_s_socket();
    BIO_METHOD *m = BIO_meth_new(BIO_TYPE_SOCKET, "gentcp socket");
    if (!m)
        return;
    sock_write = BIO_meth_get_write(base);
    if (BIO_meth_set_write(m, nosig_write) != 1 ||
        BIO_meth_set_read(m, BIO_meth_get_read(base)) != 1 ||
        BIO_meth_set_puts(m, BIO_meth_get_puts(base)) != 1 ||
        BIO_meth_set_ctrl(m, BIO_meth_get_ctrl(base)) != 1 ||
        BIO_meth_set_create(m, BIO_meth_get_create(base)) != 1 ||
        BIO_meth_set_destroy(m, BIO_meth_get_destroy(base)) != 1) {
        BIO_meth_free(m);
        return;
    }
    nosig_method = m; /* for the life of the program */
}

/* A BIO on fd that never raises SIGPIPE; NULL without memory. */
static BIO *nosig_bio(int fd)
{
    pthread_once(&nosig_once, nosig_init);
    if (!nosig_method)
        return NULL;
    BIO *b = BIO_new(nosig_method);
    if (b)
        BIO_set_fd(b, fd, BIO_NOCLOSE);
    return b;
}

int gt__tls_open(const gt_transport *t, int fd, void **ctx_out)
{
    gt_tls_ctx *x = t->arg;
    tls_conn *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->alert_sent = c->alert_rcvd = -1;
    ERR_clear_error();
    c->ssl = SSL_new(x->ssl);
    BIO *bio = c->ssl ? nosig_bio(fd) : NULL;
    if (!bio) {
        SSL_free(c->ssl);
        free(c);
        ERR_clear_error();
        return -ENOMEM;
    }
    SSL_set_bio(c->ssl, bio, bio); /* the SSL owns it (one reference, both ways) */
    gt__tls_ctx_ref(x);
    c->ctx = x;
    SSL_set_app_data(c->ssl, c);
    SSL_set_info_callback(c->ssl, on_info);
    if (x->server)
        SSL_set_accept_state(c->ssl);
    else
        SSL_set_connect_state(c->ssl);
    *ctx_out = c;
    return 0;
}

int gt__tls_set_peer(tls_conn *c, const char *host, const char *key)
{
    if (host && *host) {
        unsigned char addr[16];
        bool literal = inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
        X509_VERIFY_PARAM *p = SSL_get0_param(c->ssl);
        /* an address is checked as an address and sent as no SNI (RFC 6066) */
        if (literal ? X509_VERIFY_PARAM_set1_ip_asc(p, host) != 1
                    : (SSL_set_tlsext_host_name(c->ssl, host) != 1 ||
                       SSL_set1_host(c->ssl, host) != 1)) {
            ERR_clear_error();
            return GT_EBADARG;
        }
    }
    if (key && c->ctx->reuse) {
        snprintf(c->key, sizeof c->key, "%s", key);
        SSL_SESSION *s = gt__tls_cache_get(c->ctx, key);
        if (s) {
            SSL_set_session(c->ssl, s);
            SSL_SESSION_free(s);
        }
    }
    return 0;
}

/* The SSL_ERROR_* of a failed call as the transport's result. */
static ssize_t failed(tls_conn *c, int r, bool reading)
{
    int e = SSL_get_error(c->ssl, r);
    switch (e) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        /* a read that needs a write (a TLS 1.3 key update's answer with
         * the send buffer full) waits for input too: docs/TLS.md */
        ERR_clear_error();
        return -EAGAIN;
    case SSL_ERROR_ZERO_RETURN: /* close_notify */
        ERR_clear_error();
        return reading ? 0 : -EPIPE;
    case SSL_ERROR_SYSCALL: {
        int err = errno;
        ERR_clear_error();
        if (reading && err == 0)
            return 0;
        return err ? -err : -EPIPE;
    }
    default:
        return explain(c);
    }
}

ssize_t gt__tls_recv(void *ctx, int fd, void *buf, size_t len)
{
    (void)fd;
    tls_conn *c = ctx;
    size_t n = 0;
    errno = 0;
    int r = SSL_read_ex(c->ssl, buf, len, &n);
    if (r == 1) {
        c->hs_done = true;
        return (ssize_t)n;
    }
    return failed(c, r, true);
}

/* Small pieces (a packet header and its body) go out as one record: a
 * per-thread buffer holds them for the call only (it never parks). */
#define COALESCE_MAX 16384
static _Thread_local uint8_t coalesce_buf[COALESCE_MAX];

static ssize_t write_one(tls_conn *c, const void *p, size_t len)
{
    size_t w = 0;
    errno = 0;
    int r = SSL_write_ex(c->ssl, p, len, &w);
    if (r == 1) {
        c->hs_done = true;
        return (ssize_t)w;
    }
    return failed(c, r, false);
}

ssize_t gt__tls_sendv(void *ctx, int fd, const struct iovec *iov, int n)
{
    (void)fd;
    tls_conn *c = ctx;
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += iov[i].iov_len;
    if (n > 1 && total <= COALESCE_MAX) {
        size_t k = 0;
        for (int i = 0; i < n; i++) {
            memcpy(coalesce_buf + k, iov[i].iov_base, iov[i].iov_len);
            k += iov[i].iov_len;
        }
        return total ? write_one(c, coalesce_buf, total) : 0;
    }
    size_t done = 0;
    for (int i = 0; i < n; i++) {
        size_t off = 0;
        while (off < iov[i].iov_len) {
            ssize_t w = write_one(c, (const uint8_t *)iov[i].iov_base + off, iov[i].iov_len - off);
            if (w <= 0)
                return done ? (ssize_t)done : w;
            off += (size_t)w;
            done += (size_t)w;
        }
    }
    return (ssize_t)done;
}

int gt__tls_shutdown(void *ctx, int fd, int how)
{
    tls_conn *c = ctx;
    if (how != SHUT_RD && !c->shut_sent && SSL_is_init_finished(c->ssl)) {
        /* close_notify, best effort: a full send buffer loses it (the
         * TCP FIN still ends the stream for the peer) */
        c->shut_sent = true;
        (void)SSL_shutdown(c->ssl);
        ERR_clear_error();
    }
    return shutdown(fd, how) == 0 ? 0 : -errno;
}

void gt__tls_close(void *ctx, int fd)
{
    tls_conn *c = ctx;
    if (!c->shut_sent && SSL_is_init_finished(c->ssl)) {
        c->shut_sent = true;
        (void)SSL_shutdown(c->ssl);
    }
    (void)fd;
    ERR_clear_error();
    SSL_free(c->ssl);
    gt__tls_ctx_unref(c->ctx);
    free(c);
}

size_t gt__tls_error(void *ctx, char *buf, size_t len)
{
    tls_conn *c = ctx;
    if (buf && len)
        snprintf(buf, len, "%s", c->err);
    return strlen(c->err);
}

int gt__tls_handshake(void *ctx, int fd)
{
    (void)fd;
    tls_conn *c = ctx;
    errno = 0;
    int r = SSL_do_handshake(c->ssl);
    if (r == 1) {
        c->hs_done = true;
        return 0;
    }
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ)
        return GT_TRANSPORT_WANT_READ;
    if (e == SSL_ERROR_WANT_WRITE)
        return GT_TRANSPORT_WANT_WRITE;
    if (e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL) {
        int err = errno;
        ERR_clear_error();
        if (c->alert_rcvd >= 0 || c->alert_sent >= 0)
            return explain(c);
        snprintf(c->err, sizeof c->err, "the peer closed the connection during the handshake%s%s",
                 err ? ": " : "", err ? strerror(err) : "");
        return err && err != EPIPE && err != ECONNRESET ? -err : GT_ECLOSED;
    }
    return explain(c);
}
