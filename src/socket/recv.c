/*
 * recv.c -- the input side: reading the fd, framing packets, passive
 * gen_tcp:recv and active delivery to the owner's mailbox.
 *
 * Memory: a socket keeps an input buffer only while it holds bytes that
 * were read but not delivered (a partial frame, or data for a passive
 * socket).  Active delivery on a scheduler reads into the scheduler's
 * scratch buffer and copies out only packets and the leftover tail, so an
 * idle connection costs no buffer at all.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "socket/answer.h"

#define READ_CHUNK (64 * 1024)
#define RESERVE_MAX (1024 * 1024) /* a header's promise reserves no more */
#define STEAL_MIN (32 * 1024) /* a frame at least this big that fills the
                                 input buffer leaves in it, uncopied; a
                                 smaller one is copied, to keep the buffer
                                 (its memory may be up to twice the frame) */
#define RECV_MAX_LENGTH (64u << 20) /* inet: recv(S, N > 64 MiB) -> enomem */

/* gt__sock_copied_total's and gt__sock_scanned_total's counts, in
 * shards: one counter bumped for every packet by both scheduler threads
 * bounced its cache line between the cores on each message (issue 11,
 * rr1k).  A thread keeps to one shard. */
#define COPIED_SHARDS 8
static struct {
    _Alignas(64) _Atomic uint64_t n;
    _Atomic uint64_t scanned;
} copied[COPIED_SHARDS];
static atomic_uint copied_next;
static _Thread_local int copied_shard = -1;

static int my_shard(void)
{
    if (copied_shard < 0)
        copied_shard = (int)(atomic_fetch_add(&copied_next, 1) % COPIED_SHARDS);
    return copied_shard;
}

static void count_copied(size_t n)
{
    if (n)
        atomic_fetch_add_explicit(&copied[my_shard()].n, n, memory_order_relaxed);
}

/* (a process-wide count, not the socket's: every connection would carry
 * it, issue 11) */
static void count_scanned(size_t n)
{
    if (n)
        atomic_fetch_add_explicit(&copied[my_shard()].scanned, n, memory_order_relaxed);
}

uint64_t gt__sock_copied_total(void)
{
    uint64_t t = 0;
    for (int i = 0; i < COPIED_SHARDS; i++)
        t += atomic_load(&copied[i].n);
    return t;
}

uint64_t gt__sock_scanned_total(void)
{
    uint64_t t = 0;
    for (int i = 0; i < COPIED_SHARDS; i++)
        t += atomic_load(&copied[i].scanned);
    return t;
}

static size_t in_avail(const gt__sock *s) { return gt__buf_avail(&s->in); }

/* The framing cursor (in_scanned) is left alone: whoever consumes part of
 * the input framed the rest last, from its new head (take_packet). */
static void in_consume(gt__sock *s, size_t n)
{
    gt__buf_consume(&s->in, n);
    if (!in_avail(s))
        s->in_scanned = 0;
}

/* The end of input was just read (inet's tcp_recv_closed/tcp_recv_error):
 * a send waiting on the busy queue is answered closed and the queue is
 * dropped; otherwise queued output stays and goes out.  Not after a FIN
 * with exit_on_close=false, where inet's drop is a defect (DEVIATIONS row
 * 26): the write side is whole and the user keeps the socket to go on
 * sending, so dropping cut a hole in the stream that the next send went on
 * after (an echo server lost the last ~1 MB of a half-closing peer's
 * echoes).  Then the queue stays and the busy send waits on. */
static void end_read(gt__sock *s, bool fin)
{
    if (!gt__sock_busy_sender(s) || (fin && !s->o->exit_on_close))
        return;
    gt__buf_free(&s->out);
    gt__sock_unbusy(s, GT_ECLOSED);
    s->rpt |= GT__R_END_MET_BUSY;
}

/* What one read of at most cap bytes that answered n (bytes or -errno)
 * means for s: >0 bytes, 0 = nothing now (EAGAIN) or end (the read side
 * moved to FIN or ERROR), -EINTR = read again. */
static ssize_t read_took(gt__sock *s, ssize_t n, size_t cap)
{
    {
        if (n > 0) {
            gt__stat_read(&s->stat, (uint64_t)n, gt__be(s)->stat_counts_reads);
            /* A short read took all there was: the next arrival raises a
             * new edge, so the EAGAIN read that would confirm it is one
             * system call per event saved.  Not once the peer's FIN or a
             * reset was reported: no new edge would come for the EOF; nor
             * through a transport, which may return less than the kernel
             * holds (a TLS record at a time). */
            if ((size_t)n < cap && !s->hup_seen && !gt__sock_tp(s))
                s->readable = false;
            return n;
        }
        if (n == 0) {
            gt__rd_to(&s->rd, RE_FIN, 0);
            s->readable = false;
            end_read(s, true);
            return 0;
        }
        if (n == -EINTR)
            return -EINTR;
        if (n == -EAGAIN || n == -EWOULDBLOCK) {
            s->readable = false;
            return 0;
        }
        gt__rd_to(&s->rd, RE_ERROR, (int)n);
        s->readable = false;
        end_read(s, false);
        return 0;
    }
}

/* One read(); >0 bytes, 0 = nothing now (EAGAIN) or end (the read side
 * moved to FIN or ERROR). */
static ssize_t read_fd(gt__sock *s, uint8_t *buf, size_t cap)
{
    for (;;) {
        ssize_t n = read_took(s, gt__sock_tp_read(s, buf, cap), cap);
        if (n != -EINTR)
            return n;
    }
}

/* A read the scheduler made for s in its batch (sched.c's batched reads,
 * gt__sock_preread): taken by the delivery's next read_scratch in place
 * of its read, or by gt__sock_preread_settle.  The buffer is the
 * scheduler's slice, valid until the socket's event is handled.  Own
 * thread only. */
