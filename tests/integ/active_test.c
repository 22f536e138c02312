/*
 * active_test.c -- docs/spec/semantics.md §2, active modes (rules 13-21), [inet].
 * S is the socket under test (accepted), P its peer (the connecting end);
 * the test thread owns both, so every message lands in its mailbox and is
 * picked by socket with gt_receive_match.
 */
#include "helpers.h"
#include "h_probe.h"

/* r13: {active,true} delivers every packet as {tcp,S,D}, then {tcp_closed,S}. */
GT_TEST(r13_active_true_data_then_closed)
{
    gt_socket p, s;
    h_pair(GT_NOOPTS, GT_OPTS(GT_ACTIVE_FALSE), NULL, &p, &s);
    ASSERT_OPT(s, GT_OPT_ACTIVE, GT_ACTIVE_TRUE_V);
    h_send(p, "d1");
    h_send(p, "d2");
    ASSERT_OK(gt_close(p));
    h_active_all(s, "d1d2"); /* raw packets may coalesce */
    EXPECT_MSG(s, GT_MSG_TCP_CLOSED);
    EXPECT_NO_MSG(s, 100); /* tcp_closed is sent once */
}

/* r13: messages carry the socket they are about. */
GT_TEST(r13_active_message_names_socket)
{
    gt_socket p, s;
    h_pair(GT_NOOPTS, GT_OPTS(GT_ACTIVE_FALSE), NULL, &p, &s);
    h_send(p, "x");
    gt_msg *m = NULL;
    ASSERT_OK(gt_receive(H_WAIT, &m));
    ASSERT_EQ(m->kind, GT_MSG_TCP);
    ASSERT(gt_sock_eq(m->sock, s));
    ASSERT_STR(m, "x");
    gt_msg_free(m);
}

/* r14: {active,once} delivers exactly one packet, then the socket is passive
 * and no tcp_passive message is sent. */
GT_TEST(r14_active_once_one_message_then_passive)
{
    gt_socket p, s;
    h_pair(GT_OPTS(GT_ACTIVE_ONCE), GT_OPTS(GT_ACTIVE_FALSE), NULL, &p, &s);
    ASSERT_OPT(s, GT_OPT_ACTIVE, GT_ACTIVE_ONCE_V);
    h_send(p, "a");
    EXPECT_TCP(s, "a");
    ASSERT_OPT(s, GT_OPT_ACTIVE, GT_ACTIVE_FALSE_V);
    h_send(p, "b");
    EXPECT_NO_MSG(s, 100); /* neither data nor tcp_passive */
    ASSERT_RECV(s, 0, H_WAIT, "b");
}

/* r14: setting once while already once is a no-op: still one message. */
GT_TEST(r14_active_once_twice_is_one_message)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_ONCE)));
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_ONCE)));
    h_send(p, "x");
    EXPECT_TCP(s, "x");
    h_send(p, "y");
    EXPECT_NO_MSG(s, 100);
    ASSERT_OPT(s, GT_OPT_ACTIVE, GT_ACTIVE_FALSE_V);
    ASSERT_RECV(s, 0, H_WAIT, "y");
}

/* r15: {active,N} adds to an N-mode counter: 3, +2 -> 5; -4 -> 1; -1 -> passive
 * plus {tcp_passive,S}. */
GT_TEST(r15_active_n_accumulates)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_N(3))));
    ASSERT_OPT(s, GT_OPT_ACTIVE, 3);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_N(2))));
    ASSERT_OPT(s, GT_OPT_ACTIVE, 5);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_N(-4))));
    ASSERT_OPT(s, GT_OPT_ACTIVE, 1);
    EXPECT_NO_MSG(s, 50);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_N(-1))));
    ASSERT_OPT(s, GT_OPT_ACTIVE, GT_ACTIVE_FALSE_V);
    EXPECT_MSG(s, GT_MSG_TCP_PASSIVE);
    EXPECT_NO_MSG(s, 50);
}

