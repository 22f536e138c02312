/*
 * lock.h -- gentcp's mutexes with their place in the lock order.
 *
 * Every lock has a rank; a thread may take a lock only while every lock it
 * holds has a lower rank (docs/DESIGN.md, "Threading and locking rules",
 * gives each pairing and where it happens).  Two locks of one rank are
 * never held together.  Built with -DGT_LOCK_DEBUG (the asan and tsan
 * variants), each thread keeps the ranks it holds and a lock taken out of
 * order aborts with both places; so does parking with a lock held (a
 * coroutine switched out while holding a mutex deadlocks its thread).
 * Without it the wrappers are the bare lock calls.
 *
 * The mutex is a 4-byte futex word, not a pthread_mutex_t (40 bytes):
 * every process carries two and every socket one, and an idle server
 * holds thousands of each (issue 11).  Uncontended it is one CAS to lock
 * and one exchange to unlock; contended it spins briefly, then sleeps on
 * a private futex.  The acquire/release orders of those atomics are the
 * happens-before edges (TSan sees them as such).  The two locks a
 * condition variable waits on stay pthread mutexes (gt__cvlock).
 */
#ifndef GT_LOCK_H
#define GT_LOCK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* 0: free; 1: held; 2: held, and a thread may sleep on it (unlock wakes). */
typedef struct gt__mutex {
    _Atomic uint32_t v;
} gt__mutex;
#define GT__MUTEX_INIT {0}

void gt__mutex_lock_slow(gt__mutex *m); /* lock.c: spin, then futex wait */
void gt__mutex_wake(gt__mutex *m);      /* lock.c: futex wake of one     */

static inline void gt__mutex_init(gt__mutex *m) { atomic_init(&m->v, 0); }

static inline void gt__mutex_lock(gt__mutex *m)
{
    uint32_t free_ = 0;
    if (!atomic_compare_exchange_strong_explicit(&m->v, &free_, 1, memory_order_acquire,
                                                 memory_order_relaxed))
        gt__mutex_lock_slow(m);
}

static inline void gt__mutex_unlock(gt__mutex *m)
{
    if (atomic_exchange_explicit(&m->v, 0, memory_order_release) == 2)
        gt__mutex_wake(m);
}

/* The order, outermost first.  The last three are leaves: nothing is
 * taken while one is held. */
enum {
    GT__LK_SOCK = 1, /* a socket (socket/sock.h)                          */
    GT__LK_PLOCK,    /* a process: owned resources, monitors, exiting      */
    GT__LK_PLOCK2,   /* a second process, taken after the first in pid
                        order (gt_link, gt_unlink: runtime/links.c)        */
    GT__LK_NAMES,    /* the registered-names table (runtime/names.c)       */
    GT__LK_SIGNALS,  /* signal subscriptions (runtime/signals.c)           */
    GT__LK_MBOX,     /* a mailbox                                          */
    GT__LK_STOP,     /* gt_stop's stopper (runtime/lifecycle.c)            */
    GT__LK_RESOLVE,  /* the resolver pool (socket/resolve.c)               */
    GT__LK_TLS_CACHE,/* a TLS client context's session cache (tls/ctx.c),
                        taken under a socket's lock by OpenSSL's callback */
    GT__LK_TLOCK,    /* an OS-thread process's park condition variable      */
    GT__LK_REMOTE,   /* a scheduler's remote queue and deferred calls       */
    GT__LK_IDMAP,    /* a handle table's writers (util/idmap.c)             */
};

/* The checks (always built, so that a test can call them in any build). */
void gt__lock_note(const void *lock, int rank, const char *where);
void gt__lock_forget(const void *lock);
int gt__lock_held(void); /* locks the calling thread holds */
void gt__lock_assert_none(const char *where);

#define GT__STR2(x) #x
#define GT__STR(x) GT__STR2(x)
#define GT__HERE __FILE__ ":" GT__STR(__LINE__)

/* gt__lock/gt__unlock take a gt__mutex; gt__cvlock/gt__cvunlock a
 * pthread_mutex_t that a condition variable waits on. */
#ifdef GT_LOCK_DEBUG
#define gt__lock(m, rank) (gt__lock_note((m), (rank), GT__HERE), gt__mutex_lock(m))
#define gt__unlock(m) (gt__lock_forget(m), gt__mutex_unlock(m))
#define gt__cvlock(m, rank) (gt__lock_note((m), (rank), GT__HERE), pthread_mutex_lock(m))
#define gt__cvunlock(m) (gt__lock_forget(m), pthread_mutex_unlock(m))
#define gt__rdlock(l, rank) (gt__lock_note((l), (rank), GT__HERE), pthread_rwlock_rdlock(l))
#define gt__wrlock(l, rank) (gt__lock_note((l), (rank), GT__HERE), pthread_rwlock_wrlock(l))
#define gt__rwunlock(l) (gt__lock_forget(l), pthread_rwlock_unlock(l))
#define gt__assert_no_lock() gt__lock_assert_none(GT__HERE)
#else
#define gt__lock(m, rank) gt__mutex_lock(m)
#define gt__unlock(m) gt__mutex_unlock(m)
#define gt__cvlock(m, rank) pthread_mutex_lock(m)
#define gt__cvunlock(m) pthread_mutex_unlock(m)
#define gt__rdlock(l, rank) pthread_rwlock_rdlock(l)
#define gt__wrlock(l, rank) pthread_rwlock_wrlock(l)
#define gt__rwunlock(l) pthread_rwlock_unlock(l)
#define gt__assert_no_lock() ((void)0)
#endif

#endif