static __thread struct {
    gt__sock *s;
    uint8_t *buf;
    size_t cap;
    int res;
} pre __attribute__((tls_model("initial-exec"))); /* (a load, not a call, in the
                                                     shared library: every read asks) */

void gt__sock_preread(gt__sock *s, uint8_t *buf, size_t cap, int res)
{
    pre.s = s;
    pre.buf = buf;
    pre.cap = cap;
    pre.res = res;
}

/* The event is handled and its read not taken (the delivery stopped
 * before reading: it cannot, by read_prep's conditions, but the bytes
 * must not be lost if it did): they join the socket's input, as fill()
 * would have put them, and the end or error they carry is recorded. */
void gt__sock_preread_settle(gt__sock *s)
{
    if (pre.s != s)
        return;
    pre.s = NULL;
    ssize_t n = read_took(s, pre.res, pre.cap);
    if (n > 0) {
        struct iovec v = {pre.buf, (size_t)n};
        if (gt__buf_append_iov(&s->in, &v, 1, 0) == 0) {
            s->pkt_err_kept = false; /* new bytes: frame (and fail) again */
        } else {
            /* No memory to keep them: the bytes are gone from the kernel
             * and cannot be put back, so the stream is broken; the read
             * side ends with the error rather than skip them silently. */
            gt__rd_to(&s->rd, RE_ERROR, -ENOMEM);
            end_read(s, false);
        }
    } else if (n == -EINTR) {
        s->readable = true; /* nothing taken: the next event reads */
    }
}

/* gt__sock_fill without looking at the readable flag. */
static ssize_t fill(gt__sock *s, size_t want)
{
    if (s->fd < 0 || !gt__rd_row_of(&s->rd)->reads)
        return 0;
    /* a recv of more than 64 MiB (socket backend) grows the buffer as the
     * data comes, not all at once */
    size_t chunk = want > READ_CHUNK && want <= RECV_MAX_LENGTH ? want : READ_CHUNK;
    if (gt__buf_reserve(&s->in, chunk) != 0)
        return -ENOMEM;
    ssize_t n = read_fd(s, gt__buf_tail(&s->in), gt__buf_room(&s->in));
    if (n > 0) {
        gt__buf_added(&s->in, (size_t)n);
        s->pkt_err_kept = false; /* new bytes: frame (and fail) again */
    } else if (!in_avail(s)) {
        gt__buf_free(&s->in); /* nothing came: an idle socket keeps no buffer */
    }
    return n;
}

ssize_t gt__sock_fill(gt__sock *s, size_t want) { return s->readable ? fill(s, want) : 0; }

/* gt__pkt_frame for the socket: (buf, n) is the socket's input or the tail
 * of the scheduler's scratch buffer that will become it.  Line and http
 * framing resume their search for the line end where the last call on the
 * same head left it (s->in_scanned), so a long line that arrives in many
 * small reads costs linear, not quadratic, CPU (gt__sock_scanned_total
 * counts the bytes searched, for the tests that check it).  length: as in
 * take_packet. */
static int frame(gt__sock *s, const uint8_t *buf, size_t n, size_t length, gt__pkt_span *sp)
{
    gt_packet_type t = (gt_packet_type)s->o->packet;
    size_t resume = buf == gt__buf_head(&s->in) && s->in_scanned <= n ? s->in_scanned : 0;
    gt__pkt_opts o = {
        .packet_size = (size_t)s->o->packet_size,
        .line_length = (size_t)s->o->line_length,
        .buffer = (size_t)s->o->buffer,
        .length = length,
        .line_delimiter = (uint8_t)s->o->line_delimiter, /* inet: the low byte */
        .http_state = s->http_state,
    };
    /* The socket backend cuts lines at packet_size P (rule 83), but it
     * decodes after each read of at most `buffer` bytes with both
     * {line_length,P} and {packet_size,P}: the cut happens only when such
     * a read ends exactly at P with no delimiter before; a read that goes
     * past P is emsgsize (OTP 25: "0123456789ABC\n" at once, P 8). */
    size_t cut_at = 0;
    if (t == GT_PKT_LINE && !o.line_length && o.packet_size && gt__be(s)->line_cut_at_size) {
        cut_at = o.packet_size;
        o.line_length = o.packet_size;
        o.packet_size = 0;
    }
    if (t == GT_PKT_LINE || gt__pkt_is_http(t))
        count_scanned(n - resume);
    int r = gt__pkt_frame(t, &o, buf, n, &resume, sp);
    s->in_scanned = resume <= UINT32_MAX ? (uint32_t)resume : 0;
    if (r == 1 && cut_at && sp->total == cut_at && buf[cut_at - 1] != o.line_delimiter) {
        size_t reads_end = o.buffer ? (cut_at + o.buffer - 1) / o.buffer * o.buffer : n;
        if ((reads_end < n ? reads_end : n) > cut_at) {
            s->in_scanned = 0;
            return -EMSGSIZE;
        }
    }
    return r;
}

/* Frames one packet from (buf, n) into a message for s.
 * Returns bytes consumed (>0), 0 if more data is needed (*need set when
 * known), or a negative error (-EMSGSIZE, -ENOMEM).
 * length > 0 (raw only): exactly that many bytes. */
