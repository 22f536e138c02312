/*
 * mailbox.c -- per-process message queues: gt_post, gt_receive (plain and
 * selective), delivery from sockets, and the readiness eventfd.
 *
 * Any thread may append; only the owner removes (receive) or reorders
 * (controlling_process runs in the owner).  That is why the owner can keep
 * a selective-receive cursor: after a wake-up it scans only the messages
 * that arrived since its last scan, never the whole queue again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "runtime/sched.h"
#include "util/sanitizer.h"

void gt__mbox_init(gt__mailbox *m)
{
    memset(m, 0, sizeof *m);
    gt__mutex_init(&m->lock);
}

/* The readiness eventfd of a mailbox that has one (m->has_efd, which is
 * set after the extension that holds it exists). */
static int efd_of(gt__mailbox *m)
{
    gt__proc *p = (gt__proc *)((char *)m - offsetof(gt__proc, mbox));
    return gt__proc_ext_peek(p)->mbox_efd;
}

/*
 * Small messages come from a per-thread cache of fixed-size blocks: a
 * socket delivers packets in batches (64 at a time with {active, 64}) and
 * its owner frees them one by one on the same scheduler thread, which
 * overflows malloc's small per-thread cache and costs ~15% of an echo
 * server's time.  Sanitizer builds skip the cache so that a use after
 * gt_msg_free() is still caught.
 */
#define MSG_SMALL 256   /* payload bytes a cached block holds */
#define MSG_CACHE 1024  /* blocks kept per thread (~330 KiB at most) */

#define GT_MSG_CACHE (!GT_SANITIZED)

typedef struct msg_cache {
    gt_msg *free;
    int n;
} msg_cache;

/* initial-exec: a %fs-relative load, not a __tls_get_addr call in the
 * -fPIC code (whose call made every cached allocation save registers);
 * 16 bytes, well inside the static TLS kept for a dlopen()ed library */
static __thread msg_cache cache __attribute__((tls_model("initial-exec")));
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void cache_release(void *arg)
{
    msg_cache *c = arg;
    while (c->free) {
        gt_msg *m = c->free;
        c->free = GT__NEXT(m);
        free(gt__envelope_of(m));
    }
    c->n = 0;
}

void gt__msg_cache_trim(void) { cache_release(&cache); }
int gt__msg_cache_count(void) { return cache.n; }

static void cache_key_make(void) { pthread_key_create(&cache_key, cache_release); }

static inline gt_msg *msg_init(gt_msg *msg, gt_msg_kind kind, size_t len)
{
    gt__envelope *env = gt__envelope_of(msg);
    memset(env, 0, sizeof *env);
    msg->kind = kind;
    msg->len = len;
    msg->data = (uint8_t *)(env + 1);
    return msg;
}

/* What an envelope's block says besides gt__msg_adopt's allocation: a
 * payload bigger than a cached block (MSG_BIG), an http packet to free
 * with the message (MSG_HTTP).  gt_msg_free's cached path then reads only
 * the envelope's first bytes, not len and http further on: after a send
 * that copied a run of packets, those were a second cache miss per
 * message (issue 11, echo6). */
static char msg_big_mark, msg_http_mark;
#define MSG_BIG ((void *)&msg_big_mark)
#define MSG_HTTP ((void *)&msg_http_mark)

/* Out of line, so that the cached path below saves no registers. */
static __attribute__((noinline)) gt_msg *msg_new_malloc(gt_msg_kind kind, size_t len)
{
    gt__envelope *e = malloc(sizeof *e + (len <= MSG_SMALL ? MSG_SMALL : len));
    if (!e)
        return NULL;
    msg_init(&e->msg, kind, len);
    if (len > MSG_SMALL)
        e->block = MSG_BIG;
    return &e->msg;
}

gt_msg *gt__msg_new(gt_msg_kind kind, size_t len)
{
    gt_msg *msg = cache.free;
    if (!GT_MSG_CACHE || len > MSG_SMALL || !msg)
        return msg_new_malloc(kind, len);
    cache.free = GT__NEXT(msg);
    cache.n--;
    return msg_init(msg, kind, len);
}

void gt__msg_own_http(gt_msg *msg, const struct gt_http_packet *http)
{
    msg->http = http;
    if (http)
        gt__envelope_of(msg)->block = MSG_HTTP;
}

