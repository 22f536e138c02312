/*
 * send.c -- the output side for the inet backend: gen_tcp:send writes what
 * the kernel takes at once and queues the rest.  As in inet_drv's
 * tcp_sendv, a send that finds data already queued and takes the queue to
 * high_watermark makes the socket busy: that sender waits until the queue
 * drains to low_watermark (or send_timeout expires), and every other sender
 * waits behind it (rules 32-34).  A send onto an empty queue never waits,
 * whatever its size.  The home scheduler drains the queue as the socket
 * becomes writable.  Also shutdown/2.
 */
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "socket/answer.h"
#include "util/uring.h"

#define MAX_IOV 16 /* a packet's pieces; small: it lives on process stacks */

static size_t out_pending(const gt__sock *s) { return gt__buf_avail(&s->out); }

ssize_t gt__sock_writev(gt__sock *s, const struct iovec *iov, int n)
{
    for (;;) {
        ssize_t w = gt__sock_tp_writev(s, iov, n);
        if (w >= 0)
            return w;
        if (w == -EINTR)
            continue;
        if (w == -EAGAIN || w == -EWOULDBLOCK) {
            s->writable = false;
            return 0;
        }
        return w;
    }
}

/* A send failed with reason: Erlang reports closed (econnreset with
 * show_econnreset) and then closes the whole socket, losing what the
 * kernel still holds for us to read.  gentcp keeps the read side: buffered
 * input stays readable (docs/DEVIATIONS.md row 3).  caller: a send waits
 * for this result (the failing send itself, or the busy sender). */
static int send_failed(gt__sock *s, int reason, bool caller)
{
    gt__wr_to(&s->wr, WE_FAILED);
    s->wr.fail = reason;
    gt__buf_free(&s->out);
    /* the busy sender's send is the failing one (inet replies to the busy
     * caller); those suspended behind it find enotconn (busy_probe
     * peer_gone) */
    gt__sock_unbusy(s, reason);
    gt__waiters_wake_all(&s->writers, reason);
    s->readable = true; /* let the reader find the reset or the EOF */
    if (s->reader)
        gt__wake(s->reader->proc);
    s->wr.told = gt__sock_send_failed(s, reason, caller); /* then enotconn (rule 55) */
    return reason;
}

/* A failed write: the peer is gone, or our own shutdown(write) is done.
 * inet_drv's tcp_send_error takes EPIPE for the peer's reset; OTP 25 does
 * so after our own shutdown(write) too, immediate or deferred (live node:
 * a send after it is econnreset with show_econnreset, closed without). */
static int write_failed(gt__sock *s, int err, bool caller)
{
    bool reset = err == -ECONNRESET || err == -EPIPE;
    if (err == GT_ETLS) /* the transport's own failure, explained by it */
        return send_failed(s, GT_ETLS, caller);
    return send_failed(s, reset && s->o->show_econnreset ? -ECONNRESET : GT_ECLOSED, caller);
}

static void do_shutdown_wr(gt__sock *s)
{
    gt__wr_to(&s->wr, WE_SHUT_DONE);
    if (s->fd >= 0)
        gt__sock_tp_shutdown(s, SHUT_WR);
}

void gt__sock_flush(gt__sock *s)
{
    if (s->fd < 0)
        return;
    while (out_pending(s) && s->writable) {
        struct iovec v = {gt__buf_head(&s->out), out_pending(s)};
        ssize_t w = gt__sock_writev(s, &v, 1);
        if (w < 0) {
            write_failed(s, (int)w, s->send_caller || gt__sock_busy_sender(s));
            return;
        }
        /* frees the buffer once drained: 10,000 idle connections must not
         * keep 10,000 output buffers */
        gt__buf_consume(&s->out, (size_t)w);
    }
    if (!out_pending(s) && gt__wr_row_of(&s->wr)->shut_owed)
        do_shutdown_wr(s);
    /* Senders and close's drain wait here; they re-check for themselves. */
    if (out_pending(s) <= (size_t)s->o->low_watermark || s->writable) {
        gt__sock_unbusy(s, 0);
        for (gt__waiter *w = s->writers; w; w = w->next)
            gt__wake(w->proc);
    }
}

void gt__sock_unbusy(gt__sock *s, int result)
{
    gt__waiter *b = gt__sock_busy_sender(s);
    if (!b)
        return;
    s->x->busy_sender = NULL;
    b->done = true;
    b->result = result;
    for (gt__waiter *w = s->writers; w; w = w->next)
        gt__wake(w->proc); /* the busy sender is one of them */
}

/* The largest body a header of hl bytes (0: none) can announce.
 * {packet,4}: Erlang's receiver (packet_get_length) takes header and body
 * up to INT_MAX bytes, so no peer accepts a body above 2 GiB - 5. */
static inline uint64_t header_max(size_t hl)
{
    return hl == 4 ? INT32_MAX - 4 : hl ? (1ull << (8 * hl)) - 1 : UINT64_MAX;
}

/* Writes the hl-byte big-endian header of len at hdr (len <= header_max). */
static inline void put_header(size_t hl, size_t len, uint8_t *hdr)
{
    switch (hl) { /* unrolled: every echo frames one */
    case 4:
        hdr[0] = (uint8_t)(len >> 24);
        hdr[1] = (uint8_t)(len >> 16);
        hdr[2] = (uint8_t)(len >> 8);
        hdr[3] = (uint8_t)len;
        break;
    case 2:
        hdr[0] = (uint8_t)(len >> 8);
        hdr[1] = (uint8_t)len;
        break;
    case 1:
        hdr[0] = (uint8_t)len;
        break;
    default:
        break;
    }
}

