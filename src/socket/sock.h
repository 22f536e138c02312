/*
 * sock.h -- the socket object shared by the files of socket/.
 *
 * Locking: every field below `lock` is guarded by it.  The socket lock
 * comes first in the lock order (util/lock.h): socket -> owner's plock,
 * socket -> mailbox; never the reverse.  All system calls on fd happen
 * under the lock, and fd is closed under it, so an fd number can never be
 * reused under the feet of a reader.
 *
 * Lifetime: references are held by the handle table, by each registration
 * of the fd watcher `io` (dropped by its release, on its scheduler, after
 * the fd is closed or moved, outside any event batch) and by each API call
 * in progress.
 */
#ifndef GT_SOCK_H
#define GT_SOCK_H

#include <errno.h>
#include <netinet/in.h>

#include "internal.h"
#include "packet/packet.h"
#include "socket/stats.h"
#include "socket/backend.h"
#include "socket/state.h"
#include "util/buf.h"

typedef struct gt__sock gt__sock;

/* ---- options (options.c) ------------------------------------------------- */

typedef struct gt__sockopts {
    /* Widest first, so that no padding is left (issue 11: every socket
     * carries one).  Setopts checks each int32_t option's range to
     * int32 (options.c, valid_value); field_store narrows by size.  The
     * active mode, which changes with every {active,once}, is the
     * socket's own (gt__sock.active). */
    int64_t line_delimiter; /* as set; framing uses its low byte (inet) */
    uint64_t inherit_set;   /* the options an accepted socket copies
                               (gt__opts_inherit) that were ever set on
                               this socket, bit 1 << gt_optname: the
                               others hold the kernel's own values       */
    const gt_transport *tp; /* tcp_module: NULL = plain TCP; a listen
                               socket's is opened for each accept      */
    int32_t packet_size;
    int32_t buffer;
    int32_t send_timeout;   /* ms, -1 = infinity                         */
    int32_t high_watermark, low_watermark;
    int32_t line_length;    /* gentcp: line truncation, 0 = none         */
    int32_t high_msgq_watermark, low_msgq_watermark; /* docs/OPTIONS.md */
    int header;
    int linger_secs;
    uint8_t backend;        /* GT_BACKEND_*                              */
    uint8_t packet;         /* gt_packet_type                            */
    uint8_t mode;           /* GT_MODE_*                                 */
    uint8_t deliver;        /* GT_DELIVER_*: stored and reported only    */
    bool buffer_set;        /* the user set buffer: recbuf no longer
                               raises it (docs/spec/semantics.md rule 8)           */
    bool send_timeout_close, exit_on_close, show_econnreset, delay_send;
    bool linger_on;         /* SO_LINGER as last set, for close          */
    bool discard_partial;   /* gentcp: Erlang's silent drop at close     */
} gt__sockopts;

/* Creation-only settings gathered from a listen/connect option list. */
typedef struct gt__createopts {
    int family;                     /* AF_INET / AF_INET6 / 0 (from ip) */
    struct sockaddr_storage local;  /* ip/ifaddr + port                 */
    bool has_local;
    int port;                       /* {port, P}; -1 when not given     */
    int backlog;
    bool reuseaddr;
    bool reuseport;                 /* listen: SO_REUSEPORT before bind  */
    int v6only;                     /* -1 unset; applied before bind     */
    const void *local_path;         /* {ifaddr, {local, P}}: borrowed    */
    size_t local_path_len;
    bool has_local_path;
    int fd;                         /* {fd, Fd}; -1 when not given       */
    const char *netns;              /* {netns, Path}, borrowed for the
                                       call, or NULL                     */
} gt__createopts;

/* ---- the socket ----------------------------------------------------------- */

enum { K_LISTEN = 1, K_CONN, K_CONNECTING /* gt__sock_new only: K_CONN in
                                             WR_CONNECTING before epoll
                                             can report anything */ };

