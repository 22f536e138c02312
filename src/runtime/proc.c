/*
 * proc.c -- processes: spawn, identity, park/wake, hibernate, exit,
 * monitors.  A process is either a coroutine on a scheduler (the usual
 * case) or an OS thread (a foreign thread that called the API, or a spawn
 * with os_thread); both park and wake through the same two functions, so
 * the socket layer never needs to know which it is dealing with.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/sched.h"
#include "util/idmap.h"
#include "util/prefetch.h"
#include "util/objcache.h"
#include "util/zalloc.h"

static gt__idmap procs = GT__IDMAP_INIT;
static pthread_key_t thread_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void thread_proc_dtor(void *arg);
static void make_key(void) { pthread_key_create(&thread_key, thread_proc_dtor); }

void gt__proc_ref(gt__proc *p) { atomic_fetch_add(&p->refs, 1); }
static void ref_cb(void *p) { gt__proc_ref(p); }

void gt__proc_prefetch(const gt__proc *p) { gt__prefetch_w(p, sizeof *p); }

void gt__proc_unref(gt__proc *p)
{
    if (atomic_fetch_sub(&p->refs, 1) != 1)
        return;
    gt__mbox_close(&p->mbox);
    if (p->is_thread) {
        pthread_mutex_destroy(&gt__proc_tpark(p)->lock);
        pthread_cond_destroy(&gt__proc_tpark(p)->cond);
    }
    gt__proc_ext *x = gt__proc_ext_peek(p);
    if (x) {
        for (int i = 0; i < x->nmonitors; i++) /* an exit that never ran */
            gt_msg_free(x->monitors[i].down);
        free(x->monitors);
        gt__links_free(p);
        free(x);
    }
    if (p->is_thread) /* a bigger block (its tpark), and rare */
        free(p);
    else
        gt__obj_free(GT__OBJ_PROC, p);
}

gt__proc_ext *gt__proc_ext_get(gt__proc *p)
{
    gt__proc_ext *x = gt__proc_ext_peek(p);
    if (!x && (x = calloc(1, sizeof *x)))
        atomic_store_explicit(&p->ext, x, memory_order_release);
    return x;
}

gt__proc *gt__proc_lookup(gt_pid pid) { return gt__idmap_get(&procs, pid.id, ref_cb); }
gt_pid gt__proc_pid(const gt__proc *p) { return (gt_pid){p->id}; }
bool gt__proc_alive(const gt__proc *p) { return atomic_load(&((gt__proc *)p)->state) != P_DEAD; }

/* A timed park's deadline, on the parking process's stack: gt__park
 * takes it out of the heap before it returns (gt__park_timer_take, when
 * the process moves first). */
typedef struct park_timer {
    gt__tnode node; /* first: the heap hands back &node */
    gt__proc *p;
} park_timer;

/* A timed park's deadline passed (scheduler thread). */
static void park_timeout(gt__tnode *n) { gt__wake(((park_timer *)n)->p); }

/* A move is rare and p's node is in the heap only between a wake that beat
 * its deadline and p's next run, so a scan of the heap here costs less
 * than the pointer to the node that every process would carry. */
void gt__park_timer_take(gt__timers *t, gt__proc *p)
{
    if (!p->timed_park)
        return;
    for (int i = 0; i < t->n; i++) {
        gt__tnode *n = t->heap[i];
        if (n->fire == park_timeout && ((park_timer *)n)->p == p) {
            gt__timer_del(t, n); /* on p's stack: p is not running, the frame stays */
            return;
        }
    }
}

static gt__proc *proc_new(bool is_thread, bool thread_owned)
{
    gt__proc *p = is_thread ? gt__zalloc(sizeof *p + sizeof(gt__tpark))
                            : gt__obj_new(GT__OBJ_PROC, sizeof *p);
    if (!p)
        return NULL;
    atomic_init(&p->refs, 1); /* the table's reference, dropped at exit */
    atomic_init(&p->state, P_RUNNABLE);
    p->is_thread = is_thread;
    p->thread_owned = thread_owned;
    gt__mutex_init(&p->plock);
    gt__mbox_init(&p->mbox);
    if (is_thread) {
        _Static_assert(sizeof(gt__proc) % _Alignof(gt__tpark) == 0, "tpark follows the proc");
        pthread_mutex_init(&gt__proc_tpark(p)->lock, NULL);
        /* Deadlines are on CLOCK_MONOTONIC; a condition variable on the
         * default CLOCK_REALTIME would take them as long past and return
         * at once, turning every timed wait into a busy loop. */
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&gt__proc_tpark(p)->cond, &ca);
        pthread_condattr_destroy(&ca);
    }
    p->id = gt__idmap_add(&procs, p);
    if (!p->id) {
        gt__proc_unref(p);
        return NULL;
    }
    return p;
}

