/*
 * load.c -- the load generator of the peer benchmarks (bench/peers.sh).
 *
 * Drives any server that echoes {packet,4} frames (docs/spec/PERF-BASELINES.md:
 * 4-byte big-endian length, then the payload; every complete frame is sent
 * back unchanged; EOF from the client ends the connection).  One workload per
 * run, all timed over a window of wall-clock time after a warm-up, so that
 * contenders of very different speeds take the same time:
 *
 *   load rr     port=P pid=S [conns=1000 size=64 secs=2 warm=0.5]
 *       conns connections, one request in flight on each (TCP_NODELAY);
 *       conns=1 is the classic pingpong.  Rate = round trips/s; RTT p50/p99.
 *       pace=R: requests start on a schedule, R a second over all the
 *       connections (each sends when its turn comes and its last echo is
 *       in), for the CPU a server spends at a low request rate; pace=0
 *       (the default) sends each request as the last echo arrives; hold=1
 *       sends nothing after the first echo on each connection (an idle
 *       server holding conns connections).  Paced and held runs put the
 *       server's CPU as % of one core in aux.
 *   load accept port=P pid=S [conc=50 size=64 secs=2 warm=0.5]
 *       conc connectors, each looping connect + one echo + close.
 *       Rate = connections/s; p50/p99 of one cycle.
 *   load pipe   port=P pid=S [size=100 batch=1 secs=2 warm=0.5]
 *       one connection; a sender thread writes batch frames per write(), as
 *       fast as flow control lets it; the main thread counts the echoes.
 *       Rate = echoed frames/s; aux = echoed MB/s (frame bytes, 10^6).
 *   load idle   port=P pid=S [n=10000 size=16 settle_ms=500]
 *       n connections opened one after another, one echo each, then held
 *       idle.  Value = server VmRSS delta / (n-1) between the first and the
 *       n-th connection (after settle_ms each); aux = setup connections/s.
 *   load burst  port=P pid=S [n=10000 size=16 timeout_s=30]
 *       n non-blocking connect()s issued back to back, each then sends one
 *       frame; done when every echo is in.  Rate = n / that time; aux =
 *       TcpExtListenOverflows delta (/proc/net/netstat, whole namespace).
 *
 * Server CPU per operation: utime+stime of /proc/S/stat (all threads, a
 * spinning scheduler included) over the same window, divided by the
 * operations of the window.  Clock ticks are 10 ms here, so short windows
 * are coarse.
 *
 * Prints one line "result rate=... unit=... cpu_us_per_op=... p50_us=...
 * p99_us=... aux=... aux_unit=... ops=... window_s=..." (p50/p99/aux are "-"
 * when the workload has none).  Errors go to stderr, exit 1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "benchlib.h"

#define MAX_SAMPLES (1L << 21) /* latency samples kept per run (16 MiB) */
#define STALL_S 10.0           /* no progress for this long = the server is stuck */

static struct sockaddr_in g_addr;
static long g_pid;

/* ---------------------------------------------------------------- /proc */

/* utime+stime of the server in microseconds, -1 if unreadable. */
static double server_cpu_us(void)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", g_pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* comm may hold spaces */
    unsigned long ut, st;
    /* after ')': state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) * 1e6 / (double)sysconf(_SC_CLK_TCK);
}

static long server_rss_kb(void)
{
    return g_pid > 0 ? vmrss_kb(g_pid) : -1;
}

/* TcpExt counter NAME from /proc/net/netstat (a header line, then values). */
static long tcpext(const char *name)
{
    FILE *f = fopen("/proc/net/netstat", "r");
    if (!f)
        return -1;
    static char hdr[8192], val[8192];
    long res = -1;
    while (fgets(hdr, sizeof hdr, f) && fgets(val, sizeof val, f)) {
        if (strncmp(hdr, "TcpExt:", 7) != 0)
            continue;
        char *hs, *vs, *h = strtok_r(hdr, " \n", &hs), *v = strtok_r(val, " \n", &vs);
        while (h && v) {
            if (strcmp(h, name) == 0)
                res = strtol(v, NULL, 10);
            h = strtok_r(NULL, " \n", &hs);
            v = strtok_r(NULL, " \n", &vs);
        }
    }
    fclose(f);
    return res;
}

/* ---------------------------------------------------------------- sockets */

static int new_socket(int nonblock)
{
    int fd = socket(AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0)
        die("socket: %s", strerror(errno));
    return fd;
}

