/*
 * close_test.c -- docs/spec/semantics.md §5: close, shutdown, peer close, resets,
 * exit_on_close (rules 41-57 without queued-output subtleties), [inet].
 * S = socket under test (accepted), P = peer (connecting end).  A reset is
 * made as in §11: P sets {linger,{true,0}} and closes.
 */
#include "helpers.h"
#include "h_probe.h"

static void rst(gt_socket p)
{
    ASSERT_OK(gt_setopts(p, GT_OPTS(GT_LINGER(1, 0))));
    ASSERT_OK(gt_close(p));
}

struct recv_job {
    gt_pid parent;
    gt_socket sock;
};

/* Posts GO, does recv(S,0,H_WAIT), posts the result. */
static void recv_job_fn(void *arg)
{
    struct recv_job *j = arg;
    h_post_int(j->parent, H_TAG_GO, 0);
    gt_msg *m = NULL;
    int rc = gt_recv(j->sock, 0, H_WAIT, &m);
    if (rc == 0)
        gt_msg_free(m);
    h_post_int(j->parent, H_TAG_DONE, rc);
}

/* r41: close returns ok, also when the socket is already closed. */
GT_TEST(r41_close_twice_ok)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    ASSERT_OK(gt_close(s));
    ASSERT_OK(gt_close(s));
    gt_socket l = h_listen(GT_NOOPTS);
    ASSERT_OK(gt_close(l));
    ASSERT_OK(gt_close(l));
}

/* r41: close of a socket the driver already closed (after EOF) is ok. */
GT_TEST(r41_close_after_peer_close_ok)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    gt_close(p);
    ASSERT_RECV_ERR(s, 0, H_WAIT, GT_ECLOSED);
    ASSERT_OK(gt_close(s));
    ASSERT_OK(gt_close(s));
}

/* r42: own close sends no tcp_closed; tcp messages already queued stay. */
GT_TEST(r42_own_close_no_message_data_kept)
{
    gt_socket p, s;
    h_pair(GT_OPTS(GT_ACTIVE_TRUE), GT_OPTS(GT_ACTIVE_FALSE), NULL, &p, &s);
    h_send(p, "m");
    h_wait_mbox(1);
    ASSERT_OK(gt_close(s));
    EXPECT_TCP(s, "m");
    EXPECT_NO_MSG(s, 100);
}

/* i7 item 4 (rule 42, E): close removes one {tcp_closed,S} already in the
 * caller's mailbox; the tcp messages and other messages stay.  Also for a
 * socket the driver already closed (exit_on_close=true).  (E: [x,
 * tcp_closed, user] -> [x, user], both exit_on_close values.) */
static void close_drops_tcp_closed(bool exit_on_close)
{
    gt_socket p, s;
    h_pair(GT_OPTS(GT_EXIT_ON_CLOSE(exit_on_close)), GT_OPTS(GT_ACTIVE_FALSE), NULL, &p, &s);
    h_send(p, "x");
    ASSERT_OK(gt_close(p));
    h_wait_mbox(2); /* x, tcp_closed */
    ASSERT_OK(gt_post(gt_self(), 7, NULL, 0));
    ASSERT_OK(gt_close(s));
    EXPECT_TCP(s, "x");
    EXPECT_NO_MSG(s, 50);
    int tag = 7;
    ASSERT(h_got_tag(tag, 0));
}

GT_TEST(i7_04_close_drops_one_tcp_closed)
{
    close_drops_tcp_closed(false);
}

GT_TEST(i7_04_close_drops_tcp_closed_of_finished_socket)
{
    close_drops_tcp_closed(true);
}

/* i7 item 4: the message is removed from the caller's mailbox only: a
 * non-owner closing S leaves the owner's tcp_closed in place. */
struct closer {
    gt_pid parent;
    gt_socket s;
};

static void closer_fn(void *arg)
{
    struct closer *c = arg;
    ASSERT_OK(gt_close(c->s));
    h_post_int(c->parent, H_TAG_DONE, 0);
}

GT_TEST(i7_04_close_by_non_owner_leaves_owner_message)
{
    gt_socket p, s;
    h_pair(GT_OPTS(GT_EXIT_ON_CLOSE(false)), GT_OPTS(GT_ACTIVE_FALSE), NULL, &p, &s);
    ASSERT_OK(gt_close(p));
    h_wait_mbox(1); /* tcp_closed */
    struct closer c = {gt_self(), s};
    h_spawn(closer_fn, &c);
    h_wait_int(H_TAG_DONE, H_WAIT);
    EXPECT_MSG(s, GT_MSG_TCP_CLOSED);
}

/* r44: ops after own close: send/recv/shutdown/controlling_process ->
 * closed; setopts/getopts/sockname/peername/port -> einval [inet]. */
GT_TEST(r44_ops_after_own_close)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    ASSERT_OK(gt_close(s));
    ASSERT_ERR(gt_send(s, "x", 1), GT_ECLOSED);
    ASSERT_RECV_ERR(s, 0, 100, GT_ECLOSED);
    ASSERT_ERR(gt_shutdown(s, GT_SHUT_WRITE), GT_ECLOSED);
    ASSERT_ERR(gt_shutdown(s, GT_SHUT_READ), GT_ECLOSED);
    ASSERT_ERR(gt_controlling_process(s, gt_self()), GT_ECLOSED);
    ASSERT_ERR(gt_setopts(s, GT_OPTS(GT_ACTIVE_TRUE)), -EINVAL);
    gt_opt o = {.name = GT_OPT_ACTIVE};
    ASSERT_ERR(gt_getopts(s, &o, 1), -EINVAL);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    ASSERT_ERR(gt_sockname(s, &ss, &sl), -EINVAL);
    sl = sizeof ss;
    ASSERT_ERR(gt_peername(s, &ss, &sl), -EINVAL);
    int port = 0;
    ASSERT_ERR(gt_port(s, &port), -EINVAL);
    ASSERT_EQ(gt_owner(s).id, 0);
    ASSERT_OK(gt_close(s));
}

