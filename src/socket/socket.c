/*
 * socket.c -- the socket object's life: the handle table, ownership (a
 * resource of its owner), close, controlling_process, the waiter queues
 * and the handling of its fd watcher's events on the home scheduler.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "socket/sock.h"
#include "util/idmap.h"
#include "util/objcache.h"

static gt__idmap socks = GT__IDMAP_INIT;

static void ref_cb(void *s) { atomic_fetch_add(&((gt__sock *)s)->refs, 1); }

gt__sock *gt__sock_get(gt_socket h)
{
    uint64_t id = gt__sock_id_slot(h.id);
    return id ? gt__idmap_get(&socks, id, ref_cb) : NULL;
}

void gt__sock_foreach(void (*fn)(gt__sock *s, void *arg), void *arg)
{
    for (uint32_t n = 1; n < GT__ID_SLOTS; n++) {
        gt__idslot *sl = gt__idmap_slot(&socks, n);
        if (!sl)
            break; /* segments are allocated in order: none after a gap */
        if (!atomic_load(&sl->ptr))
            continue;
        uint64_t id = (gt__idslot_gen(sl) << GT__ID_SLOT_BITS) | n;
        gt__sock *s = gt__sock_get((gt_socket){id});
        if (s) {
            fn(s, arg);
            gt__sock_unref(s);
        }
    }
}

