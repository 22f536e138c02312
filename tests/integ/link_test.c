/*
 * link_test.c -- links and exit signals (issue 10 item 1): gt_link,
 * gt_unlink, spawn-linked, gt_kill, gt_trap_exit, GT_MSG_EXIT, reasons on
 * GT_MSG_DOWN, and what a killed process releases: a blocked call returns
 * GT_EEXITING, its sockets are closed, its exit hooks run.
 *
 * Erlang's behaviour, checked on OTP 25 (erl): link/1 to a dead process
 * raises noproc, or, trapping, returns true and queues {'EXIT', P, noproc};
 * exit(self(), normal) ends the caller; exit(P, kill) ends P with killed
 * even if it traps; a process exiting with reason kill by itself takes its
 * links down with kill (trappable); unlink/1 leaves a queued 'EXIT'.
 */
#include "helpers.h"
#include "h_probe.h"

#include <stdatomic.h>

#define TAG_PID 7101   /* payload: a gt_pid */
#define TAG_EXIT 7102  /* payload: {from id, reason} of a GT_MSG_EXIT */
#define TAG_RC 7103    /* payload: an int result */
#define TAG_READY 7104

/* ---- helpers ---- */

static void post_pid(gt_pid to, gt_pid pid) { ASSERT_OK(gt_post(to, TAG_PID, &pid, sizeof pid)); }

static gt_pid wait_pid(void)
{
    int tag = TAG_PID;
    gt_msg *m = NULL;
    ASSERT_OK(gt_receive_match(h_match_tag, &tag, H_WAIT, &m));
    gt_pid pid;
    ASSERT_EQ(m->len, sizeof pid);
    memcpy(&pid, m->data, sizeof pid);
    gt_msg_free(m);
    return pid;
}

static gt_pid spawn_opts(gt_proc_fn fn, void *arg, bool link, bool os_thread)
{
    gt_spawn_opts o = {.link = link, .os_thread = os_thread};
    gt_pid pid = {0};
    ASSERT_OK(gt_spawn(fn, arg, &o, &pid));
    return pid;
}

/* The reason pid ended with, from a monitor set up before (bounded). */
static int down_reason(gt_pid pid)
{
    gt_msg *m = NULL;
    int rc = gt_receive_match(h_match_down, &pid, 2 * H_WAIT, &m);
    if (rc != 0)
        gt_test_fail(__FILE__, __LINE__, "no DOWN: %s", gt_err_name(rc));
    int reason = m->reason;
    gt_msg_free(m);
    return reason;
}

static bool match_exit(const gt_msg *m, void *arg)
{
    return m->kind == GT_MSG_EXIT && (!arg || gt_pid_eq(m->from, *(gt_pid *)arg));
}

/* The reason of the EXIT from `from` in the caller's mailbox (bounded). */
static int exit_reason(gt_pid from)
{
    gt_msg *m = NULL;
    int rc = gt_receive_match(match_exit, &from, 2 * H_WAIT, &m);
    if (rc != 0)
        gt_test_fail(__FILE__, __LINE__, "no EXIT: %s", gt_err_name(rc));
    int reason = m->reason;
    gt_msg_free(m);
    return reason;
}

/* Waits for messages until killed; returns what the wait returned. */
static void idle_fn(void *arg)
{
    (void)arg;
    gt_msg *m = NULL;
    while (gt_receive(GT_INFINITY, &m) == 0)
        gt_msg_free(m);
}

/* A process that ends with the reason it is told (a TAG_RC message), or
 * blocks until killed. */
static void crash_on_cue_fn(void *arg)
{
    (void)arg;
    int tag = TAG_RC, rc = 0;
    gt_msg *m = NULL;
    /* A kill makes the wait fail (exiting): then the kill's reason is the
     * exit reason, whatever gt_exit_with says.  (h_wait_int would fail the
     * whole test program there: a kill that lands after the worker started
     * waiting is part of the test, not an error.) */
    if (gt_receive_match(h_match_tag, &tag, 10 * H_WAIT, &m) == 0) {
        if (m->len >= sizeof rc)
            memcpy(&rc, m->data, sizeof rc);
        gt_msg_free(m);
    }
    gt_exit_with(rc);
}

/* ---- the calls' errors and plain cases ---- */

