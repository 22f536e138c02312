/*
 * sched.c -- scheduler threads and their loop.
 *
 * One loop iteration, in order:
 *   1. take work other threads queued for us (woken processes, deferred
 *      calls such as ending a closed fd's watcher registration, processes
 *      a busy scheduler handed us); if another scheduler sleeps hungry and
 *      we have been busy, hand it half our movable processes (steal.c);
 *   2. run the ready processes, each until it parks, yields or exits,
 *      then the calls they queued for the end of the pass (the socket
 *      layer's batched writes: one io_uring_enter for them all);
 *   3. fire expired timers;
 *   4. poll epoll: without waiting if processes are ready (or, out of
 *      work, while such polls find work: spin.h); otherwise spin (poll
 *      without sleeping; with GT_SPIN_YIELD=1, yielding the CPU before
 *      each poll: spin.h) for
 *      up to spin_us while recent waits were short
 *      and fewer than half the schedulers spin (spin.h), then ask for work
 *      (hungry) and sleep until the next timer.
 *
 * Why spin: on this kind of VM, waking a sleeping vCPU costs ~45 us, more
 * than a loopback round trip.  A scheduler that keeps polling for a short
 * while after its last work answers a request that arrives in that window
 * without paying the wake-up, as Erlang's schedulers do (their busy-wait).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/sched.h"
#include "util/uring.h"
#include "util/prefetch.h"

#define MAX_EVENTS 256
#define RUN_BATCH 64     /* processes run between two epoll polls, so that
                            busy processes cannot starve socket events */
static void cpu_relax(void)
{
#if defined(__x86_64__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

/* Relax instructions per microsecond, measured once (rt_start): a pause
 * that read the clock after each instruction spent most of its time in
 * clock_gettime (12% of an accept profile).  A pause's length is only a
 * hint -- the spin's bound reads the clock after every poll -- so a
 * measurement disturbed by preemption merely shortens pauses. */
static int64_t relax_per_us = 1;

static void calibrate_relax(void)
{
    int64_t best = INT64_MAX;
    for (int round = 0; round < 3; round++) { /* the least disturbed */
        int64_t t0 = gt__now_ns();
        for (int i = 0; i < 1024; i++)
            cpu_relax();
        int64_t d = gt__now_ns() - t0;
        if (d > 0 && d < best)
            best = d;
    }
    int64_t per_us = best == INT64_MAX ? 1024 : 1024 * 1000 / best;
    relax_per_us = per_us < 1 ? 1 : per_us > 100000 ? 100000 : per_us;
}

/* Pause about ns, or less if another thread hands s work meanwhile (a
 * remote wake does not go through epoll while s is awake). */
static void pause_ns(gt__sched *s, int64_t ns)
{
    for (int64_t i = ns * relax_per_us / 1000; i > 0 && !atomic_load_explicit(&s->remote_pending, memory_order_relaxed); i--)
        cpu_relax();
}

__thread gt__sched *gt__tls_sched;
__thread gt__proc *gt__tls_proc;

static gt__sched *scheds;
static int nscheds;
static int spin_ns;
static bool spin_yield_on; /* GT_SPIN_YIELD=1 (spin.h, "Yield"): off by default */
static gt__spin_gate spin_gate; /* how many may spin at once (spin.h) */
static size_t default_stack;
static atomic_uint rr_next;
static pthread_once_t rt_once = PTHREAD_ONCE_INIT;
static int rt_error;
static gt_config rt_config;
static bool rt_configured;
static atomic_int rt_started;

int gt__sched_count(void) { return nscheds; }

int gt__sched_number(const gt__sched *s)
{
    return s && s >= scheds && s < scheds + nscheds ? (int)(s - scheds) + 1 : 0;
}

unsigned long long gt__sched_empty_polls(void)
{
    unsigned long long n = 0;
    for (int i = 0; i < nscheds; i++)
        n += atomic_load_explicit(&scheds[i].empty_polls, memory_order_relaxed);
    return n;
}

/* epoll_wait without glibc's cancellation bracket (GT_RAW_SYSCALLS,
 * internal.h): an idle spin polls it many times. */
static int sys_epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout)
{
#if GT_RAW_SYSCALLS
    return (int)syscall(SYS_epoll_pwait, epfd, ev, max, timeout, NULL, (size_t)8); /* aarch64 has no epoll_wait */
#else
    return epoll_wait(epfd, ev, max, timeout);
#endif
}