static size_t header_len(int packet)
{
    return packet == GT_PKT_1 || packet == GT_PKT_2 || packet == GT_PKT_4 ? (size_t)packet : 0;
}

/* The packet header for {packet, 1|2|4}; -EMSGSIZE if the length does not
 * fit (Erlang silently truncates it and corrupts the stream). */
static int make_header(int packet, size_t len, uint8_t hdr[4], size_t *hlen)
{
    *hlen = header_len(packet);
    if (len > header_max(*hlen))
        return -EMSGSIZE;
    put_header(*hlen, len, hdr);
    return 0;
}

/* call: GT__CALL_SEND, or _RESUMED after a wait on busy. */
static int send_checks(gt__sock *s, unsigned call)
{
    /* delay_send: an earlier send's flush is still pending.  Once the peer
     * is known to be gone (a reset read, or epoll's hang-up) or after our
     * own shutdown(write) (the write will fail), run it first, so that its
     * failure
     * answers this send, as inet's port runs the flush before the next
     * command (rule 56; tests/interop/diff.sh send_after_rst with
     * delay_send, which otherwise depended on the scheduler's timing);
     * otherwise the sends batch up as delay_send intends. */
    if (s->flush_queued &&
        (gt__rd_row_of(&s->rd)->peer_gone || s->hup_seen || gt__wr_row_of(&s->wr)->shut_done))
        gt__sock_flush_deferred(s, GT__DEFER_DELAY);
    /* the connection's state (state.c's rows: closed; enotconn; inet's
     * closed once after it closed the fd, then enotconn), then the write
     * side's row */
    int ans = gt__sock_answer(s, call);
    if (ans)
        return ans;
    switch ((gt__wr_action)gt__wr_row_of(&s->wr)->send) {
    case WA_TOLD: {
        int e = s->wr.told;
        s->wr.told = -ENOTCONN;
        return e;
    }
    case WA_FAIL: {
        /* inet's tcp_shutdown_error (EPIPE: closed, never econnreset):
         * the queue is dropped and the socket closed as after any failed
         * send; the peer sees the end of what the kernel holds, as when
         * inet closes */
        int rc = send_failed(s, GT_ECLOSED, true);
        do_shutdown_wr(s);
        return rc;
    }
    default: /* after the shutdown the write itself fails (write_failed) */
        return 0;
    }
}

/* The send that made the socket busy waits until the queue drains to
 * low_watermark (ok), send_timeout expires (timeout: the data stays queued,
 * the socket stops being busy; rule 33), the queue fails (closed or
 * econnreset; rule 55) or the socket is closed under it (closed).  Lock
 * held. */
static int hold_busy(gt__sock *s)
{
    if (out_pending(s) <= (size_t)s->o->low_watermark)
        return 0;
    gt__sock_ext *x = gt__sock_ext_get(s); /* where the busy sender waits */
    if (!x)
        return -ENOMEM;
    gt__waiter w = {.proc = gt__self()};
    /* w lives until this function returns, and busy_sender is cleared
     * before that (below); gcc cannot see it */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#endif
    x->busy_sender = &w;
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic pop
#endif
    int64_t deadline = s->o->send_timeout < 0 ? -1 : gt__deadline(s->o->send_timeout);
    while (!w.done) {
        if (gt__expired(deadline)) {
            gt__sock_unbusy(s, GT_ETIMEOUT);
            if (s->o->send_timeout_close) {
                s->rpt &= (gt__rpt)~GT__R_SEND_CLOSED;
                gt__sock_close_locked(s, S_DRV_CLOSED, GT_ECLOSED);
            }
            break;
        }
        int killed = gt__exit_check();
        if (killed) { /* the data stays queued, as after a timeout */
            gt__sock_unbusy(s, killed);
            break;
        }
        gt__sock_wait_writer(s, &w, deadline);
        if (!w.done && s->state == S_OPEN && s->writable)
            gt__sock_flush(s);
    }
    if (x->busy_sender == &w) /* ended by a wake-all, not by unbusy */
        gt__sock_unbusy(s, w.result);
    return w.result;
}

/* A send on a busy socket: Erlang suspends the process in port_command,
 * with no timeout of its own, until the port is not busy; then the send
 * runs as if new.  A port closed meanwhile makes port_command fail, which
 * prim_inet:send reports as einval (busy_probe close_other).  Lock held. */
static int wait_not_busy(gt__sock *s)
{
    gt__waiter w = {.proc = gt__self()};
    while (gt__sock_busy_sender(s) && s->state == S_OPEN && !gt__wr_broken(&s->wr)) {
        int killed = gt__exit_check();
        if (killed)
            return killed;
        gt__sock_wait_writer(s, &w, -1);
    }
    return send_checks(s, GT__CALL_SEND_RESUMED);
}

static void delayed_flush(void *arg)
{
    gt__sock *s = arg;
    gt__lock(&s->lock, GT__LK_SOCK);
    s->flush_queued = false;
    if (s->state == S_OPEN)
        gt__sock_flush(s);
    gt__unlock(&s->lock);
    gt__sock_unref(s);
}

void gt__sock_flush_deferred(gt__sock *s, unsigned which)
{
    bool held = ((which & GT__DEFER_DELAY) && s->flush_queued) ||
                ((which & GT__DEFER_BATCH) && s->write_listed);
    if (held && s->state == S_OPEN && s->writable)
        gt__sock_flush(s);
}

