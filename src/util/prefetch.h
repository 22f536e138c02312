/*
 * prefetch.h -- cache hints for what the next step will touch.
 *
 * Issue 11 (rr1k, 1,000 connections): by the time a socket's event or a
 * process's turn comes, its lines have left the first-level caches (1,000
 * stacks, sockets and processes do not fit).  A hint issued one step
 * ahead lets those loads overlap the current step instead of stalling it.
 * A hint never faults and changes nothing but timing.
 *
 * Callgrind ignores prefetches; a measuring build with
 * -DGT_PREFETCH_AS_LOAD makes every hint a real load, so that its cache
 * simulation shows which misses the hints take over (not for use: a load
 * beyond an object is a bug a sanitizer would report).
 */
#ifndef GT_PREFETCH_H
#define GT_PREFETCH_H

#include <stddef.h>
#include <stdint.h>

#define GT__LINE 64

/* The lines of [p, p + len), for reading (write: false) or writing. */
static inline void gt__prefetch_span(const void *p, size_t len, int write)
{
    const char *c = (const char *)((uintptr_t)p & ~(uintptr_t)(GT__LINE - 1));
    const char *end = (const char *)p + len;
    for (; c < end; c += GT__LINE) {
#ifdef GT_PREFETCH_AS_LOAD
        (void)write;
        (void)*(const volatile char *)c;
#else
        if (write)
            __builtin_prefetch(c, 1, 3);
        else
            __builtin_prefetch(c, 0, 3);
#endif
    }
}

#endif
