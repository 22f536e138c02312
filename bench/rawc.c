/*
 * rawc.c -- the plain C contenders of the gentcp benchmarks.
 *
 * Speaks the wire protocol of docs/spec/PERF-BASELINES.md ({packet,4}
 * frames: 4-byte big-endian length, then the payload; an empty frame ends a
 * stream).  One binary, one mode per run:
 *
 *   rawc pp-server     [port=0]                    blocking echo, TCP_NODELAY
 *   rawc pp-client     port=P [n= warmup= size=]   blocking ping-pong client
 *   rawc stream-server [port=0]                    epoll, 64 KiB reads, counts
 *   rawc stream-client port=P [n= size= batch=1]    one write() per frame
 *                      (batch>1: that many frames per write(), not the harness)
 *   rawc echo-server   [port=0] [packet=4|2|1|0]   epoll, many connections,
 *                      writes back all complete frames of each read at once
 *   rawc echo-client   port=P [n= size= batch=]    pipelined: a sender thread
 *                      (batch frames per write) and a receiver
 *   rawc conns-client  port=P [n= size= pid=SERVERPID settle_ms=200 hold_ms=0]
 *                      n connections, one echoed frame each, then held;
 *                      reports the server's VmRSS delta per connection
 *
 * Servers print "listening on PORT" as their first stdout line.  Every run
 * ends with one line "result key=value ..." on stdout (servers when their
 * session ends; echo-server serves until it is killed and reports nothing).
 * Errors go to stderr with a non-zero exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "benchlib.h"

#define RD_CHUNK 65536 /* read size of the epoll servers, as in the baseline */

/* Listens on 127.0.0.1:port (0 = ephemeral), prints "listening on PORT". */
static int listen_on(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    if (fd < 0)
        die("socket: %s", strerror(errno));
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0)
        die("bind %d: %s", port, strerror(errno));
    if (listen(fd, 4096) < 0)
        die("listen: %s", strerror(errno));
    socklen_t al = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &al);
    printf("listening on %d\n", ntohs(a.sin_port));
    fflush(stdout);
    return fd;
}

static int connect_to(const char *host, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        die("socket: %s", strerror(errno));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1)
        die("bad IPv4 address %s", host);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
        die("connect %s:%d: %s", host, port, strerror(errno));
    return fd;
}

/* The one connection of a pingpong or stream session: listens, accepts,
 * closes the listener. */
static int accept_single(void)
{
    int lfd = listen_on((int)arg("port", 0)), fd;
    while ((fd = accept(lfd, NULL, NULL)) < 0)
        if (errno != EINTR)
            die("accept: %s", strerror(errno));
    close(lfd);
    return fd;
}

/* ------------------------------------------------------------------------ */
/* pingpong                                                                 */
/* ------------------------------------------------------------------------ */

static int pp_server(void)
{
    int fd = accept_single();
    set_nodelay(fd);
    uint8_t *buf = malloc(4 + (1u << 20));
    long long msgs = 0;
    double t0 = 0;
    uint8_t hdr[4];
    while (read_exact_or_eof(fd, hdr, 4)) {
        uint32_t len = get32(hdr);
        if (len > (1u << 20))
            die("pp-server: frame of %u bytes", len);
        if (msgs++ == 0)
            t0 = now_s();
        memcpy(buf, hdr, 4);
        if (len && !read_exact_or_eof(fd, buf + 4, len))
            die("pp-server: EOF inside a frame");
        write_all(fd, buf, 4 + len);
    }
    double dt = now_s() - t0;
    close(fd);
    printf("result msgs=%lld ops_per_s=%.0f\n", msgs, dt > 0 ? (double)msgs / dt : 0.0);
    free(buf);
    return 0;
}

