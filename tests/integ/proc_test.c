/*
 * proc_test.c -- the process layer under the sockets: spawn/self/receive/
 * receive_match/post/monitor/hibernate, blocking calls park only the
 * calling process, many processes with sockets, mailbox freed at exit,
 * stack guard page, gt_mailbox_fd readiness.
 */
#include "helpers.h"
#include "h_probe.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

/* Sanitizer builds replace a few checks: ASan's quarantine keeps freed
 * memory resident (its leak check covers the mailbox test), and ASan/TSan
 * catch SIGSEGV themselves (they report the overflow and exit). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define H_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define H_SANITIZED 1
#endif
#endif
#if !defined(H_SANITIZED) && __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define H_SANITIZED RUNNING_ON_VALGRIND /* memcheck keeps freed memory */
#endif
#ifndef H_SANITIZED
#define H_SANITIZED 0
#endif

/* ---------------------------------------------------------------------- */

struct who {
    gt_pid parent, seen;
    bool alive_inside;
};

static void who_fn(void *arg)
{
    struct who *w = arg;
    w->seen = gt_self();
    w->alive_inside = gt_is_alive(gt_self());
    h_post_int(w->parent, H_TAG_DONE, 1);
}

/* gt_spawn/gt_self: a new process has its own live pid; it ends when its
 * function returns. */
GT_TEST(proc_spawn_self_alive)
{
    gt_pid me = gt_self();
    ASSERT(me.id != 0);
    ASSERT(gt_pid_eq(me, gt_self()));
    ASSERT(gt_is_alive(me));
    struct who w = {.parent = me};
    gt_pid pid = h_spawn(who_fn, &w);
    ASSERT(pid.id != 0 && !gt_pid_eq(pid, me));
    ASSERT_EQ(h_wait_int(H_TAG_DONE, H_WAIT), 1);
    ASSERT(gt_pid_eq(w.seen, pid));
    ASSERT(w.alive_inside);
    h_wait_dead(pid);
    ASSERT(!gt_is_alive(pid));
    ASSERT(!gt_is_alive((gt_pid){0}));
}

/* gt_receive: FIFO order, timeouts (0 polls, T waits). */
GT_TEST(proc_receive_fifo_and_timeout)
{
    gt_msg *m = NULL;
    ASSERT_ERR(gt_receive(0, &m), GT_ETIMEOUT);
    ASSERT_ERR(gt_receive(50, &m), GT_ETIMEOUT);
    for (int i = 0; i < 5; i++)
        h_post_int(gt_self(), 100 + i, i);
    for (int i = 0; i < 5; i++) {
        ASSERT_OK(gt_receive(0, &m));
        ASSERT_EQ(m->kind, GT_MSG_USER);
        ASSERT_EQ(m->tag, 100 + i);
        ASSERT(gt_pid_eq(m->from, gt_self()));
        int v;
        ASSERT_EQ(m->len, sizeof v);
        memcpy(&v, m->data, sizeof v);
        ASSERT_EQ(v, i);
        gt_msg_free(m);
    }
    ASSERT_ERR(gt_receive(0, &m), GT_ETIMEOUT);
}

#define POLL_ROUNDS 200
static atomic_int poll_posted, poll_taken;
static gt_pid poll_target;

/* Another OS thread posts, then says so. */
static void *poll_poster(void *arg)
{
    (void)arg;
    for (int i = 0; i < POLL_ROUNDS; i++) {
        int64_t end = h_now_ms() + H_WAIT;
        while (atomic_load(&poll_taken) != i && h_now_ms() < end)
            sched_yield();
        h_post_int(poll_target, 200 + i, i);
        atomic_store(&poll_posted, i + 1);
    }
    return NULL;
}

/* A poll (timeout 0) of a mailbox that looks empty takes no lock (issue
 * 11): what another thread posted before telling us is still found. */
