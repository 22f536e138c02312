/*
 * timer.c -- a binary min-heap of timer nodes ordered by deadline, one per
 * scheduler and touched only by its thread.  A node is embedded in what it
 * times (a parked process, a message timer) and remembers its index, so
 * removal is O(log n) and the heap allocates nothing per timer.
 */
#include <stdlib.h>

#include "runtime/runtime.h"

static void place(gt__timers *t, int i, gt__tnode *p)
{
    t->heap[i] = p;
    p->idx = i;
}

static void sift_up(gt__timers *t, int i)
{
    gt__tnode *p = t->heap[i];
    while (i > 0) {
        int parent = (i - 1) / 2;
        if (t->heap[parent]->deadline <= p->deadline)
            break;
        place(t, i, t->heap[parent]);
        i = parent;
    }
    place(t, i, p);
}

static void sift_down(gt__timers *t, int i)
{
    gt__tnode *p = t->heap[i];
    for (;;) {
        int c = 2 * i + 1;
        if (c >= t->n)
            break;
        if (c + 1 < t->n && t->heap[c + 1]->deadline < t->heap[c]->deadline)
            c++;
        if (p->deadline <= t->heap[c]->deadline)
            break;
        place(t, i, t->heap[c]);
        i = c;
    }
    place(t, i, p);
}

int gt__timer_add(gt__timers *t, gt__tnode *p, int64_t deadline)
{
    if (p->idx >= 0)
        gt__timer_del(t, p);
    if (t->n == t->cap) {
        int cap = t->cap ? t->cap * 2 : 64;
        gt__tnode **h = realloc(t->heap, (size_t)cap * sizeof *h);
        if (!h)
            return -1;
        t->heap = h;
        t->cap = cap;
    }
    p->deadline = deadline;
    place(t, t->n++, p);
    sift_up(t, t->n - 1);
    return 0;
}

void gt__timer_del(gt__timers *t, gt__tnode *p)
{
    int i = p->idx;
    if (i < 0)
        return;
    p->idx = -1;
    gt__tnode *last = t->heap[--t->n];
    if (i == t->n)
        return;
    place(t, i, last);
    sift_down(t, i);
    sift_up(t, last->idx);
}

int64_t gt__timer_next(const gt__timers *t)
{
    return t->n ? t->heap[0]->deadline : -1;
}

gt__tnode *gt__timer_pop_expired(gt__timers *t, int64_t now)
{
    if (!t->n || t->heap[0]->deadline > now)
        return NULL;
    gt__tnode *p = t->heap[0];
    gt__timer_del(t, p);
    return p;
}