/* r15: true/once followed by N replaces (no accumulation). */
GT_TEST(r15_active_n_replaces_true_and_once)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_TRUE)));
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_N(3))));
    ASSERT_OPT(s, GT_OPT_ACTIVE, 3);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_ONCE)));
    ASSERT_OPT(s, GT_OPT_ACTIVE, GT_ACTIVE_ONCE_V);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_N(3))));
    ASSERT_OPT(s, GT_OPT_ACTIVE, 3);
    EXPECT_NO_MSG(s, 50);
}

/* r15: a result outside -32768..32767 -> einval, counter unchanged. */
GT_TEST(r15_active_n_overflow_einval)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_N(3))));
    ASSERT_ERR(gt_setopts(s, GT_OPTS(GT_ACTIVE_N(32767))), -EINVAL);
    ASSERT_OPT(s, GT_OPT_ACTIVE, 3);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_FALSE)));
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_N(32767))));
    ASSERT_OPT(s, GT_OPT_ACTIVE, 32767);
    ASSERT_ERR(gt_setopts(s, GT_OPTS(GT_ACTIVE_N(1))), -EINVAL);
    ASSERT_OPT(s, GT_OPT_ACTIVE, 32767);
    /* 32767 + -32768 = -1: passive + tcp_passive */
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_N(-32768))));
    ASSERT_OPT(s, GT_OPT_ACTIVE, GT_ACTIVE_FALSE_V);
    EXPECT_MSG(s, GT_MSG_TCP_PASSIVE);
}

/* r15/r4: N itself outside -32768..32767 is einval. */
GT_TEST(r15_active_n_out_of_range_einval)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    ASSERT_ERR(gt_setopts(s, GT_OPTS(GT_ACTIVE_N(32768))), -EINVAL);
    ASSERT_ERR(gt_setopts(s, GT_OPTS(GT_ACTIVE_N(40000))), -EINVAL);
    ASSERT_ERR(gt_setopts(s, GT_OPTS(GT_ACTIVE_N(-32769))), -EINVAL);
    ASSERT_ERR(gt_setopts(s, GT_OPTS(GT_ACTIVE_N(-40000))), -EINVAL);
    ASSERT_ERR(gt_setopts(s, GT_OPTS(GT_ACTIVE_N(GT_ACTIVE_ONCE_V + 1))), -EINVAL);
    ASSERT_OPT(s, GT_OPT_ACTIVE, GT_ACTIVE_FALSE_V);
    EXPECT_NO_MSG(s, 50);
}

/* r15: {active,0} on a socket at counter 2 -> stays 2, no message. */
GT_TEST(r15_active_zero_keeps_counter)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_N(2))));
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_N(0))));
    ASSERT_OPT(s, GT_OPT_ACTIVE, 2);
    EXPECT_NO_MSG(s, 100);
}

/* r16: {active,N<=0} on a passive socket sends {tcp_passive,S} every time. */
GT_TEST(r16_active_nonpositive_while_passive_sends_passive)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_N(0))));
    EXPECT_MSG(s, GT_MSG_TCP_PASSIVE);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_N(0))));
    EXPECT_MSG(s, GT_MSG_TCP_PASSIVE);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_N(-3))));
    EXPECT_MSG(s, GT_MSG_TCP_PASSIVE);
    ASSERT_OPT(s, GT_OPT_ACTIVE, GT_ACTIVE_FALSE_V);
    EXPECT_NO_MSG(s, 50);
}

/* r17: each packet decrements; tcp_passive comes right after the last data. */
GT_TEST(r17_active_n_passive_after_last_data_raw)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_N(2))));
    h_send(p, "a");
    EXPECT_TCP(s, "a");
    ASSERT_OPT(s, GT_OPT_ACTIVE, 1);
    h_send(p, "b");
    EXPECT_TCP(s, "b");
    EXPECT_MSG(s, GT_MSG_TCP_PASSIVE);
    ASSERT_OPT(s, GT_OPT_ACTIVE, GT_ACTIVE_FALSE_V);
    h_send(p, "c");
    EXPECT_NO_MSG(s, 100);
    ASSERT_RECV(s, 0, H_WAIT, "c");
}