GT_TEST(proc_receive_poll_sees_posts_made_before)
{
    poll_target = gt_self();
    atomic_store(&poll_posted, 0);
    atomic_store(&poll_taken, 0);
    pthread_t t;
    ASSERT(pthread_create(&t, NULL, poll_poster, NULL) == 0);
    gt_msg *m = NULL;
    for (int i = 0; i < POLL_ROUNDS; i++) {
        int64_t end = h_now_ms() + H_WAIT;
        while (atomic_load(&poll_posted) != i + 1 && h_now_ms() < end)
            sched_yield();
        ASSERT_EQ(atomic_load(&poll_posted), i + 1);
        ASSERT_OK(gt_receive(0, &m));
        ASSERT_EQ(m->tag, 200 + i);
        gt_msg_free(m);
        ASSERT_ERR(gt_receive(0, &m), GT_ETIMEOUT);
        atomic_store(&poll_taken, i + 1);
    }
    pthread_join(t, NULL);
}

static atomic_int wait_taken, wait_lost;

/* Posts message i once message i-1 is taken, after 0-1023 spins, so that
 * the post lands before, during or after the receiver's announcement of
 * its wait.  Waits by yielding: valgrind runs one thread at a time, and
 * the first version of this test, whose poster busy-waited here, kept the
 * receiver off the CPU for seconds per round until the runner's 300 s
 * (under valgrind only, with the locked registration as well).  A post
 * not taken within 2 * H_WAIT while the receiver waits up to 4 * H_WAIT
 * is a lost wake: noted, and the posts stop. */
static void post_rounds(gt_pid to, int rounds)
{
    for (int i = 0; i < rounds; i++) {
        for (volatile int spin = 0; spin < (i * 37) % 1024; spin++)
            ;
        h_post_int(to, 300 + i, i);
        int64_t end = h_now_ms() + 2 * H_WAIT;
        while (atomic_load(&wait_taken) != i + 1 && h_now_ms() < end)
            sched_yield();
        if (atomic_load(&wait_taken) != i + 1) {
            atomic_store(&wait_lost, i + 1);
            return;
        }
    }
}

/* Takes the rounds in order.  With short, every 4th round waits 1 ms at a
 * time, so that its deadline (a timer, on a scheduler) races the post. */
static void take_rounds(int rounds, bool short_waits)
{
    for (int i = 0; i < rounds; i++) {
        gt_msg *m = NULL;
        int rc = GT_ETIMEOUT;
        if (short_waits && i % 4 == 0) {
            int64_t end = h_now_ms() + 4 * H_WAIT;
            while (rc == GT_ETIMEOUT && !atomic_load(&wait_lost) && h_now_ms() < end)
                rc = gt_receive(1, &m);
        } else {
            rc = gt_receive(4 * H_WAIT, &m);
        }
        if (atomic_load(&wait_lost))
            gt_test_fail(__FILE__, __LINE__, "round %d: the post was not taken within %d ms (a lost wake)",
                         atomic_load(&wait_lost) - 1, 2 * H_WAIT);
        ASSERT_OK(rc);
        ASSERT_EQ(m->tag, 300 + i);
        gt_msg_free(m);
        atomic_store(&wait_taken, i + 1);
    }
}

static void *wait_poster(void *arg)
{
    post_rounds(poll_target, (int)(intptr_t)arg);
    return NULL;
}

/* Widens the races of the wait announcement (gt__mbox_race_hook): at each
 * step a yield, a 20 us sleep or nothing. */
static atomic_uint race_n;
static void race_widen(int step)
{
    (void)step;
    /* scrambled: the steps of a round are called in a fixed order */
    unsigned n = atomic_fetch_add_explicit(&race_n, 1, memory_order_relaxed) * 2654435761u;
    switch ((n ^ n >> 15) % 3) {
    case 0:
        sched_yield();
        break;
    case 1:
        nanosleep(&(struct timespec){.tv_nsec = 20000}, NULL);
        break;
    default:
        break;
    }
}

static void receive_rounds_on_this_thread(int rounds, bool widen)
{
    poll_target = gt_self();
    atomic_store(&wait_taken, 0);
    atomic_store(&wait_lost, 0);
    if (widen)
        atomic_store(&gt__mbox_race_hook, race_widen);
    pthread_t t;
    ASSERT(pthread_create(&t, NULL, wait_poster, (void *)(intptr_t)rounds) == 0);
    take_rounds(rounds, false);
    pthread_join(t, NULL);
    atomic_store(&gt__mbox_race_hook, NULL);
    gt_msg *m = NULL;
    ASSERT_ERR(gt_receive(0, &m), GT_ETIMEOUT);
}