static void nothing_fn(void *arg) { (void)arg; }

static void hook_noop(void *arg) { (void)arg; }

GT_TEST(i10_1_errors_and_names)
{
    gt_pid dead = h_spawn(nothing_fn, NULL);
    h_wait_dead(dead);
    ASSERT_ERR(gt_link(dead), GT_ENOPROC);
    ASSERT_ERR(gt_link((gt_pid){0}), GT_ENOPROC);
    ASSERT_OK(gt_link(gt_self()));   /* no effect, as link(self()) */
    ASSERT_OK(gt_unlink(dead));      /* unlink/1 is always true */
    ASSERT_OK(gt_unlink(gt_self()));
    ASSERT_ERR(gt_kill(dead, GT_EKILL), GT_ENOPROC);
    ASSERT_ERR(gt_kill((gt_pid){0}, 0), GT_ENOPROC);
    ASSERT_ERR(gt_at_exit(NULL, NULL), GT_EBADARG);
    ASSERT_OK(gt_at_exit(hook_noop, NULL)); /* freed with this thread's process */
    ASSERT(!gt_trap_exit(true));
    ASSERT(gt_trap_exit(true));
    ASSERT(gt_trap_exit(false));
    ASSERT(strcmp(gt_reason_name(0), "normal") == 0);
    ASSERT(strcmp(gt_reason_name(GT_EKILL), "kill") == 0);
    ASSERT(strcmp(gt_reason_name(GT_EKILLED), "killed") == 0);
    ASSERT(strcmp(gt_reason_name(GT_EEXITING), "exiting") == 0);
    ASSERT(strcmp(gt_reason_name(GT_ENOPROC), "noproc") == 0);
    /* monitoring a dead process: DOWN with noproc */
    ASSERT_OK(gt_monitor(dead));
    ASSERT_ERR(down_reason(dead), GT_ENOPROC);
}

/* link/1 to a dead process while trapping: ok and {'EXIT', P, noproc}. */
GT_TEST(i10_1_link_dead_while_trapping)
{
    gt_pid dead = h_spawn(nothing_fn, NULL);
    h_wait_dead(dead);
    gt_trap_exit(true);
    ASSERT_OK(gt_link(dead));
    ASSERT_ERR(exit_reason(dead), GT_ENOPROC);
}

/* A linked process's reason reaches a trapping process as an EXIT and a
 * monitor as the DOWN's reason; a normal exit too, when trapping. */
GT_TEST(i10_1_exit_reason_propagates)
{
    gt_trap_exit(true);
    gt_pid w = spawn_opts(crash_on_cue_fn, NULL, true, false);
    ASSERT_OK(gt_monitor(w));
    h_post_int(w, TAG_RC, -ECONNRESET);
    ASSERT_ERR(exit_reason(w), -ECONNRESET);
    ASSERT_ERR(down_reason(w), -ECONNRESET);

    gt_pid n = spawn_opts(crash_on_cue_fn, NULL, false, false);
    ASSERT_OK(gt_link(n));
    ASSERT_OK(gt_link(n)); /* twice is once */
    h_post_int(n, TAG_RC, 0);
    ASSERT_EQ(exit_reason(n), 0);
    gt_msg *m = NULL;
    ASSERT_ERR(gt_receive_match(match_exit, NULL, 100, &m), GT_ETIMEOUT); /* one, not two */
}

/* A non-trapping process linked to one that ends normally lives on; linked
 * to one that ends with another reason, it ends with that reason. */
struct pair { gt_pid parent; int reason; };

/* Links a worker, has it end with pr->reason and waits for its DOWN: an
 * exit signal comes before it (links are told before monitors). */
static void linker_fn(void *arg)
{
    struct pair *pr = arg;
    h_wait_int(H_TAG_GO, H_WAIT); /* the parent monitors us first */
    gt_pid w = spawn_opts(crash_on_cue_fn, NULL, true, false);
    ASSERT_OK(gt_monitor(w));
    h_post_int(w, TAG_RC, pr->reason);
    gt_msg *m = NULL;
    int rc = gt_receive_match(h_match_down, &w, H_WAIT, &m);
    gt_msg_free(m);
    h_post_int(pr->parent, TAG_RC, rc);
}

