/*
 * uring.h -- one io_uring per scheduler thread, for batched sends, closes
 * and epoll adds (the socket layer's end-of-pass batch) and batched reads
 * (the scheduler's, sched.c).  In util/: the scheduler (runtime/) uses it too.
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
 *
 * A pass's sends (send.c) are queued at its end and submitted with the
 * next poll's reads (sched.c): one io_uring_enter for both (issue 11,
 * rd12), or alone if the poll finds none.
 */
#ifndef GT_UTIL_URING_H
#define GT_UTIL_URING_H

#include <stdbool.h>
#include <stddef.h>

#define GT__URING_BATCH 64 /* sends of one batch; reads of one batch */
/* The ring's entries: a pass's sends wait in it for the next poll's reads
 * (sched.c), so that one io_uring_enter carries both. */
#define GT__URING_RING (2 * GT__URING_BATCH)

typedef struct gt__uring gt__uring;

/* The calling thread's ring, set up at its first call; NULL when io_uring
 * is off (GT_IO_URING=0) or unavailable (io_uring_setup failed: ENOSYS,
 * EPERM, kernel.io_uring_disabled, a valgrind that lacks it), for good. */
gt__uring *gt__uring_thread(void);
/* The entries queued since the last submit (0..GT__URING_RING). */
int gt__uring_queued(const gt__uring *r);
/* Queues send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) and answers its
 * index in the pending batch (its result's in gt__uring_submit's res);
 * the caller keeps within GT__URING_RING entries.  buf is the caller's,
 * untouched after the submit that carries the entry returns. */
int gt__uring_send(gt__uring *r, int fd, const void *buf, size_t len);
/* Queues recv(fd, buf, len, MSG_DONTWAIT), as gt__uring_send (the
 * scheduler's batched reads, issue 11: one io_uring_enter for the sockets
 * one epoll_wait reported).  buf is the caller's; the kernel writes it
 * inside gt__uring_submit, which valgrind's memcheck does not see (the
 * caller keeps the reads off under it). */
int gt__uring_recv(gt__uring *r, int fd, void *buf, size_t len);
/* Queues accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC) that never
 * waits (IORING_ACCEPT_DONTWAIT: -EAGAIN when none is queued; a kernel
 * before 6.10 answers -EINVAL): a listen socket's accept rides the poll's
 * enter (sched.c, issue 11 accept).  Its result is the new fd. */
int gt__uring_accept(gt__uring *r, int fd);
/* Whether entry k of the last submit came back with
 * IORING_CQE_F_SOCK_NONEMPTY: after an accept, that more connections wait
 * (Linux 6.10; a TCP listen socket's, unknown for other families). */
bool gt__uring_more(const gt__uring *r, int k);
/* Queues close(fd) (issue 11, accept: a finished connection's close rides
 * the pass's enter).  A socket has no flush method, so the kernel closes
 * it inside io_uring_enter: the last reference's release runs before the
 * call returns, as close(2)'s does. */
int gt__uring_close(gt__uring *r, int fd);
/* Queues epoll_ctl(epfd, EPOLL_CTL_ADD, fd, ev) (an accepted socket's
 * registration).  *ev is read inside the io_uring_enter that carries it:
 * the caller's until that submit returns.  A kernel without the opcode
 * answers -EINVAL. */
struct epoll_event;
int gt__uring_epoll_add(gt__uring *r, int epfd, int fd, const struct epoll_event *ev);
/* Takes back the last n entries queued, never submitted. */
void gt__uring_unqueue(gt__uring *r, int n);
/* The owner of the entries queued so far (the end-of-pass sends, send.c):
 * the submit that carries them calls fn(arg, res) once their results are
 * in, before it returns (res as gt__uring_submit's).  One at a time; the
 * submit clears it before the call. */
void gt__uring_on_submit(gt__uring *r, void (*fn)(void *arg, const int *res), void *arg);
/* Submits every queued entry with one io_uring_enter and waits for their
 * results: res[k] (room for GT__URING_RING) is entry k's (bytes or
 * -errno).  An entry the kernel never took (io_uring_enter failed) gets
 * GT__URING_NOT_RUN; the ring is then given up for this thread
 * (gt__uring_thread answers NULL).  Then the on_submit hook, if any. */
#define GT__URING_NOT_RUN (-0x7fffffff)
void gt__uring_submit(gt__uring *r, int *res);
/* The scheduler's: submits what this thread's ring holds, if anything
 * (a pass's sends that found no reads to ride with: before the thread
 * polls again, sleeps, or runs anything that may take a held lock). */
void gt__uring_flush(void);
/* For tests: the io_uring_enter calls made by every thread, in total. */
unsigned long long gt__uring_enters_total(void);

#endif