gt_msg *gt__msg_adopt(gt_msg_kind kind, void *block, uint8_t *data, size_t len)
{
    gt_msg *msg = gt__msg_new(kind, 0);
    if (!msg)
        return NULL;
    gt__envelope_of(msg)->block = block;
    msg->data = data;
    msg->len = len;
    return msg;
}

static inline void cache_push(gt_msg *msg)
{
    GT__NEXT(msg) = cache.free;
    cache.free = msg;
    cache.n++;
}

static __attribute__((noinline)) void msg_free_slow(gt_msg *msg)
{
    gt__envelope *env = gt__envelope_of(msg);
    bool small = env->block != MSG_BIG; /* the envelope holds MSG_SMALL bytes */
    if (env->block == MSG_HTTP)
        free((void *)msg->http); /* the packet layer's, one block */
    else if (small && env->block)
        free(env->block); /* gt__msg_adopt's: the payload is not in the envelope */
    env->block = NULL;
    if (GT_MSG_CACHE && small && cache.n < MSG_CACHE) {
        if (!cache.free) { /* first use on this thread, or emptied */
            pthread_once(&cache_once, cache_key_make);
            pthread_setspecific(cache_key, &cache); /* freed at thread exit */
        }
        cache_push(msg);
        return;
    }
    free(gt__envelope_of(msg));
}

void gt_msg_free(gt_msg *msg)
{
    if (!msg)
        return;
    /* the common case, a small packet into a cache in use, saves no
     * registers; the rest (and a cache's first use) is msg_free_slow's */
    if (GT_MSG_CACHE && !gt__envelope_of(msg)->block && cache.free && cache.n < MSG_CACHE) {
        cache_push(msg);
        return;
    }
    msg_free_slow(msg);
}

static void free_chain(gt_msg *m)
{
    while (m) {
        gt_msg *next = GT__NEXT(m);
        gt_msg_free(m);
        m = next;
    }
}

/* head is written under the lock, atomically, so that the owner's
 * receive(0) can see an empty mailbox without taking the lock (below). */
static void set_head(gt__mailbox *m, gt_msg *h) { __atomic_store_n(&m->head, h, __ATOMIC_RELAXED); }

/* receiving is written by the owner also without the lock (the announced
 * wait in gt_receive_match), so every access is atomic. */
static void set_receiving(gt__mailbox *m, bool v) { __atomic_store_n(&m->receiving, v, __ATOMIC_RELAXED); }

_Atomic(void (*)(int step)) gt__mbox_race_hook;

static inline void race_point(int step)
{
    void (*h)(int) = atomic_load_explicit(&gt__mbox_race_hook, memory_order_relaxed);
    if (__builtin_expect(h != NULL, 0))
        h(step);
}

void gt__mbox_close(gt__mailbox *m)
{
    gt__lock(&m->lock, GT__LK_MBOX);
    gt_msg *h = m->head;
    set_head(m, NULL);
    m->tail = m->scanned = NULL;
    m->len = 0;
    m->dead = true;
    int efd = m->has_efd ? efd_of(m) : -1;
    m->has_efd = false;
    gt__unlock(&m->lock);
    free_chain(h);
    if (efd >= 0)
        close(efd);
}

static void signal_efd(gt__mailbox *m)
{
    if (m->has_efd) {
        uint64_t one = 1;
        ssize_t r = write(efd_of(m), &one, sizeof one);
        (void)r;
    }
}

void gt__mbox_deliver(gt__proc *p, gt_msg *first, gt_msg *last)
{
    size_t n = 1; /* chains are a socket's batch: short, and walked outside the lock */
    for (gt_msg *c = first; c != last; c = GT__NEXT(c))
        n++;
    gt__mbox_deliver_n(p, first, last, n);
}

