/*
 * msgtimer.c -- timers that end in a message: erlang:send_after/3,
 * start_timer/3, cancel_timer/1 and read_timer/1.
 *
 * A timer lives in the timer heap of one scheduler, its home, next to the
 * deadlines of parked processes; only that thread touches the heap.  A
 * process on a scheduler homes its timers there and inserts directly; a
 * thread that is not a scheduler (main, an os_thread process) hands the
 * insert to a scheduler as a deferred call.
 *
 * Cancel races with expiry, and may come from any thread: the state moves
 * PENDING -> FIRED (home, at expiry) or PENDING -> CANCELLED (the caller),
 * by compare-and-swap, so exactly one wins.  The timer then leaves the heap
 * on the home thread: at once when the caller is there, else by a deferred
 * call; should that call find no memory, the home drops the timer at its
 * deadline instead, sending nothing.
 *
 * Handles are ids in a table of their own (util/idmap.c), so a stale or
 * forged gt_timer is recognised, never followed.
 *
 * A timer to a pid is cancelled when that process is not alive or exits,
 * as in Erlang ("If Dest is a pid, the timer is automatically canceled if
 * the process referred to by the pid is not alive, or if the process
 * exits", erlang:start_timer/4): a pending timer is in its destination's
 * `timers` list (under the destination's plock) from its start until it
 * fires or is cancelled, and the exit cancels what it finds there, so a
 * long timer to a dead process holds no memory until its deadline.  A
 * start finds the destination alive and not exiting under that plock, or
 * the timer is cancelled at once.
 *
 * Memory: a timer is one block, its payload included; the message itself
 * is made at expiry.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/sched.h"
#include "util/idmap.h"

enum { T_PENDING, T_FIRED, T_CANCELLED };

typedef struct gt__msg_timer {
    gt__tnode node;         /* first: the heap hands back &node           */
    atomic_int refs;        /* the home's (until fired or removed), the
                               destination list's (while listed), lookups */
    atomic_int state;       /* T_*                                         */
    gt__sched *home;
    int64_t due;            /* the deadline, immutable: node.deadline is the
                               home thread's, this one any thread's        */
    gt_pid dest;
    struct gt__msg_timer *dprev, *dnext; /* in dest's `timers` (its plock) */
    bool listed;            /* in that list (dest's plock)                 */
    uint64_t id;            /* handle, until fired or cancelled            */
    bool with_ref;          /* start_timer: {timeout, Ref, Msg}            */
    int tag;
    size_t len;
    uint8_t data[];         /* the message payload, owned by the timer     */
} msg_timer;

static gt__idmap timers = GT__IDMAP_INIT;
static atomic_size_t live; /* timers allocated, for the tests */

size_t gt__msgtimer_count(void) { return atomic_load(&live); }

static void timer_ref(void *t) { atomic_fetch_add(&((msg_timer *)t)->refs, 1); }

static void timer_unref(msg_timer *t)
{
    if (atomic_fetch_sub(&t->refs, 1) == 1) {
        free(t);
        atomic_fetch_sub(&live, 1);
    }
}

/* ---- the destination's list ---- */

/* Lists t in p's timers, unless p is exiting: 1, 0 (dest is dead) or
 * -ENOMEM (no room for p's list head). */
static int list_add(gt__proc *p, msg_timer *t)
{
    gt__lock(&p->plock, GT__LK_PLOCK);
    gt__proc_ext *x = p->exiting ? NULL : gt__proc_ext_get(p);
    int ok = p->exiting ? 0 : x ? 1 : -ENOMEM;
    if (ok > 0) {
        timer_ref(t); /* the list's */
        t->dprev = NULL;
        t->dnext = x->timers;
        if (x->timers)
            x->timers->dprev = t;
        x->timers = t;
        t->listed = true;
    }
    gt__unlock(&p->plock);
    return ok;
}

/* plock held */
static void list_unlink(gt__proc *p, msg_timer *t)
{
    if (t->dprev)
        t->dprev->dnext = t->dnext;
    else
        gt__proc_ext_peek(p)->timers = t->dnext; /* listed: p has one */
    if (t->dnext)
        t->dnext->dprev = t->dprev;
    t->listed = false;
}