static ssize_t take_packet(gt__sock *s, const uint8_t *buf, size_t n, size_t length,
                           size_t *need, gt_msg **out)
{
    *need = 0;
    if (n == 0)
        return 0;
    gt_packet_type t = (gt_packet_type)s->o->packet;
    gt__pkt_span sp;
    int r = frame(s, buf, n, length, &sp);
    if (r <= 0) {
        *need = sp.need;
        return r;
    }
    gt_msg *m;
    bool big = !gt__pkt_is_http(t) && sp.body_len >= STEAL_MIN;
    s->big_frame = big && sp.total <= RESERVE_MAX ? (uint32_t)sp.total : 0;
    if (gt__pkt_is_http(t)) {
        m = gt__msg_new(GT_MSG_HTTP, 0);
        if (m) {
            gt__msg_own_http(m, gt__http_packet_new(t, buf, sp.total, &s->http_state));
            if (!m->http) {
                gt_msg_free(m);
                m = NULL;
            }
        }
    } else if (big && buf == gt__buf_head(&s->in) && sp.total == in_avail(s)) {
        /* The frame is all the input buffer holds: the buffer becomes the
         * message, and its bytes are not copied again (issue 11).  The
         * caller's in_consume then finds the input empty. */
        void *block = gt__buf_block(&s->in);
        m = gt__msg_adopt(gt__sock_msg_kind(s, GT_MSG_TCP), block, (uint8_t *)buf + sp.body, sp.body_len);
        if (m)
            gt__buf_steal(&s->in);
    } else {
        m = gt__msg_new(gt__sock_msg_kind(s, GT_MSG_TCP), sp.body_len);
        if (m) {
            memcpy(m->data, buf + sp.body, sp.body_len);
            count_copied(sp.body_len);
        }
    }
    if (!m)
        return -ENOMEM;
    m->sock = (gt_socket){s->id};
    gt__stat_packet_in(&s->stat, sp.total, gt__be(s)->stat_counts_reads);
    *out = m;
    return (ssize_t)sp.total;
}

/* A partial packet left at the end of input becomes a message: a raw tail
 * or a line without its delimiter as data, anything else as a truncated
 * error.  Returns NULL when nothing is left. */
static gt_msg *take_tail(gt__sock *s)
{
    size_t n = in_avail(s);
    if (!n)
        return NULL;
    if (s->o->discard_partial || s->pkt_err_kept) { /* Erlang's behaviour, asked
                                                      for; a bad packet */
        s->pkt_err_kept = false;
        in_consume(s, n);
        return NULL;
    }
    gt_packet_type t = (gt_packet_type)s->o->packet;
    gt_msg *m;
    if (t == GT_PKT_RAW || t == GT_PKT_LINE) {
        m = gt__msg_new(gt__sock_msg_kind(s, GT_MSG_TCP), n);
        if (m) {
            memcpy(m->data, gt__buf_head(&s->in), n);
            gt__stat_packet_in(&s->stat, n, gt__be(s)->stat_counts_reads);
        }
    } else {
        m = gt__msg_new(gt__sock_msg_kind(s, GT_MSG_TCP_ERROR), 0);
        if (m)
            m->reason = GT_ETRUNCATED;
    }
    in_consume(s, n);
    if (m)
        m->sock = (gt_socket){s->id};
    return m;
}

/* The socket backend after a packet error (rules 78, 79): the socket stays
 * open and the bad bytes stay.  gen_tcp_socket checks a {packet,1|2|4}
 * header by peeking at the kernel, so the next recv reports it again at
 * once; other types keep what was read in its buffer and decode it again
 * with the next bytes that arrive (so: timeout while none come, the error
 * again when some do; the end of input drops them). */
static void keep_after_packet_error(gt__sock *s)
{
    int t = s->o->packet;
    s->pkt_err_kept = t != GT_PKT_1 && t != GT_PKT_2 && t != GT_PKT_4;
}

static bool input_ended(const gt__sock *s) { return gt__rd_ended(&s->rd); }

/* ---- active delivery ---- */

static bool active_on(const gt__sock *s) { return s->active != GT_ACTIVE_FALSE_V; }

/* Counts one delivered packet against once / N.  Returns true when the
 * socket just went passive through N reaching 0 (tcp_passive is due). */
static bool count_packet(gt__sock *s)
{
    if (s->active == GT_ACTIVE_ONCE_V) {
        s->active = GT_ACTIVE_FALSE_V;
    } else if (s->active != GT_ACTIVE_TRUE_V) {
        if (--s->active <= 0) {
            s->active = GT_ACTIVE_FALSE_V;
            return true;
        }
    }
    return false;
}

typedef struct chain {
    gt_msg *head, *tail;
    size_t n;
    bool limited; /* the owner's mailbox had a limit when the delivery began
                     or at its last read (limit_seen) */
} chain;

/* Looks at the owner's limit again after a read: one set while the
 * delivery was under way (the owner is another thread) applies to the
 * bytes read after it, which its peer may have sent only once the limit
 * was set.  Read once per delivery, such a limit let one read's worth of
 * packets past it (mboxlimit_test's flake under load). */
static inline void limit_seen(gt__sock *s, chain *c)
{
    if (!c->limited)
        c->limited = gt__mbox_limited(s->owner);
}

_Atomic(void (*)(void)) gt__sock_read_hook;

static void chain_add(chain *c, gt_msg *m)
{
    if (!m)
        return;
    GT__NEXT(m) = NULL;
    if (c->tail)
        GT__NEXT(c->tail) = m;
    else
        c->head = m;
    c->tail = m;
    c->n++;
}

static gt_msg *sock_msg(gt__sock *s, gt_msg_kind kind, int reason)
{
    gt_msg *m = gt__msg_new(kind, 0);
    if (m) {
        m->sock = (gt_socket){s->id};
        m->reason = reason;
    }
    return m;
}

void gt__sock_passive_msg(gt__sock *s)
{
    gt_msg *m = sock_msg(s, gt__sock_msg_kind(s, GT_MSG_TCP_PASSIVE), 0);
    if (m && s->owner)
        gt__mbox_deliver(s->owner, m, m);
    else
        gt_msg_free(m);
}

/* The owner's mailbox, with the batch c about to join it, is at its limit
 * (gt_set_mailbox_limit): delivery stops, leaving what is unread in the
 * kernel, until the owner's receive resumes it (socket.c, res_resume). */
static bool stall(gt__sock *s, const chain *c)
{
    /* Not once a send failed: inet reports the end at once, after what
     * the kernel holds (gt__sock_send_failed), bounded by its buffer.
     * Without a limit (c->limited, read once per delivery) no call: it
     * was 2-3 calls per rr echo (issue 11). */
    if (!c->limited || gt__wr_broken(&s->wr) || !gt__mbox_over_limit(s->owner, c->n))
        return false;
    s->mbox_stalled = true;
    return true;
}

