/*
 * epoll_echo.c -- plain-epoll {packet,4} echo server, the "what the kernel
 * allows" peer of bench/peers.sh.
 *
 *   epoll_echo [port=0] [threads=1]
 *
 * threads=N: N threads, each with its own listening socket (SO_REUSEPORT on
 * the same port, so the kernel spreads new connections), its own epoll set
 * (edge-triggered) and its own 64 KiB read buffer.  Each read is answered by
 * one write of all the complete frames it finished; a partial frame is kept
 * per connection.  Listens on 127.0.0.1 with backlog 4096, Nagle left on, as
 * every server of the benchmark.  Prints "listening on PORT", serves until
 * killed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define RBUF 65536

struct conn {
    int fd;
    uint8_t *in; /* partial frame, owned; NULL when none */
    size_t in_len, in_cap;
    uint8_t *out; /* unsent echo, owned; NULL when none */
    size_t out_off, out_len;
};

static void fail(const char *what)
{
    fprintf(stderr, "epoll_echo: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int listener(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    if (fd < 0)
        fail("socket");
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0)
        fail("bind");
    if (listen(fd, 4096) < 0)
        fail("listen");
    return fd;
}

static size_t complete_frames(const uint8_t *p, size_t n)
{
    size_t off = 0;
    while (n - off >= 4) {
        size_t len = (size_t)p[off] << 24 | (size_t)p[off + 1] << 16 | (size_t)p[off + 2] << 8 | p[off + 3];
        if (n - off - 4 < len)
            break;
        off += 4 + len;
    }
    return off;
}

static void conn_free(struct conn *c)
{
    close(c->fd); /* also leaves the epoll set */
    free(c->in);
    free(c->out);
    free(c);
}

/* Writes what is pending; 1 = all out, 0 = would block, -1 = failed. */
static int flush_out(struct conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t w = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
        if (w < 0)
            return errno == EAGAIN ? 0 : errno == EINTR ? flush_out(c) : -1;
        c->out_off += (size_t)w;
    }
    free(c->out);
    c->out = NULL;
    return 1;
}

/* Echoes p[0..n); what the kernel does not take is kept in c->out. */
static int echo(struct conn *c, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(c->fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            if (errno != EAGAIN)
                return -1;
            if (!(c->out = malloc(n)))
                return -1;
            memcpy(c->out, p, n);
            c->out_off = 0;
            c->out_len = n;
            return 0;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Edge-triggered: reads until EAGAIN (or until output backs up: then the
 * EPOLLOUT edge resumes reading).  Returns -1 when the connection is over. */
static int on_ready(struct conn *c, uint8_t *rbuf)
{
    if (c->out) {
        int f = flush_out(c);
        if (f <= 0)
            return f;
    }
    for (;;) {
        uint8_t *dst = rbuf;
        size_t room = RBUF;
        if (c->in_len) { /* a partial frame: read behind it */
            if (c->in_cap - c->in_len < RBUF) {
                uint8_t *nb = realloc(c->in, c->in_len + RBUF);
                if (!nb)
                    return -1;
                c->in = nb;
                c->in_cap = c->in_len + RBUF;
            }
            dst = c->in + c->in_len;
        }
        ssize_t r = read(c->fd, dst, room);
        if (r < 0)
            return errno == EAGAIN ? 0 : errno == EINTR ? on_ready(c, rbuf) : -1;
        if (r == 0)
            return -1;
        uint8_t *p = c->in_len ? c->in : rbuf;
        size_t n = (c->in_len ? c->in_len : 0) + (size_t)r;
        size_t k = complete_frames(p, n);
        if (k && echo(c, p, k) < 0)
            return -1;
        if (k < n) {
            if (p == rbuf) {
                if (c->in_cap < n - k) {
                    free(c->in);
                    c->in_cap = n - k + RBUF;
                    if (!(c->in = malloc(c->in_cap)))
                        return -1;
                }
                memcpy(c->in, p + k, n - k);
            } else {
                memmove(c->in, c->in + k, n - k);
            }
            c->in_len = n - k;
        } else {
            c->in_len = 0;
            free(c->in); /* idle connections keep no buffer */
            c->in = NULL;
            c->in_cap = 0;
        }
        if (c->out)
            return 0; /* wait for EPOLLOUT before reading more */
    }
}

static int g_port;

static void *loop(void *arg)
{
    int lfd = (int)(intptr_t)arg;
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
        fail("epoll");
    uint8_t *rbuf = malloc(RBUF);
    struct epoll_event evs[256];
    for (;;) {
        int k = epoll_wait(ep, evs, 256, -1);
        if (k < 0 && errno != EINTR)
            fail("epoll_wait");
        for (int i = 0; i < k; i++) {
            struct conn *c = evs[i].data.ptr;
            if (c) {
                if (on_ready(c, rbuf) < 0)
                    conn_free(c);
                continue;
            }
            int fd;
            while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                c = calloc(1, sizeof *c);
                if (!c) {
                    close(fd);
                    continue;
                }
                c->fd = fd;
                struct epoll_event cev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = c};
                epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
            }
            if (errno == EMFILE || errno == ENFILE)
                fprintf(stderr, "epoll_echo: accept: %s\n", strerror(errno));
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = 1;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "port=", 5) == 0)
            g_port = atoi(argv[i] + 5);
        else if (strncmp(argv[i], "threads=", 8) == 0)
            threads = atoi(argv[i] + 8);
    }
    if (threads < 1 || threads > 64)
        threads = 1;
    signal(SIGPIPE, SIG_IGN);
    int lfd0 = listener(g_port);
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    getsockname(lfd0, (struct sockaddr *)&a, &al);
    g_port = ntohs(a.sin_port);
    for (int t = 1; t < threads; t++) {
        pthread_t th;
        if (pthread_create(&th, NULL, loop, (void *)(intptr_t)listener(g_port)) != 0)
            fail("pthread_create");
    }
    printf("listening on %d\n", g_port);
    fflush(stdout);
    loop((void *)(intptr_t)lfd0);
    return 0;
}
