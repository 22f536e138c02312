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

typedef struct msg_timer {
    gt__tnode node;         /* first: the heap hands back &node           */
    atomic_int refs;        /* the home's (until fired or removed) + lookups */
    atomic_int state;       /* T_*                                         */
    gt__sched *home;
    int64_t due;            /* the deadline, immutable: node.deadline is the
                               home thread's, this one any thread's        */
    gt_pid dest;
    uint64_t id;            /* handle, until fired or cancelled            */
    bool with_ref;          /* start_timer: {timeout, Ref, Msg}            */
    int tag;
    size_t len;
    uint8_t data[];         /* the message payload, owned by the timer     */
} msg_timer;

static gt__idmap timers = GT__IDMAP_INIT;

static void timer_ref(void *t) { atomic_fetch_add(&((msg_timer *)t)->refs, 1); }

static void timer_unref(msg_timer *t)
{
    if (atomic_fetch_sub(&t->refs, 1) == 1)
        free(t);
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
    if (!ref_out || ms < 0 || ms > GT_TIMER_MAX_MS || (len && !data))
        return GT_EBADARG;
    int err = gt__rt_ensure();
    if (err)
        return err;
    msg_timer *t = malloc(sizeof *t + len);
    if (!t)
        return -ENOMEM;
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
    uint64_t id = t->id = gt__idmap_add(&timers, t);
    if (!id) {
        free(t);
        return GT_ESYSTEM_LIMIT;
    }
    /* The handle goes out only once the insert is in hand, so a cancel
     * always finds the timer in the heap or on its way there. */
    t->home = gt__tls_sched ? gt__tls_sched : gt__sched_pick(0);
    if (t->home == gt__tls_sched)
        err = gt__timer_add(&t->home->timers, &t->node, t->due) ? -ENOMEM : 0;
    else
        err = gt__sched_defer(t->home, timer_insert_remote, t);
    if (err) {
        gt__idmap_del(&timers, id);
        free(t);
        return err;
    }
    *ref_out = (gt_timer){id}; /* not t->id: t may have fired and gone */
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

int64_t gt_cancel_timer(gt_timer ref)
{
    if (gt__forked())
        return GT_EFORKED;
    msg_timer *t = ref.id ? gt__idmap_get(&timers, ref.id, timer_ref) : NULL;
    if (!t)
        return -1;
    int64_t left = -1;
    int expect = T_PENDING;
    if (atomic_compare_exchange_strong(&t->state, &expect, T_CANCELLED)) {
        gt__idmap_del(&timers, t->id);
        left = time_left(t);
        if (gt__tls_sched == t->home) {
            timer_ref(t);
            timer_remove_remote(t); /* the heap is ours: out now */
        } else {
            timer_ref(t);
            if (gt__sched_defer(t->home, timer_remove_remote, t) != 0)
                timer_unref(t); /* dropped at its deadline instead */
        }
    }
    timer_unref(t);
    return left;
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
