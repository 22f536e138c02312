/*
 * steal.c -- balance between schedulers (docs/DESIGN.md, "Balance").
 *
 * Work is requested, not taken: a scheduler that spun for spin_us without
 * work and is about to sleep sets its `hungry` flag; a scheduler that finds
 * someone hungry at the top of its loop, with two or more processes in its
 * run queue, hands some of its movable ones over.  The giver does the
 * moving on its own thread, so a run queue and a timer heap stay touched
 * by their own thread only, and the common case -- nobody idle -- costs one
 * relaxed load per loop pass.  The receiver moves each process's sockets
 * (their fd watchers) to its own epoll set before the process runs there.
 *
 * Hysteresis: sleeping now and then is not hunger.  Two schedulers sharing
 * an even load on a box whose other threads (a client, say) take turns on
 * the cores each sleep often, and handing half a run queue to whichever
 * slept last moved processes back and forth for ever (thousands a second
 * at 1,000 connections, two epoll_ctl calls each).  So a give also needs a
 * lasting imbalance: each scheduler counts the processes it runs per
 * 10 ms window (smoothed), and a giver gives only to a scheduler whose
 * load is below 2/3 of its own, only as many as halve the difference (so
 * a give never overshoots into the opposite imbalance), at most once per
 * HOLD_GIVE_NS (its own load must show the last give first); and a
 * scheduler that received processes gives none for HOLD_GOT_NS, so no
 * process goes back where it came from on the same fluctuation.
 *
 * Not running out of work for 1 ms is not saturation either: bursts of a
 * few ms on a mostly idle scheduler pass that rule (steal_test: 3 ms of
 * work in every 20: 6-10 moves among 8 processes).  So each scheduler also
 * measures its busy share (the part of its windows not spent idle,
 * spinning or asleep, smoothed), and gives only while that share says it
 * is saturated (SPREAD_BUSY), a lasting load.  And the reverse,
 * compaction, as Erlang's schedulers compact load onto fewer of them while
 * none is fully loaded: once spread (a connection burst does it), work
 * stayed spread for ever, two mostly idle schedulers each sleeping and
 * waking for its half (rr conns=1000 pace=10000: 20.7 us of server CPU
 * per request against 18.6 drained, medians of 12 alternating rounds).  A
 * scheduler other than the first whose busy share and the first's add up
 * to less than COMPACT_BUSY for COMPACT_WINDOWS windows in a row drains:
 * it hands each movable process that becomes runnable on it to the
 * first scheduler, which then gives none back for HOLD_GOT_NS.  The gap
 * between the two thresholds is the hysteresis: a spread from a saturated
 * scheduler left the two busy ~1/4 each on a loaded box (rr1k), above
 * COMPACT_BUSY together.
 */
#include <limits.h>
#include <time.h>

#include "runtime/sched.h"

/* How long a scheduler must have run without sleeping before it gives
 * processes away. */
#define BUSY_NS 1000000
/* Between two gives of one scheduler: four load windows, after which its
 * smoothed load shows the first give (halved per window: 1/16 left). */
#define HOLD_GIVE_NS (4 * (int64_t)GT__LOAD_WIN_NS)
/* After receiving processes, a scheduler gives none for this long. */
#define HOLD_GOT_NS 1000000000
/* Busy shares, in 1/1024ths of a window: a giver's at least this
 * (saturated) ... */
#define SPREAD_BUSY 896
/* ... a drainer's and the first scheduler's together below this: a light
 * load.  Not 1/2: two schedulers splitting rr1k on a loaded box were each
 * busy ~1/4, and drained there, one scheduler served it at 0.85-0.95x the
 * rate (place8: 6 alternating rounds, 5 lost) for the same CPU per echo. */
#define COMPACT_BUSY 256
/* ... for this many load windows in a row: a lasting light load.  A load
 * that swings (rr conns=1000 pace=30000 on a loaded box: the first
 * scheduler's share between 1/16 and 1 from one 250 ms to the next) drained
 * and spread again about once a second, at 0.92x the rate. */
#define COMPACT_WINDOWS 10
/* ... or below this, one scheduler's worth with room to spare, while the
 * machine has no CPU to spare (cpus.c, gt__cpu_spare): the second
 * scheduler's half then only waited for a core. */
