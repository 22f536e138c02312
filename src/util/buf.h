/*
 * buf.h -- a byte buffer with a read offset: bytes [off, len) of data are
 * pending.  Used for a socket's input (read, not yet delivered) and output
 * (accepted by send, not yet written).  An empty buffer owns no memory, so
 * an idle socket costs nothing here.
 */
#ifndef GT_BUF_H
#define GT_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

typedef struct gt__buf {
    uint8_t *data; /* owned; NULL when empty */
    size_t off, len, cap; /* (the bytes moved are counted per process, not
                             per buffer: every socket has two, issue 11) */
} gt__buf;

static inline size_t gt__buf_avail(const gt__buf *b) { return b->len - b->off; }
static inline uint8_t *gt__buf_head(const gt__buf *b) { return b->data ? b->data + b->off : NULL; }

/* Makes room for `more` bytes at data + len: compacting when at least as
 * many bytes were consumed as are pending, else growing (doubling).
 * Returns 0 or -ENOMEM. */
int gt__buf_reserve(gt__buf *b, size_t more);

/* Appends the bytes of iov[0..n) after skipping the first `skip`. */
int gt__buf_append_iov(gt__buf *b, const struct iovec *iov, int n, size_t skip);

/* Drops n pending bytes; gives the memory back once nothing is pending
 * (small buffers to a per-thread pool, buf.c). */
void gt__buf_consume(gt__buf *b, size_t n);

void gt__buf_free(gt__buf *b);

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