/* r44/r67: ops on a closed listen socket. */
GT_TEST(r44_ops_after_own_close_listen)
{
    gt_socket l = h_listen(GT_NOOPTS);
    ASSERT_OK(gt_close(l));
    gt_socket a;
    ASSERT_ERR(gt_accept(l, 100, &a), GT_ECLOSED);
    ASSERT_RECV_ERR(l, 0, 100, GT_ECLOSED);
    int port = 0;
    ASSERT_ERR(gt_port(l, &port), -EINVAL);
    gt_opt o = {.name = GT_OPT_ACTIVE};
    ASSERT_ERR(gt_getopts(l, &o, 1), -EINVAL);
}

/* r45: a recv pending in another process gets closed when the owner closes S. */
GT_TEST(r45_pending_recv_closed_by_close)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    struct recv_job j = {gt_self(), s};
    h_spawn(recv_job_fn, &j);
    h_wait_int(H_TAG_GO, H_WAIT);
    H_WAIT_UNTIL(h_sock_recv_pending(s));
    ASSERT_OK(gt_close(s));
    ASSERT_ERR(h_wait_int(H_TAG_DONE, H_WAIT), GT_ECLOSED);
}

/* r45/r63: ... and when the owner dies (owner death closes S; P sees closed). */
GT_TEST(r45_pending_recv_closed_by_owner_death)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    gt_pid owner = h_spawn(h_holder_fn, NULL);
    ASSERT_OK(gt_controlling_process(s, owner));
    struct recv_job j = {gt_self(), s};
    h_spawn(recv_job_fn, &j);
    h_wait_int(H_TAG_GO, H_WAIT);
    H_WAIT_UNTIL(h_sock_recv_pending(s));
    h_post_int(owner, H_TAG_GO, 0);
    ASSERT_ERR(h_wait_int(H_TAG_DONE, H_WAIT), GT_ECLOSED);
    ASSERT_RECV_ERR(p, 0, H_WAIT, GT_ECLOSED);
}

/* r46: peer FIN, active, exit_on_close=true: data, tcp_closed; afterwards
 * send and recv -> closed. */
GT_TEST(r46_peer_fin_active)
{
    gt_socket p, s;
    h_pair(GT_NOOPTS, GT_OPTS(GT_ACTIVE_FALSE), NULL, &p, &s);
    h_send(p, "hello");
    ASSERT_OK(gt_close(p));
    h_active_all(s, "hello");
    EXPECT_MSG(s, GT_MSG_TCP_CLOSED);
    ASSERT_ERR(gt_send(s, "x", 1), GT_ECLOSED);
    ASSERT_RECV_ERR(s, 0, 100, GT_ECLOSED);
    EXPECT_NO_MSG(s, 50);
}

/* r47: exit_on_close=false, active: tcp_closed; send still ok and the peer
 * gets it; recv while active -> einval; passive recv -> closed every time;
 * re-activating sends no second tcp_closed. */
GT_TEST(r47_exit_on_close_false_active)
{
    int fd;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_EXIT_ON_CLOSE(false)), &fd);
    h_raw_send(fd, "hi");
    ASSERT(shutdown(fd, SHUT_WR) == 0); /* FIN, but keep reading */
    h_active_all(s, "hi");
    EXPECT_MSG(s, GT_MSG_TCP_CLOSED);
    ASSERT_OK(gt_send(s, "back", 4));
    ASSERT_RAW_READ(fd, "back", 4);
    ASSERT_RECV_ERR(s, 0, 100, -EINVAL);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_FALSE)));
    ASSERT_RECV_ERR(s, 0, H_WAIT, GT_ECLOSED);
    ASSERT_RECV_ERR(s, 0, H_WAIT, GT_ECLOSED);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_TRUE)));
    EXPECT_NO_MSG(s, 100);
    ASSERT_OK(gt_send(s, "more", 4));
    ASSERT_RAW_READ(fd, "more", 4);
    close(fd);
}

/* r48: exit_on_close=false, passive: data, then closed on every later recv;
 * send keeps working; activation -> exactly one tcp_closed. */
GT_TEST(r48_exit_on_close_false_passive)
{
    int fd;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_EXIT_ON_CLOSE(false)), &fd);
    h_raw_send(fd, "hi");
    ASSERT(shutdown(fd, SHUT_WR) == 0);
    h_wait_peer_end(s);
    ASSERT_RECV(s, 0, H_WAIT, "hi");
    ASSERT_RECV_ERR(s, 0, H_WAIT, GT_ECLOSED);
    ASSERT_RECV_ERR(s, 0, H_WAIT, GT_ECLOSED);
    ASSERT_RECV_ERR(s, 0, 0, GT_ECLOSED);
    ASSERT_OK(gt_send(s, "x", 1));
    ASSERT_RAW_READ(fd, "x", 1);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_ONCE)));
    EXPECT_MSG(s, GT_MSG_TCP_CLOSED);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_ONCE)));
    EXPECT_NO_MSG(s, 100);
    close(fd);
}

/* r49: shutdown(write): the peer reads the data then closed; S can still
 * receive what P sends when P has exit_on_close=false. */