/* ---- identity ---- */

bool gt__self_exiting(void)
{
    return gt__tls_proc && gt__tls_proc->exiting; /* (its own flag: no lock) */
}

gt__proc *gt__self(void)
{
    if (gt__tls_proc)
        return gt__tls_proc;
    if (gt__rt_ensure() != 0)
        return NULL;
    pthread_once(&key_once, make_key);
    gt__proc *p = proc_new(true, true);
    if (!p)
        return NULL;
    atomic_store(&p->state, P_RUNNING);
    gt__tls_proc = p;
    pthread_setspecific(thread_key, p);
    return p;
}

gt_pid gt_self(void)
{
    if (gt__forked())
        return (gt_pid){0};
    gt__proc *p = gt__self();
    return p ? (gt_pid){p->id} : (gt_pid){0};
}

bool gt_is_alive(gt_pid pid)
{
    if (gt__forked())
        return false;
    gt__proc *p = gt__proc_lookup(pid);
    if (!p)
        return false;
    bool alive = gt__proc_alive(p);
    gt__proc_unref(p);
    return alive;
}

/* ---- park / wake ---- */

void gt__wake(gt__proc *p)
{
    atomic_store(&p->notified, 1);
    atomic_thread_fence(memory_order_seq_cst); /* see finish_park */
    if (p->is_thread) {
        gt__tpark *tp = gt__proc_tpark(p);
        gt__cvlock(&tp->lock, GT__LK_TLOCK);
        pthread_cond_signal(&tp->cond);
        gt__cvunlock(&tp->lock);
        return;
    }
    int expect = P_WAITING;
    if (atomic_compare_exchange_strong(&p->state, &expect, P_RUNNABLE))
        gt__sched_enqueue(p->sched, p);
}

static void thread_park(gt__proc *p, int64_t deadline)
{
    gt__tpark *tp = gt__proc_tpark(p);
    gt__cvlock(&tp->lock, GT__LK_TLOCK);
    while (!atomic_load(&p->notified)) {
        if (deadline < 0) {
            pthread_cond_wait(&tp->cond, &tp->lock);
        } else {
            if (gt__expired(deadline))
                break;
            struct timespec ts = {.tv_sec = deadline / 1000,
                                  .tv_nsec = (long)(deadline % 1000) * 1000000};
            pthread_cond_timedwait(&tp->cond, &tp->lock, &ts);
        }
    }
    atomic_store(&p->notified, 0);
    gt__cvunlock(&tp->lock);
}

void gt__park(int64_t deadline)
{
    gt__assert_no_lock(); /* see gt__sched_switch_out */
    gt__proc *p = gt__self();
    if (atomic_exchange(&p->notified, 0))
        return;
    if (p->is_thread) {
        thread_park(p, deadline);
        return;
    }
    park_timer t = {.node = {.idx = -1, .fire = park_timeout}, .p = p};
    if (deadline >= 0) {
        if (gt__timer_add(&p->sched->timers, &t.node, deadline) != 0) {
            /* No memory for the timer: parked, nothing would end the wait
             * at its deadline.  Yield instead: a spurious return, after
             * which the caller checks its condition and deadline again. */
            gt__sched_switch_out(p, Y_YIELD);
            return;
        }
        p->timed_park = true;
    }
    gt__sched_switch_out(p, Y_PARK);
    if (deadline >= 0) { /* (a no-op if it fired, or if a move took it out) */
        gt__timer_del(&p->sched->timers, &t.node);
        p->timed_park = false;
    }
    atomic_store(&p->notified, 0);
}

void gt_yield(void)
{
    gt__proc *p = gt__forked() ? NULL : gt__self();
    if (!p || p->is_thread) {
        sched_yield();
        return;
    }
    gt__sched_switch_out(p, Y_YIELD);
}

int gt_sleep(int64_t ms)
{
    if (gt__forked())
        return GT_EFORKED;
    gt__proc *p = gt__self();
    if (!p)
        return -ENOMEM;
    int64_t deadline = gt__deadline(ms);
    while (!gt__expired(deadline)) {
        int rc = gt__exit_check();
        if (rc)
            return rc;
        gt__park(deadline);
    }
    return 0;
}

/* ---- spawn and exit ---- */

static void proc_exit_common(gt__proc *p, int reason);

void gt__proc_entry(void *arg)
{
    gt__proc *p = arg;
    gt__fiber_started();
    gt__tls_proc = p;
    /* A restart from hibernation is the return from that park: it consumes
     * the wake, as gt__park() does.  Left set, the flag would make the next
     * gt_hibernate() requeue the process at once, forever, for a process
     * that never parks in between (it polls its mailbox, then hibernates). */
    atomic_store(&p->notified, 0);
    if (!gt__exit_is_pending(p)) /* killed before it ran, or hibernating */
        p->fn(p->arg);
    gt_exit();
}

