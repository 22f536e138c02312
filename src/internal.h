/*
 * internal.h -- declarations shared between gentcp's modules (gt__ prefix).
 * Each module's private state stays static in its own file; what is here is
 * the narrow waist between runtime/, socket/ and packet/ (tests/structure/layers.sh
 * checks that each uses only the layers below it).
 */
#ifndef GT_INTERNAL_H
#define GT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "gentcp.h"
#include "util/lock.h"
#include "util/sanitizer.h"

typedef struct gt__proc gt__proc;
typedef struct gt__sched gt__sched;

/* glibc's read, send and epoll_wait are cancellation points: each call is
 * bracketed by __pthread_enable/disable_asynccancel (~60 instructions).
 * gentcp's threads are never cancelled, so its hot system calls go by
 * syscall() (issue 11, rr1k).  Sanitizer builds keep the libc calls: their
 * interceptors model the synchronisation through descriptors and epoll. */
#define GT_RAW_SYSCALLS (!GT_SANITIZED)

/* The struct of type `type` whose member `member` is at ptr. */
#define gt__container_of(ptr, type, member) \
    ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* ---- time: absolute deadlines in ms on CLOCK_MONOTONIC ------------------ */

static inline int64_t gt__now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
static inline int64_t gt__now_ms(void) { return gt__now_ns() / 1000000; }

/* Erlang timeout (ms, GT_INFINITY) -> absolute deadline (ms, -1 = never).
 * Converted once at the API boundary (STYLE habit 7). */
#define GT__TIMEOUT_MAX_MS (INT64_C(100) * 366 * 24 * 3600 * 1000)
static inline int64_t gt__deadline(int64_t timeout_ms)
{
    /* A century is forever: a longer timeout would overflow now + timeout
     * here and the nanosecond sums of a timed wait (UBSan, issue 7 item 17). */
    if (timeout_ms == GT_INFINITY || timeout_ms > GT__TIMEOUT_MAX_MS)
        return -1;
    return gt__now_ms() + (timeout_ms < 0 ? 0 : timeout_ms);
}
static inline bool gt__expired(int64_t deadline)
{
    return deadline >= 0 && gt__now_ms() >= deadline;
}

/* ---- runtime (runtime/) ------------------------------------------------- */

/* Bounds of gt_config and gt_spawn_opts: larger values are GT_EBADARG
 * rather than an overflow or a billion threads. */
#define GT__MAX_SCHEDULERS 4096
#define GT__MAX_STACK ((size_t)1 << 40)

/* Starts the runtime with defaults if nobody did; returns 0 or an error. */
int gt__rt_ensure(void);

/* True in a child of fork() made after the runtime started: every public
 * call that touches the runtime returns GT_EFORKED on entry (runtime/fork.c). */
extern atomic_int gt__forked_flag;
static inline bool gt__forked(void)
{
    return atomic_load_explicit(&gt__forked_flag, memory_order_relaxed);
}

/* The calling process; creates one for a foreign OS thread.  NULL only when
 * out of memory. */
gt__proc *gt__self(void);
/* Whether the caller is a process ending (its sockets are being closed):
 * such closes are not deferred, so that whoever its exit tells (links,
 * monitors) finds them closed. */
bool gt__self_exiting(void);

/* Parks the caller until gt__wake() or the deadline (-1: none).  May return
 * spuriously: callers re-check their condition in a loop.  Before parking,
 * the caller must have registered itself where a waker will find it, under
 * that registration's lock, and it must take that lock again after parking
 * before it may exit (so a waker that calls gt__wake() under the lock never
 * touches a freed process). */
void gt__park(int64_t deadline);

/* GT_EEXITING if an exit signal is ending the calling process, else 0.
 * Every loop that parks calls it before parking, and gives up with its
 * result (after undoing its registration): a killed process must not wait
 * (gentcp.h, "Links and exit signals"). */
int gt__exit_check(void);

/* Makes p runnable if it is parked (from any thread). */
void gt__wake(gt__proc *p);

/* Reference counting of process structs: a lookup or a socket's owner link
 * holds a reference; the struct is freed when the last goes. */
void gt__proc_ref(gt__proc *p);
void gt__proc_unref(gt__proc *p);
/* Hints p's struct into the cache (a delivery is a step away; issue 11). */
void gt__proc_prefetch(const gt__proc *p);
gt__proc *gt__proc_lookup(gt_pid pid); /* +1 ref, or NULL if dead */
gt_pid gt__proc_pid(const gt__proc *p);
bool gt__proc_alive(const gt__proc *p);

