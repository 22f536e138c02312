/*
 * io.c -- fd watchers: an fd in its home scheduler's epoll set and the
 * callback its events go to (see gt__io in internal.h).  The scheduler
 * loop knows watchers only; what is watched (a socket, later a user fd)
 * is the callback's business.
 *
 * A watcher is registered once, edge-triggered, for everything: one
 * epoll_ctl per life instead of one per wait, and the owner keeps its own
 * readiness flags, cleared when a system call says EAGAIN.
 */
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/sched.h"

/* The event handed to epoll_ctl lives in the thread, not on the caller's
 * stack: a new process's stack pages are fresh, and on this VM the
 * kernel's first read of a user page costs like a page fault (the copy
 * was 9% of the CPU of a burst of 10,000 connects; issue 11). */
static __thread struct epoll_event add_ev;

/* epoll_ctl system calls made here by this thread (tests count them:
 * uring_test); the thread's own, so no atomic in every add */
static __thread unsigned long long ctl_calls;

unsigned long long gt__io_ctl_calls_here(void) { return ctl_calls; }

static int ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
    ctl_calls++;
    return epoll_ctl(epfd, op, fd, ev);
}

static int add(gt__sched *s, gt__io *w, int fd)
{
    (void)gt__io_add_args(w, &add_ev);
    return ctl(s->epfd, EPOLL_CTL_ADD, fd, &add_ev) == 0 ? 0 : gt__errno();
}

/* On the home the registration ends on (a deferred call runs on the
 * scheduler it was deferred to). */
static void release_deferred(void *w)
{
    gt__sched_io_released(gt__tls_sched, w);
    ((gt__io *)w)->ops->release(w);
}

/* Ends the registration on `home`: events already fetched there may still
 * name w, so release runs there, between batches (out of memory for the
 * deferral: never released -- a small leak beats a use-after-free).
 *
 * A process running on home itself needs no deferral: home's loop handles
 * every event it fetched before it runs a process, so none can name w.
 * Only the caller may still hold w's lock (a socket closes under its own),
 * so release waits until the process switches out.  The deferral ended
 * the loop's batch at once and cost an empty epoll_wait, a malloc and two
 * lock round trips for each connection a server closes (issue 11, accept:
 * 0.9 empty polls per connection). */
static void end_registration(gt__io *w, gt__sched *home)
{
    if (gt__tls_sched == home && home->current && home->nended < GT__ENDED_LOCAL) {
        home->ended[home->nended++] = w;
        return;
    }
    (void)gt__sched_defer(home, release_deferred, w);
}

void gt__io_release_ended(gt__sched *s)
{
    for (int i = 0; i < s->nended; i++) {
        gt__sched_io_released(s, s->ended[i]);
        s->ended[i]->ops->release(s->ended[i]);
    }
    s->nended = 0;
}

int gt__io_start(gt__io *w, gt__sched *home, int fd, const gt__io_ops *ops)
{
    /* All set before the add: an event may reach the home at once. */
    w->fd = fd;
    w->home = home;
    w->ops = ops;
    int rc = add(home, w, fd);
    if (rc != 0)
        w->fd = -1;
    return rc;
}

bool gt__io_start_later(gt__io *w, gt__sched *home, int fd, const gt__io_ops *ops)
{
    if (gt__tls_sched != home || !home->current)
        return false;
    w->fd = fd;
    w->home = home;
    w->ops = ops;
    return true;
}

int gt__io_add_args(gt__io *w, struct epoll_event *ev)
{
    *ev = (struct epoll_event){.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = w};
    return w->home->epfd;
}

int gt__io_add_now(gt__io *w) { return add(w->home, w, w->fd); }

bool gt__io_move(gt__io *w, gt__proc *p, bool in_set)
{
    /* p may be moving to another scheduler meanwhile (steal.c): its home
     * is read under its plock, where the move writes it; a move after
     * this read re-homes p's sockets again (gt__resources_rehome). */
    gt__lock(&p->plock, GT__LK_PLOCK);
    gt__sched *to = p->sched, *from = w->home;
    gt__unlock(&p->plock);
    if (!to || to == from || w->fd < 0)
        return false;
    if (add(to, w, w->fd) != 0)
        return false;
    if (in_set)
        ctl(from->epfd, EPOLL_CTL_DEL, w->fd, NULL);
    w->home = to;
    end_registration(w, from);
    return true;
}

bool gt__io_homed_with(const gt__io *w, gt__proc *p)
{
    gt__lock(&p->plock, GT__LK_PLOCK);
    bool same = p->sched == w->home;
    gt__unlock(&p->plock);
    return same;
}

void gt__io_stop(gt__io *w)
{
    if (w->fd < 0)
        return;
    /* While the fd is open it stays in the set until removed: the close
     * that would remove it is its owner's, maybe much later. */
    ctl(w->home->epfd, EPOLL_CTL_DEL, w->fd, NULL);
    w->fd = -1;
    end_registration(w, w->home);
}

void gt__io_close(gt__io *w)
{
    if (w->fd < 0)
        return;
    /* also leaves the epoll set; without glibc's cancellation bracket
     * (GT_RAW_SYSCALLS, internal.h): ~30 instructions of every connection
     * a server closes (issue 11, acc11) */
#if GT_RAW_SYSCALLS
    syscall(SYS_close, w->fd);
#else
    close(w->fd);
#endif
    w->fd = -1;
    end_registration(w, w->home);
}

bool gt__io_close_later(gt__io *w)
{
    gt__sched *home = w->home;
    if (w->fd < 0 || gt__tls_sched != home || !home->current || home->nended >= GT__ENDED_LOCAL)
        return false;
    w->fd = -1;
    end_registration(w, home); /* after the process switches out */
    return true;
}

/* The scheduler loop's dispatch of one event (sched.c). */
void gt__io_event(gt__io *w, uint32_t events) { w->ops->event(w, events); }