static int connect_blocking(void)
{
    int fd = new_socket(0);
    while (connect(fd, (struct sockaddr *)&g_addr, sizeof g_addr) < 0)
        if (errno != EINTR)
            die("connect: %s", strerror(errno));
    return fd;
}

/* ---------------------------------------------------------------- figures */

static double *g_lat; /* latency samples, microseconds */
static long g_nlat;

static void sample(double us)
{
    if (!g_lat && !(g_lat = malloc(sizeof(double) * MAX_SAMPLES)))
        die("out of memory");
    if (g_nlat < MAX_SAMPLES)
        g_lat[g_nlat++] = us;
}

/* Percentile p of the sorted samples, "-" when there are none. */
static void pct_str(char *out, size_t cap, double p)
{
    if (g_nlat == 0)
        snprintf(out, cap, "-");
    else
        snprintf(out, cap, "%.2f", pct(g_lat, g_nlat, p));
}

/* Window bookkeeping shared by the timed workloads. */
struct window {
    double t0, t1, cpu0, cpu1;
    long ops0, ops1;
    /* win_step: a warm-up of warm s after start, then secs s timed */
    double start, warm, secs;
    int phase; /* 0 warm-up, 1 timed, 2 over */
};

static void win_open(struct window *w, long ops)
{
    w->t0 = now_s();
    w->cpu0 = server_cpu_us();
    w->ops0 = ops;
}

static void win_close(struct window *w, long ops)
{
    w->t1 = now_s();
    w->cpu1 = server_cpu_us();
    w->ops1 = ops;
}

/* A window timed after a warm-up, both from start (secs= warm= arguments). */
static struct window win_timed(double start)
{
    return (struct window){.start = start, .warm = farg("warm", 0.5), .secs = farg("secs", 2)};
}

/* Moves the phase on at time t, with ops operations done so far. */
static void win_step(struct window *w, double t, long ops)
{
    if (w->phase == 0 && t - w->start >= w->warm) {
        win_open(w, ops);
        w->phase = 1;
    } else if (w->phase == 1 && t - w->t0 >= w->secs) {
        win_close(w, ops);
        w->phase = 2;
    }
}

static void report(const struct window *w, const char *unit, double aux, const char *aux_unit,
                   double value_override)
{
    long ops = w->ops1 - w->ops0;
    double dt = w->t1 - w->t0;
    double rate = value_override >= 0 ? value_override : (dt > 0 ? (double)ops / dt : 0);
    char cpu[32], p50[32], p99[32], ax[32];
    if (w->cpu0 >= 0 && w->cpu1 >= 0 && ops > 0)
        snprintf(cpu, sizeof cpu, "%.3f", (w->cpu1 - w->cpu0) / (double)ops);
    else
        snprintf(cpu, sizeof cpu, "-");
    qsort(g_lat, (size_t)g_nlat, sizeof(double), cmp_double);
    pct_str(p50, sizeof p50, 50);
    pct_str(p99, sizeof p99, 99);
    if (aux_unit)
        snprintf(ax, sizeof ax, "%.1f", aux);
    else
        snprintf(ax, sizeof ax, "-");
    printf("result rate=%.1f unit=%s cpu_us_per_op=%s p50_us=%s p99_us=%s aux=%s aux_unit=%s "
           "ops=%ld window_s=%.3f\n",
           rate, unit, cpu, p50, p99, ax, aux_unit ? aux_unit : "-", ops, dt);
}

/* ---------------------------------------------------------------- rr */

struct conn {
    int fd;
    size_t got;   /* bytes of the current echo received */
    double sent;  /* when the current request left */
};

/* Reads what has come of c's echo (fl bytes in all, c->got so far); true
 * once it is all in. */
static bool echo_read(const char *who, struct conn *c, uint8_t *buf, size_t fl)
{
    ssize_t r = read(c->fd, buf, fl - c->got);
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return false;
    if (r <= 0)
        die("%s: read: %s", who, r ? strerror(errno) : "server closed");
    c->got += (size_t)r;
    return c->got >= fl;
}