/* ---- the end-of-pass batch (issue 11: one io_uring_enter for the sends
 * of every process that ran in a scheduler pass) ----
 *
 * A small send that finds the queue empty, on a plain TCP socket, from a
 * process on a scheduler, is queued (s->out, as a send the kernel did not
 * take at once) instead of written, and the socket listed for the end of
 * the pass.  Nothing else changes: every other call sees queued output,
 * a state the sockets already know (a later send writes the queue before
 * its own bytes; close writes it before closing; shutdown(write) waits
 * for it; a failed write of it is reported by the next call, as for any
 * queued data).  Only the moment moves, to before the scheduler next
 * polls or sleeps: a lone process that sends and then waits makes the one
 * system call it made before. */
#define DEFER_MAX 4096 /* bigger sends are written at once (no copy) */
/* Further sends onto a listed socket join its queue, so that a process
 * that sends several messages in one run costs one write (send16: 8 small
 * sends had made 4 sendto, each second send writing the queue at once).
 * A queue that would grow beyond this is written at once, as before: the
 * bound keeps the copies and the memory of a pass small (a pooled output
 * block's size, util/buf.c). */
#define DEFER_QUEUE_MAX (16 * 1024)

static __thread struct {
    /* +1 ref each, listed once, with write_listed or add_listed set (or
     * neither any more: a move added it, gt__sock_rehome) */
    gt__sock *socks[GT__URING_BATCH];
    int n;
    /* fds to close (gt__sock_close_listed): the batch's to close, no
     * socket's any more */
    int closes[GT__URING_BATCH];
    int nclose;
    int slots;         /* ring entries asked for: writes + adds + closes,
                          at most GT__URING_BATCH */
    bool armed;        /* node is on the pass's list */
    gt__deferred node; /* at the end of the pass: write_batch */
    struct epoll_event add_ev[GT__URING_BATCH]; /* the adds' events, read
                          by the kernel inside io_uring_enter */
} batch;

/* The kernel refused an epoll_ctl in the ring (EINVAL: a kernel without
 * IORING_OP_EPOLL_CTL): adds are made at once from then on. */
static atomic_bool ring_adds_off;

static void write_batch(void *arg);

/* close(2) without glibc's cancellation bracket, as gt__io_close's */
static void sys_close(int fd)
{
#if GT_RAW_SYSCALLS
    syscall(SYS_close, fd);
#else
    close(fd);
#endif
}

/* Whether a send of len bytes may wait for the end of the pass: onto an
 * empty queue, or onto a listed one (whose bytes the kernel would have
 * taken: no busy state, no watermark) that stays within DEFER_QUEUE_MAX.
 * Lock held. */
static bool defer_ok(gt__sock *s, size_t len)
{
    size_t before = out_pending(s);
    if (before && (!s->write_listed || before + len > DEFER_QUEUE_MAX))
        return false;
    /* a peer known to be gone, or our own shutdown(write) done: the write
     * fails, and the send itself reports it, as inet's does (rule 56, as
     * for delay_send in send_checks) */
    if (len > DEFER_MAX || !s->writable || s->fd < 0 || s->state != S_OPEN || s->o->delay_send ||
        gt__sock_tp(s) || s->hup_seen || gt__rd_row_of(&s->rd)->peer_gone ||
        gt__wr_row_of(&s->wr)->shut_done)
        return false;
    if (s->write_listed)
        return true;
    return batch.slots < GT__URING_BATCH && batch.n < GT__URING_BATCH && gt__sched_in_pass() &&
           gt__uring_thread();
}

/* Puts write_batch on the pass's list once; false outside a pass. */
static bool batch_arm(void)
{
    if (batch.armed)
        return true;
    batch.node = (gt__deferred){.fn = write_batch, .arg = NULL};
    return batch.armed = gt__sched_at_pass_end(&batch.node);
}

/* Lists s (queue filled by the caller) for the end of the pass; false if
 * it cannot be (the caller writes now).  Lock held. */
static bool defer_add(gt__sock *s)
{
    if (s->write_listed)
        return true;
    if (!batch_arm())
        return false;
    if (!s->add_listed) {
        atomic_fetch_add(&s->refs, 1);
        batch.socks[batch.n++] = s;
    }
    s->write_listed = true;
    batch.slots++;
    return true;
}

/* One send's result, as gt__sock_flush would take it from writev.  Lock
 * held. */
static void batch_result(gt__sock *s, int res)
{
    if (res > 0)
        gt__buf_consume(&s->out, (size_t)res);
    if (res == -EAGAIN || res == -EWOULDBLOCK) {
        s->writable = false; /* EPOLLOUT resumes the queue */
    } else if (res < 0 && res != -EINTR && res != GT__URING_NOT_RUN) {
        write_failed(s, res, gt__sock_busy_sender(s) != NULL);
        return;
    }
    gt__sock_flush(s); /* a short write's rest; wakes, a deferred shutdown */
}

static bool batch_sendable(const gt__sock *s)
{
    return s->state == S_OPEN && s->fd >= 0 && s->writable && out_pending(s) &&
           !gt__wr_broken(&s->wr);
}

/* An add the ring did not make (or was not asked to): by system call;
 * if epoll refuses even that (ENOMEM, ENOSPC: max_user_watches), the
 * socket can hear nothing more and ends with that reason, as its owner
 * would have been told at the accept.  Lock held. */
static void add_fallback(gt__sock *s)
{
    int rc = gt__io_add_now(&s->io);
    if (rc != 0)
        gt__sock_close_locked(s, S_DRV_CLOSED, rc);
}