/* The scheduler a new socket of the caller is homed on (its epoll). */
gt__sched *gt__home_sched(gt__proc *p);

/* A deferred call; embed one in an object to defer without allocating. */
typedef struct gt__deferred {
    struct gt__deferred *next;
    void (*fn)(void *);
    void *arg;
    bool heap; /* freed by the scheduler after the call */
} gt__deferred;

/* Queues d (fn and arg set by the caller) to run on s like
 * gt__sched_defer(); d must stay valid until it has run. */
void gt__sched_defer_node(gt__sched *s, gt__deferred *d);
/* From a process running on a scheduler: d->fn(d->arg) runs on that
 * scheduler's thread once the current pass over its run queue ends (at
 * most RUN_BATCH processes: before the loop polls epoll, fires timers or
 * sleeps), with no process running and no lock held.  false (d not
 * queued) when the caller is not a process on a scheduler.  d must stay
 * valid until it has run.  The socket layer's batched writes. */
bool gt__sched_at_pass_end(gt__deferred *d);
/* Whether the caller is a process running on a scheduler (so that
 * gt__sched_at_pass_end would queue). */
bool gt__sched_in_pass(void);

/* Runs fn(arg) on scheduler s's thread at the top of its next loop
 * iteration, outside any event batch (used to drop the epoll reference of
 * a closed socket only when no fetched event can still name it). */
int gt__sched_defer(gt__sched *s, void (*fn)(void *), void *arg);

/* A 64 KiB scratch read buffer owned by the calling scheduler thread, or
 * NULL on a foreign thread. */
uint8_t *gt__sched_scratch(size_t *len);

/* ---- mailbox (runtime/mailbox.c) ----------------------------------------- */

/* Allocates a message with room for len payload bytes at msg->data. */
gt_msg *gt__msg_new(gt_msg_kind kind, size_t len);
/* Frees the calling thread's cached message blocks (runtime/trim.c). */
void gt__msg_cache_trim(void);
int gt__msg_cache_count(void); /* blocks the calling thread caches */
/* A message whose len payload bytes are at data, inside the allocation
 * block (from malloc), which the message takes over and frees: a big frame
 * handed on from a socket's input buffer without a copy.  NULL on failure
 * (block still the caller's). */
gt_msg *gt__msg_adopt(gt_msg_kind kind, void *block, uint8_t *data, size_t len);
/* Sets msg->http to http (gt__msg_new's message, NULL or the packet
 * layer's one block), which gt_msg_free then frees. */
void gt__msg_own_http(gt_msg *msg, const struct gt_http_packet *http);

/* A message as allocated: the mailbox link sits in front of the public
 * gt_msg, so that it is no part of the public struct (nor of its ABI). */
typedef struct gt__envelope {
    gt_msg *next;
    void *block;    /* gt__msg_adopt's allocation, freed with the message;
                       or mailbox.c's mark of a big payload or an http
                       packet (NULL: a plain cacheable block) */
    gt_msg msg;
} gt__envelope;

static inline gt__envelope *gt__envelope_of(gt_msg *m)
{
    return (gt__envelope *)(void *)((char *)m - offsetof(gt__envelope, msg));
}

/* The link of a message made by gt__msg_new(), as an lvalue. */
#define GT__NEXT(m) (gt__envelope_of(m)->next)

/* Appends a chain of messages (linked by GT__NEXT) to p's mailbox and wakes it.
 * Takes ownership of the chain; if p is dead the chain is freed. */
void gt__mbox_deliver(gt__proc *p, gt_msg *first, gt_msg *last);
/* The same, for a chain whose length n the caller counted as it built it
 * (a socket's batch): no walk of the chain. */
void gt__mbox_deliver_n(gt__proc *p, gt_msg *first, gt_msg *last, size_t n);

/* The back-pressure of gt_set_mailbox_limit: true when p's mailbox, with
 * `pending` more messages about to be delivered, is at or over its limit.
 * Then the mailbox remembers that a resource stopped for it, and the
 * receive that brings it down to half the limit resumes p's resources
 * (their ops->resume).  Always false without a limit. */
bool gt__mbox_over_limit(gt__proc *p, size_t pending);
/* Whether p's mailbox has a limit now (a relaxed read, no lock): a
 * delivery reads it once and asks gt__mbox_over_limit only if so. */
bool gt__mbox_limited(gt__proc *p);

/* Moves the messages about sock that controlling_process transfers (tcp and
 * tcp_closed, in order) from one mailbox to another; returns true if a
 * GT_MSG_TCP_CLOSED was among them. */