/* sched_yield(2) between a spin's polls (spin.h, "Yield"), counted for
 * the tests (one writer, as empty_polls). */
static void spin_yield(gt__sched *s)
{
#if GT_RAW_SYSCALLS
    syscall(SYS_sched_yield);
#else
    sched_yield();
#endif
    atomic_store_explicit(&s->spin_yields,
                          atomic_load_explicit(&s->spin_yields, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

/* epoll_wait, counting the calls that found nothing (one writer: a plain
 * load and store, no locked add). */
static int poll_events(gt__sched *s, struct epoll_event *ev, int timeout)
{
    int n = sys_epoll_wait(s->epfd, ev, MAX_EVENTS, timeout);
    if (n == 0)
        atomic_store_explicit(&s->empty_polls,
                              atomic_load_explicit(&s->empty_polls, memory_order_relaxed) + 1,
                              memory_order_relaxed);
    return n;
}

unsigned long long gt__sched_spin_yields(void)
{
    unsigned long long n = 0;
    for (int i = 0; i < nscheds; i++)
        n += atomic_load_explicit(&scheds[i].spin_yields, memory_order_relaxed);
    return n;
}

gt__sched *gt__sched_all(int *n)
{
    *n = nscheds;
    return scheds;
}
size_t gt__default_stack_size(void) { return default_stack; }

gt__sched *gt__sched_pick(int hint)
{
    if (hint > 0 && hint <= nscheds)
        return &scheds[hint - 1];
    return &scheds[atomic_fetch_add(&rr_next, 1) % (unsigned)nscheds];
}

static void remote_kick(gt__sched *s)
{
    atomic_thread_fence(memory_order_seq_cst); /* remote_pending vs sleeping */
    if (atomic_load(&s->sleeping)) {
        uint64_t one = 1;
        ssize_t r = write(s->wakefd, &one, sizeof one);
        (void)r;
    }
}

void gt__sched_enqueue(gt__sched *s, gt__proc *p)
{
    p->rq_next = NULL;
    if (gt__tls_sched == s) {
        if (s->rq_tail)
            s->rq_tail->rq_next = p;
        else
            s->rq_head = p;
        s->rq_tail = p;
        s->rq_len++;
        s->rq_movable += !p->bound;
        return;
    }
    gt__sched_enqueue_chain(s, p, p, 1, !p->bound);
}

void gt__sched_enqueue_chain(gt__sched *s, gt__proc *head, gt__proc *tail, int n, int movable)
{
    tail->rq_next = NULL;
    gt__lock(&s->remote_lock, GT__LK_REMOTE);
    if (s->remote_tail)
        s->remote_tail->rq_next = head;
    else
        s->remote_head = head;
    s->remote_tail = tail;
    s->remote_len += n;
    s->remote_movable += movable;
    atomic_store(&s->remote_pending, 1);
    gt__unlock(&s->remote_lock);
    remote_kick(s);
}

int gt__sched_defer(gt__sched *s, void (*fn)(void *), void *arg)
{
    gt__deferred *d = malloc(sizeof *d);
    if (!d)
        return -ENOMEM;
    d->fn = fn;
    d->arg = arg;
    d->heap = true;
    gt__sched_defer_node(s, d);
    return 0;
}

void gt__sched_defer_node(gt__sched *s, gt__deferred *d)
{
    gt__lock(&s->remote_lock, GT__LK_REMOTE);
    d->next = s->deferred;
    s->deferred = d;
    atomic_store(&s->remote_pending, 1);
    gt__unlock(&s->remote_lock);
    if (gt__tls_sched != s)
        remote_kick(s);
    else
        s->defer_local = true;
}

bool gt__sched_in_pass(void)
{
    gt__sched *s = gt__tls_sched;
    return s && s->current;
}

bool gt__sched_at_pass_end(gt__deferred *d)
{
    gt__sched *s = gt__tls_sched;
    if (!s || !s->current)
        return false;
    d->next = s->pass_end;
    s->pass_end = d;
    return true;
}

/* The calls queued by the pass's processes; a call may queue another
 * (the list is taken first), which runs after the next pass. */
static void run_pass_end(gt__sched *s)
{
    gt__deferred *d = s->pass_end;
    s->pass_end = NULL;
    while (d) {
        gt__deferred *next = d->next;
        d->fn(d->arg);
        d = next;
    }
}

uint8_t *gt__sched_scratch(size_t *len)
{
    gt__sched *s = gt__tls_sched;
    if (!s || s->current) /* only the loop itself, not a process on it */
        return NULL;
    *len = GT__SCRATCH;
    return s->scratch;
}

gt__sched *gt__home_sched(gt__proc *p)
{
    return p && p->sched ? p->sched : gt__sched_pick(0);
}

/* Called on a process's stack: hands control back to the scheduler. */
void gt__sched_switch_out(gt__proc *p, int reason)
{
    /* A mutex held across the switch would be held by the scheduler thread
     * for the next process, which deadlocks the thread if it takes it. */
    gt__assert_no_lock();
    gt__sched *s = p->sched;
    p->yield_reason = reason;
    gt__fiber_switch(&p->fiber, &s->fiber, reason == Y_EXIT || reason == Y_HIBERNATE);
    gt__tls_proc = p; /* resumed (possibly much later) */
}

static void take_remote(gt__sched *s)
{
    gt__lock(&s->remote_lock, GT__LK_REMOTE);
    gt__proc *h = s->remote_head, *t = s->remote_tail;
    int n = s->remote_len, movable = s->remote_movable;
    s->remote_head = s->remote_tail = NULL;
    s->remote_len = s->remote_movable = 0;
    gt__deferred *d = s->deferred;
    s->deferred = NULL;
    atomic_store(&s->remote_pending, 0);
    gt__unlock(&s->remote_lock);
    s->defer_local = false;
    if (h) {
        if (s->rq_tail)
            s->rq_tail->rq_next = h;
        else
            s->rq_head = h;
        s->rq_tail = t;
        s->rq_len += n;
        s->rq_movable += movable;
    }
    /* Pushed LIFO; run them in the order they were queued. */
    gt__deferred *rev = NULL;
    while (d) {
        gt__deferred *next = d->next;
        d->next = rev;
        rev = d;
        d = next;
    }
    while (rev) {
        gt__deferred *next = rev->next;
        bool heap = rev->heap;
        rev->fn(rev->arg);
        if (heap)
            free(rev);
        rev = next;
    }
}

/* After a process switched back with Y_PARK: publish it as waiting, unless
 * a wake already arrived, in which case it goes straight back in the queue.
 * Together with gt__wake() (notified first, then CAS WAITING->RUNNABLE) this
 * guarantees that exactly one side enqueues it. */
static void finish_park(gt__sched *s, gt__proc *p)
{
    atomic_store(&p->state, P_WAITING);
    /* Store-then-load on two variables, against gt__wake's mirror image:
     * the full fence is what forbids both sides missing each other.  A
     * seq_cst store and load alone sufficed on x86 and ARMv8 hardware but
     * not under qemu-user, which lets the pair reorder (found by
     * tests/cross/aarch64.sh). */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load(&p->notified)) {
        int expect = P_WAITING;
        if (atomic_compare_exchange_strong(&p->state, &expect, P_RUNNABLE))
            gt__sched_enqueue(s, p);
    }
}

/* p's stack goes back to the pool or the kernel; the fiber holds the
 * only record of it (no second copy in gt__proc, issue 11), and keeps its
 * size for the next one (a page multiple: the same size again). */
static void proc_stack_free(gt__sched *s, gt__proc *p)
{
    gt__stack st = {p->fiber.stack_base, p->fiber.stack_size};
    gt__stack_free(s, &st);
    p->fiber.stack_base = NULL;
    s->trim_frees++;
}

/* What resuming a process reads first, hinted one step ahead so that it
 * arrives while the process before it runs rather than one miss at a time
 * (issue 11, rr1k: with 1,000 connections none of it is still cached):
 *   - next, its frames above the saved stack pointer (the park path:
 *     gt__ctx_switch's registers up to the caller of gt_receive_match,
 *     ~6 lines with gtcat's echo) and its mailbox's first message with
 *     the start of its payload (what the receive takes and echoes);
 *   - the one after it, its struct (run_one and the receive read it):
 *     two ahead, as next's head is read through next's struct. */
#define RESUME_SPAN 448
#define MSG_SPAN (sizeof(gt__envelope) + 64)

static void prefetch_resume(const gt__proc *next)
{
    if (next->rq_next)
        gt__prefetch_w(next->rq_next, sizeof *next->rq_next);
    /* a relaxed read: a delivery may be appending meanwhile; only the
     * owner, not running now, takes the head away */
    gt_msg *m = __atomic_load_n(&next->mbox.head, __ATOMIC_RELAXED);
    if (m)
        gt__prefetch_r(gt__envelope_of(m), MSG_SPAN);
    /* not for one new or hibernating (no stack, no frames yet), nor one
     * whose saved frames are fewer than the span (in its first calls) */
    if (!next->fiber.stack_base)
        return;
    const char *sp = next->fiber.sp, *top = (const char *)next->fiber.stack_base + next->fiber.stack_size;
    if (sp < top && top - sp >= RESUME_SPAN)
        gt__prefetch_r(sp, RESUME_SPAN);
}

static void run_one(gt__sched *s, gt__proc *p)
{
    if (!p->fiber.stack_base) { /* new, or waking from hibernation */
        gt__stack st;
        if (gt__stack_alloc(s, p->fiber.stack_size, &st) != 0) {
            /* No memory for a stack: retry later rather than lose it. */
            gt__sched_enqueue(s, p);
            return;
        }
        p->fiber.stack_base = st.base;
        p->fiber.stack_size = st.size;
        gt__fiber_create(&p->fiber);
        p->fiber.sp = gt__ctx_make(st.base, st.size, gt__proc_entry, p);
    }
    if (p->rehome) { /* moved here: its sockets follow before it runs */
        p->rehome = false;
        gt__resources_rehome(p);
    }
    atomic_store(&p->state, P_RUNNING);
    s->runs++;
    s->current = p;
    gt__tls_proc = p;
    gt__fiber_switch(&s->fiber, &p->fiber, 0);
    s->current = NULL;
    gt__tls_proc = NULL;
    if (s->nended)
        gt__io_release_ended(s);
    switch (p->yield_reason) {
    case Y_YIELD:
        atomic_store(&p->state, P_RUNNABLE);
        gt__sched_enqueue(s, p);
        break;
    case Y_PARK:
        finish_park(s, p);
        break;
    case Y_HIBERNATE:
        gt__fiber_destroy(&p->fiber);
        proc_stack_free(s, p);
        finish_park(s, p);
        break;
    case Y_EXIT:
        gt__fiber_destroy(&p->fiber);
        proc_stack_free(s, p);
        gt__proc_finish_exit(p);
        break;
    }
}

static void fire_timers(gt__sched *s)
{
    if (!s->timers.n)
        return;
    int64_t now = gt__now_ms();
    gt__tnode *n;
    while ((n = gt__timer_pop_expired(&s->timers, now))) {
        gt__uring_flush(); /* a timer may lock a socket a pending send holds */
        n->fire(n);
    }
}

/* An event's watched object (GT__IO_BEFORE/AFTER around its watcher). */
static void hint_object(const struct epoll_event *e)
{
    if (e->data.ptr)
        gt__prefetch_w((const char *)e->data.ptr - GT__IO_BEFORE, GT__IO_BEFORE + GT__IO_AFTER);
}

/* What an event's handler reaches through its object (ops->prefetch: a
 * socket's owner).  ops is read before the event's handling takes any
 * lock: the kernel orders the watcher's setup (gt__io_start, before its
 * epoll_ctl) before epoll_wait reports it, which TSan does not see, so
 * the read is not instrumented (a data race report on every accepted
 * socket that lands second in a batch: handoff_test failed 2 of 3 runs
 * under TSan on 6a7b5a4). */
GT_NO_TSAN
static void hint_reach(const struct epoll_event *e)
{
    const gt__io *w = e->data.ptr;
    if (w && w->ops->prefetch)
        w->ops->prefetch(w);
}

/* ---- batched reads (issue 11, rr1k) ----
 *
 * A system call costs ~1.1 us on the VMs gentcp is measured on, and every
 * readable socket an epoll_wait reports cost one read.  Instead, one
 * io_uring_enter carries a recv for each of them (MSG_DONTWAIT: each runs
 * inside the call), into a slice of its own; each socket's event is then
 * handled as before, its delivery framing the slice where it would have
 * read (recv.c, gt__sock_preread).  Each socket stays locked from its
 * recv's preparation until its event is handled (ops->read_prep,
 * read_done), so that no other reader comes between.  A lone readable
 * socket keeps its plain read: one io_uring_enter costs more than one
 * read (as for the sends, send.c). */
#define READ_SLICE (16 * 1024) /* a slice; a fuller socket reads on as before */
_Static_assert(GT__IO_NOT_READ == GT__URING_NOT_RUN, "a recv not made reads the ordinary way");

static void drain_wakefd(gt__sched *s)
{
    uint64_t v;
    ssize_t r = read(s->wakefd, &v, sizeof v);
    (void)r;
}

/* Reads batched with no sends to ride with: at least this many (one
 * io_uring_enter costs more than one read; 2 or 3 measured the same on
 * rr1k: 11.19 vs 11.11 us/op by medians of 8 alternating rounds, rd12). */
#define READ_MIN 2

static bool reads_on(gt__sched *s)
{
    if (__builtin_expect(s->reads_on == 0, 0)) {
        const char *env = getenv("GT_IO_URING_READS");
        bool off = (env && *env && atoi(env) == 0) || RUNNING_ON_VALGRIND /* memcheck does not
            see the kernel's writes through io_uring: every byte read would be "uninitialised" */;
        if (!off && !s->slices)
            s->slices = malloc((size_t)GT__URING_BATCH * READ_SLICE);
        s->reads_on = !off && s->slices && gt__uring_thread() ? 1 : -1;
    }
    return s->reads_on > 0;
}

/* An event's read_prep, or NULL (ops read without TSan, as hint_reach's
 * read: the kernel orders the watcher's setup before the event). */
GT_NO_TSAN
static int (*read_prep_of(const struct epoll_event *e))(gt__io *, uint32_t, int *)
{
    const gt__io *w = e->data.ptr;
    return w && (e->events & EPOLLIN) ? w->ops->read_prep : NULL;
}

/* Whether an event's kind goes through the batch when it comes alone
 * (ops read without TSan, as read_prep_of's). */
GT_NO_TSAN
static bool alone(const struct epoll_event *e)
{
    const gt__io *w = e->data.ptr;
    return w && (e->events & EPOLLIN) && w->ops->alone;
}

/* Prepares and submits the recvs of one batch, events from..n, with the
 * pass's sends queued in the ring (send.c) if any: slot[i] is event i's
 * slice (-1: handled the ordinary way), res[k] slice k's result (a listen
 * socket's accepts take slot[i] and the next ones: their new fds, more[k]
 * whether more wait; their slices unused).  The batch ends before the
 * event that would need slice GT__URING_BATCH + 1; *upto is where it
 * ended (the next batch's from).  The submit completes the sends (their
 * locks released) before it returns.  Returns the number of slices held
 * (their read_done is due). */
static int read_batch(gt__sched *s, const struct epoll_event *ev, int from, int n, int16_t *slot,
                      int *res, bool *more, int *upto)
{
    gt__uring *r = gt__uring_thread();
    int base = gt__uring_queued(r), nq = 0, nacc = 0, i;
    for (i = from; i < n; i++) {
        slot[i] = -1;
        if (!ev[i].data.ptr) {
            /* The wake-up first, as the ordinary order has it before the
             * events that follow it: under TSan, its eventfd read is what
             * orders a new socket's setup on another thread (its lock's
             * initialisation) before the trylock below (handoff_test). */
            drain_wakefd(s);
            continue;
        }
        int (*prep)(gt__io *, uint32_t, int *) = read_prep_of(&ev[i]);
        if (!prep)
            continue;
        if (nq >= GT__URING_BATCH)
            break; /* the next batch's: this one's slices are all taken */
        if (i + 1 < n)
            hint_object(&ev[i + 1]);
        int accepts = GT__URING_BATCH - nq; /* the room left */
        int fd = prep(ev[i].data.ptr, ev[i].events, &accepts);
        if (fd < 0)
            continue;
        slot[i] = (int16_t)nq;
        if (accepts > 0) {
            for (int j = 0; j < accepts; j++)
                gt__uring_accept(r, fd);
            nq += accepts;
            nacc += accepts;
        } else {
            gt__uring_recv(r, fd, s->slices + (size_t)nq * READ_SLICE, READ_SLICE);
            nq++;
        }
    }
    *upto = i;
    /* (accepts always go: their enter saves the accept4 that says EAGAIN) */
    if (!base && !nacc && nq < READ_MIN) {
        gt__uring_unqueue(r, nq);
        for (int k = 0; k < nq; k++)
            res[k] = GT__IO_NOT_READ, more[k] = false;
        return nq;
    }
    int all[GT__URING_RING];
    gt__uring_submit(r, all);
    for (int k = 0; k < nq; k++) {
        res[k] = all[base + k];
        more[k] = gt__uring_more(r, base + k);
    }
    if (!gt__uring_thread())
        s->reads_on = -1; /* the ring was given up (uring.h) */
    return nq;
}

/* Two steps of hints ahead of the event handled (issue 11, rr1k): the
 * object of the one after next, and what the next one's handler reaches
 * through its object (ops->prefetch: a socket's owner), which reads the
 * object hinted the step before.
 *
 * The reads go in batches of GT__URING_BATCH, one io_uring_enter each,
 * every batch's events handled before the next batch is prepared (its
 * slices are the next one's).  A poll on a loaded server reports many
 * more readable sockets than one batch holds (rr conns=1000 on a busy
 * box: most events came in polls of over 128), and past the first batch
 * each cost a plain read: 0.4-0.9 read(2) per round trip (rr13). */
static void handle_events(gt__sched *s, struct epoll_event *ev, int n)
{
    int16_t slot[MAX_EVENTS];
    int res[GT__URING_BATCH];
    bool more[GT__URING_BATCH];
    /* (the wake-up read in read_batch); with sends pending, a lone read
     * rides with them; a lone accept goes anyway (ops->alone) */
    bool batched = reads_on(s) && gt__uring_thread() &&
                   (n > 1 || gt__uring_queued(gt__uring_thread()) || (n == 1 && alone(&ev[0])));
    if (!batched)
        gt__uring_flush(); /* the pass's sends first, as before */
    int held = 0, upto = 0; /* events before upto went through read_batch */
    if (n > 1)
        hint_object(&ev[1]);
    for (int i = 0; i < n; i++) {
        if (i == upto && batched && reads_on(s))
            held = read_batch(s, ev, i, n, slot, res, more, &upto);
        if (i + 2 < n)
            hint_object(&ev[i + 2]);
        if (i + 1 < n)
            hint_reach(&ev[i + 1]);
        if (ev[i].data.ptr == NULL) {
            if (i >= upto)
                drain_wakefd(s);
            continue;
        }
        if (held && i < upto && slot[i] >= 0) {
            gt__io *w = ev[i].data.ptr;
            int k = slot[i];
            w->ops->read_done(w, ev[i].events, s->slices + (size_t)k * READ_SLICE, READ_SLICE,
                              &res[k], &more[k]);
            continue;
        }
        gt__io_event(ev[i].data.ptr, ev[i].events);
    }
    /* the last few watchers handled, for a spin's answers() */
    for (int i = n > GT__SPIN_ANSWERED ? n - GT__SPIN_ANSWERED : 0; i < n; i++)
        if (ev[i].data.ptr)
            s->answered[s->answered_at++ % GT__SPIN_ANSWERED] = ev[i].data.ptr;
}

void gt__sched_io_released(gt__sched *s, const gt__io *w)
{
    if (!s)
        return;
    for (int k = 0; k < GT__SPIN_ANSWERED; k++)
        if (s->answered[k] == w)
            s->answered[k] = NULL;
}

/* Whether the events a spin caught answer what the loop did last: one
 * is of a watcher among `answered`, or the wake-up's (another thread's
 * hand-over, counted as before) -- spin.h, "Conversations".  The first
 * few events only: a conversation's answer comes alone. */
static bool answers(const gt__sched *s, const struct epoll_event *ev, int n)
{
    for (int i = 0; i < n && i < GT__SPIN_ANSWERED; i++) {
        const gt__io *w = ev[i].data.ptr;
        if (!w)
            return true;
        for (int k = 0; k < GT__SPIN_ANSWERED; k++)
            if (s->answered[k] == w)
                return true;
    }
    return false;
}

static void *sched_main(void *arg)
{
    gt__sched *s = arg;
    gt__tls_sched = s;
    gt__fiber_init_thread(&s->fiber);
    s->awake_since = gt__now_ns();
    struct epoll_event ev[MAX_EVENTS];
    for (;;) {
        take_remote(s);
        gt__steal_check(s);
        for (int i = 0; i < RUN_BATCH && s->rq_head && !s->defer_local; i++) {
            gt__proc *p = s->rq_head;
            s->rq_head = p->rq_next;
            if (!s->rq_head)
                s->rq_tail = NULL;
            s->rq_len--;
            s->rq_movable -= !p->bound;
            if (s->rq_head)
                prefetch_resume(s->rq_head);
            run_one(s, p);
        }
        if (s->pass_end)
            run_pass_end(s);
        fire_timers(s);
        /* Out of work, with no spin to come and the last such poll empty
         * (spin.h, gt__spin_poll_first): straight to the blocking wait.
         * Otherwise poll without waiting first -- with work left, so that
         * busy processes cannot starve socket events; out of work, as the
         * spin's first poll (skipping it there delayed pingpong). */
        int n = 0;
        bool idle = !s->rq_head && !atomic_load(&s->remote_pending);
        bool began = idle && !gt__spin_poll_first(&s->spin);
        int64_t now = began ? gt__now_ns() : 0;
        int64_t budget = began ? gt__spin_budget(&s->spin, now) : 0;
        if (!began || budget > 0) {
            n = poll_events(s, ev, 0);
            if (idle && !began)
                gt__spin_polled(&s->spin, n > 0);
            else if (began && n > 0)
                gt__spin_untested(&s->spin); /* no spin's catch (spin.h) */
        }
        if (n == 0)
            gt__uring_flush(); /* no reads for the pass's sends to ride with
                                  (uring.h): they go now, never after a wait */
        if (began || (n == 0 && !s->rq_head)) {
            /* Idle: spin while recent waits were short (spin.h), then
             * sleep until the next timer or event. */
            bool caught_up = n == 0; /* nothing left to do: steal.c */
            if (!began) {
                now = gt__now_ns();
                budget = gt__spin_budget(&s->spin, now);
            }
            int64_t idle_from = now, spin_end = now + budget;
            bool spun = false;
            while (n == 0 && now < spin_end && !atomic_load(&s->remote_pending)) {
                spun = true;
                /* Yield, then pause for what is left of the pause (spin.h,
                 * "Yield"): a peer waiting for this CPU runs now. */
                int64_t due = now + gt__spin_pause(now - idle_from, spin_end - now);
                bool yielded = spin_yield_on && !gt__cpu_spare(now) && gt__spin_yield_now(&s->spin);
                int64_t before = now;
                if (yielded) {
                    spin_yield(s);
                    now = gt__now_ns();
                }
                if (due > now)
                    pause_ns(s, due - now);
                n = poll_events(s, ev, 0);
                if (yielded)
                    gt__spin_yielded(&s->spin, now - before, n);
                now = gt__now_ns();
            }
            if (spun && n > 0 && !answers(s, ev, n))
                gt__spin_caught_other(&s->spin);
            s->spin_ns += now - idle_from; /* on a core, but no work */
            gt__spin_stop(&s->spin);
            if (n == 0) {
                /* the spin so far is idle time of the window that
                 * gt__steal_idle may close (steal.c's busy share) */
                s->idle_ns += now - idle_from;
                idle_from = now;
                gt__steal_idle(s); /* spun for nothing: ask for work */
                atomic_store(&s->sleeping, 1);
                atomic_thread_fence(memory_order_seq_cst); /* see finish_park */
                if (!atomic_load(&s->remote_pending)) {
                    int64_t next = gt__timer_next(&s->timers);
                    int wait = -1;
                    if (next >= 0) {
                        int64_t d = next - gt__now_ms();
                        wait = d < 0 ? 0 : d > 1000000 ? 1000000 : (int)d;
                    }
                    wait = gt__trim_wait(s, wait);
                    n = poll_events(s, ev, wait);
                    gt__trim_idle(s, wait, n);
                }
                atomic_store(&s->sleeping, 0);
                gt__steal_awake(s);
            }
            int64_t woke = gt__now_ns();
            s->idle_ns += woke - idle_from;
            gt__spin_woke(&s->spin, woke);
            if (caught_up)
                s->awake_since = woke;
        }
        if (n > 0)
            handle_events(s, ev, n);
    }
    return NULL;
}

/* Precedence (stated in gentcp.h): a field set in gt_init()'s config, then
 * the environment, then the default.  The program's explicit choice wins;
 * the environment tunes programs that leave the choice open. */
static void rt_start(void)
{
    const char *env;
    atomic_store(&rt_started, 1);
    gt__fork_watch();
    nscheds = gt__cpu_budget();
    if ((env = getenv("GT_SCHEDULERS")) && atoi(env) > 0)
        nscheds = atoi(env);
    if (rt_configured && rt_config.schedulers > 0)
        nscheds = rt_config.schedulers;
    if (nscheds < 1)
        nscheds = 1;
    int spin_us = 50;
    if ((env = getenv("GT_SPIN_US")))
        spin_us = atoi(env);
    if (rt_configured && rt_config.spin_us)
        spin_us = rt_config.spin_us;
    spin_ns = spin_us < 0 ? 0 : spin_us > INT_MAX / 1000 ? INT_MAX : spin_us * 1000;
    if ((env = getenv("GT_SPIN_YIELD")))
        spin_yield_on = atoi(env) > 0;
    if (spin_ns)
        calibrate_relax();
    default_stack = rt_configured && rt_config.stack_size ? rt_config.stack_size : 64 * 1024;
    int steal = 1;
    if ((env = getenv("GT_STEAL")) && *env)
        steal = atoi(env);
    if (rt_configured && rt_config.steal)
        steal = rt_config.steal;
    gt__steal_on = steal > 0 && nscheds > 1;
    size_t ps = (size_t)sysconf(_SC_PAGESIZE);
    default_stack = (default_stack + ps - 1) & ~(ps - 1);

    gt__spin_gate_init(&spin_gate, nscheds);
    scheds = calloc((size_t)nscheds, sizeof *scheds);
    if (!scheds) {
        rt_error = -ENOMEM;
        return;
    }
    for (int i = 0; i < nscheds; i++) {
        gt__sched *s = &scheds[i];
        s->index = i;
        gt__spin_init(&s->spin, spin_ns, &spin_gate);
        gt__mutex_init(&s->remote_lock);
        s->epfd = epoll_create1(EPOLL_CLOEXEC);
        s->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        s->scratch = malloc(GT__SCRATCH);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
        if (s->epfd < 0 || s->wakefd < 0 || !s->scratch ||
            epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->wakefd, &ev) != 0) {
            rt_error = gt__errno();
            return;
        }
    }
    for (int i = 0; i < nscheds; i++) {
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&scheds[i].thread, &attr, sched_main, &scheds[i]) != 0)
            rt_error = -EAGAIN;
        pthread_attr_destroy(&attr);
    }
}

int gt_init(const gt_config *cfg)
{
    if (gt__forked())
        return GT_EFORKED;
    static atomic_int called;
    if (cfg && (cfg->schedulers > GT__MAX_SCHEDULERS || cfg->stack_size > GT__MAX_STACK))
        return GT_EBADARG;
    if (atomic_exchange(&called, 1) || atomic_load(&rt_started))
        return -EALREADY;
    if (cfg) {
        rt_config = *cfg;
        rt_configured = true;
    }
    pthread_once(&rt_once, rt_start);
    return rt_error;
}

int gt_schedulers(void)
{
    if (gt__forked())
        return GT_EFORKED;
    int err = gt__rt_ensure();
    return err ? err : nscheds;
}

int gt_scheduler_id(void)
{
    if (gt__forked())
        return GT_EFORKED;
    gt__sched *s = gt__tls_sched;
    return s ? s->index + 1 : 0;
}

int gt__rt_ensure(void)
{
    if (gt__forked())
        return GT_EFORKED;
    pthread_once(&rt_once, rt_start);
    return rt_error;
}
