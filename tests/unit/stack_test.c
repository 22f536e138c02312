/*
 * stack_test.c -- process stacks (src/runtime/stack.c): sizes rounded to
 * pages with a floor, a guard page below that faults, and a scheduler's
 * small pool that reuses default-size stacks only.
 */
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/runtime.h"
#include "runtime/sched.h"
#include "../test.h"

static gt__sched sched; /* only its stack pool is used */

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