void gt__mbox_deliver_n(gt__proc *p, gt_msg *first, gt_msg *last, size_t n)
{
    gt__mailbox *m = &p->mbox;
    GT__NEXT(last) = NULL;
    gt__lock(&m->lock, GT__LK_MBOX);
    if (m->dead) {
        gt__unlock(&m->lock);
        free_chain(first);
        return;
    }
    bool was_empty = m->head == NULL;
    if (m->tail)
        GT__NEXT(m->tail) = first;
    else
        set_head(m, first);
    m->tail = last;
    m->len += n;
    if (was_empty) {
        signal_efd(m);
        /* The owner may be announcing a wait without the lock (below,
         * gt_receive_match): the store of head above and the read of
         * receiving here, against its store of receiving and read of head,
         * are sequentially consistent, so one of the two sees the other.
         * Into a mailbox that was not empty, an earlier delivery did so. */
        atomic_thread_fence(memory_order_seq_cst);
    }
    race_point(GT__RACE_PUSHED);
    if (__atomic_load_n(&m->receiving, __ATOMIC_RELAXED)) {
        set_receiving(m, false);
        gt__wake(p); /* under the lock: see gt__park's contract */
    }
    gt__unlock(&m->lock);
}

int gt_post(gt_pid pid, int tag, const void *data, size_t len)
{
    if (gt__forked())
        return GT_EFORKED;
    if (len && !data)
        return GT_EBADARG;
    gt__proc *p = gt__proc_lookup(pid);
    if (!p)
        return GT_ENOPROC;
    gt_msg *msg = gt__msg_new(GT_MSG_USER, len);
    if (!msg) {
        gt__proc_unref(p);
        return -ENOMEM;
    }
    msg->tag = tag;
    gt__proc *self = gt__self();
    if (self)
        msg->from = gt__proc_pid(self);
    if (len)
        memcpy(msg->data, data, len);
    gt__mbox_deliver(p, msg, msg);
    gt__proc_unref(p);
    return 0;
}

/* Takes cur, which follows prev (NULL: cur is the head), out of the
 * queue.  Lock held. */
static void unlink_msg(gt__mailbox *m, gt_msg *prev, gt_msg *cur)
{
    if (prev)
        GT__NEXT(prev) = GT__NEXT(cur);
    else
        set_head(m, GT__NEXT(cur));
    if (m->tail == cur)
        m->tail = prev;
    GT__NEXT(cur) = NULL;
    m->len--;
}

bool gt__mbox_limited(gt__proc *p)
{
    return atomic_load_explicit(&p->mbox.limit, memory_order_relaxed) != 0;
}

/* The first cut messages of m, up to head, were taken: one head and
 * length update for a run of them (an echo takes its whole mailbox). */
static void cut_head(gt__mailbox *m, gt_msg *head, uint32_t cut)
{
    if (!cut)
        return;
    set_head(m, head);
    if (!head)
        m->tail = NULL;
    m->len -= cut;
}

bool gt__mbox_over_limit(gt__proc *p, size_t pending)
{
    gt__mailbox *m = &p->mbox;
    /* the common case, no limit, costs no lock on the delivery path; the
     * value only changes in the owner, under the lock */
    if (!atomic_load_explicit(&m->limit, memory_order_relaxed))
        return false;
    gt__lock(&m->lock, GT__LK_MBOX);
    /* once stopped, stopped until the drain to half: a socket's new data
     * must not refill the mailbox message by message meanwhile */
    bool over = m->limit && !m->dead && (m->throttled || m->len + pending >= m->limit);
    if (over)
        m->throttled = true;
    gt__unlock(&m->lock);
    return over;
}

/* After a take, lock held: true when the resources that stopped at the
 * limit are to resume (hysteresis: at half the limit, so that a socket
 * reads a batch, not one message per receive). */
static bool resume_due(gt__mailbox *m)
{
    if (!m->throttled || (m->limit && m->len > m->limit / 2))
        return false;
    m->throttled = false;
    return true;
}

int gt_set_mailbox_limit(size_t max_msgs)
{
    if (gt__forked())
        return GT_EFORKED;
    gt__proc *p = gt__self();
    if (!p)
        return -ENOMEM;
    gt__mailbox *m = &p->mbox;
    gt__lock(&m->lock, GT__LK_MBOX);
    m->limit = max_msgs < UINT32_MAX ? (uint32_t)max_msgs : UINT32_MAX;
    bool resume = resume_due(m);
    gt__unlock(&m->lock);
    if (resume)
        gt__resources_resume(p);
    return 0;
}