/* A prepared batch, between the end of the pass and the io_uring_enter
 * that carries it (with the next poll's reads, sched.c): the sockets held
 * (locked) with their entries' indexes (-1: none), the ones whose trylock
 * failed, and the fds to close with theirs.  The adds' events live here:
 * the kernel reads them inside that enter. */
static __thread struct {
    gt__sock *held[GT__URING_BATCH], *later[GT__URING_BATCH];
    int16_t send_at[GT__URING_BATCH], add_at[GT__URING_BATCH];
    int closes[GT__URING_BATCH], close_at[GT__URING_BATCH];
    struct epoll_event add_ev[GT__URING_BATCH];
    int nh, nl, nc;
} prepared;

/* The submit's hook (or the batch itself when nothing went to the ring):
 * the closes the kernel never took, each held socket's add and send
 * results, then the later ones the ordinary way (after: the batch held no
 * lock meanwhile to order them). */
static void batch_done(void *arg, const int *res)
{
    (void)arg;
    for (int i = 0; i < prepared.nc; i++)
        if (!res || res[prepared.close_at[i]] == GT__URING_NOT_RUN)
            sys_close(prepared.closes[i]); /* the kernel never took it */
    for (int i = 0; i < prepared.nh; i++) {
        gt__sock *s = prepared.held[i];
#ifdef GT_LOCK_DEBUG
        gt__lock_note(&s->lock, GT__LK_SOCK, GT__HERE); /* from here an ordinary hold */
#endif
        int add = prepared.add_at[i], send = prepared.send_at[i];
        if (add >= 0 && res[add] != 0) {
            if (res[add] == -EINVAL)
                atomic_store_explicit(&ring_adds_off, true, memory_order_relaxed);
            add_fallback(s);
        }
        if (send >= 0)
            batch_result(s, res[send]);
        gt__unlock(&s->lock);
        gt__sock_unref(s);
    }
    for (int i = 0; i < prepared.nl; i++) {
        gt__sock *s = prepared.later[i];
        gt__lock(&s->lock, GT__LK_SOCK);
        bool add = s->add_listed && s->io.fd >= 0;
        s->add_listed = false;
        if (add)
            add_fallback(s);
        if (s->write_listed) {
            s->write_listed = false;
            if (batch_sendable(s))
                gt__sock_flush(s);
        }
        gt__unlock(&s->lock);
        gt__sock_unref(s);
    }
    prepared.nh = prepared.nl = prepared.nc = 0;
}

/* The end of the pass: every listed socket's send and epoll add, and the
 * closes, queued in the thread's ring, each socket locked from before its
 * entries are prepared until their results are taken (batch_done), so
 * that nothing else writes or frees its queue, moves or closes it
 * meanwhile.  The scheduler submits them with the reads of its next poll,
 * or alone before it would wait (gt__uring_flush): one io_uring_enter for
 * all instead of one each (issue 11, rd12, acc12).  Closes go at once,
 * before the poll: their sockets' registrations ended when their
 * processes switched out (gt__io_close_later), and a poll while the fds
 * are still open could name a released watcher. */
static void write_batch(void *arg)
{
    (void)arg;
    gt__uring_flush(); /* (nothing is pending at a pass's end: sched.c) */
    gt__sock *socks[GT__URING_BATCH];
    int n = batch.n, nc = batch.nclose;
    memcpy(socks, batch.socks, (size_t)n * sizeof *socks);
    memcpy(prepared.closes, batch.closes, (size_t)nc * sizeof *batch.closes);
    /* A lone send (or close, or add) keeps its plain system call, at once:
     * io_uring_enter costs more than sendto for one (pingpong p50 +0.25 us
     * over 8 alternating rounds), and waiting for the next poll would
     * delay its reply */
    gt__uring *r = batch.slots > 1 ? gt__uring_thread() : NULL;
    batch.n = batch.nclose = batch.slots = 0;
    batch.armed = false;
    prepared.nh = prepared.nl = 0;
    prepared.nc = nc;
    for (int i = 0; i < n; i++) {
        gt__sock *s = socks[i];
        if (!r || !gt__sock_trylock(s)) {
            prepared.later[prepared.nl++] = s;
            continue;
        }
        int h = prepared.nh, add = -1, send = -1;
        if (s->add_listed && s->io.fd >= 0) {
            int epfd = gt__io_add_args(&s->io, &prepared.add_ev[h]);
            add = gt__uring_epoll_add(r, epfd, s->io.fd, &prepared.add_ev[h]);
        }
        s->add_listed = false;
        if (s->write_listed) {
            s->write_listed = false;
            if (batch_sendable(s))
                send = gt__uring_send(r, s->fd, gt__buf_head(&s->out), out_pending(s));
        }
        if (add >= 0 || send >= 0) {
            prepared.add_at[h] = (int16_t)add;
            prepared.send_at[h] = (int16_t)send;
            prepared.held[prepared.nh++] = s;
        } else {
            gt__mutex_unlock(&s->lock);
            gt__sock_unref(s);
        }
    }
    for (int i = 0; r && i < nc; i++)
        prepared.close_at[i] = gt__uring_close(r, prepared.closes[i]);
    if (!r || (!prepared.nh && !nc)) {
        batch_done(NULL, NULL); /* (res unused: nothing was queued) */
        return;
    }
    gt__uring_on_submit(r, batch_done, NULL);
    if (nc)
        gt__uring_flush();
}

