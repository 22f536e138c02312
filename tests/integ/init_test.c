/*
 * init_test.c -- gt_init()'s configuration against the environment (issue
 * 8): a field set in the config wins over GT_SCHEDULERS; the environment
 * replaces only a default.  The scheduler count is observed through
 * pinning: a process pinned to scheduler k runs on that scheduler's thread
 * when k <= the count, and on one of the others otherwise (each test runs
 * in its own forked child, where the runtime has not started yet).
 */
#include <sys/syscall.h>
#include <unistd.h>

#include "helpers.h"

static void report_tid(void *arg)
{
    gt_pid *parent = arg;
    h_post_int(*parent, H_TAG_DONE, (int)syscall(SYS_gettid));
}

/* The OS thread a process pinned to scheduler k runs on. */
static int tid_of_scheduler(int k)
{
    gt_pid self = gt_self(), pid;
    gt_spawn_opts pin = {.scheduler = k};
    ASSERT_OK(gt_spawn(report_tid, &self, &pin, &pid));
    return h_wait_int(H_TAG_DONE, H_WAIT);
}

GT_TEST(i8_config_wins_over_environment)
{
    ASSERT(setenv("GT_SCHEDULERS", "3", 1) == 0);
    ASSERT_OK(gt_init(&(gt_config){.schedulers = 2}));
    int t1 = tid_of_scheduler(1), t2 = tid_of_scheduler(2), t3 = tid_of_scheduler(3);
    ASSERT(t1 != t2);
    ASSERT(t3 == t1 || t3 == t2); /* no third scheduler */
}

GT_TEST(i8_environment_replaces_default)
{
    ASSERT(setenv("GT_SCHEDULERS", "3", 1) == 0);
    ASSERT_OK(gt_init(&(gt_config){.spin_us = -1}));
    int t1 = tid_of_scheduler(1), t2 = tid_of_scheduler(2), t3 = tid_of_scheduler(3);
    ASSERT(t1 != t2 && t2 != t3 && t1 != t3);
}

GT_TEST(i8_init_twice_is_ealready)
{
    ASSERT_OK(gt_init(NULL));
    ASSERT_ERR(gt_init(NULL), -EALREADY);
}
