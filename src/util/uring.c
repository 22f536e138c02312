/*
 * uring.c -- a raw-syscall io_uring for batched sends, closes and epoll adds
 * (uring.h).
 *
 * The ring's memory is the kernel's, mapped here; the submission ring's
 * tail and the completion ring's head are ours to write, the others the
 * kernel's (read with acquire, written with release, as io_uring(7)
 * says).  One thread per ring: no lock.
 */
#include <errno.h>
#include <linux/io_uring.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/uring.h"

struct gt__uring {
    int fd;
    unsigned *sq_head, *sq_tail, *sq_mask, *sq_array;
    unsigned *cq_head, *cq_tail, *cq_mask;
    struct io_uring_sqe *sqes;
    struct io_uring_cqe *cqes;
    int queued;                       /* entries since the last submit */
    bool more[GT__URING_RING];        /* the last submit's CQE flags said
                                         IORING_CQE_F_SOCK_NONEMPTY      */
    void (*hook)(void *, const int *); /* gt__uring_on_submit's         */
    void *hook_arg;
};

/* 0: not tried yet; 1: this thread's ring is up; -1: off for this thread */
static __thread int ring_state;
static __thread gt__uring ring;
static atomic_ullong enters;

unsigned long long gt__uring_enters_total(void) { return atomic_load(&enters); }

#ifdef __NR_io_uring_setup
static int setup(gt__uring *r)
{
    const char *env = getenv("GT_IO_URING");
    if (env && *env && atoi(env) == 0)
        return -1;
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN;
    int fd = (int)syscall(__NR_io_uring_setup, GT__URING_RING, &p);
    if (fd < 0 && errno == EINVAL) { /* before Linux 6.0: no such flags */
        memset(&p, 0, sizeof p);
        fd = (int)syscall(__NR_io_uring_setup, GT__URING_RING, &p);
    }
    if (fd < 0)
        return -1;
    /* one mapping for both rings (IORING_FEAT_SINGLE_MMAP, Linux 5.4);
     * without it, the completion ring's own */
    size_t sq_sz = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    size_t cq_sz = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
    bool single = p.features & IORING_FEAT_SINGLE_MMAP;
    if (single && cq_sz > sq_sz)
        sq_sz = cq_sz;
    uint8_t *sq = mmap(NULL, sq_sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
                       IORING_OFF_SQ_RING);
    uint8_t *cq = sq;
    if (sq != MAP_FAILED && !single)
        cq = mmap(NULL, cq_sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
                  IORING_OFF_CQ_RING);
    void *sqes = MAP_FAILED;
    if (sq != MAP_FAILED && cq != MAP_FAILED)
        sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
    if (sqes == MAP_FAILED) {
        if (cq != MAP_FAILED && cq != sq)
            munmap(cq, cq_sz);
        if (sq != MAP_FAILED)
            munmap(sq, sq_sz);
        close(fd);
        return -1;
    }
    r->fd = fd;
    r->sq_head = (unsigned *)(sq + p.sq_off.head);
    r->sq_tail = (unsigned *)(sq + p.sq_off.tail);
    r->sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
    r->sq_array = (unsigned *)(sq + p.sq_off.array);
    r->cq_head = (unsigned *)(cq + p.cq_off.head);
    r->cq_tail = (unsigned *)(cq + p.cq_off.tail);
    r->cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
    r->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
    r->sqes = sqes;
    return 0;
}

static int enter(int fd, unsigned submit, unsigned wait)
{
    atomic_fetch_add_explicit(&enters, 1, memory_order_relaxed);
    return (int)syscall(__NR_io_uring_enter, fd, submit, wait, wait ? IORING_ENTER_GETEVENTS : 0,
                        NULL, (size_t)0);
}
#else
static int setup(gt__uring *r)
{
    (void)r;
    return -1;
}
static int enter(int fd, unsigned submit, unsigned wait)
{
    (void)fd, (void)submit, (void)wait;
    errno = ENOSYS;
    return -1;
}
#endif

gt__uring *gt__uring_thread(void)
{
    if (ring_state == 0)
        ring_state = setup(&ring) == 0 ? 1 : -1;
    return ring_state > 0 ? &ring : NULL;
}

int gt__uring_queued(const gt__uring *r) { return r->queued; }

/* A batch always starts on an empty submission ring (each submit
 * consumes all it queued, or gives the ring up), so the k-th entry
 * queued takes the slot at tail + k. */
