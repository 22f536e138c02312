/*
 * helpers.h -- shared helpers for the loopback behaviour tests in tests/integ.
 *
 * Everything is static: each *_test.c is its own program.  Conventions:
 *  - every listen socket binds 127.0.0.1 (or ::1) port 0 and reads the port
 *    back with gt_port();
 *  - every wait is bounded (H_WAIT ms by default);
 *  - h_raw_* is a plain BSD-socket peer, for when the test needs bytes that
 *    gentcp would not send (a malformed header, an RST, ...).
 */
#ifndef GT_INTEG_HELPERS_H
#define GT_INTEG_HELPERS_H

#include "../test.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* Upper bound for any single wait in these tests (ms). */
#define H_WAIT 3000
/* The short pause the spec's probes use between a peer action and the
 * observation (ms). */
#define H_SETTLE 60

/* ---------------------------------------------------------------------- */
/* Option lists                                                            */
/* ---------------------------------------------------------------------- */

/* Builds `first, rest...` into buf (capacity cap). */
static inline gt_optlist h_prepend(gt_opt *buf, size_t cap, gt_opt first, gt_optlist rest)
{
    if (rest.count + 1 > cap)
        gt_test_fail(__FILE__, __LINE__, "option list too long");
    buf[0] = first;
    for (size_t i = 0; i < rest.count; i++)
        buf[i + 1] = rest.opts[i];
    return (gt_optlist){buf, rest.count + 1};
}

/* ---------------------------------------------------------------------- */
/* gentcp sockets                                                          */
/* ---------------------------------------------------------------------- */

static inline int h_port(gt_socket s)
{
    int port = -1;
    int rc = gt_port(s, &port);
    if (rc != 0)
        gt_test_fail(__FILE__, __LINE__, "gt_port: %s", gt_err_name(rc));
    return port;
}

/* gt_listen on 127.0.0.1, port 0, with opts after the ip option. */
static inline gt_socket h_listen(gt_optlist opts)
{
    gt_opt buf[64];
    gt_socket l = {0};
    int rc = gt_listen(0, h_prepend(buf, 64, GT_IP("127.0.0.1"), opts), &l);
    if (rc != 0)
        gt_test_fail(__FILE__, __LINE__, "gt_listen: %s", gt_err_name(rc));
    return l;
}

/* gt_connect to 127.0.0.1:port. */
static inline gt_socket h_connect(int port, gt_optlist opts)
{
    gt_socket c = {0};
    int rc = gt_connect("127.0.0.1", port, opts, H_WAIT, &c);
    if (rc != 0)
        gt_test_fail(__FILE__, __LINE__, "gt_connect: %s", gt_err_name(rc));
    return c;
}

static inline gt_socket h_accept(gt_socket l)
{
    gt_socket a = {0};
    int rc = gt_accept(l, H_WAIT, &a);
    if (rc != 0)
        gt_test_fail(__FILE__, __LINE__, "gt_accept: %s", gt_err_name(rc));
    return a;
}

/* A connected pair, both owned by the caller: L listens with lopts, C
 * connects with copts, A is accepted.  l_out may be NULL (L is then closed). */
static inline void h_pair(gt_optlist lopts, gt_optlist copts, gt_socket *l_out,
                          gt_socket *c, gt_socket *a)
{
    gt_socket l = h_listen(lopts);
    *c = h_connect(h_port(l), copts);
    *a = h_accept(l);
    if (l_out)
        *l_out = l;
    else
        gt_close(l);
}

/* Passive pair: both ends {active,false}. */
static inline void h_ppair(gt_socket *c, gt_socket *a)
{
    h_pair(GT_OPTS(GT_ACTIVE_FALSE), GT_OPTS(GT_ACTIVE_FALSE), NULL, c, a);
}

static inline void h_send(gt_socket s, const char *str)
{
    int rc = gt_send(s, str, strlen(str));
    if (rc != 0)
        gt_test_fail(__FILE__, __LINE__, "gt_send(\"%s\"): %s", str, gt_err_name(rc));
}