static int pp_client(void)
{
    long n = (long)arg("n", 20000), warmup = (long)arg("warmup", 1000);
    uint32_t size = (uint32_t)arg("size", 64);
    int fd = connect_to(sarg("host", "127.0.0.1"), (int)arg("port", 0));
    set_nodelay(fd);
    uint8_t *out = frames_new(size, 1, 'p'), *in = malloc(4 + size);
    double *rtt = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
    double t_start = 0;
    for (long i = 0; i < warmup + n; i++) {
        if (i == warmup)
            t_start = now_s();
        double t0 = now_s();
        write_all(fd, out, 4 + size);
        if (!read_exact_or_eof(fd, in, 4 + size))
            die("pp-client: server closed");
        double t1 = now_s();
        if (memcmp(in, out, 4 + size) != 0)
            die("pp-client: echo differs at round trip %ld", i);
        if (i >= warmup)
            rtt[i - warmup] = (t1 - t0) * 1e6;
    }
    double dt = now_s() - t_start;
    close(fd);
    qsort(rtt, (size_t)n, sizeof(double), cmp_double);
    printf("result n=%ld ops_per_s=%.0f p50_us=%.2f p99_us=%.2f\n", n, (double)n / dt,
           pct(rtt, n, 50), pct(rtt, n, 99));
    free(out);
    free(in);
    free(rtt);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* stream                                                                   */
/* ------------------------------------------------------------------------ */

static int stream_server(void)
{
    int fd = accept_single();
    set_nonblock(fd);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
        die("epoll: %s", strerror(errno));
    size_t cap = 2 * RD_CHUNK, have = 0;
    uint8_t *buf = malloc(cap);
    long long count = 0;
    double t0 = 0, t1 = 0;
    int done = 0;
    while (!done) {
        if (epoll_wait(ep, &ev, 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            die("epoll_wait: %s", strerror(errno));
        }
        for (;;) {
            if (cap - have < RD_CHUNK) {
                cap = have + RD_CHUNK;
                buf = realloc(buf, cap);
            }
            ssize_t r = read(fd, buf + have, RD_CHUNK);
            if (r < 0) {
                if (errno == EAGAIN || errno == EINTR)
                    break;
                die("read: %s", strerror(errno));
            }
            if (r == 0)
                die("stream-server: EOF before the end marker");
            have += (size_t)r;
            size_t off = 0;
            while (have - off >= 4) {
                uint32_t len = get32(buf + off);
                if (have - off < 4 + (size_t)len)
                    break;
                off += 4 + len;
                if (len == 0) {
                    t1 = now_s();
                    done = 1;
                    break;
                }
                if (count++ == 0)
                    t0 = now_s();
            }
            memmove(buf, buf + off, have - off);
            have -= off;
            if (done)
                break;
        }
    }
    uint8_t ack[12];
    put32(ack, 8);
    put32(ack + 4, (uint32_t)((uint64_t)count >> 32));
    put32(ack + 8, (uint32_t)count);
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    write_all(fd, ack, sizeof ack);
    close(fd);
    double dt = t1 - t0;
    printf("result msgs=%lld ops_per_s=%.0f active=none\n", count, dt > 0 ? (double)count / dt : 0.0);
    free(buf);
    return 0;
}

static int stream_client(void)
{
    long n = (long)arg("n", 1000000), batch = (long)arg("batch", 1);
    uint32_t size = (uint32_t)arg("size", 100);
    if (batch < 1)
        batch = 1;
    int fd = connect_to(sarg("host", "127.0.0.1"), (int)arg("port", 0));
    size_t fl = 4 + size;
    uint8_t *fr = frames_new(size, batch, 's');
    double t0 = now_s();
    for (long i = 0; i < n; i += batch) /* batch=1: one write() per frame, as the harness */
        write_all(fd, fr, fl * (size_t)(n - i < batch ? n - i : batch));
    double ts = now_s();
    uint8_t end[4] = {0, 0, 0, 0}, ack[12];
    write_all(fd, end, 4);
    if (!read_exact_or_eof(fd, ack, sizeof ack))
        die("stream-client: closed without the count");
    double t1 = now_s();
    if (get32(ack) != 8)
        die("stream-client: ack frame of %u bytes", get32(ack));
    uint64_t count = get64(ack + 4);
    if (count != (uint64_t)n)
        die("stream-client: server counted %llu of %ld", (unsigned long long)count, n);
    close(fd);
    printf("result n=%ld ops_per_s=%.0f send_ops_per_s=%.0f\n", n, (double)n / (t1 - t0),
           (double)n / (ts - t0));
    free(fr);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* echo server: epoll, any number of connections, runs until killed          */
/* ------------------------------------------------------------------------ */

struct econn {
    int fd;
    uint8_t *in;   /* bytes of an incomplete frame kept between reads; NULL when none */
    size_t in_len, in_cap;
    uint8_t *out;  /* unsent output (only after a short write) */
    size_t out_off, out_len;
    int eof;       /* peer shut down its write side */
};

static int g_hdr; /* packet header size: 0 (raw), 1, 2 or 4 */

/* Length of the complete frames at the start of p[0..n). */
static size_t complete_frames(const uint8_t *p, size_t n)
{
    if (g_hdr == 0)
        return n;
    size_t off = 0;
    while (n - off >= (size_t)g_hdr) {
        size_t len = g_hdr == 4 ? get32(p + off)
                   : g_hdr == 2 ? ((size_t)p[off] << 8 | p[off + 1])
                                : p[off];
        if (n - off < (size_t)g_hdr + len)
            break;
        off += (size_t)g_hdr + len;
    }
    return off;
}

static void econn_free(int ep, struct econn *c)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->in);
    free(c->out);
    free(c);
}

/* Sends p[0..n) now, keeping what the kernel does not take.  Returns -1 if
 * the connection failed. */
static int econn_send(int ep, struct econn *c, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(c->fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                return -1;
            c->out = malloc(n);
            memcpy(c->out, p, n);
            c->out_off = 0;
            c->out_len = n;
            struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
            epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev); /* stop reading until drained */
            return 0;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Handles readiness; returns -1 when the connection is finished. */
static int econn_event(int ep, struct econn *c, uint8_t *rbuf)
{
    if (c->out) {
        while (c->out_off < c->out_len) {
            ssize_t w = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
            if (w < 0) {
                if (errno == EAGAIN)
                    return 0;
                if (errno == EINTR)
                    continue;
                return -1;
            }
            c->out_off += (size_t)w;
        }
        free(c->out);
        c->out = NULL;
        if (c->eof) {
            shutdown(c->fd, SHUT_WR);
            return -1;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
    }
    for (int rounds = 0; rounds < 16 && !c->out; rounds++) {
        uint8_t *dst = rbuf;
        size_t room = RD_CHUNK;
        if (c->in_len) { /* append to the partial frame */
            if (c->in_cap - c->in_len < RD_CHUNK) {
                c->in_cap = c->in_len + RD_CHUNK;
                c->in = realloc(c->in, c->in_cap);
            }
            dst = c->in + c->in_len;
        }
        ssize_t r = read(c->fd, dst, room);
        if (r < 0) {
            if (errno == EAGAIN)
                return 0;
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0) {
            c->eof = 1;
            if (c->out)
                return 0;
            shutdown(c->fd, SHUT_WR);
            return -1;
        }
        uint8_t *p = c->in_len ? c->in : rbuf;
        size_t n = c->in_len ? c->in_len + (size_t)r : (size_t)r;
        size_t k = complete_frames(p, n);
        if (k && econn_send(ep, c, p, k) < 0)
            return -1;
        if (k < n) { /* keep the partial frame */
            if (p == c->in) {
                memmove(c->in, c->in + k, n - k);
            } else {
                if (c->in_cap < n - k + RD_CHUNK) {
                    c->in_cap = n - k + RD_CHUNK;
                    c->in = realloc(c->in, c->in_cap);
                }
                memcpy(c->in, p + k, n - k);
            }
            c->in_len = n - k;
        } else {
            c->in_len = 0;
            if (c->in_cap > RD_CHUNK * 4) { /* do not keep huge buffers around */
                free(c->in);
                c->in = NULL;
                c->in_cap = 0;
            }
        }
        if ((size_t)r < room)
            return 0;
    }
    return 0;
}

__attribute__((noreturn)) static void echo_server(void)
{
    const char *pk = sarg("packet", "4");
    g_hdr = strcmp(pk, "raw") == 0 ? 0 : atoi(pk);
    if (g_hdr != 0 && g_hdr != 1 && g_hdr != 2 && g_hdr != 4)
        die("echo-server: packet must be raw, 0, 1, 2 or 4");
    signal(SIGPIPE, SIG_IGN);
    int lfd = listen_on((int)arg("port", 0));
    set_nonblock(lfd);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
        die("epoll: %s", strerror(errno));
    uint8_t *rbuf = malloc(RD_CHUNK);
    struct epoll_event evs[64];
    for (;;) {
        int k = epoll_wait(ep, evs, 64, -1);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            die("epoll_wait: %s", strerror(errno));
        }
        for (int i = 0; i < k; i++) {
            struct econn *c = evs[i].data.ptr;
            if (!c) {
                int fd;
                while ((fd = accept(lfd, NULL, NULL)) >= 0) {
                    set_nonblock(fd);
                    c = calloc(1, sizeof *c);
                    c->fd = fd;
                    struct epoll_event cev = {.events = EPOLLIN, .data.ptr = c};
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
                }
                continue;
            }
            if (econn_event(ep, c, rbuf) < 0)
                econn_free(ep, c);
        }
    }
}

/* ------------------------------------------------------------------------ */
/* echo client: pipelined frames, sender thread + receiver                   */
/* ------------------------------------------------------------------------ */

struct sender {
    int fd;
    long n, batch;
    uint32_t size;
};

static void *sender_main(void *p)
{
    struct sender *s = p;
    size_t fl = 4 + s->size;
    uint8_t *buf = frames_new(s->size, s->batch, 'e');
    for (long sent = 0; sent < s->n;) {
        long k = s->n - sent < s->batch ? s->n - sent : s->batch;
        write_all(s->fd, buf, fl * (size_t)k);
        sent += k;
    }
    free(buf);
    return NULL;
}

static int echo_client(void)
{
    struct sender s = {.n = arg("n", 1000000), .batch = arg("batch", 64),
                       .size = (uint32_t)arg("size", 100)};
    if (s.batch < 1)
        s.batch = 1;
    s.fd = connect_to(sarg("host", "127.0.0.1"), (int)arg("port", 0));
    size_t fl = 4 + s.size, want = fl * (size_t)s.n, got = 0, off = 0;
    uint8_t *buf = malloc(RD_CHUNK);
    pthread_t th;
    double t0 = now_s();
    if (pthread_create(&th, NULL, sender_main, &s) != 0)
        die("pthread_create");
    /* frames are all the same size: check each header as it passes by */
    while (got < want) {
        ssize_t r = read(s.fd, buf, RD_CHUNK);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            die("read: %s", strerror(errno));
        }
        if (r == 0)
            die("echo-client: server closed after %zu of %zu bytes", got, want);
        for (size_t i = 0; i < (size_t)r; i++, off++) {
            if (off == fl)
                off = 0;
            if (off < 4 && buf[i] != (uint8_t)(s.size >> (8 * (3 - off))))
                die("echo-client: bad frame header at byte %zu", got + i);
        }
        got += (size_t)r;
    }
    double dt = now_s() - t0;
    pthread_join(th, NULL);
    close(s.fd);
    printf("result n=%ld ops_per_s=%.0f mb_per_s=%.1f\n", s.n, (double)s.n / dt,
           (double)want / dt / 1e6);
    free(buf);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* conns client                                                             */
/* ------------------------------------------------------------------------ */

static void settle(void)
{
    sleep_s((double)arg("settle_ms", 200) / 1e3);
}

static int conns_client(void)
{
    long n = (long)arg("n", 10000), pid = (long)arg("pid", 0);
    uint32_t size = (uint32_t)arg("size", 16);
    long hold_ms = (long)arg("hold_ms", 0);
    const char *host = sarg("host", "127.0.0.1");
    int port = (int)arg("port", 0);
    if (n < 2)
        die("conns-client: n must be >= 2");
    int *fds = malloc(sizeof(int) * (size_t)n);
    uint8_t *out = frames_new(size, 1, 'c'), *in = malloc(4 + size);
    long s0 = 0, c0 = 0;
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        fds[i] = connect_to(host, port);
        write_all(fds[i], out, 4 + size);
        if (!read_exact_or_eof(fds[i], in, 4 + size) || memcmp(in, out, 4 + size) != 0)
            die("conns-client: bad echo on connection %ld", i);
        if (i == 0) {
            settle();
            s0 = vmrss_kb(pid);
            c0 = vmrss_kb(0);
            t0 = now_s();
        }
    }
    double dt = now_s() - t0;
    settle();
    long s1 = vmrss_kb(pid), c1 = vmrss_kb(0);
    printf("result n=%ld ops_per_s=%.0f server_rss_kb=%ld server_rss_per_conn_b=%.1f "
           "client_rss_per_conn_b=%.1f\n",
           n, (double)(n - 1) / dt, s1, pid > 0 ? (double)(s1 - s0) * 1024.0 / (double)(n - 1) : -1.0,
           (double)(c1 - c0) * 1024.0 / (double)(n - 1));
    fflush(stdout);
    if (hold_ms > 0)
        sleep_s((double)hold_ms / 1e3);
    for (long i = 0; i < n; i++)
        close(fds[i]);
    free(fds);
    free(out);
    free(in);
    return 0;
}

int main(int argc, char **argv)
{
    bl_init("rawc", argc, argv);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2)
        die("usage: rawc pp-server|pp-client|stream-server|stream-client|echo-server|"
            "echo-client|conns-client key=value...");
    const char *m = argv[1];
    if (!strcmp(m, "pp-server"))
        return pp_server();
    if (!strcmp(m, "pp-client"))
        return pp_client();
    if (!strcmp(m, "stream-server"))
        return stream_server();
    if (!strcmp(m, "stream-client"))
        return stream_client();
    if (!strcmp(m, "echo-server"))
        echo_server();
    if (!strcmp(m, "echo-client"))
        return echo_client();
    if (!strcmp(m, "conns-client"))
        return conns_client();
    die("unknown mode %s", m);
    return 1;
}