/* issue 11 (rr1k): a receive that waits on an empty mailbox announces the
 * wait without the lock; a post racing that announcement still wakes it
 * (a lost wake would hold the receive until its timeout). */
GT_TEST(i11_receive_wait_loses_no_wake) { receive_rounds_on_this_thread(2000, false); }

/* The same with each step of the announcement and of the delivery widened
 * (a receiver that stored receiving but did not re-read head, or a sender
 * that read receiving before its push, loses wakes here at once). */
GT_TEST(i11_receive_wait_widened_loses_no_wake) { receive_rounds_on_this_thread(400, true); }

static void wait_receiver_fn(void *arg)
{
    take_rounds((int)(intptr_t)arg, true);
    h_post_int(poll_target, H_TAG_DONE, 0);
}

/* The same for a process on a scheduler, whose timed wait is a timer that
 * fires on the scheduler thread: every 4th receive's 1 ms deadlines race
 * the post; each message is taken once, in order. */
GT_TEST(i11_receive_wait_on_scheduler_loses_no_wake)
{
    enum { ROUNDS = 600 };
    poll_target = gt_self();
    atomic_store(&wait_taken, 0);
    atomic_store(&wait_lost, 0);
    atomic_store(&gt__mbox_race_hook, race_widen);
    gt_pid r;
    ASSERT_OK(gt_spawn(wait_receiver_fn, (void *)(intptr_t)ROUNDS, NULL, &r));
    post_rounds(r, ROUNDS);
    ASSERT_EQ(atomic_load(&wait_lost), 0);
    h_wait_int(H_TAG_DONE, 4 * H_WAIT);
    atomic_store(&gt__mbox_race_hook, NULL);
}

static bool match_tag_ge(const gt_msg *m, void *arg)
{
    return m->kind == GT_MSG_USER && m->tag >= *(int *)arg;
}

/* gt_receive_match: takes the oldest matching message; the others stay, in
 * order. */
GT_TEST(proc_receive_match_selective)
{
    for (int i = 0; i < 6; i++)
        ASSERT_OK(gt_post(gt_self(), i, "x", 1));
    int min = 4;
    gt_msg *m = NULL;
    ASSERT_OK(gt_receive_match(match_tag_ge, &min, 0, &m));
    ASSERT_EQ(m->tag, 4);
    gt_msg_free(m);
    min = 100;
    ASSERT_ERR(gt_receive_match(match_tag_ge, &min, 50, &m), GT_ETIMEOUT);
    int want[] = {0, 1, 2, 3, 5};
    for (int i = 0; i < 5; i++) {
        ASSERT_OK(gt_receive(0, &m));
        ASSERT_EQ(m->tag, want[i]);
        gt_msg_free(m);
    }
}

static bool match_tag_odd(const gt_msg *m, void *arg)
{
    (void)arg;
    return m->kind == GT_MSG_USER && m->tag % 2;
}

/* gt_receive_many: the matches in order, at most max per call, as that
 * many gt_receive_match polls would take them; the others stay, in order
 * (issue 11: an echo server takes a peer's pipelined packets as one run). */
GT_TEST(i11_receive_many_takes_the_matches_in_order)
{
    for (int i = 0; i < 10; i++)
        ASSERT_OK(gt_post(gt_self(), i, &i, sizeof i));
    gt_msg *ms[8] = {0};
    size_t n = 99;
    ASSERT_OK(gt_receive_many(match_tag_odd, NULL, ms, 3, &n));
    ASSERT_EQ(n, 3);
    for (size_t i = 0; i < n; i++) {
        ASSERT_EQ(ms[i]->tag, (int)(2 * i + 1));
        ASSERT_EQ(*(int *)ms[i]->data, ms[i]->tag);
        gt_msg_free(ms[i]);
    }
    ASSERT_OK(gt_receive_many(match_tag_odd, NULL, ms, 8, &n));
    ASSERT_EQ(n, 2);
    ASSERT_EQ(ms[0]->tag, 7);
    ASSERT_EQ(ms[1]->tag, 9);
    gt_msg_free(ms[0]);
    gt_msg_free(ms[1]);
    n = 99;
    ASSERT_ERR(gt_receive_many(match_tag_odd, NULL, ms, 8, &n), GT_ETIMEOUT);
    ASSERT_EQ(n, 0);
    ASSERT_ERR(gt_receive_many(NULL, NULL, NULL, 8, &n), GT_EBADARG);
    ASSERT_ERR(gt_receive_many(NULL, NULL, ms, 8, NULL), GT_EBADARG);
    ASSERT_ERR(gt_receive_many(NULL, NULL, ms, 0, &n), GT_EBADARG);
    ASSERT_OK(gt_post(gt_self(), 10, "x", 1)); /* after the scans: seen */
    ASSERT_OK(gt_receive_many(NULL, NULL, ms, 8, &n)); /* NULL: any */
    ASSERT_EQ(n, 6);
    int want[] = {0, 2, 4, 6, 8, 10};
    for (size_t i = 0; i < n; i++) {
        ASSERT_EQ(ms[i]->tag, want[i]);
        gt_msg_free(ms[i]);
    }
    ASSERT_ERR(gt_receive(0, &ms[0]), GT_ETIMEOUT);
    ASSERT_ERR(gt_receive_many(NULL, NULL, ms, 8, &n), GT_ETIMEOUT);
}

