/*
 * ctx.c -- TLS contexts: gt_tls_opts turned into an SSL_CTX once, shared
 * by many sockets, and the client's session cache for resumption.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "tls/tls.h"

static int cfg_err(char *err, size_t len, const char *what, const char *arg)
{
    if (err && len) {
        unsigned long e = ERR_peek_last_error();
        char why[160] = "";
        if (e)
            ERR_error_string_n(e, why, sizeof why);
        snprintf(err, len, "%s%s%s%s%s", what, arg ? " " : "", arg ? arg : "",
                 *why ? ": " : "", why);
    }
    ERR_clear_error();
    return GT_ETLS_CONFIG;
}

/* "h2,http/1.1" -> the wire format (length-prefixed names). */
static int alpn_wire(const char *list, uint8_t **out, size_t *len)
{
    size_t n = strlen(list);
    uint8_t *w = malloc(n + 1);
    if (!w)
        return -ENOMEM;
    size_t k = 0;
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == 0 || l > 255) {
            free(w);
            return GT_ETLS_CONFIG;
        }
        w[k++] = (uint8_t)l;
        memcpy(w + k, p, l);
        k += l;
        p += l + (e ? 1 : 0);
    }
    *out = w;
    *len = k;
    return 0;
}

/* Server: the first of our protocols the client offers (Erlang's
 * alpn_preferred_protocols); none in common is no_application_protocol. */
