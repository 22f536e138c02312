/*
 * spin.h -- how long an idle scheduler polls before it sleeps (issue 11
 * item 3).
 *
 * Spinning buys latency (a request that lands while the scheduler still
 * polls costs no vCPU wake-up, ~45 us here) and costs a core while it
 * lasts.  It pays only when work comes back soon: a scheduler serving a
 * request/response conversation.  A server idle most of the day, or
 * answering 10-1000 requests a second, would spin after every request for
 * nothing.  So the budget follows the last waits: each wait (from running
 * out of work to the next work) is short (the spin would catch the next
 * one) or not; the budget is the maximum times the share of short waits
 * among the last GT__SPIN_HISTORY, and a long idle clears the history.
 *
 * Short is not enough: waits of 50-150 us (an accept load, one connection
 * after another from a client busy elsewhere) count as short, yet a full
 * spin catches only a third of them and sleeps after the others anyway --
 * 50 us of CPU and ~12 polls for nothing, more than the wake-ups it saves
 * (accept: 4.3 epoll_wait and ~5 us more CPU per connection than not
 * spinning; issue 11).  So full spins also keep a record of whether they
 * caught their work; while fewer than GT__SPIN_PAYS of the last
 * GT__SPIN_HISTORY did, only one idle period in GT__SPIN_PROBE spins (in
 * full, to see whether spinning pays again) and the others sleep at once;
 * probes that keep missing come further apart (GT__SPIN_PROBE_MAX).
 * A request/response conversation's spins catch nearly every request and
 * keep spinning.  Owned by its scheduler's thread: no locking.
 */
#ifndef GT_SPIN_H
#define GT_SPIN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define GT__SPIN_HISTORY 8
/* A wait counts as short up to the maximum budget plus this: a wait that
 * ended in a sleep includes the vCPU wake-up, which would otherwise make
 * a conversation that only stopped spinning look slow forever. */
#define GT__SPIN_WAKE_NS 100000
/* Idle this long (and 4 short waits): the waits before it say nothing
 * about what comes next, so the history of short waits is cleared.  The
 * record of whether spins caught their work is kept: it had been reset to
 * "all caught" too, and on a busy box, where many waits pass 2 ms, that
 * gave every burst after one full spins that missed again (acc14: accept,
 * 193-391 missed spins a second; with the record kept, 9-66). */
#define GT__SPIN_LONG_NS 2000000

#define GT__SPIN_PAYS 4
/* A spin pays (counts as a catch in the record) only if its work came
 * within this much of its start, not anywhere in its budget.  A catch late
 * in the spin saved one wake-up (a few us of CPU here: epoll_wait's sleep
 * and the switch back) for all the CPU the spin burned before it: on
 * accept with a fast client (a connection every 40-70 us) most spins
 * caught their work after 25-50 us, the record said "pays", and gentcp
 * spent ~2 us more per connection than with no spin (39.2 vs 36.7, and
 * above epoll-1t in some runs).  A conversation's request comes back
 * within a round trip's remainder (~15 us here) and still pays.  Measured
 * (spin15, 8 alternating rounds of accept conc=50): 39.4 -> 37.4 us/conn,
 * lower in 7 of 8; pingpong level (p50 24.8 -> 24.1 us, 6 rounds). */
#define GT__SPIN_PAY_NS 25000
/* Conversations: a spin pays only if the work it caught answers what the
 * scheduler did last -- an event of one of the watchers whose events it
 * handled last (GT__SPIN_ANSWERED of them, sched.c), as a request/response
 * peer's next request comes back on the socket just answered.  Other
 * work (a new connection, another connection's data) is no conversation
 * waiting on us: a wake-up would serve it as well, for less CPU than the
 * spin, however early the spin caught it.  On accept (conc=50) nearly
 * every catch was of another watcher (506 of 507 in one second), most
 * within 5 us, and the record said "pays": in seconds with the spin on
 * (12-24k spins a second, 117-246 ms of spinning) the server spent 13-14
 * us of CPU per event, 9.4-10.2 in seconds without (acc16).  A pingpong's
 * catches are all of the watcher it answered.  Work another thread hands
 * over (no event) counts as before. */
