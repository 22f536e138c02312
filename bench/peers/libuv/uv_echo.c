/*
 * uv_echo.c -- libuv {packet,4} echo server, a peer of bench/peers.sh.
 *
 *   uv_echo [port=0] [loops=1]
 *
 * loops=1: one uv_loop on the main thread (libuv's usual shape).  loops=N:
 * N threads, each running its own loop with its own listening socket bound
 * with SO_REUSEPORT to the same port (libuv 1.44 has no flag for it, so the
 * socket is made here and handed over with uv_tcp_open).  Reads use one
 * 64 KiB buffer per loop (alloc_cb); every read's complete frames go back at
 * once (uv_try_write, then a uv_write of a copy of what did not fit); a
 * partial frame is kept per connection.  Reading
 * stops while more than WQ_MAX bytes of echo wait to be written.
 * 127.0.0.1, backlog 4096, Nagle on.  Prints "listening on PORT", serves
 * until killed.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#define RBUF 65536
#define WQ_MAX (256 * 1024) /* stop reading while more echo than this is queued */
#define POOL 16               /* spare write buffers kept per loop */

/* A write request and the echoed frames it carries.  Spent ones go back to
 * their loop's pool: a fresh malloc per write returns memory to the kernel
 * and faults it in again on every 64 KiB frame. */
struct wreq {
    uv_write_t w;
    size_t cap;
    char data[];
};

struct loopctx {
    uv_loop_t loop;
    uv_tcp_t server;
    char rbuf[RBUF];
    int busy; /* rbuf handed out and not yet returned by read_cb */
    struct wreq *pool[POOL];
    int npool;
};

struct conn {
    uv_tcp_t h;
    char *in; /* partial frame, owned; NULL when none */
    size_t in_len, in_cap;
    int paused; /* reading stopped for backpressure */
};

static void fail(const char *what, int rc)
{
    fprintf(stderr, "uv_echo: %s: %s\n", what, rc < 0 ? uv_strerror(rc) : "error");
    exit(1);
}

static size_t complete_frames(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t off = 0;
    while (n - off >= 4) {
        size_t len = (size_t)p[off] << 24 | (size_t)p[off + 1] << 16 | (size_t)p[off + 2] << 8 | p[off + 3];
        if (n - off - 4 < len)
            break;
        off += 4 + len;
    }
    return off;
}

static void on_close(uv_handle_t *h)
{
    struct conn *c = (struct conn *)h;
    free(c->in);
    free(c);
}

static void on_alloc(uv_handle_t *h, size_t sug, uv_buf_t *b)
{
    struct loopctx *lc = h->loop->data;
    (void)sug;
    if (lc->busy) { /* not expected: libuv reads one stream at a time */
        b->base = malloc(RBUF);
        b->len = b->base ? RBUF : 0;
        return;
    }
    lc->busy = 1;
    b->base = lc->rbuf;
    b->len = RBUF;
}

static void on_alloc(uv_handle_t *h, size_t sug, uv_buf_t *b);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b);

/* Backpressure: reading resumes once the queued echo has drained. */
static void on_write(uv_write_t *w, int status)
{
    uv_stream_t *s = w->handle;
    struct conn *c = (struct conn *)s;
    struct loopctx *lc = s->loop->data;
    struct wreq *r = (struct wreq *)w;
    if (lc->npool < POOL && r->cap <= 4 * RBUF)
        lc->pool[lc->npool++] = r;
    else
        free(r);
    if (status == 0 && c->paused && !uv_is_closing((uv_handle_t *)s) &&
        uv_stream_get_write_queue_size(s) < WQ_MAX) {
        c->paused = 0;
        uv_read_start(s, on_alloc, on_read);
    }
}

/* Echoes p[0..n): straight from the read buffer when nothing is queued
 * (uv_try_write), a pooled copy of what the kernel did not take otherwise. */
