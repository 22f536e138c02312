/*
 * runner.c -- runs the tests registered with GT_TEST in this binary, each in
 * its own forked child so that a crash or a hang fails one test, not the
 * run.  Usage: TEST [NAME-SUBSTRING...].  Per-test timeout: GT_TEST_TIMEOUT
 * seconds (default 60).  Exit status: 0 if nothing failed.
 */
#include "test.h"

#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SKIP_STATUS 77

/* The registry grows as constructors register tests: no slot limit.  A test
 * that cannot be registered (out of memory) is counted and fails the run. */
static struct test {
    const char *name, *file;
    gt_test_fn fn;
} *tests;
static int ntests, cap, lost;

void gt_test_register(const char *name, gt_test_fn fn, const char *file)
{
    if (ntests == cap) {
        int ncap = cap ? 2 * cap : 64;
        struct test *t = realloc(tests, (size_t)ncap * sizeof *t);
        if (!t) {
            lost++;
            return;
        }
        tests = t;
        cap = ncap;
    }
    tests[ntests].name = name;
    tests[ntests].file = file;
    tests[ntests].fn = fn;
    ntests++;
}

void gt_test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "  %s:%d: ", file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fflush(stderr);
    _exit(1);
}

void gt_test_skip(const char *why)
{
    fprintf(stderr, "  skip reason: %s\n", why);
    printf("%s\n", why);
    fflush(stdout);
    _exit(SKIP_STATUS);
}

static const char *base(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static int selected(int argc, char **argv, const char *name)
{
    if (argc < 2)
        return 1;
    for (int i = 1; i < argc; i++)
        if (strstr(name, argv[i]))
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    int timeout = getenv("GT_TEST_TIMEOUT") ? atoi(getenv("GT_TEST_TIMEOUT")) : 60;
    int passed = 0, failed = 0, skipped = 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (lost) {
        printf("FAIL runner: %d tests could not be registered (out of memory)\n", lost);
        return 1;
    }
    for (int i = 0; i < ntests; i++) {
        if (!selected(argc, argv, tests[i].name))
            continue;
        int pipefd[2];
        if (pipe(pipefd) != 0)
            return 2;
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            close(pipefd[0]);
            dup2(pipefd[1], STDOUT_FILENO);
            alarm((unsigned)timeout);
            tests[i].fn();
            fflush(NULL);
            _exit(0);
        }
        close(pipefd[1]);
        char why[256] = "";
        ssize_t n = read(pipefd[0], why, sizeof why - 1);
        char rest[512];
        while (read(pipefd[0], rest, sizeof rest) > 0) {
        }
        close(pipefd[0]);
        why[n > 0 ? n : 0] = 0;
        why[strcspn(why, "\n")] = 0;
        int st = 0;
        waitpid(pid, &st, 0);
        const char *f = base(tests[i].file);
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
            printf("ok %s:%s\n", f, tests[i].name);
            passed++;
        } else if (WIFEXITED(st) && WEXITSTATUS(st) == SKIP_STATUS) {
            printf("skip %s:%s: %s\n", f, tests[i].name, why);
            skipped++;
        } else {
            if (WIFSIGNALED(st))
                printf("FAIL %s:%s: killed by signal %d%s\n", f, tests[i].name,
                       WTERMSIG(st), WTERMSIG(st) == SIGALRM ? " (timeout)" : "");
            else
                printf("FAIL %s:%s: exit %d\n", f, tests[i].name, WEXITSTATUS(st));
            failed++;
        }
    }
    printf("# %d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed ? 1 : 0;
}