#define ONE_BUSY 1536

bool gt__steal_on;
atomic_int gt__nhungry;
atomic_bool gt__busy_wall_hook;

static int64_t busy_of(gt__sched *to, int64_t now);

void gt__steal_tick(gt__sched *s)
{
    int64_t now = gt__now_ns();
    int64_t el = now - s->win_start;
    if (el < GT__LOAD_WIN_NS)
        return;
    /* runs per window over this window (longer than one if the loop was
     * held: a sleep, a long process run) */
    int64_t r = (int64_t)s->runs * GT__LOAD_WIN_NS / (el > 0 ? el : 1);
    s->load = (int)((s->load + (r > INT_MAX ? INT_MAX : r)) / 2);
    s->runs = 0;
    /* idle time in this window (a sleep that began in an earlier one is
     * counted whole here, against the longer el) */
    int64_t idle = s->idle_ns < el ? s->idle_ns : el;
    int64_t busy_ns = el - idle;
    /* What the thread ran, not the wall time it was awake: with more
     * threads than cores, the kernel's preemption counted as busy (rr1k,
     * 2 cores beside the client: shares adding up to ~1,200/1,024 with
     * each thread on a core ~45% of the time).  Its CPU time (the
     * scheduler's sum_exec_runtime, as /proc/thread-self/schedstat's first
     * field, with no fd to keep) less the spin, which ran but found no
     * work; one system call per window.  Without the clock: wall time. */
    struct timespec ts;
    if (!atomic_load_explicit(&gt__busy_wall_hook, memory_order_relaxed) &&
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0) {
        int64_t run = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
        if (s->run_ns > 0) {
            int64_t ran = run - s->run_ns - s->spin_ns;
            busy_ns = ran < 0 ? 0 : ran < el ? ran : el;
        }
        s->run_ns = run;
    }
    s->spin_ns = 0;
    s->busy = (int)((s->busy + (el > 0 ? busy_ns * 1024 / el : 1024)) / 2);
    s->idle_ns = 0;
    s->win_start = now;
    atomic_store_explicit(&s->load_pub, s->load, memory_order_relaxed);
    atomic_store_explicit(&s->busy_pub, s->busy, memory_order_relaxed);
    atomic_store_explicit(&s->load_at, now, memory_order_relaxed);
    if (s->index > 0) {
        int nsched;
        gt__sched *first = gt__sched_all(&nsched);
        int64_t both = s->busy + busy_of(first, now);
        bool light = (both < COMPACT_BUSY || (both < ONE_BUSY && !gt__cpu_spare(now))) &&
                     now - atomic_load_explicit(&s->got_at, memory_order_relaxed) >= HOLD_GIVE_NS;
        s->light_windows = light ? s->light_windows + 1 : 0;
        s->drain = s->light_windows >= COMPACT_WINDOWS;
    }
}

/* to's published figure v (load or busy share) as seen from another
 * thread at now, thinned by the time since it was published (a scheduler
 * asleep runs nothing). */
static int64_t thinned(gt__sched *to, int64_t v, int64_t now)
{
    int64_t age = now - atomic_load_explicit(&to->load_at, memory_order_relaxed);
    return age > GT__LOAD_WIN_NS ? v * GT__LOAD_WIN_NS / age : v;
}

static int64_t load_of(gt__sched *to, int64_t now)
{
    return thinned(to, atomic_load_explicit(&to->load_pub, memory_order_relaxed), now);
}

/* Thinned only while asleep: a busy scheduler publishes every 16 loop
 * passes, which can be several windows apart (thinning its busy share
 * then made it look idle: a spread drained back at once). */
static int64_t busy_of(gt__sched *to, int64_t now)
{
    int64_t b = atomic_load_explicit(&to->busy_pub, memory_order_relaxed);
    return atomic_load_explicit(&to->sleeping, memory_order_relaxed) ? thinned(to, b, now) : b;
}

void gt__steal_idle(gt__sched *s)
{
    if (gt__steal_on)
        gt__steal_tick(s); /* publish the load the givers will compare */
    if (gt__steal_on && !atomic_exchange(&s->hungry, 1))
        atomic_fetch_add(&gt__nhungry, 1);
}

