/*
 * buf.c -- see buf.h.
 *
 * Cost: every byte appended is moved at most a bounded number of times.
 * A compaction moves the pending bytes only when at least as many bytes
 * were consumed in front of them (so the move is paid for by the bytes
 * that left), and growth doubles the capacity and copies only the pending
 * bytes.  Moving a large pending queue to the front on every append made a
 * bulk echo cost quadratic CPU (issue 11: 11 ns/B at 256 KiB frames).
 *
 * Memory: buffers of up to BUF_POOL_MAX bytes that fall empty go back to a
 * small per-thread pool rather than to malloc: a request/response
 * connection fills and drains its buffer once per message, and a
 * malloc/free pair per message made glibc trim its heap and the kernel
 * fault the pages back in (issue 11).  The pool is bounded (BUF_POOL_N
 * buffers a thread) and freed when the thread exits.
 */
#include "util/buf.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define BUF_MIN (16 * 1024) /* a batch of small packets fits */
#define BUF_POOL_MAX (64 * 1024)
#define BUF_POOL_N 8
/* An empty buffer asked for at most SMALL_CAP bytes (one small send
 * waiting for the end of a scheduler pass, socket/send.c: up to 64 of
 * them a pass) gets a block of that size from a pool of its own: from
 * malloc, 64 16-KiB blocks a pass cost ~660 instructions per echo in
 * _int_malloc/_int_free (callgrind, rr1k), beyond the 8-entry pool and
 * glibc's small caches.  Bounded: SMALL_N blocks, ~35 KiB a thread. */
#define SMALL_CAP 512
#define SMALL_N 64

/* Spare blocks of one size for socket/recv.c's read_frames, which reads
 * up to 16 frames of the last big frame's size with one readv, each into
 * a block of its own, and used to free the ones the read did not reach: a
 * peer that trickles big frames (one 64 KiB frame every few ms: one frame
 * a read) cost 15 malloc/free pairs a read, ~3,900 of a frame's ~19,700
 * instructions (callgrind, gtcat listen --echo).  Kept here instead, a
 * thread's at most SPARE_N, of the last size asked for; the kernel never
 * wrote into them, so they hold few resident pages. */
#define SPARE_N 16

typedef struct pool {
    int n, ns, nsp;
    gt__bufmem *e[BUF_POOL_N];
    gt__bufmem *small[SMALL_N];
    size_t spare_size;
    gt__bufmem *spare[SPARE_N];
} pool;
static _Thread_local pool *tl_pool;
static pthread_key_t pool_key;
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
static _Atomic uint64_t moved_total, allocs_total;
static _Thread_local uint64_t appended_here;

static void pool_destroy(void *arg)
{
    pool *p = arg;
    for (int i = 0; i < p->n; i++)
        free(p->e[i]);
    for (int i = 0; i < p->ns; i++)
        free(p->small[i]);
    for (int i = 0; i < p->nsp; i++)
        free(p->spare[i]);
    free(p);
}

static void pool_key_init(void)
{
    if (pthread_key_create(&pool_key, pool_destroy) != 0)
        pool_key = (pthread_key_t)-1;
}

/* This thread's pool, created on first use; NULL if that fails (the
 * buffers then go straight to malloc/free). */
static pool *my_pool(void)
{
    if (tl_pool)
        return tl_pool;
    pthread_once(&pool_once, pool_key_init);
    if (pool_key == (pthread_key_t)-1)
        return NULL;
    pool *p = calloc(1, sizeof *p);
    if (p && pthread_setspecific(pool_key, p) != 0) {
        free(p);
        p = NULL;
    }
    return tl_pool = p;
}

uint64_t gt__buf_moved_total(void) { return moved_total; }
uint64_t gt__buf_allocs_total(void) { return allocs_total; }
uint64_t gt__buf_appended_here(void) { return appended_here; }

static void count_moved(size_t n) { moved_total += n; }

void gt__buf_free_mem(gt__buf *b)
{
    gt__bufmem *m = b->m;
    b->m = NULL;
    if (m && m->cap == SMALL_CAP) {
        pool *p = my_pool();
        if (p && p->ns < SMALL_N) {
            p->small[p->ns++] = m;
            return;
        }
    } else if (m && m->cap <= BUF_POOL_MAX) {
        pool *p = my_pool();
        if (p && p->n < BUF_POOL_N) {
            p->e[p->n++] = m;
            return;
        }
    }
    free(m);
}

int gt__buf_reserve_block(gt__buf *b, size_t size)
{
    pool *p = tl_pool;
    if (!b->m && p && p->nsp && p->spare_size == size) {
        b->m = p->spare[--p->nsp];
        b->m->off = b->m->len = 0;
        return 0;
    }
    return gt__buf_reserve(b, size);
}