static inline int64_t h_geti(gt_socket s, gt_optname name)
{
    gt_opt o = {.name = name};
    int rc = gt_getopts(s, &o, 1);
    if (rc != 0)
        gt_test_fail(__FILE__, __LINE__, "gt_getopts(%s): %s", gt_opt_name(name),
                     gt_err_name(rc));
    return o.v.i;
}

#define ASSERT_OPT(s, name, want) ASSERT_EQ(h_geti((s), (name)), (want))

/* recv(S, len, T) must return exactly the bytes of want. */
#define ASSERT_RECV(s, len, t, want)                                           \
    do {                                                                       \
        gt_msg *m_ = NULL;                                                     \
        ASSERT_OK(gt_recv((s), (len), (t), &m_));                              \
        ASSERT(m_ != NULL);                                                    \
        ASSERT_EQ(m_->kind, GT_MSG_TCP);                                       \
        ASSERT_STR(m_, want);                                                  \
        gt_msg_free(m_);                                                       \
    } while (0)

/* recv(S, len, T) must fail with err. */
#define ASSERT_RECV_ERR(s, len, t, err)                                        \
    do {                                                                       \
        gt_msg *m_ = NULL;                                                     \
        ASSERT_ERR(gt_recv((s), (len), (t), &m_), (err));                      \
    } while (0)

/* Passive: reads until `want` bytes arrived as messages of `kind` (raw
 * data may be split; GT_MSG_SSL for a TLS socket). */
static inline void h_recv_all_as(gt_socket s, gt_msg_kind kind, const char *want, size_t wn)
{
    size_t got = 0;
    while (got < wn) {
        gt_msg *m = NULL;
        int rc = gt_recv(s, 0, H_WAIT, &m);
        if (rc != 0)
            gt_test_fail(__FILE__, __LINE__, "gt_recv after %zu/%zu bytes: %s", got, wn,
                         gt_err_name(rc));
        if (m->kind != kind || m->len > wn - got || memcmp(m->data, want + got, m->len) != 0)
            gt_test_fail(__FILE__, __LINE__, "unexpected data at offset %zu", got);
        got += m->len;
        gt_msg_free(m);
    }
}

static inline void h_recv_all(gt_socket s, const char *want, size_t wn)
{
    h_recv_all_as(s, GT_MSG_TCP, want, wn);
}

/* ---------------------------------------------------------------------- */
/* Mailbox                                                                 */
/* ---------------------------------------------------------------------- */

static inline const char *h_kind(int k)
{
    switch (k) {
    case GT_MSG_TCP: return "tcp";
    case GT_MSG_TCP_CLOSED: return "tcp_closed";
    case GT_MSG_TCP_ERROR: return "tcp_error";
    case GT_MSG_TCP_PASSIVE: return "tcp_passive";
    case GT_MSG_HTTP: return "http";
    case GT_MSG_USER: return "user";
    case GT_MSG_DOWN: return "DOWN";
    default: return "?";
    }
}

/* The next message about s (others stay in the mailbox); fails the test on
 * timeout.  Caller frees. */
static inline gt_msg *h_next_line(int line, gt_socket s, int64_t t)
{
    gt_msg *m = NULL;
    int rc = gt_receive_match(gt_match_socket, &s, t, &m);
    if (rc != 0)
        gt_test_fail(__FILE__, line, "no message about the socket within %lld ms: %s",
                     (long long)t, gt_err_name(rc));
    return m;
}
#define h_next(s, t) h_next_line(__LINE__, (s), (t))

/* The next message about s must be of kind k. */
static inline gt_msg *h_expect_line(int line, gt_socket s, gt_msg_kind k)
{
    gt_msg *m = h_next_line(line, s, H_WAIT);
    if (m->kind != k)
        gt_test_fail(__FILE__, line, "got a %s message (%zu bytes, reason %s), want %s",
                     h_kind(m->kind), m->len, gt_err_name(m->reason), h_kind(k));
    return m;
}
#define h_expect(s, k) h_expect_line(__LINE__, (s), (k))