bool gt__sock_start_listed(gt__sock *s, gt__sched *home, int fd, const gt__io_ops *ops)
{
    if (batch.slots >= GT__URING_BATCH || batch.n >= GT__URING_BATCH ||
        atomic_load_explicit(&ring_adds_off, memory_order_relaxed) || !gt__sched_in_pass() ||
        !gt__uring_thread() || !gt__io_start_later(&s->io, home, fd, ops))
        return false;
    if (!batch_arm()) { /* cannot happen in a pass: added now */
        s->io.fd = -1;
        return false;
    }
    gt__lock(&s->lock, GT__LK_SOCK);
    s->add_listed = true;
    gt__unlock(&s->lock);
    atomic_fetch_add(&s->refs, 1);
    batch.socks[batch.n++] = s;
    batch.slots++;
    return true;
}

bool gt__sock_close_listed(gt__sock *s)
{
    /* linger: close(2)'s own wait or reset, which a close inside the ring
     * would not keep; a transport's (TLS) socket keeps its plain close; an
     * owner's exit closes at once, before its links and monitors are told
     * (link_test i10_1_killed_while_blocked_releases_everything: a listen
     * socket still open when the DOWN came took a connect, then reset it) */
    if (s->fd < 0 || s->o->linger_on || gt__sock_tp(s) || batch.slots >= GT__URING_BATCH ||
        !gt__sched_in_pass() || !gt__uring_thread() || gt__self_exiting())
        return false;
    int fd = s->fd;
    if (!gt__io_close_later(&s->io))
        return false;
    if (!batch_arm()) { /* cannot happen in a pass; closed now */
        sys_close(fd);
        return true;
    }
    batch.closes[batch.nclose++] = fd;
    batch.slots++;
    return true;
}

/* delay_send: gather this send with the ones that follow before the sender
 * yields, and write them all at the end of the pass of the scheduler the
 * sender runs on (inet_drv's TCP_ADDF_DELAY_SEND; docs/spec/semantics.md
 * rule 39).  That scheduler, not the socket's home: a sender moved to
 * another scheduler since its socket was homed would otherwise see the
 * home's loop write its sends while it still runs, between two of them
 * (send_test r39, seen under valgrind). */
static void queue_flush(gt__sock *s)
{
    if (s->flush_queued)
        return;
    gt__sock_ext *x = gt__sock_ext_get(s);
    if (!x) { /* no memory for the node: write now, ungathered */
        gt__sock_flush(s);
        return;
    }
    s->flush_queued = true;
    atomic_fetch_add(&s->refs, 1);
    x->flush_node = (gt__deferred){.fn = delayed_flush, .arg = s};
    if (!gt__sched_at_pass_end(&x->flush_node)) /* a thread of the user's */
        gt__sched_defer_node(s->io.home, &x->flush_node);
}

/* Sets *len to the pieces' total and *biggest to the longest piece (sums
 * kept in locals: through the pointers, every iovec's store and load
 * could alias them, 11 instructions a packet of a pipelined echo). */
static int check_iov(const struct iovec *iov, int iovcnt, size_t *len, size_t *biggest)
{
    if (iovcnt < 0 || iovcnt > IOV_MAX || (iovcnt && !iov))
        return GT_EBADARG;
    size_t sum = 0, big = 0;
    for (int i = 0; i < iovcnt; i++) {
        size_t n = iov[i].iov_len;
        if ((n && !iov[i].iov_base) || n > SIZE_MAX - sum)
            return GT_EBADARG;
        sum += n;
        big = n > big ? n : big;
    }
    *len = sum;
    *biggest = big;
    return 0;
}

/* Sends what the queue now holds: at once, or on the next loop pass with
 * delay_send.  This send of len bytes found `before` bytes queued: if
 * there were some and the two reach high_watermark, the socket is busy
 * and the sender waits (inet_drv's tcp_sendv: sz > 0 && sz + size >=
 * high). */
static int push_queue(gt__sock *s, size_t before, size_t len)
{
    if (s->o->delay_send) {
        queue_flush(s);
    } else if (s->writable) {
        s->send_caller = true;
        gt__sock_flush(s);
        s->send_caller = false;
    }
    if (gt__wr_broken(&s->wr))
        return s->wr.fail;
    if (before == 0 || before + len < (size_t)s->o->high_watermark)
        return 0;
    return hold_busy(s);
}

/* The checks every send starts with, then the wait behind a busy sender. */
static int send_begin(gt__sock *s)
{
    int rc = send_checks(s, GT__CALL_SEND);
    if (rc == 0 && gt__sock_busy_sender(s))
        rc = wait_not_busy(s);
    return rc;
}

/* The socket backend's send of one packet (send_block.c). */
static int send_packet_blocking(gt__sock *s, const struct iovec *iov, int iovcnt, size_t len,
                                size_t *sent)
{
    uint8_t hdr[4];
    size_t hlen = 0;
    *sent = 0;
    if (gt__forked())
        return GT_EFORKED;
    int rc = make_header(s->o->packet, len, hdr, &hlen);
    return rc ? rc : gt__sock_send_blocking(s, hdr, hlen, iov, iovcnt, sent);
}

