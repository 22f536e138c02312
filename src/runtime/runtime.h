/*
 * runtime.h -- the structures shared by the files of runtime/: schedulers,
 * processes, mailboxes, timers, stacks.  Nothing outside runtime/ includes
 * this; the rest of gentcp sees only internal.h.
 */
#ifndef GT_RUNTIME_H
#define GT_RUNTIME_H

#include "internal.h"
#include "runtime/context.h"
#include "util/idset.h"

/* process states, moved by atomic CAS so that a wake from any thread and
 * the scheduler's own bookkeeping never both enqueue a process */
enum { P_RUNNING, P_RUNNABLE, P_WAITING, P_DEAD };

/* what a process asks of its scheduler when it switches back to it */
enum { Y_YIELD, Y_PARK, Y_HIBERNATE, Y_EXIT };

typedef struct gt__mailbox {
    gt__mutex lock;
    bool receiving;     /* owner is parked waiting for a message; read and
                           written with __atomic (mailbox.c wait_announced) */
    bool dead;          /* owner exited: new messages are dropped */
    bool throttled;     /* a socket stopped at the limit: the receive that
                           brings len to limit/2 resumes the owner's
                           resources (gt__resources_resume)              */
    bool has_efd;       /* gt_mailbox_fd made the readiness eventfd: it is
                           in the process's extension (few processes ask
                           for one, every process has a mailbox, issue 11) */
    gt_msg *head, *tail;
    gt_msg *scanned;    /* owner's selective-receive cursor: messages up to
                           and including this one did not match last time */
    _Atomic uint32_t limit; /* gt_set_mailbox_limit: sockets stop reading at
                           len >= limit; 0 = none.  32 bits, beside the
                           flags (every process has a mailbox, issue 11):
                           a larger limit is held at 2^32-1 messages,
                           hundreds of GiB of queue                      */
    uint32_t len;       /* messages queued (message_queue_len); 32 bits for
                           the same reason: 2^32 messages would be hundreds
                           of GiB of envelopes                            */
} gt__mailbox;

/* A node of a scheduler's timer heap (timer.c), embedded in what it times.
 * fire runs on the scheduler's thread once the deadline has passed and the
 * node is out of the heap. */
typedef struct gt__tnode {
    int64_t deadline;           /* ms, CLOCK_MONOTONIC                  */
    int idx;                    /* index in the heap, or -1             */
    void (*fire)(struct gt__tnode *n);
} gt__tnode;

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

typedef struct gt__tpark {
    pthread_mutex_t lock;
    pthread_cond_t cond;
} gt__tpark;

/* What few processes use: allocated at the first use (gt__proc_ext_get,
 * under plock), freed with the process.  An idle or hibernating process
 * carries one pointer for all of it (issue 11). */
typedef struct gt__proc_ext {
    gt__monitor *monitors;      /* plock                                */
    int nmonitors, cap_monitors;
    struct gt__msg_timer *timers; /* pending timers to p (plock), msgtimer.c */
    gt__idset links;            /* linked pids (plock), links.c         */
    struct gt__at_exit *at_exit;/* hooks, run at exit; own thread only  */
    const char *reg_name;       /* the registered name, or NULL; written
                                   under the names table's lock          */
    bool ever_named;            /* gt_register succeeded once (plock)   */
    int mbox_efd;               /* gt_mailbox_fd's eventfd, valid while
                                   mbox.has_efd (mailbox lock)           */
    void *fd_wait;              /* gt_wait_fd's watch while it lasts (own
                                   thread only), so that memory reaches it:
                                   a leak checker does not see epoll's    */
} gt__proc_ext;

/* Fields that one thread writes while others may write a neighbour are
 * whole bytes, not bitfields (a bitfield write is a read-modify-write of
 * its neighbours). */
