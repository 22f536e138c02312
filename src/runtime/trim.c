/*
 * trim.c -- memory back to the kernel once a scheduler has gone idle after
 * a burst of process exits (issue 11: after 10,000 connections closed, a
 * server's VmRSS stayed 5-7 MB above its start for ever).
 *
 * Measured on `gtcat listen --echo` after 10,000 idle connections closed:
 * glibc's per-thread arena held 7.4 MB of which 1.2 MB was in use (free
 * chunks among live ones are never returned by free(); only malloc_trim
 * releases their pages), and the stack caches kept the pages their
 * stacks had touched.  Neither is worth touching while work goes on: a
 * trim costs a walk of every arena and page faults when the memory is
 * used again.  So nothing happens per free: a scheduler counts the stacks
 * it frees (process exits and hibernations, one increment each), and
 * only when that count reached TRIM_FREES and the scheduler then slept
 * TRIM_IDLE_MS without an event does it trim: its stack pool down to one
 * slab, the shared spare set emptied, its thread's message cache and its
 * cached socket and process structs (util/objcache.h) freed,
 * and malloc_trim(0) (one at a time: it walks every arena).  A scheduler
 * that is never idle that long (a timer due sooner, every time) trims
 * nothing; one whose trim waits for a busy one wakes 5 times a second.
 */
#include <stdatomic.h>
#include <stdlib.h> /* defines __GLIBC__ there */
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "runtime/sched.h"
#include "util/buf.h"
#include "util/objcache.h"

/* One freed stack arms a trim: with 32, a scheduler that trimmed mid-burst
 * (idle while the other still closed its connections) kept the rest, 5.2-
 * 5.8 MB after 10,000 closed with 1 against 6.0-7.0 with 32.  The 200 ms
 * of idleness bounds the trims to five a second per scheduler. */
#define TRIM_FREES 1    /* stacks freed since the last trim */
#define TRIM_IDLE_MS 200 /* idle this long first */
/* Cached message blocks that arm a trim: a few pin a few pages at most,
 * and a periodic timer's message must not cost a trim every period. */
#define TRIM_CACHED 32

/* Due after freed stacks, or while this thread caches message blocks: a
 * scheduler that ran no exits but echoed packets holds up to MSG_CACHE
 * blocks scattered through the arena, pinning its pages (10,000 closed:
 * 5.2-7.1 MB with only the exits counted). */
static bool due(const gt__sched *s)
{
    return s->trim_frees >= TRIM_FREES || gt__msg_cache_count() >= TRIM_CACHED;
}

int gt__trim_wait(const gt__sched *s, int wait)
{
    if (!due(s))
        return wait;
    return wait < 0 || wait > TRIM_IDLE_MS ? TRIM_IDLE_MS : wait;
}

void gt__trim_idle(gt__sched *s, int wait, int n)
{
    if (n != 0 || wait != TRIM_IDLE_MS || !due(s))
        return;
    /* Only with every scheduler asleep: a trim beside a busy one (an
     * accept load on one scheduler, the other idle) emptied the spare
     * stacks it needed and faulted its heap pages back in, 5 times a
     * second (accept CPU per connection 60-63 -> 68-72 us).  Left armed,
     * the wait stays capped and the trim comes when all are idle. */
    int nsched;
    gt__sched *all = gt__sched_all(&nsched);
    for (int i = 0; i < nsched; i++)
        if (&all[i] != s && !atomic_load_explicit(&all[i].sleeping, memory_order_relaxed))
            return;
    s->trim_frees = 0;
    gt__stack_trim(s);
    gt__msg_cache_trim(); /* its blocks, scattered, pin arena pages */
    gt__obj_cache_trim();  /* its sockets' and processes' structs, likewise */
    gt__buf_spares_trim(); /* read blocks of big frames (util/buf.c) */
#ifdef __GLIBC__
    static atomic_flag trimming = ATOMIC_FLAG_INIT;
    if (!atomic_flag_test_and_set(&trimming)) {
        malloc_trim(0);
        atomic_flag_clear(&trimming);
    }
#endif
}