/* States.  OPEN: usable.  DRV_CLOSED: the fd is gone after EOF or an error
 * detected by a passive recv (inet: the handle still answers, with enotconn
 * after one delayed closed).  CLOSED: closed by the user, by the owner's
 * exit or, with exit_on_close, by an active socket's EOF: every call
 * returns closed. */
enum { S_OPEN = 1, S_DRV_CLOSED, S_CLOSED };

typedef struct gt__waiter {
    struct gt__waiter *next;
    gt__proc *proc;
    bool done;             /* set by the waker (result ready)            */
    int result;
    gt__sock *accepted;    /* for acceptors                              */
} gt__waiter;

/* The accepts one listen socket's event makes in the scheduler's batch:
 * at most one per waiting acceptor, and at most this many (gtcat listen
 * keeps 4 waiting). */
#define GT__ACC_RING 4

/* What few sockets use, allocated at the first use and freed with the
 * socket, so that a connection does not carry it (issue 11).  Under the
 * socket's lock, like the rest. */
typedef struct gt__sock_ext {
    gt__waiter *acc_head, *acc_tail; /* listen: FIFO of acceptors        */
    int64_t acc_retry_at;  /* listen: accept4 ran out of descriptors: no
                              new try before this (monotonic ms), see
                              connect.c                                  */
    int acc_fds[GT__ACC_RING]; /* listen: connections the scheduler
                              accepted in its io_uring_enter for the
                              waiting acceptors (socket.c), oldest first;
                              the socket's until taken or closed         */
    int acc_nfd;           /* listen: how many acc_fds hold              */
    int acc_want;          /* listen: the accepts of the batch in flight */
    int acc_hint;          /* listen: the connections the last batch
                              found waiting (socket.c)                   */
    gt__deferred flush_node; /* delay_send: flush on the next loop pass  */
    const gt_transport *tp;/* the transport (transport.c); stays after the
                              release: no call is made without an fd     */
    void *tp_ctx;          /* the transport's per-socket state, released
                              at close (transport.c)                     */
    char *tp_err;          /* the error hook's text, kept at the release  */
    int64_t hs_active;     /* the active mode to apply after the handshake */
    gt__waiter *recv_queue;/* socket backend: the recvs waiting their turn
                              behind s->reader, FIFO (rule 26)           */
    gt__waiter *busy_sender; /* inet "busy port": the send that took the
                              queue over high_watermark waits here for
                              low_watermark, and every other send waits
                              behind it (rule 32)                        */
} gt__sock_ext;

struct gt__sock {
    atomic_int refs;
    gt__mutex lock;
    uint64_t id;
    int fd;
    int state;
    uint8_t kind;                   /* K_*                               */
    uint8_t family;                 /* AF_INET / AF_INET6 / AF_UNIX      */
    /* readiness, from edge-triggered epoll */
    bool readable, writable;
    bool hup_seen;         /* epoll reported the peer's FIN or an error  */
    /* the transport's flags (transport.c), here where padding was     */
    bool tp_live;          /* x->tp_ctx is there (not yet released)       */
    bool ssl_msgs;         /* GT_TRANSPORT_SSL_MSGS: ssl message kinds    */
    bool hs_pending;       /* a handshake is due: passive until it is
                              done, then x->hs_active applies            */
    /* (the fields are ordered so that no padding is left: every
     * connection carries one, issue 11) */
    gt__io io;                      /* epoll: io.home is the home scheduler */
    gt__proc *owner;                /* +1 ref; NULL once closed          */
    gt__resource res;               /* in the owner's list (its exit
                                       closes the socket)                */
    int64_t active;                 /* {active,_}: GT_ACTIVE_*_V or an N
                                       counter (options.c set_active)   */
    gt__sockopts *o;                /* the options (options.c), +1 ref on
                                       a block an accepted socket shares
                                       with its listen socket until either
                                       sets an option (optblock.c)       */
    gt__sockstat stat;              /* gt_getstat's counters             */