GT_TEST(r49_half_close_request_reply)
{
    gt_socket p, s;
    h_pair(GT_OPTS(GT_ACTIVE_FALSE), GT_OPTS(GT_ACTIVE_FALSE, GT_EXIT_ON_CLOSE(false)), NULL, &p,
           &s);
    h_send(s, "req");
    ASSERT_OK(gt_shutdown(s, GT_SHUT_WRITE));
    ASSERT_RECV(p, 0, H_WAIT, "req");
    ASSERT_RECV_ERR(p, 0, H_WAIT, GT_ECLOSED);
    ASSERT_OK(gt_send(p, "rep", 3));
    ASSERT_RECV(s, 0, H_WAIT, "rep");
    ASSERT_OK(gt_close(p));
    ASSERT_RECV_ERR(s, 0, H_WAIT, GT_ECLOSED);
}

/* r49: with the default exit_on_close=true the peer closes its whole socket on
 * EOF, so its reply fails and S sees closed. */
GT_TEST(r49_half_close_default_peer_closes)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    h_send(s, "req");
    ASSERT_OK(gt_shutdown(s, GT_SHUT_WRITE));
    ASSERT_RECV(p, 0, H_WAIT, "req");
    ASSERT_RECV_ERR(p, 0, H_WAIT, GT_ECLOSED);
    ASSERT_ERR(gt_send(p, "rep", 3), GT_ECLOSED);
    ASSERT_RECV_ERR(s, 0, H_WAIT, GT_ECLOSED);
}

/* r49: raw peer sees the data, then EOF; the socket still reads. */
GT_TEST(r49_shutdown_write_raw_peer)
{
    int fd;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE), &fd);
    h_send(s, "abc");
    ASSERT_OK(gt_shutdown(s, GT_SHUT_WRITE));
    ASSERT_RAW_READ(fd, "abc", 3);
    ASSERT_EQ(h_raw_wait_eof(fd), 0);
    h_raw_send(fd, "reply");
    ASSERT_RECV(s, 5, H_WAIT, "reply");
    close(fd);
}

/* r51: send after own shutdown(write) -> closed, then enotconn, and a second
 * shutdown -> enotconn, as [inet] (E: [send closed, send enotconn, shutdown
 * enotconn]).  [inet] also closes the whole socket there, losing what the
 * peer still sends; gentcp keeps reading (docs/DEVIATIONS.md #3). */
GT_TEST(r51_send_after_shutdown_write)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    ASSERT_OK(gt_shutdown(s, GT_SHUT_WRITE));
    ASSERT_ERR(gt_send(s, "x", 1), GT_ECLOSED);
    ASSERT_ERR(gt_send(s, "x", 1), -ENOTCONN);
    ASSERT_ERR(gt_shutdown(s, GT_SHUT_WRITE), -ENOTCONN);
    ASSERT_RECV_ERR(p, 0, H_WAIT, GT_ECLOSED); /* the peer saw our FIN */
}

/* DEVIATIONS.md #3: after the failed send, what the peer sends is still
 * delivered, then closed. */
GT_TEST(r51_dev_read_side_stays_open)
{
    gt_socket p, s;
    h_pair(GT_OPTS(GT_ACTIVE_FALSE), GT_OPTS(GT_ACTIVE_FALSE, GT_EXIT_ON_CLOSE(false)), NULL, &p,
           &s);
    ASSERT_OK(gt_shutdown(s, GT_SHUT_WRITE));
    ASSERT_ERR(gt_send(s, "x", 1), GT_ECLOSED);
    ASSERT_RECV_ERR(p, 0, H_WAIT, GT_ECLOSED);
    ASSERT_OK(gt_send(p, "reply", 5));
    ASSERT_OK(gt_close(p));
    ASSERT_RECV(s, 0, H_WAIT, "reply");
    ASSERT_RECV_ERR(s, 0, H_WAIT, GT_ECLOSED);
}

/* r51 with show_econnreset: inet takes the EPIPE of a send after our own
 * shutdown(write) for a reset (tcp_send_error), so the send is econnreset
 * (live node, diff h5: [econnreset, enotconn], shutdown enotconn). */
GT_TEST(r51_send_after_shutdown_write_show_econnreset)
{
    gt_socket p, s;
    h_pair(GT_OPTS(GT_ACTIVE_FALSE, GT_SHOW_ECONNRESET(true)), GT_OPTS(GT_ACTIVE_FALSE), NULL,
           &p, &s);
    ASSERT_OK(gt_shutdown(s, GT_SHUT_WRITE));
    ASSERT_ERR(gt_send(s, "x", 1), -ECONNRESET);
    ASSERT_ERR(gt_send(s, "x", 1), -ENOTCONN);
    ASSERT_ERR(gt_shutdown(s, GT_SHUT_WRITE), -ENOTCONN);
}

/* r51, active, exit_on_close=false: the failed send closes the socket in
 * inet, so a recv is enotconn, not the einval of an active socket (diff/4:
 * [tcp reply, tcp_closed], send closed, recv enotconn, send closed). */