static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    (void)ssl;
    gt_tls_ctx *c = arg;
    unsigned char *o = NULL;
    if (SSL_select_next_proto(&o, outlen, c->alpn, (unsigned)c->alpn_len, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    *out = o;
    return SSL_TLSEXT_ERR_OK;
}

/* A new session (TLS 1.3: a ticket after the handshake) for the cache. */
static int new_session(SSL *ssl, SSL_SESSION *sess)
{
    tls_conn *conn = SSL_get_app_data(ssl);
    if (!conn || !conn->key[0] || !conn->ctx->reuse)
        return 0;
    gt__tls_cache_put(conn->ctx, conn->key, sess);
    return 1; /* we took the reference */
}

SSL_SESSION *gt__tls_cache_get(gt_tls_ctx *c, const char *key)
{
    SSL_SESSION *s = NULL;
    gt__lock(&c->cache_lock, GT__LK_TLS_CACHE);
    for (unsigned i = 0; i < TLS_CACHE_SLOTS; i++)
        if (c->cache[i].sess && strcmp(c->cache[i].key, key) == 0) {
            s = c->cache[i].sess;
            SSL_SESSION_up_ref(s);
            break;
        }
    gt__unlock(&c->cache_lock);
    return s;
}

void gt__tls_cache_put(gt_tls_ctx *c, const char *key, SSL_SESSION *s)
{
    SSL_SESSION *old = NULL;
    gt__lock(&c->cache_lock, GT__LK_TLS_CACHE);
    unsigned slot = TLS_CACHE_SLOTS;
    for (unsigned i = 0; i < TLS_CACHE_SLOTS && slot == TLS_CACHE_SLOTS; i++)
        if (c->cache[i].sess && strcmp(c->cache[i].key, key) == 0)
            slot = i;
    if (slot == TLS_CACHE_SLOTS)
        slot = c->cache_next++ % TLS_CACHE_SLOTS;
    old = c->cache[slot].sess;
    c->cache[slot].sess = s;
    snprintf(c->cache[slot].key, sizeof c->cache[slot].key, "%s", key);
    gt__unlock(&c->cache_lock);
    if (old)
        SSL_SESSION_free(old);
}

static int version(int v, int dflt)
{
    if (v == 0)
        return dflt;
    return v == GT_TLS_V1_2 ? TLS1_2_VERSION : v == GT_TLS_V1_3 ? TLS1_3_VERSION : -1;
}

static int setup(gt_tls_ctx *c, const gt_tls_opts *o, char *err, size_t errlen)
{
    SSL_CTX *x = c->ssl;
    int lo = version(o->min_version, TLS1_2_VERSION);
    int hi = version(o->max_version, TLS1_3_VERSION);
    if (lo < 0 || hi < 0 || lo > hi || !SSL_CTX_set_min_proto_version(x, lo) ||
        !SSL_CTX_set_max_proto_version(x, hi))
        return cfg_err(err, errlen, "versions: TLS 1.2 and 1.3 only", NULL);
    /* a TCP close without close_notify is the end of the stream, as
     * Erlang's ssl_closed; renegotiation (TLS 1.2) is refused */
    SSL_CTX_set_options(x, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
    /* the socket layer retries a write from its queue, which may have
     * moved, and takes partial writes */
    SSL_CTX_set_mode(x, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
    if (o->certfile && SSL_CTX_use_certificate_chain_file(x, o->certfile) != 1)
        return cfg_err(err, errlen, "certfile", o->certfile);
    const char *key = o->keyfile ? o->keyfile : o->certfile;
    if (key && SSL_CTX_use_PrivateKey_file(x, key, SSL_FILETYPE_PEM) != 1)
        return cfg_err(err, errlen, "keyfile", key);
    if (key && SSL_CTX_check_private_key(x) != 1)
        return cfg_err(err, errlen, "keyfile does not match certfile", key);
    if (c->server && !o->certfile)
        return cfg_err(err, errlen, "a server needs certfile", NULL);
    int verify = o->verify ? o->verify : c->server ? GT_TLS_VERIFY_NONE : GT_TLS_VERIFY_PEER;
    if (verify != GT_TLS_VERIFY_PEER && verify != GT_TLS_VERIFY_NONE)
        return cfg_err(err, errlen, "verify: unknown value", NULL);
    if (verify == GT_TLS_VERIFY_PEER) {
        if (o->cafile ? SSL_CTX_load_verify_locations(x, o->cafile, NULL) != 1
                      : SSL_CTX_set_default_verify_paths(x) != 1)
            return cfg_err(err, errlen, "cafile", o->cafile ? o->cafile : "(system store)");
        SSL_CTX_set_verify(x, SSL_VERIFY_PEER | (c->server ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
                           NULL);
    } else {
        SSL_CTX_set_verify(x, SSL_VERIFY_NONE, NULL);
    }
    if (o->ciphers && SSL_CTX_set_cipher_list(x, o->ciphers) != 1)
        return cfg_err(err, errlen, "ciphers", o->ciphers);
    if (o->alpn) {
        if (alpn_wire(o->alpn, &c->alpn, &c->alpn_len) != 0)
            return cfg_err(err, errlen, "alpn: bad list", o->alpn);
        if (c->server)
            SSL_CTX_set_alpn_select_cb(x, alpn_select, c);
        else if (SSL_CTX_set_alpn_protos(x, c->alpn, (unsigned)c->alpn_len) != 0)
            return cfg_err(err, errlen, "alpn", o->alpn);
    }
    if (o->ktls) /* the socket BIO then hands records to the kernel */
        SSL_CTX_set_options(x, SSL_OP_ENABLE_KTLS);
    c->reuse = !o->no_session_reuse;
    if (c->server) {
        if (!c->reuse) {
            SSL_CTX_set_options(x, SSL_OP_NO_TICKET);
            SSL_CTX_set_num_tickets(x, 0);
            SSL_CTX_set_session_cache_mode(x, SSL_SESS_CACHE_OFF);
        }
    } else {
        /* our own cache by host:port; OpenSSL's internal one is for servers */
        SSL_CTX_set_session_cache_mode(x, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(x, new_session);
    }
    return 0;
}

int gt_tls_ctx_new(const gt_tls_opts *o, bool server, gt_tls_ctx **out, char *err, size_t errlen)
{
    static const gt_tls_opts none;
    if (gt__forked()) { /* OpenSSL's locks may be held by the parent's schedulers */
        if (out)
            *out = NULL;
        return GT_EFORKED;
    }
    if (!out)
        return GT_EBADARG;
    *out = NULL;
    if (err && errlen)
        err[0] = 0;
    if (!o)
        o = &none;
    gt_tls_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    atomic_init(&c->refs, 1);
    c->server = server;
    gt__mutex_init(&c->cache_lock);
    c->table = (gt_transport){.name = "tls",
                              .flags = GT_TRANSPORT_SSL_MSGS,
                              .open = gt__tls_open,
                              .recv = gt__tls_recv,
                              .sendv = gt__tls_sendv,
                              .shutdown = gt__tls_shutdown,
                              .close = gt__tls_close,
                              .handshake = gt__tls_handshake,
                              .error = gt__tls_error,
                              .arg = c};
    ERR_clear_error();
    c->ssl = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    int rc = c->ssl ? setup(c, o, err, errlen) : cfg_err(err, errlen, "SSL_CTX_new", NULL);
    if (rc) {
        gt__tls_ctx_unref(c);
        return rc;
    }
    *out = c;
    return 0;
}

void gt__tls_ctx_ref(gt_tls_ctx *c) { atomic_fetch_add(&c->refs, 1); }

void gt__tls_ctx_unref(gt_tls_ctx *c)
{
    if (atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    for (unsigned i = 0; i < TLS_CACHE_SLOTS; i++)
        if (c->cache[i].sess)
            SSL_SESSION_free(c->cache[i].sess);
    SSL_CTX_free(c->ssl);
    free(c->alpn);
    free(c);
}

void gt_tls_ctx_free(gt_tls_ctx *c)
{
    if (gt__forked())
        return; /* SSL_CTX_free could wait on a lock a vanished thread holds */
    if (c)
        gt__tls_ctx_unref(c);
}