/* What take_small_fixed needs of the socket, looked up once per buffer
 * framed rather than per packet (options, backend, message kind: ~30
 * instructions of a pipelined echo's packet, issue 11).  hl 0: not a
 * {packet,1|2|4} socket, or a buffer or packet_size below the header makes
 * the header itself too big (frame()'s EMSGSIZE): take_packet's cases. */
typedef struct small_fmt {
    size_t hl, psize;
    gt_msg_kind kind;
    bool counts_reads;
} small_fmt;

static small_fmt small_fmt_of(const gt__sock *s)
{
    int t = s->o->packet;
    size_t cut = s->o->buffer > 0 ? (size_t)s->o->buffer : 0;
    size_t psize = s->o->packet_size > 0 ? (size_t)s->o->packet_size : 0;
    size_t room = cut && psize > cut ? psize : cut;
    small_fmt f = {0, 0, gt__sock_msg_kind(s, GT_MSG_TCP), gt__be(s)->stat_counts_reads};
    if ((t == GT_PKT_1 || t == GT_PKT_2 || t == GT_PKT_4) && !(room && room < (size_t)t)) {
        f.hl = (size_t)t;
        f.psize = psize ? psize : SIZE_MAX;
    }
    return f;
}

/* The most a small frame's body may hold: under STEAL_MIN and within
 * psize (packet_size), one bound. */
static inline size_t small_max(size_t psize) { return psize < STEAL_MIN ? psize : STEAL_MIN - 1; }

/* The body length of the small frame with an hl-byte header that starts
 * (buf, n) when it is whole there and at most max (small_max); false for
 * every other case (a partial or big frame, an error: take_packet's).
 * Inlined with hl a constant, the header is one load. */
static inline bool small_frame(size_t hl, size_t max, const uint8_t *buf, size_t n, size_t *plen)
{
    size_t len;
    if (!hl || n < hl)
        return false;
    switch (hl) { /* big-endian, unrolled: once per packet of a run */
    case 4:
        len = (size_t)buf[0] << 24 | (size_t)buf[1] << 16 | (size_t)buf[2] << 8 | buf[3];
        break;
    case 2:
        len = (size_t)buf[0] << 8 | buf[1];
        break;
    default:
        len = buf[0];
    }
    *plen = len;
    return len <= max && len <= n - hl;
}

/* A message holding a copy of the plen bytes at body (the caller's buffer
 * stays the caller's); NULL without memory. */
static inline gt_msg *small_msg(gt_socket id, gt_msg_kind kind, const uint8_t *body, size_t plen)
{
    gt_msg *m = gt__msg_new(kind, plen);
    if (m) {
        memcpy(m->data, body, plen);
        m->sock = id;
    }
    return m;
}

/* take_packet's result for the common small frame (small_frame), without
 * the general framing (about a quarter of a pipelined echo's
 * instructions, issue 11); 0 leaves every other case to take_packet.  The
 * body's bytes are added to *copies, counted once per run by the caller. */
static ssize_t take_small_fixed(gt__sock *s, const small_fmt *f, const uint8_t *buf, size_t n,
                                gt_msg **out, size_t *copies)
{
    size_t plen;
    gt_msg *m;
    if (!small_frame(f->hl, small_max(f->psize), buf, n, &plen) ||
        !(m = small_msg((gt_socket){s->id}, f->kind, buf + f->hl, plen)))
        return 0; /* take_packet frames it, or reports the lack of memory */
    *copies += plen;
    s->in_scanned = 0;
    s->big_frame = 0;
    gt__stat_packet_in(&s->stat, f->hl + plen, f->counts_reads);
    *out = m;
    return (ssize_t)(f->hl + plen);
}

/* take_small_fixed over a whole run of frames, for a socket active true
 * or N whose owner's mailbox has no limit (stall() cannot stop it): the
 * socket's state stays in locals, getstat's counters move once per run of
 * one length, the run joins the chain once (issue 11, echo: ~93
 * instructions a packet, framed one by one).  Stops before the first
 * frame small_frame refuses, or with N used up; returns the bytes taken,
 * as deliver_from's loop would have.  hl is f->hl, a constant in each of
 * take_small_run's calls. */
static inline __attribute__((always_inline)) size_t
small_run(gt__sock *s, const small_fmt *f, size_t hl, const uint8_t *buf, size_t n, chain *c,
          bool *passive, size_t *copies)
{
    int64_t act = s->active;
    int64_t left = act == GT_ACTIVE_TRUE_V ? INT64_MAX : act; /* count_packet's */
    /* copies the calls below cannot be assumed to leave alone: registers */
    const size_t max = small_max(f->psize);
    const gt_msg_kind kind = f->kind;
    const bool counts_reads = f->counts_reads;
    const gt_socket id = {s->id};
    size_t used = 0, body = 0, taken = 0, run_len = 0, run_k = 0, plen;
    gt__envelope first = {0}; /* the run's head hangs off first.next */
    gt_msg *tail = &first.msg, *m;
    while (left > 0 && small_frame(hl, max, buf + used, n - used, &plen) &&
           (m = small_msg(id, kind, buf + used + hl, plen))) {
        GT__NEXT(tail) = m;
        tail = m;
        taken++;
        body += plen;
        used += hl + plen;
        left--;
        if (hl + plen != run_len) {
            gt__stat_packets_in(&s->stat, run_len, run_k, counts_reads);
            run_len = hl + plen;
            run_k = 0;
        }
        run_k++;
    }
    if (!taken)
        return 0;
    gt__stat_packets_in(&s->stat, run_len, run_k, counts_reads);
    GT__NEXT(tail) = NULL;
    if (c->tail)
        GT__NEXT(c->tail) = first.next;
    else
        c->head = first.next;
    c->tail = tail;
    c->n += taken;
    s->in_scanned = 0;
    s->big_frame = 0;
    if (act != GT_ACTIVE_TRUE_V) {
        s->active = left > 0 ? left : GT_ACTIVE_FALSE_V;
        *passive |= left <= 0;
    }
    *copies += body;
    return used;
}

