/*
 * idle_test.c -- idle means idle (issue 7): a runtime with nothing to do
 * uses almost no CPU, in every state a server spends its time in.
 *
 * What is measured is the CPU time of the whole program (getrusage,
 * RUSAGE_SELF: every thread, schedulers included) against wall time, once
 * the schedulers' spin window (50 us by default) is long past.  The bound,
 * IDLE_PERMILLE of a core plus a few ms for the work itself, is far above
 * what an idle program uses and far below a spinning core, even one that a
 * loaded machine gives only a quarter of its time.  The main thread of the
 * test waits with nanosleep where it must not be part of what is measured.
 */
#include "helpers.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>

#define IDLE_PERMILLE 50 /* 5% of a core */
#define SLACK_US (10000 * slack_factor()) /* the measured calls' own CPU */
#define SETTLE_MS 200    /* far past the spin window */
#define WAIT_MS 400      /* each timed wait */

/* Under valgrind, code runs for the first time at a high price (it is
 * translated): more slack, still far below a spinning core. */
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
static int slack_factor(void) { return RUNNING_ON_VALGRIND ? 6 : 1; }
#else
static int slack_factor(void) { return 1; }
#endif

static int64_t cpu_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec +
           ru.ru_stime.tv_usec;
}

static int64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* CPU used over an interval, and whether it stays in the bound. */
typedef struct span {
    int64_t cpu0, wall0, cpu, wall;
} span;

static void span_start(span *s)
{
    s->cpu0 = cpu_us();
    s->wall0 = wall_us();
}

static void span_end(span *s)
{
    s->cpu = cpu_us() - s->cpu0;
    s->wall = wall_us() - s->wall0;
}

static bool span_idle(const span *s) { return s->cpu * 1000 <= s->wall * IDLE_PERMILLE + (int64_t)SLACK_US * 1000; }

#define ASSERT_IDLE(sp, what)                                                                  \
    do {                                                                                       \
        if (!span_idle(sp))                                                                    \
            gt_test_fail(__FILE__, __LINE__, "%s: %lld ms of CPU in %lld ms (%lld%% of a core)", \
                         (what), (long long)(sp)->cpu / 1000, (long long)(sp)->wall / 1000,      \
                         (long long)((sp)->cpu * 100 / ((sp)->wall ? (sp)->wall : 1)));          \
    } while (0)

/* Measures the whole program over ms of doing nothing.  The sleeps are the
 * behaviour under test: CPU over idle time, once the spin window (a span of
 * time, not a state) is far past. */
static span idle_for(int ms)
{
    span s;
    h_msleep(SETTLE_MS);
    span_start(&s);
    h_msleep(ms);
    span_end(&s);
    return s;
}

/* Polls an atomic flag with nanosleep (not a gentcp wait), bounded. */
static void wait_flag(atomic_int *f, int want, int64_t ms)
{
    int64_t end = h_now_ms() + ms;
    while (atomic_load(f) < want && h_now_ms() < end)
        h_msleep(20);
    if (atomic_load(f) < want)
        gt_test_fail(__FILE__, __LINE__, "flag at %d, want %d after %lld ms", atomic_load(f),
                     want, (long long)ms);
}

/* ---------------------------------------------------------------------- */
/* Schedulers with parked processes, past the spin window                  */
/* ---------------------------------------------------------------------- */

static void receive_forever(void *arg)
{
    gt_msg *m = NULL;
    atomic_fetch_add((atomic_int *)arg, 1);
    if (gt_receive(GT_INFINITY, &m) == 0)
        gt_msg_free(m);
}

GT_TEST(idle_schedulers_after_spin_window)
{
    atomic_int started = 0;
    gt_pid pids[8];
    for (int i = 0; i < 8; i++)
        pids[i] = h_spawn(receive_forever, &started);
    wait_flag(&started, 8, H_WAIT);
    span s = idle_for(1000);
    ASSERT_IDLE(&s, "8 processes waiting for messages");
    for (int i = 0; i < 8; i++)
        ASSERT_OK(gt_post(pids[i], 1, NULL, 0));
}

/* ---------------------------------------------------------------------- */
/* Issue 7 item 11: timed waits on every kind of process                   */
/* ---------------------------------------------------------------------- */

