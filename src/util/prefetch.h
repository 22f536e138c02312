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

#define GT__LINE 64

#ifdef GT_PREFETCH_AS_LOAD
/* stored, or Valgrind's translation drops a load whose value is dead */
static volatile char gt__prefetch_sink;
#define GT__HINT_R(c) (gt__prefetch_sink = *(const volatile char *)(c))
#define GT__HINT_W(c) GT__HINT_R(c)
/* Asm statements, not __builtin_prefetch: GCC 12 -O2's dead-code pass
 * deleted builtin hints of the scheduler's event loop, silently.  On
 * x86-64 a write hint is the read one (prefetchw needs a CPU flag). */
#elif defined(__x86_64__)
#define GT__HINT_R(c) __asm__ volatile("prefetcht0 %0" : : "m"(*(const char *)(c)))
#define GT__HINT_W(c) GT__HINT_R(c)
#elif defined(__aarch64__)
#define GT__HINT_R(c) __asm__ volatile("prfm pldl1keep, %0" : : "Q"(*(const char *)(c)))
#define GT__HINT_W(c) __asm__ volatile("prfm pstl1keep, %0" : : "Q"(*(const char *)(c)))
#else
#define GT__HINT_R(c) __builtin_prefetch((c), 0, 3)
#define GT__HINT_W(c) __builtin_prefetch((c), 1, 3)
#endif

/* The lines of [p, p + len), len a constant above 0, for reading (_r) or
 * writing (_w): a hint every line's length from p, and one at the last
 * byte for the line an unaligned p leaves over.  Written so that the
 * compiler unrolls it into len / 64 + 1 prefetches addressed off p: as a
 * loop it cost 4 instructions a line (~100 per echo). */
static inline void gt__prefetch_r(const void *p, size_t len)
{
    const char *c = p;
#pragma GCC unroll 16
    for (size_t off = 0; off < len; off += GT__LINE)
        GT__HINT_R(c + off);
    GT__HINT_R(c + len - 1);
}

static inline void gt__prefetch_w(const void *p, size_t len)
{
    const char *c = p;
#pragma GCC unroll 16
    for (size_t off = 0; off < len; off += GT__LINE)
        GT__HINT_W(c + off);
    GT__HINT_W(c + len - 1);
}

#endif
