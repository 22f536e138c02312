/*
 * busy_test.c -- the busy output queue (docs/spec/semantics.md rules 32-34,
 * 43, 55; issue 7 items 1, 6, 7): which send waits, who waits behind it,
 * and what each waiting sender gets when the wait ends.  The expected
 * results were read from a real OTP 25 node with
 * tests/interop/busy_probe.escript (the case named in each comment).
 *
 * The peer is a raw socket that reads only when told; SNDBUF 16384 keeps the
 * kernel's share small, so what the peer does not read stays in gentcp's
 * queue.
 */
#include <sys/socket.h>

#include "helpers.h"

#define MB (1 << 20)
static char mb[MB];

/* Tags of the helper senders' results. */
enum { TAG_A = 0x4101, TAG_B, TAG_C, TAG_R };

typedef struct send_job {
    gt_socket s;
    gt_pid parent;
    size_t len; /* bytes of mb[] to send */
    int tag;
    bool fill; /* first fill the queue with 1 MB of its own */
} send_job;

/* Sends (after the fill) and reports the result.  The fill lets the tests
 * of waiting senders hold whatever a single big send does: with the fill
 * returning ok at once (item 1) the second send is the one that waits. */
static void sender(void *arg)
{
    send_job *j = arg;
    int rc = j->fill ? gt_send(j->s, mb, MB) : 0;
    if (rc == 0)
        rc = gt_send(j->s, mb, j->len);
    h_post_int(j->parent, j->tag, rc);
}

/* Starts a process sending len bytes on s; its result comes tagged. */
static void spawn_sender(send_job *j, gt_socket s, size_t len, int tag)
{
    *j = (send_job){.s = s, .parent = gt_self(), .len = len, .tag = tag};
    h_spawn(sender, j);
}

/* The same, after a 1 MB fill. */
static void spawn_filler(send_job *j, gt_socket s, size_t len, int tag)
{
    *j = (send_job){.s = s, .parent = gt_self(), .len = len, .tag = tag, .fill = true};
    h_spawn(sender, j);
}

/* The sender with this tag is still waiting (nothing within 300 ms). */
static void assert_waiting(int line, int tag)
{
    if (h_got_tag(tag, 300))
        gt_test_fail(__FILE__, line, "sender %#x returned; it should be waiting", tag);
}
#define ASSERT_WAITING(tag) assert_waiting(__LINE__, (tag))

/* Reads and discards exactly n bytes from fd. */
static void drain(int fd, size_t n)
{
    static char buf[65536];
    while (n) {
        size_t k = n < sizeof buf ? n : sizeof buf;
        h_raw_read_exact(fd, buf, k);
        n -= k;
    }
}

/* ---- item 1: a send onto an empty queue never waits ------------------- */

/* busy_probe big_first: 1 MB onto an empty queue -> ok at once, however far
 * over high_watermark it leaves the queue; the next send finds the queue
 * busy and times out; its data stays queued (rule 33). */
GT_TEST(i7_01_big_send_to_empty_queue_returns_ok)
{
    int fd;
    gt_socket s =
        h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_SNDBUF(16384), GT_SEND_TIMEOUT(200)), &fd);
    ASSERT_OK(gt_send(s, mb, MB));
    ASSERT_ERR(gt_send(s, "1", 1), GT_ETIMEOUT);
    ASSERT_ERR(gt_send(s, "2", 1), GT_ETIMEOUT);
    drain(fd, MB);
    ASSERT_RAW_READ(fd, "12", 2);
    close(fd);
}

/* busy_probe big_first_close: ok, timeout, then enotconn (rule 34). */
GT_TEST(i7_01_send_timeout_close_after_big_send)
{
    int fd;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_SNDBUF(16384),
                                            GT_SEND_TIMEOUT(200), GT_SEND_TIMEOUT_CLOSE(true)),
                                    &fd);
    ASSERT_OK(gt_send(s, mb, MB));
    ASSERT_ERR(gt_send(s, "1", 1), GT_ETIMEOUT);
    ASSERT_ERR(gt_send(s, "2", 1), -ENOTCONN);
    ASSERT_RECV_ERR(s, 0, 100, -ENOTCONN);
    close(fd);
}

/* send_timeout_close with linger {true, T}: the timed-out send answers at
 * once, as inet replies before its port closes; the close does not hold
 * the caller for the linger time (diff/20: [ok, timeout, enotconn]). */
