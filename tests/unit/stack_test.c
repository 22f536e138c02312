/*
 * stack_test.c -- process stacks (src/runtime/stack.c): sizes rounded to
 * pages with a floor, a guard page below that faults, a scheduler's
 * small pool that reuses default-size stacks only, and the bounded spare
 * set through which one scheduler's freed stacks serve another (issue 11).
 */
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define RUNNING_ON_VALGRIND_ RUNNING_ON_VALGRIND
#else
#define RUNNING_ON_VALGRIND_ 0
#endif

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

/* Frees to the kernel every stack s caches or has waiting. */
static void drain_pool(gt__sched *s)
{
    while (s->npool > 0) {
        gt__stack st = s->pool[--s->npool];
        gt__stack_free(NULL, &st);
    }
    while (s->nunmap > 0) {
        gt__stack st = s->unmap[--s->nunmap];
        gt__stack_free(NULL, &st);
    }
}

static bool mapped(const void *p)
{
    unsigned char v;
    return mincore((void *)((uintptr_t)p & ~((uintptr_t)sysconf(_SC_PAGESIZE) - 1)),
                   1, &v) == 0;
}

/* An empty pool is refilled by one mmap of a slab of stacks; the pool
 * reuses default-size stacks only, last freed first. */
GT_TEST(stack_pool_reuses_default_size_only)
{
    ASSERT_OK(gt_init(NULL)); /* sets the default size */
    size_t def = gt__default_stack_size();
    ASSERT(def > 0);
    drain_spare();
    drain_pool(&sched);
    gt__stack a, b, c;
    ASSERT_OK(gt__stack_alloc(&sched, def, &a));
    ASSERT_EQ(sched.npool, GT__STACK_SLAB - 1); /* the rest of its slab */
    void *base = a.base;
    memset(a.base, 0xab, a.size);
    gt__stack_free(&sched, &a);
    ASSERT_EQ(sched.npool, GT__STACK_SLAB);
    ASSERT_OK(gt__stack_alloc(&sched, def, &b));
    ASSERT(b.base == base); /* the pooled one */
    ASSERT_EQ(sched.npool, GT__STACK_SLAB - 1);
    for (int i = 0; i < GT__STACK_SLAB - 1; i++) { /* whole, writable stacks */
        gt__stack st = sched.pool[i];
        ASSERT_EQ(st.size, def);
        memset(st.base, 0xab, st.size);
    }
    ASSERT_OK(gt__stack_alloc(&sched, def * 2, &c));
    gt__stack_free(&sched, &c); /* not the default size: unmapped */
    ASSERT_EQ(sched.npool, GT__STACK_SLAB - 1);
    gt__stack_free(&sched, &b);
    drain_pool(&sched);
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

/* Beyond the pool and the spare set, freed stacks wait and are unmapped
 * GT__STACK_UNMAP at a time (adjacent ones in one munmap); one that waits
 * is reused before anything new is mapped. */
GT_TEST(i11_stack_unmapped_in_batches)
{
    ASSERT_OK(gt_init(NULL));
    size_t def = gt__default_stack_size();
    drain_spare();
    drain_pool(&sched);
    enum { N = GT__STACK_POOL + GT__STACK_SPARE + GT__STACK_UNMAP };
    static gt__stack st[N];
    static void *bases[N];
    for (int i = 0; i < N; i++) { /* slabs: the pool refills as it empties */
        ASSERT_OK(gt__stack_alloc(&sched, def, &st[i]));
        bases[i] = st[i].base;
        memset(st[i].base, 0x5a, 64); /* touched, as a process would */
    }
    drain_pool(&sched); /* what the last slab left */
    for (int i = 0; i < N - 1; i++)
        gt__stack_free(&sched, &st[i]);
    ASSERT_EQ(sched.npool, GT__STACK_POOL);
    ASSERT_EQ(gt__stack_spare_count(), GT__STACK_SPARE);
    ASSERT_EQ(sched.nunmap, GT__STACK_UNMAP - 1); /* waiting, still mapped */
    ASSERT(mapped(bases[N - 2]));
    gt__stack again;
    ASSERT_OK(gt__stack_alloc(&other, def, &again)); /* other's pool is empty */
    ASSERT_EQ(gt__stack_spare_count(), GT__STACK_SPARE - 1);
    gt__stack_free(&sched, &again); /* back into the spare set */
    ASSERT_OK(gt__stack_alloc(&sched, def, &again)); /* from the pool */
    gt__stack_free(&sched, &again);
    gt__stack_free(&sched, &st[N - 1]); /* the batch is full: unmapped */
    ASSERT_EQ(sched.nunmap, 0);
    for (int i = N - GT__STACK_UNMAP; i < N; i++)
        ASSERT(!mapped(bases[i]));
    ASSERT(mapped(bases[0])); /* the pooled ones stay */
    drain_spare();
    drain_pool(&sched);
    drain_pool(&other);
}

/* The area (a /proc/self/maps line) holding address a: its start, or 0. */
static uintptr_t area_of(const void *a)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return 0;
    unsigned long lo, hi;
    uintptr_t found = 0;
    char line[512];
    while (!found && fgets(line, sizeof line, f))
        if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && (uintptr_t)a >= lo && (uintptr_t)a < hi)
            found = lo;
    fclose(f);
    return found;
}