GT_TEST(i10_1_normal_ignored_other_reasons_kill)
{
    struct pair normal = {gt_self(), 0}, crash = {gt_self(), 42};
    gt_pid a = h_spawn(linker_fn, &normal);
    ASSERT_OK(gt_monitor(a));
    h_post_int(a, H_TAG_GO, 0);
    ASSERT_OK(h_wait_int(TAG_RC, H_WAIT)); /* a lived on and got the DOWN */
    ASSERT_EQ(down_reason(a), 0);

    gt_pid b = h_spawn(linker_fn, &crash);
    ASSERT_OK(gt_monitor(b));
    h_post_int(b, H_TAG_GO, 0);
    ASSERT_ERR(h_wait_int(TAG_RC, H_WAIT), GT_EEXITING); /* its wait failed */
    ASSERT_EQ(down_reason(b), 42);                      /* and it ended with 42 */
}

/* exit(P, kill) is untrappable; P ends with killed and its links get
 * killed (trappable); a process ending with kill by itself passes kill. */
static void trapper_fn(void *arg)
{
    gt_pid parent = *(gt_pid *)arg;
    gt_trap_exit(true);
    gt_pid w = spawn_opts(idle_fn, NULL, true, false);
    post_pid(parent, w);
    gt_msg *m = NULL;
    int rc;
    while ((rc = gt_receive(GT_INFINITY, &m)) == 0) { /* forwards EXITs */
        if (m->kind == GT_MSG_EXIT) {
            int v[2] = {(int)(m->from.id == parent.id), m->reason};
            gt_post(parent, TAG_EXIT, v, sizeof v);
        }
        gt_msg_free(m);
    }
    h_post_int(parent, TAG_RC, rc);
}

static void wait_exit_fwd(int *from_parent, int *reason)
{
    int tag = TAG_EXIT;
    gt_msg *m = NULL;
    ASSERT_OK(gt_receive_match(h_match_tag, &tag, H_WAIT, &m));
    int v[2];
    ASSERT_EQ(m->len, sizeof v);
    memcpy(v, m->data, sizeof v);
    gt_msg_free(m);
    *from_parent = v[0];
    *reason = v[1];
}

GT_TEST(i10_1_kill_untrappable_links_get_killed)
{
    gt_pid self = gt_self();
    gt_pid t = h_spawn(trapper_fn, &self);
    gt_pid w = wait_pid();
    ASSERT_OK(gt_monitor(t));
    ASSERT_OK(gt_monitor(w));
    /* trappable reasons become messages, normal too */
    int fp, r;
    ASSERT_OK(gt_kill(t, 42));
    wait_exit_fwd(&fp, &r);
    ASSERT(fp);
    ASSERT_EQ(r, 42);
    ASSERT_OK(gt_kill(t, 0));
    wait_exit_fwd(&fp, &r);
    ASSERT_EQ(r, 0);
    ASSERT_OK(gt_kill(t, GT_EKILLED)); /* only GT_EKILL is untrappable */
    wait_exit_fwd(&fp, &r);
    ASSERT_ERR(r, GT_EKILLED);
    /* kill: untrappable */
    ASSERT_OK(gt_kill(t, GT_EKILL));
    ASSERT_ERR(h_wait_int(TAG_RC, H_WAIT), GT_EEXITING);
    ASSERT_ERR(down_reason(t), GT_EKILLED);
    ASSERT_ERR(down_reason(w), GT_EKILLED); /* the link passed killed on */
    ASSERT(!gt_is_alive(t) && !gt_is_alive(w));

    /* exiting with kill by itself: links get kill, as a plain reason */
    gt_trap_exit(true);
    gt_pid k = spawn_opts(crash_on_cue_fn, NULL, true, false);
    h_post_int(k, TAG_RC, GT_EKILL);
    ASSERT_ERR(exit_reason(k), GT_EKILL);
}

/* exit(self(), normal) ends the caller (not trapping); trapping, it is an
 * EXIT from itself. */
static void self_normal_fn(void *arg)
{
    gt_pid parent = *(gt_pid *)arg;
    h_wait_int(H_TAG_GO, H_WAIT); /* the parent monitors us first */
    ASSERT_OK(gt_kill(gt_self(), 0));
    gt_msg *m = NULL;
    h_post_int(parent, TAG_RC, gt_receive(GT_INFINITY, &m));
    h_post_int(parent, TAG_RC, gt_sleep(GT_INFINITY));
    h_post_int(parent, TAG_RC, gt_receive(0, &m)); /* a poll still works */
}