/* The next message about s must be kind k; it is freed. */
#define EXPECT_MSG(s, k) gt_msg_free(h_expect((s), (k)))

/* The next message about s must be {tcp, S, want} exactly. */
#define EXPECT_TCP(s, want)                                                    \
    do {                                                                       \
        gt_msg *m2_ = h_expect((s), GT_MSG_TCP);                               \
        ASSERT_STR(m2_, want);                                                 \
        gt_msg_free(m2_);                                                      \
    } while (0)

/* The next message about s must be {tcp_error, S, err}. */
#define EXPECT_TCP_ERROR(s, err)                                               \
    do {                                                                       \
        gt_msg *m2_ = h_expect((s), GT_MSG_TCP_ERROR);                         \
        ASSERT_ERR(m2_->reason, (err));                                        \
        gt_msg_free(m2_);                                                      \
    } while (0)

/* No message about s arrives within t ms. */
static inline void h_no_msg_line(int line, gt_socket s, int64_t t)
{
    gt_msg *m = NULL;
    int rc = gt_receive_match(gt_match_socket, &s, t, &m);
    if (rc == 0)
        gt_test_fail(__FILE__, line, "unexpected %s message (%zu bytes \"%.*s\", reason %s)",
                     h_kind(m->kind), m->len, (int)(m->len > 40 ? 40 : m->len),
                     (const char *)m->data, gt_err_name(m->reason));
    if (rc != GT_ETIMEOUT)
        gt_test_fail(__FILE__, line, "gt_receive_match: %s", gt_err_name(rc));
}
#define EXPECT_NO_MSG(s, t) h_no_msg_line(__LINE__, (s), (t))

/* Active raw: consumes {tcp,S,_} messages until exactly want arrived
 * (raw data may coalesce or split).  Returns how many messages it took. */
static inline int h_active_all_line(int line, gt_socket s, const char *want, size_t wn)
{
    size_t got = 0;
    int n = 0;
    while (got < wn) {
        gt_msg *m = h_expect_line(line, s, GT_MSG_TCP);
        if (m->len > wn - got || memcmp(m->data, want + got, m->len) != 0)
            gt_test_fail(__FILE__, line, "unexpected active data at offset %zu: \"%.*s\"", got,
                         (int)(m->len > 40 ? 40 : m->len), (const char *)m->data);
        got += m->len;
        n++;
        gt_msg_free(m);
    }
    return n;
}
#define h_active_all(s, str) h_active_all_line(__LINE__, (s), (str), strlen(str))

/* Discards every message in the caller's mailbox. */
static inline void h_flush(void)
{
    gt_msg *m;
    while (gt_receive(0, &m) == 0)
        gt_msg_free(m);
}

/* ---------------------------------------------------------------------- */
/* Helper processes                                                        */
/* ---------------------------------------------------------------------- */

/* A tag for "a helper finished": payload is an int result. */
#define H_TAG_DONE 0x6f6b
#define H_TAG_GO 0x676f

static inline bool h_match_tag(const gt_msg *m, void *arg)
{
    return m->kind == GT_MSG_USER && m->tag == *(int *)arg;
}

/* Posts an int result to pid with tag. */
static inline void h_post_int(gt_pid pid, int tag, int v)
{
    int rc = gt_post(pid, tag, &v, sizeof v);
    if (rc != 0)
        gt_test_fail(__FILE__, __LINE__, "gt_post: %s", gt_err_name(rc));
}

