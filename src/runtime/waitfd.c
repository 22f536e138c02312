/*
 * waitfd.c -- gt_wait_fd: a process parks until a descriptor it owns is
 * ready (gentcp.h).
 *
 * The fd is watched by an fd watcher (io.c) on the caller's home scheduler
 * for the length of the call only.  The watcher is edge-triggered, so the
 * readiness itself comes from poll() with a zero timeout: once before the
 * watch begins (no registration for a ready fd), and after every wake-up,
 * the first of which may come from the registration itself -- an edge
 * between the first check and the registration is not lost, since the
 * check that follows the registration sees the level.  An OS-thread
 * process waits the same way (its wake-up is its condition variable), so
 * an exit signal ends its wait at once too.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>

#include "runtime/runtime.h"

/* One wait.  On the heap: an event already fetched by the home scheduler
 * may still name it after the call returned; the release (io.c) frees it.
 * It holds a reference to the waiter so that such a late event wakes (at
 * worst spuriously) a live struct. */
typedef struct waiter {
    gt__io io;
    gt__proc *p;
} waiter;

static void on_event(gt__io *w, uint32_t events)
{
    (void)events; /* the level is poll()'s to say */
    gt__wake(gt__container_of(w, waiter, io)->p);
}

static void on_release(gt__io *w)
{
    waiter *wt = gt__container_of(w, waiter, io);
    gt__proc_unref(wt->p);
    free(wt);
}

static const gt__io_ops waitfd_io = {on_event, on_release, NULL, NULL, NULL, false};

/* The level now: 1 and *got when ready, 0 when not, -EBADF or -errno. */
static int check(int fd, uint32_t events, uint32_t *got)
{
    short want = (short)(((events & GT_FD_READ) ? POLLIN : 0) | ((events & GT_FD_WRITE) ? POLLOUT : 0));
    struct pollfd pfd = {.fd = fd, .events = want};
    int n;
    while ((n = poll(&pfd, 1, 0)) < 0 && errno == EINTR) {
    }
    if (n < 0)
        return -errno;
    if (pfd.revents & POLLNVAL)
        return -EBADF;
    /* A hang-up or an error is ready for both: the call says which. */
    uint32_t r = 0;
    if ((events & GT_FD_READ) && (pfd.revents & (POLLIN | POLLHUP | POLLERR)))
        r |= GT_FD_READ;
    if ((events & GT_FD_WRITE) && (pfd.revents & (POLLOUT | POLLHUP | POLLERR)))
        r |= GT_FD_WRITE;
    *got = r;
    return r != 0;
}

int gt_wait_fd(int fd, uint32_t events, int64_t timeout_ms, uint32_t *revents_out)
{
    if (gt__forked())
        return GT_EFORKED;
    if (fd < 0 || events == 0 || (events & ~(GT_FD_READ | GT_FD_WRITE)))
        return GT_EBADARG;
    int64_t deadline = gt__deadline(timeout_ms);
    uint32_t got = 0;
    int rc = check(fd, events, &got);
    if (rc == 0 && timeout_ms != 0) {
        int err = gt__rt_ensure();
        if (err)
            return err;
        gt__proc *p = gt__self();
        gt__proc_ext *x = NULL;
        if (p) {
            gt__lock(&p->plock, GT__LK_PLOCK);
            x = gt__proc_ext_get(p);
            gt__unlock(&p->plock);
        }
        waiter *w = x ? malloc(sizeof *w) : NULL;
        if (!w)
            return -ENOMEM;
        gt__proc_ref(p);
        w->p = p;
        err = gt__io_start(&w->io, gt__home_sched(p), fd, &waitfd_io);
        if (err) {
            gt__proc_unref(p);
            free(w);
            return err == -EEXIST ? -EBUSY : err;
        }
        x->fd_wait = w;
        while ((rc = check(fd, events, &got)) == 0) {
            if ((rc = gt__exit_check()) != 0)
                break;
            if (gt__expired(deadline)) {
                rc = GT_ETIMEOUT;
                break;
            }
            gt__park(deadline);
        }
        gt__io_stop(&w->io);
        x->fd_wait = NULL;
    }
    if (rc == 0)
        rc = GT_ETIMEOUT;
    if (rc < 0)
        return rc;
    if (revents_out)
        *revents_out = got;
    return 0;
}