GT_TEST(r34_send_timeout_close_does_not_wait_for_linger)
{
    int fd;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_SNDBUF(16384),
                                            GT_SEND_TIMEOUT(200), GT_SEND_TIMEOUT_CLOSE(true),
                                            GT_LINGER(true, 10)),
                                    &fd);
    ASSERT_OK(gt_send(s, mb, MB));
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ASSERT_ERR(gt_send(s, "1", 1), GT_ETIMEOUT);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ASSERT(t1.tv_sec - t0.tv_sec < 5); /* linger would hold it 10 s */
    ASSERT_ERR(gt_send(s, "2", 1), -ENOTCONN);
    close(fd);
}

/* busy_probe delay_send: delay_send changes nothing here. */
GT_TEST(i7_01_delay_send_big_send_returns_ok)
{
    int fd;
    gt_socket s = h_raw_peer_server(
        GT_OPTS(GT_ACTIVE_FALSE, GT_SNDBUF(16384), GT_SEND_TIMEOUT(200), GT_DELAY_SEND(true)),
        &fd);
    ASSERT_OK(gt_send(s, mb, MB));
    ASSERT_ERR(gt_send(s, "1", 1), GT_ETIMEOUT);
    drain(fd, MB);
    ASSERT_RAW_READ(fd, "1", 1);
    close(fd);
}

/* gt_send_many is one send: onto an empty queue it returns at once too. */
GT_TEST(i7_01_send_many_to_empty_queue_returns_ok)
{
    int fd;
    gt_socket s =
        h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_SNDBUF(16384), GT_SEND_TIMEOUT(200)), &fd);
    struct iovec p[16];
    for (int i = 0; i < 16; i++)
        p[i] = (struct iovec){mb + i * (MB / 16), MB / 16};
    int sent = -1;
    ASSERT_OK(gt_send_many(s, p, 16, &sent));
    ASSERT_EQ(sent, 16);
    ASSERT_ERR(gt_send_many(s, p, 1, &sent), GT_ETIMEOUT);
    ASSERT_EQ(sent, 1); /* queued: it still goes out */
    drain(fd, MB + MB / 16);
    close(fd);
}

/* busy_probe three: three processes send 1 MB each.  The first finds the
 * queue empty and returns; the second takes it over high_watermark and
 * waits; the third waits behind it.  Once the peer reads, both return ok
 * and every byte arrives. */
GT_TEST(i7_01_three_senders_first_returns_others_wait)
{
    int fd;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_SNDBUF(16384)), &fd);
    static send_job a, b, c;
    spawn_sender(&a, s, MB, TAG_A);
    ASSERT_OK(h_wait_int(TAG_A, H_WAIT));
    spawn_sender(&b, s, MB, TAG_B);
    ASSERT_WAITING(TAG_B);
    spawn_sender(&c, s, MB, TAG_C);
    ASSERT_WAITING(TAG_C);
    ASSERT_WAITING(TAG_B);
    drain(fd, 3 * MB);
    ASSERT_OK(h_wait_int(TAG_B, H_WAIT));
    ASSERT_OK(h_wait_int(TAG_C, H_WAIT));
    close(fd);
}

/* busy_probe three_timeout: send_timeout is counted for each waiting
 * sender from the moment it is the one holding the queue busy: the second
 * times out, then the third (suspended until then) queues its data and
 * times out in turn.  Both bytes stay queued. */
GT_TEST(i7_01_waiting_senders_time_out_one_after_the_other)
{
    int fd;
    gt_socket s =
        h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_SNDBUF(16384), GT_SEND_TIMEOUT(300)), &fd);
    ASSERT_OK(gt_send(s, mb, MB));
    static send_job b, c;
    spawn_sender(&b, s, 1, TAG_B);
    spawn_sender(&c, s, 1, TAG_C);
    ASSERT_ERR(h_wait_int(TAG_B, H_WAIT), GT_ETIMEOUT);
    ASSERT_ERR(h_wait_int(TAG_C, H_WAIT), GT_ETIMEOUT);
    drain(fd, MB + 2);
    close(fd);
}

/* busy_probe three_timeout_close: the waiting sender's timeout closes the
 * socket; the one suspended behind it gets enotconn.  (send_timeout is
 * longer than ASSERT_WAITING's look.) */
