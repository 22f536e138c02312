/*
 * timer.c -- a binary min-heap of parked processes ordered by deadline, one
 * per scheduler and touched only by its thread.  A process has at most one
 * deadline at a time (the one it parked with), so the heap stores the
 * process and the process remembers its index: removal is O(log n).
 */
#include <stdlib.h>

#include "runtime/runtime.h"

static void place(gt__timers *t, int i, gt__proc *p)
{
    t->heap[i] = p;
    p->timer_idx = i;
}

static void sift_up(gt__timers *t, int i)
{
    gt__proc *p = t->heap[i];
    while (i > 0) {
        int parent = (i - 1) / 2;
        if (t->heap[parent]->timer_deadline <= p->timer_deadline)
            break;
        place(t, i, t->heap[parent]);
        i = parent;
    }
    place(t, i, p);
}

static void sift_down(gt__timers *t, int i)
{
    gt__proc *p = t->heap[i];
    for (;;) {
        int c = 2 * i + 1;
        if (c >= t->n)
            break;
        if (c + 1 < t->n && t->heap[c + 1]->timer_deadline < t->heap[c]->timer_deadline)
            c++;
        if (p->timer_deadline <= t->heap[c]->timer_deadline)
            break;
        place(t, i, t->heap[c]);
        i = c;
    }
    place(t, i, p);
}

int gt__timer_add(gt__timers *t, gt__proc *p, int64_t deadline)
{
    if (p->timer_idx >= 0)
        gt__timer_del(t, p);
    if (t->n == t->cap) {
        int cap = t->cap ? t->cap * 2 : 64;
        gt__proc **h = realloc(t->heap, (size_t)cap * sizeof *h);
        if (!h)
            return -1;
        t->heap = h;
        t->cap = cap;
    }
    p->timer_deadline = deadline;
    place(t, t->n++, p);
    sift_up(t, t->n - 1);
    return 0;
}

void gt__timer_del(gt__timers *t, gt__proc *p)
{
    int i = p->timer_idx;
    if (i < 0)
        return;
    p->timer_idx = -1;
    gt__proc *last = t->heap[--t->n];
    if (i == t->n)
        return;
    place(t, i, last);
    sift_down(t, i);
    sift_up(t, last->timer_idx);
}

int64_t gt__timer_next(const gt__timers *t)
{
    return t->n ? t->heap[0]->timer_deadline : -1;
}

gt__proc *gt__timer_pop_expired(gt__timers *t, int64_t now)
{
    if (!t->n || t->heap[0]->timer_deadline > now)
        return NULL;
    gt__proc *p = t->heap[0];
    gt__timer_del(t, p);
    return p;
}
