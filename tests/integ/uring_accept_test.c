/*
 * uring_accept_test.c -- accepts in the scheduler's io_uring_enter (issue
 * 11, accept; src/socket/socket.c listen_prep/listen_done, src/runtime/
 * sched.c read_batch, src/socket/connect.c gt_accept): a listen socket
 * reported readable while acceptors wait is accepted from inside the
 * batch's enter, the completion's IORING_CQE_F_SOCK_NONEMPTY keeps the
 * readable flag exact, and an accept that may wait makes no accept4 while
 * the flag is down.  What accepting means must not change: every
 * connection of a burst reaches an acceptor, none is left in the kernel's
 * queue.  Every test runs again with the batched reads (and so the ring's
 * accepts) off (GT_IO_URING_READS=0), see reads_off_runs_the_same_tests.
 */
#include <stdatomic.h>

#include "h_uring.h"
#include "socket/sock.h" /* gt__accept_counts */

#define NACC 4   /* acceptor processes, as gtcat listen keeps */
#define BURST 32 /* connections made back to back */
#define SERIAL 20

/* A backlog that holds the whole burst: every connect completes at once
 * (no SYN dropped and sent again, which would raise new edges). */
static gt_socket listen_inet(void)
{
    gt_socket l;
    ASSERT_OK(gt_listen(0, GT_OPTS(GT_IP("127.0.0.1"), GT_ACTIVE_FALSE, GT_BACKLOG(2 * BURST)), &l));
    return l;
}

struct burst {
    gt_socket l;
    atomic_int accepted, ready;
    gt_pid parent;
};

/* Accepts until the burst is all in, each call waiting at most 200 ms
 * (bounded: 3 s in all), then says so. */
static void burst_acceptor(void *arg)
{
    struct burst *b = arg;
    atomic_fetch_add(&b->ready, 1);
    int64_t end = h_now_ms() + 3000;
    while (atomic_load(&b->accepted) < BURST && h_now_ms() < end) {
        gt_socket a;
        if (gt_accept(b->l, 200, &a) == 0) {
            atomic_fetch_add(&b->accepted, 1);
            gt_close(a);
        }
    }
    h_post_int(b->parent, 1, 0);
}

/* BURST connects back to back with NACC acceptors waiting: each reaches
 * an acceptor.  An event's batch accepts one connection per acceptor at
 * most (and as many as the last event found), so the rest is found by
 * the flag the completions leave: a batch that lowered it while more
 * waited (IORING_CQE_F_SOCK_NONEMPTY ignored) strands them -- no new
 * connection raises a new edge (fails so in 3 runs of 4: 1-3 of 32 accepted). */
GT_TEST(burst_every_connection_reaches_an_acceptor)
{
    struct burst b = {.l = listen_inet(), .parent = gt_self()};
    unsigned long long ring0, eag0, ring1, eag1;
    gt__accept_counts(&ring0, &eag0);
    for (int i = 0; i < NACC; i++)
        h_spawn(burst_acceptor, &b);
    for (int i = 0; i < 200 && atomic_load(&b.ready) < NACC; i++)
        h_msleep(5);
    h_msleep(50); /* all waiting in gt_accept */
    int port = h_port(b.l), fds[BURST];
    for (int i = 0; i < BURST; i++)
        fds[i] = h_raw_connect(port);
    for (int i = 0; i < NACC; i++)
        ASSERT_EQ(h_wait_int(1, 6000), 0);
    ASSERT_EQ(atomic_load(&b.accepted), BURST);
    gt__accept_counts(&ring1, &eag1);
    if (h_uring_reads_expected())
        ASSERT(ring1 > ring0); /* the ring took part */
    else
        ASSERT_EQ(ring1, ring0);
    for (int i = 0; i < BURST; i++)
        close(fds[i]);
    gt_close(b.l);
}

struct serial {
    gt_socket l;
    gt_pid parent;
};

/* Accepts SERIAL connections one at a time, telling the parent after each. */
static void serial_acceptor(void *arg)
{
    struct serial *s = arg;
    for (int i = 0; i < SERIAL; i++) {
        gt_socket a;
        int rc = gt_accept(s->l, H_WAIT, &a);
        if (rc == 0)
            gt_close(a);
        h_post_int(s->parent, 2, rc);
        if (rc)
            return;
    }
}

/* Connections that come one at a time to a waiting acceptor: each is
 * accepted in the scheduler's enter, whose completion says none is left,
 * so the acceptor's next call waits for the next edge without an accept4
 * (fails with the ring's accepts off: no ring accepts, an accept4 that
 * says EAGAIN per connection).  The first call's accept4 is the only
 * one: the flag is up until something says otherwise. */
GT_TEST(one_at_a_time_accepted_in_the_ring_without_eagain)
{
    struct serial s = {.l = listen_inet(), .parent = gt_self()};
    unsigned long long ring0, eag0, ring1, eag1;
    gt__accept_counts(&ring0, &eag0);
    h_spawn(serial_acceptor, &s);
    h_msleep(20);
    int port = h_port(s.l);
    for (int i = 0; i < SERIAL; i++) {
        int fd = h_raw_connect(port);
        ASSERT_EQ(h_wait_int(2, H_WAIT), 0);
        close(fd);
    }
    gt__accept_counts(&ring1, &eag1);
    if (h_uring_reads_expected()) {
        ASSERT(ring1 - ring0 >= SERIAL - 1);
        ASSERT(eag1 - eag0 <= 2);
    } else {
        ASSERT_EQ(ring1, ring0);
    }
    gt_close(s.l);
}

/* An accept that may wait does not try accept4 while the flag is down:
 * the first timed accept finds the queue empty (EAGAIN, the flag goes
 * down) and times out; a second one then waits for the edge without an
 * accept4 (fails without: two EAGAINs), and a connection made meanwhile
 * still reaches it.  accept(L, 0) keeps its one try (accept_test
 * zero_timeout_accepts_queued). */
GT_TEST(waiting_accept_makes_no_accept4_with_the_flag_down)
{
    gt_socket l = listen_inet(), a;
    unsigned long long ring0, eag0, ring1, eag1;
    gt__accept_counts(&ring0, &eag0);
    ASSERT_ERR(gt_accept(l, 30, &a), GT_ETIMEOUT);
    ASSERT_ERR(gt_accept(l, 30, &a), GT_ETIMEOUT);
    gt__accept_counts(&ring1, &eag1);
    ASSERT_EQ(eag1 - eag0, 1);
    int fd = h_raw_connect(h_port(l));
    ASSERT_OK(gt_accept(l, H_WAIT, &a));
    h_raw_send(fd, "hi");
    ASSERT_RECV(a, 0, H_WAIT, "hi");
    close(fd);
    gt_close(a);
    gt_close(l);
}

GT_TEST(reads_off_runs_the_same_tests)
{
    static const char *const tests[] = {"burst_every_connection_reaches_an_acceptor",
                                        "one_at_a_time_accepted_in_the_ring_without_eagain",
                                        "waiting_accept_makes_no_accept4_with_the_flag_down",
                                        NULL};
    h_rerun_with_off("uring_accept_test", "GT_IO_URING_READS", tests);
}