static void self_normal_trapping_fn(void *arg)
{
    gt_pid parent = *(gt_pid *)arg;
    gt_trap_exit(true);
    ASSERT_OK(gt_kill(gt_self(), 0));
    gt_msg *m = NULL;
    int rc = gt_receive(H_WAIT, &m);
    bool ok = rc == 0 && m->kind == GT_MSG_EXIT && gt_pid_eq(m->from, gt_self()) && m->reason == 0;
    gt_msg_free(m);
    h_post_int(parent, TAG_RC, ok);
}

GT_TEST(i10_1_kill_self_normal)
{
    gt_pid self = gt_self();
    gt_pid p = h_spawn(self_normal_fn, &self);
    ASSERT_OK(gt_monitor(p));
    h_post_int(p, H_TAG_GO, 0);
    ASSERT_ERR(h_wait_int(TAG_RC, H_WAIT), GT_EEXITING);
    ASSERT_ERR(h_wait_int(TAG_RC, H_WAIT), GT_EEXITING);
    ASSERT_ERR(h_wait_int(TAG_RC, H_WAIT), GT_ETIMEOUT);
    ASSERT_EQ(down_reason(p), 0);
    h_spawn(self_normal_trapping_fn, &self);
    ASSERT_EQ(h_wait_int(TAG_RC, H_WAIT), 1);
}

/* gt_unlink: no signal afterwards; an EXIT already queued stays. */
GT_TEST(i10_1_unlink)
{
    gt_pid w = spawn_opts(crash_on_cue_fn, NULL, true, false);
    ASSERT_OK(gt_unlink(w));
    ASSERT_OK(gt_monitor(w));
    h_post_int(w, TAG_RC, 42);
    ASSERT_EQ(down_reason(w), 42);
    /* the behaviour under test: no exit signal comes within 50 ms (this
     * thread would have been killed by now) */
    ASSERT_OK(gt_sleep(50));

    /* a second link is no link: one unlink undoes both (the caller has more
     * links than the other side, whose array is the one searched) */
    gt_pid x[3];
    for (int i = 0; i < 3; i++) {
        x[i] = h_spawn(crash_on_cue_fn, NULL);
        ASSERT_OK(gt_link(x[i]));
    }
    ASSERT_OK(gt_link(x[0]));
    ASSERT_OK(gt_unlink(x[0]));
    ASSERT_OK(gt_monitor(x[0]));
    h_post_int(x[0], TAG_RC, 44);
    ASSERT_EQ(down_reason(x[0]), 44);
    ASSERT_OK(gt_sleep(50)); /* the behaviour under test: no exit signal comes */
    for (int i = 1; i < 3; i++)
        ASSERT_OK(gt_unlink(x[i]));

    gt_trap_exit(true);
    gt_pid v = spawn_opts(crash_on_cue_fn, NULL, true, false);
    ASSERT_OK(gt_monitor(v));
    h_post_int(v, TAG_RC, 43);
    ASSERT_EQ(down_reason(v), 43); /* the EXIT is queued before the DOWN */
    ASSERT_OK(gt_unlink(v));
    ASSERT_EQ(exit_reason(v), 43);
}

/* A crash takes down a chain of linked processes; a trapping supervisor
 * survives it and restarts its worker. */
#define CHAIN 50

static void chain_fn(void *arg)
{
    intptr_t left = (intptr_t)arg;
    gt_pid self = gt_self();
    gt_pid parent = gt_whereis("link_test.main");
    post_pid(parent, self);
    if (left > 1)
        spawn_opts(chain_fn, (void *)(left - 1), true, false);
    else
        gt_exit_with(h_wait_int(TAG_RC, 10 * H_WAIT)); /* the last one crashes */
    idle_fn(NULL);
}