/* gt_receive_many takes a run of matches at the head with one head and
 * length update (mailbox.c cut_head): the mailbox after it must be as if
 * each were unlinked: the rest in order, the length, and a message posted
 * afterwards at the tail. */
static void expect_tags(const int *tags, size_t n)
{
    size_t len = 99;
    ASSERT_OK(gt_mailbox_len(gt_self(), &len));
    ASSERT_EQ(len, n);
    gt_msg *ms[8] = {0};
    size_t got = 0;
    ASSERT_OK(gt_receive_many(NULL, NULL, ms, 8, &got));
    ASSERT_EQ(got, n);
    for (size_t i = 0; i < got; i++) {
        ASSERT_EQ(ms[i]->tag, tags[i]);
        gt_msg_free(ms[i]);
    }
}

GT_TEST(i11_echo4_receive_many_cuts_the_head)
{
    int order[] = {1, 3, 0, 5, 2, 7};
    for (int i = 0; i < 6; i++)
        ASSERT_OK(gt_post(gt_self(), order[i], "x", 1));
    gt_msg *ms[8] = {0};
    size_t n = 0;
    ASSERT_OK(gt_receive_many(match_tag_odd, NULL, ms, 8, &n));
    ASSERT_EQ(n, 4);
    for (size_t i = 0; i < n; i++) {
        ASSERT_EQ(ms[i]->tag, (int)(2 * i + 1));
        gt_msg_free(ms[i]);
    }
    ASSERT_OK(gt_post(gt_self(), 9, "x", 1));
    expect_tags((int[]){0, 2, 9}, 3);
    /* a run stopped by max: the head moves, the tail stays */
    for (int i = 1; i <= 5; i += 2)
        ASSERT_OK(gt_post(gt_self(), i, "x", 1));
    ASSERT_OK(gt_receive_many(match_tag_odd, NULL, ms, 2, &n));
    ASSERT_EQ(n, 2);
    gt_msg_free(ms[0]);
    gt_msg_free(ms[1]);
    ASSERT_OK(gt_post(gt_self(), 11, "x", 1));
    expect_tags((int[]){5, 11}, 2);
    /* the whole mailbox: empty, and a post after it is the only one */
    ASSERT_OK(gt_post(gt_self(), 1, "x", 1));
    ASSERT_OK(gt_receive_many(match_tag_odd, NULL, ms, 8, &n));
    ASSERT_EQ(n, 1);
    gt_msg_free(ms[0]);
    ASSERT_OK(gt_post(gt_self(), 4, "x", 1));
    expect_tags((int[]){4}, 1);
    ASSERT_ERR(gt_receive(0, &ms[0]), GT_ETIMEOUT);
}

