/*
 * socket.c -- the socket object's life: the handle table, ownership,
 * close, controlling_process, the waiter queues and the dispatch of epoll
 * events from the home scheduler.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "runtime/runtime.h"
#include "socket/sock.h"
#include "util/idmap.h"

static gt__idmap socks = GT__IDMAP_INIT;

static void ref_cb(void *s) { atomic_fetch_add(&((gt__sock *)s)->refs, 1); }

gt__sock *gt__sock_get(gt_socket h)
{
    return h.id ? gt__idmap_get(&socks, h.id, ref_cb) : NULL;
}

void gt__sock_unref(gt__sock *s)
{
    if (atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    if (s->fd >= 0)
        close(s->fd);
    if (s->owner)
        gt__proc_unref(s->owner);
    gt__buf_free(&s->in);
    gt__buf_free(&s->out);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static void unref_deferred(void *s) { gt__sock_unref(s); }

gt__sock *gt__sock_new(int fd, int kind, int family, gt__proc *owner, const gt__sockopts *o)
{
    gt__sock *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    /* the table's, the epoll registration's and the caller's */
    atomic_init(&s->refs, 3);
    pthread_mutex_init(&s->lock, NULL);
    s->fd = fd;
    s->kind = kind == K_CONNECTING ? K_CONN : kind;
    s->connecting = kind == K_CONNECTING;
    s->family = family;
    s->state = S_OPEN;
    s->o = *o;
    s->readable = s->writable = true; /* edge-triggered: assume until EAGAIN */
    s->home = gt__home_sched(owner);
    s->owner = owner;
    gt__proc_ref(owner);
    s->id = gt__idmap_add(&socks, s);
    if (!s->id) {
        s->fd = -1; /* the caller still owns fd on failure */
        atomic_store(&s->refs, 1);
        gt__sock_unref(s);
        return NULL;
    }
    gt__proc_link_sock(owner, s);
    if (gt__sched_watch(s->home, fd, s) != 0) {
        pthread_mutex_lock(&s->lock);
        s->fd = -1;
        gt__sock_close_locked(s, S_CLOSED, GT_ECLOSED);
        pthread_mutex_unlock(&s->lock);
        gt__sock_unref(s); /* the registration that never happened */
        gt__sock_unref(s); /* the caller's */
        return NULL;
    }
    return s;
}

/* ---- owner's socket list ---- */

static void link_plocked(gt__proc *p, gt__sock *s)
{
    s->own_prev = NULL;
    s->own_next = p->sockets;
    if (p->sockets)
        p->sockets->own_prev = s;
    p->sockets = s;
}

void gt__proc_link_sock(gt__proc *p, gt__sock *s)
{
    pthread_mutex_lock(&p->plock);
    link_plocked(p, s);
    pthread_mutex_unlock(&p->plock);
}

void gt__proc_unlink_sock(gt__proc *p, gt__sock *s)
{
    pthread_mutex_lock(&p->plock);
    if (s->own_prev)
        s->own_prev->own_next = s->own_next;
    else if (p->sockets == s)
        p->sockets = s->own_next;
    if (s->own_next)
        s->own_next->own_prev = s->own_prev;
    s->own_next = s->own_prev = NULL;
    pthread_mutex_unlock(&p->plock);
}

/* ---- waiters ---- */

void gt__waiters_wake_all(gt__waiter **head, int result)
{
    for (gt__waiter *w = *head; w; w = w->next) {
        w->done = true;
        w->result = result;
        gt__wake(w->proc);
    }
    *head = NULL;
}