/* r17: N=2, three {packet,2} packets -> [p1, p2, tcp_passive]; recv -> p3. */
GT_TEST(r17_active_n_passive_after_last_data_packet2)
{
    gt_socket p, s;
    h_pair(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(2)), GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(2)), NULL,
           &p, &s);
    h_send(p, "a");
    h_send(p, "b");
    h_send(p, "c");
    h_wait_inq(s, 9);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_N(2))));
    EXPECT_TCP(s, "a");
    EXPECT_TCP(s, "b");
    EXPECT_MSG(s, GT_MSG_TCP_PASSIVE);
    EXPECT_NO_MSG(s, 50);
    ASSERT_RECV(s, 0, H_WAIT, "c");
}

/* r17: close events are not delivered once the socket went passive:
 * N=1, P sends "last" and closes -> [tcp "last", tcp_passive]; recv -> closed. */
GT_TEST(r17_no_tcp_closed_after_passive)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_N(1))));
    h_send(p, "last");
    ASSERT_OK(gt_close(p));
    EXPECT_TCP(s, "last");
    EXPECT_MSG(s, GT_MSG_TCP_PASSIVE);
    EXPECT_NO_MSG(s, 150);
    ASSERT_RECV_ERR(s, 0, H_WAIT, GT_ECLOSED);
}

/* r18: {active,false} from N sends no tcp_passive [inet]. */
GT_TEST(r18_active_false_from_n_no_passive_msg)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_N(5))));
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_FALSE)));
    ASSERT_OPT(s, GT_OPT_ACTIVE, GT_ACTIVE_FALSE_V);
    EXPECT_NO_MSG(s, 100);
}

/* r19: raw data buffered while passive is coalesced on activation:
 * three 1-byte sends, then {active,once} -> one {tcp,S,"xyz"}. */
GT_TEST(r19_buffered_raw_coalesced_on_activation)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    h_send(p, "x");
    h_send(p, "y");
    h_send(p, "z");
    h_wait_inq(s, 3);
    EXPECT_NO_MSG(s, 20);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_ONCE)));
    EXPECT_TCP(s, "xyz");
    EXPECT_NO_MSG(s, 50);
}

/* r19: messages already in the mailbox stay there when switching to passive. */
GT_TEST(r19_mailbox_kept_when_going_passive)
{
    gt_socket p, s;
    h_pair(GT_OPTS(GT_ACTIVE_TRUE), GT_OPTS(GT_ACTIVE_FALSE), NULL, &p, &s);
    h_send(p, "m1");
    h_wait_mbox(1);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_FALSE)));
    h_send(p, "m2");
    EXPECT_TCP(s, "m1");
    EXPECT_NO_MSG(s, 50);
    ASSERT_RECV(s, 0, H_WAIT, "m2");
}

/* r20: recv on an active socket -> einval, for true, once and N. */
GT_TEST(r20_recv_on_active_einval)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_TRUE)));
    ASSERT_RECV_ERR(s, 0, 100, -EINVAL);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_ONCE)));
    ASSERT_RECV_ERR(s, 0, 100, -EINVAL);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_N(3))));
    ASSERT_RECV_ERR(s, 0, 100, -EINVAL);
    ASSERT_RECV_ERR(s, 5, 0, -EINVAL);
    /* the socket still works */
    h_send(p, "ok");
    EXPECT_TCP(s, "ok");
}

/* r21: activating a passive socket whose peer closed sends {tcp_closed,S};
 * with exit_on_close=true the socket is terminated (recv -> closed). */
GT_TEST(r21_activate_after_peer_close_sends_closed)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    ASSERT_OK(gt_close(p));
    h_wait_peer_end(s);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_ONCE)));
    EXPECT_MSG(s, GT_MSG_TCP_CLOSED);
    EXPECT_NO_MSG(s, 50);
    ASSERT_RECV_ERR(s, 0, H_WAIT, GT_ECLOSED);
}