/* t fired or was cancelled: out of p's list (p is t's destination).  The
 * caller holds another reference. */
static void list_del_from(gt__proc *p, msg_timer *t)
{
    gt__lock(&p->plock, GT__LK_PLOCK);
    bool was = t->listed;
    if (was)
        list_unlink(p, t);
    gt__unlock(&p->plock);
    if (was)
        timer_unref(t); /* the list's */
}

/* As list_del_from.  A destination no longer in the pid table is exiting,
 * and its exit unlists t. */
static void list_del(msg_timer *t)
{
    gt__proc *p = gt__proc_lookup(t->dest);
    if (p) {
        list_del_from(p, t);
        gt__proc_unref(p);
    }
}

/* Home thread: the deadline passed. */
static void timer_fire(gt__tnode *n)
{
    msg_timer *t = (msg_timer *)n;
    int expect = T_PENDING;
    if (atomic_compare_exchange_strong(&t->state, &expect, T_FIRED)) {
        gt__idmap_del(&timers, t->id);
        gt__proc *p = gt__proc_lookup(t->dest);
        if (p) { /* a timer to a dead process ends quietly, as in Erlang */
            list_del_from(p, t);
            gt_msg *m = gt__msg_new(t->with_ref ? GT_MSG_TIMEOUT : GT_MSG_USER, t->len);
            if (m) {
                m->tag = t->tag;
                m->timer = (gt_timer){t->id};
                memcpy(m->data, t->data, t->len);
                gt__mbox_deliver(p, m, m);
            }
            gt__proc_unref(p);
        }
    }
    timer_unref(t); /* the home's reference: fired, or cancelled from afar */
}

/* Home thread: takes a timer cancelled elsewhere out of the heap (unless
 * expiry or a refused insert got there first).  Holds its own reference. */
static void timer_remove_remote(void *arg)
{
    msg_timer *t = arg;
    if (t->node.idx >= 0) {
        gt__timer_del(&t->home->timers, &t->node);
        timer_unref(t); /* the home's */
    }
    timer_unref(t);
}

/* Home thread: puts a timer made on another thread in the heap. */
static void timer_insert_remote(void *arg)
{
    msg_timer *t = arg;
    if (atomic_load(&t->state) != T_PENDING) {
        timer_unref(t); /* cancelled before it ever reached the heap */
        return;
    }
    if (gt__timer_add(&t->home->timers, &t->node, t->due) != 0)
        timer_fire(&t->node); /* no memory to wait: early, but not lost */
}

static int start(int64_t ms, gt_pid dest, int tag, const void *data, size_t len,
                 bool with_ref, gt_timer *ref_out)
{
    if (ms < 0 || ms > GT_TIMER_MAX_MS || (len && !data))
        return GT_EBADARG;
    int err = gt__rt_ensure();
    if (err)
        return err;
    msg_timer *t = malloc(sizeof *t + len);
    if (!t)
        return -ENOMEM;
    atomic_fetch_add(&live, 1);
    atomic_init(&t->refs, 1);
    atomic_init(&t->state, T_PENDING);
    t->due = gt__now_ms() + ms;
    t->node = (gt__tnode){.idx = -1, .fire = timer_fire};
    t->dest = dest;
    t->with_ref = with_ref;
    t->tag = tag;
    t->len = len;
    if (len)
        memcpy(t->data, data, len);
    t->listed = false;
    uint64_t id = t->id = gt__idmap_add(&timers, t);
    if (!id) {
        timer_unref(t);
        return GT_ESYSTEM_LIMIT;
    }
    /* Home first: once listed, the destination's exit may cancel t. */
    t->home = gt__tls_sched ? gt__tls_sched : gt__sched_pick(0);
    gt__proc *p = gt__proc_lookup(dest);
    int alive = p ? list_add(p, t) : 0;
    if (p)
        gt__proc_unref(p);
    if (alive < 0) {
        gt__idmap_del(&timers, id);
        timer_unref(t);
        return alive;
    }
    if (!alive) { /* cancelled at once: the handle reads false */
        gt__idmap_del(&timers, id);
        timer_unref(t);
        if (ref_out)
            *ref_out = (gt_timer){id};
        return 0;
    }
    /* The handle goes out only once the insert is in hand, so a cancel
     * always finds the timer in the heap or on its way there (an exit's
     * cancel from another thread runs its removal on the home, after an
     * insert made here). */
    if (t->home == gt__tls_sched)
        err = gt__timer_add(&t->home->timers, &t->node, t->due) ? -ENOMEM : 0;
    else
        err = gt__sched_defer(t->home, timer_insert_remote, t);
    if (err) {
        atomic_store(&t->state, T_CANCELLED); /* for an exit that takes the list */
        gt__idmap_del(&timers, id);
        list_del(t);
        timer_unref(t);
        return err;
    }
    if (ref_out) /* not t->id: t may have fired and gone */
        *ref_out = (gt_timer){id};
    return 0;
}