GT_TEST(r51_active_send_after_shutdown_recv_enotconn)
{
    gt_socket p, s;
    h_pair(GT_OPTS(GT_ACTIVE_TRUE, GT_EXIT_ON_CLOSE(false)),
           GT_OPTS(GT_ACTIVE_FALSE, GT_EXIT_ON_CLOSE(false)), NULL, &p, &s);
    ASSERT_OK(gt_shutdown(s, GT_SHUT_WRITE));
    ASSERT_RECV_ERR(p, 0, H_WAIT, GT_ECLOSED);
    h_send(p, "reply");
    ASSERT_OK(gt_close(p));
    EXPECT_TCP(s, "reply");
    EXPECT_MSG(s, GT_MSG_TCP_CLOSED);
    ASSERT_ERR(gt_send(s, "x", 1), GT_ECLOSED);
    ASSERT_RECV_ERR(s, 0, 100, -ENOTCONN);
    ASSERT_ERR(gt_send(s, "y", 1), GT_ECLOSED);
    ASSERT_ERR(gt_send(s, "y", 1), -ENOTCONN);
}

/* r50: a send while shutdown(write) waits for the queue is closed, and the
 * socket closes as inet's does (tcp_shutdown_error): an active socket gets
 * tcp_closed at once, the queue is dropped, the peer sees the end of what
 * the kernel held (live node, diff h3b: closed, [tcp_closed], enotconn,
 * recv enotconn, peer eof short of the 3 MB). */
GT_TEST(r50_send_while_shutdown_pending_closes)
{
    static char big[3 << 20];
    int port = 0, lfd = h_raw_listen(&port);
    int small = 4096;
    ASSERT(setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small) == 0);
    gt_socket s = h_connect(port, GT_OPTS(GT_ACTIVE_TRUE, GT_EXIT_ON_CLOSE(false),
                                          GT_SNDBUF(16384)));
    int fd = h_raw_accept(lfd);
    close(lfd);
    ASSERT_OK(gt_send(s, big, sizeof big));
    ASSERT_OK(gt_shutdown(s, GT_SHUT_WRITE));
    ASSERT_ERR(gt_send(s, "x", 1), GT_ECLOSED);
    EXPECT_MSG(s, GT_MSG_TCP_CLOSED);
    ASSERT_ERR(gt_send(s, "y", 1), -ENOTCONN);
    ASSERT_RECV_ERR(s, 0, 100, -ENOTCONN);
    long got = h_raw_wait_eof(fd);
    ASSERT(got >= 0 && got < (long)sizeof big);
    close(fd);
}

/* r56 after r51: with delay_send the send after our shutdown(write) is
 * queued (ok) and fails in the background; the next send reports it
 * (live node, diff n2/b2: [ok, closed, enotconn]; DELAYED_CLOSE_SEND). */
GT_TEST(r56_delay_send_after_shutdown_write)
{
    gt_socket p, s;
    h_pair(GT_OPTS(GT_ACTIVE_FALSE, GT_DELAY_SEND(true)), GT_OPTS(GT_ACTIVE_FALSE), NULL, &p, &s);
    ASSERT_OK(gt_shutdown(s, GT_SHUT_WRITE));
    ASSERT_OK(gt_send(s, "x", 1));
    H_WAIT_UNTIL(!h_sock_flush_queued(s)); /* x's flush failed on its own */
    ASSERT_ERR(gt_send(s, "y", 1), GT_ECLOSED);
    ASSERT_ERR(gt_send(s, "z", 1), -ENOTCONN);
    ASSERT_RECV_ERR(p, 0, H_WAIT, GT_ECLOSED); /* nothing of x, y or z */
}

/* r57, exit_on_close=true: a failed send on an active socket ends it as
 * inet's driver_exit does: what was readable, tcp_error (shown reset),
 * tcp_closed, then every call is closed (live node, diff d1: econnreset,
 * [tcp hi, tcp_error econnreset, tcp_closed], send closed, recv closed). */
GT_TEST(r57_active_exit_on_close_failed_send_ends_socket)
{
    gt_socket p, s;
    h_pair(GT_OPTS(GT_ACTIVE_TRUE, GT_EXIT_ON_CLOSE(true), GT_SHOW_ECONNRESET(true)),
           GT_OPTS(GT_ACTIVE_FALSE), NULL, &p, &s);
    ASSERT_OK(gt_shutdown(s, GT_SHUT_WRITE));
    h_send(p, "hi");
    EXPECT_TCP(s, "hi");
    ASSERT_ERR(gt_send(s, "x", 1), -ECONNRESET);
    EXPECT_TCP_ERROR(s, -ECONNRESET);
    EXPECT_MSG(s, GT_MSG_TCP_CLOSED);
    ASSERT_ERR(gt_send(s, "y", 1), GT_ECLOSED);
    ASSERT_RECV_ERR(s, 0, 100, GT_ECLOSED);
    ASSERT_RECV_ERR(p, 0, H_WAIT, GT_ECLOSED);
}

/* r39/r43: delay_send output is flushed before an abortive close drops the
 * queue, as inet's zero timer has run by the time the close reaches the
 * port (diff/22: send x, send y, close with linger {true,0}: the peer reads
 * "xy", then the reset). */
GT_TEST(r39_delay_send_flushed_before_abortive_close)
{
    int fd;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_DELAY_SEND(true), GT_LINGER(true, 0)),
                                    &fd);
    ASSERT_OK(gt_send(s, "x", 1));
    ASSERT_OK(gt_send(s, "y", 1));
    ASSERT_OK(gt_close(s));
    ASSERT_RAW_READ(fd, "xy", 2);
    close(fd);
}

/* r56 with delay_send: the queued send fails in the background before the
 * next call is answered, so a recv on the active socket finds it closed:
 * enotconn, not einval (diff/7: [tcp_closed], send ok, recv enotconn). */