int gt_sendv_partial(gt_socket h, const struct iovec *iov, int iovcnt, size_t *sent)
{
    if (gt__forked())
        return GT_EFORKED;
    size_t len, biggest, dummy;
    if (!sent)
        sent = &dummy;
    *sent = 0;
    int rc = check_iov(iov, iovcnt, &len, &biggest);
    if (rc)
        return rc;
    gt__sock *s = gt__sock_acquire(h);
    if (!s)
        return GT_ECLOSED;
    if (gt__be(s)->blocking_send) {
        rc = send_packet_blocking(s, iov, iovcnt, len, sent);
        gt__sock_release(s);
        return rc;
    }
    rc = send_begin(s);
    size_t before = out_pending(s);
    uint8_t hdr[4];
    size_t hlen = 0;
    if (rc == 0)
        rc = make_header(s->o->packet, len, hdr, &hlen);
    if (rc == 0 && (len || hlen)) {
        /* The header and the pieces go out in one sendmsg when they fit in
         * a small vector (it lives on a process stack); what the kernel
         * does not take, or a longer vector, goes through the queue. */
        struct iovec v[MAX_IOV];
        int n = 0;
        if (hlen)
            v[n++] = (struct iovec){hdr, hlen};
        size_t written = 0;
        bool defer = defer_ok(s, len + hlen);
        if (!defer && !out_pending(s) && s->writable && !s->o->delay_send && iovcnt <= MAX_IOV - 1) {
            for (int i = 0; i < iovcnt; i++)
                if (iov[i].iov_len)
                    v[n++] = iov[i];
            ssize_t w = gt__sock_writev(s, v, n);
            if (w < 0)
                rc = write_failed(s, (int)w, true);
            else
                written = (size_t)w;
            if (rc == 0 && written < len + hlen)
                rc = gt__buf_append_iov(&s->out, v, n, written);
        } else {
            rc = gt__buf_append_iov(&s->out, v, n, 0);
            if (rc == 0)
                rc = gt__buf_append_iov(&s->out, iov, iovcnt, 0);
        }
        if (rc == 0)
            gt__stat_packet_out(&s->stat, len + hlen);
        if (rc == 0 && out_pending(s) && !(defer && defer_add(s)))
            rc = push_queue(s, before, len + hlen);
    }
    /* inet: the queue took all of it, also when the busy wait timed out
     * (the data stays queued, rule 33) */
    if (rc == 0 || rc == GT_ETIMEOUT)
        *sent = len + hlen;
    gt__sock_release(s);
    return rc;
}

int gt_sendv(gt_socket h, const struct iovec *iov, int iovcnt)
{
    if (gt__forked())
        return GT_EFORKED;
    return gt_sendv_partial(h, iov, iovcnt, NULL);
}

int gt_send_partial(gt_socket h, const void *data, size_t len, size_t *sent)
{
    if (gt__forked())
        return GT_EFORKED;
    struct iovec v = {(void *)data, len};
    return gt_sendv_partial(h, &v, len ? 1 : 0, sent);
}

/* gt_send_many hands a packet of at least DIRECT_MIN bytes to the kernel
 * straight from the caller's memory, in one writev after what the queue
 * holds, when the socket takes writes now: a bulk echo copies a frame into
 * the queue only when the kernel leaves part of it (issue 11).  Smaller
 * packets are gathered in the queue, where one write takes many. */
#define DIRECT_MIN (32 * 1024)

/* A lone packet goes straight out as well, whatever its size: queued, it
 * was copied into the output buffer, written from there and the buffer
 * handed back to the pool, ~300 instructions of a 64-byte echo (issue 11,
 * rr1k). */
static bool send_direct_ok(const gt__sock *s, const struct iovec *body, bool alone)
{
    return (alone || body->iov_len >= DIRECT_MIN) && s->writable && !s->o->delay_send &&
           s->fd >= 0;
}

/* A packet up to this size that finds the queue empty is copied behind
 * its header and written in one piece: the kernel's send() costs less
 * than a sendmsg importing two iovecs, and the copy is cheap.  The copy
 * lives in the thread, not on the process's stack: a new process's stack
 * page is fresh, and on this VM the kernel's first read of a user page
 * costs like a page fault (~13 us), once per connection of a burst
 * (issue 11; runtime/io.c's epoll event likewise).  No process switch
 * can come between the copy and the send. */
#define COALESCE_MAX 256
static __thread uint8_t coalesce_buf[COALESCE_MAX];

/* Writes v[0..n), whose first piece is the queue's bytes when queued > 0,
 * and consumes from the queue what the kernel took of them.  Returns the
 * bytes taken beyond the queue, or -1 after a failed write (*fail set to
 * what the send reports). */
static ssize_t write_behind_queue(gt__sock *s, const struct iovec *v, int n, size_t queued,
                                  int *fail)
{
    ssize_t w = gt__sock_writev(s, v, n);
    if (w < 0) {
        *fail = write_failed(s, (int)w, true); /* the caller is the sender */
        return -1;
    }
    size_t from_queue = (size_t)w < queued ? (size_t)w : queued;
    if (from_queue)
        gt__buf_consume(&s->out, from_queue);
    return w - (ssize_t)from_queue;
}

/* Writes the queue, then the packet (header and body); what the kernel
 * leaves is queued.  Returns 0 or -ENOMEM; a failed write sets *fail to
 * what the send reports. */