GT_TEST(i10_1_chain_crash_and_supervisor_restart)
{
    ASSERT_OK(gt_register("link_test.main", gt_self()));
    h_spawn(chain_fn, (void *)(intptr_t)CHAIN);
    gt_pid chain[CHAIN];
    for (int i = 0; i < CHAIN; i++) {
        chain[i] = wait_pid();
        ASSERT_OK(gt_monitor(chain[i]));
    }
    h_post_int(chain[CHAIN - 1], TAG_RC, 7);
    for (int i = 0; i < CHAIN; i++)
        ASSERT_EQ(down_reason(chain[i]), 7);

    /* the supervisor: this thread, trapping */
    gt_trap_exit(true);
    gt_pid w = spawn_opts(crash_on_cue_fn, NULL, true, false);
    for (int round = 0; round < 3; round++) {
        h_post_int(w, TAG_RC, 99);
        ASSERT_EQ(exit_reason(w), 99);
        w = spawn_opts(crash_on_cue_fn, NULL, true, false); /* restart */
    }
    ASSERT(gt_is_alive(w));
    ASSERT_OK(gt_kill(w, GT_EKILL));
    ASSERT_ERR(exit_reason(w), GT_EKILLED);
}

/* ---- a killed process releases what it holds ---- */

enum { B_RECV, B_RECEIVE, B_ACCEPT, B_SLEEP, B_SEND, B_RECEIVE_THREAD, B_N };
static const char *const b_names[B_N] = {"gt_recv", "gt_receive", "gt_accept", "gt_sleep",
                                         "busy gt_send", "gt_receive (os_thread)"};

struct blocked {
    int kind;
    gt_pid parent;
    int port;            /* to connect to (B_RECV, B_SEND) */
    atomic_int hook_ran;
};

static void count_hook(void *arg) { atomic_fetch_add(&((struct blocked *)arg)->hook_ran, 1); }

static void blocked_fn(void *arg)
{
    struct blocked *b = arg;
    void *mem = malloc(1 << 20); /* released by its hook (ASan checks) */
    ASSERT(mem && gt_at_exit(free, mem) == 0);
    ASSERT_OK(gt_at_exit(count_hook, b));
    gt_socket s = {0}, got = {0};
    gt_msg *m = NULL;
    int rc = 0;
    switch (b->kind) {
    case B_RECV:
    case B_SEND:
        s = h_connect(b->port, GT_OPTS(GT_ACTIVE_FALSE, GT_HIGH_WATERMARK(4096),
                                       GT_SNDBUF(4096)));
        break;
    case B_ACCEPT:
        s = h_listen(GT_OPTS(GT_ACTIVE_FALSE));
        h_post_int(b->parent, TAG_RC, h_port(s));
        break;
    }
    h_post_int(b->parent, TAG_READY, 0);
    switch (b->kind) {
    case B_RECV: rc = gt_recv(s, 0, GT_INFINITY, &m); break;
    case B_RECEIVE:
    case B_RECEIVE_THREAD: rc = gt_receive(GT_INFINITY, &m); break;
    case B_ACCEPT: rc = gt_accept(s, GT_INFINITY, &got); break;
    case B_SLEEP: rc = gt_sleep(GT_INFINITY); break;
    case B_SEND: {
        static char chunk[65536];
        for (int i = 0; i < 1000 && rc == 0; i++) /* until it blocks */
            rc = gt_send(s, chunk, sizeof chunk);
        break;
    }
    }
    h_post_int(b->parent, TAG_RC, rc);
    /* returns without closing s: the exit does */
}