GT_TEST(r56_delay_send_failure_seen_by_recv)
{
    gt_socket p, s;
    h_pair(GT_OPTS(GT_ACTIVE_TRUE, GT_EXIT_ON_CLOSE(false), GT_DELAY_SEND(true)),
           GT_OPTS(GT_ACTIVE_FALSE), NULL, &p, &s);
    rst(p);
    EXPECT_MSG(s, GT_MSG_TCP_CLOSED);
    ASSERT_OK(gt_send(s, "x", 1));
    ASSERT_RECV_ERR(s, 0, 100, -ENOTCONN);
}

/* r52: shutdown(read) -> ok; recv -> closed; with exit_on_close=true the EOF
 * closes the socket: send -> closed, peer sees closed, then enotconn.
 * (E: [ok, closed, closed, peer closed, enotconn, enotconn]) */
GT_TEST(r52_shutdown_read)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    ASSERT_OK(gt_shutdown(s, GT_SHUT_READ));
    ASSERT_RECV_ERR(s, 0, 300, GT_ECLOSED);
    ASSERT_ERR(gt_send(s, "x", 1), GT_ECLOSED);
    ASSERT_RECV_ERR(p, 0, H_WAIT, GT_ECLOSED);
    ASSERT_RECV_ERR(s, 0, 300, -ENOTCONN);
    ASSERT_ERR(gt_shutdown(s, GT_SHUT_READ), -ENOTCONN);
}

/* r52: shutdown on a listen socket -> enotconn; after the driver closed the
 * socket on EOF -> enotconn; after own close -> closed. */
GT_TEST(r52_shutdown_errors)
{
    gt_socket l = h_listen(GT_OPTS(GT_ACTIVE_FALSE));
    ASSERT_ERR(gt_shutdown(l, GT_SHUT_WRITE), -ENOTCONN);
    ASSERT_ERR(gt_shutdown(l, GT_SHUT_READ_WRITE), -ENOTCONN);

    gt_socket p, s;
    h_ppair(&p, &s);
    gt_close(p);
    ASSERT_RECV_ERR(s, 0, H_WAIT, GT_ECLOSED);
    ASSERT_ERR(gt_shutdown(s, GT_SHUT_WRITE), -ENOTCONN);
    ASSERT_ERR(gt_shutdown(s, GT_SHUT_READ), -ENOTCONN);

    gt_socket p2, s2;
    h_ppair(&p2, &s2);
    gt_close(s2);
    ASSERT_ERR(gt_shutdown(s2, GT_SHUT_WRITE), GT_ECLOSED);
    ASSERT_ERR(gt_shutdown(s2, GT_SHUT_READ), GT_ECLOSED);
}

/* r52 (bad How): gentcp has an enum; an out-of-range value is a bad argument. */
GT_TEST(r52_shutdown_bad_how)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    int rc = gt_shutdown(s, (gt_shutdown_how)42);
    ASSERT(rc == GT_EBADARG || rc == -EINVAL);
    h_send(s, "still");
    ASSERT_RECV(p, 0, H_WAIT, "still");
}

/* r53: peer RST, passive, show_econnreset=false: buffered data, then closed,
 * then enotconn; send -> closed once, then enotconn. */
GT_TEST(r53_peer_rst_passive)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    h_send(p, "data");
    h_wait_inq(s, 4);
    rst(p);
    h_wait_reset(s);
    ASSERT_RECV(s, 0, H_WAIT, "data");
    ASSERT_RECV_ERR(s, 0, H_WAIT, GT_ECLOSED);
    ASSERT_RECV_ERR(s, 0, H_WAIT, -ENOTCONN);
    ASSERT_ERR(gt_send(s, "x", 1), GT_ECLOSED);
    ASSERT_ERR(gt_send(s, "x", 1), -ENOTCONN);
}

/* r53: E: [data, send closed, send enotconn, recv closed, recv enotconn]. */
GT_TEST(r53_peer_rst_passive_send_first)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    h_send(p, "data");
    h_wait_inq(s, 4);
    rst(p);
    h_wait_reset(s);
    ASSERT_RECV(s, 0, H_WAIT, "data");
    ASSERT_ERR(gt_send(s, "x", 1), GT_ECLOSED);
    ASSERT_ERR(gt_send(s, "x", 1), -ENOTCONN);
    ASSERT_RECV_ERR(s, 0, H_WAIT, GT_ECLOSED);
    ASSERT_RECV_ERR(s, 0, H_WAIT, -ENOTCONN);
}

/* r53: with a raw peer doing the RST. */
GT_TEST(r53_raw_peer_rst_passive)
{
    int fd;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE), &fd);
    h_raw_send(fd, "data");
    h_wait_inq(s, 4);
    h_raw_rst(fd);
    h_wait_reset(s);
    ASSERT_RECV(s, 0, H_WAIT, "data");
    ASSERT_RECV_ERR(s, 0, H_WAIT, GT_ECLOSED);
    ASSERT_RECV_ERR(s, 0, H_WAIT, -ENOTCONN);
}

/* r54: show_econnreset=true, passive: data, econnreset, enotconn; send ->
 * enotconn. */
GT_TEST(r54_show_econnreset_passive)
{
    gt_socket p, s;
    h_pair(GT_OPTS(GT_ACTIVE_FALSE, GT_SHOW_ECONNRESET(true)), GT_OPTS(GT_ACTIVE_FALSE), NULL,
           &p, &s);
    ASSERT_OPT(s, GT_OPT_SHOW_ECONNRESET, 1);
    h_send(p, "data");
    h_wait_inq(s, 4);
    rst(p);
    h_wait_reset(s);
    ASSERT_RECV(s, 0, H_WAIT, "data");
    ASSERT_RECV_ERR(s, 0, H_WAIT, -ECONNRESET);
    ASSERT_RECV_ERR(s, 0, H_WAIT, -ENOTCONN);
    ASSERT_ERR(gt_send(s, "x", 1), -ENOTCONN);
    ASSERT_ERR(gt_send(s, "x", 1), -ENOTCONN);
}