/* Waits (bounded) for a user message with tag; returns its int payload. */
static inline int h_wait_int_line(int line, int tag, int64_t t)
{
    gt_msg *m = NULL;
    int rc = gt_receive_match(h_match_tag, &tag, t, &m);
    if (rc != 0)
        gt_test_fail(__FILE__, line, "no user message with tag %d within %lld ms: %s", tag,
                     (long long)t, gt_err_name(rc));
    int v = 0;
    if (m->len >= sizeof v)
        memcpy(&v, m->data, sizeof v);
    gt_msg_free(m);
    return v;
}
#define h_wait_int(tag, t) h_wait_int_line(__LINE__, (tag), (t))

/* True if a user message with tag is already there or arrives within t ms
 * (it is consumed). */
static inline bool h_got_tag(int tag, int64_t t)
{
    gt_msg *m = NULL;
    if (gt_receive_match(h_match_tag, &tag, t, &m) != 0)
        return false;
    gt_msg_free(m);
    return true;
}

static inline gt_pid h_spawn(gt_proc_fn fn, void *arg)
{
    gt_pid pid = {0};
    int rc = gt_spawn(fn, arg, NULL, &pid);
    if (rc != 0)
        gt_test_fail(__FILE__, __LINE__, "gt_spawn: %s", gt_err_name(rc));
    return pid;
}

static inline bool h_match_down(const gt_msg *m, void *arg)
{
    return m->kind == GT_MSG_DOWN && gt_pid_eq(m->from, *(gt_pid *)arg);
}

/* Waits (bounded) until pid is dead, via a monitor.  Other messages stay. */
static inline void h_wait_dead(gt_pid pid)
{
    ASSERT_OK(gt_monitor(pid));
    gt_msg *m = NULL;
    int rc = gt_receive_match(h_match_down, &pid, H_WAIT, &m);
    if (rc != 0)
        gt_test_fail(__FILE__, __LINE__, "process did not end: %s", gt_err_name(rc));
    gt_msg_free(m);
}

/* A process that does nothing until it gets a user message tagged H_TAG_GO
 * (or H_WAIT ms pass), then ends.  Used as a socket owner that can be told
 * to die. */
static inline void h_holder_fn(void *arg)
{
    (void)arg;
    int tag = H_TAG_GO;
    gt_msg *m = NULL;
    if (gt_receive_match(h_match_tag, &tag, H_WAIT, &m) == 0)
        gt_msg_free(m);
}

/* ---------------------------------------------------------------------- */
/* Raw BSD-socket peer                                                     */
/* ---------------------------------------------------------------------- */

static inline int h_raw_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        gt_test_fail(__FILE__, __LINE__, "raw connect: %s", strerror(errno));
    return fd;
}

/* A raw listening socket on 127.0.0.1; *port_out gets its port. */
static inline int h_raw_listen(int *port_out)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT(bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    ASSERT(listen(fd, 16) == 0);
    socklen_t sl = sizeof sa;
    ASSERT(getsockname(fd, (struct sockaddr *)&sa, &sl) == 0);
    *port_out = ntohs(sa.sin_port);
    return fd;
}

static inline int h_raw_accept(int lfd)
{
    struct pollfd p = {.fd = lfd, .events = POLLIN};
    if (poll(&p, 1, H_WAIT) != 1)
        gt_test_fail(__FILE__, __LINE__, "raw accept: nothing within %d ms", H_WAIT);
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    ASSERT(fd >= 0);
    return fd;
}

static inline void h_raw_write(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            gt_test_fail(__FILE__, __LINE__, "raw write: %s", strerror(errno));
        p += w;
        n -= (size_t)w;
    }
}

static inline void h_raw_send(int fd, const char *s) { h_raw_write(fd, s, strlen(s)); }

/* Reads exactly n bytes within H_WAIT ms. */
static inline void h_raw_read_exact(int fd, void *buf, size_t n)
{
    char *p = buf;
    while (n > 0) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        if (poll(&pf, 1, H_WAIT) != 1)
            gt_test_fail(__FILE__, __LINE__, "raw read: %zu bytes missing after %d ms", n,
                         H_WAIT);
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            gt_test_fail(__FILE__, __LINE__, "raw read: %s",
                         r == 0 ? "EOF" : strerror(errno));
        p += r;
        n -= (size_t)r;
    }
}

