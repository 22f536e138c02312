/*
 * cpus.c -- how many scheduler threads the machine really gives us.
 *
 * Online cores are the wrong default inside `taskset -c 0` or a container
 * with a CPU quota: two schedulers on one allowed core (or on half a core's
 * worth of quota) only take turns, and each one's idle spinning steals the
 * other's time.  Erlang counts the affinity mask for the same reason.  The
 * budget is the smallest of: online cores, the cores in our affinity mask,
 * and the CPU quota of our cgroup and each of its ancestors, rounded up
 * (cgroup v2 cpu.max, v1 cpu.cfs_quota_us / cpu.cfs_period_us).
 */
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#include "runtime/runtime.h"

/* ceil(quota / period) from one cgroup directory, or INT_MAX for none. */
static int quota_in_dir(const char *dir, bool v2)
{
    char path[PATH_MAX + 32]; /* dir is at most PATH_MAX */
    long long quota = -1, period = 0;
    if (v2) {
        snprintf(path, sizeof path, "%s/cpu.max", dir);
        FILE *f = fopen(path, "r");
        if (!f)
            return INT_MAX;
        char q[32] = "";
        if (fscanf(f, "%31s %lld", q, &period) == 2 && strcmp(q, "max") != 0)
            quota = atoll(q);
        fclose(f);
    } else {
        snprintf(path, sizeof path, "%s/cpu.cfs_quota_us", dir);
        FILE *f = fopen(path, "r");
        if (!f)
            return INT_MAX;
        if (fscanf(f, "%lld", &quota) != 1)
            quota = -1;
        fclose(f);
        snprintf(path, sizeof path, "%s/cpu.cfs_period_us", dir);
        if ((f = fopen(path, "r"))) {
            if (fscanf(f, "%lld", &period) != 1)
                period = 0;
            fclose(f);
        }
    }
    if (quota <= 0 || period <= 0)
        return INT_MAX;
    long long n = (quota + period - 1) / period;
    return n > INT_MAX ? INT_MAX : (int)n;
}

/* The smallest quota from our cgroup up to the root of its hierarchy. */
static int quota_in_tree(const char *mount, const char *cgpath, bool v2)
{
    char dir[PATH_MAX];
    if (snprintf(dir, sizeof dir, "%s%s", mount, cgpath) >= (int)sizeof dir)
        return INT_MAX;
    size_t root = strlen(mount);
    int best = INT_MAX;
    for (;;) {
        int q = quota_in_dir(dir, v2);
        if (q < best)
            best = q;
        char *slash = strrchr(dir, '/');
        if (!slash || (size_t)(slash - dir) < root)
            break;
        *slash = '\0';
    }
    return best;
}

/* The mount point of the cgroup hierarchy holding the cpu controller (v1,
 * "cpu" among the super options) or of cgroup2; empty if none. */