static int rr(void)
{
    long nc = arg("conns", 1000);
    uint32_t size = (uint32_t)arg("size", 64);
    size_t fl = 4 + size;
    uint8_t *req = frames_new(size, 1, 'p'), *buf = malloc(fl);
    double pace = farg("pace", 0);
    bool hold = arg("hold", 0) != 0;
    struct conn *cs = calloc((size_t)nc, sizeof *cs);
    double *due = calloc((size_t)nc, sizeof *due); /* paced: next start, 0 = in flight */
    double *turn = calloc((size_t)nc, sizeof *turn); /* paced: the last turn's time */
    int ep = epoll_create1(0);
    for (long i = 0; i < nc; i++) {
        cs[i].fd = connect_blocking();
        set_nodelay(cs[i].fd);
        set_nonblock(cs[i].fd);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &cs[i]};
        epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev);
    }
    long done = 0;
    double start = now_s(), last = start;
    for (long i = 0; i < nc; i++) {
        cs[i].sent = start;
        turn[i] = start + (pace > 0 ? (double)i / pace : 0);
        due[i] = pace > 0 && i > 0 ? turn[i] : 0;
        if (!due[i])
            write_all(cs[i].fd, req, fl); /* 68 bytes always fit the empty send buffer */
    }
    struct window w = win_timed(start);
    struct epoll_event evs[256];
    while (w.phase < 2) {
        double tmo = 0.1;
        if (pace > 0) { /* sleep until the next scheduled request */
            double next = 1e300, t = now_s();
            for (long i = 0; i < nc; i++)
                if (due[i] > 0 && due[i] < next)
                    next = due[i];
            if (next - t < tmo)
                tmo = next <= t ? 0 : next - t;
        }
        /* epoll_pwait2: a millisecond timeout would miss 1000 req/s turns */
        struct timespec ts = timespec_of(tmo);
        int k = epoll_pwait2(ep, evs, 256, &ts, NULL);
        double t = now_s();
        if (pace > 0)
            for (long i = 0; i < nc; i++)
                if (due[i] > 0 && due[i] <= t) {
                    cs[i].sent = t;
                    due[i] = 0;
                    write_all(cs[i].fd, req, fl);
                }
        win_step(&w, t, done);
        if (t - last > STALL_S && !hold && !(pace > 0 && pace * STALL_S < (double)nc))
            die("rr: no echo for %.0f s (%ld round trips done)", STALL_S, done);
        for (int i = 0; i < k; i++) {
            struct conn *c = evs[i].data.ptr;
            if (!echo_read("rr", c, buf, fl))
                continue;
            c->got = 0;
            done++;
            last = t;
            if (w.phase == 1)
                sample((t - c->sent) * 1e6);
            if (hold)
                continue;
            if (pace > 0) { /* its next turn: a late turn is taken at once, one
                               more than a period late is dropped */
                double period = (double)nc / pace;
                turn[c - cs] += period;
                if (turn[c - cs] < t - period)
                    turn[c - cs] = t;
                due[c - cs] = turn[c - cs];
                continue;
            }
            c->sent = now_s();
            write_all(c->fd, req, fl);
        }
    }
    double pct_core = w.t1 > w.t0 && w.cpu0 >= 0 ? (w.cpu1 - w.cpu0) / (w.t1 - w.t0) / 1e4 : -1;
    if (pace > 0 || hold)
        report(&w, "round_trips/s", pct_core, "server_cpu_pct", -1);
    else
        report(&w, "round_trips/s", 0, NULL, -1);
    free(due);
    free(turn);
    for (long i = 0; i < nc; i++)
        close(cs[i].fd);
    return 0;
}

/* ---------------------------------------------------------------- accept */

enum { CONNECTING, ECHOING };

static void slot_start(int ep, struct conn *c, int *state, double t)
{
    c->fd = new_socket(1);
    set_nodelay(c->fd);
    c->got = 0;
    c->sent = t;
    *state = CONNECTING;
    if (connect(c->fd, (struct sockaddr *)&g_addr, sizeof g_addr) < 0 && errno != EINPROGRESS)
        die("accept: connect: %s", strerror(errno));
    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
}

/* One readiness event of a connecting or echoing slot: a finished connect
 * sends the request, a read collects the echo.  True once the whole echo
 * (fl bytes) is in. */
static bool slot_event(const char *who, int ep, struct conn *c, int *state, const void *req,
                       uint8_t *buf, size_t fl)
{
    if (*state == CONNECTING) {
        int err = 0;
        socklen_t el = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
        if (err)
            die("%s: connect: %s", who, strerror(err));
        write_all(c->fd, req, fl);
        *state = ECHOING;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
        return false;
    }
    return echo_read(who, c, buf, fl);
}