static int send_direct(gt__sock *s, const uint8_t *hdr, size_t hlen, const struct iovec *body,
                       int *fail)
{
    struct iovec v[3];
    int n = 0;
    uint8_t *one = coalesce_buf;
    size_t queued = out_pending(s);
    if (queued)
        v[n++] = (struct iovec){gt__buf_head(&s->out), queued};
    if (!queued && hlen && hlen + body->iov_len <= COALESCE_MAX) {
        /* all 4 bytes of hdr, whatever hlen: a constant size compiles
         * to one move instead of a call of memcpy (the body overwrites
         * what is beyond hlen) */
        memcpy(one, hdr, 4);
        if (body->iov_len)
            memcpy(one + hlen, body->iov_base, body->iov_len);
        v[n++] = (struct iovec){one, hlen + body->iov_len};
    } else {
        if (hlen)
            v[n++] = (struct iovec){(void *)hdr, hlen};
        v[n++] = *body;
    }
    ssize_t took = write_behind_queue(s, v, n, queued, fail);
    if (took < 0 || (size_t)took == hlen + body->iov_len)
        return 0; /* failed (*fail says how), or all of it taken */
    struct iovec pkt[2] = {{(void *)hdr, hlen}, *body};
    return gt__buf_append_iov(&s->out, pkt, 2, (size_t)took);
}

/* gt_send_many's run of packets from the first one of DIRECT_MIN bytes
 * or more, each behind its header, written with one writev after what
 * the queue holds: a bulk echo's frames went out with a sendmsg each, and
 * each frame's last 57 bytes (64 KiB + 4 over loopback's 65,483-byte MSS)
 * made a segment of their own, for the server to send and the peer to
 * take in; one writev of 16 frames makes 17 full segments instead of 32
 * (issue 11, bulk).  DIRECT_RUN packets at most (the vector is the
 * thread's: no process switch comes between the gathering and the write,
 * and a process stack keeps its 1 KiB).  Small packets after the first big
 * one join the run, also written from the caller's memory. */
#define DIRECT_RUN 32
static __thread struct {
    struct iovec v[1 + 2 * DIRECT_RUN]; /* [0]: the queue's bytes, if any */
    uint8_t hdr[DIRECT_RUN][4];
    int n, nv; /* packets gathered; their pieces at v + 1 */
} run;

/* Writes the queue, then the gathered run; what the kernel leaves is
 * queued.  Returns 0 or -ENOMEM; a failed write sets *fail to what the
 * send reports. */
static int run_write(gt__sock *s, int *fail)
{
    size_t queued = out_pending(s);
    struct iovec *v = run.v + 1;
    int nv = run.nv;
    run.n = run.nv = 0;
    if (queued) {
        *--v = (struct iovec){gt__buf_head(&s->out), queued};
        nv++;
    }
    ssize_t took = write_behind_queue(s, v, nv, queued, fail);
    if (took < 0)
        return 0;
    if (queued) {
        v++;
        nv--;
    }
    return gt__buf_append_iov(&s->out, v, nv, (size_t)took);
}

/* queue_small_run's loop, inlined with hl a constant: the packets framed
 * at *pp (room reserved), getstat's counts once per run of one length.
 * make_header's limit and bytes, with the type looked up once for the run
 * rather than by a call per packet (issue 11, echo).  Sets *queued to the
 * packets framed; returns 0 or -EMSGSIZE for the one after them. */
static inline __attribute__((always_inline)) int
frame_run(gt__sockstat *st, const struct iovec *packets, int count, size_t hl, uint8_t **pp,
          int *queued)
{
    uint64_t max = header_max(hl);
    uint8_t *p = *pp;
    int rc = 0, i = 0;
    size_t run_len = 0, run_k = 0;
    for (; i < count; i++) {
        size_t n = packets[i].iov_len;
        if (n > max) {
            rc = -EMSGSIZE;
            break;
        }
        put_header(hl, n, p);
        p += hl;
        if (n)
            memcpy(p, packets[i].iov_base, n);
        p += n;
        if (hl + n != run_len) {
            gt__stat_packets_out(st, run_len, run_k);
            run_len = hl + n;
            run_k = 0;
        }
        run_k++;
    }
    gt__stat_packets_out(st, run_len, run_k);
    *pp = p;
    *queued = i;
    return rc;
}

/* gt_send_many's packets when none is big enough to go direct (len bytes
 * of bodies in all): headers and bodies written straight into the queue,
 * reserved once for the run, instead of an append per packet (issue 11: a
 * pipelined echo sends 1000 small packets at once).  Sets *queued and
 * *total as the general loop does, stopping at a body too long for its
 * header; returns 0, that -EMSGSIZE, or 1 (nothing done: a big packet, a
 * queue that cannot grow, nothing to write) for the general loop. */
static int queue_small_run(gt__sock *s, const struct iovec *packets, int count, size_t len,
                           size_t biggest, int *queued, size_t *total)
{
    size_t hl = header_len(s->o->packet);
    size_t bytes = len + (size_t)count * hl;
    if (biggest >= DIRECT_MIN)
        return 1;
    if (bytes == 0 || gt__buf_reserve(&s->out, bytes) != 0)
        return 1; /* the general loop: its error, packet by packet */
    uint8_t *start = gt__buf_tail(&s->out), *p = start;
    int rc;
    switch (hl) { /* one loop per header size: each header one store */
    case 4:
        rc = frame_run(&s->stat, packets, count, 4, &p, queued);
        break;
    case 2:
        rc = frame_run(&s->stat, packets, count, 2, &p, queued);
        break;
    case 1:
        rc = frame_run(&s->stat, packets, count, 1, &p, queued);
        break;
    default:
        rc = frame_run(&s->stat, packets, count, 0, &p, queued);
    }
    gt__buf_added(&s->out, (size_t)(p - start));
    *total = (size_t)(p - start);
    return rc;
}