void gt__sock_unref(gt__sock *s)
{
    if (atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    gt__sock_tp_release(s);
    if (s->x)
        free(s->x->tp_err);
    free(s->x);
    if (s->fd >= 0)
        close(s->fd);
    if (s->owner)
        gt__proc_unref(s->owner);
    gt__buf_free(&s->in);
    gt__buf_free(&s->out);
    gt__optblock_put(s->o);
    gt__obj_free(GT__OBJ_SOCK, s);
}

static void io_event(gt__io *w, uint32_t ev);
static void io_release(gt__io *w) { gt__sock_unref(gt__container_of(w, gt__sock, io)); }
static void io_prefetch(const gt__io *w);
static int io_read_prep(gt__io *w, uint32_t ev, int *accepts);
static void io_read_done(gt__io *w, uint32_t ev, uint8_t *buf, size_t len, const int *res,
                         const bool *more);
static const gt__io_ops sock_io = {io_event, io_release, io_prefetch, io_read_prep, io_read_done,
                                   false};
/* a listen socket's: a lone event's accepts go through the batch too */
static const gt__io_ops listen_io = {io_event, io_release, io_prefetch, io_read_prep, io_read_done,
                                     true};
_Static_assert(offsetof(gt__sock, io) <= GT__IO_BEFORE &&
                   sizeof(gt__sock) - offsetof(gt__sock, io) <= GT__IO_AFTER,
               "the scheduler's prefetch of an event's socket covers it (internal.h)");

/* The owner's exit closes the socket. */
static void res_hold(gt__resource *r)
{
    atomic_fetch_add(&gt__container_of(r, gt__sock, res)->refs, 1);
}

static void res_release(gt__resource *r, gt__proc *owner)
{
    gt__sock *s = gt__container_of(r, gt__sock, res);
    gt__lock(&s->lock, GT__LK_SOCK);
    if (s->owner == owner) /* not moved to another owner meanwhile */
        gt__sock_close_locked(s, S_CLOSED, GT_ECLOSED);
    gt__unlock(&s->lock);
    gt__sock_unref(s);
}

/* The owner's mailbox drained below its limit (runtime/resource.c): a
 * socket that stopped reading for it reads on. */
static void res_resume(gt__resource *r)
{
    gt__sock *s = gt__container_of(r, gt__sock, res);
    gt__lock(&s->lock, GT__LK_SOCK);
    if (s->mbox_stalled) {
        s->mbox_stalled = false;
        gt__sock_deliver(s);
    }
    gt__unlock(&s->lock);
    gt__sock_unref(s);
}


/* The owner moved to another scheduler (runtime/steal.c): the watcher
 * follows, so that its events reach the owner's new home. */
static void res_rehome(gt__resource *r, gt__proc *owner)
{
    gt__sock *s = gt__container_of(r, gt__sock, res);
    gt__lock(&s->lock, GT__LK_SOCK);
    if (s->owner == owner && s->state != S_CLOSED)
        gt__sock_rehome(s, owner);
    gt__unlock(&s->lock);
    gt__sock_unref(s);
}

static const gt__resource_ops res_ops = {res_hold, res_release, res_resume, res_rehome};

gt__sock_ext *gt__sock_ext_get(gt__sock *s)
{
    if (!s->x)
        s->x = calloc(1, sizeof *s->x);
    return s->x;
}

gt__sock *gt__sock_new(int fd, int kind, int family, gt__proc *owner, gt__sockopts *o,
                       int64_t active)
{
    gt__sock *s = gt__obj_new(GT__OBJ_SOCK, sizeof *s);
    if (!s) {
        gt__optblock_put(o);
        return NULL;
    }
    s->o = o;
    s->active = active;
    /* the table's, the epoll registration's and the caller's */
    atomic_init(&s->refs, 3);
    gt__mutex_init(&s->lock);
    s->fd = fd;
    s->kind = kind == K_CONNECTING ? K_CONN : kind;
    s->wr.st = kind == K_CONNECTING ? WR_CONNECTING : WR_OPEN;
    s->family = family;
    s->state = S_OPEN;
    s->readable = s->writable = true; /* edge-triggered: assume until EAGAIN */
    s->io.fd = -1;
    s->res.ops = &res_ops;
    s->owner = owner;
    gt__proc_ref(owner);
    if (kind == K_LISTEN && !gt__sock_ext_get(s)) { /* its acceptor queue */
        gt__proc_unref(owner);
        gt__optblock_put(o);
        gt__obj_free(GT__OBJ_SOCK, s);
        return NULL;
    }
    /* Under the lock: once in the table, gt_sockets_list may read s->id
     * (under the lock) before this store (TSan, close_test i8_1). */
    gt__lock(&s->lock, GT__LK_SOCK);
    s->id = gt__sock_id_mark(gt__idmap_add(&socks, s), o->backend);
    gt__unlock(&s->lock);
    if (!gt__sock_id_slot(s->id)) {
        s->fd = -1; /* the caller still owns fd on failure */
        atomic_store(&s->refs, 1);
        gt__sock_unref(s);
        return NULL;
    }
    /* before events can reach it */
    if (o->tp && kind != K_LISTEN && gt__sock_tp_open(s, o->tp) != 0) {
        gt__lock(&s->lock, GT__LK_SOCK);
        s->fd = -1; /* the caller still owns fd on failure */
        gt__sock_close_locked(s, S_CLOSED, GT_ECLOSED);
        gt__unlock(&s->lock);
        gt__sock_unref(s); /* the registration that never happened */
        gt__sock_unref(s); /* the caller's */
        return NULL;
    }
    gt__resource_link(owner, &s->res);
    /* An accepted socket's epoll add waits for the end of its acceptor's
     * pass, with that pass's other adds, sends and closes (one
     * io_uring_enter): nothing polls its home before then (issue 11:
     * accept).  Not a connecting one: its wait may be off the loop. */
    gt__sched *home = gt__home_sched(owner);
    if (kind == K_CONN && !o->tp && gt__sock_start_listed(s, home, fd, &sock_io))
        return s;
    if (gt__io_start(&s->io, home, fd, kind == K_LISTEN ? &listen_io : &sock_io) != 0) {
        gt__lock(&s->lock, GT__LK_SOCK);
        s->fd = -1;
        gt__sock_close_locked(s, S_CLOSED, GT_ECLOSED);
        gt__unlock(&s->lock);
        gt__sock_unref(s); /* the registration that never happened */
        gt__sock_unref(s); /* the caller's */
        return NULL;
    }
    return s;
}

/* ---- waiters ---- */

/* A waiter already done keeps its result: a busy sender whose data all
 * reached the kernel before the peer closed has sent it (ok, as inet),
 * even when the close is handled before the sender runs again. */
void gt__waiters_wake_all(gt__waiter **head, int result)
{
    for (gt__waiter *w = *head; w; w = w->next) {
        if (!w->done) {
            w->done = true;
            w->result = result;
        }
        gt__wake(w->proc);
    }
    *head = NULL;
}

void gt__sock_wait(gt__sock *s, gt__waiter *w, int64_t deadline)
{
    (void)w;
    gt__unlock(&s->lock);
    gt__park(deadline);
    gt__lock(&s->lock, GT__LK_SOCK);
}

void gt__sock_wait_writer(gt__sock *s, gt__waiter *w, int64_t deadline)
{
    w->next = s->writers;
    s->writers = w;
    gt__sock_wait(s, w, deadline);
    for (gt__waiter **pp = &s->writers; *pp; pp = &(*pp)->next)
        if (*pp == w) {
            *pp = w->next;
            break;
        }
}

/* ---- close ---- */

/* Closes the fd; the watcher's registration reference goes with it (on
 * the home scheduler, once no fetched event can name s).  Lock held. */
static void close_fd(gt__sock *s)
{
    if (s->fd < 0)
        return;
    while (s->kind == K_LISTEN && s->x && s->x->acc_nfd > 0)
        close(s->x->acc_fds[--s->x->acc_nfd]); /* accepted in the ring, taken by no acceptor */
    gt__sock_tp_release(s);
    if (!gt__sock_close_listed(s)) /* else at the end of the pass */
        gt__io_close(&s->io);
    s->fd = -1;
}

/* linger {true, 0} asks for an abortive close: queued output is dropped. */
static bool abortive(const gt__sock *s) { return s->o->linger_on && s->o->linger_secs == 0; }

/* A close the socket makes itself (send_timeout_close, an end of input with
 * exit_on_close) answers its caller at once, as inet replies before its
 * port closes: with linger {true, T > 0} close(2) would hold the thread and
 * the lock up to T s, so the kernel finishes that close in the background
 * instead (the peer still gets the data and the FIN). */
static void no_linger_wait(gt__sock *s)
{
    if (s->fd < 0 || !s->o->linger_on || s->o->linger_secs == 0)
        return;
    struct linger off = {0, 0};
    (void)setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &off, sizeof off);
}