GT_TEST(i10_1_killed_while_blocked_releases_everything)
{
    for (int k = 0; k < B_N; k++) {
        gt_socket l = h_listen(GT_OPTS(GT_ACTIVE_FALSE, GT_RECBUF(4096)));
        struct blocked b = {.kind = k, .parent = gt_self(), .port = h_port(l)};
        gt_pid p = spawn_opts(blocked_fn, &b, false, k == B_RECEIVE_THREAD);
        ASSERT_OK(gt_monitor(p));
        gt_socket peer = {0};
        int lport = 0;
        if (k == B_RECV || k == B_SEND)
            ASSERT_OK(gt_accept(l, H_WAIT, &peer));
        if (k == B_ACCEPT)
            lport = h_wait_int(TAG_RC, H_WAIT);
        h_wait_int(TAG_READY, H_WAIT);
        /* Until it is in its wait.  Not needed for the result: a kill that
         * comes first makes the wait fail the same way, at once. */
        H_WAIT_UNTIL(h_proc_parked(p));
        ASSERT_OK(gt_kill(p, GT_EKILL));
        int rc = h_wait_int(TAG_RC, H_WAIT);
        if (rc != GT_EEXITING)
            gt_test_fail(__FILE__, __LINE__, "%s returned %s", b_names[k], gt_err_name(rc));
        ASSERT_ERR(down_reason(p), GT_EKILLED);
        ASSERT_EQ(atomic_load(&b.hook_ran), 1);
        if (k == B_RECV) /* the peer sees the close */
            ASSERT_ERR(gt_recv(peer, 0, H_WAIT, &(gt_msg *){0}), GT_ECLOSED);
        if (k == B_SEND) { /* the queued output drains, then EOF */
            gt_msg *m = NULL;
            int r;
            size_t got = 0;
            while ((r = gt_recv(peer, 0, H_WAIT, &m)) == 0) {
                got += m->len;
                gt_msg_free(m);
            }
            ASSERT_ERR(r, GT_ECLOSED);
            ASSERT(got > 0);
        }
        if (k == B_ACCEPT) /* the listen socket is gone */
            ASSERT_ERR(gt_connect("127.0.0.1", lport, GT_OPTS(), H_WAIT, &(gt_socket){0}),
                       -ECONNREFUSED);
        gt_close(peer);
        gt_close(l);
    }
}

/* A hibernating process has no stack and no user state: a kill ends it
 * without running its function; its hooks run. */
static void hib_fn(void *arg)
{
    struct blocked *b = arg;
    h_post_int(b->parent, TAG_RC, 1); /* "I ran" */
    gt_hibernate(hib_fn, b);
}

static void hib_start_fn(void *arg)
{
    struct blocked *b = arg;
    ASSERT_OK(gt_at_exit(count_hook, b));
    h_post_int(b->parent, TAG_READY, 0);
    gt_hibernate(hib_fn, b);
}

GT_TEST(i10_1_kill_hibernated)
{
    struct blocked b = {.parent = gt_self()};
    gt_pid p = h_spawn(hib_start_fn, &b);
    ASSERT_OK(gt_monitor(p));
    h_wait_int(TAG_READY, H_WAIT);
    H_WAIT_UNTIL(h_proc_parked(p)); /* hibernated */
    ASSERT_OK(gt_kill(p, 5));
    ASSERT_EQ(down_reason(p), 5);
    ASSERT_EQ(atomic_load(&b.hook_ran), 1);
    ASSERT(!h_got_tag(TAG_RC, 0)); /* its function never ran again */
}

/* Hooks run last registered first, once, on a normal exit too. */
static atomic_int order[3], norder;
static void order_hook(void *arg) { order[atomic_fetch_add(&norder, 1)] = (int)(intptr_t)arg; }

static void hooks_fn(void *arg)
{
    (void)arg;
    for (intptr_t i = 1; i <= 3; i++)
        ASSERT_OK(gt_at_exit(order_hook, (void *)i));
}

GT_TEST(i10_1_at_exit_order)
{
    gt_pid p = h_spawn(hooks_fn, NULL);
    h_wait_dead(p);
    ASSERT_EQ(atomic_load(&norder), 3);
    ASSERT_EQ(order[0], 3);
    ASSERT_EQ(order[1], 2);
    ASSERT_EQ(order[2], 1);
}

/* 10,000 processes linked to one die together when it does. */
#define MANY 10000

static void star_fn(void *arg)
{
    gt_pid parent = *(gt_pid *)arg;
    for (int i = 0; i < MANY; i++) {
        gt_pid w = spawn_opts(idle_fn, NULL, true, false);
        if (gt_post(parent, TAG_PID, &w, sizeof w) != 0)
            return;
    }
    idle_fn(NULL);
}

static int pid_cmp(const void *a, const void *b)
{
    uint64_t x = ((const gt_pid *)a)->id, y = ((const gt_pid *)b)->id;
    return x < y ? -1 : x > y;
}

static bool any_down(const gt_msg *m, void *arg)
{
    (void)arg;
    return m->kind == GT_MSG_DOWN;
}