int gt_send_many(gt_socket h, const struct iovec *packets, int count, int *sent)
{
    if (gt__forked())
        return GT_EFORKED;
    size_t len, biggest;
    /* one packet (an rr echo): check_iov's checks without its call and
     * loop (~20 instructions of each echo, issue 11) */
    int rc = count == 1 && packets && (packets->iov_base || !packets->iov_len)
                 ? (len = biggest = packets->iov_len, 0)
                 : check_iov(packets, count, &len, &biggest);
    if (sent)
        *sent = 0;
    if (rc)
        return rc;
    gt__sock *s = gt__sock_acquire(h);
    if (!s)
        return GT_ECLOSED;
    if (gt__be(s)->blocking_send) {
        int done = 0;
        size_t part;
        while (rc == 0 && done < count)
            if ((rc = send_packet_blocking(s, &packets[done], 1, packets[done].iov_len, &part)) == 0)
                done++;
        if (sent)
            *sent = done;
        gt__sock_release(s);
        return rc;
    }
    rc = send_begin(s);
    size_t before = out_pending(s), total = 0;
    int queued = 0, fail = 0;
    /* small, onto an empty or listed queue: queued for the end of the
     * pass (the lone packet does not go direct) */
    bool defer = rc == 0 && defer_ok(s, len + (size_t)count * header_len(s->o->packet));
    /* a run is framed in place; a lone packet may skip the queue below */
    if (rc == 0 && count > 1 && (rc = queue_small_run(s, packets, count, len, biggest, &queued, &total)) > 0)
        rc = 0;
    bool in_run = false; /* from the first big packet on */
    for (; rc == 0 && queued < count; queued++) {
        const struct iovec *p = &packets[queued];
        /* from the first big packet on, a run (one writev); a lone
         * packet goes direct by itself */
        bool gather = count > 1 && !defer && !fail && (in_run || p->iov_len >= DIRECT_MIN) &&
                      send_direct_ok(s, p, true);
        in_run |= gather;
        uint8_t hdr[4], *hp = gather ? run.hdr[run.n] : hdr;
        size_t hlen = 0;
        rc = make_header(s->o->packet, p->iov_len, hp, &hlen);
        if (rc)
            break;
        if (fail) /* the connection is gone: the rest is lost as well */
            continue;
        struct iovec v[2] = {{hdr, hlen}, *p};
        if (gather) {
            if (hlen)
                run.v[1 + run.nv++] = (struct iovec){hp, hlen};
            if (p->iov_len)
                run.v[1 + run.nv++] = *p;
            if (++run.n == DIRECT_RUN)
                rc = run_write(s, &fail);
        } else if (!defer && send_direct_ok(s, p, count == 1 && hlen + p->iov_len)) {
            rc = send_direct(s, hdr, hlen, p, &fail);
        } else {
            rc = gt__buf_append_iov(&s->out, v, 2, 0);
        }
        if (rc)
            break;
        total += hlen + p->iov_len;
        gt__stat_packet_out(&s->stat, hlen + p->iov_len);
    }
    if (run.n) { /* the run so far: also the packets before a bad one */
        int wrc = run_write(s, &fail);
        if (rc == 0)
            rc = wrc;
    }
    if (fail) {
        if (rc == 0)
            rc = fail;
    } else if (queued && total && (before || out_pending(s)) && !(defer && defer_add(s))) {
        /* one write for all of them; busy or not, as one send.  (Found
         * empty and left empty, the kernel took all: nothing to flush, no
         * sender to wake, as gt_sendv's direct write.) */
        int prc = push_queue(s, before, total);
        if (rc == 0)
            rc = prc;
    }
    if (sent)
        *sent = queued;
    gt__sock_release(s);
    return rc;
}

int gt_send(gt_socket h, const void *data, size_t len)
{
    if (gt__forked())
        return GT_EFORKED;
    struct iovec v = {(void *)data, len};
    return gt_sendv(h, &v, len ? 1 : 0);
}

int gt_shutdown(gt_socket h, gt_shutdown_how how)
{
    if (gt__forked())
        return GT_EFORKED;
    if (how != GT_SHUT_READ && how != GT_SHUT_WRITE && how != GT_SHUT_READ_WRITE)
        return GT_EBADARG;
    gt__sock *s = gt__sock_acquire(h);
    if (!s)
        return GT_ECLOSED;
    int rc = gt__sock_conn_err(s);
    int wa = how != GT_SHUT_READ ? gt__wr_row_of(&s->wr)->shutdown : WA_DONE;
    if (rc == 0 && wa == WA_ENOTCONN)
        rc = -ENOTCONN; /* inet: the failed send closed the write side */
    if (rc == 0 && how != GT_SHUT_WRITE) {
        gt__sock_tp_shutdown(s, SHUT_RD);
        s->rd.shut = true;
        if (s->reader)
            gt__wake(s->reader->proc);
        if (s->active != GT_ACTIVE_FALSE_V)
            gt__sock_deliver(s);
    }
    if (rc == 0 && wa == WA_GO && s->state == S_OPEN) {
        /* inet defers the shutdown until queued output is in the kernel;
         * the socket backend has no queue: a sender still writing finds
         * the shutdown at its next write (closed, rule 50) */
        if (out_pending(s) && gt__be(s)->deferred_shutdown) {
            gt__wr_to(&s->wr, WE_SHUT_DEFERRED);
        } else {
            do_shutdown_wr(s);
            if (s->blocking_sender) {
                s->writable = true; /* the next write fails at once */
                for (gt__waiter *w = s->writers; w; w = w->next)
                    gt__wake(w->proc);
            }
        }
    }
    gt__sock_release(s);
    return rc;
}
