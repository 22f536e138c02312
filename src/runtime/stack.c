/*
 * stack.c -- process stacks: mmap'd, with a PROT_NONE guard page below so
 * that an overflow faults instead of corrupting a neighbour.  Each
 * scheduler keeps a few default-size stacks for reuse; the pool is small
 * on purpose, because a hibernating process must really give its stack's
 * memory back (that is the point of hibernation).
 */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runtime/runtime.h"
#include "runtime/sched.h"

static size_t page_size(void)
{
    /* sysconf is cheap and thread-safe; a lazily set static would race
     * between schedulers allocating stacks at the same time. */
    return (size_t)sysconf(_SC_PAGESIZE);
}

int gt__stack_alloc(gt__sched *s, size_t size, gt__stack *out)
{
    size_t ps = page_size();
    size = (size + ps - 1) & ~(ps - 1);
    if (size < 4 * ps)
        size = 4 * ps;
    if (s && size == gt__default_stack_size() && s->npool > 0) {
        *out = s->pool[--s->npool];
        return 0;
    }
    char *m = mmap(NULL, size + ps, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED)
        return -ENOMEM;
    if (mprotect(m, ps, PROT_NONE) != 0) {
        munmap(m, size + ps);
        return -ENOMEM;
    }
    out->base = m + ps;
    out->size = size;
    return 0;
}

void gt__stack_free(gt__sched *s, gt__stack *st)
{
    if (!st->base)
        return;
    if (s && st->size == gt__default_stack_size() && s->npool < GT__STACK_POOL) {
        s->pool[s->npool++] = *st;
    } else {
        size_t ps = page_size();
        munmap((char *)st->base - ps, st->size + ps);
    }
    st->base = NULL;
}
