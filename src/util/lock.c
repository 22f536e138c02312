/*
 * lock.c -- the lock-order checks of lock.h: a small per-thread stack of
 * the locks held, with their ranks and where each was taken.
 */
#include "util/lock.h"

#include <stdio.h>
#include <stdlib.h>

#define MAX_HELD 16 /* deeper nesting than the order has ranks is a bug too */

typedef struct held {
    const void *lock;
    int rank;
    const char *where;
} held;

static __thread held stack[MAX_HELD];
static __thread int nheld;

static void die(const char *what, const char *where, const held *h)
{
    fprintf(stderr, "gentcp: lock order: %s at %s", what, where);
    if (h)
        fprintf(stderr, " while holding rank %d taken at %s", h->rank, h->where);
    fputc('\n', stderr);
    abort();
}

void gt__lock_note(const void *lock, int rank, const char *where)
{
    for (int i = 0; i < nheld; i++)
        if (stack[i].rank >= rank)
            die(stack[i].lock == lock ? "lock taken twice" : "lock of a lower or equal rank taken",
                where, &stack[i]);
    if (nheld == MAX_HELD)
        die("too many locks held", where, NULL);
    stack[nheld++] = (held){lock, rank, where};
}

void gt__lock_forget(const void *lock)
{
    for (int i = nheld - 1; i >= 0; i--) {
        if (stack[i].lock != lock)
            continue;
        for (; i + 1 < nheld; i++) /* unlocks need not be LIFO */
            stack[i] = stack[i + 1];
        nheld--;
        return;
    }
    die("unlock of a lock not held", "?", NULL);
}

int gt__lock_held(void) { return nheld; }

void gt__lock_assert_none(const char *where)
{
    if (nheld)
        die("parking with a lock held", where, &stack[nheld - 1]);
}