/* inet's close waits for queued output to reach the kernel, giving up when
 * nothing moved for 5 s (prim_inet close_pend_loop).  Lock held; the
 * caller is a process that may park. */
#define CLOSE_DRAIN_STALL_MS 5000

static void drain(gt__sock *s)
{
    size_t last = gt__buf_avail(&s->out);
    int64_t deadline = gt__deadline(CLOSE_DRAIN_STALL_MS);
    while (s->fd >= 0 && gt__buf_avail(&s->out) && !gt__wr_broken(&s->wr)) {
        gt__sock_flush(s);
        size_t left = gt__buf_avail(&s->out);
        if (!left)
            break;
        if (left != last) {
            last = left;
            deadline = gt__deadline(CLOSE_DRAIN_STALL_MS);
        }
        if (gt__expired(deadline))
            break;
        if (gt__exit_check())
            return; /* killed: the close hands the rest to a linger process */
        gt__waiter w = {.proc = gt__self()};
        gt__sock_wait_writer(s, &w, deadline);
    }
    gt__buf_free(&s->out); /* what a stalled peer never took */
}

/* A socket closed with output still queued by someone who cannot wait
 * (the owner exiting, an active socket's EOF, a scheduler) keeps its fd
 * and lets a small process drain it in the background, as inet_drv's
 * flush does when a port closes with data in its queue. */
static void linger_main(void *arg)
{
    gt__sock *s = arg;
    gt__lock(&s->lock, GT__LK_SOCK);
    drain(s);
    s->lingering = false;
    close_fd(s);
    gt__unlock(&s->lock);
    gt__sock_unref(s);
}

void gt__sock_close_locked(gt__sock *s, int state, int err)
{
    if (s->state == S_CLOSED)
        return;
    /* what the end-of-pass batch was to write is written as it would have
     * been at the send, before any close: not dropped by an abortive
     * close, no linger process for it */
    gt__sock_flush_deferred(s, GT__DEFER_BATCH);
    bool linger = state == S_CLOSED && s->fd >= 0 && gt__buf_avail(&s->out) &&
                  !gt__wr_broken(&s->wr) && !abortive(s);
    if (linger) {
        atomic_fetch_add(&s->refs, 1); /* the linger process's */
        if (gt_spawn(linger_main, s, NULL, NULL) == 0)
            s->lingering = true;
        else
            atomic_fetch_sub(&s->refs, 1);
    }
    if (!s->lingering) {
        if (state != S_CLOSED)
            no_linger_wait(s);
        close_fd(s);
        gt__buf_free(&s->out);
        s->writable = false;
    }
    /* A lingering socket keeps `writable`: with edge-triggered epoll a
     * socket that is writable now raises no new edge, and the drain would
     * wait for one in vain. */
    s->state = state;
    s->readable = false;
    if (s->reader) {
        s->reader->done = true;
        s->reader->result = err;
        gt__wake(s->reader->proc);
        s->reader = NULL;
    }
    if (s->x) {
        gt__waiters_wake_all(&s->x->recv_queue, err);
        gt__waiters_wake_all(&s->x->acc_head, err);
        s->x->acc_tail = NULL;
    }
    gt__sock_unbusy(s, err);
    gt__waiters_wake_all(&s->writers, err);
    if (state == S_CLOSED) {
        gt__buf_free(&s->in);
        gt__idmap_del(&socks, gt__sock_id_slot(s->id));
        if (s->owner) {
            gt__resource_unlink(s->owner, &s->res);
            gt__proc_unref(s->owner);
            s->owner = NULL;
        }
        atomic_fetch_sub(&s->refs, 1); /* the table's reference */
    }
}

