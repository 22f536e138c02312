/*
 * sched.h -- a scheduler: one OS thread running processes from its run
 * queue and servicing its own epoll set.  A scheduler's run queue, timer
 * heap and stack pool are touched only by its own thread; other threads
 * reach it through the locked `remote` queue and its eventfd.  Processes
 * move between schedulers only by a busy scheduler handing runnable ones
 * to an idle one that asked (steal.c), which keeps that rule.
 */
#ifndef GT_SCHED_H
#define GT_SCHED_H

#include "runtime/runtime.h"
#include "runtime/spin.h"

#define GT__STACK_POOL 64   /* cached default stacks per scheduler */
#define GT__STACK_SPARE 64  /* ... and shared by all (runtime/stack.c) */
#define GT__STACK_SLAB 16   /* default stacks mapped by one mmap       */
#define GT__STACK_UNMAP 32  /* freed beyond the caches, unmapped together */
#define GT__SCRATCH (64 * 1024)

#define GT__ENDED_LOCAL 8

struct gt__sched {
    int index;
    pthread_t thread;
    int epfd;
    int wakefd;                 /* eventfd: remote work arrived          */
    atomic_int sleeping;        /* in a blocking epoll_wait              */
    gt__fiber fiber;            /* the scheduler thread's own stack      */
    gt__proc *current;
    gt__proc *rq_head, *rq_tail;/* local run queue                       */
    int rq_len;                 /* processes in it                       */
    int rq_movable;             /* of which not pinned (steal.c)         */
    atomic_int hungry;          /* asleep with nothing to run: a busy
                                   scheduler may hand it processes       */
    int64_t awake_since;        /* ns: the end of its last sleep or idle
                                   spin, when it last had nothing to do
                                   (steal.c) */
    /* Load (steal.c): process runs per window, smoothed; own thread
     * writes, givers read the published pair. */
    uint32_t runs;              /* in the current window                 */
    uint32_t passes;            /* loop passes, to space clock reads     */
    int64_t win_start;          /* ns                                    */
    int load;                   /* smoothed runs per window              */
    atomic_int load_pub;        /* `load`, for givers                    */
    atomic_llong load_at;       /* ns: when load_pub was last published  */
    int64_t idle_ns;            /* spent idle (spinning or asleep) in
                                   the current window                    */
    int64_t spin_ns;            /* of which spinning (on a core, no work) */
    int64_t run_ns;             /* the thread's CPU time at the window's
                                   start (steal.c), 0 before the first    */
    int busy;                   /* smoothed share of its windows not
                                   idle, in 1/1024ths (steal.c)          */
    atomic_int busy_pub;        /* `busy`, for other schedulers          */
    int light_windows;          /* load windows in a row with a light
                                   load (steal.c, compaction)           */
    bool drain;                 /* light load: hands its runnable
                                   movable processes to scheduler 1
                                   (steal.c, compaction); own thread     */
    int64_t gave_at;            /* ns: its last give                     */
    atomic_llong got_at;        /* ns: it last received (set by givers)  */
    gt__mutex remote_lock;      /* guards remote_* and deferred          */
    gt__proc *remote_head, *remote_tail;
    int remote_len, remote_movable;
    gt__deferred *deferred;
    atomic_int remote_pending;  /* remote_head or deferred is non-empty  */
    bool defer_local;           /* a process of this scheduler deferred a
                                   call: the batch ends when it parks, as a
                                   port task runs between Erlang processes
                                   (delay_send's flush); own thread only  */
    gt__deferred *pass_end;     /* gt__sched_at_pass_end; own thread only */
    gt__timers timers;
    gt__spin spin;              /* the adaptive spin budget (spin.h)     */
    /* The watchers of the last events the loop handled (a ring; NULL =
     * none): a spin's catch pays only if it is one of theirs, the answer
     * of a conversation (spin.h, "Conversations").  A watcher leaves it at
     * its release, before its memory can serve a new one.  Own thread. */
    const gt__io *answered[GT__SPIN_ANSWERED];
    unsigned answered_at;       /* the next slot to fill                 */
    atomic_ullong empty_polls;  /* epoll_waits that found nothing (tests:
                                   gt__sched_empty_polls); own thread writes */
    atomic_ullong spin_yields;  /* sched_yield calls of its spins (tests:
                                   gt__sched_spin_yields); own thread writes */
    gt__stack pool[GT__STACK_POOL];
    int npool;
    gt__stack unmap[GT__STACK_UNMAP]; /* waiting for one munmap per run */
    int nunmap;
    uint32_t trim_frees;        /* stacks freed since the last trim      */
    uint8_t *scratch;           /* GT__SCRATCH bytes for socket reads    */
    uint8_t *slices;            /* the batched reads' buffers (sched.c:
                                   GT__URING_BATCH slices), at first use */
    int reads_on;               /* batched reads: 0 not asked yet, 1 on,
                                   -1 off (GT_IO_URING(_READS)=0, no ring,
                                   valgrind); own thread only            */
    /* Registrations that a process running here ended on this scheduler
     * (io.c): released as soon as it switches out.  Own thread only. */
    gt__io *ended[GT__ENDED_LOCAL];
    int nended;
};