GT_TEST(i7_01_send_timeout_close_with_a_sender_behind)
{
    int fd;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_SNDBUF(16384),
                                            GT_SEND_TIMEOUT(1000), GT_SEND_TIMEOUT_CLOSE(true)),
                                    &fd);
    ASSERT_OK(gt_send(s, mb, MB));
    static send_job b, c;
    spawn_sender(&b, s, 1, TAG_B);
    ASSERT_WAITING(TAG_B);
    spawn_sender(&c, s, 1, TAG_C);
    ASSERT_ERR(h_wait_int(TAG_B, H_WAIT), GT_ETIMEOUT);
    ASSERT_ERR(h_wait_int(TAG_C, H_WAIT), -ENOTCONN);
    ASSERT_ERR(gt_send(s, "x", 1), -ENOTCONN);
    close(fd);
}

/* ---- item 7: every sender waits while the queue is busy ----------------- */

/* busy_probe second_waits: one sender waits for the queue to drain to
 * low_watermark; the peer reads until the queue is between the marks; a
 * second sender then waits too (the socket stays busy down to the low
 * mark), and both return ok once the queue drains. */
GT_TEST(i7_07_second_sender_waits_between_the_marks)
{
    /* the peer's receive buffer is small too, so the kernel holds at most
     * ~70 KB of the stream and the queue's size is known within that */
    int port = 0, lfd = h_raw_listen(&port);
    int small = 16384;
    ASSERT(setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small) == 0);
    gt_socket s = h_connect(port, GT_OPTS(GT_ACTIVE_FALSE, GT_SNDBUF(16384),
                                          GT_HIGH_WATERMARK(400000), GT_LOW_WATERMARK(200000)));
    int fd = h_raw_accept(lfd);
    close(lfd);
    static send_job a, b;
    spawn_filler(&a, s, 1, TAG_A);
    ASSERT_WAITING(TAG_A);
    /* leaves 300001 bytes in the kernel and the queue: 230-300 KB queued */
    drain(fd, MB - 300000);
    ASSERT_WAITING(TAG_A);
    spawn_sender(&b, s, 1, TAG_B);
    ASSERT_WAITING(TAG_B);
    drain(fd, 300002);
    ASSERT_OK(h_wait_int(TAG_A, H_WAIT));
    ASSERT_OK(h_wait_int(TAG_B, H_WAIT));
    close(fd);
}

/* New watermarks set while a sender waits are not checked at setopts: the
 * sender goes on waiting until the queue moves, then the new low mark
 * decides (live node: low_watermark raised above the queue -> still
 * waiting; the peer reads -> ok).  inet_set_opts only stores them. */
GT_TEST(r32_watermarks_changed_under_waiting_sender)
{
    int fd;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_SNDBUF(16384)), &fd);
    static send_job a;
    spawn_filler(&a, s, 1, TAG_A);
    ASSERT_WAITING(TAG_A);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_HIGH_WATERMARK(4 * MB), GT_LOW_WATERMARK(2 * MB))));
    ASSERT_WAITING(TAG_A);
    drain(fd, 300000); /* the queue moves: ~700 KB left, under the new low mark */
    ASSERT_OK(h_wait_int(TAG_A, H_WAIT));
    drain(fd, MB + 1 - 300000);
    close(fd);
}

/* ---- the end of input read under a busy send (inet's tcp_recv_closed) --- */

/* A passive socket whose recv reads the peer's FIN while a send waits on
 * the busy queue.  With exit_on_close=true, as inet: that send is answered
 * closed, the queue dropped, the next send enotconn (live node,
 * diff-cases r56_recv_close_busy_eoc: pending, closed, closed, enotconn). */
GT_TEST(r56_fin_read_under_busy_send_exit_on_close)
{
    int port = 0, lfd = h_raw_listen(&port);
    int small = 4096;
    ASSERT(setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small) == 0);
    gt_socket s = h_connect(port, GT_OPTS(GT_ACTIVE_FALSE, GT_SNDBUF(16384)));
    int fd = h_raw_accept(lfd);
    close(lfd);
    static send_job a;
    ASSERT_OK(gt_send(s, mb, MB));
    spawn_sender(&a, s, 1, TAG_A);
    ASSERT_WAITING(TAG_A);
    ASSERT_OK(shutdown(fd, SHUT_WR));
    ASSERT_RECV_ERR(s, 0, H_WAIT, GT_ECLOSED);
    ASSERT_ERR(h_wait_int(TAG_A, H_WAIT), GT_ECLOSED);
    ASSERT_ERR(gt_send(s, "x", 1), -ENOTCONN);
    ASSERT(h_raw_wait_eof(fd) < MB);
    close(fd);
}

