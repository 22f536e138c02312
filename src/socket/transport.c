/*
 * transport.c -- the seam under a socket (Erlang's tcp_module): the byte
 * stream is plain TCP, called directly, or a gt_transport table (TLS, a
 * user's).  The plain path pays one predictable branch per system call,
 * no indirect call.  Also the generic handshake wait and STARTTLS's attach.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "socket/sock.h"

/* ---- plain TCP ---- */

/* read and send without glibc's cancellation bracket (GT_RAW_SYSCALLS,
 * internal.h). */
static ssize_t sys_read(int fd, void *buf, size_t len)
{
#if GT_RAW_SYSCALLS
    return syscall(SYS_read, fd, buf, len);
#else
    return read(fd, buf, len);
#endif
}

static ssize_t sys_readv(int fd, const struct iovec *iov, int n)
{
#if GT_RAW_SYSCALLS
    return syscall(SYS_readv, fd, iov, n);
#else
    return readv(fd, iov, n);
#endif
}

static ssize_t sys_send(int fd, const void *buf, size_t len, int flags)
{
#if GT_RAW_SYSCALLS
    return syscall(SYS_sendto, fd, buf, len, flags, NULL, 0);
#else
    return send(fd, buf, len, flags);
#endif
}

static ssize_t tcp_recv(void *ctx, int fd, void *buf, size_t len)
{
    (void)ctx;
    ssize_t n = sys_read(fd, buf, len);
    return n >= 0 ? n : -errno;
}

static ssize_t tcp_sendv(void *ctx, int fd, const struct iovec *iov, int n)
{
    (void)ctx;
    /* One piece (a flush of the queue: every small echo) goes by send():
     * the kernel then copies no msghdr and imports no iovec. */
    ssize_t w;
    if (n == 1) {
        w = sys_send(fd, iov[0].iov_base, iov[0].iov_len, MSG_NOSIGNAL | MSG_DONTWAIT);
    } else {
        struct msghdr mh = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)n};
        w = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    return w >= 0 ? w : -errno;
}

static int tcp_shutdown(void *ctx, int fd, int how)
{
    (void)ctx;
    return shutdown(fd, how) == 0 ? 0 : -errno;
}

const gt_transport gt_tcp_transport = {
    .name = "tcp", .recv = tcp_recv, .sendv = tcp_sendv, .shutdown = tcp_shutdown};

/* ---- the socket's calls ---- */

ssize_t gt__sock_tp_read(gt__sock *s, void *buf, size_t cap)
{
    if (s->tp_live)
        return s->x->tp->recv(s->x->tp_ctx, s->fd, buf, cap);
    ssize_t n = sys_read(s->fd, buf, cap);
    return n >= 0 ? n : -errno;
}

ssize_t gt__sock_tp_readv(gt__sock *s, const struct iovec *iov, int n)
{
    if (s->tp_live) /* a transport reads into one buffer at a time */
        return s->x->tp->recv(s->x->tp_ctx, s->fd, iov[0].iov_base, iov[0].iov_len);
    ssize_t r = sys_readv(s->fd, iov, n);
    return r >= 0 ? r : -errno;
}

ssize_t gt__sock_tp_writev(gt__sock *s, const struct iovec *iov, int n)
{
    if (s->tp_live)
        return s->x->tp->sendv(s->x->tp_ctx, s->fd, iov, n);
    return tcp_sendv(NULL, s->fd, iov, n);
}

int gt__sock_tp_shutdown(gt__sock *s, int how)
{
    if (s->tp_live)
        return s->x->tp->shutdown(s->x->tp_ctx, s->fd, how);
    return tcp_shutdown(NULL, s->fd, how);
}

int gt__sock_tp_open(gt__sock *s, const gt_transport *t)
{
    void *ctx = t->arg;
    if (t->open) {
        int rc = t->open(t, s->fd, &ctx);
        if (rc)
            return rc < 0 ? rc : GT_EBADARG;
    }
    if (!gt__sock_ext_get(s)) {
        if (t->close)
            t->close(ctx, s->fd);
        return -ENOMEM;
    }
    s->x->tp = t;
    s->x->tp_ctx = ctx;
    s->tp_live = true;
    s->ssl_msgs = t->flags & GT_TRANSPORT_SSL_MSGS;
    s->hs_pending = t->handshake != NULL;
    s->x->hs_active = GT_ACTIVE_FALSE_V;
    gt__sock_tp_hold(s);
    return 0;
}

void gt__sock_tp_hold(gt__sock *s)
{
    if (!s->hs_pending || s->active == GT_ACTIVE_FALSE_V)
        return;
    s->x->hs_active = s->active;
    s->active = GT_ACTIVE_FALSE_V;
}

void gt__sock_tp_release(gt__sock *s)
{
    const gt_transport *t = gt__sock_tp(s);
    if (!t || !s->tp_live)
        return;
    s->tp_live = false; /* gt__sock_tp(s) stays: no call is made without an fd */
    if (t->error && !s->x->tp_err) {
        char buf[512];
        if (t->error(s->x->tp_ctx, buf, sizeof buf))
            s->x->tp_err = strdup(buf);
    }
    if (t->close && s->fd >= 0)
        t->close(s->x->tp_ctx, s->fd);
    s->x->tp_ctx = NULL;
}

