/*
 * stop_test.c -- gt_stop(): main waits, up to a deadline, for the spawned
 * processes to end, and what its own sockets had queued still reaches the
 * peer (issue 10, item 5).
 */
#include "helpers.h"

#include <sys/wait.h>

/* the behaviour under test: a process busy for a while */
static void nap_fn(void *arg) { gt_sleep((int64_t)(intptr_t)arg); }

GT_TEST(stop_waits_for_processes)
{
    gt_pid kids[10];
    for (int i = 0; i < 10; i++)
        kids[i] = h_spawn(nap_fn, (void *)(intptr_t)(50 + 20 * i));
    ASSERT_OK(gt_stop(10 * H_WAIT));
    for (int i = 0; i < 10; i++)
        ASSERT(!gt_is_alive(kids[i]));
}

static void wait_go_fn(void *arg)
{
    (void)arg;
    gt_msg *m;
    int tag = H_TAG_GO;
    gt_receive_match(h_match_tag, &tag, 20 * H_WAIT, &m);
    gt_msg_free(m);
}

/* A process that does not end: the deadline passes, it keeps running, and
 * a second gt_stop after telling it to finish succeeds. */
GT_TEST(stop_deadline_then_again)
{
    gt_pid p = h_spawn(wait_go_fn, NULL);
    ASSERT_ERR(gt_stop(100), GT_ETIMEOUT);
    ASSERT(gt_is_alive(p));
    h_post_int(p, H_TAG_GO, 0);
    ASSERT_OK(gt_stop(10 * H_WAIT));
    ASSERT(!gt_is_alive(p));
}

static void stop_inside_fn(void *arg)
{
    gt_pid parent = *(gt_pid *)arg;
    h_post_int(parent, H_TAG_DONE, gt_stop(10));
}

GT_TEST(stop_from_a_spawned_process_is_badarg)
{
    gt_pid me = gt_self();
    h_spawn(stop_inside_fn, &me);
    ASSERT_ERR(h_wait_int(H_TAG_DONE, H_WAIT), GT_EBADARG);
}

/* A program whose main sends more than the kernel takes, calls gt_stop and
 * ends at once (_exit, as returning from main would): every byte must still
 * reach the peer, because gt_stop waited for the linger process that
 * drains the closed socket's queue.  The program is a forked child that
 * starts its own runtime; this process is its slow peer. */
GT_TEST(stop_drains_the_callers_queued_output)
{
    enum { BIG = 64 << 20 }; /* far more than the kernel buffers hold */
    int port = 0;
    int lfd = h_raw_listen(&port);
    int sent[2]; /* the child says "sent" on it */
    ASSERT_OK(pipe(sent));
    pid_t child = fork();
    if (child == 0) {
        close(lfd);
        close(sent[0]);
        char *buf = malloc(BIG);
        gt_socket s;
        if (!buf || gt_connect("127.0.0.1", port, GT_OPTS(GT_BINARY), H_WAIT, &s) != 0)
            _exit(2);
        memset(buf, 'z', BIG);
        if (gt_send(s, buf, BIG) != 0) /* mostly queued: the peer reads later */
            _exit(3);
        if (write(sent[1], "s", 1) != 1)
            _exit(4);
        _exit(gt_stop(10 * H_WAIT) == 0 ? 0 : 5);
    }
    close(sent[1]);
    int fd = h_raw_accept(lfd);
    close(lfd);
    char c;
    ASSERT_EQ(read(sent[0], &c, 1), 1);
    close(sent[0]);
    /* A gt_stop that did not wait would have ended the child by now, with
     * most of its queue; a right one waits for us whatever the timing.
     * The behaviour under test: the child is still there after 300 ms. */
    h_msleep(300);
    char buf[65536];
    size_t got = 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        got += (size_t)n;
    close(fd);
    int st = 0;
    ASSERT_EQ(waitpid(child, &st, 0), child);
    ASSERT(WIFEXITED(st));
    ASSERT_EQ(WEXITSTATUS(st), 0);
    ASSERT_EQ(got, BIG);
}
