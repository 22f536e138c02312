/*
 * poll_test.c -- how often an idle scheduler polls epoll for nothing
 * (issue 11, the stream workload: two epoll_wait per read where plain
 * epoll does one).  A scheduler that ran out of work polled without
 * waiting before its blocking wait; after a run that drained the socket
 * that poll is empty, and the blocking wait returns at once anyway if
 * events are pending.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#include "helpers.h"
#include "runtime/runtime.h" /* gt__sched_empty_polls */

#define ROUNDS 40

/* One scheduler, spin off: each request reaches an idle scheduler whose
 * last run drained the socket.  It used to spend one empty poll per
 * request (ROUNDS here); now only a poll after a wait that ended at once. */
GT_TEST(i11_strm_no_empty_poll_before_a_wait)
{
    gt_config cfg = {.schedulers = 1, .spin_us = -1};
    ASSERT_OK(gt_init(&cfg));
    int fd;
    gt_socket a = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(4)), &fd);
    unsigned long long before = gt__sched_empty_polls();
    for (int i = 0; i < ROUNDS; i++) {
        usleep(1000); /* the scheduler goes idle: a conversation's gap */
        static const char req[] = {0, 0, 0, 2, 'h', 'i'};
        h_raw_write(fd, req, sizeof req);
        gt_msg *m = NULL;
        ASSERT_OK(gt_recv(a, 0, H_WAIT, &m));
        ASSERT_EQ(m->len, 2);
        ASSERT_OK(gt_send(a, m->data, m->len));
        gt_msg_free(m);
        char rep[6];
        h_raw_read_exact(fd, rep, sizeof rep);
        ASSERT(memcmp(rep, req, sizeof req) == 0);
    }
    unsigned long long empty = gt__sched_empty_polls() - before;
    if (empty >= ROUNDS / 4)
        printf("# empty polls: %llu for %d requests\n", empty, ROUNDS);
    ASSERT(empty < ROUNDS / 4);
    close(fd);
    gt_close(a);
}

/* Closing a socket used to defer the end of its epoll registration to the
 * next loop iteration, which also ended the scheduler's batch of runs: one
 * more loop pass and, with other processes ready, an epoll_wait that found
 * nothing, for each connection a server closed (issue 11, accept: 0.9
 * empty polls per connection).  A process closing a socket homed on its
 * own scheduler now lets the batch go on.  Here a closer yields after each
 * close beside a process that only yields: the batch ends every RUN_BATCH
 * runs (64), not at every close. */
static atomic_int closer_done;

static void closer_fn(void *arg)
{
    gt_pid parent = *(gt_pid *)arg;
    int failed = 0;
    for (int i = 0; i < ROUNDS; i++) {
        gt_socket l = {0};
        if (gt_listen(0, GT_OPTS(GT_IP("127.0.0.1")), &l) != 0 || gt_close(l) != 0)
            failed++;
        gt_yield();
    }
    atomic_store(&closer_done, 1);
    h_post_int(parent, H_TAG_DONE, failed);
}

static void yielder_fn(void *arg)
{
    (void)arg;
    for (long i = 0; i < 1000000 && !atomic_load(&closer_done); i++)
        gt_yield();
}

GT_TEST(i11_acc5_close_does_not_end_the_batch)
{
    gt_config cfg = {.schedulers = 1, .spin_us = -1};
    ASSERT_OK(gt_init(&cfg));
    atomic_store(&closer_done, 0);
    gt_pid self = gt_self();
    unsigned long long before = gt__sched_empty_polls();
    gt_pid y = h_spawn(yielder_fn, NULL);
    gt_pid c = h_spawn(closer_fn, &self);
    ASSERT_EQ(h_wait_int(H_TAG_DONE, H_WAIT), 0);
    h_wait_dead(c);
    h_wait_dead(y);
    unsigned long long empty = gt__sched_empty_polls() - before;
    if (empty >= ROUNDS / 4)
        printf("# empty polls: %llu for %d closes beside a ready process\n", empty, ROUNDS);
    ASSERT(empty < ROUNDS / 4);
}