/* Unlinks the first match after the cursor; called with the lock held. */
static gt_msg *take_match(gt__mailbox *m, gt_match_fn match, void *arg)
{
    gt_msg *prev = m->scanned;
    gt_msg *cur = prev ? GT__NEXT(prev) : m->head;
    for (; cur; prev = cur, cur = GT__NEXT(cur)) {
        if (match && !match(cur, arg))
            continue;
        unlink_msg(m, prev, cur);
        return cur;
    }
    m->scanned = prev; /* everything so far failed to match */
    return NULL;
}

static void drain_efd_if_empty(gt__mailbox *m)
{
    if (m->has_efd && m->head == NULL) {
        uint64_t v;
        ssize_t r = read(efd_of(m), &v, sizeof v);
        (void)r;
    }
}

/* A wait for the next message of an empty mailbox is announced without
 * the lock and the process parks; the lock is taken once, after the wake,
 * to take the message (an echo took it twice: to announce the wait and to
 * take; issue 11, rr1k).  Dekker with gt__mbox_deliver: receiving is
 * stored, then head read, sequentially consistent.  A delivery that sees
 * the announcement after the owner found the message anyway leaves a wake
 * pending, which gt__park's callers take as spurious.  Not with a mailbox
 * limit (throttled is the lock's) nor a pending exit.  Sets *deadline
 * when it computed it. */
static void wait_announced(gt__proc *p, gt__mailbox *m, int64_t timeout_ms, int64_t *deadline)
{
    if (atomic_load_explicit(&m->limit, memory_order_relaxed) ||
        __atomic_load_n(&m->head, __ATOMIC_RELAXED) || gt__exit_is_pending(p))
        return;
    *deadline = gt__deadline(timeout_ms);
    race_point(GT__RACE_SAW_EMPTY);
    __atomic_store_n(&m->receiving, true, __ATOMIC_SEQ_CST);
    atomic_thread_fence(memory_order_seq_cst);
    race_point(GT__RACE_ANNOUNCED);
    if (__atomic_load_n(&m->head, __ATOMIC_SEQ_CST))
        return; /* receiving is cleared under the lock */
    gt__park(*deadline);
}

int gt_receive_match(gt_match_fn match, void *arg, int64_t timeout_ms, gt_msg **msg_out)
{
    if (gt__forked())
        return GT_EFORKED;
    gt__proc *p = gt__self();
    if (!p)
        return -ENOMEM;
    if (!msg_out)
        return GT_EBADARG;
    /* The clock is read only when a wait is due: receive(0) in a loop is
     * how a process drains its mailbox, and it must stay cheap. */
    int64_t deadline = -2; /* not computed yet */
    gt__mailbox *m = &p->mbox;
    /* A poll of an empty mailbox takes no lock: an echo loop polls once
     * per packet for the ones behind it (issue 11, rr1k).  Only the owner
     * takes messages out, so an empty head stays empty but for a delivery
     * that may as well have come after the poll; what the caller knows
     * was delivered before (its own posts, or another thread's followed
     * by a synchronisation) is seen, as the store happened before. */
    if (timeout_ms == 0 && !__atomic_load_n(&m->head, __ATOMIC_RELAXED))
        return GT_ETIMEOUT;
    if (timeout_ms > 0 || timeout_ms == GT_INFINITY)
        wait_announced(p, m, timeout_ms, &deadline);
    gt__lock(&m->lock, GT__LK_MBOX);
    m->scanned = NULL;
    for (;;) {
        /* Killed: a receive that could wait takes nothing more, even a
         * message that arrived with the wake (a poll still works). */
        int rc = timeout_ms != 0 ? gt__exit_check() : 0;
        gt_msg *msg = rc ? NULL : take_match(m, match, arg);
        if (msg) {
            m->scanned = NULL;
            set_receiving(m, false);
            drain_efd_if_empty(m);
            bool resume = resume_due(m);
            gt__unlock(&m->lock);
            if (resume)
                gt__resources_resume(p);
            *msg_out = msg;
            return 0;
        }
        if (deadline == -2)
            deadline = timeout_ms == 0 ? 0 : gt__deadline(timeout_ms);
        if (rc || timeout_ms == 0 || gt__expired(deadline)) {
            m->scanned = NULL;
            set_receiving(m, false);
            gt__unlock(&m->lock);
            return rc ? rc : GT_ETIMEOUT;
        }
        /* below half by other means (controlling_process moved messages
         * out): resumed before waiting, or a stalled socket never is */
        if (resume_due(m)) {
            gt__unlock(&m->lock);
            gt__resources_resume(p);
            gt__lock(&m->lock, GT__LK_MBOX);
            continue;
        }
        set_receiving(m, true);
        gt__unlock(&m->lock);
        gt__park(deadline);
        gt__lock(&m->lock, GT__LK_MBOX);
    }
}

