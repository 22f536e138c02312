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
/* One request from the raw peer fd after gap_us, its echo by the owner of
 * a, checked. */
static void exchange(int fd, gt_socket a, useconds_t gap_us)
{
    usleep(gap_us);
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

GT_TEST(i11_strm_no_empty_poll_before_a_wait)
{
    gt_config cfg = {.schedulers = 1, .spin_us = -1};
    ASSERT_OK(gt_init(&cfg));
    int fd;
    gt_socket a = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(4)), &fd);
    unsigned long long before = gt__sched_empty_polls();
    for (int i = 0; i < ROUNDS; i++)
        exchange(fd, a, 1000); /* the scheduler goes idle: a conversation's gap */
    unsigned long long empty = gt__sched_empty_polls() - before;
    if (empty >= ROUNDS / 4)
        printf("# empty polls: %llu for %d requests\n", empty, ROUNDS);
    ASSERT(empty < ROUNDS / 4);
    close(fd);
    gt_close(a);
}

/* Closing a socket used to defer the end of its epoll registration to the
 * next loop iteration, which also ended the scheduler's batch of runs: one
 * more loop pass and, with a process still ready, an epoll_wait that found
 * nothing, for each connection a server closed (issue 11, accept: 0.9
 * empty polls per connection).  A process closing a socket homed on its
 * own scheduler now lets the batch go on.  Here a process yields after
 * each close, so it is always ready: the batch ends every RUN_BATCH runs
 * (64), not at every close.  It counts the empty polls itself, so that
 * nothing else the runtime does meanwhile adds to them. */
static void closer_fn(void *arg)
{
    gt_pid parent = *(gt_pid *)arg;
    int failed = 0;
    unsigned long long before = gt__sched_empty_polls();
    for (int i = 0; i < ROUNDS; i++) {
        gt_socket l = {0};
        if (gt_listen(0, GT_OPTS(GT_IP("127.0.0.1")), &l) != 0 || gt_close(l) != 0)
            failed++;
        gt_yield();
    }
    unsigned long long empty = gt__sched_empty_polls() - before;
    h_post_int(parent, H_TAG_DONE, failed ? -1 : (int)empty);
}

GT_TEST(i11_acc5_close_does_not_end_the_batch)
{
    gt_config cfg = {.schedulers = 1, .spin_us = -1};
    ASSERT_OK(gt_init(&cfg));
    gt_pid self = gt_self();
    gt_pid c = h_spawn(closer_fn, &self);
    int empty = h_wait_int(H_TAG_DONE, H_WAIT);
    h_wait_dead(c);
    ASSERT(empty >= 0); /* every listen and close worked */
    if (empty >= ROUNDS / 4)
        fprintf(stderr, "# empty polls: %d for %d closes by a ready process\n", empty, ROUNDS);
    ASSERT(empty < ROUNDS / 4);
}

/* With GT_SPIN_YIELD=1, a spin yields its CPU before each of its polls
 * while the machine has no CPU to spare (spin.h, "Yield"): a peer queued behind the spinning
 * scheduler on its CPU runs now instead of after the spin (rr13: one
 * request per wake-up on a loaded box); with a CPU to spare it does not.
 * One scheduler, a spin long enough that a conversation's short gaps keep
 * it spinning; the client waits a little before each request, so that
 * the scheduler goes idle and spins.  Counts the yields: 0 without them,
 * and 0 with a CPU to spare (second run). */
static bool spare_no(void) { return false; }
static bool spare_yes(void) { return true; }

static unsigned long long spin_yields_of_a_conversation(void)
{
    int fd;
    gt_socket a = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(4)), &fd);
    /* one exchange first: a spin that asked the hook before the caller
     * changed it has ended (it yielded once after the change: 1 in 4) */
    exchange(fd, a, 100); /* within the spin: it spins meanwhile */
    unsigned long long before = gt__sched_spin_yields();
    for (int i = 0; i < ROUNDS; i++)
        exchange(fd, a, 100);
    unsigned long long yields = gt__sched_spin_yields() - before;
    close(fd);
    gt_close(a);
    return yields;
}

GT_TEST(i13_rr13_spin_yields_between_polls)
{
    setenv("GT_SPIN_YIELD", "1", 1); /* (read when the runtime starts) */
    gt_config cfg = {.schedulers = 1, .spin_us = 5000};
    ASSERT_OK(gt_init(&cfg));
    atomic_store(&gt__cpu_spare_hook, spare_no);
    unsigned long long yields = spin_yields_of_a_conversation();
    /* (at least one: the first yield is always made; on a busy box the
     * later ones may not pay and stop for a while) */
    printf("# spin yields with no CPU to spare: %llu for %d requests\n", yields, ROUNDS);
    ASSERT(yields >= 1);
    atomic_store(&gt__cpu_spare_hook, spare_yes);
    yields = spin_yields_of_a_conversation();
    atomic_store(&gt__cpu_spare_hook, NULL);
    /* none, or the one of a spin under way when the hook changed (seen
     * 1 in ~20 runs on a busy box) */
    printf("# spin yields with a CPU to spare: %llu\n", yields);
    ASSERT(yields <= 1);
}

/* Without GT_SPIN_YIELD, a spin never yields (spin.h, "Yield": off by
 * default), even with no CPU to spare. */
GT_TEST(i13_rr13_spin_yields_off_by_default)
{
    unsetenv("GT_SPIN_YIELD");
    gt_config cfg = {.schedulers = 1, .spin_us = 5000};
    ASSERT_OK(gt_init(&cfg));
    atomic_store(&gt__cpu_spare_hook, spare_no);
    unsigned long long yields = spin_yields_of_a_conversation();
    atomic_store(&gt__cpu_spare_hook, NULL);
    ASSERT_EQ(yields, 0);
}