void gt__sock_wait(gt__sock *s, gt__waiter *w, int64_t deadline)
{
    (void)w;
    pthread_mutex_unlock(&s->lock);
    gt__park(deadline);
    pthread_mutex_lock(&s->lock);
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

/* Closes the fd; events already fetched may still name s, so the epoll
 * reference is dropped on the home scheduler, between batches (out of
 * memory for the deferral: keep the reference -- a small leak beats a
 * use-after-free).  Lock held. */
static void close_fd(gt__sock *s)
{
    if (s->fd < 0)
        return;
    close(s->fd); /* also leaves the epoll set */
    s->fd = -1;
    (void)gt__sched_defer(s->home, unref_deferred, s);
}

/* linger {true, 0} asks for an abortive close: queued output is dropped. */
static bool abortive(const gt__sock *s) { return s->o.linger_on && s->o.linger_secs == 0; }

/* A close the socket makes itself (send_timeout_close, an end of input with
 * exit_on_close) answers its caller at once, as inet replies before its
 * port closes: with linger {true, T > 0} close(2) would hold the thread and
 * the lock up to T s, so the kernel finishes that close in the background
 * instead (the peer still gets the data and the FIN). */
static void no_linger_wait(gt__sock *s)
{
    if (s->fd < 0 || !s->o.linger_on || s->o.linger_secs == 0)
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
    while (s->fd >= 0 && gt__buf_avail(&s->out) && !s->wr_broken) {
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
    pthread_mutex_lock(&s->lock);
    drain(s);
    s->lingering = false;
    close_fd(s);
    pthread_mutex_unlock(&s->lock);
    gt__sock_unref(s);
}

void gt__sock_close_locked(gt__sock *s, int state, int err)
{
    if (s->state == S_CLOSED)
        return;
    bool linger = state == S_CLOSED && s->fd >= 0 && gt__buf_avail(&s->out) &&
                  !s->wr_broken && !abortive(s);
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
    gt__waiters_wake_all(&s->acc_head, err);
    s->acc_tail = NULL;
    gt__sock_unbusy(s, err);
    gt__waiters_wake_all(&s->writers, err);
    if (state == S_CLOSED) {
        gt__buf_free(&s->in);
        gt__idmap_del(&socks, s->id);
        if (s->owner) {
            gt__proc_unlink_sock(s->owner, s);
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
    gt__proc *self = gt__self();
    if (self)
        gt__mbox_drop_closed(self, h);
}

int gt_close(gt_socket h)
{
    gt__sock *s = gt__sock_get(h);
    if (!s) {
        drop_closed_msg(h);
        return 0; /* inet: closing a closed socket is ok */
    }
    pthread_mutex_lock(&s->lock);
    gt__sock_flush_delayed(s);
    if (abortive(s))
        gt__buf_free(&s->out);
    else if (s->kind == K_CONN && gt__buf_avail(&s->out) && s->state == S_OPEN)
        drain(s); /* the caller can wait: no linger process needed */
    gt__sock_close_locked(s, S_CLOSED, GT_ECLOSED);
    pthread_mutex_unlock(&s->lock);
    gt__sock_unref(s);
    drop_closed_msg(h);
    return 0;
}

void gt__proc_close_sockets(gt__proc *p)
{
    for (;;) {
        pthread_mutex_lock(&p->plock);
        gt__sock *s = p->sockets;
        if (s)
            atomic_fetch_add(&s->refs, 1);
        pthread_mutex_unlock(&p->plock);
        if (!s)
            return;
        pthread_mutex_lock(&s->lock);
        if (s->owner == p) {
            gt__sock_close_locked(s, S_CLOSED, GT_ECLOSED);
        } else {
            /* not ours any more (moved concurrently): just unlink */
            gt__proc_unlink_sock(p, s);
        }
        pthread_mutex_unlock(&s->lock);
        gt__sock_unref(s);
    }
}

gt_pid gt_owner(gt_socket h)
{
    gt__sock *s = gt__sock_acquire(h);
    gt_pid pid = {0};
    if (s) {
        if (s->owner)
            pid = gt__proc_pid(s->owner);
        gt__sock_release(s);
    }
    return pid;
}

/* ---- controlling_process ---- */

/* Moves s's epoll registration to the scheduler of its new owner, so that
 * active delivery, the owner's wake-up and delay_send flushes all happen
 * on one thread instead of bouncing between two.  The old scheduler may
 * still hold a fetched event naming s: its registration reference is
 * dropped there, deferred, as on close.  Lock held. */
static void rehome(gt__sock *s, gt__proc *owner)
{
    gt__sched *to = owner->sched;
    if (!to || to == s->home || s->fd < 0)
        return;
    atomic_fetch_add(&s->refs, 1); /* the new registration's */
    if (gt__sched_watch(to, s->fd, s) != 0) {
        atomic_fetch_sub(&s->refs, 1);
        return; /* stay where we are: still correct, only slower */
    }
    gt__sched_unwatch(s->home, s->fd);
    (void)gt__sched_defer(s->home, unref_deferred, s);
    s->home = to;
}

int gt_controlling_process(gt_socket h, gt_pid pid)
{
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
        /* inet finds the target dead only at port_connect, after it set
         * the socket passive and sent the pending messages to the dead
         * process; the socket stays passive.  gentcp keeps the messages
         * (docs/DEVIATIONS.md row 9). */
        rc = GT_EBADARG;
        s->o.active = GT_ACTIVE_FALSE_V;
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
        bool moved = false, closed_seen = false;
        gt__proc_unlink_sock(self, s); /* our exit cannot run meanwhile */
        pthread_mutex_lock(&to->plock);
        if (to->exiting) {
            rc = GT_EBADARG;
            s->o.active = GT_ACTIVE_FALSE_V; /* as for a dead target, above */
        } else if (!(closed_seen = gt__mbox_move_socket(self, to, h))) {
            link_plocked(to, s);
            moved = true;
        }
        pthread_mutex_unlock(&to->plock);
        if (closed_seen)
            s->o.active = GT_ACTIVE_FALSE_V; /* from N: no tcp_passive (rule 18) */
        if (moved) {
            gt__proc_ref(to);
            s->owner = to;
            gt__proc_unref(self);
            rehome(s, to);
        } else {
            gt__proc_link_sock(self, s);
        }
    }
    gt__sock_release(s);
    if (to)
        gt__proc_unref(to);
    return rc;
}

/* ---- events from the home scheduler ---- */

void gt__sock_event(gt__sock *s, uint32_t ev)
{
    pthread_mutex_lock(&s->lock);
    if (s->lingering && s->fd >= 0 && (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR))) {
        s->writable = true;
        gt__sock_flush(s); /* wakes the linger process */
        pthread_mutex_unlock(&s->lock);
        return;
    }
    if (s->state != S_OPEN || s->fd < 0) {
        pthread_mutex_unlock(&s->lock);
        return;
    }
    if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        s->readable = true;
    if (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        s->hup_seen = true;
    if (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR))
        s->writable = true;
    if (s->connecting) {
        if (s->writers)
            gt__wake(s->writers->proc);
    } else if (s->kind == K_LISTEN) {
        if (s->readable && s->acc_head)
            gt__wake(s->acc_head->proc); /* first come, first served */
    } else {
        if (s->writable && (gt__buf_avail(&s->out) || s->writers))
            gt__sock_flush(s);
        if (s->readable && s->state == S_OPEN) {
            if (s->o.active != GT_ACTIVE_FALSE_V)
                gt__sock_deliver(s);
            else if (s->reader)
                gt__wake(s->reader->proc);
        }
    }
    pthread_mutex_unlock(&s->lock);
}

/* ---- options on a live socket ---- */

/* inet answers einval for options and addresses of a closed socket
 * (docs/spec/semantics.md rule 44). */
int gt_setopts(gt_socket h, gt_optlist l)
{
    gt__sock *s = gt__sock_acquire(h);
    if (!s)
        return -EINVAL;
    int rc = gt__opts_set_locked(s, l.opts, l.count, false);
    gt__sock_release(s);
    return rc;
}

int gt_getopts(gt_socket h, gt_opt *opts, size_t n)
{
    if (n && !opts)
        return GT_EBADARG;
    gt__sock *s = gt__sock_acquire(h);
    if (!s)
        return -EINVAL;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = gt__opts_get_locked(s, &opts[i]);
    gt__sock_release(s);
    return rc;
}