static void cgroup_mount(bool v2, char *out, size_t cap)
{
    out[0] = '\0';
    FILE *f = fopen("/proc/self/mountinfo", "r");
    if (!f)
        return;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        /* id parent major:minor root mountpoint opts ... - fstype src superopts */
        char mnt[512], fstype[64], super[256];
        const char *dash = strstr(line, " - ");
        if (!dash || sscanf(line, "%*s %*s %*s %*s %511s", mnt) != 1 ||
            sscanf(dash + 3, "%63s %*s %255s", fstype, super) != 2)
            continue;
        bool match = false;
        if (v2) {
            match = strcmp(fstype, "cgroup2") == 0;
        } else if (strcmp(fstype, "cgroup") == 0) {
            char *save = NULL;
            for (char *tok = strtok_r(super, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
                match |= strcmp(tok, "cpu") == 0;
        }
        if (match) {
            snprintf(out, cap, "%s", mnt);
            break;
        }
    }
    fclose(f);
}

static int cgroup_quota(void)
{
    FILE *f = fopen("/proc/self/cgroup", "r");
    if (!f)
        return INT_MAX;
    char line[1024], mount[512];
    int best = INT_MAX;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        /* hierarchy-id:controllers:path */
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c2 = '\0';
        const char *controllers = c1 + 1, *path = c2 + 1;
        bool v2 = strcmp(line, "0") == 0 && *controllers == '\0';
        bool v1cpu = false;
        char ctl[256];
        snprintf(ctl, sizeof ctl, "%s", controllers);
        char *save = NULL;
        for (char *tok = strtok_r(ctl, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
            v1cpu |= strcmp(tok, "cpu") == 0;
        if (!v2 && !v1cpu)
            continue;
        cgroup_mount(v2, mount, sizeof mount);
        if (!mount[0])
            continue;
        int q = quota_in_tree(mount, strcmp(path, "/") == 0 ? "" : path, v2);
        if (q < best)
            best = q;
    }
    fclose(f);
    return best;
}

int gt__cpu_budget(void)
{
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    int n = online > 0 && online < INT_MAX ? (int)online : 1;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0 && CPU_COUNT(&set) < n)
        n = CPU_COUNT(&set);
    int q = cgroup_quota();
    if (q < n)
        n = q;
    return n < 1 ? 1 : n;
}

/* ---- a CPU to spare, now ----
 *
 * A second scheduler serves more only when there is a CPU for it to run
 * on.  On a box whose cores the program already shares with others (a
 * client on the same machine, say), a process moved to the second
 * scheduler waits for that thread to get a core back, and each sleep and
 * wake of it costs more than the work it took over: on 2 cores with the
 * load generator beside the server, rr1k spread over two schedulers ran
 * at the rate of one for ~1 us more server CPU per echo (issue 11, rr7).
 * So the balancer asks the machine: the idle share of all CPUs over the
 * last SPARE_SAMPLE_NS, from /proc/stat.  Its counters tick at 100 Hz,
 * hence a sample of 100 ms (20 ticks on 2 cores).  No /proc: always a CPU
 * to spare (the balance as it was). */
#define SPARE_SAMPLE_NS 100000000
/* A pair of samples further apart says nothing about now. */
#define SPARE_STALE_NS (4 * (int64_t)SPARE_SAMPLE_NS)

bool (*_Atomic gt__cpu_spare_hook)(void);

static atomic_llong spare_at = -SPARE_STALE_NS; /* ns: the last sample     */
static atomic_bool spare = true;                /* its verdict            */
static atomic_flag sampling = ATOMIC_FLAG_INIT; /* one sampler at a time  */
static unsigned long long last_idle, last_total; /* the last sample (the
                                                    sampler's only) */
static int stat_fd = -1;                         /* /proc/stat, kept open
                                                    for the process's life
                                                    (one fd, as a ring)   */
static long ncpu;                                /* online CPUs, at the
                                                    first sample          */

/* Idle and total ticks of all CPUs, or false. */
static bool read_stat(unsigned long long *idle, unsigned long long *total)
{
    if (stat_fd < 0 && (stat_fd = open("/proc/stat", O_RDONLY | O_CLOEXEC)) < 0)
        return false;
    char buf[256];
    ssize_t n = pread(stat_fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    unsigned long long f[8] = {0};
    if (sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &f[0], &f[1], &f[2], &f[3],
               &f[4], &f[5], &f[6], &f[7]) < 5)
        return false;
    *idle = f[3] + f[4]; /* idle + iowait */
    *total = 0;
    for (int i = 0; i < 8; i++)
        *total += f[i];
    return true;
}

bool gt__cpu_spare(int64_t now)
{
    bool (*hook)(void) = atomic_load_explicit(&gt__cpu_spare_hook, memory_order_relaxed);
    if (hook)
        return hook();
    int64_t at = atomic_load_explicit(&spare_at, memory_order_relaxed);
    if (now - at < SPARE_SAMPLE_NS || atomic_flag_test_and_set(&sampling))
        return atomic_load_explicit(&spare, memory_order_relaxed);
    /* another sampler may have finished between the two: its sample is
     * the one to measure from */
    at = atomic_load_explicit(&spare_at, memory_order_relaxed);
    if (now - at < SPARE_SAMPLE_NS) {
        atomic_flag_clear(&sampling);
        return atomic_load_explicit(&spare, memory_order_relaxed);
    }
    unsigned long long idle, total;
    if (!ncpu) { /* sysconf reads sysfs: a few system calls, once */
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        ncpu = n > 0 ? n : 1;
    }
    if (!read_stat(&idle, &total)) {
        atomic_store_explicit(&spare, true, memory_order_relaxed);
        atomic_store_explicit(&spare_at, INT64_MAX / 2, memory_order_relaxed); /* never again */
    } else {
        /* at least half a CPU idle: idle/total of the machine's ncpu */
        if (now - at < SPARE_STALE_NS && total > last_total) {
            unsigned long long di = idle - last_idle, dt = total - last_total;
            atomic_store_explicit(&spare, 2 * di * (unsigned long long)ncpu >= dt,
                                  memory_order_relaxed);
        }
        last_idle = idle;
        last_total = total;
        atomic_store_explicit(&spare_at, now, memory_order_relaxed);
    }
    atomic_flag_clear(&sampling);
    return atomic_load_explicit(&spare, memory_order_relaxed);
}