static size_t take_small_run(gt__sock *s, const small_fmt *f, const uint8_t *buf, size_t n, chain *c,
                             bool *passive, size_t *copies)
{
    if (c->limited || s->active == GT_ACTIVE_ONCE_V || s->active == GT_ACTIVE_FALSE_V)
        return 0;
    switch (f->hl) {
    case 4:
        return small_run(s, f, 4, buf, n, c, passive, copies);
    case 2:
        return small_run(s, f, 2, buf, n, c, passive, copies);
    case 1:
        return small_run(s, f, 1, buf, n, c, passive, copies);
    default:
        return 0; /* not {packet,1|2|4}: take_packet's */
    }
}

/* Frames packets from (buf, n) while active; returns the bytes of the
 * packets delivered, and sets *err to a packet error (-EMSGSIZE, -ENOMEM)
 * that stopped it at the packet after them. */
static size_t deliver_from(gt__sock *s, const uint8_t *buf, size_t n, chain *c, bool *passive,
                           int *err)
{
    size_t used = 0, copies = 0;
    if (s->pkt_err_kept || !n)
        return 0; /* no new bytes yet; nothing (an empty input: one call of
                     each read, not worth the look-ups below) */
    /* (the options cannot change here: the socket's lock is held) */
    small_fmt f = small_fmt_of(s);
    used = take_small_run(s, &f, buf, n, c, passive, &copies);
    while (active_on(s) && used < n && !stall(s, c)) {
        size_t need;
        gt_msg *m = NULL;
        ssize_t r = take_small_fixed(s, &f, buf + used, n - used, &m, &copies);
        if (r == 0)
            r = take_packet(s, buf + used, n - used, 0, &need, &m);
        if (r < 0)
            *err = (int)r;
        if (r <= 0)
            break;
        used += (size_t)r;
        chain_add(c, m);
        if (count_packet(s))
            *passive = true;
    }
    count_copied(copies);
    return used;
}

/* The socket's input ended while active: tail, error, tcp_closed, and with
 * exit_on_close the socket is finished (docs/spec/semantics.md rules 46, 54).
 * After a failed send the error is the reset that send found, once (rule
 * 21: inet activating a socket it closed). */
static void deliver_end(gt__sock *s, chain *c, int pkt_err)
{
    if (pkt_err && gt__be(s)->emsgsize_keeps) {
        /* the socket backend keeps the socket and goes passive
         * (gen_tcp_socket's recv_stop), with no tcp_closed */
        chain_add(c, sock_msg(s, gt__sock_msg_kind(s, GT_MSG_TCP_ERROR), pkt_err));
        keep_after_packet_error(s);
        s->active = GT_ACTIVE_FALSE_V;
        return;
    }
    if (pkt_err) {
        /* inet's tcp_recv_error: the input is thrown away and, with
         * exit_on_close=false, reading stops until the next activation
         * (desc_close_read; options.c) */
        chain_add(c, sock_msg(s, gt__sock_msg_kind(s, GT_MSG_TCP_ERROR), pkt_err));
        in_consume(s, in_avail(s));
        s->read_paused = true;
    } else {
        /* what the end reports, by the rows (state.c: after a failed send
         * a reset shown once, else the end read) */
        chain_add(c, take_tail(s));
        int reason = gt__sock_answer(s, GT__CALL_ACTIVE_END);
        if (reason != GT_ECLOSED)
            chain_add(c, sock_msg(s, gt__sock_msg_kind(s, GT_MSG_TCP_ERROR), reason));
    }
    if (gt__be(s)->closed_forever)
        s->active = GT_ACTIVE_FALSE_V; /* gen_tcp_socket's recv_stop */
    if (!(s->rpt & GT__R_CLOSED_SENT)) {
        s->rpt |= GT__R_CLOSED_SENT;
        s->rpt |= GT__R_END_TOLD;
        chain_add(c, sock_msg(s, gt__sock_msg_kind(s, GT_MSG_TCP_CLOSED), 0));
    }
}

/* Reads into the socket's buffer as much as the frame being assembled
 * needs (a process activating its socket has no scratch buffer). */
static int fill_for_frame(gt__sock *s)
{
    gt__pkt_span sp = {0};
    if (in_avail(s))
        frame(s, gt__buf_head(&s->in), in_avail(s), 0, &sp);
    size_t need = sp.need;
    if (!in_avail(s))
        need = s->big_frame; /* the next frame is likely as big as the last */
    if (need >= STEAL_MIN && need > in_avail(s)) {
        /* A big frame: read up to its end and no further, so that it is
         * all the buffer holds and leaves in it uncopied (take_packet). */
        size_t want = need - in_avail(s);
        if (s->fd < 0 || !s->readable || !gt__rd_row_of(&s->rd)->reads)
            return 0;
        if (gt__buf_reserve(&s->in, want) != 0)
            return -ENOMEM;
        ssize_t n = read_fd(s, gt__buf_tail(&s->in), want);
        if (n > 0)
            gt__buf_added(&s->in, (size_t)n);
        return 0;
    }
    ssize_t n = gt__sock_fill(s, need > in_avail(s) ? need - in_avail(s) : 0);
    return n < 0 ? (int)n : 0;
}

/* A frame's total size when its fixed header (packet 1, 2, 4) is in
 * (buf, n) and the frame is not, as the packet layer reads it; else 0. */
