/*
 * cpus_test.c -- the default number of schedulers follows what the process
 * may really use: its affinity mask (taskset) and its cgroup's CPU quota
 * (a container's --cpus), not the machine's online cores (issue 10, item 5).
 * Each test runs in a fresh child, before anything starts the runtime.
 */
#include "helpers.h"

#include <sched.h>
#include <sys/stat.h>

GT_TEST(cpus_default_is_affinity_and_online)
{
    unsetenv("GT_SCHEDULERS");
    cpu_set_t set;
    ASSERT_OK(sched_getaffinity(0, sizeof set, &set));
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    int want = CPU_COUNT(&set) < online ? CPU_COUNT(&set) : (int)online;
    int n = gt_schedulers();
    ASSERT(n >= 1 && n <= want); /* a cgroup quota may lower it further */
}

GT_TEST(cpus_taskset_one_core_gives_one_scheduler)
{
    unsetenv("GT_SCHEDULERS");
    cpu_set_t set, one;
    ASSERT_OK(sched_getaffinity(0, sizeof set, &set));
    CPU_ZERO(&one);
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &set)) {
            CPU_SET(c, &one);
            break;
        }
    ASSERT_OK(sched_setaffinity(0, sizeof one, &one));
    ASSERT_EQ(gt_schedulers(), 1);
    /* and the runtime works on it */
    gt_socket l, c, a;
    h_pair(GT_OPTS(GT_ACTIVE_FALSE), GT_OPTS(GT_ACTIVE_FALSE), &l, &c, &a);
    h_send(c, "one core");
    h_recv_all(a, "one core", 8);
    gt_close(c);
    gt_close(a);
    gt_close(l);
}

/* Writes s to path; false if that cannot be done. */
static bool put(const char *path, const char *s)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    bool ok = fputs(s, f) >= 0;
    return fclose(f) == 0 && ok;
}

/* A cgroup v1 cpu controller (or cgroup2) child with half a CPU of quota;
 * needs root and a writable cgroup filesystem, else the test says why. */
GT_TEST(cpus_cgroup_quota_half_cpu_gives_one_scheduler)
{
    unsetenv("GT_SCHEDULERS");
    char dir[128], file[192], pid[32];
    snprintf(pid, sizeof pid, "%d\n", (int)getpid());
    const char *v1 = "/sys/fs/cgroup/cpu", *v2 = "/sys/fs/cgroup";
    bool is_v1 = access("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", F_OK) == 0;
    if (!is_v1 && access("/sys/fs/cgroup/cgroup.controllers", F_OK) != 0)
        SKIP("no cgroup cpu controller mounted at /sys/fs/cgroup");
    snprintf(dir, sizeof dir, "%s/gentcp_cpus_test_%d", is_v1 ? v1 : v2, (int)getpid());
    if (mkdir(dir, 0755) != 0)
        SKIP("cannot create a cgroup (needs root and a writable cgroup filesystem)");
    bool ok;
    if (is_v1) {
        snprintf(file, sizeof file, "%s/cpu.cfs_period_us", dir);
        ok = put(file, "100000\n");
        snprintf(file, sizeof file, "%s/cpu.cfs_quota_us", dir);
        ok = ok && put(file, "50000\n");
        snprintf(file, sizeof file, "%s/cgroup.procs", dir);
    } else {
        snprintf(file, sizeof file, "%s/cpu.max", dir);
        ok = put(file, "50000 100000\n");
        snprintf(file, sizeof file, "%s/cgroup.procs", dir);
    }
    ok = ok && put(file, pid);
    int n = ok ? gt_schedulers() : -1;
    /* back to the parent group, so that the directory can go */
    snprintf(file, sizeof file, "%s/cgroup.procs", is_v1 ? v1 : v2); /* every thread */
    put(file, pid);
    int removed = rmdir(dir); /* nothing of the test may stay behind */
    if (removed != 0)
        gt_test_fail(__FILE__, __LINE__, "could not remove %s: %s", dir, strerror(errno));
    if (!ok)
        SKIP("cannot set a CPU quota on a new cgroup or join it");
    ASSERT_EQ(n, 1);
}

/* An explicit configuration still wins over the budget. */
GT_TEST(cpus_config_wins)
{
    unsetenv("GT_SCHEDULERS");
    gt_config cfg = {.schedulers = 3};
    ASSERT_OK(gt_init(&cfg));
    ASSERT_EQ(gt_schedulers(), 3);
}
