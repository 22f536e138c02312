/*
 * runtime.h -- the structures shared by the files of runtime/: schedulers,
 * processes, mailboxes, timers, stacks.  Nothing outside runtime/ includes
 * this; the rest of gentcp sees only internal.h.
 */
#ifndef GT_RUNTIME_H
#define GT_RUNTIME_H

#include "internal.h"
#include "runtime/context.h"

/* process states, moved by atomic CAS so that a wake from any thread and
 * the scheduler's own bookkeeping never both enqueue a process */
enum { P_RUNNING, P_RUNNABLE, P_WAITING, P_DEAD };

/* what a process asks of its scheduler when it switches back to it */
enum { Y_YIELD, Y_PARK, Y_HIBERNATE, Y_EXIT };

typedef struct gt__mailbox {
    pthread_mutex_t lock;
    gt_msg *head, *tail;
    gt_msg *scanned;    /* owner's selective-receive cursor: messages up to
                           and including this one did not match last time */
    bool receiving;     /* owner is parked waiting for a message */
    bool dead;          /* owner exited: new messages are dropped */
    int efd;            /* readiness eventfd, -1 until gt_mailbox_fd() */
} gt__mailbox;

typedef struct gt__stack {
    void *base;         /* lowest usable byte; the guard page is below */
    size_t size;        /* usable bytes */
} gt__stack;

/* A process watching another: the DOWN it gets is allocated with the
 * monitor, so that the exit that sends it cannot fail. */
typedef struct gt__monitor {
    gt_pid watcher;
    gt_msg *down;
} gt__monitor;

struct gt__proc {
    gt__proc *rq_next;          /* run queue link                       */
    gt__sched *sched;           /* home scheduler; NULL for OS threads  */
    uint64_t id;                /* handle: index | generation << 20     */
    atomic_int state;           /* P_*                                  */
    atomic_int notified;        /* a wake arrived since the last park   */
    atomic_int refs;
    int yield_reason;           /* Y_*, set before switching out        */
    gt__fiber fiber;
    gt__stack stack;            /* .base NULL while hibernating         */
    size_t stack_size;          /* requested size, reused on wake       */
    gt_proc_fn fn;              /* entry (again after hibernate)        */
    void *arg;
    int timer_idx;              /* index in the scheduler's heap or -1  */
    int64_t timer_deadline;
    /* OS-thread processes park on a condition variable instead. */
    bool is_thread;
    bool thread_owned;          /* created for a foreign thread         */
    pthread_mutex_t tlock;
    pthread_cond_t tcond;
    /* owned sockets and monitors, under plock */
    pthread_mutex_t plock;
    gt__sock *sockets;
    gt__monitor *monitors;
    int nmonitors, cap_monitors;
    bool exiting;
    gt__mailbox mbox;
};

/* ---- proc.c ---- */
void gt__proc_entry(void *arg);           /* first code on a new stack   */
void gt__proc_finish_exit(gt__proc *p);   /* scheduler side, after switch */

/* ---- sched.c ---- */
extern __thread gt__sched *gt__tls_sched;
extern __thread gt__proc *gt__tls_proc;
void gt__sched_enqueue(gt__sched *s, gt__proc *p);
gt__sched *gt__sched_pick(int hint);
void gt__sched_switch_out(gt__proc *p, int reason); /* from a process */
int gt__sched_count(void);
size_t gt__default_stack_size(void);

/* ---- stack.c ---- */
int gt__stack_alloc(gt__sched *s, size_t size, gt__stack *out);
void gt__stack_free(gt__sched *s, gt__stack *st);

/* ---- timer.c: per-scheduler min-heap of parked processes' deadlines ---- */
typedef struct gt__timers {
    gt__proc **heap;
    int n, cap;
} gt__timers;
int gt__timer_add(gt__timers *t, gt__proc *p, int64_t deadline);
void gt__timer_del(gt__timers *t, gt__proc *p);
int64_t gt__timer_next(const gt__timers *t);      /* -1 if none */
gt__proc *gt__timer_pop_expired(gt__timers *t, int64_t now);

/* ---- mailbox.c ---- */
void gt__mbox_init(gt__mailbox *m);
void gt__mbox_close(gt__mailbox *m);      /* frees queued messages */

#endif
