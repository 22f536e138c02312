/*
 * init_test.c -- gt_init()'s configuration against the environment (issue
 * 8): a field set in the config wins over GT_SCHEDULERS; the environment
 * replaces only a default.  The scheduler count is observed as the threads
 * gt_init() starts (each test runs in its own forked child, where the
 * runtime has not started yet).
 */
#include <dirent.h>

#include "helpers.h"

static int thread_count(void)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        SKIP("no /proc/self/task to count threads");
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

GT_TEST(i8_config_wins_over_environment)
{
    ASSERT(setenv("GT_SCHEDULERS", "3", 1) == 0);
    int before = thread_count();
    ASSERT_OK(gt_init(&(gt_config){.schedulers = 2}));
    ASSERT_EQ(thread_count() - before, 2);
}

GT_TEST(i8_environment_replaces_default)
{
    ASSERT(setenv("GT_SCHEDULERS", "3", 1) == 0);
    int before = thread_count();
    ASSERT_OK(gt_init(&(gt_config){.spin_us = -1}));
    ASSERT_EQ(thread_count() - before, 3);
}

GT_TEST(i8_init_twice_is_ealready)
{
    ASSERT_OK(gt_init(NULL));
    ASSERT_ERR(gt_init(NULL), -EALREADY);
}