/* r54: show_econnreset=true, active: tcp, tcp_error econnreset, tcp_closed;
 * afterwards recv and send -> closed. */
GT_TEST(r54_show_econnreset_active)
{
    gt_socket p, s;
    h_pair(GT_OPTS(GT_SHOW_ECONNRESET(true)), GT_OPTS(GT_ACTIVE_FALSE), NULL, &p, &s);
    h_send(p, "data");
    h_active_all(s, "data");
    rst(p);
    EXPECT_TCP_ERROR(s, -ECONNRESET);
    EXPECT_MSG(s, GT_MSG_TCP_CLOSED);
    EXPECT_NO_MSG(s, 50);
    ASSERT_RECV_ERR(s, 0, 100, GT_ECLOSED);
    ASSERT_ERR(gt_send(s, "x", 1), GT_ECLOSED);
}

/* r54/r13: show_econnreset=false, active: an RST is just tcp_closed. */
GT_TEST(r54_rst_active_without_show_econnreset)
{
    gt_socket p, s;
    h_pair(GT_NOOPTS, GT_OPTS(GT_ACTIVE_FALSE), NULL, &p, &s);
    h_send(p, "data");
    h_active_all(s, "data");
    rst(p);
    EXPECT_MSG(s, GT_MSG_TCP_CLOSED);
    EXPECT_NO_MSG(s, 50);
}

/* r21/r54: a reset recorded while passive (show_econnreset) is reported on
 * activation as tcp_error econnreset, then tcp_closed. */
GT_TEST(r21_activate_after_rst_reports_econnreset)
{
    gt_socket p, s;
    h_pair(GT_OPTS(GT_ACTIVE_FALSE, GT_SHOW_ECONNRESET(true)), GT_OPTS(GT_ACTIVE_FALSE), NULL,
           &p, &s);
    rst(p);
    h_wait_reset(s);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_TRUE)));
    EXPECT_TCP_ERROR(s, -ECONNRESET);
    EXPECT_MSG(s, GT_MSG_TCP_CLOSED);
    EXPECT_NO_MSG(s, 50);
}

/* r55: RST found by send, passive, nobody reading: sends [ok, closed,
 * enotconn], then recv closed, enotconn (no unread data involved). */
GT_TEST(r55_rst_found_by_send)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    ASSERT_OK(gt_close(p));
    h_wait_peer_end(s);
    ASSERT_OK(gt_send(s, "x", 1)); /* the peer answers with RST */
    h_wait_reset(s);
    ASSERT_ERR(gt_send(s, "y", 1), GT_ECLOSED);
    ASSERT_ERR(gt_send(s, "z", 1), -ENOTCONN);
    ASSERT_RECV_ERR(s, 0, H_WAIT, GT_ECLOSED);
    ASSERT_RECV_ERR(s, 0, H_WAIT, -ENOTCONN);
    ASSERT_ERR(gt_send(s, "z", 1), -ENOTCONN);
}

/* r55 with show_econnreset: [ok, econnreset, enotconn], recv econnreset once,
 * then enotconn. */
GT_TEST(r55_rst_found_by_send_show_econnreset)
{
    gt_socket p, s;
    h_pair(GT_OPTS(GT_ACTIVE_FALSE, GT_SHOW_ECONNRESET(true)), GT_OPTS(GT_ACTIVE_FALSE), NULL,
           &p, &s);
    ASSERT_OK(gt_close(p));
    h_wait_peer_end(s);
    ASSERT_OK(gt_send(s, "x", 1));
    h_wait_reset(s);
    ASSERT_ERR(gt_send(s, "y", 1), -ECONNRESET);
    ASSERT_ERR(gt_send(s, "z", 1), -ENOTCONN);
    ASSERT_RECV_ERR(s, 0, H_WAIT, -ECONNRESET);
    ASSERT_RECV_ERR(s, 0, H_WAIT, -ENOTCONN);
}

/* ---- issue 7 item 5: exit_on_close=false, show_econnreset, peer RST ----
 * Each sequence is the one a real node gives (E, OTP 25, inet), term for
 * term.  inet_drv's flags behind them: an end of input reported as closed
 * leaves the next failing send's reason for the send after it
 * (DELAYED_CLOSE_SEND); a reset is reported once, later reads find a closed
 * stream; a failing send closes the socket, and if passive leaves its
 * reason for the next recv or activation (DELAYED_CLOSE_RECV/ECONNRESET),
 * if active sends tcp_error (and tcp_closed once) at once. */

/* S accepted with exit_on_close=false, show_econnreset and `active`; the
 * peer sends data (if any), then resets. */
static gt_socket rst_pair(gt_opt active, const char *data)
{
    gt_socket p, s;
    h_pair(GT_OPTS(GT_EXIT_ON_CLOSE(false), GT_SHOW_ECONNRESET(true), active),
           GT_OPTS(GT_ACTIVE_FALSE), NULL, &p, &s);
    bool passive = active.v.i == GT_ACTIVE_FALSE_V;
    if (data) {
        h_send(p, data);
        if (passive)
            h_wait_inq(s, strlen(data));
        else
            h_wait_mbox(1);
    }
    rst(p);
    if (passive)
        h_wait_reset(s);
    else
        h_wait_mbox(data ? 3 : 2); /* [data,] tcp_error, tcp_closed */
    return s;
}

