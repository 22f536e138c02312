/*
 * timer_test.c -- a scheduler's deadline heap (src/runtime/timer.c): pops
 * in deadline order, removal from the middle, re-adding moves a deadline,
 * and the index each node keeps stays right.
 */
#include "runtime/runtime.h"
#include "../test.h"

enum { N = 300 };
static gt__tnode procs[N];

static void init_procs(void)
{
    memset(procs, 0, sizeof procs);
    for (int i = 0; i < N; i++)
        procs[i].idx = -1;
}

/* A deterministic shuffle of deadlines, with duplicates. */
static int64_t deadline_of(int i) { return (int64_t)((i * 7919) % 251); }

GT_TEST(timer_pops_in_deadline_order)
{
    init_procs();
    gt__timers t = {0};
    ASSERT_EQ(gt__timer_next(&t), -1);
    for (int i = 0; i < N; i++)
        ASSERT_OK(gt__timer_add(&t, &procs[i], deadline_of(i)));
    ASSERT_EQ(gt__timer_next(&t), 0);
    ASSERT(gt__timer_pop_expired(&t, -1) == NULL); /* nothing due yet */
    int64_t last = -1;
    int popped = 0;
    gt__tnode *p;
    while ((p = gt__timer_pop_expired(&t, 1000))) {
        ASSERT(p->deadline >= last);
        ASSERT_EQ(p->idx, -1);
        last = p->deadline;
        popped++;
    }
    ASSERT_EQ(popped, N);
    ASSERT_EQ(gt__timer_next(&t), -1);
    free(t.heap);
}

GT_TEST(timer_pop_only_expired)
{
    init_procs();
    gt__timers t = {0};
    for (int i = 0; i < N; i++)
        ASSERT_OK(gt__timer_add(&t, &procs[i], deadline_of(i)));
    int due = 0;
    for (int i = 0; i < N; i++)
        due += deadline_of(i) <= 100;
    int popped = 0;
    while (gt__timer_pop_expired(&t, 100))
        popped++;
    ASSERT_EQ(popped, due);
    ASSERT(gt__timer_next(&t) > 100);
    free(t.heap);
}

/* Deleting from anywhere keeps the heap ordered; re-adding moves. */
GT_TEST(timer_delete_and_move)
{
    init_procs();
    gt__timers t = {0};
    for (int i = 0; i < N; i++)
        ASSERT_OK(gt__timer_add(&t, &procs[i], deadline_of(i)));
    for (int i = 0; i < N; i += 3)
        gt__timer_del(&t, &procs[i]);
    gt__timer_del(&t, &procs[0]); /* not in the heap: ignored */
    ASSERT_OK(gt__timer_add(&t, &procs[1], 100000)); /* moves to the end */
    ASSERT_OK(gt__timer_add(&t, &procs[3], -5));     /* back in, first */
    for (int i = 0; i < t.n; i++)
        ASSERT_EQ(t.heap[i]->idx, i);
    ASSERT(gt__timer_pop_expired(&t, 1000000) == &procs[3]);
    int64_t last = -1000;
    gt__tnode *p, *final = NULL;
    int popped = 1;
    while ((p = gt__timer_pop_expired(&t, 1000000))) {
        ASSERT(p != &procs[0] && p != &procs[6]);
        ASSERT(p->deadline >= last);
        last = p->deadline;
        final = p;
        popped++;
    }
    ASSERT(final == &procs[1]);
    ASSERT_EQ(popped, N - (N + 2) / 3 + 1);
    free(t.heap);
}