/* Scheduler side of an exit, after the process's stack is no longer in use. */
void gt__proc_finish_exit(gt__proc *p) { gt__proc_unref(p); }

static void *thread_entry(void *arg)
{
    gt__proc *p = arg;
    gt__tls_proc = p;
    pthread_once(&key_once, make_key);
    pthread_setspecific(thread_key, p);
    if (!gt__exit_is_pending(p))
        p->fn(p->arg);
    gt_exit();
    return NULL;
}

int gt_spawn(gt_proc_fn fn, void *arg, const gt_spawn_opts *opts, gt_pid *pid_out)
{
    if (gt__forked())
        return GT_EFORKED;
    int err = gt__rt_ensure();
    if (err)
        return err;
    if (!fn || (opts && opts->stack_size > GT__MAX_STACK))
        return GT_EBADARG;
    bool os_thread = opts && opts->os_thread;
    gt__proc *p = proc_new(os_thread, false);
    if (!p)
        return GT_ESYSTEM_LIMIT;
    p->fn = fn;
    p->arg = arg;
    if (opts && opts->link) { /* before it can run, let alone exit */
        gt__proc *parent = gt__self();
        int rc = parent ? gt__link_new(parent, p) : -ENOMEM;
        if (rc) {
            gt__idmap_del(&procs, p->id);
            gt__proc_unref(p);
            return rc;
        }
    }
    if (pid_out)
        *pid_out = (gt_pid){p->id};
    if (os_thread) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (opts->stack_size)
            pthread_attr_setstacksize(&attr, opts->stack_size);
        atomic_store(&p->state, P_RUNNING);
        gt__live_inc();
        int rc = pthread_create(&t, &attr, thread_entry, p);
        pthread_attr_destroy(&attr);
        if (rc != 0) {
            gt__live_dec();
            if (opts->link)
                gt_unlink((gt_pid){p->id}); /* no signal: it never ran */
            gt__idmap_del(&procs, p->id);
            gt__proc_unref(p);
            return -EAGAIN;
        }
        return 0;
    }
    p->fiber.stack_size = opts && opts->stack_size ? opts->stack_size : gt__default_stack_size();
    p->sched = gt__sched_pick(opts ? opts->scheduler : 0);
    /* An explicit scheduler (in range) pins, unless asked only as a start. */
    p->bound = opts && opts->scheduler > 0 && opts->scheduler <= gt__sched_count() &&
               !opts->movable;
    gt__live_inc();
    gt__sched_enqueue(p->sched, p);
    return 0;
}

/* Everything an exit does before the stack goes away: run the exit hooks,
 * close the sockets, leave the table, drop the mailbox, tell the monitors
 * and the links (after the table: whoever is told finds p dead). */
static void proc_exit_common(gt__proc *p, int reason)
{
    gt__at_exit_run(p);
    gt__lock(&p->plock, GT__LK_PLOCK);
    p->exiting = true; /* from here on, signals to p are ignored */
    gt__unlock(&p->plock);
    reason = gt__exit_reason(p, reason);
    gt__names_drop(p);
    gt__resources_release(p);
    gt__idmap_del(&procs, p->id);
    atomic_store(&p->state, P_DEAD);
    gt__mbox_close(&p->mbox);
    gt__msgtimers_exit(p); /* Erlang cancels the timers to a dead pid */
    /* Links before monitors: a process that both links and monitors gets
     * the EXIT (or its exit signal) first, the DOWN after. */
    gt__links_exit(p, reason);
    gt__lock(&p->plock, GT__LK_PLOCK);
    gt__proc_ext *x = gt__proc_ext_peek(p);
    gt__monitor *mons = x ? x->monitors : NULL;
    int n = x ? x->nmonitors : 0;
    p->monitors_taken = true;
    if (x) {
        x->monitors = NULL;
        x->nmonitors = x->cap_monitors = 0;
    }
    gt__unlock(&p->plock);
    for (int i = 0; i < n; i++) {
        gt__proc *m = gt__proc_lookup(mons[i].watcher);
        mons[i].down->reason = reason;
        if (m) {
            gt__mbox_deliver(m, mons[i].down, mons[i].down);
            gt__proc_unref(m);
        } else {
            gt_msg_free(mons[i].down);
        }
    }
    free(mons);
    if (!p->thread_owned)
        gt__live_dec(); /* last: gt_stop may return at once */
}

void gt_exit(void) { gt_exit_with(0); }

/* A child of fork() has no runtime to end a process in (fork.c).  A
 * process of the parent that forked goes on in the child as plain code on
 * the only thread: when it ends, there is nothing to return to, so the
 * child ends (_exit: no atexit handler or stdio buffer of the parent runs
 * twice), with status 0 for normal, else 1.  Any other thread has only an
 * identity to release, and that belongs to the parent. */
