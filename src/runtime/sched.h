/*
 * sched.h -- a scheduler: one OS thread running processes from its run
 * queue and servicing its own epoll set.  Processes and sockets are homed
 * on one scheduler for life (no migration), so a scheduler's run queue,
 * timer heap and stack pool are touched only by its own thread; other
 * threads reach it through the locked `remote` queue and its eventfd.
 */
#ifndef GT_SCHED_H
#define GT_SCHED_H

#include "runtime/runtime.h"
#include "runtime/spin.h"

#define GT__STACK_POOL 64   /* cached default stacks per scheduler */
#define GT__SCRATCH (64 * 1024)

struct gt__sched {
    int index;
    pthread_t thread;
    int epfd;
    int wakefd;                 /* eventfd: remote work arrived          */
    atomic_int sleeping;        /* in a blocking epoll_wait              */
    gt__fiber fiber;            /* the scheduler thread's own stack      */
    gt__proc *current;
    gt__proc *rq_head, *rq_tail;/* local run queue                       */
    pthread_mutex_t remote_lock;/* guards remote_* and deferred          */
    gt__proc *remote_head, *remote_tail;
    gt__deferred *deferred;
    atomic_int remote_pending;  /* remote_head or deferred is non-empty  */
    bool defer_local;           /* a process of this scheduler deferred a
                                   call: the batch ends when it parks, as a
                                   port task runs between Erlang processes
                                   (delay_send's flush); own thread only  */
    gt__timers timers;
    gt__spin spin;              /* the adaptive spin budget (spin.h)     */
    gt__stack pool[GT__STACK_POOL];
    int npool;
    uint8_t *scratch;           /* GT__SCRATCH bytes for socket reads    */
};

#endif