int gt_send_after(int64_t ms, gt_pid dest, int tag, const void *data, size_t len,
                  gt_timer *ref_out)
{
    if (gt__forked())
        return GT_EFORKED;
    return start(ms, dest, tag, data, len, false, ref_out);
}

int gt_start_timer(int64_t ms, gt_pid dest, int tag, const void *data, size_t len,
                   gt_timer *ref_out)
{
    if (gt__forked())
        return GT_EFORKED;
    return start(ms, dest, tag, data, len, true, ref_out);
}

/* Time left of a pending timer, or -1 (Erlang's false) when it has fired,
 * was cancelled, or its destination is dead (which cancels it in Erlang). */
static int64_t time_left(const msg_timer *t)
{
    if (!gt_is_alive(t->dest))
        return -1;
    int64_t left = t->due - gt__now_ms();
    return left < 0 ? 0 : left;
}

/* Moves a pending t to CANCELLED and out of the heap; false if it had
 * fired or was cancelled already.  The caller holds a reference;
 * unlist: also out of the destination's list (not when the exit of the
 * destination took the list). */
static bool cancel(msg_timer *t, bool unlist)
{
    int expect = T_PENDING;
    if (!atomic_compare_exchange_strong(&t->state, &expect, T_CANCELLED))
        return false;
    gt__idmap_del(&timers, t->id);
    if (unlist)
        list_del(t);
    timer_ref(t);
    if (gt__tls_sched == t->home)
        timer_remove_remote(t); /* the heap is ours: out now */
    else if (gt__sched_defer(t->home, timer_remove_remote, t) != 0)
        timer_unref(t); /* dropped at its deadline instead */
    return true;
}

int64_t gt_cancel_timer(gt_timer ref)
{
    if (gt__forked())
        return GT_EFORKED;
    msg_timer *t = ref.id ? gt__idmap_get(&timers, ref.id, timer_ref) : NULL;
    if (!t)
        return -1;
    int64_t left = time_left(t);
    if (!cancel(t, true))
        left = -1;
    timer_unref(t);
    return left;
}

void gt__msgtimers_exit(gt__proc *p)
{
    gt__lock(&p->plock, GT__LK_PLOCK); /* exiting is set: none is added now */
    gt__proc_ext *x = gt__proc_ext_peek(p);
    msg_timer *list = x ? x->timers : NULL;
    if (x)
        x->timers = NULL;
    for (msg_timer *t = list; t; t = t->dnext)
        t->listed = false;
    gt__unlock(&p->plock);
    while (list) {
        msg_timer *t = list;
        list = t->dnext; /* unlisted: nobody else follows these links */
        cancel(t, false);
        timer_unref(t); /* the list's */
    }
}

int64_t gt_read_timer(gt_timer ref)
{
    if (gt__forked())
        return GT_EFORKED;
    msg_timer *t = ref.id ? gt__idmap_get(&timers, ref.id, timer_ref) : NULL;
    if (!t)
        return -1;
    int64_t left = atomic_load(&t->state) == T_PENDING ? time_left(t) : -1;
    timer_unref(t);
    return left;
}