/* gt_post copies the payload; posting to a dead process -> noproc. */
GT_TEST(proc_post_copies_and_noproc)
{
    char buf[16] = "payload";
    ASSERT_OK(gt_post(gt_self(), 7, buf, 8));
    memset(buf, 0, sizeof buf);
    gt_msg *m = NULL;
    ASSERT_OK(gt_receive(0, &m));
    ASSERT_MEM(m->data, m->len, "payload", 8);
    gt_msg_free(m);
    struct who w = {.parent = gt_self()};
    gt_pid pid = h_spawn(who_fn, &w);
    h_wait_int(H_TAG_DONE, H_WAIT);
    h_wait_dead(pid);
    ASSERT_ERR(gt_post(pid, 1, "x", 1), GT_ENOPROC);
    ASSERT_OK(gt_post(gt_self(), 1, NULL, 0));
    ASSERT_OK(gt_receive(0, &m));
    ASSERT_EQ(m->len, 0);
    gt_msg_free(m);
}

/* gt_monitor: DOWN when the process ends; at once for a dead one. */
GT_TEST(proc_monitor_down)
{
    gt_pid pid = h_spawn(h_holder_fn, NULL);
    ASSERT_OK(gt_monitor(pid));
    gt_msg *m = NULL;
    ASSERT_ERR(gt_receive(50, &m), GT_ETIMEOUT); /* still alive */
    h_post_int(pid, H_TAG_GO, 0);
    ASSERT_OK(gt_receive(H_WAIT, &m));
    ASSERT_EQ(m->kind, GT_MSG_DOWN);
    ASSERT(gt_pid_eq(m->from, pid));
    gt_msg_free(m);
    ASSERT(!gt_is_alive(pid));
    ASSERT_OK(gt_monitor(pid)); /* already dead: DOWN at once */
    ASSERT_OK(gt_receive(H_WAIT, &m));
    ASSERT_EQ(m->kind, GT_MSG_DOWN);
    ASSERT(gt_pid_eq(m->from, pid));
    gt_msg_free(m);
}

/* gt_exit ends the calling process: nothing after it runs and its sockets
 * are closed. */
struct exiter {
    int after;
};

static void exiter_fn(void *arg)
{
    struct exiter *e = arg;
    int tag = H_TAG_GO;
    gt_msg *m = NULL;
    if (gt_receive_match(h_match_tag, &tag, H_WAIT, &m) == 0)
        gt_msg_free(m);
    gt_exit();
    e->after = 1;
}

GT_TEST(proc_exit_closes_sockets)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    struct exiter e = {0};
    gt_pid pid = h_spawn(exiter_fn, &e);
    ASSERT_OK(gt_controlling_process(s, pid));
    h_post_int(pid, H_TAG_GO, 0);
    h_wait_dead(pid);
    ASSERT_EQ(e.after, 0);
    ASSERT_RECV_ERR(p, 0, H_WAIT, GT_ECLOSED);
    ASSERT_EQ(gt_owner(s).id, 0);
}

/* gt_hibernate: the process gives its stack back and, on a message, runs
 * fn(arg) afresh; the message is still in the mailbox. */
struct hib {
    gt_pid parent;
    int woken;
};

static void hib_wake_fn(void *arg)
{
    struct hib *h = arg;
    h->woken++;
    gt_msg *m = NULL;
    int rc = gt_receive(0, &m);
    h_post_int(h->parent, H_TAG_DONE, rc == 0 ? m->tag : -1);
    if (rc == 0)
        gt_msg_free(m);
}

static void hib_start_fn(void *arg)
{
    struct hib *h = arg;
    h_post_int(h->parent, H_TAG_GO, 0);
    gt_hibernate(hib_wake_fn, h);
}

GT_TEST(proc_hibernate_wakes_on_message)
{
    struct hib h = {gt_self(), 0};
    gt_pid pid = h_spawn(hib_start_fn, &h);
    h_wait_int(H_TAG_GO, H_WAIT);
    H_WAIT_UNTIL(h_proc_parked(pid)); /* hibernated */
    ASSERT(gt_is_alive(pid));
    ASSERT_EQ(h.woken, 0);
    ASSERT_OK(gt_post(pid, 4242, "w", 1));
    ASSERT_EQ(h_wait_int(H_TAG_DONE, H_WAIT), 4242);
    ASSERT_EQ(h.woken, 1);
    h_wait_dead(pid);
}

/* A blocking call parks only the process: with ONE scheduler, a process
 * blocked in recv (and one in accept, one in receive) does not stop another
 * process on the same scheduler from running. */
struct blocker {
    gt_pid parent;
    gt_socket sock, lsock;
    int rc;
};

