/*
 * poll_test.c -- how often an idle scheduler polls epoll for nothing
 * (issue 11, the stream workload: two epoll_wait per read where plain
 * epoll does one).  A scheduler that ran out of work polled without
 * waiting before its blocking wait; after a run that drained the socket
 * that poll is empty, and the blocking wait returns at once anyway if
 * events are pending.
 */
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
