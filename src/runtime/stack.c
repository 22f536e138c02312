/*
 * stack.c -- process stacks: mmap'd, with a PROT_NONE guard page below so
 * that an overflow faults instead of corrupting a neighbour.
 *
 * Default-size stacks are reused rather than unmapped: an mmap, an
 * mprotect, a page fault on first touch and a munmap (which interrupts the
 * other schedulers' cores to flush their TLBs) cost a process more than
 * the rest of its accept (issue 11).  Each scheduler keeps up to
 * GT__STACK_POOL for itself, touched by its thread only.  A process often
 * ends on another scheduler than the one it started on (an acceptor's
 * connection, a stolen process), so one scheduler's pool would overflow
 * while another's ran dry: what overflows goes to a shared spare set of
 * GT__STACK_SPARE slots, which a scheduler with an empty pool takes from.
 * Both are bounded, so the memory a burst of processes leaves cached after
 * they end is too (at most the pages those stacks touched); a hibernating
 * process's stack goes the same way, and beyond the bounds to the kernel.
 *
 * What neither cache takes is unmapped GT__STACK_UNMAP at a time, sorted,
 * with adjacent stacks in one munmap: the stacks of a burst were mapped
 * next to each other (a slab of GT__STACK_SLAB per mmap when a pool runs
 * dry), so 10,000 processes ending cost a few hundred munmaps (and TLB
 * flushes), not 10,000.  The stacks waiting there are reused first.
 *
 * A slab's guard pages are guard markers (MADV_GUARD_INSTALL, Linux 6.13),
 * all of them installed by one process_madvise: an mprotect per guard cost
 * a system call each and split the mapping in two areas per stack (10,000
 * processes were 20,000 of vm.max_map_count's 65,530, every later mmap and
 * fault searching among them).  One more process_madvise writes the top
 * page of each new stack (MADV_POPULATE_WRITE), the page every process
 * touches first: on this VM a first-touch fault costs ~15 us of CPU, and
 * a burst of connects paid one per process (issue 11).  A kernel without
 * either falls back: a madvise per guard, else mprotect; faults on touch.
 *
 * The spare slots are lock-free: a slot holds a stack's base or NULL, put
 * by a compare-and-swap from NULL and taken by an exchange with NULL, so a
 * stack is owned by exactly one side at a time (no ABA: a slot holds no
 * link to another).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define ON_VALGRIND() RUNNING_ON_VALGRIND
#else
#define ON_VALGRIND() 0
#endif

#include "runtime/runtime.h"
#include "runtime/sched.h"

_Static_assert(GT__STACK_SLAB <= GT__STACK_POOL, "a slab refills an empty pool");

static _Atomic(void *) spare[GT__STACK_SPARE];
static atomic_int nspare;     /* stacks in spare (a hint for a quick "none") */
static atomic_uint spare_at;  /* where the next search starts */

static size_t page_size(void)
{
    /* getpagesize reads the value the loader keeps (glibc: two
     * instructions), thread-safe like sysconf, whose switch over every
     * name cost ~48 instructions on each stack taken (one per accepted
     * connection; issue 11, acc6); a lazily set static would race between
     * schedulers allocating stacks at the same time. */
    return (size_t)getpagesize();
}

/* A default-size stack's base from the spare set, or NULL. */
static void *spare_take(void)
{
    if (atomic_load_explicit(&nspare, memory_order_relaxed) <= 0)
        return NULL;
    unsigned at = atomic_fetch_add_explicit(&spare_at, 1, memory_order_relaxed);
    for (unsigned i = 0; i < GT__STACK_SPARE; i++) {
        _Atomic(void *) *slot = &spare[(at + i) % GT__STACK_SPARE];
        if (!atomic_load_explicit(slot, memory_order_relaxed))
            continue;
        void *base = atomic_exchange_explicit(slot, NULL, memory_order_acq_rel);
        if (base) {
            atomic_fetch_sub_explicit(&nspare, 1, memory_order_relaxed);
            return base;
        }
    }
    return NULL;
}

/* Puts a default-size stack in the spare set; false when it is full. */
static bool spare_put(void *base)
{
    if (atomic_load_explicit(&nspare, memory_order_relaxed) >= GT__STACK_SPARE)
        return false;
    unsigned at = atomic_fetch_add_explicit(&spare_at, 1, memory_order_relaxed);
    for (unsigned i = 0; i < GT__STACK_SPARE; i++) {
        _Atomic(void *) *slot = &spare[(at + i) % GT__STACK_SPARE];
        void *none = NULL;
        if (!atomic_load_explicit(slot, memory_order_relaxed) &&
            atomic_compare_exchange_strong_explicit(slot, &none, base, memory_order_acq_rel,
                                                    memory_order_relaxed)) {
            atomic_fetch_add_explicit(&nspare, 1, memory_order_relaxed);
            return true;
        }
    }
    return false;
}

int gt__stack_spare_count(void) { return atomic_load(&nspare); }

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#define PIDFD_SELF_ (-10000) /* process_madvise on ourselves (Linux 6.15) */

/* Which ways of advising this kernel refused: once is enough to know. */
static atomic_bool no_batch, no_guard_markers;

/* One process_madvise of n page ranges (the calling process's): true if
 * all of them were advised.  Not under valgrind, which does not know the
 * call (and would say so on every slab). */
static bool advise_all(const struct iovec *iov, int n, int advice)
{
#ifdef SYS_process_madvise
    if (atomic_load_explicit(&no_batch, memory_order_relaxed) || ON_VALGRIND())
        return false;
    size_t want = 0;
    for (int i = 0; i < n; i++)
        want += iov[i].iov_len;
    long r = syscall(SYS_process_madvise, PIDFD_SELF_, iov, (size_t)n, advice, 0u);
    if (r < 0 && (errno == ENOSYS || errno == EBADF || errno == EPERM))
        atomic_store_explicit(&no_batch, true, memory_order_relaxed);
    return r == (long)want;
#else
    (void)iov, (void)n, (void)advice;
    return false;
#endif
}