#define GT__SPIN_ANSWERED 4
#define GT__SPIN_PROBE 8
/* Each probe that misses doubles the gap to the next, up to this; one that
 * catches (or a spin that pays again, or a long idle) resets it.  On a
 * loaded box, where the client the server waits for is itself waiting for
 * a vCPU, nearly no spin catches (rr conns=1000: 3 of 721 spins in one
 * second, 27 ms of CPU; pingpong: 461 of 1851, 72 ms for 27k round trips):
 * probing one idle period in 8 there cost 0.5-2.7 us of CPU per request
 * for almost nothing (issue 11, sched5).  Coming back costs at most this
 * many idle periods more (~10 ms at 5000 idle periods a second). */
#define GT__SPIN_PROBE_MAX 64

/* How many of a runtime's schedulers may spin at once.  Two schedulers
 * spinning side by side on a 2-vCPU machine take both cores from whatever
 * else runs there -- on rr conns=1000, the client the server waits for: the
 * second scheduler's spins there caught their work less often (72% against
 * 93%) and its failed spins were most of its spinning (issue 11, sched5).
 * A scheduler that goes idle while the others already fill the gate sleeps
 * at once (its events wake it through its own epoll, as without spinning);
 * one spinning scheduler keeps the latency a conversation on it needs.
 * Shared by a runtime's schedulers: atomic. */
typedef struct gt__spin_gate {
    atomic_int spinning; /* schedulers in a spin now */
    int max;             /* at most this many: half the schedulers, >= 1 */
} gt__spin_gate;

void gt__spin_gate_init(gt__spin_gate *g, int nscheds);

typedef struct gt__spin {
    int64_t max_ns;    /* the configured spin (spin_us); 0 = never spin    */
    uint32_t history;  /* bit i: the i-th latest wait was short            */
    uint32_t caught;   /* bit i: the i-th latest full spin caught its work */
    uint32_t unpaid;   /* idle periods since the last probe                */
    uint32_t probe_gap;/* idle periods from one probe to the next          */
    bool probing;      /* this idle period's spin is a probe               */
    bool other;        /* ... caught work of no conversation (see above)   */
    int64_t budget;    /* this idle period's                               */
    int64_t idle_since;/* when the scheduler ran out of work; 0 = busy     */
    bool poll_first;   /* poll before the idle period (see below)          */
    bool in_gate;      /* this idle period's spin holds a place in gate    */
    uint32_t yield_skip; /* pauses left without a yield ("Yield" below)    */
    uint32_t yield_gap;  /* the next skip after a yield that did not pay   */
    gt__spin_gate *gate; /* shared with the other schedulers; NULL = none  */
} gt__spin;

/* Between two polls of a spin.  A poll costs a system call, and a reader
 * that picks up every small packet the moment it lands spends its time in
 * syscalls: the first pause lets a few accumulate and costs a request
 * ~1 us.  Later pauses are a quarter of the idle time so far, up to the
 * maximum: a wait costs at most a quarter more (a pingpong's ~15 us wait
 * about 1 us) and a 50 us spin polls ~12 times instead of 25, where most
 * polls found nothing (issue 11). */
#define GT__SPIN_POLL_NS 2000
#define GT__SPIN_POLL_MAX_NS 16000

/* Yield (GT_SPIN_YIELD=1; off by default): each pause of a spin begins
 * with sched_yield(2) and pauses only for what is left of it.  A spinning
 * scheduler holds its CPU, and the peer it waits for may be queued behind
 * it on that very CPU (a loaded box: rr conns=1000 with other work
 * around, where the load generator and the server shared a CPU): the spin
 * then polled for nothing until it slept, and the peer's next request
 * woke it at once, one request per wake-up -- epoll_wait, read, sendto and
 * a context switch each, 0.15-0.19 voluntary switches per round trip
 * (rr13).  The yield lets the peer run now, and the poll after it finds
 * all it sent: 0.006 switches per round trip, rr1k server CPU per op
 * 20-35% lower by medians of 6 alternating rounds in each of 5 sets.
 *
 * Off by default because a yield can also hand the CPU to work that is no
 * peer of ours, which then runs while our next request waits: pingpong
 * beside a CPU-bound thread on the server's CPU fell from 3,266 to 572
 * round trips a second, and on the shared box pingpong p50 rose in some
 * sets (26.3 -> 28.2 us; 25.8 -> 67 us in a set where another user's
 * work ran on the server's CPU) and not in others.  The rules below
 * narrow it and do not remove it: a spin yields only while the machine
 * has no CPU to spare (cpus.c, gt__cpu_spare: with one idle, a peer that
 * wants to run gets it anyway), and a yield must pay: it returned within
 * GT__SPIN_YIELD_QUICK_NS, or the poll after it found an event per
 * GT__SPIN_YIELD_PER_EVENT_NS it took (a peer that ran and sent); one
 * that did not stops the yields for the next GT__SPIN_YIELD_GAP pauses,
 * doubling while they keep not paying, up to GT__SPIN_YIELD_GAP_MAX; one
 * that pays resets the gap. */