static int accept_wl(void)
{
    long nc = arg("conc", 50);
    uint32_t size = (uint32_t)arg("size", 64);
    size_t fl = 4 + size;
    uint8_t *req = frames_new(size, 1, 'a'), *buf = malloc(fl);
    struct conn *cs = calloc((size_t)nc, sizeof *cs);
    int *st = calloc((size_t)nc, sizeof *st);
    int ep = epoll_create1(0);
    double start = now_s(), last = start;
    for (long i = 0; i < nc; i++)
        slot_start(ep, &cs[i], &st[i], start);
    long done = 0;
    struct window w = win_timed(start);
    struct epoll_event evs[256];
    while (w.phase < 2) {
        int k = epoll_wait(ep, evs, 256, 100);
        double t = now_s();
        win_step(&w, t, done);
        if (t - last > STALL_S)
            die("accept: no cycle completed for %.0f s (%ld done)", STALL_S, done);
        for (int i = 0; i < k; i++) {
            struct conn *c = evs[i].data.ptr;
            long idx = c - cs;
            if (!slot_event("accept", ep, c, &st[idx], req, buf, fl))
                continue;
            done++;
            last = t;
            if (w.phase == 1)
                sample((t - c->sent) * 1e6);
            close(c->fd); /* the client closes first: TIME_WAIT stays here */
            slot_start(ep, c, &st[idx], now_s());
        }
    }
    report(&w, "conns/s", 0, NULL, -1);
    for (long i = 0; i < nc; i++)
        close(cs[i].fd);
    return 0;
}

/* ---------------------------------------------------------------- pipe */

struct sender {
    int fd;
    long batch;
    uint32_t size;
    atomic_int stop;
    long sent;
};

static void *sender_main(void *p)
{
    struct sender *s = p;
    size_t fl = 4 + s->size;
    uint8_t *buf = frames_new(s->size, s->batch, 'e');
    while (!atomic_load(&s->stop)) {
        write_all(s->fd, buf, fl * (size_t)s->batch);
        s->sent += s->batch;
    }
    shutdown(s->fd, SHUT_WR); /* the server echoes the rest, then closes */
    free(buf);
    return NULL;
}