bool gt__mbox_move_socket(gt__proc *from, gt__proc *to, gt_socket sock);

/* Removes the first GT_MSG_TCP_CLOSED about sock from p's mailbox, if any
 * (gen_tcp:close's `receive {tcp_closed, S} -> ok after 0 -> ok end`).
 * Only p itself may call it: it unlinks from the middle of the queue. */
void gt__mbox_drop_closed(gt__proc *p, gt_socket sock);

/* ---- fd watchers (runtime/io.c) ------------------------------------------ */

/* An fd in a scheduler's epoll set, edge-triggered for input, output and
 * the peer's FIN (libuv's uv__io_t): ops->event(w, epoll events) runs on the home
 * scheduler's thread for each event.  Embed one in the object it watches.
 *
 * Registrations: gt__io_start() and a gt__io_move() that returns true each
 * begin one; each ends with exactly one call of ops->release(w), on the home it
 * had, at the top of that scheduler's loop -- outside any event batch, so
 * that no fetched event can still name w once release has run.  Events
 * may arrive at once: the caller accounts for a registration (e.g. with a
 * reference that release drops) before the call that begins it.  The
 * watched object serialises calls on one watcher (the socket's lock). */
typedef struct gt__io gt__io;
/* What a kind of watcher does (one static table per kind: a pointer in
 * each watcher, not two; every connection has one, issue 11). */
typedef struct gt__io_ops {
    void (*event)(gt__io *w, uint32_t events);
    void (*release)(gt__io *w);
    /* Optional: hints what event() will touch beyond the watched object
     * (a socket's owner), one event ahead, on the loop's thread, the
     * object's own lines hinted the step before.  No locks, no effects. */
    void (*prefetch)(const gt__io *w);
    /* Optional: the scheduler's batched reads (sched.c, issue 11: one
     * io_uring_enter carries a recv for each socket an epoll_wait
     * reported readable).  read_prep takes the object's lock if it is
     * free (a bare trylock: the batch holds several at once) and answers
     * the fd to receive from when a read now is exactly what event()
     * would do first; else -1, nothing held.  read_done then stands for
     * event() with the lock still held, and releases it: (buf, res) is
     * what the recv of at most len bytes got (bytes or -errno), or res
     * GT__IO_NOT_READ when none was made (the ordinary read then): res[0].
     * A listen socket's accepts instead (issue 11, accept): read_prep
     * finds *accepts the room the batch has left and sets it to the number
     * of accepts to make (0: a recv), each a non-waiting accept4 of the
     * fd; read_done then finds their results at res[0..n) (a new fd or
     * -errno) and at more[0..n) whether the kernel said more connections
     * wait (uring.h, gt__uring_more). */
    int (*read_prep)(gt__io *w, uint32_t events, int *accepts);
    void (*read_done)(gt__io *w, uint32_t events, uint8_t *buf, size_t len, const int *res,
                      const bool *more);
    /* A lone event of this kind goes through the batch too: an accept's
     * io_uring_enter replaces an accept4 and the accept4 after it that
     * would say EAGAIN, where a lone recv's enter would only replace a
     * read. */
    bool alone;
} gt__io_ops;
#define GT__IO_NOT_READ (-0x7fffffff) /* uring.h's GT__URING_NOT_RUN */
struct gt__io {
    int fd;                                  /* -1 when not watched      */
    gt__sched *home;                         /* whose epoll set, loop    */
    const gt__io_ops *ops;
};
/* Where an event's callback reads: the watched object lies within
 * GT__IO_BEFORE bytes before its watcher and GT__IO_AFTER from it (a
 * socket asserts it).  The loop prefetches that span of the next event's
 * object while it handles the current one: it knows the watcher only,
 * and a size read from the object would be the miss it means to hide. */
#define GT__IO_BEFORE 32
#define GT__IO_AFTER 224

/* Watches fd on home.  0, or -errno (nothing begun, release not called). */
int gt__io_start(gt__io *w, gt__sched *home, int fd, const gt__io_ops *ops);

/* gt__io_start without the epoll_ctl: for a caller that adds w itself
 * before home polls again (the socket layer's end-of-pass batch, one
 * io_uring_enter for the accepts of a pass), with what gt__io_add_args
 * gives, or with gt__io_add_now.  Only from a process running on home:
 * its loop polls only after the pass has ended, and an epoll ADD reports
 * the readiness the fd already has, so nothing is missed.  False (nothing
 * done) for any other caller. */
