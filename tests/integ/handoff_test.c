/*
 * handoff_test.c -- the classic acceptor hand-off (accept, spawn a worker,
 * gt_controlling_process) with the worker started beside the acceptor
 * ({.scheduler = gt_scheduler_id()}) keeps the socket's epoll registration
 * where it is: no EPOLL_CTL_ADD on another scheduler and DEL on the old one
 * (issue 11: a socket registered once, on the scheduler that owns it).  A
 * worker on another scheduler moves it, once (an ADD there; a DEL only if
 * the accept's add was already made).  epoll_ctl is wrapped here
 * (this program's definition comes first in symbol lookup) to count.
 */
#include <dlfcn.h>
#include <stdatomic.h>
#include <sys/epoll.h>

#include "h_uring.h" /* h_uring_expected; includes helpers.h */

static atomic_bool counting;
static atomic_int adds, dels;

int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
    static int (*real)(int, int, int, struct epoll_event *);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "epoll_ctl");
    if (atomic_load(&counting)) {
        if (op == EPOLL_CTL_ADD)
            atomic_fetch_add(&adds, 1);
        else if (op == EPOLL_CTL_DEL)
            atomic_fetch_add(&dels, 1);
    }
    return real(epfd, op, fd, ev);
}

enum { TAG_SOCK = 71 };

typedef struct job {
    gt_socket l;
    int worker_sched; /* 0: beside the acceptor */
    gt_pid main;
} job;

/* Receives the socket, reads what the peer sent, reports it. */
static void worker(void *arg)
{
    const job *j = arg;
    gt_msg *m = NULL;
    int tag = TAG_SOCK, ok = 0;
    gt_socket a = {0};
    if (gt_receive_match(h_match_tag, &tag, H_WAIT, &m) == 0) {
        memcpy(&a, m->data, sizeof a);
        gt_msg_free(m);
        gt_msg *d = NULL;
        ok = gt_recv(a, 2, H_WAIT, &d) == 0 && d->len == 2 && memcmp(d->data, "hi", 2) == 0;
        if (d)
            gt_msg_free(d);
        gt_close(a);
    }
    h_post_int(j->main, H_TAG_DONE, ok);
}

/* Accepts, starts the worker (pinned, so that no steal moves anything
 * meanwhile), hands it the socket while counting epoll_ctl calls. */
static void acceptor(void *arg)
{
    const job *j = arg;
    gt_socket a = {0};
    gt_spawn_opts o = {.scheduler = j->worker_sched ? j->worker_sched : gt_scheduler_id()};
    gt_pid w;
    if (gt_accept(j->l, H_WAIT, &a) != 0 || gt_spawn(worker, arg, &o, &w) != 0) {
        h_post_int(j->main, H_TAG_DONE, -1);
        return;
    }
    atomic_store(&adds, 0);
    atomic_store(&dels, 0);
    atomic_store(&counting, true);
    int rc = gt_controlling_process(a, w);
    atomic_store(&counting, false);
    h_post_int(j->main, H_TAG_DONE, rc == 0 ? 1 : -1);
    gt_post(w, TAG_SOCK, &a, sizeof a);
}

/* Runs one hand-off with the acceptor on scheduler 1; adds/dels say what
 * the hand-over cost. */
static void handoff(int worker_sched)
{
    gt_socket l = h_listen(GT_OPTS(GT_ACTIVE_FALSE));
    job j = {.l = l, .worker_sched = worker_sched, .main = gt_self()};
    gt_spawn_opts o = {.scheduler = 1};
    ASSERT_OK(gt_spawn(acceptor, &j, &o, NULL));
    int fd = h_raw_connect(h_port(l));
    ASSERT_EQ(h_wait_int(H_TAG_DONE, H_WAIT), 1); /* handed over */
    ASSERT_EQ(write(fd, "hi", 2), 2);
    ASSERT_EQ(h_wait_int(H_TAG_DONE, H_WAIT), 1); /* the worker read it */
    close(fd);
    gt_close(l);
}

GT_TEST(i11_handoff_beside_keeps_the_registration)
{
    handoff(0);
    ASSERT_EQ(atomic_load(&adds), 0);
    ASSERT_EQ(atomic_load(&dels), 0);
}

/* The counter sees a move: the registration follows a worker elsewhere.
 * No DEL when the accept's own add still waited in the end-of-pass batch
 * (the hand-over in the run that accepted, as here): the fd was in no set
 * yet, and the DEL could only say ENOENT (move15); with the batch off the
 * accept added it at once, and the move takes it out. */
GT_TEST(i11_handoff_elsewhere_moves_it_once)
{
    if (gt_schedulers() < 2)
        SKIP("one scheduler: no other to hand the socket to");
    handoff(2);
    ASSERT_EQ(atomic_load(&adds), 1);
    ASSERT_EQ(atomic_load(&dels), h_uring_expected() ? 0 : 1);
}