static int echo(struct conn *c, const char *p, size_t n)
{
    if (uv_stream_get_write_queue_size((uv_stream_t *)&c->h) == 0) {
        uv_buf_t tb = uv_buf_init((char *)p, (unsigned)n);
        int w = uv_try_write((uv_stream_t *)&c->h, &tb, 1);
        if (w < 0 && w != UV_EAGAIN)
            return -1;
        if (w > 0) {
            p += w;
            n -= (size_t)w;
        }
        if (n == 0)
            return 0;
    }
    struct loopctx *lc = c->h.loop->data;
    struct wreq *r = NULL;
    for (int i = lc->npool - 1; i >= 0 && !r; i--)
        if (lc->pool[i]->cap >= n) {
            r = lc->pool[i];
            lc->pool[i] = lc->pool[--lc->npool];
        }
    if (!r) {
        size_t cap = n < RBUF ? RBUF : n;
        if (!(r = malloc(sizeof *r + cap)))
            return -1;
        r->cap = cap;
    }
    memcpy(r->data, p, n);
    uv_buf_t b = uv_buf_init(r->data, (unsigned)n);
    if (uv_write(&r->w, (uv_stream_t *)&c->h, &b, 1, on_write) < 0) {
        free(r);
        return -1;
    }
    return 0;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    struct conn *c = (struct conn *)s;
    struct loopctx *lc = s->loop->data;
    int ok = nread >= 0;
    if (nread > 0) {
        const char *p = b->base;
        size_t n = (size_t)nread;
        if (c->in_len) { /* behind a partial frame; the buffer doubles as it grows */
            if (c->in_cap < c->in_len + n) {
                size_t cap = c->in_cap * 2 > c->in_len + n ? c->in_cap * 2 : c->in_len + n;
                char *nb = realloc(c->in, cap);
                ok = nb != NULL;
                if (ok) {
                    c->in = nb;
                    c->in_cap = cap;
                }
            }
            if (ok) {
                memcpy(c->in + c->in_len, b->base, n);
                p = c->in;
                n += c->in_len;
            }
        }
        size_t k = ok ? complete_frames(p, n) : 0;
        if (ok && k)
            ok = echo(c, p, k) == 0;
        if (ok && uv_stream_get_write_queue_size(s) >= WQ_MAX) {
            uv_read_stop(s); /* the client is not reading: neither do we */
            c->paused = 1;
        }
        if (ok && k < n) {
            if (p == c->in) {
                memmove(c->in, c->in + k, n - k);
            } else {
                if (c->in_cap < n - k) {
                    free(c->in);
                    c->in_cap = n - k < RBUF ? RBUF : n - k;
                    if (!(c->in = malloc(c->in_cap)))
                        c->in_cap = 0, ok = 0;
                }
                if (ok)
                    memcpy(c->in, p + k, n - k);
            }
            c->in_len = ok ? n - k : 0;
        } else if (ok) {
            c->in_len = 0;
            if (c->in_cap > 4 * RBUF) { /* do not keep huge buffers around */
                free(c->in);
                c->in = NULL;
                c->in_cap = 0;
            }
        }
    }
    if (b->base == lc->rbuf)
        lc->busy = 0;
    else
        free(b->base);
    if (!ok && !uv_is_closing((uv_handle_t *)s))
        uv_close((uv_handle_t *)s, on_close);
}

static void on_connection(uv_stream_t *server, int status)
{
    if (status < 0)
        return;
    struct conn *c = calloc(1, sizeof *c);
    if (!c)
        return;
    uv_tcp_init(server->loop, &c->h);
    if (uv_accept(server, (uv_stream_t *)&c->h) != 0 ||
        uv_read_start((uv_stream_t *)&c->h, on_alloc, on_read) != 0)
        uv_close((uv_handle_t *)&c->h, on_close);
}

static int g_port;

/* A 127.0.0.1 listening socket with SO_REUSEPORT, port g_port (0: any). */
static int reuseport_socket(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    if (fd < 0)
        fail("socket", -1);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0)
        fail("bind", -1);
    socklen_t al = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &al);
    g_port = ntohs(a.sin_port);
    return fd;
}

static struct loopctx *loop_new(int fd)
{
    struct loopctx *lc = calloc(1, sizeof *lc);
    if (!lc || uv_loop_init(&lc->loop) != 0)
        fail("uv_loop_init", -1);
    lc->loop.data = lc;
    int rc;
    if ((rc = uv_tcp_init(&lc->loop, &lc->server)) < 0 || (rc = uv_tcp_open(&lc->server, fd)) < 0 ||
        (rc = uv_listen((uv_stream_t *)&lc->server, 4096, on_connection)) < 0)
        fail("listen", rc);
    return lc;
}

static void *run(void *arg)
{
    struct loopctx *lc = arg;
    uv_run(&lc->loop, UV_RUN_DEFAULT);
    return NULL;
}

int main(int argc, char **argv)
{
    int loops = 1;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "port=", 5) == 0)
            g_port = atoi(argv[i] + 5);
        else if (strncmp(argv[i], "loops=", 6) == 0)
            loops = atoi(argv[i] + 6);
    }
    if (loops < 1 || loops > 64)
        loops = 1;
    signal(SIGPIPE, SIG_IGN);
    struct loopctx *first = loop_new(reuseport_socket());
    for (int t = 1; t < loops; t++) {
        pthread_t th;
        if (pthread_create(&th, NULL, run, loop_new(reuseport_socket())) != 0)
            fail("pthread_create", -1);
    }
    printf("listening on %d\n", g_port);
    fflush(stdout);
    run(first);
    return 0;
}