/* r21: close already detected by recv (exit_on_close=true): activation still
 * returns ok and sends {tcp_closed,S}; afterwards the socket is gone. */
GT_TEST(r21_activate_after_recv_closed)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    ASSERT_OK(gt_close(p));
    ASSERT_RECV_ERR(s, 0, H_WAIT, GT_ECLOSED);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_ONCE)));
    EXPECT_MSG(s, GT_MSG_TCP_CLOSED);
    ASSERT_RECV_ERR(s, 0, H_WAIT, GT_ECLOSED);
}

/* r21/r47: exit_on_close=false: one tcp_closed on activation, never a second;
 * the socket stays writable. */
GT_TEST(r21_tcp_closed_only_once)
{
    gt_socket p, s;
    h_pair(GT_OPTS(GT_ACTIVE_FALSE, GT_EXIT_ON_CLOSE(false)), GT_OPTS(GT_ACTIVE_FALSE), NULL, &p,
           &s);
    gt_close(p);
    ASSERT_RECV_ERR(s, 0, H_WAIT, GT_ECLOSED);
    ASSERT_RECV_ERR(s, 0, H_WAIT, GT_ECLOSED);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_ONCE)));
    EXPECT_MSG(s, GT_MSG_TCP_CLOSED);
    ASSERT_OPT(s, GT_OPT_ACTIVE, GT_ACTIVE_ONCE_V);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_TRUE)));
    EXPECT_NO_MSG(s, 100);
}

/* i8: every {active, V} reads back as what was set.  No integer N can be
 * taken for one of the atoms (whose encodings once were the ints 0x100000
 * .. 0x100002): like any N outside -32768..32767 such an N is einval, as
 * Erlang's {active, 1048577} is. */
GT_TEST(i8_active_values_read_back_as_set)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    static const int64_t atoms[] = {GT_ACTIVE_TRUE_V, GT_ACTIVE_ONCE_V, GT_ACTIVE_FALSE_V};
    for (size_t i = 0; i < sizeof atoms / sizeof atoms[0]; i++) {
        ASSERT_OK(gt_setopts(s, GT_OPTS(GT__OPT_I(GT_OPT_ACTIVE, atoms[i]))));
        ASSERT_OPT(s, GT_OPT_ACTIVE, atoms[i]);
    }
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_N(5))));
    ASSERT_OPT(s, GT_OPT_ACTIVE, 5);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_FALSE)));
    static const int ints[] = {0x100000, 0x100001, 0x100002, 0x7fffffff, -0x7fffffff - 1};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        ASSERT_ERR(gt_setopts(s, GT_OPTS(GT_ACTIVE_N(ints[i]))), -EINVAL);
        ASSERT_OPT(s, GT_OPT_ACTIVE, GT_ACTIVE_FALSE_V);
    }
    EXPECT_NO_MSG(s, 50);
}

/* A frame of {packet,4} whose body (size i % 7 * 13, the empty one
 * included) says its index. */
static size_t i11_frame(uint8_t *out, int i)
{
    size_t len = (size_t)(i % 7) * 13;
    out[0] = out[1] = 0;
    out[2] = (uint8_t)(len >> 8);
    out[3] = (uint8_t)len;
    for (size_t k = 0; k < len; k++)
        out[4 + k] = (uint8_t)(i + k);
    return 4 + len;
}

/* Takes want packets about s, in order from index *next, with
 * gt_receive_many runs (the first message waited for). */
