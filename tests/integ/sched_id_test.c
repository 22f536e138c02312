/*
 * sched_id_test.c -- gt_scheduler_id() (erlang:system_info(scheduler_id)):
 * the scheduler the caller runs on, so that a process can start another
 * beside itself without waking a second scheduler (gtcat listen's
 * acceptors; issue 11).
 */
#include "helpers.h"

static gt_pid parent;

static void report_id(void *arg)
{
    (void)arg;
    h_post_int(parent, H_TAG_DONE, gt_scheduler_id());
}

/* The test's main thread and an os_thread process are not schedulers. */
GT_TEST(i11_scheduler_id_off_a_scheduler_is_0)
{
    ASSERT(gt_schedulers() > 0);
    ASSERT_EQ(gt_scheduler_id(), 0);
    parent = gt_self();
    gt_spawn_opts o = {.os_thread = true};
    ASSERT_OK(gt_spawn(report_id, NULL, &o, NULL));
    ASSERT_EQ(h_wait_int(H_TAG_DONE, 10000), 0);
}

/* A process pinned to scheduler k runs there, and says so. */
GT_TEST(i11_scheduler_id_of_a_pinned_process)
{
    parent = gt_self();
    int n = gt_schedulers();
    for (int k = 1; k <= n && k <= 8; k++) {
        gt_spawn_opts o = {.scheduler = k};
        ASSERT_OK(gt_spawn(report_id, NULL, &o, NULL));
        ASSERT_EQ(h_wait_int(H_TAG_DONE, 10000), k);
    }
}
