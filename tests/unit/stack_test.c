/*
 * stack_test.c -- process stacks (src/runtime/stack.c): sizes rounded to
 * pages with a floor, a guard page below that faults, a scheduler's
 * small pool that reuses default-size stacks only, and the bounded spare
 * set through which one scheduler's freed stacks serve another (issue 11).
 */
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/runtime.h"
#include "runtime/sched.h"
#include "../test.h"

static gt__sched sched, other; /* only their stack pools are used */

GT_TEST(stack_sizes_round_to_pages)
{
    size_t ps = (size_t)sysconf(_SC_PAGESIZE);
    gt__stack st;
    ASSERT_OK(gt__stack_alloc(NULL, 1, &st));
    ASSERT_EQ(st.size, 4 * ps); /* the floor */
    ASSERT_EQ((uintptr_t)st.base % ps, 0);
    memset(st.base, 0xab, st.size); /* all of it usable */
    gt__stack_free(NULL, &st);
    ASSERT(st.base == NULL);
    ASSERT_OK(gt__stack_alloc(NULL, 10 * ps + 1, &st));
    ASSERT_EQ(st.size, 11 * ps);
    gt__stack_free(NULL, &st);
    gt__stack_free(NULL, &st); /* freed: a no-op */
}

GT_TEST(stack_guard_page_faults)
{
    gt__stack st;
    ASSERT_OK(gt__stack_alloc(NULL, 0, &st));
    fflush(NULL);
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        ((volatile char *)st.base)[-1] = 1; /* the guard page */
        _exit(0);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT(!(WIFEXITED(status) && WEXITSTATUS(status) == 0)); /* it did not survive */
    gt__stack_free(NULL, &st);
}

GT_TEST(stack_pool_reuses_default_size_only)
{
    ASSERT_OK(gt_init(NULL)); /* sets the default size */
    size_t def = gt__default_stack_size();
    ASSERT(def > 0);
    gt__stack a, b, c;
    ASSERT_OK(gt__stack_alloc(&sched, def, &a));
    void *base = a.base;
    gt__stack_free(&sched, &a);
    ASSERT_EQ(sched.npool, 1);
    ASSERT_OK(gt__stack_alloc(&sched, def, &b));
    ASSERT(b.base == base); /* the pooled one */
    ASSERT_EQ(sched.npool, 0);
    ASSERT_OK(gt__stack_alloc(&sched, def * 2, &c));
    gt__stack_free(&sched, &c); /* not the default size: unmapped */
    ASSERT_EQ(sched.npool, 0);
    gt__stack pool[GT__STACK_POOL + 2];
    for (int i = 0; i < GT__STACK_POOL + 2; i++)
        ASSERT_OK(gt__stack_alloc(&sched, def, &pool[i]));
    for (int i = 0; i < GT__STACK_POOL + 2; i++)
        gt__stack_free(&sched, &pool[i]);
    ASSERT_EQ(sched.npool, GT__STACK_POOL); /* bounded: the rest went back */
    gt__stack_free(NULL, &b);
    while (sched.npool > 0) {
        gt__stack st = sched.pool[--sched.npool];
        gt__stack_free(NULL, &st);
    }
}

/* Frees to the kernel every stack the spare set holds. */
static void drain_spare(void)
{
    gt__sched empty = {0};
    gt__stack st;
    for (int i = 0; i < GT__STACK_SPARE && gt__stack_spare_count() > 0; i++) {
        ASSERT_OK(gt__stack_alloc(&empty, gt__default_stack_size(), &st));
        gt__stack_free(NULL, &st);
    }
    ASSERT_EQ(gt__stack_spare_count(), 0);
}

static void drain_pool(gt__sched *s)
{
    while (s->npool > 0) {
        gt__stack st = s->pool[--s->npool];
        gt__stack_free(NULL, &st);
    }
}

/* A process that starts on one scheduler and ends on another (an
 * acceptor's connection, a stolen process) leaves its stack where it ended:
 * what overflows that pool serves a scheduler whose pool is empty, with no
 * new mapping; the spare set is bounded and the rest is unmapped. */
GT_TEST(i11_stack_spare_serves_another_scheduler)
{
    ASSERT_OK(gt_init(NULL));
    size_t def = gt__default_stack_size();
    drain_spare();
    enum { N = GT__STACK_POOL + 3 };
    gt__stack st[N];
    for (int i = 0; i < N; i++)
        ASSERT_OK(gt__stack_alloc(NULL, def, &st[i]));
    void *over[3] = {st[N - 3].base, st[N - 2].base, st[N - 1].base};
    for (int i = 0; i < N; i++)
        gt__stack_free(&sched, &st[i]);
    ASSERT_EQ(sched.npool, GT__STACK_POOL);
    ASSERT_EQ(gt__stack_spare_count(), 3);
    gt__stack got;
    ASSERT_EQ(other.npool, 0);
    ASSERT_OK(gt__stack_alloc(&other, def, &got));
    ASSERT(got.base == over[0] || got.base == over[1] || got.base == over[2]);
    ASSERT_EQ(got.size, def);
    ASSERT_EQ(gt__stack_spare_count(), 2);
    memset(got.base, 0xcd, got.size); /* a whole, writable stack */
    gt__stack_free(&other, &got);
    ASSERT_EQ(other.npool, 1);
    /* bounded: with the pool and the spare set full, a freed stack goes
     * back to the kernel */
    enum { M = GT__STACK_SPARE + 5 };
    static gt__stack more[M];
    for (int i = 0; i < M; i++)
        ASSERT_OK(gt__stack_alloc(NULL, def, &more[i]));
    for (int i = 0; i < M; i++)
        gt__stack_free(&sched, &more[i]);
    ASSERT_EQ(sched.npool, GT__STACK_POOL);
    ASSERT_EQ(gt__stack_spare_count(), GT__STACK_SPARE);
    drain_spare();
    drain_pool(&sched);
    drain_pool(&other);
}