static void block_recv_fn(void *arg)
{
    struct blocker *b = arg;
    h_post_int(b->parent, H_TAG_GO, 1);
    gt_msg *m = NULL;
    b->rc = gt_recv(b->sock, 0, H_WAIT, &m);
    if (b->rc == 0)
        gt_msg_free(m);
    h_post_int(b->parent, H_TAG_DONE, 1);
}

static void block_accept_fn(void *arg)
{
    struct blocker *b = arg;
    h_post_int(b->parent, H_TAG_GO, 2);
    gt_socket a;
    b->rc = gt_accept(b->lsock, H_WAIT, &a);
    h_post_int(b->parent, H_TAG_DONE, 2);
}

static void block_receive_fn(void *arg)
{
    struct blocker *b = arg;
    h_post_int(b->parent, H_TAG_GO, 3);
    gt_msg *m = NULL;
    b->rc = gt_receive(H_WAIT, &m);
    if (b->rc == 0)
        gt_msg_free(m);
    h_post_int(b->parent, H_TAG_DONE, 3);
}

static void block_sleep_fn(void *arg)
{
    struct blocker *b = arg;
    h_post_int(b->parent, H_TAG_GO, 4);
    gt_sleep(200); /* the behaviour under test: a process that sleeps */
    b->rc = 0;
    h_post_int(b->parent, H_TAG_DONE, 4);
}

static void pinger_fn(void *arg)
{
    struct blocker *b = arg;
    for (int i = 0; i < 10; i++) {
        gt_yield();
        h_post_int(b->parent, 777, i);
    }
}

GT_TEST(proc_blocking_call_parks_only_the_process)
{
    ASSERT_OK(gt_init(&(gt_config){.schedulers = 1}));
    gt_spawn_opts pin = {.scheduler = 1};
    gt_socket p, s;
    h_ppair(&p, &s);
    gt_socket l = h_listen(GT_OPTS(GT_ACTIVE_FALSE));
    struct blocker b[4];
    gt_proc_fn fns[4] = {block_recv_fn, block_accept_fn, block_receive_fn, block_sleep_fn};
    gt_pid pids[4];
    for (int i = 0; i < 4; i++) {
        b[i] = (struct blocker){.parent = gt_self(), .sock = s, .lsock = l, .rc = 99};
        ASSERT_OK(gt_spawn(fns[i], &b[i], &pin, &pids[i]));
        h_wait_int(H_TAG_GO, H_WAIT);
    }
    /* all four are blocked on scheduler 0; a fifth process there runs */
    struct blocker pb = {.parent = gt_self()};
    gt_pid pinger;
    ASSERT_OK(gt_spawn(pinger_fn, &pb, &pin, &pinger));
    for (int i = 0; i < 10; i++)
        ASSERT_EQ(h_wait_int(777, H_WAIT), i);
    /* now release them */
    h_send(p, "wake");
    h_connect(h_port(l), GT_OPTS(GT_ACTIVE_FALSE));
    ASSERT_OK(gt_post(pids[2], 5, "m", 1));
    for (int i = 0; i < 4; i++)
        h_wait_int(H_TAG_DONE, H_WAIT);
    for (int i = 0; i < 4; i++)
        ASSERT_OK(b[i].rc);
}

/* os_thread processes may make long foreign blocking calls without stopping
 * the schedulers. */
struct foreign {
    gt_pid parent;
    int fd;
    char got;
};

static void foreign_read_fn(void *arg)
{
    struct foreign *f = arg;
    h_post_int(f->parent, H_TAG_GO, 0);
    ssize_t r = read(f->fd, &f->got, 1); /* blocks the OS thread */
    h_post_int(f->parent, H_TAG_DONE, (int)r);
}

GT_TEST(proc_os_thread_foreign_blocking)
{
    ASSERT_OK(gt_init(&(gt_config){.schedulers = 1}));
    int pfd[2];
    ASSERT(pipe(pfd) == 0);
    struct foreign f = {gt_self(), pfd[0], 0};
    gt_spawn_opts os = {.os_thread = true};
    gt_pid pid;
    ASSERT_OK(gt_spawn(foreign_read_fn, &f, &os, &pid));
    h_wait_int(H_TAG_GO, H_WAIT);
    struct blocker pb = {.parent = gt_self()};
    h_spawn(pinger_fn, &pb);
    for (int i = 0; i < 10; i++)
        ASSERT_EQ(h_wait_int(777, H_WAIT), i);
    ASSERT(write(pfd[1], "k", 1) == 1);
    ASSERT_EQ(h_wait_int(H_TAG_DONE, H_WAIT), 1);
    ASSERT_EQ(f.got, 'k');
    close(pfd[0]);
    close(pfd[1]);
}