static int pipe_wl(void)
{
    struct sender s = {.batch = arg("batch", 1), .size = (uint32_t)arg("size", 100)};
    if (s.batch < 1)
        s.batch = 1;
    s.fd = connect_blocking();
    struct timeval tv = {1, 0}; /* reads wake up to check the clock */
    setsockopt(s.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    size_t fl = 4 + s.size, off = 0, cap = 1 << 16;
    uint8_t *buf = malloc(cap);
    unsigned long long got = 0; /* bytes echoed */
    pthread_t th;
    if (pthread_create(&th, NULL, sender_main, &s) != 0)
        die("pthread_create");
    double start = now_s(), last = start;
    struct window w = win_timed(start);
    for (;;) {
        ssize_t r = read(s.fd, buf, cap);
        double t = now_s();
        if (r < 0 && errno != EAGAIN && errno != EINTR)
            die("pipe: read: %s", strerror(errno));
        if (r == 0) {
            if (w.phase < 2)
                die("pipe: server closed early");
            break;
        }
        if (r > 0) {
            last = t;
            /* frames are all the same size: check each header as it
             * passes, skip the payloads */
            for (size_t i = 0; i < (size_t)r;) {
                if (off == fl)
                    off = 0;
                if (off < 4) {
                    if (buf[i] != (uint8_t)(s.size >> (8 * (3 - off))))
                        die("pipe: bad frame header at byte %llu", got + i);
                    i++, off++;
                } else {
                    size_t skip = fl - off < (size_t)r - i ? fl - off : (size_t)r - i;
                    i += skip, off += skip;
                }
            }
            got += (unsigned long long)r;
        } else if (t - last > STALL_S) {
            die("pipe: no echo for %.0f s", STALL_S);
        }
        win_step(&w, t, (long)(got / fl));
        if (w.phase == 2)
            atomic_store(&s.stop, 1);
    }
    pthread_join(th, NULL);
    if (got != (unsigned long long)s.sent * fl)
        die("pipe: %llu bytes echoed, %llu sent", got, (unsigned long long)s.sent * fl);
    double mb = (double)(w.ops1 - w.ops0) * (double)fl / (w.t1 - w.t0) / 1e6;
    report(&w, "msgs/s", mb, "MB/s", -1);
    close(s.fd);
    return 0;
}

/* ---------------------------------------------------------------- idle */

static int idle(void)
{
    long n = arg("n", 10000);
    uint32_t size = (uint32_t)arg("size", 16);
    double settle = (double)arg("settle_ms", 500) / 1e3;
    if (n < 2)
        die("idle: n must be >= 2");
    int *fds = malloc(sizeof(int) * (size_t)n);
    uint8_t *req = frames_new(size, 1, 'i'), *buf = malloc(4 + size);
    struct window w = {0};
    long rss0 = 0;
    for (long i = 0; i < n; i++) {
        fds[i] = connect_blocking();
        write_all(fds[i], req, 4 + size);
        read_exact(fds[i], buf, 4 + size);
        if (memcmp(buf, req, 4 + size) != 0)
            die("idle: bad echo on connection %ld", i);
        if (i == 0) { /* baseline after the first: one-time setup excluded */
            sleep_s(settle);
            rss0 = server_rss_kb();
            win_open(&w, 1);
        }
    }
    win_close(&w, n);
    sleep_s(settle);
    long rss1 = server_rss_kb();
    if (rss0 < 0 || rss1 < 0)
        die("idle: cannot read VmRSS of pid %ld", g_pid);
    double per = (double)(rss1 - rss0) * 1024.0 / (double)(n - 1);
    report(&w, "B/conn", (double)(n - 1) / (w.t1 - w.t0), "conns/s", per);
    for (long i = 0; i < n; i++)
        close(fds[i]);
    return 0;
}

/* ---------------------------------------------------------------- burst */

static int burst(void)
{
    long n = arg("n", 10000);
    uint32_t size = (uint32_t)arg("size", 16);
    double timeout = farg("timeout_s", 30);
    size_t fl = 4 + size;
    uint8_t *req = frames_new(size, 1, 'b'), *buf = malloc(fl);
    struct conn *cs = calloc((size_t)n, sizeof *cs);
    int *st = calloc((size_t)n, sizeof *st);
    int ep = epoll_create1(0);
    long ov0 = tcpext("ListenOverflows");
    struct window w;
    win_open(&w, 0);
    for (long i = 0; i < n; i++) {
        cs[i].fd = new_socket(1);
        cs[i].sent = now_s();
        if (connect(cs[i].fd, (struct sockaddr *)&g_addr, sizeof g_addr) < 0 && errno != EINPROGRESS)
            die("burst: connect %ld: %s", i, strerror(errno));
        struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = &cs[i]};
        epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev);
    }
    long done = 0;
    struct epoll_event evs[256];
    while (done < n) {
        int k = epoll_wait(ep, evs, 256, 100);
        double t = now_s();
        if (t - w.t0 > timeout)
            die("burst: %ld of %ld echoed after %.0f s", done, n, timeout);
        for (int i = 0; i < k; i++) {
            struct conn *c = evs[i].data.ptr;
            long idx = c - cs;
            if (!slot_event("burst", ep, c, &st[idx], req, buf, fl))
                continue;
            sample((t - c->sent) * 1e6);
            epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
            done++;
        }
    }
    win_close(&w, n);
    long ov1 = tcpext("ListenOverflows");
    report(&w, "conns/s", ov0 >= 0 && ov1 >= 0 ? (double)(ov1 - ov0) : -1, "overflows", -1);
    for (long i = 0; i < n; i++)
        close(cs[i].fd);
    return 0;
}

int main(int argc, char **argv)
{
    bl_init("load", argc, argv);
    if (argc < 2)
        die("usage: load rr|accept|pipe|idle|burst port=P pid=SERVERPID [key=value...]");
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    g_pid = arg("pid", 0);
    g_addr.sin_family = AF_INET;
    g_addr.sin_port = htons((uint16_t)arg("port", 0));
    if (inet_pton(AF_INET, sarg("host", "127.0.0.1"), &g_addr.sin_addr) != 1)
        die("bad host");
    if (!g_addr.sin_port)
        die("port= is required");
    const char *m = argv[1];
    if (strcmp(m, "rr") == 0)
        return rr();
    if (strcmp(m, "accept") == 0)
        return accept_wl();
    if (strcmp(m, "pipe") == 0)
        return pipe_wl();
    if (strcmp(m, "idle") == 0)
        return idle();
    if (strcmp(m, "burst") == 0)
        return burst();
    die("unknown workload %s", m);
}