int gt_receive(int64_t timeout_ms, gt_msg **msg_out)
{
    if (gt__forked())
        return GT_EFORKED;
    return gt_receive_match(NULL, NULL, timeout_ms, msg_out);
}

/* The kinds of message a socket sends its owner. */
static inline bool is_socket_kind(gt_msg_kind k)
{
    return (k >= GT_MSG_TCP && k <= GT_MSG_HTTP) || (k >= GT_MSG_SSL && k <= GT_MSG_SSL_PASSIVE);
}

static inline bool match_socket(const gt_msg *msg, void *arg)
{
    return msg && arg && is_socket_kind(msg->kind) && gt_sock_eq(msg->sock, *(gt_socket *)arg);
}

/* gt_receive_many's pass over the mailbox (lock held): unlinks up to max
 * messages that match, in order, into msgs_out; returns how many.  One
 * pass: the messages that failed to match are not asked again (as the
 * selective-receive cursor does).  by_socket: match is gt_match_socket,
 * an echo's predicate, tested inline against the socket read once (the
 * loop is made twice from this one body: a call per packet was ~15
 * instructions, a test of which predicate ~4, issue 11). */
static inline size_t take_matches(gt__mailbox *m, gt_match_fn match, void *arg, bool by_socket,
                                  gt_msg **msgs_out, size_t max)
{
    gt_socket want = by_socket ? *(gt_socket *)arg : (gt_socket){0};
    size_t n = 0;
    gt_msg *prev = NULL, *cur = m->head;
    uint32_t cut = 0; /* matches at the head, unlinked at once by cut_head */
    while (cur && n < max) {
        gt_msg *next = GT__NEXT(cur);
        bool take = by_socket ? is_socket_kind(cur->kind) && gt_sock_eq(cur->sock, want)
                              : !match || match(cur, arg);
        if (take) {
            if (prev) {
                unlink_msg(m, prev, cur);
            } else {
                GT__NEXT(cur) = NULL;
                cut++;
            }
            msgs_out[n++] = cur;
        } else {
            if (!prev)
                cut_head(m, cur, cut);
            prev = cur;
        }
        cur = next;
    }
    if (!prev)
        cut_head(m, cur, cut);
    return n;
}

/* gt_receive_many's work once the mailbox holds something: out of line,
 * so that the call that finds it empty (an echo loop's, after each packet
 * it took: issue 11, rr1k) saves and spills fewer registers: 43 -> 34
 * instructions of each echo (callgrind). */
static __attribute__((noinline)) int receive_many_locked(gt__proc *p, gt_match_fn match, void *arg,
                                                         gt_msg **msgs_out, size_t max,
                                                         size_t *n_out)
{
    gt__mailbox *m = &p->mbox;
    /* One lock for the run: a pipelining peer leaves hundreds of packets
     * per read, and a lock pair per receive was a tenth of an echo
     * server's CPU (issue 11). */
    gt__lock(&m->lock, GT__LK_MBOX);
    size_t n = match == gt_match_socket && arg ? take_matches(m, match, arg, true, msgs_out, max)
                                               : take_matches(m, match, arg, false, msgs_out, max);
    m->scanned = NULL;
    if (n)
        drain_efd_if_empty(m);
    bool resume = n && resume_due(m);
    gt__unlock(&m->lock);
    if (resume)
        gt__resources_resume(p);
    *n_out = n;
    return n ? 0 : GT_ETIMEOUT;
}