/* A watcher's registration on s ended (io.c, on s's thread): it is no
 * longer one whose events the loop handled last (sched.c, `answered`). */
void gt__sched_io_released(gt__sched *s, const gt__io *w);

/* ---- steal.c: balance (docs/DESIGN.md, "Balance") ---- */
#define GT__LOAD_WIN_NS 10000000   /* a load window: 10 ms */
extern bool gt__steal_on;          /* set once at start-up */
extern atomic_int gt__nhungry;     /* schedulers with `hungry` set */
/* Tests: the busy share by the wall time awake, as a box with a core for
 * every thread gives (a test that also says, by gt__cpu_spare_hook, that
 * the machine has a CPU to spare, on a loaded box) -- not the thread's
 * CPU time. */
extern atomic_bool gt__busy_wall_hook;
void gt__steal_idle(gt__sched *s); /* before sleeping: ask for work */
void gt__steal_awake(gt__sched *s);/* after sleeping: withdraw it */
/* Hands part of s's movable runnable processes to hungry schedulers whose
 * load is well below s's. */
void gt__steal_give(gt__sched *s);
/* Compaction: hands every runnable movable process of s to scheduler 1
 * while s->drain is set (steal.c decides it each load window). */
void gt__steal_drain(gt__sched *s);
/* Closes s's load window if it is over (reads the clock). */
void gt__steal_tick(gt__sched *s);
/* The loop's check, once per iteration: one relaxed load when no one is
 * hungry, and a clock read every 16th pass (one costs ~50 ns on this
 * kind of VM), no system call. */
static inline void gt__steal_check(gt__sched *s)
{
    if (!gt__steal_on)
        return;
    if ((++s->passes & 15) == 0)
        gt__steal_tick(s);
    if (s->rq_len >= 2 && s->rq_movable > 0 &&
        atomic_load_explicit(&gt__nhungry, memory_order_relaxed) > 0)
        gt__steal_give(s);
    if (s->drain && s->rq_movable > 0)
        gt__steal_drain(s);
}
/* ---- trim.c: memory back once idle after a burst of exits ---- */
/* The blocking wait's timeout: capped while a trim is due. */
int gt__trim_wait(const gt__sched *s, int wait);
/* After that wait: trims if it was the capped one and found nothing. */
void gt__trim_idle(gt__sched *s, int wait, int n);
gt__sched *gt__sched_all(int *n);
/* Appends a chain of n runnable processes (linked by rq_next), `movable`
 * of them not pinned, to s's remote queue, from another thread. */
void gt__sched_enqueue_chain(gt__sched *s, gt__proc *head, gt__proc *tail, int n,
                             int movable);

#endif