/* inet:tcp_close also removes one {tcp_closed,S} from the caller's mailbox
 * -- after the close, so none can follow -- and does so for a socket
 * already closed as well (docs/spec/semantics.md rule 42). */
static void drop_closed_msg(gt_socket h)
{
    if (!gt__backend_of(gt__sock_id_backend(h.id))->close_drops_closed)
        return; /* inet only */
    gt__proc *self = gt__self();
    if (self)
        gt__mbox_drop_closed(self, h);
}

int gt_close(gt_socket h)
{
    if (gt__forked())
        return GT_EFORKED;
    gt__sock *s = gt__sock_get(h);
    if (!s) {
        drop_closed_msg(h);
        return gt__sock_stale_err(h, 0); /* inet: closing a closed socket is ok */
    }
    gt__lock(&s->lock, GT__LK_SOCK);
    gt__sock_flush_deferred(s, GT__DEFER_DELAY | GT__DEFER_BATCH);
    if (abortive(s))
        gt__buf_free(&s->out);
    else if (s->kind == K_CONN && gt__buf_avail(&s->out) && s->state == S_OPEN &&
             gt__be(s)->close_drains)
        drain(s); /* the caller can wait: no linger process needed */
    gt__sock_close_locked(s, S_CLOSED, GT_ECLOSED);
    gt__unlock(&s->lock);
    gt__sock_unref(s);
    drop_closed_msg(h);
    return 0;
}

gt_pid gt_owner(gt_socket h)
{
    if (gt__forked())
        return (gt_pid){0};
    gt__sock *s = gt__sock_acquire(h);
    gt_pid pid = {0};
    if (s) {
        if (s->owner)
            pid = gt__proc_pid(s->owner);
        gt__sock_release(s);
    }
    return pid;
}

int gt__sock_home(gt_socket h)
{
    gt__sock *s = gt__sock_get(h);
    if (!s)
        return 0;
    gt__lock(&s->lock, GT__LK_SOCK);
    int n = s->io.fd >= 0 ? gt__sched_number(s->io.home) : 0;
    gt__unlock(&s->lock);
    gt__sock_unref(s);
    return n;
}

/* ---- controlling_process ---- */

/* Moves s's fd watcher to the scheduler of its new owner, so that active
 * delivery, the owner's wake-up and delay_send flushes all happen on one
 * thread instead of bouncing between two.  Lock held. */
void gt__sock_rehome(gt__sock *s, gt__proc *owner)
{
    atomic_fetch_add(&s->refs, 1); /* a new registration's, if it moves */
    /* A socket accepted in this pass whose add still waits in the batch
     * (gt__sock_start_listed) is in no set yet: the move adds it at its
     * new home without the DEL at the old one, which could only say
     * ENOENT -- a system call of every connection an acceptor hands to a
     * worker on another scheduler in the run that accepted it (the
     * acceptor pool's pattern). */
    if (!gt__io_move(&s->io, owner, !s->add_listed))
        atomic_fetch_sub(&s->refs, 1);
    else
        s->add_listed = false; /* added at its new home: not the batch's */
}

/* Under the new owner's plock, while it is not exiting (see below). */
typedef struct handover {
    gt__proc *from, *to;
    gt_socket h;
    bool closed_seen;
} handover;

static bool hand_over(void *arg)
{
    handover *ho = arg;
    ho->closed_seen = gt__mbox_move_socket(ho->from, ho->to, ho->h);
    return !ho->closed_seen;
}