int gt_receive_many(gt_match_fn match, void *arg, gt_msg **msgs_out, size_t max, size_t *n_out)
{
    if (gt__forked())
        return GT_EFORKED;
    if (n_out)
        *n_out = 0;
    if (!msgs_out || !n_out || !max)
        return GT_EBADARG;
    gt__proc *p = gt__self();
    if (!p)
        return -ENOMEM;
    if (!__atomic_load_n(&p->mbox.head, __ATOMIC_RELAXED))
        return GT_ETIMEOUT; /* as gt_receive_match's poll: no lock */
    return receive_many_locked(p, match, arg, msgs_out, max, n_out);
}

bool gt_match_socket(const gt_msg *msg, void *arg) { return match_socket(msg, arg); }

int gt_mailbox_fd(void)
{
    if (gt__forked())
        return GT_EFORKED;
    gt__proc *p = gt__self();
    if (!p)
        return -ENOMEM;
    gt__mailbox *m = &p->mbox;
    gt__lock(&p->plock, GT__LK_PLOCK); /* the extension is made under it */
    gt__proc_ext *x = gt__proc_ext_get(p);
    gt__lock(&m->lock, GT__LK_MBOX);
    int fd = -ENOMEM;
    if (m->has_efd) {
        fd = x->mbox_efd;
    } else if (x) {
        fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (fd < 0) {
            fd = gt__errno();
        } else {
            x->mbox_efd = fd;
            m->has_efd = true;
            if (m->head)
                signal_efd(m);
        }
    }
    gt__unlock(&m->lock);
    gt__unlock(&p->plock);
    return fd;
}

/* controlling_process: move tcp and tcp_closed messages about sock, in
 * order; tcp_passive, tcp_error and http stay with the old owner (OTP's
 * inet:tcp_sync_input does the same; docs/spec/semantics.md rule 61). */
bool gt__mbox_move_socket(gt__proc *from, gt__proc *to, gt_socket sock)
{
    gt_msg *mh = NULL, *mt = NULL;
    bool saw_closed = false;
    gt__mailbox *m = &from->mbox;
    gt__lock(&m->lock, GT__LK_MBOX);
    gt_msg *prev = NULL, *cur = m->head;
    while (cur) {
        gt_msg *next = GT__NEXT(cur);
        if (gt_sock_eq(cur->sock, sock) &&
            (cur->kind == GT_MSG_TCP || cur->kind == GT_MSG_TCP_CLOSED ||
             cur->kind == GT_MSG_SSL || cur->kind == GT_MSG_SSL_CLOSED)) {
            if (cur->kind == GT_MSG_TCP_CLOSED || cur->kind == GT_MSG_SSL_CLOSED)
                saw_closed = true;
            unlink_msg(m, prev, cur);
            if (mt)
                GT__NEXT(mt) = cur;
            else
                mh = cur;
            mt = cur;
        } else {
            prev = cur;
        }
        cur = next;
    }
    m->scanned = NULL;
    drain_efd_if_empty(m);
    gt__unlock(&m->lock);
    if (mh)
        gt__mbox_deliver(to, mh, mt);
    return saw_closed;
}

int gt_mailbox_len(gt_pid pid, size_t *len_out)
{
    if (gt__forked())
        return GT_EFORKED;
    if (!len_out)
        return GT_EBADARG;
    gt__proc *p = gt__proc_lookup(pid);
    if (!p)
        return GT_ENOPROC;
    gt__lock(&p->mbox.lock, GT__LK_MBOX);
    *len_out = p->mbox.len;
    gt__unlock(&p->mbox.lock);
    gt__proc_unref(p);
    return 0;
}

void gt__mbox_drop_closed(gt__proc *p, gt_socket sock)
{
    gt__mailbox *m = &p->mbox;
    gt_msg *found = NULL;
    gt__lock(&m->lock, GT__LK_MBOX);
    for (gt_msg *prev = NULL, *cur = m->head; cur; prev = cur, cur = GT__NEXT(cur)) {
        if ((cur->kind != GT_MSG_TCP_CLOSED && cur->kind != GT_MSG_SSL_CLOSED) ||
            !gt_sock_eq(cur->sock, sock))
            continue;
        unlink_msg(m, prev, cur);
        found = cur;
        break;
    }
    if (found) {
        m->scanned = NULL; /* the cursor may have pointed at it */
        drain_efd_if_empty(m);
    }
    gt__unlock(&m->lock);
    gt_msg_free(found);
}