/* The raw peer must read exactly the bytes of want. */
#define ASSERT_RAW_READ(fd, want, wn)                                          \
    do {                                                                       \
        size_t wn3_ = (wn);                                                    \
        char *b3_ = malloc(wn3_ + 1);                                          \
        h_raw_read_exact((fd), b3_, wn3_);                                     \
        ASSERT_MEM(b3_, wn3_, (want), wn3_);                                   \
        free(b3_);                                                             \
    } while (0)

/* Waits for EOF (or a reset) on fd, discarding data; returns the number of
 * bytes discarded, or -1 when nothing happened within H_WAIT ms. */
static inline long h_raw_wait_eof(int fd)
{
    long total = 0;
    char buf[4096];
    for (;;) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        if (poll(&pf, 1, H_WAIT) != 1)
            return -1;
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return total;
        total += r;
    }
}

/* Nothing readable on fd (no data, no EOF) for t ms. */
static inline bool h_raw_quiet(int fd, int t)
{
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    return poll(&pf, 1, t) == 0;
}

/* Abortive close: SO_LINGER {1,0} then close -> RST. */
static inline void h_raw_rst(int fd)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    ASSERT(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
    close(fd);
}

/* A gentcp socket connected to a raw peer: returns the gentcp side (owned by
 * the caller, connected with copts) and *peer_fd the raw accepted fd. */
static inline gt_socket h_raw_peer_client(gt_optlist copts, int *peer_fd)
{
    int port = 0;
    int lfd = h_raw_listen(&port);
    gt_socket c = h_connect(port, copts);
    *peer_fd = h_raw_accept(lfd);
    close(lfd);
    return c;
}

/* A gentcp accepted socket (L opened with lopts) whose peer is a raw fd. */
static inline gt_socket h_raw_peer_server(gt_optlist lopts, int *peer_fd)
{
    gt_socket l = h_listen(lopts);
    *peer_fd = h_raw_connect(h_port(l));
    gt_socket a = h_accept(l);
    gt_close(l);
    return a;
}

/* Raises the soft RLIMIT_NOFILE to at least need (up to the hard limit);
 * skips the test, saying why, when it cannot. */
static inline void h_need_fds(rlim_t need, const char *what)
{
    struct rlimit rl;
    ASSERT(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    if (rl.rlim_cur >= need)
        return;
    rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < need) {
        char why[160];
        snprintf(why, sizeof why, "RLIMIT_NOFILE is at most %llu, %s need %llu",
                 (unsigned long long)rl.rlim_cur, what, (unsigned long long)need);
        gt_test_skip(why);
    }
}

/* CLOCK_MONOTONIC in ms, for the time bounds of loops. */
static inline int64_t h_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void h_msleep(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Waits for a condition, not for time: polls cond (an expression) every
 * millisecond until it holds; the test fails, naming it, when it still does
 * not after H_WAIT ms.  The box is loaded: a fixed pause can be too short,
 * and is always too long. */
#define H_WAIT_UNTIL(cond)                                                     \
    do {                                                                       \
        int64_t h_end_ = h_now_ms() + H_WAIT;                                  \
        while (!(cond)) {                                                      \
            if (h_now_ms() > h_end_)                                           \
                gt_test_fail(__FILE__, __LINE__, "not within %d ms: %s", H_WAIT, \
                             #cond);                                           \
            h_msleep(1);                                                       \
        }                                                                      \
    } while (0)

/* Messages in the caller's mailbox (none consumed). */
static inline size_t h_mbox_len(void)
{
    size_t n = 0;
    gt_mailbox_len(gt_self(), &n);
    return n;
}

/* Until the caller's mailbox holds at least n messages (none consumed). */
#define h_wait_mbox(n) H_WAIT_UNTIL(h_mbox_len() >= (size_t)(n))

#endif
