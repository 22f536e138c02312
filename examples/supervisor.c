/*
 * supervisor.c -- a one_for_one supervisor, as OTP's supervisor does it:
 * the supervisor traps exits, starts each worker linked to it and under a
 * registered name, and restarts a worker that ends abnormally.  More than
 * MAX_RESTARTS restarts within PERIOD_MS and it gives up: it kills the
 * workers left and exits with reason "shutdown", for its own supervisor
 * (here main, through a monitor) to see.
 *
 * The workers: "counter" keeps a number (lost when it crashes: a restart
 * starts from scratch), "ticker" sends itself a timer message every 100 ms.
 * main talks to them by name, makes the counter crash, and watches.
 *
 * Usage: supervisor
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gentcp.h"

enum { MAX_RESTARTS = 3, PERIOD_MS = 5000 };
enum { SHUTDOWN = 1000 };                  /* our own exit reason */
enum { INCR = 1, GET, CRASH, VALUE, TICK }; /* message tags */

/* ---- the workers ---------------------------------------------------------- */

static void counter(void *arg)
{
    (void)arg;
    int value = 0;
    gt_msg *m;
    while (gt_receive(GT_INFINITY, &m) == 0) {
        int tag = m->kind == GT_MSG_USER ? m->tag : 0;
        gt_pid from = m->from;
        gt_msg_free(m);
        if (tag == INCR)
            value++;
        else if (tag == GET)
            gt_post(from, VALUE, &value, sizeof value);
        else if (tag == CRASH)
            gt_exit_with(42); /* an abnormal reason: the supervisor restarts us */
    }
}

static void ticker(void *arg)
{
    (void)arg;
    gt_timer t;
    gt_send_after(100, gt_self(), TICK, NULL, 0, &t);
    gt_msg *m;
    while (gt_receive(GT_INFINITY, &m) == 0) {
        if (m->kind == GT_MSG_USER && m->tag == TICK)
            gt_send_after(100, gt_self(), TICK, NULL, 0, &t);
        gt_msg_free(m);
    }
}

/* ---- the supervisor ------------------------------------------------------- */

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct child {
    const char *name;
    gt_proc_fn start;
    gt_pid pid;
} child;

static child children[] = {{"counter", counter, {0}}, {"ticker", ticker, {0}}};
enum { NCHILDREN = sizeof children / sizeof children[0] };

static int start_child(child *c)
{
    gt_spawn_opts o = {.link = true}; /* spawn_link: no window unlinked */
    int rc = gt_spawn(c->start, NULL, &o, &c->pid);
    if (rc == 0)
        rc = gt_register(c->name, c->pid);
    return rc;
}

static child *child_of(gt_pid pid)
{
    for (int i = 0; i < NCHILDREN; i++)
        if (gt_pid_eq(children[i].pid, pid))
            return &children[i];
    return NULL;
}

static bool is_exit_of(const gt_msg *m, void *arg)
{
    return m->kind == GT_MSG_EXIT && gt_pid_eq(m->from, *(gt_pid *)arg);
}

/* As OTP's supervisor: ask each worker to end (reason shutdown), wait for
 * its exit, and kill it outright if it takes too long. */
static void shutdown_children(void)
{
    for (int i = 0; i < NCHILDREN; i++) {
        gt_pid pid = children[i].pid;
        if (!gt_is_alive(pid))
            continue;
        gt_msg *m;
        gt_kill(pid, SHUTDOWN);
        if (gt_receive_match(is_exit_of, &pid, 2000, &m) != 0) {
            gt_kill(pid, GT_EKILL);
            if (gt_receive_match(is_exit_of, &pid, 2000, &m) != 0)
                continue;
        }
        gt_msg_free(m);
    }
}

static void supervisor(void *arg)
{
    (void)arg;
    gt_trap_exit(true);
    for (int i = 0; i < NCHILDREN; i++)
        if (start_child(&children[i]) != 0)
            gt_exit_with(SHUTDOWN);
    int64_t restarts[MAX_RESTARTS + 1]; /* when the last ones happened: a ring */
    int nrestarts = 0;
    gt_msg *m;
    while (gt_receive(GT_INFINITY, &m) == 0) {
        if (m->kind == GT_MSG_EXIT) {
            child *c = child_of(m->from);
            int reason = m->reason;
            if (c && reason != 0) {
                int64_t now_ms = monotonic_ms();
                restarts[nrestarts++ % (MAX_RESTARTS + 1)] = now_ms;
                int64_t oldest = restarts[nrestarts % (MAX_RESTARTS + 1)];
                if (nrestarts > MAX_RESTARTS && now_ms - oldest < PERIOD_MS) {
                    printf("supervisor: more than %d restarts within %d ms; giving up\n",
                           MAX_RESTARTS, PERIOD_MS);
                    gt_msg_free(m);
                    shutdown_children();
                    gt_exit_with(SHUTDOWN);
                }
                printf("supervisor: %s exited (reason %d), restarting\n", c->name, reason);
                start_child(c);
            }
        }
        gt_msg_free(m);
    }
}

/* ---- main: a client of the workers ---------------------------------------- */

static int ask_value(void)
{
    gt_post(gt_whereis("counter"), GET, NULL, 0);
    gt_msg *m;
    int v = -1;
    while (gt_receive(2000, &m) == 0) {
        bool mine = m->kind == GT_MSG_USER && m->tag == VALUE && m->len == sizeof v;
        if (mine)
            memcpy(&v, m->data, sizeof v);
        gt_msg_free(m);
        if (mine)
            break;
    }
    return v;
}

/* Waits until "counter" names a process other than old. */
static gt_pid wait_restarted(gt_pid old)
{
    for (int i = 0; i < 200; i++) {
        gt_pid p = gt_whereis("counter");
        if (p.id && !gt_pid_eq(p, old))
            return p;
        gt_sleep(10);
    }
    return (gt_pid){0};
}

static bool is_down(const gt_msg *m, void *arg)
{
    (void)arg;
    return m->kind == GT_MSG_DOWN;
}

int main(void)
{
    gt_pid sup;
    if (gt_spawn(supervisor, NULL, NULL, &sup) != 0 || gt_monitor(sup) != 0)
        return 1;
    gt_pid first;
    while (!(first = gt_whereis("counter")).id)
        gt_sleep(5);
    for (int i = 0; i < 3; i++)
        gt_post(first, INCR, NULL, 0);
    printf("counter: value %d\n", ask_value());

    gt_post(first, CRASH, NULL, 0);
    gt_pid second = wait_restarted(first);
    printf("counter: restarted as a new process: %s; value %d (state starts afresh)\n",
           second.id ? "yes" : "no", ask_value());

    /* Crash it again and again: the fourth restart within 5 s is one too many. */
    gt_pid cur = second;
    for (int i = 0; i < MAX_RESTARTS && cur.id; i++) {
        gt_post(cur, CRASH, NULL, 0);
        cur = i + 1 < MAX_RESTARTS ? wait_restarted(cur) : cur;
    }
    gt_msg *m;
    if (gt_receive_match(is_down, NULL, 5000, &m) == 0) {
        printf("main: supervisor ended with reason %d (%s); counter %s, ticker %s\n", m->reason,
               m->reason == SHUTDOWN ? "shutdown" : gt_reason_name(m->reason),
               gt_whereis("counter").id ? "alive" : "gone", gt_whereis("ticker").id ? "alive" : "gone");
        gt_msg_free(m);
    }
    return gt_stop(5000) == 0 ? 0 : 1;
}