/* controlling_process to a dead process.  inet finds the target dead only
 * at port_connect, after it set the socket passive and sent the pending
 * messages to the dead process; the socket stays passive: badarg.  The
 * socket backend hands the socket over, and the dead owner's exit closes
 * it: ok, then closed (rule 59).  gentcp keeps the pending messages with
 * the caller in both (docs/DEVIATIONS.md row 9).  Lock held. */
static int dead_target(gt__sock *s)
{
    s->active = GT_ACTIVE_FALSE_V;
    if (!gt__be(s)->ctl_dead_ok)
        return GT_EBADARG;
    gt__sock_close_locked(s, S_CLOSED, GT_ECLOSED);
    return 0;
}

int gt_controlling_process(gt_socket h, gt_pid pid)
{
    if (gt__forked())
        return GT_EFORKED;
    gt__proc *self = gt__self();
    if (!self)
        return -ENOMEM;
    gt__sock *s = gt__sock_acquire(h);
    if (!s)
        return GT_ECLOSED;
    int rc = 0;
    gt__proc *to = NULL;
    if (s->state == S_CLOSED) {
        rc = GT_ECLOSED;
    } else if (s->owner != self) {
        rc = GT_ENOT_OWNER;
    } else if (!(to = gt__proc_lookup(pid)) || !gt__proc_alive(to)) {
        rc = dead_target(s);
    } else if (to != self) {
        /* The new owner may be exiting: once its exit has emptied its
         * socket list, a socket linked there would stay open with a dead
         * owner.  So the hand-over happens under its plock, only while it
         * is not exiting (set under that lock before the list is emptied);
         * an exiting owner is a dead one: badarg, the socket stays ours.
         * Pending tcp/tcp_closed messages follow the socket, in order.  A
         * tcp_closed among them means the socket is finished: inet then
         * leaves the owner unchanged (docs/spec/semantics.md rule 62), and
         * passive: it sets {active,false} before moving the messages and
         * restores the old value only on the path that changes the owner
         * (inet:tcp_controlling_process).
         * Lock order: s, to's plock, then the mailboxes. */
        handover ho = {self, to, h, false};
        int moved = gt__resource_move(&s->res, self, to, hand_over, &ho);
        if (moved < 0)
            rc = dead_target(s);
        if (ho.closed_seen)
            s->active = GT_ACTIVE_FALSE_V; /* from N: no tcp_passive (rule 18) */
        if (moved == 1) {
            gt__proc_ref(to);
            s->owner = to;
            gt__proc_unref(self);
            gt__sock_rehome(s, to);
            /* stopped at the old owner's mailbox limit: the new owner's
             * receive would never resume it */
            if (s->mbox_stalled)
                gt__sock_deliver(s);
        }
    }
    gt__sock_release(s);
    if (to)
        gt__proc_unref(to);
    return rc;
}

/* ---- events from the home scheduler ---- */

/* A step before io_event: the owner's struct, which the delivery writes
 * (its mailbox, its wake).  owner is read without the lock, for a hint
 * only: a stale or NULL one costs a useless prefetch, never a fault (hence
 * not instrumented by TSan, to which the racy read would be a report). */
GT_NO_TSAN
static void io_prefetch(const gt__io *w)
{
    const gt__sock *s = gt__container_of(w, gt__sock, io);
    const gt__proc *o = s->owner;
    if (o)
        gt__proc_prefetch(o);
}

static void io_event_locked(gt__sock *s, uint32_t ev);

static void io_event(gt__io *w, uint32_t ev)
{
    gt__sock *s = gt__container_of(w, gt__sock, io);
    gt__lock(&s->lock, GT__LK_SOCK);
    io_event_locked(s, ev);
    gt__unlock(&s->lock);
}

/* ---- accepts in the poll's enter (issue 11, accept) ----
 *
 * A listen socket reported readable while acceptors wait on it: the
 * accept4s they would make ride in the batch's io_uring_enter (sched.c),
 * one per waiting acceptor (up to GT__ACC_RING), with the pass's sends
 * and the other sockets' reads, and each acceptor takes its new fd
 * (x->acc_fds) without a system call.  The accepts never wait: the ones
 * past the queue's end say EAGAIN inside the enter, and the last
 * completion says whether more connections wait
 * (IORING_CQE_F_SOCK_NONEMPTY), so the readable flag is exact and the
 * next acceptor waits for the next edge instead of making an accept4 that
 * would say EAGAIN (0.2-0.8 per connection, gtcat listen).  TCP only: on
 * another family the kernel's accept reports no such thing, and reading
 * its silence as "empty" would strand what waits.  A kernel before 6.10
 * refuses the non-waiting accept (-EINVAL): never again then, the
 * acceptors accept4 as before.  The flag came with the non-waiting accept
 * (Linux 6.10; netty relies on the same, netty/netty#14682): a kernel that
 * takes the one reports the other. */
