/*
 * buf.h -- a byte buffer with a read offset: bytes [off, len) of data are
 * pending.  Used for a socket's input (read, not yet delivered) and output
 * (accepted by send, not yet written).  An empty buffer owns no memory, so
 * an idle socket costs nothing here: the offsets live in the allocation,
 * in front of the bytes, and the buffer itself is one pointer (issue 11:
 * every socket has two; 48 B of a hibernated connection's socket).
 */
#ifndef GT_BUF_H
#define GT_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* One malloc'd block: the bookkeeping, then cap bytes.  free() frees it
 * (gt__buf_steal's callers rely on that). */
typedef struct gt__bufmem {
    size_t off, len, cap; /* (the bytes moved are counted per process, not
                             per buffer, issue 11) */
    uint8_t data[];
} gt__bufmem;

typedef struct gt__buf {
    gt__bufmem *m; /* owned; NULL when empty */
} gt__buf;

static inline size_t gt__buf_avail(const gt__buf *b) { return b->m ? b->m->len - b->m->off : 0; }
static inline uint8_t *gt__buf_head(const gt__buf *b) { return b->m ? b->m->data + b->m->off : NULL; }
static inline size_t gt__buf_cap(const gt__buf *b) { return b->m ? b->m->cap : 0; }
/* The free room after the pending bytes (where a read lands), and its size;
 * gt__buf_added(b, n) then takes n <= room bytes written there. */
static inline uint8_t *gt__buf_tail(const gt__buf *b) { return b->m ? b->m->data + b->m->len : NULL; }
static inline size_t gt__buf_room(const gt__buf *b) { return b->m ? b->m->cap - b->m->len : 0; }
static inline void gt__buf_added(gt__buf *b, size_t n) { b->m->len += n; }
/* The allocation holding the bytes (what gt__buf_steal hands over), or NULL. */
static inline void *gt__buf_block(const gt__buf *b) { return b->m; }

/* Makes room for `more` bytes at data + len: compacting when at least as
 * many bytes were consumed as are pending, else growing (doubling).
 * Returns 0 or -ENOMEM. */
int gt__buf_reserve(gt__buf *b, size_t more);

/* Appends the bytes of iov[0..n) after skipping the first `skip`. */
int gt__buf_append_iov(gt__buf *b, const struct iovec *iov, int n, size_t skip);

/* Drops n pending bytes; gives the memory back once nothing is pending
 * (small buffers to a per-thread pool, buf.c). */
void gt__buf_consume(gt__buf *b, size_t n);

/* Gives the buffer's memory back (to the per-thread pool or malloc). */
void gt__buf_free_mem(gt__buf *b);

/* An empty buffer -- the common case: a socket's buffers are mostly empty
 * when it ends -- is a test here, not a call that saves registers and
 * calls free(NULL): ~20 instructions of each of the 3-4 calls per
 * accepted connection (issue 11, acc11). */
static inline void gt__buf_free(gt__buf *b)
{
    if (b->m)
        gt__buf_free_mem(b);
}

/* A block of exactly `size` bytes' room for an empty b (socket/recv.c's
 * read_frames: one frame each), from this thread's spares of that size
 * when it has one, else as gt__buf_reserve.  0 or -ENOMEM. */
int gt__buf_reserve_block(gt__buf *b, size_t size);
/* Gives back a block of gt__buf_reserve_block(b, size): kept as a spare
 * of that size if b is empty (at most 16 a thread, of one size: a new size
 * frees the old ones), else as gt__buf_free. */
void gt__buf_free_block(gt__buf *b, size_t size);
/* Frees this thread's spare blocks (runtime/trim.c, when idle). */
void gt__buf_spares_trim(void);

/* Hands the buffer's memory (from malloc) to the caller, who frees it; the
 * buffer is left empty.  NULL if it holds none. */
void *gt__buf_steal(gt__buf *b);

/* Bytes moved, and allocations (malloc/realloc) made, by every buffer of
 * the process: the tests' witnesses of the costs above. */
uint64_t gt__buf_moved_total(void);
uint64_t gt__buf_allocs_total(void);
/* Bytes appended (copied in) by the calling thread's buffers: a test's
 * witness that a send went to the kernel without passing through a queue.
 * Per thread, so the hot path bumps no shared cache line. */
uint64_t gt__buf_appended_here(void);

#endif