#define ASSERT_SEND_ERR(s, err) ASSERT_ERR(gt_send((s), "a", 1), (err))

/* E: [tcp x, tcp_error econnreset, tcp_closed], {active,false}, recv closed,
 * closed, send econnreset, econnreset, enotconn, recv econnreset,
 * {active,once}/{active,true} -> nothing, recv enotconn, send enotconn. */
GT_TEST(i7_05_rst_active_then_passive)
{
    gt_socket s = rst_pair(GT_ACTIVE_TRUE, "x");
    EXPECT_TCP(s, "x");
    EXPECT_TCP_ERROR(s, -ECONNRESET);
    EXPECT_MSG(s, GT_MSG_TCP_CLOSED);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_FALSE)));
    ASSERT_RECV_ERR(s, 0, H_WAIT, GT_ECLOSED); /* rule 47: the reset was told */
    ASSERT_RECV_ERR(s, 0, H_WAIT, GT_ECLOSED);
    ASSERT_SEND_ERR(s, -ECONNRESET);
    ASSERT_SEND_ERR(s, -ECONNRESET);
    ASSERT_SEND_ERR(s, -ENOTCONN);
    ASSERT_RECV_ERR(s, 0, H_WAIT, -ECONNRESET);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_ONCE)));
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_TRUE)));
    EXPECT_NO_MSG(s, 50); /* rule 21: nothing is reported twice */
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_FALSE)));
    ASSERT_RECV_ERR(s, 0, H_WAIT, -ENOTCONN);
    ASSERT_SEND_ERR(s, -ENOTCONN);
}

/* E: recv x, econnreset, closed, send econnreset, econnreset, recv
 * econnreset, {active,once} -> [tcp_closed] only, recv enotconn. */
GT_TEST(i7_05_rst_passive_sequence)
{
    gt_socket s = rst_pair(GT_ACTIVE_FALSE, "x");
    ASSERT_RECV(s, 0, H_WAIT, "x");
    ASSERT_RECV_ERR(s, 0, H_WAIT, -ECONNRESET);
    ASSERT_RECV_ERR(s, 0, H_WAIT, GT_ECLOSED);
    ASSERT_SEND_ERR(s, -ECONNRESET);
    ASSERT_SEND_ERR(s, -ECONNRESET);
    ASSERT_RECV_ERR(s, 0, H_WAIT, -ECONNRESET);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_ONCE)));
    EXPECT_MSG(s, GT_MSG_TCP_CLOSED);
    EXPECT_NO_MSG(s, 50);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_FALSE)));
    ASSERT_RECV_ERR(s, 0, H_WAIT, -ENOTCONN);
    ASSERT_SEND_ERR(s, -ENOTCONN);
}

/* E: send econnreset, enotconn, {active,once} -> [tcp_error econnreset,
 * tcp_closed], {active,false}, recv closed, enotconn. */
GT_TEST(i7_05_failed_send_then_activation)
{
    gt_socket s = rst_pair(GT_ACTIVE_FALSE, NULL);
    ASSERT_SEND_ERR(s, -ECONNRESET);
    ASSERT_SEND_ERR(s, -ENOTCONN);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_ONCE)));
    EXPECT_TCP_ERROR(s, -ECONNRESET);
    EXPECT_MSG(s, GT_MSG_TCP_CLOSED);
    EXPECT_NO_MSG(s, 50);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_FALSE)));
    ASSERT_RECV_ERR(s, 0, H_WAIT, GT_ECLOSED);
    ASSERT_RECV_ERR(s, 0, H_WAIT, -ENOTCONN);
}

/* E: recv econnreset, send econnreset, enotconn, {active,once} ->
 * [tcp_error econnreset, tcp_closed]; recv on the still active socket ->
 * closed, then enotconn (inet closed it: no einval). */
GT_TEST(i7_05_recv_active_after_failed_send)
{
    gt_socket s = rst_pair(GT_ACTIVE_FALSE, NULL);
    ASSERT_RECV_ERR(s, 0, H_WAIT, -ECONNRESET);
    ASSERT_SEND_ERR(s, -ECONNRESET);
    ASSERT_SEND_ERR(s, -ENOTCONN);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_ONCE)));
    EXPECT_TCP_ERROR(s, -ECONNRESET);
    EXPECT_MSG(s, GT_MSG_TCP_CLOSED);
    ASSERT_RECV_ERR(s, 0, H_WAIT, GT_ECLOSED);
    ASSERT_RECV_ERR(s, 0, H_WAIT, -ENOTCONN);
}

/* E (rule 57): recv econnreset, closed, {active,once} -> [tcp_closed]; a
 * send on the active socket -> econnreset and a tcp_error message; then
 * send closed, enotconn; recv enotconn. */
GT_TEST(i7_05_failed_send_while_active)
{
    gt_socket s = rst_pair(GT_ACTIVE_FALSE, NULL);
    ASSERT_RECV_ERR(s, 0, H_WAIT, -ECONNRESET);
    ASSERT_RECV_ERR(s, 0, H_WAIT, GT_ECLOSED);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_ONCE)));
    EXPECT_MSG(s, GT_MSG_TCP_CLOSED);
    ASSERT_SEND_ERR(s, -ECONNRESET);
    EXPECT_TCP_ERROR(s, -ECONNRESET);
    EXPECT_NO_MSG(s, 50);
    ASSERT_SEND_ERR(s, GT_ECLOSED);
    ASSERT_SEND_ERR(s, -ENOTCONN);
    ASSERT_RECV_ERR(s, 0, H_WAIT, -ENOTCONN);
}