/* The same with exit_on_close=false: inet drops the queue there too and
 * answers the busy send closed, yet the socket goes on sending, so the peer
 * gets a stream with a hole in it (diff-cases r56_recv_close_busy: the next
 * send ok).  gentcp keeps the queue: the busy send waits on and returns ok
 * once the peer takes its data, and the peer gets every byte, in order,
 * then what is sent after (DEVIATIONS row 26).  Active as passive
 * (r56_recv_close_busy_active). */
static void fin_under_busy_send_kept(bool active)
{
    int port = 0, lfd = h_raw_listen(&port);
    int small = 4096;
    ASSERT(setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small) == 0);
    gt_socket s = h_connect(port, GT_OPTS(GT_ACTIVE_FALSE, GT_EXIT_ON_CLOSE(false),
                                          GT_SNDBUF(16384)));
    int fd = h_raw_accept(lfd);
    close(lfd);
    static char half[MB / 2];
    memset(mb, 'a', MB);
    memset(half, 'b', sizeof half);
    static send_job a;
    ASSERT_OK(gt_send(s, mb, MB));
    spawn_sender(&a, s, 1, TAG_A); /* mb[0]: one more 'a' */
    ASSERT_WAITING(TAG_A);
    ASSERT_OK(shutdown(fd, SHUT_WR));
    if (active) {
        ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_ONCE)));
        EXPECT_MSG(s, GT_MSG_TCP_CLOSED);
    } else {
        ASSERT_RECV_ERR(s, 0, H_WAIT, GT_ECLOSED);
    }
    ASSERT_WAITING(TAG_A); /* not answered closed: its data is still queued */
    drain(fd, MB + 1);     /* every 'a', none dropped */
    ASSERT_OK(h_wait_int(TAG_A, H_WAIT));
    ASSERT_OK(gt_send(s, half, sizeof half));
    char buf[4096];
    for (size_t got = 0; got < sizeof half; got += sizeof buf) {
        h_raw_read_exact(fd, buf, sizeof buf);
        for (size_t i = 0; i < sizeof buf; i++)
            ASSERT(buf[i] == 'b');
    }
    ASSERT_OK(gt_close(s));
    ASSERT(h_raw_wait_eof(fd) == 0); /* then the FIN, nothing more */
    close(fd);
}

GT_TEST(dev26_fin_read_under_busy_send_keeps_the_queue)
{
    fin_under_busy_send_kept(false);
}

GT_TEST(dev26_fin_under_busy_send_keeps_the_queue_active)
{
    fin_under_busy_send_kept(true);
}

/* ---- item 6: the peer goes away under waiting senders (rule 55) --------- */

/* busy_probe peer_gone: the sender holding the queue busy gets closed (the
 * failing send, rule 55); the one suspended behind it, and the sends after,
 * enotconn. */
GT_TEST(i7_06_peer_reset_under_waiting_senders)
{
    int fd;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_SNDBUF(16384)), &fd);
    static send_job a, b;
    spawn_filler(&a, s, 1, TAG_A);
    ASSERT_WAITING(TAG_A);
    spawn_sender(&b, s, 1, TAG_B);
    ASSERT_WAITING(TAG_B);
    h_raw_rst(fd);
    ASSERT_ERR(h_wait_int(TAG_A, H_WAIT), GT_ECLOSED);
    ASSERT_ERR(h_wait_int(TAG_B, H_WAIT), -ENOTCONN);
    ASSERT_ERR(gt_send(s, "c", 1), -ENOTCONN);
    ASSERT_ERR(gt_send(s, "d", 1), -ENOTCONN);
}

/* busy_probe peer_gone_econnreset: with show_econnreset the waiting sender
 * gets econnreset. */
GT_TEST(i7_06_peer_reset_under_waiting_sender_show_econnreset)
{
    int fd;
    gt_socket s = h_raw_peer_server(
        GT_OPTS(GT_ACTIVE_FALSE, GT_SNDBUF(16384), GT_SHOW_ECONNRESET(true)), &fd);
    static send_job a;
    spawn_filler(&a, s, 1, TAG_A);
    ASSERT_WAITING(TAG_A);
    h_raw_rst(fd);
    ASSERT_ERR(h_wait_int(TAG_A, H_WAIT), -ECONNRESET);
    ASSERT_ERR(gt_send(s, "c", 1), -ENOTCONN);
}