/* True if the page below base faults (the child touching it dies). */
static bool guard_faults(const void *base)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        ((volatile char *)base)[-1] = 1;
        _exit(0);
    }
    int status = 0;
    return pid > 0 && waitpid(pid, &status, 0) == pid &&
           !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Whether this kernel has guard markers (Linux 6.13) and process_madvise
 * on the calling process (6.15): probed on a scratch mapping. */
static bool have_batched_guards(void)
{
    size_t ps = (size_t)sysconf(_SC_PAGESIZE);
    char *m = mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return false;
    struct iovec iov = {m, ps};
    long r = syscall(SYS_process_madvise, -10000 /* PIDFD_SELF */, &iov, 1, 102, 0u);
    munmap(m, 2 * ps);
    return r == (long)ps;
}

/* A slab's guard pages are markers, not a PROT_NONE area each: its 16
 * stacks stay one mapping (with mprotect they were 32, and 10,000
 * processes took 20,000 of vm.max_map_count), every guard still faults,
 * and each stack's top page -- the one a process touches first -- is
 * written in at once instead of faulting when the process first runs
 * (issue 11: a burst of connects paid a ~15 us fault per process). */
GT_TEST(i11_stack_slab_is_one_mapping_with_resident_tops)
{
    size_t ps = (size_t)sysconf(_SC_PAGESIZE);
    if (RUNNING_ON_VALGRIND_ || !have_batched_guards()) {
        SKIP("no guard markers through process_madvise here (Linux >= 6.15, not valgrind)");
        return;
    }
    ASSERT_OK(gt_init(NULL));
    size_t def = gt__default_stack_size();
    drain_spare();
    drain_pool(&sched);
    gt__stack first;
    ASSERT_OK(gt__stack_alloc(&sched, def, &first)); /* maps a slab */
    ASSERT_EQ(sched.npool, GT__STACK_SLAB - 1);
    uintptr_t area = area_of(first.base);
    ASSERT(area != 0);
    for (int i = 0; i < sched.npool; i++) { /* guards and stacks: one area */
        char *base = sched.pool[i].base;
        ASSERT_EQ(area_of(base - ps), area);
        ASSERT_EQ(area_of(base + def - 1), area);
    }
    for (int i = 0; i < sched.npool; i++) {
        unsigned char top = 0, below = 0;
        char *base = sched.pool[i].base;
        ASSERT_EQ(mincore(base + def - ps, ps, &top), 0);
        ASSERT_EQ(mincore(base + def - 2 * ps, ps, &below), 0);
        ASSERT(top & 1);    /* written in already */
        ASSERT(!(below & 1)); /* the rest as before: on touch */
    }
    ASSERT(guard_faults(first.base));
    ASSERT(guard_faults(sched.pool[0].base));
    ASSERT(guard_faults(sched.pool[sched.npool - 1].base));
    gt__stack_free(&sched, &first);
    drain_pool(&sched);
}