enum { W_SLEEP, W_RECEIVE, W_RECV, W_ACCEPT, W_CLOSE_DRAIN, W_N };
static const char *const wait_names[W_N] = {"gt_sleep", "gt_receive", "gt_recv", "gt_accept",
                                            "gt_close draining"};

typedef struct waits {
    span s[W_N];
    int rc[W_N];
    atomic_int done;
} waits;

/* The raw peer of the draining close, a thread started before anything is
 * measured (starting a thread costs CPU, a lot under TSan): told by a
 * pipe that the close began, it reads nothing for WAIT_MS, ends the
 * measurement (what follows, the drain's copying, is work, not waiting),
 * then reads everything until EOF. */
typedef struct drain {
    int fd, go[2];
    int64_t cpu_end, wall_end; /* read after pthread_join */
} drain;

static void *slow_reader(void *arg)
{
    drain *d = arg;
    struct pollfd go = {.fd = d->go[0], .events = POLLIN};
    if (poll(&go, 1, 30000) != 1)
        return NULL;
    h_msleep(WAIT_MS); /* the behaviour under test: a reader that stalls */
    d->cpu_end = cpu_us();
    d->wall_end = wall_us();
    char buf[65536];
    for (int i = 0; i < 100000; i++) {
        struct pollfd pf = {.fd = d->fd, .events = POLLIN};
        if (poll(&pf, 1, H_WAIT) != 1 || read(d->fd, buf, sizeof buf) <= 0)
            break;
    }
    return NULL;
}

/* A gentcp socket with 128 KiB queued that its raw peer does not read yet:
 * small kernel buffers on both sides (they hold a small part of it), a
 * high watermark above the queue so that the send itself does not wait. */
static gt_socket stalled_socket(int *peer_fd)
{
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT(lfd >= 0);
    int small = 4096;
    ASSERT(setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small) == 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT(bind(lfd, (struct sockaddr *)&sa, sizeof sa) == 0);
    ASSERT(listen(lfd, 4) == 0);
    socklen_t sl = sizeof sa;
    ASSERT(getsockname(lfd, (struct sockaddr *)&sa, &sl) == 0);
    gt_socket c = h_connect(ntohs(sa.sin_port),
                            GT_OPTS(GT_ACTIVE_FALSE, GT_SNDBUF(4096), GT_HIGH_WATERMARK(1 << 20),
                                    GT_LOW_WATERMARK(512 << 10)));
    *peer_fd = h_raw_accept(lfd);
    close(lfd);
    size_t n = 128 << 10;
    char *data = calloc(1, n);
    ASSERT(data);
    ASSERT_OK(gt_send(c, data, n));
    free(data);
    return c;
}

/* Every timed wait of the API, one after the other, each timing out (or,
 * for the close, waiting for its peer) after WAIT_MS. */
static void timed_waits(waits *w)
{
    gt_msg *m = NULL;
    gt_socket l, c, a;
    h_pair(GT_OPTS(GT_ACTIVE_FALSE), GT_OPTS(GT_ACTIVE_FALSE), &l, &c, &a);
    drain d = {.fd = -1};
    gt_socket st = stalled_socket(&d.fd);
    pthread_t t;
    ASSERT(pipe(d.go) == 0);
    ASSERT(pthread_create(&t, NULL, slow_reader, &d) == 0);
    h_msleep(SETTLE_MS); /* past the spin window: a span of time, not a state */

    span_start(&w->s[W_SLEEP]);
    gt_sleep(WAIT_MS);
    span_end(&w->s[W_SLEEP]);

    span_start(&w->s[W_RECEIVE]);
    w->rc[W_RECEIVE] = gt_receive(WAIT_MS, &m);
    span_end(&w->s[W_RECEIVE]);

    span_start(&w->s[W_RECV]);
    w->rc[W_RECV] = gt_recv(a, 0, WAIT_MS, &m);
    span_end(&w->s[W_RECV]);

    gt_socket extra;
    span_start(&w->s[W_ACCEPT]);
    w->rc[W_ACCEPT] = gt_accept(l, WAIT_MS, &extra);
    span_end(&w->s[W_ACCEPT]);

    span *sp = &w->s[W_CLOSE_DRAIN];
    span_start(sp);
    ASSERT(write(d.go[1], "g", 1) == 1);
    w->rc[W_CLOSE_DRAIN] = gt_close(st);
    pthread_join(t, NULL);
    sp->cpu = d.cpu_end - sp->cpu0;
    sp->wall = d.wall_end - sp->wall0;
    close(d.fd);
    close(d.go[0]);
    close(d.go[1]);
    gt_close(a);
    gt_close(c);
    gt_close(l);
    atomic_store(&w->done, 1);
}

