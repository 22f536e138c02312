/*
 * fork.c -- what a child of fork() inherits of gentcp: nothing it may use.
 *
 * A child has one thread, the one that called fork().  The runtime's
 * schedulers, resolver and signal dispatcher did not come along, and a
 * lock one of them held at the fork stays held in the child for ever.
 * Processes and sockets of the parent cannot run there, and every
 * structure is shared state of a runtime that is no longer running.  So
 * after fork() every gentcp call that touches the runtime returns
 * GT_EFORKED, checked on entry before any lock is taken (gentcp.h, "fork"
 * says what still works; docs/DESIGN.md why there is no re-init).
 *
 * The handlers are registered when the runtime starts: a child forked
 * before any gentcp call has no runtime to lose and may start its own.
 */
#include "runtime/runtime.h"

/* gt__forked_flag is defined in src/forked.c */

static void prepare(void) { gt__signals_fork_prepare(); }
static void parent(void) { gt__signals_fork_parent(); }

static void child(void)
{
    atomic_store(&gt__forked_flag, 1);
    gt__signals_fork_child();
}

void gt__fork_watch(void) { pthread_atfork(prepare, parent, child); }