    gt__buf in;            /* read, not yet delivered                    */
    uint32_t in_scanned;   /* line/http framing: where the search for the
                              line end resumes (gt__pkt_opts.resume); set
                              by the framing of the partial packet at the
                              head, 0 when anything else changes; 0 too
                              past 4 GiB (the search starts over)        */
    uint32_t big_frame;    /* the last packet's size when it was big (recv.c:
                              the next read goes straight into the input
                              buffer, sized for it), else 0               */
    gt__rd rd;             /* the read side's state machine (state.h)    */
    bool read_paused;      /* inet's desc_close_read after an active
                              emsgsize (exit_on_close=false): no active
                              delivery until setopts changes the active
                              mode; a passive recv still reads           */
    bool mbox_stalled;     /* active delivery stopped at the owner's
                              mailbox limit (gt_set_mailbox_limit): the
                              owner's receive resumes it (res_resume)    */
    bool pkt_err_kept;     /* socket backend: a bad packet (not {packet,
                              1|2|4}) stays in `in`; framing waits for
                              new bytes, then fails again (recv.c)       */
    gt__rpt rpt;           /* inet's one-shot reports (state.h)          */
    int http_state;

    /* waiting processes */
    gt__waiter *reader;            /* the passive recv reading now       */
    gt__waiter *writers;           /* senders blocked on busy / connect  */

    gt__buf out;           /* output queue (inet: send does not block
                              below high_watermark)                      */
    gt__wr wr;             /* the write side's state machine (state.h)   */
    bool send_caller;      /* a send call is writing: a failure is its own
                              reply (else: a background failure)           */
    bool lingering;        /* closed, fd kept while a process drains out */
    bool blocking_sender;  /* socket backend: a send is writing from its
                              caller's memory; other senders wait their
                              turn (send_block.c)                          */
    /* (three bits of one byte, all under the lock: the socket has no
     * byte left before its prefetched span ends, GT__IO_AFTER) */
    bool flush_queued : 1; /* delay_send: x->flush_node is queued          */
    bool write_listed : 1; /* the queue waits for the end of the scheduler
                              pass, in a batch of writes (send.c), which
                              holds a reference                          */
    bool add_listed : 1;   /* the epoll add of a new socket waits for the
                              same batch (gt__sock_start_listed)          */

    gt__sock_ext *x;       /* listen sockets, delay_send, transports; else
                              NULL (gt__sock_ext_get)                    */
};

/* s's transport (transport.c): NULL = plain TCP, called directly. */
static inline const gt_transport *gt__sock_tp(const gt__sock *s) { return s->x ? s->x->tp : NULL; }
/* x->busy_sender / x->recv_queue, NULL without an extension. */
static inline gt__waiter *gt__sock_busy_sender(const gt__sock *s) { return s->x ? s->x->busy_sender : NULL; }
static inline gt__waiter *gt__sock_recv_queue(const gt__sock *s) { return s->x ? s->x->recv_queue : NULL; }

/* The message kind k (a GT_MSG_TCP* kind) as s sends it. */
static inline gt_msg_kind gt__sock_msg_kind(const gt__sock *s, gt_msg_kind k)
{
    return s->ssl_msgs ? (gt_msg_kind)(k - GT_MSG_TCP + GT_MSG_SSL) : k;
}

/* ---- socket.c -------------------------------------------------------------- */
/* A new socket owning fd, registered on the owner's home scheduler; the
 * caller holds one reference.  NULL on failure (the caller keeps fd). */
/* o: a reference to an options block (optblock.c), which the new socket
 * takes over (dropped on failure). */
gt__sock *gt__sock_new(int fd, int kind, int family, gt__proc *owner, gt__sockopts *o,
                       int64_t active);
gt__sock *gt__sock_get(gt_socket h);    /* +1 ref or NULL                */
/* Bytes copied in user space on the input side (the scheduler's scratch
 * buffer into a socket's input, input into packet messages), in total:
 * the tests' witness that big frames go from the kernel to the message
 * without a copy. */