static void check_waits(waits *w, const char *kind)
{
    char why[512];
    size_t k = 0;
    ASSERT_ERR(w->rc[W_RECEIVE], GT_ETIMEOUT);
    ASSERT_ERR(w->rc[W_RECV], GT_ETIMEOUT);
    ASSERT_ERR(w->rc[W_ACCEPT], GT_ETIMEOUT);
    ASSERT_OK(w->rc[W_CLOSE_DRAIN]);
    for (int i = 0; i < W_N; i++) {
        /* each waited (a wait that returned at once would hide a spin) */
        if (w->s[i].wall < (WAIT_MS - 20) * 1000)
            gt_test_fail(__FILE__, __LINE__, "%s on %s returned after %lld ms", wait_names[i],
                         kind, (long long)w->s[i].wall / 1000);
        if (!span_idle(&w->s[i]) && k < sizeof why - 100)
            k += (size_t)snprintf(why + k, sizeof why - k, " %s: %lld ms of CPU in %lld ms;",
                                  wait_names[i], (long long)w->s[i].cpu / 1000,
                                  (long long)w->s[i].wall / 1000);
    }
    if (k)
        gt_test_fail(__FILE__, __LINE__, "timed waits on %s burn CPU:%s", kind, why);
}

static void waits_proc(void *arg) { timed_waits(arg); }
static void *waits_thread(void *arg)
{
    timed_waits(arg);
    return NULL;
}

GT_TEST(i7_11_timed_waits_idle_main_thread)
{
    static waits w;
    timed_waits(&w);
    check_waits(&w, "the main thread");
}

GT_TEST(i7_11_timed_waits_idle_os_thread_process)
{
    static waits w;
    gt_spawn_opts o = {.os_thread = true};
    ASSERT_OK(gt_spawn(waits_proc, &w, &o, NULL));
    wait_flag(&w.done, 1, 30000);
    check_waits(&w, "an os_thread process");
}

GT_TEST(i7_11_timed_waits_idle_foreign_thread)
{
    static waits w;
    pthread_t t;
    ASSERT(pthread_create(&t, NULL, waits_thread, &w) == 0);
    wait_flag(&w.done, 1, 30000);
    pthread_join(t, NULL);
    check_waits(&w, "a foreign pthread");
}

GT_TEST(i7_11_timed_waits_idle_coroutine)
{
    static waits w;
    h_spawn(waits_proc, &w);
    wait_flag(&w.done, 1, 30000);
    check_waits(&w, "a coroutine process");
}

/* ---------------------------------------------------------------------- */
/* Issue 7 item 19: hibernated processes after a wake-up                   */
/* ---------------------------------------------------------------------- */

/* Drains its mailbox without waiting, then hibernates: the pattern of a
 * hibernating server (gtcat listen --hibernate). */
typedef struct hib {
    atomic_int starts, handled;
} hib;

static void hib_fn(void *arg)
{
    hib *h = arg;
    atomic_fetch_add(&h->starts, 1);
    gt_msg *m = NULL;
    while (gt_receive(0, &m) == 0) {
        gt_msg_free(m);
        atomic_fetch_add(&h->handled, 1);
    }
    gt_hibernate(hib_fn, h);
}

GT_TEST(i7_19_hibernated_process_idle_after_wake)
{
    hib h = {0};
    gt_pid pid = h_spawn(hib_fn, &h);
    wait_flag(&h.starts, 1, H_WAIT);
    ASSERT_OK(gt_post(pid, 1, "x", 1));
    wait_flag(&h.handled, 1, H_WAIT);
    h_msleep(SETTLE_MS); /* past the spin window: a span of time, not a state */
    int starts = atomic_load(&h.starts);
    span s = idle_for(1000);
    /* Behaviour first: nothing arrived, so nothing restarts it. */
    int again = atomic_load(&h.starts) - starts;
    if (again > 0)
        gt_test_fail(__FILE__, __LINE__, "restarted %d times in 1 s with an empty mailbox", again);
    ASSERT_IDLE(&s, "a hibernated process after one wake-up");
    ASSERT(gt_is_alive(pid));
    ASSERT_OK(gt_post(pid, 2, "y", 1)); /* and it still wakes */
    wait_flag(&h.handled, 2, H_WAIT);
}