bool gt__io_start_later(gt__io *w, gt__sched *home, int fd, const gt__io_ops *ops);
/* The epoll_ctl(ADD) of w, started late: *ev is filled in (events and
 * data) and the epoll fd returned.  The caller may add only while w is
 * watched (fd >= 0) from its home's thread. */
struct epoll_event;
int gt__io_add_args(gt__io *w, struct epoll_event *ev);
/* The same ADD by system call now: 0 or a negative error. */
int gt__io_add_now(gt__io *w);

/* Re-homes w on p's scheduler (an OS-thread process has none: w stays),
 * so that events, p's wake-ups and deferred calls stay on one thread.
 * True when a new registration replaced the old one (whose release runs
 * on the old home); false when nothing changed: same home, none, w not
 * watched, or epoll refused (still correct, only slower).  in_set: w's fd
 * is in the old home's set (false: started with gt__io_start_later, its
 * add not made yet), which the move then leaves with an epoll_ctl DEL. */
bool gt__io_move(gt__io *w, gt__proc *p, bool in_set);
/* epoll_ctl system calls of the watchers made by the calling thread so
 * far (tests count them). */
unsigned long long gt__io_ctl_calls_here(void);

/* True when p runs on w's home scheduler (p's home read under its plock). */
bool gt__io_homed_with(const gt__io *w, gt__proc *p);
/* s's number as gt_scheduler_id() tells it, 1..count; 0 for none. */
int gt__sched_number(const gt__sched *s);

/* Closes w's fd, which also takes it out of the epoll set, and ends the
 * registration.  A no-op when w is not watched. */
void gt__io_close(gt__io *w);

/* Ends w's registration without closing its fd, for a caller that closes
 * it itself before w's home polls again (the socket layer's end-of-pass
 * batch: one io_uring_enter for the closes of a pass).  Only from a
 * process running on w's home: the loop fetches no event until that
 * process's pass has ended, so none can name w between the end of the
 * registration and the close.  False (nothing done) when w is not watched
 * or the caller is not such a process. */
bool gt__io_close_later(gt__io *w);

/* Ends the watch of an fd that stays open (its owner closes it later):
 * takes it out of the epoll set and ends the registration.  A no-op when
 * w is not watched. */
void gt__io_stop(gt__io *w);

/* ---- resources owned by a process (runtime/resource.c) ------------------- */

/* Something a process owns and that its exit releases (a socket): linked
 * in the owner's list under the owner's plock.  Lock order: the
 * resource's own lock, if any, before the owner's plock. */
typedef struct gt__resource gt__resource;
typedef struct gt__resource_ops {
    /* Keeps r alive past the owner's plock (a reference); runs under it. */
    void (*hold)(gt__resource *r);
    /* The owner exits: release r (r is already out of its list) and drop
     * the hold.  Runs in the exiting process, no runtime lock held. */
    void (*release)(gt__resource *r, gt__proc *owner);
    /* The owner's mailbox fell back below its limit: r may go on filling
     * it (a socket paused by gt__mbox_over_limit reads again), then drops
     * the hold.  Runs in the owner, no runtime lock held.  May be NULL. */
    void (*resume)(gt__resource *r);
    /* The owner moved to another scheduler (docs/DESIGN.md, "Balance"): r
     * follows it (a socket's fd watcher moves, gt__io_move), then drops
     * the hold.  Runs on the owner's new scheduler thread, before the
     * owner runs there, no runtime lock held.  May be NULL. */
    void (*rehome)(gt__resource *r, gt__proc *owner);
} gt__resource_ops;
struct gt__resource {
    gt__resource *next, *prev;
    const gt__resource_ops *ops;
};

void gt__resource_link(gt__proc *p, gt__resource *r);
/* A no-op when r is not in p's list (an exit took it out first). */
void gt__resource_unlink(gt__proc *p, gt__resource *r);

/* Hands r from `from` (the caller, so not exiting) to `to`.  Under to's
 * plock, and only while `to` is not exiting, handover(arg) runs and says
 * whether r moves: what it does there (moving messages into to's mailbox)
 * cannot race with to's exit, and a resource linked to `to` is one its
 * exit will release.  Returns 1 (moved), 0 (handover said no) or
 * GT_ENOPROC (`to` exits); r stays with `from` unless moved. */
int gt__resource_move(gt__resource *r, gt__proc *from, gt__proc *to,
                      bool (*handover)(void *arg), void *arg);

/* ---- errors ---------------------------------------------------------------- */

/* -errno for the current errno (never 0). */
int gt__errno(void);

#endif