static atomic_bool ring_accepts_off;

/* read_prep for a listen socket (lock held): how many accepts to make now
 * (0: none), at most room -- at most one per waiting acceptor without a
 * taken fd waiting for it, unless the descriptor limit paused accepting.
 * As many as the last batch found (at least one): an accept past the
 * queue's end costs the kernel a descriptor's allocation and release, and
 * one connection per event is the common case (gtcat listen, accept:
 * 1.1); the ones it leaves are the acceptors' accept4s, which the flag
 * the completions set tells to look. */
static int listen_prep(gt__sock *s, int room)
{
    if (s->state != S_OPEN || s->fd < 0 || !s->x || s->x->acc_retry_at != 0 ||
        (s->family != AF_INET && s->family != AF_INET6) ||
        atomic_load_explicit(&ring_accepts_off, memory_order_relaxed))
        return 0;
    int cap = GT__ACC_RING - s->x->acc_nfd;
    if (s->x->acc_hint < cap)
        cap = s->x->acc_hint > 1 ? s->x->acc_hint : 1;
    int n = -s->x->acc_nfd;
    for (gt__waiter *w = s->x->acc_head; w && n < cap; w = w->next)
        n++;
    n = n < room ? n : room;
    s->x->acc_want = n > 0 ? n : 0;
    return s->x->acc_want;
}

/* read_done for a listen socket (lock held): the results of its accepts,
 * or GT__IO_NOT_READ when they were not made. */
static void listen_done(gt__sock *s, uint32_t ev, const int *res, const bool *more)
{
    int got = 0;
    bool empty = false, other = false, last_more = false;
    for (int j = 0; j < s->x->acc_want; j++) {
        if (res[j] >= 0 && s->state == S_OPEN && s->x->acc_nfd < GT__ACC_RING) {
            s->x->acc_fds[s->x->acc_nfd++] = res[j];
            got++;
            last_more = more[j];
        } else if (res[j] >= 0) {
            close(res[j]); /* (cannot happen: the lock was held since the prep) */
        } else if (res[j] == -EAGAIN) {
            empty = true;
        } else {
            other = true; /* not made, or an error for the acceptor's own accept4 */
            if (res[j] == -EINVAL)
                atomic_store_explicit(&ring_accepts_off, true, memory_order_relaxed);
        }
    }
    s->x->acc_want = 0;
    s->x->acc_hint = got + (got && !other && last_more);
    if (got || other)
        io_event_locked(s, ev); /* wakes the first acceptor */
    if (empty)
        s->readable = false; /* the queue's end was met */
    else if (got && !other)
        s->readable = last_more;
}

/* The scheduler's batched reads (sched.c; issue 11, rr1k): a recv made
 * now is the read the event's delivery would make first -- an open
 * connection, active, no transport, nothing buffered nor kept back (its
 * delivery frames s->in first), no mailbox limit nor stall (they may stop
 * it before it reads), reads allowed, its end not yet met.  A bare
 * trylock (gt__sock_trylock): the batch holds several at once. */
static int io_read_prep(gt__io *w, uint32_t ev, int *accepts)
{
    (void)ev;
    gt__sock *s = gt__container_of(w, gt__sock, io);
    if (!gt__sock_trylock(s))
        return -1;
    if (s->kind == K_LISTEN) {
        if ((*accepts = listen_prep(s, *accepts)) > 0)
            return s->fd;
        gt__mutex_unlock(&s->lock);
        return -1;
    }
    *accepts = 0;
    if (s->kind == K_CONN && s->state == S_OPEN && s->fd >= 0 && !s->lingering && s->owner &&
        s->active != GT_ACTIVE_FALSE_V && !gt__sock_tp(s) && !s->tp_live &&
        !gt__buf_avail(&s->in) && !s->big_frame && !s->pkt_err_kept && !s->read_paused &&
        !s->mbox_stalled && !gt__wr_connecting(&s->wr) && gt__rd_row_of(&s->rd)->reads &&
        !gt__rd_ended(&s->rd) && !gt__mbox_limited(s->owner))
        return s->fd;
    gt__mutex_unlock(&s->lock);
    return -1;
}