/* ---------------------------------------------------------------------- */
/* 10,000 idle connections, each owned by a hibernating echo process that  */
/* has been woken once                                                     */
/* ---------------------------------------------------------------------- */

#define NCONN 10000

typedef struct conn {
    gt_socket sock;
} conn;

static void echo_hibernating(void *arg)
{
    conn *c = arg;
    gt_msg *m = NULL;
    while (gt_receive_match(gt_match_socket, &c->sock, 0, &m) == 0) {
        bool more = m->kind == GT_MSG_TCP && gt_send(c->sock, m->data, m->len) == 0;
        gt_msg_free(m);
        if (!more) {
            gt_close(c->sock);
            return;
        }
    }
    gt_hibernate(echo_hibernating, c);
}

typedef struct acceptor {
    gt_socket l;
    conn *conns;
    atomic_int accepted;
    int err;
} acceptor;

static void acceptor_fn(void *arg)
{
    acceptor *a = arg;
    for (int i = 0; i < NCONN; i++) {
        conn *c = &a->conns[i];
        int rc = gt_accept(a->l, 10000, &c->sock);
        gt_pid pid;
        if (rc == 0)
            rc = gt_spawn(echo_hibernating, c, NULL, &pid);
        if (rc == 0)
            rc = gt_controlling_process(c->sock, pid);
        if (rc == 0)
            rc = gt_setopts(c->sock, GT_OPTS(GT_ACTIVE_TRUE));
        if (rc != 0) {
            a->err = rc;
            atomic_store(&a->accepted, NCONN + 1); /* stop the waiting */
            return;
        }
        atomic_fetch_add(&a->accepted, 1);
    }
}

/* The peer, in a child process (the fd limit is per process): connects
 * NCONN times, one echo on each, tells the parent, then holds the
 * connections until the parent closes the pipe.  Only plain system calls
 * here: the child of a threaded program. */
static void peer_child(int port, int ready_fd, int hold_fd)
{
    static int fds[NCONN];
    char b = 0;
    for (int i = 0; i < NCONN; i += 500) { /* batches within the backlog */
        int n = NCONN - i < 500 ? NCONN - i : 500;
        for (int k = i; k < i + n; k++)
            fds[k] = h_raw_connect(port);
        for (int k = i; k < i + n; k++)
            h_raw_write(fds[k], "z", 1);
        for (int k = i; k < i + n; k++) {
            h_raw_read_exact(fds[k], &b, 1);
            if (b != 'z')
                _exit(3);
        }
    }
    if (write(ready_fd, "r", 1) != 1)
        _exit(4);
    struct pollfd pf = {.fd = hold_fd, .events = POLLIN};
    poll(&pf, 1, 60000);
    _exit(0);
}

GT_TEST(idle_10000_hibernating_connections)
{
    h_need_fds(NCONN + 200, "10,000 connections");
    static acceptor a;
    a.conns = calloc(NCONN, sizeof *a.conns);
    ASSERT(a.conns);
    a.l = h_listen(GT_OPTS(GT_ACTIVE_FALSE, GT_BACKLOG(1024)));
    int port = h_port(a.l);
    h_spawn(acceptor_fn, &a);
    int ready[2], hold[2];
    ASSERT(pipe(ready) == 0 && pipe(hold) == 0);
    pid_t child = fork();
    ASSERT(child >= 0);
    if (child == 0) {
        close(ready[0]);
        close(hold[1]);
        peer_child(port, ready[1], hold[0]);
    }
    close(ready[1]);
    close(hold[0]);
    /* every process is woken from hibernation once (its echo) */
    struct pollfd pf = {.fd = ready[0], .events = POLLIN};
    int got = poll(&pf, 1, 40000);
    ASSERT_OK(a.err);
    if (got != 1)
        gt_test_fail(__FILE__, __LINE__, "the peer did not finish its %d echoes in 40 s (%d accepted)",
                     NCONN, atomic_load(&a.accepted));
    ASSERT_EQ(atomic_load(&a.accepted), NCONN);
    span s = idle_for(1000);
    close(hold[1]); /* the peer exits */
    int status = 0;
    ASSERT(waitpid(child, &status, 0) == child);
    ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ASSERT_IDLE(&s, "10,000 connections, hibernating after one echo");
}
