/*
 * h_probe.h -- probes into a socket's kernel state and waiters and into a
 * process's state, for tests that must wait until the peer's bytes, FIN or
 * reset have reached the socket, or until a helper process is parked,
 * before they act.  Through the internals (socket/sock.h, runtime.h): no
 * public call tells these, and they change nothing (poll and SIOCINQ read
 * nothing).
 */
#ifndef GT_INTEG_H_PROBE_H
#define GT_INTEG_H_PROBE_H

#include <linux/sockios.h>
#include <poll.h>
#include <sys/ioctl.h>

#include "helpers.h"
#include "runtime/runtime.h"
#include "socket/sock.h"

/* poll(2)'s revents for events on h's fd now; 0 without an fd. */
static inline short h_sock_revents(gt_socket h, short events)
{
    short r = 0;
    gt__sock *s = gt__sock_acquire(h);
    if (!s)
        return 0;
    struct pollfd pf = {.fd = s->fd, .events = events};
    if (s->fd >= 0 && poll(&pf, 1, 0) == 1)
        r = pf.revents;
    gt__sock_release(s);
    return r;
}

/* Bytes the kernel holds for h, not yet read (passive sockets). */
static inline size_t h_sock_inq(gt_socket h)
{
    int n = 0;
    gt__sock *s = gt__sock_acquire(h);
    if (!s)
        return 0;
    if (s->fd >= 0 && ioctl(s->fd, SIOCINQ, &n) != 0)
        n = 0;
    gt__sock_release(s);
    return (size_t)n;
}

/* A process is parked in gt_recv on h. */
static inline bool h_sock_recv_pending(gt_socket h)
{
    gt__sock *s = gt__sock_acquire(h);
    if (!s)
        return false;
    bool r = s->reader != NULL;
    gt__sock_release(s);
    return r;
}

/* How many processes are parked in gt_accept on listen socket h. */
static inline int h_sock_acceptors(gt_socket h)
{
    int n = 0;
    gt__sock *s = gt__sock_acquire(h);
    if (!s)
        return 0;
    for (gt__waiter *w = s->x ? s->x->acc_head : NULL; w; w = w->next)
        n++;
    gt__sock_release(s);
    return n;
}

/* A delay_send flush is queued for the scheduler's next pass. */
static inline bool h_sock_flush_queued(gt_socket h)
{
    gt__sock *s = gt__sock_acquire(h);
    if (!s)
        return false;
    bool r = s->flush_queued;
    gt__sock_release(s);
    return r;
}

/* h stopped reading at its owner's mailbox limit. */
static inline bool h_sock_mbox_stalled(gt_socket h)
{
    gt__sock *s = gt__sock_acquire(h);
    if (!s)
        return false;
    bool r = s->mbox_stalled;
    gt__sock_release(s);
    return r;
}

/* pid is parked (in a wait of any kind: receive, sleep, recv, accept) or
 * hibernated.  An OS-thread process shows only a parked receive. */
static inline bool h_proc_parked(gt_pid pid)
{
    gt__proc *p = gt__proc_lookup(pid);
    if (!p)
        return false;
    bool r;
    if (p->is_thread) {
        gt__lock(&p->mbox.lock, GT__LK_MBOX);
        r = __atomic_load_n(&p->mbox.receiving, __ATOMIC_RELAXED); /* also written without the lock */
        gt__unlock(&p->mbox.lock);
    } else {
        r = atomic_load(&p->state) == P_WAITING;
    }
    gt__proc_unref(p);
    return r;
}

/* Until n bytes from the peer are in h's kernel buffer. */
#define h_wait_inq(h, n) H_WAIT_UNTIL(h_sock_inq(h) >= (size_t)(n))
/* Until the peer's FIN (or a reset) has reached h. */
#define h_wait_peer_end(h) H_WAIT_UNTIL(h_sock_revents((h), POLLRDHUP) != 0)
/* Until a reset (or an error) has reached h. */
#define h_wait_reset(h) H_WAIT_UNTIL((h_sock_revents((h), 0) & (POLLERR | POLLHUP)) != 0)
/* Until listen socket h has a connection to accept. */
#define h_wait_acceptable(h) H_WAIT_UNTIL(h_sock_revents((h), POLLIN) != 0)

#endif