uint64_t gt__sock_copied_total(void);
/* For tests (uring_accept_test): the connections acceptors took from the
 * scheduler's ring accepts (socket.c), and their accept4 calls that said
 * EAGAIN, in total. */
void gt__accept_counts(unsigned long long *ring, unsigned long long *eagain);

/* For tests: the scheduler (1..n) whose epoll set watches h's fd; 0 for
 * none or a closed handle. */
int gt__sock_home(gt_socket h);
/* Bytes handed to the line-end search of line and http framing, in total:
 * the tests check that framing stays linear (recv.c frame). */
uint64_t gt__sock_scanned_total(void);
void gt__sock_unref(gt__sock *s);
/* s's rarely used part, allocated at the first call; NULL without memory.
 * Lock held (or s not yet shared). */
gt__sock_ext *gt__sock_ext_get(gt__sock *s);

/* The socket's backend (backend.h). */
static inline const gt__backend *gt__be(const gt__sock *s) { return gt__backend_of(s->o->backend); }

/* The entry and exit of a socket call: look up and lock (NULL for a stale
 * handle), then unlock and drop the reference. */
static inline gt__sock *gt__sock_acquire(gt_socket h)
{
    gt__sock *s = gt__sock_get(h);
    if (s)
        gt__lock(&s->lock, GT__LK_SOCK);
    return s;
}
static inline void gt__sock_release(gt__sock *s)
{
    gt__unlock(&s->lock);
    gt__sock_unref(s);
}

/* Calls fn(s, arg) for every socket in the handle table, in slot order,
 * holding a reference (not the lock) during the call. */
void gt__sock_foreach(void (*fn)(gt__sock *s, void *arg), void *arg);

/* closed / enotconn for a socket that cannot carry data any more (closed
 * by us; a listen socket; closed by the driver after EOF), else 0. */
static inline int gt__sock_conn_err(const gt__sock *s)
{
    if (s->state == S_CLOSED)
        return GT_ECLOSED;
    if (s->kind == K_LISTEN || s->state == S_DRV_CLOSED)
        return -ENOTCONN;
    return 0;
}
/* Closes the fd and marks the socket; wakes every waiter with err. Lock held. */
void gt__sock_close_locked(gt__sock *s, int state, int err);
/* Wakes the waiters of a queue / the reader with a result.  Lock held. */
void gt__waiters_wake_all(gt__waiter **head, int result);
/* Parks the caller as waiter w until done or deadline; lock held on entry
 * and on return. */
void gt__sock_wait(gt__sock *s, gt__waiter *w, int64_t deadline);
/* Moves s's fd watcher to owner's scheduler (none: no change).  Lock held. */
void gt__sock_rehome(gt__sock *s, gt__proc *owner);
/* The same, registered on the writers list (busy send, connect, close
 * drain) for the time of the wait. */
void gt__sock_wait_writer(gt__sock *s, gt__waiter *w, int64_t deadline);

/* ---- transport.c ---------------------------------------------------------- */
/* Makes o->tp's per-socket state for a connected or connecting s and
 * holds it passive while a handshake is due.  0 or the open hook's error.
 * Before s is registered for events (or lock held). */
int gt__sock_tp_open(gt__sock *s, const gt_transport *t);
/* Keeps a socket whose handshake is due passive, remembering the active
 * mode to apply after it.  Lock held. */
void gt__sock_tp_hold(gt__sock *s);
/* Releases the transport's state (its close hook), once; before the fd
 * is closed.  Lock held or last reference. */
void gt__sock_tp_release(gt__sock *s);
/* One read / one gathered write / shutdown through the transport:
 * bytes, 0 = end of stream (read), or -errno (-EAGAIN). */
ssize_t gt__sock_tp_read(gt__sock *s, void *buf, size_t cap);
/* Into n buffers in turn (one readv); with a transport, into the first
 * only. */
