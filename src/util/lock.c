/*
 * lock.c -- the slow paths of lock.h's futex mutex, and the lock-order
 * checks: a small per-thread stack of the locks held, with their ranks
 * and where each was taken.
 */
#include "util/lock.h"

#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Spins briefly before sleeping: a socket or mailbox lock is held for a
 * few hundred nanoseconds, less than a futex sleep and wake.  Briefly: a
 * pause is up to ~140 cycles, and on a loaded machine the holder may be
 * descheduled; 100 spins made rr1k (1,000 connections) 20-40% more CPU
 * per round trip under load, 10 are level with pthread's mutex. */
#define SPINS 10

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* The classic three-state futex mutex (Drepper, "Futexes Are Tricky",
 * mutex 3): a locker that may sleep marks the word 2, so that an unlock
 * that finds 1 skips the system call. */
void gt__mutex_lock_slow(gt__mutex *m)
{
    for (int i = 0; i < SPINS; i++) {
        cpu_relax();
        uint32_t v = atomic_load_explicit(&m->v, memory_order_relaxed);
        if (v == 2)
            break; /* others sleep already: queue behind them */
        if (v == 0 && atomic_compare_exchange_weak_explicit(&m->v, &v, 1, memory_order_acquire,
                                                            memory_order_relaxed))
            return;
    }
    while (atomic_exchange_explicit(&m->v, 2, memory_order_acquire) != 0)
        syscall(SYS_futex, &m->v, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
}

void gt__mutex_wake(gt__mutex *m) { syscall(SYS_futex, &m->v, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0); }

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