struct gt__proc {
    gt__proc *rq_next;          /* run queue link                       */
    gt__sched *sched;           /* home scheduler; NULL for OS threads.
                                   Changed only by steal.c while p is
                                   runnable in a run queue, under plock;
                                   other threads read it under plock     */
    uint64_t id;                /* handle: index | generation << 20     */
    atomic_int state;           /* P_*                                  */
    atomic_int notified;        /* a wake arrived since the last park   */
    atomic_int refs;
    gt__mutex plock;            /* resources, exiting, trap_exit, ext   */
    uint8_t yield_reason;       /* Y_*, set before switching out        */
    bool bound;                 /* spawned on a chosen scheduler: stays  */
    bool rehome;                /* moved: its resources follow before it
                                   runs next (its new home's thread)     */
    /* OS-thread processes park on a condition variable instead; it
     * follows the struct in the same allocation (gt__proc_tpark), so that
     * a coroutine process, the common kind, does not carry its 88 bytes
     * (issue 11). */
    /* These two never change once set, before the process is in the
     * table (proc_new), so they share a byte (every process, issue 11). */
    bool is_thread : 1;
    bool thread_owned : 1;      /* created for a foreign thread         */
    bool exiting;               /* plock                                */
    bool monitors_taken;        /* the exit took the monitor list (plock) */
    bool trap_exit;             /* exit signals become messages (plock) */
    bool timed_park;            /* a timed park's deadline may be in the
                                   home's heap: a node on the parked
                                   process's own stack (gt__park).  A flag,
                                   not a pointer to it (every process would
                                   carry 8 more bytes, issue 11): a move
                                   finds the node in the heap
                                   (gt__park_timer_take).  Home thread only */
    gt__fiber fiber;            /* its stack_base/stack_size are the
                                   stack's; while there is none (new, or
                                   hibernating: stack_base NULL),
                                   stack_size is the size to allocate   */
    gt_proc_fn fn;              /* entry (again after hibernate)        */
    void *arg;
    gt__resource *resources;    /* owned resources (sockets), plock     */
    _Atomic int64_t exit_sig;   /* a pending exit: 0, or EXIT_SIG_SET |
                                   the reason (links.c); first one wins */
    _Atomic(gt__proc_ext *) ext;/* NULL until first needed; set once    */
    gt__mailbox mbox;
};

/* An OS-thread process's park lock and condition variable. */
static inline gt__tpark *gt__proc_tpark(gt__proc *p) { return (gt__tpark *)(p + 1); }

/* p's rarely used part, or NULL if it has none yet.  Reading a field of it
 * still takes that field's lock (see gt__proc_ext_get). */
static inline gt__proc_ext *gt__proc_ext_peek(gt__proc *p)
{
    return atomic_load_explicit(&p->ext, memory_order_acquire);
}

/* ---- proc.c ---- */
/* p's rarely used part, allocated at the first call; NULL without memory.
 * plock held (the allocation is made once, under it). */
gt__proc_ext *gt__proc_ext_get(gt__proc *p);
void gt__proc_entry(void *arg);           /* first code on a new stack   */
void gt__proc_finish_exit(gt__proc *p);   /* scheduler side, after switch */

/* ---- sched.c ---- */
extern __thread gt__sched *gt__tls_sched;
extern __thread gt__proc *gt__tls_proc;
void gt__sched_enqueue(gt__sched *s, gt__proc *p);
gt__sched *gt__sched_pick(int hint);
void gt__sched_switch_out(gt__proc *p, int reason); /* from a process */
int gt__sched_count(void);
/* epoll_wait calls of all schedulers that returned no event (tests: the
 * polls the loop spends for nothing). */
unsigned long long gt__sched_empty_polls(void);
/* For tests: the sched_yield calls of every scheduler's spins. */
unsigned long long gt__sched_spin_yields(void);
size_t gt__default_stack_size(void);

/* ---- stack.c ---- */
int gt__stack_alloc(gt__sched *s, size_t size, gt__stack *out);
void gt__stack_free(gt__sched *s, gt__stack *st);
int gt__stack_spare_count(void); /* stacks in the shared spare set */
void gt__stack_trim(gt__sched *s); /* idle after a burst: caches back to one slab */