ssize_t gt__sock_tp_readv(gt__sock *s, const struct iovec *iov, int n);
ssize_t gt__sock_tp_writev(gt__sock *s, const struct iovec *iov, int n);
int gt__sock_tp_shutdown(gt__sock *s, int how);
/* Runs fn(ctx, arg) under s's lock when s's transport is t: for the
 * layers above that read their transport's state.  GT_ECLOSED for a
 * stale handle, -EINVAL for another transport; else fn's result. */
int gt__sock_with_tp(gt_socket h, const gt_transport *t, int (*fn)(void *ctx, void *arg),
                     void *arg);
/* The table of s's transport (NULL: plain TCP), and whether its state
 * belongs to a listen socket. */
const gt_transport *gt__sock_tp_of(gt_socket h);

/* ---- recv.c ---------------------------------------------------------------- */
/* Reads from the fd into the input buffer; returns bytes read, 0 on
 * EAGAIN (readable cleared), or moves the read side to its end.  Lock
 * held. */
ssize_t gt__sock_fill(gt__sock *s, size_t want);
/* Active delivery: frames what is buffered/readable into messages for
 * the owner while the active mode allows.  Lock held. */
void gt__sock_deliver(gt__sock *s);
/* The scheduler's batched reads (sched.c): (buf, res) is a recv of at
 * most cap bytes made for s (bytes or -errno); the delivery's next read
 * takes it in place of its own.  settle, after the event: what no read
 * took joins the input (never lost).  Lock held; own thread. */
void gt__sock_preread(gt__sock *s, uint8_t *buf, size_t cap, int res);
void gt__sock_preread_settle(gt__sock *s);
/* Tests only: called by an active delivery before each read of the
 * socket, with its lock held (it may sleep, never touch the socket);
 * NULL otherwise.  Widens the race of a mailbox limit set meanwhile. */
extern _Atomic(void (*)(void)) gt__sock_read_hook;
/* Sends a tcp_passive message to the owner.  Lock held. */
void gt__sock_passive_msg(gt__sock *s);
/* A send failed with reason (closed / econnreset): records what inet
 * reports from then on and, for an active socket, sends the owner what
 * inet sends.  caller: a send is waiting for this result (else the queue
 * failed in the background).  Returns what the next send reports.  Lock
 * held. */
int gt__sock_send_failed(gt__sock *s, int reason, bool caller);

/* ---- send.c ---------------------------------------------------------------- */
/* sendmsg without SIGPIPE; returns bytes, 0 on EAGAIN (writable cleared),
 * or -errno.  Lock held. */
ssize_t gt__sock_writev(gt__sock *s, const struct iovec *iov, int n);
/* Writes queued output; wakes blocked senders below the low mark, runs a
 * pending shutdown(write) or close.  Lock held. */
void gt__sock_flush(gt__sock *s);
/* A bare trylock, for the batches (send.c's writes, socket.c's reads for
 * the scheduler's): a batch holds several sockets' locks at once, which
 * the lock order forbids to everyone else (lock.h), so no one can wait on
 * it while holding one of them; a lock held elsewhere is taken the
 * ordinary way after the batch.  Not recorded by GT_LOCK_DEBUG, for the
 * same reason. */
static inline bool gt__sock_trylock(gt__sock *s)
{
    uint32_t free_ = 0;
    return atomic_compare_exchange_strong_explicit(&s->lock.v, &free_, 1, memory_order_acquire,
                                                   memory_order_relaxed);
}
/* Writes s's queue now if one of `which` deferrals holds it back:
 * GT__DEFER_DELAY, delay_send's flush queued for the home scheduler's next
 * pass (inet's zero timer has fired by the time the sender's next call
 * reaches the port; gentcp's caller may be faster than the scheduler, so
 * the calls whose result depends on it -- recv, close -- flush first);
 * GT__DEFER_BATCH, the end-of-pass batch's write (write_listed), which
 * must happen before the socket closes.  Lock held. */
