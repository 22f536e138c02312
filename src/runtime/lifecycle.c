/*
 * lifecycle.c -- the end of a program's runtime: gt_stop() waits, up to a
 * deadline, for every spawned process to end (a drain), so that main can
 * return without cutting off a connection that still had work to finish.
 *
 * The runtime counts the spawned processes alive (coroutines and os_thread
 * spawns; threads that merely called the API are not counted: they end when
 * their thread does).  The stopper parks until the count reaches zero; the
 * exit that brings it there wakes it, under the lock it registered with.
 */
#include <errno.h>

#include "runtime/runtime.h"

static atomic_long live;
static gt__mutex stop_lock = GT__MUTEX_INIT;
static gt__proc *stopper; /* the one caller of gt_stop, under stop_lock */

void gt__live_inc(void) { atomic_fetch_add(&live, 1); }

void gt__live_dec(void)
{
    if (atomic_fetch_sub(&live, 1) != 1)
        return;
    gt__lock(&stop_lock, GT__LK_STOP);
    if (stopper)
        gt__wake(stopper);
    gt__unlock(&stop_lock);
}

int gt_stop(int64_t timeout_ms)
{
    if (gt__forked())
        return GT_EFORKED;
    gt__proc *self = gt__self();
    if (!self)
        return -ENOMEM;
    if (!self->thread_owned)
        return GT_EBADARG; /* a spawned process would wait for itself */
    /* The caller's own sockets close first: closing is how a server stops
     * accepting, and a socket with output still queued is handed to a
     * linger process, which the drain below then waits for. */
    gt__resources_release(self);
    int64_t deadline = gt__deadline(timeout_ms);
    gt__lock(&stop_lock, GT__LK_STOP);
    if (stopper) {
        gt__unlock(&stop_lock);
        return -EALREADY;
    }
    stopper = self;
    while (atomic_load(&live) > 0 && !gt__expired(deadline)) {
        gt__unlock(&stop_lock);
        gt__park(deadline);
        gt__lock(&stop_lock, GT__LK_STOP);
    }
    stopper = NULL;
    gt__unlock(&stop_lock);
    if (atomic_load(&live) > 0)
        return GT_ETIMEOUT;
    gt_exit(); /* the caller's process identity: mailbox, monitors, name */
    return 0;
}