static size_t known_frame_size(gt__sock *s, const uint8_t *buf, size_t n)
{
    int t = s->o->packet;
    if (n == 0 || (t != GT_PKT_1 && t != GT_PKT_2 && t != GT_PKT_4))
        return 0; /* n == 0: every read ended on a frame boundary (a whole
                     framing call per message otherwise) */
    gt__pkt_span sp;
    return frame(s, buf, n, 0, &sp) == 0 ? sp.need : 0;
}

/* One read into the scheduler's scratch buffer, framed straight out of it:
 * only an incomplete tail is copied into the socket. */
static int read_scratch(gt__sock *s, chain *c, bool *passive)
{
    size_t cap;
    uint8_t *scratch;
    ssize_t n;
    if (__builtin_expect(pre.s == s, 0)) { /* read in the scheduler's batch */
        pre.s = NULL;
        scratch = pre.buf;
        cap = pre.cap;
        n = read_took(s, pre.res, cap);
    } else {
        scratch = gt__sched_scratch(&cap);
        if (!scratch)
            return fill_for_frame(s);
        n = read_fd(s, scratch, cap);
    }
    if (n <= 0)
        return 0; /* EAGAIN; the end of input is seen by the caller (and
                     -EINTR from the batch: readable stays, read again) */
    limit_seen(s, c);
    int err = 0;
    size_t used = deliver_from(s, scratch, (size_t)n, c, passive, &err);
    if (used == (size_t)n)
        return err; /* every frame whole: no tail to keep (an rr echo) */
    struct iovec rest = {scratch + used, (size_t)n - used};
    count_copied(rest.iov_len);
    /* The start of a big frame: room for all of it at once, so that the
     * rest is read in place and nothing moves again. */
    size_t frame_size = known_frame_size(s, rest.iov_base, rest.iov_len);
    if (frame_size >= STEAL_MIN && frame_size <= RESERVE_MAX && frame_size > rest.iov_len &&
        gt__buf_reserve(&s->in, frame_size) != 0)
        return err ? err : -ENOMEM;
    int rc = gt__buf_append_iov(&s->in, &rest, 1, 0);
    return err ? err : rc;
}

/* Big frames read ahead (issue 11, bulk): a bulk echo read each 64 KiB
 * frame with a read of its own, up to its end (fill_for_frame), 16 reads
 * for the 16 frames gtcat lets in at once, each a system call and each
 * a window update the server sent the peer (and the peer's ACK
 * processing, on loopback in the server's read).  When the input is empty
 * at a frame boundary after a big frame, one readv reads up to FRAMES_MAX
 * frames of the last one's size, each into a block of its own, so that
 * each whole one still leaves as its message uncopied.  FRAMES_BYTES
 * bounds the blocks a readv asks for (the kernel may hold less: the blocks
 * it did not fill are freed unwritten). */
#define FRAMES_MAX 16
#define FRAMES_BYTES (2 * 1024 * 1024)

/* How many frames of s->big_frame bytes the delivery may take with one
 * readv: as many as {active, N} lets in, none past a mailbox limit (its
 * stall is checked per packet) or a transport (one buffer per read) or
 * {active, once}; fewer than 2 is the plain read. */
static int frames_wanted(const gt__sock *s, const chain *c)
{
    if (c->limited || gt__sock_tp(s) || s->active == GT_ACTIVE_ONCE_V)
        return 1;
    int64_t k = FRAMES_BYTES / s->big_frame;
    if (k > FRAMES_MAX)
        k = FRAMES_MAX;
    if (s->active != GT_ACTIVE_TRUE_V && s->active < k)
        k = s->active;
    return (int)k;
}

/* One readv of k frames: the rest of the big frame the input starts, if
 * it holds one's start, then frames of s->big_frame bytes, each into a
 * block of its own.  The input, then each block in turn as the socket's
 * input, is delivered (a whole frame: its message, take_packet).  From the
 * first block that was not one whole frame of that size (the last, partly
 * filled; a frame of another size), or once the delivery stops, the rest
 * is appended to the input, in order, as the reads would have left it.
 * Returns as deliver_from's error (0, -EMSGSIZE, -ENOMEM), or 1: not for
 * this input (fill_for_frame's turn). */
static int read_frames(gt__sock *s, chain *c, bool *passive, int k)
{
    size_t fl = s->big_frame, head = 0;
    if (in_avail(s)) { /* a big frame's start: its rest first */
        gt__pkt_span sp = {0};
        frame(s, gt__buf_head(&s->in), in_avail(s), 0, &sp);
        if (sp.need < STEAL_MIN || sp.need > RESERVE_MAX || sp.need <= in_avail(s) || --k < 1)
            return 1;
        head = sp.need - in_avail(s);
        if (gt__buf_reserve(&s->in, head) != 0)
            return -ENOMEM;
    }
    gt__buf blk[FRAMES_MAX] = {{0}};
    struct iovec v[1 + FRAMES_MAX];
    int n = 0, nv = 0;
    if (head)
        v[nv++] = (struct iovec){gt__buf_tail(&s->in), head};
    /* the first block from malloc, which hands back the block of a frame
     * just freed, its pages still in memory: the read fills it; the others
     * are the thread's spares, which only a burst of frames fills (taken
     * first, a spare never written made the kernel fault in its pages:
     * 240 page faults more over a trickle, every spare once) */
    while (n < k && (n ? gt__buf_reserve_block(&blk[n], fl) : gt__buf_reserve(&blk[n], fl)) == 0) {
        v[nv++] = (struct iovec){gt__buf_tail(&blk[n]), fl};
        n++;
    }
    if (nv < 2) { /* no memory for a block: one read, as ever */
        gt__buf_free_block(&blk[0], fl);
        return 1;
    }
    ssize_t got;
    do
        got = read_took(s, gt__sock_tp_readv(s, v, nv), head + (size_t)n * fl);
    while (got == -EINTR);
    limit_seen(s, c); /* one set meanwhile holds back these bytes */
    int err = 0;
    size_t left = got > 0 ? (size_t)got : 0;
    if (left)
        s->pkt_err_kept = false; /* new bytes: frame (and fail) again */
    size_t part = left < head ? left : head;
    if (part) {
        gt__buf_added(&s->in, part);
        left -= part;
    }
    int filled = 0;
    for (; left; filled++) {
        part = left < fl ? left : fl;
        left -= part;
        gt__buf_added(&blk[filled], part);
    }
    if (head)
        in_consume(s, deliver_from(s, gt__buf_head(&s->in), in_avail(s), c, passive, &err));
    /* each block in turn the input, while it is one whole frame */
    int i = 0;
    for (; i < filled && !err && !in_avail(s) && active_on(s) && !stall(s, c); i++) {
        s->in = blk[i];
        blk[i].m = NULL;
        in_consume(s, deliver_from(s, gt__buf_head(&s->in), in_avail(s), c, passive, &err));
    }
    /* the rest, in order, behind what the input holds */
    for (int j = i; j < n; j++) {
        size_t have = gt__buf_avail(&blk[j]);
        if (have && !in_avail(s)) {
            s->in = blk[j]; /* no copy: it starts the input */
            blk[j].m = NULL;
            continue;
        }
        if (have) {
            struct iovec r = {gt__buf_head(&blk[j]), have};
            count_copied(have);
            if (gt__buf_append_iov(&s->in, &r, 1, 0) != 0 && !err) {
                /* the bytes are gone from the kernel: the stream is
                 * broken (as gt__sock_preread_settle) */
                gt__rd_to(&s->rd, RE_ERROR, -ENOMEM);
                end_read(s, false);
                err = -ENOMEM;
            }
        }
        gt__buf_free_block(&blk[j], fl); /* unfilled: a spare for the next */
    }
    return err;
}