/* E, show_econnreset=false: [tcp_closed], send closed, closed, enotconn,
 * recv enotconn; passive the same way: recv closed, send closed, closed,
 * {active,once} -> [tcp_closed], recv closed, enotconn. */
GT_TEST(i7_05_rst_without_show_econnreset)
{
    gt_socket p, s;
    h_pair(GT_OPTS(GT_EXIT_ON_CLOSE(false)), GT_OPTS(GT_ACTIVE_FALSE), NULL, &p, &s);
    rst(p);
    EXPECT_MSG(s, GT_MSG_TCP_CLOSED);
    ASSERT_SEND_ERR(s, GT_ECLOSED);
    EXPECT_NO_MSG(s, 50);
    ASSERT_SEND_ERR(s, GT_ECLOSED);
    ASSERT_SEND_ERR(s, -ENOTCONN);
    ASSERT_RECV_ERR(s, 0, H_WAIT, -ENOTCONN);

    h_pair(GT_OPTS(GT_EXIT_ON_CLOSE(false), GT_ACTIVE_FALSE), GT_OPTS(GT_ACTIVE_FALSE), NULL, &p,
           &s);
    rst(p);
    h_wait_reset(s);
    ASSERT_RECV_ERR(s, 0, H_WAIT, GT_ECLOSED);
    ASSERT_SEND_ERR(s, GT_ECLOSED);
    ASSERT_SEND_ERR(s, GT_ECLOSED);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_ONCE)));
    EXPECT_MSG(s, GT_MSG_TCP_CLOSED);
    ASSERT_RECV_ERR(s, 0, H_WAIT, GT_ECLOSED);
    ASSERT_RECV_ERR(s, 0, H_WAIT, -ENOTCONN);
}

/* A connecting socket's handle is handed out only once connected, but a
 * listing (gt_sockets_list) shows it before: a stranger that sends on it
 * and shuts it down for writing while the connect is still in progress
 * gets its data out first and then the FIN, once the connect finishes (a
 * shutdown(write) behind queued output waits for it, rule 50).  The
 * connect is held in SYN_SENT by a listen queue that is full: the kernel
 * drops its SYN until an accept makes room, then the retransmitted SYN
 * gets through (about 1 s later). */
typedef struct slow_connect {
    int port;
    gt_pid parent;
} slow_connect;

static void connect_slowly(void *arg)
{
    slow_connect *sc = arg;
    gt_socket c = {0};
    int rc = gt_connect("127.0.0.1", sc->port, GT_OPTS(GT_ACTIVE_FALSE), 10000, &c);
    gt_post(sc->parent, rc, &c, sizeof c);
    gt_msg *m = NULL;
    gt_receive(H_WAIT * 3, &m); /* hold the socket until the test is done */
    gt_msg_free(m);
}

static gt_socket find_connecting(void)
{
    for (int tries = 0; tries < H_WAIT; tries++) {
        gt_sockinfo *v = NULL;
        size_t n = 0;
        ASSERT_OK(gt_sockets_list(&v, &n));
        gt_socket found = {0};
        for (size_t i = 0; i < n; i++)
            if (strcmp(v[i].state, "CONNECTING") == 0)
                found = v[i].sock;
        free(v);
        if (found.id)
            return found;
        h_msleep(1);
    }
    gt_test_fail(__FILE__, __LINE__, "no socket in CONNECTING within %d ms", H_WAIT);
    return (gt_socket){0};
}

GT_TEST(i8_1_shutdown_while_connecting_follows_the_data)
{
    gt_socket l = h_listen(GT_OPTS(GT_ACTIVE_FALSE, GT_BACKLOG(1)));
    int port = h_port(l);
    gt_socket q1 = h_connect(port, GT_OPTS(GT_ACTIVE_FALSE));
    gt_socket q2 = h_connect(port, GT_OPTS(GT_ACTIVE_FALSE));
    slow_connect sc = {port, gt_self()};
    gt_pid p;
    ASSERT_OK(gt_spawn(connect_slowly, &sc, NULL, &p));
    gt_socket c = find_connecting();
    ASSERT_OK(gt_send(c, "early", 5)); /* queued: not yet connected */
    ASSERT_OK(gt_shutdown(c, GT_SHUT_WRITE));
    gt_socket a1 = h_accept(l); /* room in the queue for the next SYN */
    gt_msg *m = NULL;
    ASSERT_OK(gt_receive(H_WAIT * 3, &m));
    ASSERT_EQ(m->tag, 0); /* the connect succeeded */
    gt_msg_free(m);
    gt_socket a2 = h_accept(l), a3 = h_accept(l);
    /* c's peer is the one whose remote port is c's own */
    struct sockaddr_storage sa;
    socklen_t sl = sizeof sa;
    ASSERT_OK(gt_peername(a2, &sa, &sl));
    gt_socket peer = ntohs(((struct sockaddr_in *)&sa)->sin_port) == h_port(c) ? a2 : a3;
    gt_msg *d = NULL;
    ASSERT_OK(gt_recv(peer, 0, H_WAIT, &d));
    ASSERT_EQ(d->len, 5);
    ASSERT(memcmp(d->data, "early", 5) == 0);
    gt_msg_free(d);
    ASSERT_RECV_ERR(peer, 0, H_WAIT, GT_ECLOSED);
    ASSERT_OK(gt_post(p, 0, NULL, 0));
    gt_close(q1);
    gt_close(q2);
    gt_close(a1);
    gt_close(a2);
    gt_close(a3);
    gt_close(l);
}