void gt__steal_awake(gt__sched *s)
{
    if (!gt__steal_on)
        return;
    s->awake_since = gt__now_ns();
    /* Whoever clears the flag (we, or a giver claiming us) counts it. */
    if (atomic_exchange(&s->hungry, 0))
        atomic_fetch_sub(&gt__nhungry, 1);
}

/* Takes p out of `from`, for `to`: what of p lives on from's thread goes
 * (a timed park's deadline, left in the heap when a wake beat it; the park
 * re-arms one on the new home if it waits again), the home changes under
 * plock (gt__io_move reads it there, from the thread of whoever hands p a
 * socket), and p's resources follow when it next runs (run_one). */
static void move_out(gt__sched *from, gt__sched *to, gt__proc *p)
{
    gt__park_timer_take(&from->timers, p);
    gt__lock(&p->plock, GT__LK_PLOCK);
    p->sched = to;
    gt__unlock(&p->plock);
    p->rehome = true;
}

/* Gives `to` the last `want` movable processes of s's run queue: the ones
 * that would wait longest here. */
static void give(gt__sched *s, gt__sched *to, int want)
{
    int skip = s->rq_movable > want ? s->rq_movable - want : 0;
    gt__proc *prev = NULL, *head = NULL, *tail = NULL;
    int n = 0;
    for (gt__proc *p = s->rq_head, *next; p; p = next) {
        next = p->rq_next;
        if (p->bound || skip-- > 0) {
            prev = p;
            continue;
        }
        if (prev)
            prev->rq_next = next;
        else
            s->rq_head = next;
        if (s->rq_tail == p)
            s->rq_tail = prev;
        s->rq_len--;
        s->rq_movable--;
        move_out(s, to, p);
        p->rq_next = NULL;
        if (tail)
            tail->rq_next = p;
        else
            head = p;
        tail = p;
        n++;
    }
    if (n)
        gt__sched_enqueue_chain(to, head, tail, n, n);
}

void gt__steal_give(gt__sched *s)
{
    int64_t now = gt__now_ns();
    /* Busy means no sleep for BUSY_NS: a scheduler that sleeps now and
     * then has spare time itself, and giving its processes away would only
     * bounce them between two half-idle schedulers (measured: thousands of
     * moves a second, each two epoll_ctl calls, for a load one scheduler
     * served alone). */
    if (now - s->awake_since < BUSY_NS || s->busy < SPREAD_BUSY || now - s->gave_at < HOLD_GIVE_NS ||
        now - atomic_load_explicit(&s->got_at, memory_order_relaxed) < HOLD_GOT_NS ||
        !gt__cpu_spare(now)) /* no core for the receiver to run on */
        return;
    int nsched;
    gt__sched *all = gt__sched_all(&nsched);
    for (int i = 0; i < nsched && s->rq_len >= 2 && s->rq_movable > 0; i++) {
        gt__sched *to = &all[i];
        if (to == s || !atomic_load_explicit(&to->hungry, memory_order_relaxed))
            continue;
        int64_t mine = s->load, theirs = load_of(to, now);
        if (3 * theirs >= 2 * mine) /* no lasting imbalance */
            continue;
        if (!atomic_exchange(&to->hungry, 0)) /* another giver was first */
            continue;
        atomic_fetch_sub(&gt__nhungry, 1);
        /* Halve the difference, assuming each queued process carries an
         * equal share of the load (the queue is a sample of them all, so
         * this errs towards too few: the next give adds more). */
        int64_t want = s->rq_movable * (mine - theirs) / (2 * (mine > 0 ? mine : 1));
        if (want > s->rq_len / 2)
            want = s->rq_len / 2;
        give(s, to, want > 0 ? (int)want : 1);
        s->gave_at = now;
        atomic_store_explicit(&to->got_at, now, memory_order_relaxed);
    }
}

void gt__steal_drain(gt__sched *s)
{
    int nsched;
    gt__sched *first = gt__sched_all(&nsched);
    if (s == first)
        return;
    give(s, first, s->rq_movable);
    int64_t now = gt__now_ns();
    s->gave_at = now;
    atomic_store_explicit(&first->got_at, now, memory_order_relaxed);
}
