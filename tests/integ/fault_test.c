/*
 * fault_test.c -- the runtime survives the allocation failures it cannot
 * report: a timed wait whose timer cannot be registered (no memory for the
 * scheduler's timer heap) still ends at its deadline; an exit with no
 * memory left still tells its monitors.
 *
 * Linked with -Wl,--wrap=gt__timer_add,--wrap=gt__msg_new (see the
 * Makefile): the library's calls to them from other files reach the
 * __wrap_ functions below, which fail on demand, as malloc would.
 */
#include "helpers.h"
#include "runtime/runtime.h"

#include <stdatomic.h>

static atomic_int fail_timers, failed, fail_msgs;

int __real_gt__timer_add(gt__timers *t, gt__proc *p, int64_t deadline);
int __wrap_gt__timer_add(gt__timers *t, gt__proc *p, int64_t deadline);
gt_msg *__real_gt__msg_new(gt_msg_kind kind, size_t len);
gt_msg *__wrap_gt__msg_new(gt_msg_kind kind, size_t len);

int __wrap_gt__timer_add(gt__timers *t, gt__proc *p, int64_t deadline)
{
    if (atomic_load(&fail_timers)) {
        atomic_fetch_add(&failed, 1);
        return -1;
    }
    return __real_gt__timer_add(t, p, deadline);
}

gt_msg *__wrap_gt__msg_new(gt_msg_kind kind, size_t len)
{
    return atomic_load(&fail_msgs) ? NULL : __real_gt__msg_new(kind, len);
}

struct waiter {
    int rc;
    atomic_int done;
};

static void timed_receive(void *arg)
{
    struct waiter *w = arg;
    gt_msg *m = NULL;
    gt_sleep(100); /* the behaviour under test: a timed wait whose timer fails */
    w->rc = gt_receive(100, &m);
    atomic_store(&w->done, 1);
}

/* Issue 7 item 20: gt__park ignored a failed timer insert and parked with
 * nothing to wake it at the deadline: the wait lasted for ever. */
GT_TEST(i7_20_timed_wait_ends_without_a_timer)
{
    static struct waiter w;
    atomic_store(&fail_timers, 1);
    h_spawn(timed_receive, &w);
    int64_t end = h_now_ms() + H_WAIT;
    while (!atomic_load(&w.done) && h_now_ms() < end)
        h_msleep(5);
    atomic_store(&fail_timers, 0);
    ASSERT(atomic_load(&failed) > 0); /* the fault did happen */
    if (!atomic_load(&w.done))
        gt_test_fail(__FILE__, __LINE__, "a 200 ms timed wait still waits after %d ms", H_WAIT);
    ASSERT_ERR(w.rc, GT_ETIMEOUT);
}

static void exit_on_flag(void *arg)
{
    atomic_int *go = arg;
    for (int i = 0; i < 1000 && !atomic_load(go); i++)
        gt_sleep(5);
}

/* Found looking for item 20's kind of mistake: the exit allocated each
 * DOWN message and dropped it when malloc failed, so a watcher waited for
 * ever.  The message is now allocated by gt_monitor (which can report
 * enomem). */
GT_TEST(i7_20_down_arrives_without_memory_at_exit)
{
    static atomic_int go;
    gt_pid pid = h_spawn(exit_on_flag, &go);
    ASSERT_OK(gt_monitor(pid));
    atomic_store(&fail_msgs, 1);
    atomic_store(&go, 1);
    for (int64_t end = h_now_ms() + H_WAIT; gt_is_alive(pid) && h_now_ms() < end;)
        h_msleep(5);
    atomic_store(&fail_msgs, 0);
    ASSERT(!gt_is_alive(pid));
    gt_msg *m = NULL;
    ASSERT_OK(gt_receive_match(h_match_down, &pid, H_WAIT, &m));
    ASSERT(gt_pid_eq(m->from, pid));
    gt_msg_free(m);
}
