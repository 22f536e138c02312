/*
 * send_block.c -- the socket backend's send (docs/spec/semantics.md rules 35,
 * 34, 51, 54, 55): no user-space queue.  A send writes from the caller's
 * memory and waits until the kernel took the whole packet; on send_timeout
 * it returns timeout and tells how much went out, so the caller holds the
 * unsent rest (Erlang's {error, {timeout, RestData}}); with
 * send_timeout_close the socket is closed as well.  Senders take turns:
 * one packet is never interleaved with another.  A failed write changes no
 * state: every later send asks the kernel again (closed forever, rule 96),
 * and the read side goes on.
 */
#include <errno.h>
#include <sys/uio.h>

#include "socket/answer.h"

#define WINDOW 16 /* pieces per write; the window lives on a process stack */

/* The pieces of the packet (hdr, then iov) from byte off on, at most cap
 * of them, into v.  Returns how many. */
static int window(const uint8_t *hdr, size_t hlen, const struct iovec *iov, int iovcnt,
                  size_t off, struct iovec *v, int cap)
{
    int n = 0;
    if (off < hlen) {
        v[n++] = (struct iovec){(uint8_t *)hdr + off, hlen - off};
        off = 0;
    } else {
        off -= hlen;
    }
    for (int i = 0; i < iovcnt && n < cap; i++) {
        if (off >= iov[i].iov_len) {
            off -= iov[i].iov_len;
            continue;
        }
        v[n++] = (struct iovec){(uint8_t *)iov[i].iov_base + off, iov[i].iov_len - off};
        off = 0;
    }
    return n;
}

/* What a failed write reports: gen_tcp_socket takes EPIPE (the peer is
 * gone, or our own shutdown(write) is done) for a reset, and a reset is
 * econnreset with show_econnreset, closed without (rules 51, 54); other
 * errors as they are. */
static int write_error(const gt__sock *s, int err)
{
    if (err == -ECONNRESET || err == -EPIPE)
        return s->o->show_econnreset ? -ECONNRESET : GT_ECLOSED;
    return err;
}

static void next_sender(gt__sock *s)
{
    for (gt__waiter *w = s->writers; w; w = w->next)
        gt__wake(w->proc);
}

/* Waits for the turn to send; 0, or why not. */
static int take_turn(gt__sock *s, gt__waiter *w, int64_t deadline)
{
    while (s->blocking_sender) {
        if (s->state == S_CLOSED)
            return GT_ECLOSED;
        if (gt__expired(deadline))
            return GT_ETIMEOUT; /* nothing of this packet went out */
        int killed = gt__exit_check();
        if (killed)
            return killed;
        w->done = false;
        gt__sock_wait_writer(s, w, deadline);
    }
    return s->state == S_CLOSED ? GT_ECLOSED : 0;
}

int gt__sock_send_blocking(gt__sock *s, const uint8_t *hdr, size_t hlen, const struct iovec *iov,
                           int iovcnt, size_t *sent)
{
    *sent = 0;
    /* closed; closed at a reset (rules 53, 54); enotconn (state.c) */
    int ans = gt__sock_answer(s, GT__CALL_SEND_BLOCK);
    if (ans)
        return ans;
    size_t total = hlen;
    for (int i = 0; i < iovcnt; i++)
        total += iov[i].iov_len;
    if (!total)
        return 0;
    int64_t deadline = s->o->send_timeout < 0 ? -1 : gt__deadline(s->o->send_timeout);
    gt__waiter w = {.proc = gt__self()};
    int rc = take_turn(s, &w, deadline);
    if (rc)
        return rc;
    s->blocking_sender = true;
    while (*sent < total) {
        if (s->state != S_OPEN || s->fd < 0) {
            rc = GT_ECLOSED;
            break;
        }
        if (s->writable) {
            struct iovec v[WINDOW];
            int n = window(hdr, hlen, iov, iovcnt, *sent, v, WINDOW);
            ssize_t k = gt__sock_writev(s, v, n);
            if (k < 0) {
                rc = write_error(s, (int)k);
                break;
            }
            *sent += (size_t)k;
            continue;
        }
        if (gt__expired(deadline)) {
            rc = GT_ETIMEOUT;
            break;
        }
        if ((rc = gt__exit_check()))
            break; /* killed: what went out is in *sent */
        w.done = false;
        gt__sock_wait_writer(s, &w, deadline);
    }
    s->blocking_sender = false;
    /* getstat, as the socket NIF counts: the bytes the kernel took, and a
     * packet when it took all of it */
    if (*sent == total)
        gt__stat_packet_out(&s->stat, total);
    else
        s->stat.send_oct += *sent;
    if (rc == GT_ETIMEOUT && s->o->send_timeout_close)
        gt__sock_close_locked(s, S_CLOSED, GT_ECLOSED); /* then closed (rule 34) */
    else
        next_sender(s);
    return rc;
}