static struct io_uring_sqe *queue(gt__uring *r, int op, int fd, const void *buf, size_t len,
                                  int flags)
{
    int k = r->queued++;
    unsigned slot = (*r->sq_tail + (unsigned)k) & *r->sq_mask;
    struct io_uring_sqe *e = &r->sqes[slot];
    memset(e, 0, sizeof *e);
    e->opcode = (uint8_t)op;
    e->fd = fd;
    e->addr = (uint64_t)(uintptr_t)buf;
    e->len = len > 0x7ffff000 ? 0x7ffff000 : (unsigned)len; /* the kernel's own cap */
    e->msg_flags = (unsigned)flags;
    e->user_data = (uint64_t)k;
    r->sq_array[slot] = slot;
    return e;
}

int gt__uring_close(gt__uring *r, int fd)
{
    return (int)queue(r, IORING_OP_CLOSE, fd, NULL, 0, 0)->user_data;
}

int gt__uring_epoll_add(gt__uring *r, int epfd, int fd, const struct epoll_event *ev)
{
    struct io_uring_sqe *e = queue(r, IORING_OP_EPOLL_CTL, epfd, ev, EPOLL_CTL_ADD, 0);
    e->off = (uint64_t)fd;
    return (int)e->user_data;
}

int gt__uring_send(gt__uring *r, int fd, const void *buf, size_t len)
{
    return (int)queue(r, IORING_OP_SEND, fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL)->user_data;
}

int gt__uring_recv(gt__uring *r, int fd, void *buf, size_t len)
{
    return (int)queue(r, IORING_OP_RECV, fd, buf, len, MSG_DONTWAIT)->user_data;
}

/* Linux 6.10's; older headers lack it, older kernels answer -EINVAL */
#ifndef IORING_ACCEPT_DONTWAIT
#define IORING_ACCEPT_DONTWAIT (1U << 1)
#endif

int gt__uring_accept(gt__uring *r, int fd)
{
    struct io_uring_sqe *e = queue(r, IORING_OP_ACCEPT, fd, NULL, 0, 0);
    e->accept_flags = SOCK_NONBLOCK | SOCK_CLOEXEC; /* (the union msg_flags shares) */
    e->ioprio = IORING_ACCEPT_DONTWAIT;
    return (int)e->user_data;
}

bool gt__uring_more(const gt__uring *r, int k) { return k >= 0 && k < GT__URING_RING && r->more[k]; }

void gt__uring_unqueue(gt__uring *r, int n) { r->queued -= n < r->queued ? n : r->queued; }

void gt__uring_on_submit(gt__uring *r, void (*fn)(void *, const int *), void *arg)
{
    r->hook = fn;
    r->hook_arg = arg;
}

void gt__uring_flush(void)
{
    if (ring_state > 0 && ring.queued) {
        int res[GT__URING_RING];
        gt__uring_submit(&ring, res);
    }
}

void gt__uring_submit(gt__uring *r, int *res)
{
    int n = r->queued;
    r->queued = 0;
    for (int i = 0; i < n; i++) {
        res[i] = GT__URING_NOT_RUN;
        r->more[i] = false;
    }
    if (n > 0)
        atomic_store_explicit((_Atomic unsigned *)r->sq_tail, *r->sq_tail + (unsigned)n,
                              memory_order_release);
    /* Submit; the sends run inside the call (MSG_DONTWAIT).  Then wait
     * until all n results are in: a send must not outlive its buffer. */
    unsigned submitted = 0, done = 0, tries = 0;
    while (done < (unsigned)n && tries++ < 1000) {
        unsigned want = (unsigned)n - submitted;
        unsigned h = *r->cq_head;
        unsigned t = atomic_load_explicit((_Atomic unsigned *)r->cq_tail, memory_order_acquire);
        unsigned pending = submitted - done - (t - h);
        if (want || pending) {
            int k = enter(r->fd, want, want ? 0 : pending);
            if (k < 0 && errno != EINTR && errno != EAGAIN && errno != EBUSY)
                break;
            if (k > 0 && want)
                submitted += (unsigned)k;
            t = atomic_load_explicit((_Atomic unsigned *)r->cq_tail, memory_order_acquire);
        }
        for (; h != t; h++) {
            const struct io_uring_cqe *c = &r->cqes[h & *r->cq_mask];
            if (c->user_data < (uint64_t)n) {
                res[c->user_data] = c->res;
                r->more[c->user_data] = c->flags & IORING_CQE_F_SOCK_NONEMPTY;
            }
            done++;
        }
        atomic_store_explicit((_Atomic unsigned *)r->cq_head, h, memory_order_release);
    }
    if (done < (unsigned)n) {
        /* The kernel refused: sends it holds or never took would make
         * the buffers' lifetime unknowable.  Give the ring up (its
         * memory stays mapped: a send still in it may complete into it). */
        ring_state = -1;
    }
    void (*fn)(void *, const int *) = r->hook;
    r->hook = NULL;
    if (fn)
        fn(r->hook_arg, res);
}
