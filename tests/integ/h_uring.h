/*
 * h_uring.h -- what the io_uring batch tests (uring_test.c, the sends;
 * uring_read_test.c, the reads) share: whether a run batches, and the
 * re-run of a program's tests with a batch turned off.
 */
#ifndef GT_INTEG_H_URING_H
#define GT_INTEG_H_URING_H

#include <linux/io_uring.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "helpers.h"

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

/* NAME=0 in the environment: the switch is off. */
static inline bool h_env_off(const char *name)
{
    const char *env = getenv(name);
    return env && *env && atoi(env) == 0;
}

/* Whether this run batches sends: GT_IO_URING=0 turns it off, and a
 * kernel (or a valgrind) without io_uring has it off. */
static inline bool h_uring_expected(void)
{
    if (h_env_off("GT_IO_URING"))
        return false;
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    int fd = (int)syscall(__NR_io_uring_setup, 4, &p);
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

/* Whether this run batches reads too: GT_IO_URING(_READS)=0 turns them
 * off; so do a kernel without io_uring and valgrind (memcheck does not
 * see the kernel's writes through the ring). */
static inline bool h_uring_reads_expected(void)
{
    return h_uring_expected() && !h_env_off("GT_IO_URING_READS") && !RUNNING_ON_VALGRIND;
}

/* Runs this program again with var=0 and the named tests (a NULL-ended
 * list): the same tests with that batch off.  Skips, saying why, in the
 * run that already has it off and under valgrind (where /proc/self/exe is
 * the tool, whose name does not contain prog). */
static inline void h_rerun_with_off(const char *prog, const char *var, const char *const *tests)
{
    if (h_env_off(var))
        gt_test_skip("this is the run with the batch off");
    char exe[4096];
    ssize_t el = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[el > 0 ? el : 0] = 0;
    if (!strstr(exe, prog))
        gt_test_skip("the program is not the test (under valgrind: its tool), no re-run");
    const char *argv[32] = {prog};
    size_t n = 1;
    while (tests[n - 1] && n < 31) {
        argv[n] = tests[n - 1];
        n++;
    }
    argv[n] = NULL;
    fflush(NULL);
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        setenv(var, "0", 1);
        int out = open("/dev/null", O_WRONLY);
        if (out >= 0)
            dup2(out, STDOUT_FILENO); /* the runner reads the first line */
        execv(exe, (char *const *)argv);
        _exit(127);
    }
    int st = 0;
    ASSERT(waitpid(pid, &st, 0) == pid);
    ASSERT(WIFEXITED(st));
    ASSERT_EQ(WEXITSTATUS(st), 0);
}

#endif