static void forked_exit(int reason)
{
    gt__proc *p = gt__tls_proc;
    if (p && !p->thread_owned)
        _exit(reason == 0 ? 0 : 1);
}

void gt_exit_with(int reason)
{
    gt__proc *p = gt__tls_proc;
    if (gt__forked()) {
        forked_exit(reason);
        return;
    }
    if (!p)
        return;
    proc_exit_common(p, reason);
    if (p->is_thread) {
        gt__tls_proc = NULL;
        pthread_setspecific(thread_key, NULL);
        bool spawned = !p->thread_owned;
        gt__proc_unref(p);
        if (spawned)
            pthread_exit(NULL);
        return;
    }
    gt__sched_switch_out(p, Y_EXIT);
    abort(); /* unreachable: an exited process is never resumed */
}

static void thread_proc_dtor(void *arg)
{
    gt__proc *p = arg;
    if (!p || gt__forked() || atomic_load(&p->state) == P_DEAD)
        return;
    gt__tls_proc = p;
    proc_exit_common(p, 0);
    gt__tls_proc = NULL;
    gt__proc_unref(p);
}

void gt_hibernate(gt_proc_fn fn, void *arg)
{
    if (gt__forked()) { /* cannot return an error: see forked_exit */
        forked_exit(GT_EFORKED);
        _exit(1);
    }
    gt__proc *p = gt__self();
    if (!fn || !p) { /* nothing to restart: the process ends */
        gt_exit();
        pthread_exit(NULL); /* an OS thread, as after fn returns below */
    }
    p->fn = fn;
    p->arg = arg;
    if (p->is_thread) {
        gt__mailbox *m = &p->mbox;
        while (!gt__exit_is_pending(p)) {
            gt__lock(&m->lock, GT__LK_MBOX);
            bool any = m->head != NULL;
            __atomic_store_n(&m->receiving, !any, __ATOMIC_RELAXED); /* see mailbox.c */
            gt__unlock(&m->lock);
            if (any)
                break;
            gt__park(-1);
        }
        /* restart fn on this stack; when it returns, the thread ends as a
         * spawned process would (gt_hibernate never returns) */
        if (!gt__exit_is_pending(p))
            fn(arg);
        gt_exit();
        pthread_exit(NULL);
    }
    /* Register as receiving first, so a message that arrives after the
     * check wakes us; if one is already here, restart at once. */
    gt__lock(&p->mbox.lock, GT__LK_MBOX);
    bool any = p->mbox.head != NULL;
    __atomic_store_n(&p->mbox.receiving, !any, __ATOMIC_RELAXED); /* see mailbox.c */
    gt__unlock(&p->mbox.lock);
    if (any)
        atomic_store(&p->notified, 1);
    gt__sched_switch_out(p, Y_HIBERNATE);
    abort(); /* unreachable: the process restarts in gt__proc_entry */
}

/* The DOWN message is allocated here, not at the exit: an exit that found
 * no memory for it would leave the watcher waiting for ever. */
int gt_monitor(gt_pid pid)
{
    if (gt__forked())
        return GT_EFORKED;
    gt__proc *self = gt__self();
    if (!self)
        return -ENOMEM;
    gt_msg *down = gt__msg_new(GT_MSG_DOWN, 0);
    if (!down)
        return -ENOMEM;
    down->from = pid;
    down->reason = GT_ENOPROC; /* unless the exit gives its own */
    gt__proc *p = gt__proc_lookup(pid);
    if (p) {
        int rc = 0;
        gt__lock(&p->plock, GT__LK_PLOCK);
        /* Registered until the exit takes the list: a DOWN sent at once
         * while the exit is under way would arrive before the process has
         * left the pid table, and a gt_post after it would still succeed. */
        gt__proc_ext *x = p->monitors_taken ? NULL : gt__proc_ext_get(p);
        if (!p->monitors_taken && !x)
            rc = -ENOMEM;
        if (x && x->nmonitors == x->cap_monitors) {
            int cap = x->cap_monitors ? x->cap_monitors * 2 : 4;
            gt__monitor *m = realloc(x->monitors, (size_t)cap * sizeof *m);
            if (m) {
                x->monitors = m;
                x->cap_monitors = cap;
            } else {
                rc = -ENOMEM;
            }
        }
        if (x && rc == 0) {
            x->monitors[x->nmonitors++] = (gt__monitor){gt__proc_pid(self), down};
            down = NULL;
        }
        gt__unlock(&p->plock);
        gt__proc_unref(p);
        if (rc) {
            gt_msg_free(down);
            return rc;
        }
    }
    if (down) /* dead already */
        gt__mbox_deliver(self, down, down);
    return 0;
}