enum { GT__DEFER_DELAY = 1, GT__DEFER_BATCH = 2 };
void gt__sock_flush_deferred(gt__sock *s, unsigned which);
/* Closes s's fd at the end of the pass, in the batch's io_uring_enter,
 * instead of now (one system call for the closes of a pass, issue 11:
 * accept).  True when taken: the registration has ended (s->fd is the
 * caller's to forget); false when the caller closes it now (not a process
 * on s's home scheduler, no ring, a transport, linger set).  Lock held. */
bool gt__sock_close_listed(gt__sock *s);
/* Starts a new socket's watcher (gt__io_start) with its epoll add in the
 * end-of-pass batch, not by a system call now (issue 11: accept).  True
 * when taken; false when the caller starts it now (not a process on
 * home, no ring, the batch full).  s is not yet known to anyone else. */
bool gt__sock_start_listed(gt__sock *s, gt__sched *home, int fd, const gt__io_ops *ops);
/* Ends the busy state, if any: the busy sender gets result, the senders
 * suspended behind it go on.  Lock held. */
void gt__sock_unbusy(gt__sock *s, int result);

/* ---- send_block.c ------------------------------------------------------------ */
/* The socket backend's send (rule 35): writes the packet -- hdr (hlen
 * bytes) then the pieces of iov -- straight from the caller's memory,
 * waiting for the kernel to take all of it or for send_timeout; other
 * senders wait their turn.  *sent: the packet's bytes the kernel took.
 * Lock held. */
int gt__sock_send_blocking(gt__sock *s, const uint8_t *hdr, size_t hlen, const struct iovec *iov,
                           int iovcnt, size_t *sent);

/* ---- options.c ------------------------------------------------------------ */
void gt__opts_defaults(gt__sockopts *o, int backend);
/* A new socket's active mode before its option list (rule 15). */
#define GT__ACTIVE_DEFAULT GT_ACTIVE_TRUE_V
/* Parses a listen/connect list: socket options into *o, creation options
 * into *c.  listen selects which create options are allowed.  Returns 0 or
 * GT_EBADARG. */
int gt__opts_parse_create(gt_optlist l, bool listen, gt__sockopts *o, gt__createopts *c,
                          gt_opt *sockopts_out, size_t *nsockopts);
/* Applies setopts to a live socket (lock held); fd-level options go to the
 * kernel.  creating: the list came with listen/connect, where the last of
 * two duplicates wins; setopts on inet applies the list last-to-first.
 * Returns 0 or -EINVAL. */
int gt__opts_set_locked(gt__sock *s, const gt_opt *opts, size_t n, bool creating);
/* accept: copies what prim_inet copies from the listen socket to the new
 * one (rule 12); lock of neither held. */
void gt__opts_inherit(gt__sock *from, gt__sock *to);
int gt__opts_get_locked(gt__sock *s, gt_opt *opt);

/* ---- optblock.c -------------------------------------------------------------- */
/* A new block holding a copy of *o, one reference; NULL without memory. */
gt__sockopts *gt__optblock_new(const gt__sockopts *o);
/* +1 reference to o's block (accept, under the listen socket's lock). */
gt__sockopts *gt__optblock_share(gt__sockopts *o);
/* Whether o's block has other holders: then it must not be written. */
bool gt__optblock_shared(gt__sockopts *o);
/* Drops a reference (NULL: none); the last frees the block. */
void gt__optblock_put(gt__sockopts *o);
/* The allocation's size, for tests/integ/footprint_test.c. */
size_t gt__optblock_size(void);

/* ---- opt_kernel.c --------------------------------------------------------- */
/* The options whose kernel side is more than one int setsockopt.  Each
 * returns 0 or a negative errno (netns_socket: the new fd). */
int gt__kopt_set_ip_tos(int fd, int tos);
int gt__kopt_get_pktoptions(int fd, int family, int *tos, int *ttl, int *tclass);
int gt__kopt_raw_get(int fd, gt_opt *op);
int gt__kopt_raw_set(int fd, const gt_opt *op);
int gt__kopt_device_set(int fd, const char *name);
int gt__kopt_device_get(int fd, gt_opt *op);
int gt__kopt_netns_socket(const char *path, int family, int type);

#endif