size_t gt_transport_error(gt_socket h, char *buf, size_t len)
{
    if (buf && len)
        buf[0] = 0;
    if (gt__forked())
        return 0;
    gt__sock *s = gt__sock_acquire(h);
    if (!s)
        return 0;
    size_t n = 0;
    if (s->tp_live && s->x->tp->error) {
        n = s->x->tp->error(s->x->tp_ctx, buf, len);
    } else if (s->x && s->x->tp_err) {
        n = strlen(s->x->tp_err);
        if (buf && len)
            snprintf(buf, len, "%s", s->x->tp_err);
    }
    gt__sock_release(s);
    return n;
}

int gt__sock_with_tp(gt_socket h, const gt_transport *t, int (*fn)(void *ctx, void *arg),
                     void *arg)
{
    gt__sock *s = gt__sock_acquire(h);
    if (!s)
        return GT_ECLOSED;
    int rc = gt__sock_tp(s) != t ? -EINVAL : s->tp_live ? fn(s->x->tp_ctx, arg) : -ENOTCONN;
    gt__sock_release(s);
    return rc;
}

const gt_transport *gt__sock_tp_of(gt_socket h)
{
    gt__sock *s = gt__sock_acquire(h);
    if (!s)
        return NULL;
    const gt_transport *t = s->kind == K_LISTEN ? s->o->tp : gt__sock_tp(s);
    gt__sock_release(s);
    return t;
}

/* ---- handshake ---- */

/* Waits until the fd is readable (or writable), the socket closes or the
 * deadline passes.  The caller registered as reader or writer, so that
 * io_event wakes it.  Lock held. */
static int wait_ready(gt__sock *s, bool for_write, int64_t deadline)
{
    gt__waiter w = {.proc = gt__self()};
    while (s->state == S_OPEN && s->fd >= 0 && !(for_write ? s->writable : s->readable)) {
        if (gt__expired(deadline))
            return GT_ETIMEOUT;
        if (gt__exit_check())
            return GT_EEXITING;
        if (for_write) {
            gt__sock_wait_writer(s, &w, deadline);
        } else {
            if (s->reader && s->reader != &w)
                return -EALREADY;
            s->reader = &w;
            gt__sock_wait(s, &w, deadline);
            if (s->reader == &w)
                s->reader = NULL;
        }
    }
    return s->state == S_OPEN && s->fd >= 0 ? 0 : GT_ECLOSED;
}

static int handshake_locked(gt__sock *s, int64_t deadline)
{
    for (;;) {
        int rc = gt__sock_conn_err(s);
        if (rc)
            return rc;
        if (!gt__sock_tp(s) || !s->x->tp->handshake || gt__wr_connecting(&s->wr))
            return -EINVAL;
        if (!s->hs_pending)
            return 0;
        rc = s->x->tp->handshake(s->x->tp_ctx, s->fd);
        if (rc == 0)
            break;
        if (rc < 0)
            return rc;
        /* Cleared under the lock held since the system call said EAGAIN:
         * the edge that sets it again cannot have come in between. */
        bool wr = rc == GT_TRANSPORT_WANT_WRITE;
        if (wr)
            s->writable = false;
        else
            s->readable = false;
        if ((rc = wait_ready(s, wr, deadline)) != 0)
            return rc;
    }
    s->hs_pending = false;
    s->readable = true; /* the transport may hold input read with the end
                           of the handshake */
    s->active = s->x->hs_active;
    if (s->active != GT_ACTIVE_FALSE_V)
        gt__sock_deliver(s);
    return 0;
}

int gt_transport_handshake(gt_socket h, int64_t timeout_ms)
{
    if (gt__forked())
        return GT_EFORKED;
    if (!gt__self())
        return -ENOMEM;
    gt__sock *s = gt__sock_acquire(h);
    if (!s)
        return GT_ECLOSED;
    int rc = handshake_locked(s, gt__deadline(timeout_ms));
    gt__sock_release(s);
    return rc;
}

int gt_transport_attach(gt_socket h, const gt_transport *t)
{
    if (gt__forked())
        return GT_EFORKED;
    if (!t || !t->recv || !t->sendv || !t->shutdown)
        return GT_EBADARG;
    gt__sock *s = gt__sock_acquire(h);
    if (!s)
        return GT_ECLOSED;
    int rc = gt__sock_conn_err(s);
    if (!rc && (s->kind != K_CONN || gt__wr_row_of(&s->wr)->no_attach || gt__sock_tp(s) ||
                gt__buf_avail(&s->in) || gt__buf_avail(&s->out) || !gt__rd_row_of(&s->rd)->reads))
        rc = -EINVAL;
    if (!rc)
        rc = gt__sock_tp_open(s, t);
    gt__sock_release(s);
    return rc;
}