/* Reads and frames while the socket is active.  Returns 0, or the error
 * that ends the input (-EMSGSIZE for a bad packet, -ENOMEM); *ended tells
 * that the peer's end of input was reached and is still to be reported. */
static int deliver_loop(gt__sock *s, chain *c, bool *passive, bool *ended)
{
    while (active_on(s)) {
        int err = 0;
        if (in_avail(s)) /* (an empty buffer: the common case, no call) */
            in_consume(s, deliver_from(s, gt__buf_head(&s->in), in_avail(s), c, passive, &err));
        if (err)
            return err;
        /* stalled: neither more reads nor the end of input, which must
         * come after the packets still buffered */
        if (!active_on(s) || s->mbox_stalled || stall(s, c))
            return 0;
        if (input_ended(s)) {
            *ended = !(s->rpt & GT__R_CLOSED_SENT) ||
                     (gt__wr_broken(&s->wr) && (s->rpt & GT__R_ECONNRESET));
            return 0;
        }
        if (!s->readable)
            return 0;
        void (*hook)(void) = atomic_load_explicit(&gt__sock_read_hook, memory_order_relaxed);
        if (__builtin_expect(hook != NULL, 0))
            hook();
        int rc = 1, k;
        if (s->big_frame && (k = frames_wanted(s, c)) > 1)
            rc = read_frames(s, c, passive, k); /* 1: not for this input */
        if (rc <= 0) {
            /* read and delivered (its own limit_seen) */
        } else if (in_avail(s) || s->big_frame) {
            rc = fill_for_frame(s);
            limit_seen(s, c); /* (its bytes are framed above, next turn) */
        } else {
            rc = read_scratch(s, c, passive); /* (it calls limit_seen) */
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

void gt__sock_deliver(gt__sock *s)
{
    if (s->kind != K_CONN || s->state != S_OPEN || !s->owner || gt__wr_connecting(&s->wr) ||
        s->read_paused)
        return;
    s->mbox_stalled = false; /* looked at again below */
    chain c = {.limited = gt__mbox_limited(s->owner)};
    bool passive = false, ended = false;
    int err = deliver_loop(s, &c, &passive, &ended);
    bool finished = false;
    if (err || ended) {
        deliver_end(s, &c, err);
        /* the socket backend keeps the socket: sends still go to the
         * kernel (rule 46) */
        finished = s->o->exit_on_close && !gt__be(s)->closed_forever;
    }
    if (passive)
        chain_add(&c, sock_msg(s, gt__sock_msg_kind(s, GT_MSG_TCP_PASSIVE), 0));
    if (c.head)
        gt__mbox_deliver_n(s->owner, c.head, c.tail, c.n);
    if (finished)
        gt__sock_close_locked(s, S_CLOSED, GT_ECLOSED);
}

/* ---- passive recv ---- */

int gt__sock_send_failed(gt__sock *s, int reason, bool caller)
{
    /* inet's tcp_send_or_shutdown_error: a passive socket remembers the
     * reason for the next recv (and activation), and for the next send
     * too when no send was waiting for it (a background failure, rule 56);
     * an active one tells its owner now -- tcp_error if a reset is shown,
     * tcp_closed once -- remembers nothing, and with exit_on_close is
     * gone.  A pending delayed close (an end of input reported as closed)
     * makes the next send report the reason once more: closed if the
     * socket was active. */
    bool active = active_on(s);
    uint32_t call_facts = (caller ? GT__F_CALLER : 0) | (reason == -ECONNRESET ? GT__F_FAIL_RESET : 0);
    int next = gt__sock_answer_rows(s, GT__CALL_SEND_FAILED, gt__sock_quick_facts(s, GT__F_QUICK_) | call_facts);
    if (next == GT__ANS_FAILURE)
        next = reason;
    if (active) {
        /* what the kernel holds first (docs/DEVIATIONS.md row 3), then the
         * end inet reports at once: the input ends here */
        gt__sock_deliver(s);
        if (s->state == S_OPEN && active_on(s) && !input_ended(s)) {
            gt__rd_to(&s->rd, RE_FIN, 0);
            gt__sock_deliver(s);
        }
    }
    return next;
}

/* The socket backend queues a recv behind the one reading (rule 26): the
 * caller waits, FIFO, until none reads and it is first in line.  Returns
 * 0 (its turn: it left the queue), or timeout / closed / an exit.  Lock
 * held. */
static int recv_turn(gt__sock *s, gt__proc *self, int64_t timeout_ms, int64_t deadline)
{
    gt__sock_ext *x = gt__sock_ext_get(s); /* where the queue is */
    if (!x)
        return -ENOMEM;
    gt__waiter q = {.proc = self};
    gt__waiter **pp = &x->recv_queue;
    while (*pp)
        pp = &(*pp)->next;
    *pp = &q;
    int rc = 0;
    while (rc == 0 && !q.done && (s->reader || x->recv_queue != &q)) {
        if (gt__expired(deadline))
            rc = GT_ETIMEOUT;
        else if (timeout_ms != 0 && (rc = gt__exit_check()))
            break;
        else
            gt__sock_wait(s, &q, deadline);
    }
    if (q.done) /* woken by close: the queue is gone */
        return q.result;
    for (pp = &x->recv_queue; *pp; pp = &(*pp)->next)
        if (*pp == &q) {
            *pp = q.next;
            break;
        }
    return rc;
}

int gt_recv(gt_socket h, size_t length, int64_t timeout_ms, gt_msg **msg_out)
{
    if (gt__forked())
        return GT_EFORKED;
    if (!msg_out)
        return GT_EBADARG;
    *msg_out = NULL;
    gt__proc *self = gt__self();
    if (!self)
        return -ENOMEM;
    int64_t deadline = gt__deadline(timeout_ms);
    gt__sock *s = gt__sock_acquire(h);
    if (!s)
        return GT_ECLOSED;
    gt__sock_flush_deferred(s, GT__DEFER_DELAY); /* its failure decides the answer (rule 56) */
    const gt__backend *be = gt__be(s);
    if (be->recv_length_any && s->o->packet != GT_PKT_RAW)
        length = 0; /* rule 24: ignored */
    /* the connection's state first (state.c's rows: closed, enotconn,
     * a failed send's delayed report, the socket backend's closed for
     * ever, einval while active), then the arguments */
    int rc = gt__sock_answer(s, GT__CALL_RECV);
    if (rc == 0 && length && s->o->packet != GT_PKT_RAW)
        rc = -EINVAL; /* rule 24 */
    else if (rc == 0 && length > RECV_MAX_LENGTH && !be->recv_length_any)
        rc = -ENOMEM; /* rule 23 */
    else if (rc == 0 && s->reader && !be->queued_recv)
        rc = -EALREADY; /* rule 26: one recv at a time (inet) */
    else if (rc == 0 && (s->reader || gt__sock_recv_queue(s)))
        rc = recv_turn(s, self, timeout_ms, deadline);
    gt__waiter w = {.proc = self};
    bool tried = false;
    while (rc == 0) {
        /* killed: a recv that could wait takes nothing more */
        if (timeout_ms != 0 && (rc = gt__exit_check()))
            break;
        size_t need = 0;
        gt_msg *m = NULL;
        ssize_t r = s->pkt_err_kept ? 0 /* wait for new bytes */
                    : take_packet(s, gt__buf_head(&s->in), in_avail(s), length, &need, &m);
        if (r > 0) {
            in_consume(s, (size_t)r);
            *msg_out = m;
            break;
        }
        if (r < 0) {
            rc = (int)r;
            /* inet throws its input away (tcp_recv_error); with
             * exit_on_close=false the next recv reads on from the kernel
             * (rule 78) */
            if (rc == -EMSGSIZE && be->emsgsize_keeps) {
                keep_after_packet_error(s);
                break;
            }
            if (rc == -EMSGSIZE)
                in_consume(s, in_avail(s));
            if (rc == -EMSGSIZE && s->o->exit_on_close)
                gt__sock_close_locked(s, S_DRV_CLOSED, GT_ECLOSED);
            break;
        }
        if (input_ended(s)) {
            if ((m = take_tail(s))) {
                if (m->kind == gt__sock_msg_kind(s, GT_MSG_TCP_ERROR)) {
                    rc = m->reason;
                    gt_msg_free(m);
                } else {
                    *msg_out = m;
                }
                break;
            }
            /* the end met by a passive recv: its answer and what inet
             * does then, by the rows (state.c; rules 27, 28, 48, 53-55) */
            rc = gt__sock_answer(s, GT__CALL_RECV_END);
            break;
        }
        /* The flag is set only once the scheduler has taken the
         * readiness edge; what is already in the kernel is read at once,
         * as inet does (recv(S,0,0) after the bytes came): one read per
         * call whatever the flag says, EAGAIN clearing it again.  Not
         * for a recv that may wait, once a read found the kernel's queue
         * empty (flag clear, plain TCP): whatever came since raised an
         * edge whose event wakes this wait, and the read could only say
         * EAGAIN in the common case (send16: an acceptor pool's worker
         * read EAGAIN once per request before it waited). */
        if (s->readable || (!tried && (timeout_ms == 0 || gt__sock_tp(s)))) {
            tried = true;
            ssize_t n = fill(s, need > in_avail(s) ? need - in_avail(s) : 0);
            if (n < 0) {
                rc = (int)n;
                break;
            }
            if (n > 0 || input_ended(s))
                continue;
        }
        if (gt__expired(deadline)) {
            rc = GT_ETIMEOUT; /* partial data stays buffered (rule 25) */
            break;
        }
        w.done = false;
        s->reader = &w;
        gt__sock_wait(s, &w, deadline);
        if (s->reader == &w)
            s->reader = NULL;
        if (w.done) {
            rc = w.result;
            break;
        }
        if (s->state != S_OPEN) {
            rc = s->state == S_CLOSED ? GT_ECLOSED : -ENOTCONN;
            break;
        }
    }
    if (gt__sock_recv_queue(s))
        gt__wake(s->x->recv_queue->proc); /* the next recv's turn */
    gt__sock_release(s);
    return rc;
}