void gt__buf_free_block(gt__buf *b, size_t size)
{
    pool *p = b->m && !gt__buf_avail(b) ? my_pool() : NULL;
    if (p && b->m->cap >= size) {
        if (p->spare_size != size) /* another size: the old ones go */
            gt__buf_spares_trim();
        p->spare_size = size;
        if (p->nsp < SPARE_N) {
            p->spare[p->nsp++] = b->m;
            b->m = NULL;
            return;
        }
    }
    gt__buf_free(b);
}

void gt__buf_spares_trim(void)
{
    pool *p = tl_pool;
    for (int i = 0; p && i < p->nsp; i++)
        free(p->spare[i]);
    if (p)
        p->nsp = 0;
}

void *gt__buf_steal(gt__buf *b)
{
    void *m = b->m;
    b->m = NULL;
    return m;
}

/* An empty buffer takes memory from the pool when a pooled buffer is big
 * enough. */
static bool take_pooled(gt__buf *b, size_t more)
{
    pool *p = tl_pool;
    if (more <= SMALL_CAP) { /* small: its own pool, else a new small block */
        if (p && p->ns) {
            b->m = p->small[--p->ns];
        } else {
            b->m = malloc(sizeof *b->m + SMALL_CAP);
            if (!b->m)
                return false;
            allocs_total++;
            b->m->cap = SMALL_CAP;
        }
        b->m->off = b->m->len = 0;
        return true;
    }
    if (!p || !p->n || more > BUF_POOL_MAX)
        return false;
    for (int i = p->n - 1; i >= 0; i--) {
        if (p->e[i]->cap < more)
            continue;
        b->m = p->e[i];
        b->m->off = b->m->len = 0;
        p->e[i] = p->e[--p->n];
        return true;
    }
    return false;
}

int gt__buf_reserve(gt__buf *b, size_t more)
{
    gt__bufmem *m = b->m;
    if (m && m->off && m->off == m->len)
        m->off = m->len = 0;
    if (gt__buf_room(b) >= more)
        return 0;
    if (!m && take_pooled(b, more))
        return 0;
    size_t avail = gt__buf_avail(b);
    if (m && m->off >= avail && m->cap - avail >= more) {
        memmove(m->data, m->data + m->off, avail);
        count_moved(avail);
        m->len = avail;
        m->off = 0;
        return 0;
    }
    /* An empty buffer gets what is asked for (a big frame's exact size:
     * it may become the message, recv.c), a growing one doubles, and a
     * small block that must grow goes straight to BUF_MIN: a queue that
     * outgrows one small send (a slow reader's backlog) is a queue, and
     * doubling it up from SMALL_CAP would cost five reallocs. */
    size_t cap = m ? m->cap * 2 : more;
    if (cap < BUF_MIN)
        cap = BUF_MIN;
    while (cap - avail < more) {
        if (cap > SIZE_MAX / 2)
            return -ENOMEM;
        cap *= 2;
    }
    if (cap > SIZE_MAX - sizeof *m)
        return -ENOMEM;
    gt__bufmem *p;
    if (m && m->off) { /* only the pending bytes move, not the consumed front */
        p = malloc(sizeof *p + cap);
        if (!p)
            return -ENOMEM;
        allocs_total++;
        memcpy(p->data, m->data + m->off, avail);
        free(m);
    } else {
        p = realloc(m, sizeof *p + cap);
        if (!p)
            return -ENOMEM;
        allocs_total++;
    }
    count_moved(avail);
    p->cap = cap;
    p->off = 0;
    p->len = avail;
    b->m = p;
    return 0;
}

int gt__buf_append_iov(gt__buf *b, const struct iovec *iov, int n, size_t skip)
{
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += iov[i].iov_len;
    if (skip >= total)
        return 0;
    if (gt__buf_reserve(b, total - skip) != 0)
        return -ENOMEM;
    gt__bufmem *m = b->m;
    appended_here += total - skip;
    for (int i = 0; i < n; i++) {
        size_t len = iov[i].iov_len;
        if (skip >= len) {
            skip -= len;
            continue;
        }
        memcpy(m->data + m->len, (const uint8_t *)iov[i].iov_base + skip, len - skip);
        m->len += len - skip;
        skip = 0;
    }
    return 0;
}

void gt__buf_consume(gt__buf *b, size_t n)
{
    if (!b->m)
        return;
    b->m->off += n;
    if (b->m->off >= b->m->len)
        gt__buf_free(b);
}