/* 1000 processes, each with its own connected socket, all served. */
#define NPROC 1000

struct worker {
    gt_pid parent;
    int port, index;
};

static void worker_fn(void *arg)
{
    struct worker *w = arg;
    gt_socket c;
    int rc = gt_connect("127.0.0.1", w->port, GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(2)), 10000, &c);
    if (rc != 0) {
        h_post_int(w->parent, H_TAG_DONE, rc);
        return;
    }
    uint32_t v = (uint32_t)w->index;
    rc = gt_send(c, &v, sizeof v);
    gt_msg *m = NULL;
    if (rc == 0)
        rc = gt_recv(c, 0, 10000, &m);
    if (rc == 0) {
        uint32_t back = 0;
        if (m->len == sizeof back)
            memcpy(&back, m->data, sizeof back);
        rc = back == v + 1 ? 0 : -1;
        gt_msg_free(m);
    }
    h_post_int(w->parent, H_TAG_DONE, rc);
    /* returns: the socket is closed with the process */
}

GT_TEST(proc_1000_processes_with_sockets)
{
    h_need_fds(2 * NPROC + 100, "1000 socket pairs");
    gt_socket l = h_listen(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(2), GT_BACKLOG(1024)));
    static struct worker w[NPROC];
    for (int i = 0; i < NPROC; i++) {
        w[i] = (struct worker){gt_self(), h_port(l), i};
        h_spawn(worker_fn, &w[i]);
    }
    static gt_socket acc[NPROC];
    for (int i = 0; i < NPROC; i++) {
        int rc = gt_accept(l, 10000, &acc[i]);
        if (rc != 0)
            gt_test_fail(__FILE__, __LINE__, "accept #%d: %s", i, gt_err_name(rc));
    }
    for (int i = 0; i < NPROC; i++) {
        gt_msg *m = NULL;
        ASSERT_OK(gt_recv(acc[i], 0, 10000, &m));
        uint32_t v;
        ASSERT_EQ(m->len, sizeof v);
        memcpy(&v, m->data, sizeof v);
        gt_msg_free(m);
        v++;
        ASSERT_OK(gt_send(acc[i], &v, sizeof v));
    }
    int ok = 0;
    for (int i = 0; i < NPROC; i++) {
        int rc = h_wait_int(H_TAG_DONE, 10000);
        if (rc != 0)
            gt_test_fail(__FILE__, __LINE__, "worker failed: %s", gt_err_name(rc));
        ok++;
    }
    ASSERT_EQ(ok, NPROC);
    /* every worker returned, so every client socket is closed */
    for (int i = 0; i < NPROC; i++)
        ASSERT_RECV_ERR(acc[i], 0, H_WAIT, GT_ECLOSED);
}

/* Mailbox freed at exit: a process that dies with 1000 unread messages
 * releases them (RSS stays flat over 20 rounds; ASan's leak check covers
 * the rest). */
static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

GT_TEST(proc_mailbox_freed_at_exit)
{
    static char payload[1024];
    memset(payload, 'p', sizeof payload);
    long base = 0;
    for (int round = 0; round < 20; round++) {
        gt_pid pid = h_spawn(h_holder_fn, NULL);
        for (int i = 0; i < 1000; i++)
            ASSERT_OK(gt_post(pid, 1, payload, sizeof payload));
        ASSERT_OK(gt_post(pid, H_TAG_GO, NULL, 0));
        h_wait_dead(pid);
        ASSERT_ERR(gt_post(pid, 1, "x", 1), GT_ENOPROC);
        if (round == 2)
            base = rss_kb();
    }
    long growth = rss_kb() - base;
    /* leaking would be ~17 MiB (17 rounds x 1000 x 1 KiB) */
    if (!H_SANITIZED && growth > 8 * 1024)
        gt_test_fail(__FILE__, __LINE__, "RSS grew by %ld kB over 17 rounds", growth);
}