static void reader(void *arg)
{
    send_job *j = arg;
    gt_msg *m = NULL;
    int rc = gt_recv(j->s, 0, GT_INFINITY, &m);
    gt_msg_free(m);
    h_post_int(j->parent, j->tag, rc);
}

/* busy_probe peer_gone_reader: a writer waits on the full queue, a reader
 * waits in recv; the peer goes away (closes with our data unread: RST).
 * Both get closed; later sends enotconn. */
GT_TEST(i7_06_peer_gone_under_writer_and_reader)
{
    int fd;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_SNDBUF(16384)), &fd);
    static send_job a, r;
    spawn_filler(&a, s, 1, TAG_A);
    r = (send_job){.s = s, .parent = gt_self(), .tag = TAG_R};
    h_spawn(reader, &r);
    ASSERT_WAITING(TAG_A);
    ASSERT_WAITING(TAG_R);
    close(fd);
    ASSERT_ERR(h_wait_int(TAG_A, H_WAIT), GT_ECLOSED);
    ASSERT_ERR(h_wait_int(TAG_R, H_WAIT), GT_ECLOSED);
    ASSERT_ERR(gt_send(s, "c", 1), -ENOTCONN);
}

/* ---- the socket closed under waiting senders (rule 43) ------------------- */

/* busy_probe close_other: close waits for the queue until it stalls for
 * 5 s, then the sender holding the queue busy gets closed and the one
 * suspended behind it einval (its port_command met a dead port). */
GT_TEST(i7_close_under_waiting_senders)
{
    int fd;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_SNDBUF(16384)), &fd);
    static send_job a, b;
    spawn_filler(&a, s, 1, TAG_A);
    ASSERT_WAITING(TAG_A);
    spawn_sender(&b, s, 1, TAG_B);
    ASSERT_WAITING(TAG_B);
    ASSERT_OK(gt_close(s)); /* ~5 s: the peer reads nothing */
    ASSERT_ERR(h_wait_int(TAG_A, H_WAIT), GT_ECLOSED);
    ASSERT_ERR(h_wait_int(TAG_B, H_WAIT), -EINVAL);
    ASSERT_ERR(gt_send(s, "c", 1), GT_ECLOSED);
    close(fd);
}

/* busy_probe close_other_abort: with linger {true,0} close is immediate.
 * Erlang never answers the sender holding the queue busy (it hangs in
 * prim_inet:send); gentcp answers closed (docs/DEVIATIONS.md).  The one
 * behind it gets einval, as in Erlang. */
GT_TEST(i7_dev_abortive_close_under_waiting_senders)
{
    int fd;
    gt_socket s =
        h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_SNDBUF(16384), GT_LINGER(true, 0)), &fd);
    static send_job a, b;
    spawn_filler(&a, s, 1, TAG_A);
    ASSERT_WAITING(TAG_A);
    spawn_sender(&b, s, 1, TAG_B);
    ASSERT_WAITING(TAG_B);
    ASSERT_OK(gt_close(s));
    ASSERT_ERR(h_wait_int(TAG_A, H_WAIT), GT_ECLOSED);
    ASSERT_ERR(h_wait_int(TAG_B, H_WAIT), -EINVAL);
    close(fd);
}

/* busy_probe owner_exit: the owner's exit closes the socket.  Erlang never
 * answers the sender holding the queue busy; gentcp answers closed
 * (docs/DEVIATIONS.md); the one behind it gets einval, as in Erlang. */
GT_TEST(i7_dev_owner_exit_under_waiting_senders)
{
    int fd;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_SNDBUF(16384)), &fd);
    gt_pid owner = h_spawn(h_holder_fn, NULL);
    ASSERT_OK(gt_controlling_process(s, owner));
    static send_job a, b;
    spawn_filler(&a, s, 1, TAG_A);
    ASSERT_WAITING(TAG_A);
    spawn_sender(&b, s, 1, TAG_B);
    ASSERT_WAITING(TAG_B);
    h_post_int(owner, H_TAG_GO, 0);
    ASSERT_ERR(h_wait_int(TAG_A, H_WAIT), GT_ECLOSED);
    ASSERT_ERR(h_wait_int(TAG_B, H_WAIT), -EINVAL);
    ASSERT_ERR(gt_send(s, "c", 1), GT_ECLOSED);
    close(fd);
}
