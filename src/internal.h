/*
 * internal.h -- declarations shared between gentcp's modules (gt__ prefix).
 * Each module's private state stays static in its own file; what is here is
 * the narrow waist between runtime/, socket/, opt/ and packet/.
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

typedef struct gt__proc gt__proc;
typedef struct gt__sched gt__sched;
typedef struct gt__sock gt__sock;

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

/* The calling process; creates one for a foreign OS thread.  NULL only when
 * out of memory. */
gt__proc *gt__self(void);

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
gt__proc *gt__proc_lookup(gt_pid pid); /* +1 ref, or NULL if dead */
gt_pid gt__proc_pid(const gt__proc *p);
bool gt__proc_alive(const gt__proc *p);

/* The scheduler a new socket of the caller is homed on (its epoll). */
gt__sched *gt__home_sched(gt__proc *p);

/* epoll registration of an fd on a scheduler's loop, edge-triggered.
 * ptr is handed back to gt__sock_event(). */
int gt__sched_watch(gt__sched *s, int fd, void *ptr);
/* Removes fd from s's epoll set (the fd stays open). */
void gt__sched_unwatch(gt__sched *s, int fd);

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

/* A message as allocated: the mailbox link sits in front of the public
 * gt_msg, so that it is no part of the public struct (nor of its ABI). */
typedef struct gt__envelope {
    gt_msg *next;
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

/* Moves the messages about sock that controlling_process transfers (tcp and
 * tcp_closed, in order) from one mailbox to another; returns true if a
 * GT_MSG_TCP_CLOSED was among them. */
bool gt__mbox_move_socket(gt__proc *from, gt__proc *to, gt_socket sock);

/* Removes the first GT_MSG_TCP_CLOSED about sock from p's mailbox, if any
 * (gen_tcp:close's `receive {tcp_closed, S} -> ok after 0 -> ok end`).
 * Only p itself may call it: it unlinks from the middle of the queue. */
void gt__mbox_drop_closed(gt__proc *p, gt_socket sock);

/* ---- sockets (socket/) ---------------------------------------------------- */

/* Called by the home scheduler for each epoll event on a socket. */
void gt__sock_event(gt__sock *s, uint32_t events);

/* Called when a process exits: closes every socket it owns. */
void gt__proc_close_sockets(gt__proc *p);

/* Links a socket into its owner's list (p->sockets); both under p's lock. */
void gt__proc_link_sock(gt__proc *p, gt__sock *s);
void gt__proc_unlink_sock(gt__proc *p, gt__sock *s);

/* ---- errors ---------------------------------------------------------------- */

/* -errno for the current errno (never 0). */
int gt__errno(void);

#endif