/* The DOWNs are taken in the order they arrive and each is looked up among
 * the workers (sorted): one receive per DOWN.  A receive that waits for a
 * given worker's DOWN scans every DOWN that came before it, 10,000 times:
 * ~50 million matches, which under TSan on a loaded box outlasted the
 * runner's 60 s (3 failures in 3 runs with two other test loops running). */
GT_TEST(i10_1_many_linked_die_together)
{
    gt_pid self = gt_self();
    gt_pid hub = h_spawn(star_fn, &self);
    static gt_pid w[MANY];
    static bool down[MANY];
    for (int i = 0; i < MANY; i++) {
        int tag = TAG_PID;
        gt_msg *m = NULL;
        ASSERT_OK(gt_receive_match(h_match_tag, &tag, 10 * H_WAIT, &m));
        memcpy(&w[i], m->data, sizeof w[i]);
        gt_msg_free(m);
        ASSERT_OK(gt_monitor(w[i]));
    }
    qsort(w, MANY, sizeof w[0], pid_cmp);
    ASSERT_OK(gt_kill(hub, 77));
    for (int i = 0; i < MANY; i++) {
        gt_msg *m = NULL;
        ASSERT_OK(gt_receive_match(any_down, NULL, 10 * H_WAIT, &m));
        gt_pid *k = bsearch(&m->from, w, MANY, sizeof w[0], pid_cmp);
        ASSERT(k != NULL); /* one of the workers' */
        ASSERT(!down[k - w]); /* once each */
        down[k - w] = true;
        ASSERT_EQ(m->reason, 77);
        gt_msg_free(m);
    }
    ASSERT(!gt_is_alive(hub));
}

/* Timers: a killed process's timers are cancelled with its exit, as
 * Erlang cancels the timers to a dead pid (timer_test.c,
 * i10_timers_to_an_exited_process_are_freed); one it also cancels in an
 * exit hook is cancelled once (valgrind's leak check and ASan). */
struct timers { gt_pid parent; gt_timer shortt, longt; };

static void cancel_hook(void *arg) { gt_cancel_timer(*(gt_timer *)arg); }

static void timers_fn(void *arg)
{
    struct timers *t = arg;
    ASSERT_OK(gt_send_after(100, gt_self(), 1, "x", 1, &t->shortt));
    ASSERT_OK(gt_start_timer(3600 * 1000, gt_self(), 2, "y", 1, &t->longt));
    ASSERT_OK(gt_at_exit(cancel_hook, &t->longt));
    h_post_int(t->parent, TAG_READY, 0);
    idle_fn(NULL);
}

GT_TEST(i10_1_killed_process_timers)
{
    struct timers t = {.parent = gt_self()};
    gt_pid p = h_spawn(timers_fn, &t);
    ASSERT_OK(gt_monitor(p));
    h_wait_int(TAG_READY, H_WAIT);
    ASSERT_OK(gt_kill(p, GT_EKILL));
    ASSERT_ERR(down_reason(p), GT_EKILLED);
    ASSERT_EQ(gt_read_timer(t.longt), -1); /* cancelled by the hook */
    ASSERT_EQ(gt_read_timer(t.shortt), -1); /* cancelled by the exit */
}

/* A process killed before it ever ran exits without running its function.
 * With one scheduler, a process spawned by a coroutine waits in that
 * scheduler's queue until the spawner parks: the kill comes first. */
static void must_not_run_fn(void *arg)
{
    h_post_int(*(gt_pid *)arg, TAG_RC, 1); /* "I ran" */
}

static void spawn_then_kill_fn(void *arg)
{
    gt_pid parent = *(gt_pid *)arg;
    gt_pid child = h_spawn(must_not_run_fn, &parent);
    ASSERT_OK(gt_monitor(child));
    ASSERT_OK(gt_kill(child, GT_EKILL));
    h_post_int(parent, TAG_EXIT, down_reason(child)); /* parks: the child runs */
}

GT_TEST(i10_1_kill_before_first_run)
{
    if (gt_init(&(gt_config){.schedulers = 1}) != 0)
        SKIP("the runtime was already started: one scheduler is needed");
    gt_pid self = gt_self();
    h_spawn(spawn_then_kill_fn, &self);
    ASSERT_ERR(h_wait_int(TAG_EXIT, H_WAIT), GT_EKILLED);
    ASSERT(!h_got_tag(TAG_RC, 100)); /* its function never ran */
}
