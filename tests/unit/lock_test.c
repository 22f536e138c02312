/*
 * lock_test.c -- the lock-order checks (src/util/lock.h, issue 8 item 6):
 * a lock taken while one of its rank or a later one is held aborts, so
 * does a lock taken twice and a park with a lock held; locks taken in
 * order and released in any order do not.  Each case runs in a child
 * process, which must die of SIGABRT or exit 0.  The last case checks
 * that the library's own locks are checked in a GT_LOCK_DEBUG build.
 */
#include "util/lock.h"
#include "../test.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static int locks[4]; /* stand-ins: the checks only compare addresses */

/* Runs fn in a child with stderr muted; returns its wait status. */
static int in_child(void (*fn)(void))
{
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, 2);
        fn();
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return status;
}

static bool aborted(int status) { return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT; }
static bool exited_ok(int status) { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }

static void in_order(void)
{
    gt__lock_note(&locks[0], GT__LK_SOCK, "a");
    gt__lock_note(&locks[1], GT__LK_PLOCK, "b");
    gt__lock_note(&locks[2], GT__LK_MBOX, "c");
    gt__lock_forget(&locks[1]); /* not LIFO */
    gt__lock_note(&locks[3], GT__LK_REMOTE, "d");
    gt__lock_forget(&locks[3]);
    gt__lock_forget(&locks[0]);
    gt__lock_forget(&locks[2]);
    if (gt__lock_held() != 0)
        _exit(1);
    gt__lock_assert_none("e");
}

static void out_of_order(void)
{
    gt__lock_note(&locks[0], GT__LK_MBOX, "a");
    gt__lock_note(&locks[1], GT__LK_SOCK, "b");
}

static void same_rank(void)
{
    gt__lock_note(&locks[0], GT__LK_SOCK, "a");
    gt__lock_note(&locks[1], GT__LK_SOCK, "b");
}

static void twice(void)
{
    gt__lock_note(&locks[0], GT__LK_PLOCK, "a");
    gt__lock_note(&locks[0], GT__LK_PLOCK, "b");
}

static void park_holding(void)
{
    gt__lock_note(&locks[0], GT__LK_SOCK, "a");
    gt__lock_assert_none("park");
}

GT_TEST(i8_06_lock_order_in_order_passes)
{
    ASSERT(exited_ok(in_child(in_order)));
}

GT_TEST(i8_06_lock_order_violations_abort)
{
    ASSERT(aborted(in_child(out_of_order)));
    ASSERT(aborted(in_child(same_rank)));
    ASSERT(aborted(in_child(twice)));
    ASSERT(aborted(in_child(park_holding)));
}

/* A mailbox lock taken by gt_post while a handle-table lock (a leaf) is
 * held: the library's wrappers must catch it. */
static void library_out_of_order(void)
{
    gt_pid self = gt_self();
    gt__lock_note(&locks[0], GT__LK_IDMAP, "leaf");
    gt_post(self, 1, NULL, 0);
}

GT_TEST(i8_06_library_locks_are_checked)
{
#ifdef GT_LOCK_DEBUG
    ASSERT(aborted(in_child(library_out_of_order)));
#else
    (void)library_out_of_order;
    SKIP("lock checks are built only with -DGT_LOCK_DEBUG (VARIANT=asan, tsan)");
#endif
}

/* ---- issue 11: the 4-byte futex mutex ---- */

#define MUTEX_THREADS 4
#define MUTEX_ROUNDS 20000

static gt__mutex counted = GT__MUTEX_INIT;
static long counter; /* plain: only the mutex orders its updates (TSan checks) */

static void *count_under_lock(void *arg)
{
    (void)arg;
    for (int i = 0; i < MUTEX_ROUNDS; i++) {
        gt__mutex_lock(&counted);
        long v = counter;
        if (i % 64 == 0)
            sched_yield(); /* hold it across a yield now and then: the others
                              reach the futex sleep, and the wake path runs */
        counter = v + 1;
        gt__mutex_unlock(&counted);
    }
    return NULL;
}

GT_TEST(i11_mutex_is_four_bytes_and_excludes)
{
    ASSERT_EQ(sizeof(gt__mutex), 4);
    pthread_t t[MUTEX_THREADS];
    for (int i = 0; i < MUTEX_THREADS; i++)
        ASSERT_EQ(pthread_create(&t[i], NULL, count_under_lock, NULL), 0);
    for (int i = 0; i < MUTEX_THREADS; i++)
        pthread_join(t[i], NULL);
    ASSERT_EQ(counter, (long)MUTEX_THREADS * MUTEX_ROUNDS);
    ASSERT_EQ(atomic_load(&counted.v), 0); /* left free, no sleeper mark */
}