/* Makes the page at g a guard page: a marker, else PROT_NONE. */
static int guard_one(char *g, size_t ps)
{
    if (!atomic_load_explicit(&no_guard_markers, memory_order_relaxed)) {
        if (madvise(g, ps, MADV_GUARD_INSTALL) == 0)
            return 0;
        if (errno == EINVAL) /* before Linux 6.13 */
            atomic_store_explicit(&no_guard_markers, true, memory_order_relaxed);
    }
    return mprotect(g, ps, PROT_NONE);
}

/* Maps up to n stacks of size bytes (a page multiple) with one mmap, each
 * with its guard page below, into out; how many (at least 1) or -ENOMEM. */
static int map_stacks(size_t size, int n, gt__stack *out)
{
    size_t ps = page_size(), span = size + ps;
    char *m = mmap(NULL, span * (size_t)n, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED)
        return -ENOMEM;
    struct iovec iov[GT__STACK_SLAB];
    bool batch = n <= GT__STACK_SLAB;
    for (int i = 0; batch && i < n; i++)
        iov[i] = (struct iovec){m + span * (size_t)i, ps};
    batch = batch && advise_all(iov, n, MADV_GUARD_INSTALL);
    int k = 0;
    for (; k < n; k++) {
        char *guard = m + span * (size_t)k;
        if (!batch && guard_one(guard, ps) != 0)
            break; /* out of mappings (vm.max_map_count): keep those made */
        out[k] = (gt__stack){.base = guard + ps, .size = size};
    }
    for (int i = 0; batch && i < k; i++) /* each stack's top page */
        iov[i] = (struct iovec){(char *)out[i].base + size - ps, ps};
    if (batch && k > 1)
        (void)advise_all(iov, k, MADV_POPULATE_WRITE); /* else faults on touch */
    if (k < n)
        munmap(m + span * (size_t)k, span * (size_t)(n - k));
    return k > 0 ? k : -ENOMEM;
}

static void unmap_one(const gt__stack *st)
{
    size_t ps = page_size();
    munmap((char *)st->base - ps, st->size + ps);
}

static int by_base(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)((const gt__stack *)a)->base;
    uintptr_t y = (uintptr_t)((const gt__stack *)b)->base;
    return x < y ? -1 : x > y;
}

/* Unmaps s's waiting stacks, one munmap per run of adjacent ones. */
static void flush_unmap(gt__sched *s)
{
    size_t ps = page_size();
    qsort(s->unmap, (size_t)s->nunmap, sizeof s->unmap[0], by_base);
    for (int i = 0; i < s->nunmap;) {
        char *from = (char *)s->unmap[i].base - ps;
        char *to = (char *)s->unmap[i].base + s->unmap[i].size;
        for (i++; i < s->nunmap && (char *)s->unmap[i].base - ps == to; i++)
            to = (char *)s->unmap[i].base + s->unmap[i].size;
        munmap(from, (size_t)(to - from));
    }
    s->nunmap = 0;
}

int gt__stack_alloc(gt__sched *s, size_t size, gt__stack *out)
{
    size_t ps = page_size();
    size = (size + ps - 1) & ~(ps - 1);
    if (size < 4 * ps)
        size = 4 * ps;
    if (!s || size != gt__default_stack_size())
        return map_stacks(size, 1, out) < 0 ? -ENOMEM : 0;
    if (s->npool > 0) {
        *out = s->pool[--s->npool];
        return 0;
    }
    void *base = spare_take();
    if (base) {
        *out = (gt__stack){.base = base, .size = size};
        return 0;
    }
    if (s->nunmap > 0) {
        *out = s->unmap[--s->nunmap];
        return 0;
    }
    /* The pool is empty: a slab refills it (untouched pages cost nothing). */
    gt__stack slab[GT__STACK_SLAB];
    int n = map_stacks(size, GT__STACK_SLAB, slab);
    if (n < 0)
        return n;
    *out = slab[0];
    for (int i = 1; i < n; i++)
        s->pool[s->npool++] = slab[i];
    return 0;
}

void gt__stack_free(gt__sched *s, gt__stack *st)
{
    if (!st->base)
        return;
    if (!s || st->size != gt__default_stack_size()) {
        unmap_one(st);
    } else if (s->npool < GT__STACK_POOL) {
        s->pool[s->npool++] = *st;
    } else if (!spare_put(st->base)) {
        s->unmap[s->nunmap++] = *st;
        if (s->nunmap == GT__STACK_UNMAP)
            flush_unmap(s);
    }
    st->base = NULL;
}

/* After a burst, once s is idle (trim.c): what the caches hold beyond one
 * slab per scheduler goes back to the kernel, so that the pages a burst
 * of processes touched do not stay resident for ever.  The shared spare
 * set is emptied by whichever scheduler trims; the next burst maps fresh
 * slabs (a few mmaps), a cost paid only after an idle pause. */
void gt__stack_trim(gt__sched *s)
{
    size_t size = gt__default_stack_size();
    for (;;) {
        gt__stack st;
        if (s->npool > GT__STACK_SLAB)
            st = s->pool[--s->npool];
        else if ((st.base = spare_take()) != NULL)
            st.size = size;
        else
            break;
        s->unmap[s->nunmap++] = st;
        if (s->nunmap == GT__STACK_UNMAP)
            flush_unmap(s);
    }
    if (s->nunmap > 0)
        flush_unmap(s);
}