static void io_read_done(gt__io *w, uint32_t ev, uint8_t *buf, size_t len, const int *res,
                         const bool *more)
{
    gt__sock *s = gt__container_of(w, gt__sock, io);
#ifdef GT_LOCK_DEBUG
    gt__lock_note(&s->lock, GT__LK_SOCK, GT__HERE); /* from here an ordinary hold */
#endif
    if (s->kind == K_LISTEN) {
        listen_done(s, ev, res, more);
        gt__unlock(&s->lock);
        return;
    }
    if (res[0] != GT__IO_NOT_READ)
        gt__sock_preread(s, buf, len, res[0]);
    io_event_locked(s, ev);
    gt__sock_preread_settle(s);
    gt__unlock(&s->lock);
}

static void io_event_locked(gt__sock *s, uint32_t ev)
{
    if (s->lingering && s->fd >= 0 && (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR))) {
        s->writable = true;
        gt__sock_flush(s); /* wakes the linger process */
        return;
    }
    if (s->state != S_OPEN || s->fd < 0)
        return;
    /* A socket registered before its connect() began polls as hung up
     * (TCP_CLOSE) if the epoll_wait came first, which a connecting process
     * off the scheduler's thread lets happen: that is no news of the peer,
     * and hup_seen would have cost every later short read an EAGAIN read
     * (recv.c, read_fd).  A failed connect carries EPOLLERR too. */
    if (gt__wr_connecting(&s->wr) && (ev & EPOLLHUP) && !(ev & (EPOLLIN | EPOLLRDHUP | EPOLLERR)))
        ev &= ~(uint32_t)EPOLLHUP;
    /* An event carries the fd's whole readiness as of the epoll_wait that
     * reported it, and anything that arrives later raises a new edge: one
     * without input says there is nothing to read.  A new socket is born
     * assuming it readable, and an accepted one whose request had not come
     * yet (its first event is EPOLLOUT alone) tried a read that could only
     * say EAGAIN (issue 11, accept: 0.42 of 2.4 reads per connection).  Not
     * through a transport, which may hold input the kernel no longer does. */
    if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        s->readable = true;
    else if (!gt__sock_tp(s))
        s->readable = false;
    if (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        s->hup_seen = true;
    if (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR))
        s->writable = true;
    if (gt__wr_connecting(&s->wr)) {
        if (s->writers)
            gt__wake(s->writers->proc);
    } else if (s->kind == K_LISTEN) {
        if (s->readable && s->x->acc_head)
            gt__wake(s->x->acc_head->proc); /* first come, first served */
    } else {
        /* not while a delay_send flush is queued: that flush writes the
         * gathered sends once their sender yields (rule 39) */
        /* not while a delay_send flush is queued: that one writes the
         * gathered sends once their sender yields (rule 39) */
        if (s->writable && !s->flush_queued && (gt__buf_avail(&s->out) || s->writers))
            gt__sock_flush(s);
        if (s->readable && s->state == S_OPEN) {
            if (s->active != GT_ACTIVE_FALSE_V)
                gt__sock_deliver(s);
            else if (s->reader)
                gt__wake(s->reader->proc);
        }
    }
}

/* ---- options on a live socket ---- */

/* inet answers einval for options and addresses of a closed socket, the
 * socket backend closed (docs/spec/semantics.md rule 44). */
int gt_setopts(gt_socket h, gt_optlist l)
{
    if (gt__forked())
        return GT_EFORKED;
    gt__sock *s = gt__sock_acquire(h);
    if (!s)
        return gt__sock_stale_err(h, -EINVAL);
    int rc = gt__opts_set_locked(s, l.opts, l.count, false);
    gt__sock_release(s);
    return rc;
}

int gt_getopts(gt_socket h, gt_opt *opts, size_t n)
{
    if (gt__forked())
        return GT_EFORKED;
    if (n && !opts)
        return GT_EBADARG;
    gt__sock *s = gt__sock_acquire(h);
    if (!s)
        return gt__sock_stale_err(h, -EINVAL);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = gt__opts_get_locked(s, &opts[i]);
    gt__sock_release(s);
    return rc;
}
