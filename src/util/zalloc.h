/*
 * zalloc.h -- zeroed allocation through malloc's per-thread cache.
 *
 * glibc's calloc (2.36 here) never takes a block from the per-thread cache
 * (tcache): every call goes to _int_malloc under the arena, while free puts
 * the block in the cache, which soon fills and sends frees the slow way
 * too.  malloc then memset stays on the cache's fast path both ways
 * (issue 11, accept).  The structs made and freed once per connection (a
 * socket, a process) have their own per-thread caches (objcache.h); this
 * is for the rarer ones (a thread's process).
 */
#ifndef GT_ZALLOC_H
#define GT_ZALLOC_H

#include <stdlib.h>
#include <string.h>

static inline void *gt__zalloc(size_t n)
{
    void *p = malloc(n);
    /* Hides p's origin: gcc folds malloc + memset(0) back into calloc. */
    __asm__("" : "+r"(p));
    if (p)
        memset(p, 0, n);
    return p;
}

#endif
