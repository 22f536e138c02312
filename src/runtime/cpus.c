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