/* ---- timer.c: per-scheduler min-heap of deadlines ---- */
typedef struct gt__timers {
    gt__tnode **heap;
    int n, cap;
} gt__timers;
/* 0, or -1 when out of memory (the node is then not in the heap). */
int gt__timer_add(gt__timers *t, gt__tnode *n, int64_t deadline);
void gt__timer_del(gt__timers *t, gt__tnode *n);  /* a no-op if not in */
int64_t gt__timer_next(const gt__timers *t);      /* -1 if none */
gt__tnode *gt__timer_pop_expired(gt__timers *t, int64_t now);
/* proc.c: p is moving away from the scheduler whose heap t is: takes p's
 * timed park deadline out of it, if there is one (t's thread). */
void gt__park_timer_take(gt__timers *t, gt__proc *p);

/* ---- io.c ---- */
void gt__io_event(gt__io *w, uint32_t events); /* the loop's dispatch */
/* Releases the registrations the process that just switched out of s
 * ended there (the loop, after each run). */
void gt__io_release_ended(gt__sched *s);

/* ---- resource.c ---- */
void gt__resources_release(gt__proc *p);  /* at exit: release them all  */
void gt__resources_resume(gt__proc *p);   /* the mailbox drained: resume */
void gt__resources_rehome(gt__proc *p);   /* p moved: its fds follow it   */

/* ---- cpus.c ---- */
int gt__cpu_budget(void);   /* online cores, affinity mask, cgroup quota: the least */
/* Whether the machine's CPUs had half a CPU idle over the last 100 ms
 * (cached; sampled from /proc/stat by one caller at a time). */
bool gt__cpu_spare(int64_t now);
extern bool (*_Atomic gt__cpu_spare_hook)(void); /* tests: the verdict */

/* ---- lifecycle.c: spawned processes alive, for gt_stop ---- */
void gt__live_inc(void);
void gt__live_dec(void);

/* ---- names.c ---- */
void gt__names_drop(gt__proc *p);         /* at exit: release its name    */

/* ---- links.c ---- */
/* The reason p exits with: a pending exit signal's, else reason. */
int gt__exit_reason(gt__proc *p, int reason);
bool gt__exit_is_pending(gt__proc *p);
void gt__at_exit_run(gt__proc *p);        /* at exit, on p's own thread   */
/* At exit, after p left the table: sends p's links their exit signal. */
void gt__links_exit(gt__proc *p, int reason);
/* spawn_link: links a new process (not yet running) to its parent. */
int gt__link_new(gt__proc *parent, gt__proc *child);
void gt__links_free(gt__proc *p);         /* the struct is being freed    */

/* ---- fork.c, signals.c: fork() after the runtime started ---- */
void gt__fork_watch(void);                /* once, as the runtime starts  */
void gt__signals_fork_prepare(void);
void gt__signals_fork_parent(void);
void gt__signals_fork_child(void);        /* the parent's dispositions back */

/* ---- msgtimer.c ---- */
void gt__msgtimers_exit(gt__proc *p);     /* at exit: cancel timers to p  */
size_t gt__msgtimer_count(void);          /* timers allocated (tests)     */

/* ---- mailbox.c ---- */
void gt__mbox_init(gt__mailbox *m);
void gt__mbox_close(gt__mailbox *m);      /* frees queued messages */
/* Tests only: called at each step of the lock-free wait announcement
 * (GT__RACE_*), to widen its races; NULL otherwise.  Called with the
 * mailbox lock held at GT__RACE_PUSHED: it may yield the CPU or sleep,
 * never touch the mailbox or park. */
enum { GT__RACE_SAW_EMPTY, GT__RACE_ANNOUNCED, GT__RACE_PUSHED };
extern _Atomic(void (*)(int step)) gt__mbox_race_hook;

#endif
