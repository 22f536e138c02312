/*
 * uring.h -- one io_uring per scheduler thread, for batched sends (the
 * socket layer's end-of-pass batch) and batched reads (the scheduler's,
 * sched.c).  In util/: the scheduler (runtime/) uses it too.
 *
 * A system call costs ~1.1 us on the VMs gentcp is measured on (issue 11),
 * and every echo paid one for its write.  The sends of one scheduler pass
 * go to the kernel in one io_uring_enter instead (send.c: the socket's
 * queue is written at the end of the pass).  Raw system calls, no
 * liburing: ~150 lines against a dependency.
 *
 * Every send is MSG_DONTWAIT: the kernel runs it inside io_uring_enter
 * and posts its result before the call returns (a send that would block
 * ends with -EAGAIN rather than waiting in the ring), so the caller's
 * buffers need to live only for the call (gt__uring_submit waits for
 * every result anyway).  Used by its own thread only.
 */
#ifndef GT_UTIL_URING_H
#define GT_UTIL_URING_H

#include <stdbool.h>
#include <stddef.h>

#define GT__URING_BATCH 64 /* sends per io_uring_enter (the ring's size) */

typedef struct gt__uring gt__uring;

/* The calling thread's ring, set up at its first call; NULL when io_uring
 * is off (GT_IO_URING=0) or unavailable (io_uring_setup failed: ENOSYS,
 * EPERM, kernel.io_uring_disabled, a valgrind that lacks it), for good. */
gt__uring *gt__uring_thread(void);
/* Queues send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) as the n-th send
 * of the batch (0-based: n below GT__URING_BATCH).  buf is the caller's,
 * untouched after gt__uring_submit returns. */
void gt__uring_send(gt__uring *r, int n, int fd, const void *buf, size_t len);
/* Queues recv(fd, buf, len, MSG_DONTWAIT) as the n-th entry of the batch,
 * as gt__uring_send (the scheduler's batched reads, issue 11: one
 * io_uring_enter for the sockets one epoll_wait reported).  buf is the
 * caller's; the kernel writes it inside gt__uring_submit, which valgrind's
 * memcheck does not see (the caller keeps the reads off under it). */
void gt__uring_recv(gt__uring *r, int n, int fd, void *buf, size_t len);
/* Submits the n queued sends (or receives) with one io_uring_enter and waits for their
 * results: res[i] is the i-th send's (bytes or -errno).  A send the kernel
 * never took (io_uring_enter failed) gets GT__URING_NOT_RUN; the ring is
 * then given up for this thread (gt__uring_thread answers NULL). */
#define GT__URING_NOT_RUN (-0x7fffffff)
void gt__uring_submit(gt__uring *r, int n, int *res);
/* For tests: the io_uring_enter calls made by every thread, in total. */
unsigned long long gt__uring_enters_total(void);

#endif