/* Stack guard page: a process that overflows its stack dies with SIGSEGV.
 * Runs in a forked child before the runtime starts in this test process. */
static volatile int never; /* keeps the compiler from seeing endless recursion */

static int recurse(int n)
{
    if (never)
        return n;
    volatile char pad[512];
    pad[0] = (char)n;
    pad[511] = (char)n;
    return recurse(n + 1) + pad[0] + pad[511];
}

static void overflow_fn(void *arg)
{
    (void)arg;
    recurse(0);
}

GT_TEST(proc_stack_guard_page_segv)
{
    int errp[2];
    ASSERT(pipe(errp) == 0);
    fflush(NULL);
    pid_t child = fork();
    ASSERT(child >= 0);
    if (child == 0) {
        close(errp[0]);
        dup2(errp[1], STDERR_FILENO);
        alarm(10);
        gt_pid pid;
        gt_spawn_opts o = {.stack_size = 64 * 1024};
        if (gt_spawn(overflow_fn, NULL, &o, &pid) != 0)
            _exit(3);
        gt_sleep(5000); /* bounded: the overflow kills us before */
        _exit(4); /* the overflow did not kill us */
    }
    close(errp[1]);
    static char report[65536];
    size_t rn = 0;
    ssize_t r;
    while ((r = read(errp[0], report + rn, sizeof report - 1 - rn)) > 0)
        rn += (size_t)r;
    report[rn] = 0;
    close(errp[0]);
    int st = 0;
    ASSERT(waitpid(child, &st, 0) == child);
    bool sanitizer_report = strstr(report, "stack-overflow") || strstr(report, "SEGV");
    if (H_SANITIZED && sanitizer_report &&
        ((WIFEXITED(st) && WEXITSTATUS(st) != 3 && WEXITSTATUS(st) != 4) ||
         (WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT)))
        return; /* the sanitizer caught the fault on the guard page */
    if (!WIFSIGNALED(st))
        gt_test_fail(__FILE__, __LINE__, "child exited with %d, want SIGSEGV",
                     WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    ASSERT_EQ(WTERMSIG(st), SIGSEGV);
}

/* gt_mailbox_fd: readable while the mailbox is not empty. */
static bool readable(int fd, int t)
{
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    return poll(&pf, 1, t) == 1 && (pf.revents & POLLIN);
}

struct poster {
    gt_pid to;
};

static void poster_fn(void *arg)
{
    struct poster *p = arg;
    gt_sleep(50); /* the behaviour under test: a message that comes late */
    gt_post(p->to, 9, "late", 4);
}

GT_TEST(proc_mailbox_fd_readiness)
{
    int fd = gt_mailbox_fd();
    ASSERT(fd >= 0);
    ASSERT_EQ(gt_mailbox_fd(), fd);
    ASSERT(!readable(fd, 0));
    ASSERT_OK(gt_post(gt_self(), 1, "a", 1));
    ASSERT(readable(fd, 0));
    ASSERT_OK(gt_post(gt_self(), 2, "b", 1));
    gt_msg *m = NULL;
    ASSERT_OK(gt_receive(0, &m));
    gt_msg_free(m);
    ASSERT(readable(fd, 0)); /* one message left */
    ASSERT_OK(gt_receive(0, &m));
    gt_msg_free(m);
    ASSERT(!readable(fd, 0));
    /* a message from another process wakes a poll() on the fd */
    struct poster p = {gt_self()};
    h_spawn(poster_fn, &p);
    ASSERT(readable(fd, H_WAIT));
    ASSERT_OK(gt_receive(0, &m));
    ASSERT_EQ(m->tag, 9);
    gt_msg_free(m);
    ASSERT(!readable(fd, 0));
    /* a socket message makes it readable too */
    gt_socket c, s;
    h_pair(GT_OPTS(GT_ACTIVE_ONCE), GT_OPTS(GT_ACTIVE_FALSE), NULL, &c, &s);
    ASSERT(!readable(fd, 0));
    h_send(c, "sock");
    ASSERT(readable(fd, H_WAIT));
    EXPECT_TCP(s, "sock");
    ASSERT(!readable(fd, 0));
}
