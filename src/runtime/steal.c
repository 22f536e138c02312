/*
 * steal.c -- balance between schedulers (docs/DESIGN.md, "Balance").
 *
 * Work is requested, not taken: a scheduler that spun for spin_us without
 * work and is about to sleep sets its `hungry` flag; a scheduler that finds
 * someone hungry at the top of its loop, with two or more processes in its
 * run queue, hands up to half of its movable ones over.  The giver does the
 * moving on its own thread, so a run queue and a timer heap stay touched
 * by their own thread only, and the common case -- nobody idle -- costs one
 * relaxed load per loop pass.  The receiver moves each process's sockets
 * (their fd watchers) to its own epoll set before the process runs there.
 */
#include "runtime/sched.h"

/* How long a scheduler must have run without sleeping before it gives
 * processes away. */
#define BUSY_NS 1000000

bool gt__steal_on;
atomic_int gt__nhungry;

void gt__steal_idle(gt__sched *s)
{
    if (gt__steal_on && !atomic_exchange(&s->hungry, 1))
        atomic_fetch_add(&gt__nhungry, 1);
}

void gt__steal_awake(gt__sched *s)
{
    if (!gt__steal_on)
        return;
    s->awake_since = gt__now_ns();
    /* Whoever clears the flag (we, or a giver claiming us) counts it. */
    if (atomic_exchange(&s->hungry, 0))
        atomic_fetch_sub(&gt__nhungry, 1);
}

/* Takes p out of `from`, for `to`: what of p lives on from's thread goes
 * (a timed park's deadline, left in the heap when a wake beat it; the park
 * re-arms one on the new home if it waits again), the home changes under
 * plock (gt__io_move reads it there, from the thread of whoever hands p a
 * socket), and p's resources follow when it next runs (run_one). */
static void move_out(gt__sched *from, gt__sched *to, gt__proc *p)
{
    gt__timer_del(&from->timers, &p->tnode);
    gt__lock(&p->plock, GT__LK_PLOCK);
    p->sched = to;
    gt__unlock(&p->plock);
    p->rehome = true;
}

/* Gives `to` the last `want` movable processes of s's run queue: the ones
 * that would wait longest here. */
static void give(gt__sched *s, gt__sched *to, int want)
{
    int skip = s->rq_movable > want ? s->rq_movable - want : 0;
    gt__proc *prev = NULL, *head = NULL, *tail = NULL;
    int n = 0;
    for (gt__proc *p = s->rq_head, *next; p; p = next) {
        next = p->rq_next;
        if (p->bound || skip-- > 0) {
            prev = p;
            continue;
        }
        if (prev)
            prev->rq_next = next;
        else
            s->rq_head = next;
        if (s->rq_tail == p)
            s->rq_tail = prev;
        s->rq_len--;
        s->rq_movable--;
        move_out(s, to, p);
        p->rq_next = NULL;
        if (tail)
            tail->rq_next = p;
        else
            head = p;
        tail = p;
        n++;
    }
    if (n)
        gt__sched_enqueue_chain(to, head, tail, n, n);
}

void gt__steal_give(gt__sched *s)
{
    /* Busy means no sleep for BUSY_NS: a scheduler that sleeps now and
     * then has spare time itself, and giving its processes away would only
     * bounce them between two half-idle schedulers (measured: thousands of
     * moves a second, each two epoll_ctl calls, for a load one scheduler
     * served alone). */
    if (gt__now_ns() - s->awake_since < BUSY_NS)
        return;
    int nsched;
    gt__sched *all = gt__sched_all(&nsched);
    for (int i = 0; i < nsched && s->rq_len >= 2 && s->rq_movable > 0; i++) {
        gt__sched *to = &all[i];
        if (to == s || !atomic_load_explicit(&to->hungry, memory_order_relaxed))
            continue;
        if (!atomic_exchange(&to->hungry, 0)) /* another giver was first */
            continue;
        atomic_fetch_sub(&gt__nhungry, 1);
        give(s, to, s->rq_len / 2);
    }
}
