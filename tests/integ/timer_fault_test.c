/*
 * timer_fault_test.c -- a timed wait whose timer cannot be registered
 * (no memory for the scheduler's timer heap) still ends at its deadline.
 *
 * Linked with -Wl,--wrap=gt__timer_add (see the Makefile): the library's
 * calls to gt__timer_add reach __wrap_gt__timer_add below, which fails on
 * demand, as the heap's realloc would.
 */
#include "helpers.h"
#include "runtime/runtime.h"

#include <stdatomic.h>

static atomic_int fail_timers, failed;

int __real_gt__timer_add(gt__timers *t, gt__proc *p, int64_t deadline);
int __wrap_gt__timer_add(gt__timers *t, gt__proc *p, int64_t deadline);

int __wrap_gt__timer_add(gt__timers *t, gt__proc *p, int64_t deadline)
{
    if (atomic_load(&fail_timers)) {
        atomic_fetch_add(&failed, 1);
        return -1;
    }
    return __real_gt__timer_add(t, p, deadline);
}

struct waiter {
    int rc;
    atomic_int done;
};

static void timed_receive(void *arg)
{
    struct waiter *w = arg;
    gt_msg *m = NULL;
    gt_sleep(100);
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