#define GT__SPIN_YIELD_QUICK_NS 50000
#define GT__SPIN_YIELD_PER_EVENT_NS 20000
#define GT__SPIN_YIELD_GAP 64
#define GT__SPIN_YIELD_GAP_MAX 4096

void gt__spin_init(gt__spin *sp, int64_t max_ns, gt__spin_gate *gate);
/* The scheduler ran out of work at now: how long to poll before sleeping
 * (0 also when the gate is full).  A budget > 0 holds a place in the gate
 * until gt__spin_stop. */
int64_t gt__spin_budget(gt__spin *sp, int64_t now);
/* The poll that began the spin found work pending: the spin was not put
 * to the test, so its record of catches and misses does not count it, and
 * a probe is owed to the next idle period.  Such finds are no spin's doing
 * (a blocking wait returns them as soon), yet they counted as catches:
 * under accept on the busy box, the spins' own polls caught under 3% of
 * their waits in most one-second samples while the first polls found work
 * in 12-44% of the idle periods, and that kept the record
 * near GT__SPIN_PAYS, so full spins came back again and again (acc14). */
void gt__spin_untested(gt__spin *sp);
/* The events that ended the spin are of none of the watchers whose
 * events the scheduler handled last: no conversation's answer, so the
 * catch does not pay ("Conversations" above); gt__spin_woke records it
 * as a spin that missed. */
void gt__spin_caught_other(gt__spin *sp);
/* The spin ended (it caught work or it goes to sleep): free its place in
 * the gate for another scheduler.  Harmless when it holds none. */
void gt__spin_stop(gt__spin *sp);
/* Work arrived at now (events, a remote wake, a timer) after an idle
 * period that gt__spin_budget began. */
void gt__spin_woke(gt__spin *sp, int64_t now);

/* Whether a scheduler that ran out of work polls epoll without waiting
 * before an idle period with no spin (budget 0).  That poll finds only
 * what arrived while processes ran: on a busy server, work (found without
 * idling); on a stream or a conversation, where the run drained the
 * sockets, nothing, and it doubled the epoll_wait per read (the blocking
 * wait returns at once if events are pending).  So it polls first while
 * the last such poll found work or the last idle period ended at once, and
 * not otherwise (issue 11: 1.2-1.4 epoll_wait per read of a stream with
 * GT_SPIN_US=0, 1.0 after).  A spin keeps it as its first poll: skipping
 * it there delayed pingpong replies. */
bool gt__spin_poll_first(const gt__spin *sp);
/* The poll before an idle period found work (found) or not. */
void gt__spin_polled(gt__spin *sp, bool found);
/* An idle period shorter than this found work pending at its start: a
 * blocking wait that returned at once (a spin's first poll comes after a
 * pause this long). */
#define GT__SPIN_AT_ONCE_NS GT__SPIN_POLL_NS

/* Whether this pause of a spin begins with a yield ("Yield" above). */
bool gt__spin_yield_now(gt__spin *sp);
/* The yield took took_ns and the poll after it found n events. */
void gt__spin_yielded(gt__spin *sp, int64_t took_ns, int n);

/* How long to pause before the next poll, idle_ns into a spin with left_ns
 * of its budget left (never past it: the spin ends on time). */
int64_t gt__spin_pause(int64_t idle_ns, int64_t left_ns);

#endif