static void i11_take_packets(int line, gt_socket s, int want, int *next)
{
    gt_msg *ms[64];
    for (int got = 0; got < want;) {
        ms[0] = h_next_line(line, s, H_WAIT);
        size_t n = 0;
        size_t max = (size_t)(want - got) < 64 ? (size_t)(want - got) : 64;
        if (max > 1)
            gt_receive_many(gt_match_socket, &s, ms + 1, max - 1, &n);
        n++;
        for (size_t k = 0; k < n; k++, got++, (*next)++) {
            if (ms[k]->kind != GT_MSG_TCP || ms[k]->len != (size_t)(*next % 7) * 13)
                gt_test_fail(__FILE__, line, "packet %d: a %s of %zu bytes", *next,
                             h_kind(ms[k]->kind), ms[k]->len);
            for (size_t b = 0; b < ms[k]->len; b++)
                if (ms[k]->data[b] != (uint8_t)(*next + b))
                    gt_test_fail(__FILE__, line, "packet %d: byte %zu", *next, b);
            gt_msg_free(ms[k]);
        }
    }
}

/* r17 with many packets from one read (issue 11: a pipelining peer): each
 * is its own message, in order; {active,N} reaches 0 inside the run, so
 * tcp_passive comes right after the Nth and the rest waits, and the next
 * activation delivers the rest from where it stopped. */
GT_TEST(i11_many_packets_of_one_read_cross_active_n_in_order)
{
    int peer = -1;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_BINARY, GT_PACKET(4), GT_ACTIVE_N(50)), &peer);
    enum { FRAMES = 300 };
    static uint8_t wire[FRAMES * (4 + 6 * 13)];
    size_t len = 0;
    for (int i = 0; i < FRAMES; i++)
        len += i11_frame(wire + len, i);
    h_raw_write(peer, (const char *)wire, len); /* one write */
    int next = 0;
    i11_take_packets(__LINE__, s, 50, &next);
    EXPECT_MSG(s, GT_MSG_TCP_PASSIVE);
    EXPECT_NO_MSG(s, 50);
    ASSERT_OPT(s, GT_OPT_ACTIVE, GT_ACTIVE_FALSE_V);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_N(200))));
    i11_take_packets(__LINE__, s, 200, &next);
    EXPECT_MSG(s, GT_MSG_TCP_PASSIVE);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_TRUE)));
    i11_take_packets(__LINE__, s, FRAMES - 250, &next);
    close(peer);
    EXPECT_MSG(s, GT_MSG_TCP_CLOSED);
    gt_close(s);
}

/* gt_receive_many with gt_match_socket, which the mailbox tests inline
 * against the socket read once (issue 11, echo6): it takes that socket's
 * packets in order and leaves another socket's packet and a user message
 * behind them where they were. */
GT_TEST(i11_echo6_receive_many_by_socket_leaves_the_rest)
{
    gt_socket l, c1, a1;
    h_pair(GT_OPTS(GT_BINARY), GT_OPTS(GT_ACTIVE_FALSE, GT_BINARY), &l, &c1, &a1);
    gt_socket c2 = h_connect(h_port(l), GT_OPTS(GT_ACTIVE_FALSE, GT_BINARY));
    gt_socket a2 = h_accept(l);
    h_send(c1, "a");
    h_wait_mbox(1);
    ASSERT_OK(gt_post(gt_self(), 7, "u", 1));
    h_wait_mbox(2);
    h_send(c2, "x");
    h_wait_mbox(3);
    h_send(c1, "b");
    h_wait_mbox(4);
    gt_msg *ms[8];
    size_t n = 0;
    ASSERT_OK(gt_receive_many(gt_match_socket, &a1, ms, 8, &n));
    ASSERT_EQ(n, 2);
    ASSERT_STR(ms[0], "a");
    ASSERT_STR(ms[1], "b");
    gt_msg_free(ms[0]);
    gt_msg_free(ms[1]);
    gt_msg *m = NULL;
    ASSERT_OK(gt_receive(0, &m));
    ASSERT_EQ(m->kind, GT_MSG_USER);
    ASSERT_EQ(m->tag, 7);
    gt_msg_free(m);
    EXPECT_TCP(a2, "x");
    ASSERT_ERR(gt_receive(0, &m), GT_ETIMEOUT);
    gt_close(c1);
    gt_close(a1);
    gt_close(c2);
    gt_close(a2);
    gt_close(l);
}
