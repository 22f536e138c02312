/*
 * uring.h -- one io_uring per scheduler thread, for batched sends.
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
#ifndef GT_SOCKET_URING_H
#define GT_SOCKET_URING_H

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
/* Submits the n queued sends with one io_uring_enter and waits for their
 * results: res[i] is the i-th send's (bytes or -errno).  A send the kernel
 * never took (io_uring_enter failed) gets GT__URING_NOT_RUN; the ring is
 * then given up for this thread (gt__uring_thread answers NULL). */
/* Queues close(fd) as the n-th entry of the batch, beside the sends (one
 * slot numbering for both: n below GT__URING_BATCH).  A socket has no
 * flush method, so the kernel closes it inside io_uring_enter; the last
 * reference's release runs before the call returns to user space, as
 * close(2)'s does. */
void gt__uring_close(gt__uring *r, int n, int fd);
/* Queues epoll_ctl(epfd, EPOLL_CTL_ADD, fd, ev) as the n-th entry; *ev is
 * read inside io_uring_enter (the caller's until gt__uring_submit
 * returns).  A kernel without it answers -EINVAL. */
struct epoll_event;
void gt__uring_epoll_add(gt__uring *r, int n, int epfd, int fd, const struct epoll_event *ev);
#define GT__URING_NOT_RUN (-0x7fffffff)
void gt__uring_submit(gt__uring *r, int n, int *res);
/* For tests: the io_uring_enter calls made by every thread, in total. */
unsigned long long gt__uring_enters_total(void);

#endif
