/*
 * tls.h -- TLS on the transport seam (OpenSSL 3), shared by the files of
 * tls/: a context (ctx.c) holds an SSL_CTX and the transport table its
 * sockets use; a connection (conn.c) is the per-socket state behind that
 * table; api.c is the public gt_tls_* calls.
 *
 * Threading: a connection is used only under its socket's lock (every
 * transport call is made so, and api.c reads it through
 * gt__sock_with_tp).  A context is shared: OpenSSL's SSL_CTX is
 * thread-safe once set up, its reference count is atomic, and the client
 * session cache has its own lock (GT__LK_TLS_CACHE).
 */
#ifndef GT_TLS_H
#define GT_TLS_H

#include <openssl/ssl.h>
#include <stdatomic.h>

#include "internal.h"
#include "util/lock.h"

#define TLS_CACHE_SLOTS 32
#define TLS_ERR_MAX 256
#define TLS_KEY_MAX 300 /* "host:port" of a client connection */

typedef struct tls_cache_slot {
    char key[TLS_KEY_MAX];
    SSL_SESSION *sess; /* +1 ref; NULL = empty */
} tls_cache_slot;

struct gt_tls_ctx {
    atomic_int refs;
    SSL_CTX *ssl;
    bool server;
    bool reuse;           /* client: resume sessions from the cache */
    gt_transport table;   /* arg = this context; sockets hold a ref */
    uint8_t *alpn;        /* wire format, server's preference order  */
    size_t alpn_len;
    gt__mutex cache_lock;
    tls_cache_slot cache[TLS_CACHE_SLOTS];
    unsigned cache_next;  /* round-robin replacement */
};

typedef struct tls_conn {
    SSL *ssl;
    gt_tls_ctx *ctx;      /* +1 ref */
    char key[TLS_KEY_MAX];/* client: the session cache key, "" = none */
    int alert_sent, alert_rcvd; /* last alert descriptions, -1 = none */
    bool shut_sent;       /* close_notify went out */
    bool hs_done;
    char err[TLS_ERR_MAX];/* why the last failure happened */
} tls_conn;

/* ctx.c */
void gt__tls_ctx_ref(gt_tls_ctx *c);
void gt__tls_ctx_unref(gt_tls_ctx *c);
/* The client session cache: the session saved for key (+1 ref, NULL if
 * none); saving replaces the key's slot. */
SSL_SESSION *gt__tls_cache_get(gt_tls_ctx *c, const char *key);
void gt__tls_cache_put(gt_tls_ctx *c, const char *key, SSL_SESSION *s);

/* conn.c: the transport's hooks (the table in every context) */
int gt__tls_open(const gt_transport *t, int fd, void **ctx_out);
ssize_t gt__tls_recv(void *ctx, int fd, void *buf, size_t len);
ssize_t gt__tls_sendv(void *ctx, int fd, const struct iovec *iov, int n);
int gt__tls_shutdown(void *ctx, int fd, int how);
void gt__tls_close(void *ctx, int fd);
int gt__tls_handshake(void *ctx, int fd);
size_t gt__tls_error(void *ctx, char *buf, size_t len);
/* Sets the server name (SNI unless an address) and the name the peer's
 * certificate must carry, and picks a cached session for key. */
int gt__tls_set_peer(tls_conn *c, const char *host, const char *key);
/* The Erlang name of TLS alert description d ("bad_certificate"). */
const char *gt__tls_alert_name(int d);

#endif
