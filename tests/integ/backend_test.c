/*
 * backend_test.c -- the differences between gen_tcp's two backends
 * (docs/spec/semantics.md section 10, rules 92-101 and the rules they cite).
 * Every test runs one scenario on both backends, S being the socket under
 * test ({inet_backend, B} first in its options) and P a plain inet peer;
 * the expected answers per backend are those a live OTP 25 node gives for
 * the same scenario (tests/interop/backend_probe.escript prints them, and
 * tests/interop/diff-cases.txt holds the cases diff.sh compares step by
 * step against the node).
 */
#include <stdlib.h>
#include <sys/socket.h>

#include "helpers.h"

#define SOCK(b) ((b) == GT_BACKEND_SOCKET)
#define BY(b, inet, sock) (SOCK(b) ? (sock) : (inet))

/* Runs scenario fn on both backends. */
#define BOTH(name)                                                             \
    static void name##_on(int b);                                              \
    GT_TEST(name)                                                              \
    {                                                                          \
        name##_on(GT_BACKEND_INET);                                            \
        h_flush();                                                             \
        name##_on(GT_BACKEND_SOCKET);                                          \
    }                                                                          \
    static void name##_on(int b)

/* S on backend b (listening, so accepted: listen options are inherited),
 * P a passive inet peer with popts. */
static void bpair(int b, gt_optlist sopts, gt_optlist popts, gt_socket *s, gt_socket *p)
{
    gt_opt buf[32], buf2[32], pbuf[32];
    gt_optlist so = h_prepend(buf, 32, GT_IP("127.0.0.1"), sopts);
    so = h_prepend(buf2, 32, GT_INET_BACKEND(b), so);
    gt_optlist po = h_prepend(pbuf, 32, GT_ACTIVE_FALSE, popts);
    gt_socket l = {0};
    ASSERT_OK(gt_listen(0, so, &l));
    *p = h_connect(h_port(l), po);
    *s = h_accept(l);
    gt_close(l);
}

static void rst(gt_socket p)
{
    ASSERT_OK(gt_setopts(p, GT_OPTS(GT_LINGER(1, 0))));
    ASSERT_OK(gt_close(p));
}

/* The peer reads until t ms of silence or the end; returns the bytes read
 * and sets *end to the end's reason (0: still open). */
static size_t peer_drain(gt_socket p, int64_t t, int *end)
{
    size_t got = 0;
    *end = 0;
    for (int i = 0; i < 1000000; i++) {
        gt_msg *m = NULL;
        int rc = gt_recv(p, 0, t, &m);
        if (rc == GT_ETIMEOUT)
            break;
        if (rc) {
            *end = rc;
            break;
        }
        got += m->len;
        gt_msg_free(m);
    }
    return got;
}

#define BIG (4u << 20)
static char big[BIG];

/* ---- rules 41, 44: close, and calls on a closed socket ---- */

BOTH(r95_second_close_and_calls_on_closed)
{
    gt_socket s, p;
    bpair(b, GT_OPTS(GT_ACTIVE_FALSE), GT_NOOPTS, &s, &p);
    ASSERT_OK(gt_close(s));
    ASSERT_ERR(gt_close(s), BY(b, 0, GT_ECLOSED));
    ASSERT_ERR(gt_send(s, "x", 1), GT_ECLOSED);
    ASSERT_RECV_ERR(s, 0, 0, GT_ECLOSED);
    ASSERT_ERR(gt_setopts(s, GT_OPTS(GT_ACTIVE_TRUE)), BY(b, -EINVAL, GT_ECLOSED));
    gt_opt o = {.name = GT_OPT_ACTIVE};
    ASSERT_ERR(gt_getopts(s, &o, 1), BY(b, -EINVAL, GT_ECLOSED));
    struct sockaddr_storage a;
    ASSERT_ERR(gt_sockname(s, &a, NULL), BY(b, -EINVAL, GT_ECLOSED));
    int port;
    ASSERT_ERR(gt_port(s, &port), BY(b, -EINVAL, GT_ECLOSED));
    ASSERT_ERR(gt_shutdown(s, GT_SHUT_WRITE), GT_ECLOSED);
    ASSERT_ERR(gt_controlling_process(s, gt_self()), GT_ECLOSED);
    gt_close(p);
}

/* ---- rules 34, 35: blocking send, the unsent rest, send_timeout_close ---- */

/* S's kernel buffers are small and P never reads: a 4 MiB send fills them. */
static void full_pair(int b, bool close_on_timeout, int packet, gt_socket *s, gt_socket *p)
{
    bpair(b,
          GT_OPTS(GT_ACTIVE_FALSE, GT_SNDBUF(8192), GT_SEND_TIMEOUT(300),
                  GT_SEND_TIMEOUT_CLOSE(close_on_timeout), GT_PACKET(packet)),
          GT_OPTS(GT_RECBUF(8192)), s, p);
}

BOTH(r94_send_timeout_gives_the_unsent_rest)
{
    gt_socket s, p;
    full_pair(b, false, GT_PKT_RAW, &s, &p);
    size_t sent = 1;
    int rc = gt_send_partial(s, big, BIG, &sent);
    if (SOCK(b)) {
        /* {error, {timeout, RestData}}: the kernel took only part */
        ASSERT_ERR(rc, GT_ETIMEOUT);
        ASSERT(sent > 0 && sent < BIG);
        /* the next send finds the buffers still full: all of it is rest */
        size_t sent2 = 1;
        ASSERT_ERR(gt_send_partial(s, "x", 1, &sent2), GT_ETIMEOUT);
        ASSERT_EQ(sent2, 0);
        /* what the peer gets is exactly what *sent said went out */
        int end;
        ASSERT_EQ(peer_drain(p, 500, &end), sent);
        ASSERT_EQ(end, 0);
        /* the socket is still usable */
        ASSERT_OK(gt_send(s, "y", 1));
        ASSERT_RECV(p, 0, H_WAIT, "y");
    } else {
        /* inet queues what the kernel does not take: ok at once, and the
         * next send waits on the busy queue until send_timeout */
        ASSERT_OK(rc);
        ASSERT_EQ(sent, BIG);
        ASSERT_ERR(gt_send_partial(s, "x", 1, &sent), GT_ETIMEOUT);
        ASSERT_EQ(sent, 1); /* queued: it still goes out (rule 33) */
    }
    gt_close(s);
    gt_close(p);
}

BOTH(r35_send_timeout_rest_counts_the_packet_header)
{
    gt_socket s, p;
    full_pair(b, false, GT_PKT_4, &s, &p);
    size_t sent = 0;
    int rc = gt_send_partial(s, big, BIG, &sent);
    if (SOCK(b)) {
        ASSERT_ERR(rc, GT_ETIMEOUT);
        int end;
        ASSERT_EQ(peer_drain(p, 500, &end), sent); /* header included */
        ASSERT(sent > 4 && sent < BIG + 4);
    } else {
        ASSERT_OK(rc);
        ASSERT_EQ(sent, BIG + 4);
    }
    gt_close(s);
    gt_close(p);
}

BOTH(r94_send_timeout_close_then_closed)
{
    gt_socket s, p;
    full_pair(b, true, GT_PKT_RAW, &s, &p);
    if (SOCK(b)) {
        ASSERT_ERR(gt_send(s, big, BIG), GT_ETIMEOUT);
        ASSERT_ERR(gt_send(s, "x", 1), GT_ECLOSED);
        ASSERT_RECV_ERR(s, 0, 100, GT_ECLOSED);
        ASSERT_ERR(gt_send(s, "y", 1), GT_ECLOSED);
        ASSERT_ERR(gt_close(s), GT_ECLOSED); /* it is closed already */
    } else {
        ASSERT_OK(gt_send(s, big, BIG));
        ASSERT_ERR(gt_send(s, "x", 1), GT_ETIMEOUT);
        ASSERT_ERR(gt_send(s, "y", 1), -ENOTCONN);
        ASSERT_RECV_ERR(s, 0, 100, -ENOTCONN);
        ASSERT_OK(gt_close(s));
    }
    gt_close(p);
}

/* ---- rules 43, 50: close and shutdown(write) under a sender ---- */

typedef struct job {
    gt_socket s;
    gt_pid parent;
} job;

static void big_sender(void *arg)
{
    job *j = arg;
    h_post_int(j->parent, H_TAG_GO, 0);
    h_post_int(j->parent, H_TAG_DONE, gt_send(j->s, big, BIG));
}

/* Waits (bounded) until the peer has read something, so that the big send
 * is under way; returns the bytes read. */
static size_t peer_first_bytes(gt_socket p)
{
    gt_msg *m = NULL;
    ASSERT_OK(gt_recv(p, 0, H_WAIT, &m));
    size_t n = m->len;
    gt_msg_free(m);
    return n;
}

BOTH(r95_shutdown_write_is_immediate)
{
    gt_socket s, p;
    bpair(b, GT_OPTS(GT_ACTIVE_FALSE, GT_SNDBUF(8192)),
          GT_OPTS(GT_RECBUF(8192), GT_EXIT_ON_CLOSE(false)), &s, &p);
    job j = {s, gt_self()};
    h_spawn(big_sender, &j);
    h_wait_int(H_TAG_GO, H_WAIT);
    size_t got = peer_first_bytes(p);
    if (!SOCK(b))
        ASSERT_OK(h_wait_int(H_TAG_DONE, H_WAIT)); /* queued: ok at once */
    ASSERT_OK(gt_shutdown(s, GT_SHUT_WRITE));
    if (SOCK(b)) /* the sender writing finds the shutdown: closed */
        ASSERT_ERR(h_wait_int(H_TAG_DONE, H_WAIT), GT_ECLOSED);
    int end;
    got += peer_drain(p, H_WAIT, &end);
    ASSERT_ERR(end, GT_ECLOSED);
    if (SOCK(b))
        ASSERT(got < BIG); /* the rest was cut */
    else
        ASSERT_EQ(got, BIG); /* inet shut down after its queue */
    ASSERT_ERR(gt_send(s, "x", 1), GT_ECLOSED);
    ASSERT_ERR(gt_send(s, "y", 1), BY(b, -ENOTCONN, GT_ECLOSED));
    ASSERT_ERR(gt_shutdown(s, GT_SHUT_WRITE), BY(b, -ENOTCONN, 0));
    if (SOCK(b)) { /* reading goes on */
        h_send(p, "z");
        ASSERT_RECV(s, 0, H_WAIT, "z");
        ASSERT_OK(gt_shutdown(s, GT_SHUT_READ));
    }
    gt_close(s);
    gt_close(p);
}

typedef struct drain_job {
    gt_socket p;
    gt_pid parent;
} drain_job;

static void drainer(void *arg)
{
    drain_job *j = arg;
    int end;
    h_post_int(j->parent, H_TAG_DONE + 1, (int)peer_drain(j->p, H_WAIT, &end));
}

BOTH(r95_close_is_immediate_under_a_sender)
{
    gt_socket s, p;
    bpair(b, GT_OPTS(GT_ACTIVE_FALSE, GT_SNDBUF(8192)), GT_OPTS(GT_RECBUF(8192)), &s, &p);
    job j = {s, gt_self()};
    h_spawn(big_sender, &j);
    h_wait_int(H_TAG_GO, H_WAIT);
    size_t got = peer_first_bytes(p);
    if (SOCK(b)) {
        /* at once, with the peer not reading; the sender gets closed */
        ASSERT_OK(gt_close(s));
        ASSERT_ERR(h_wait_int(H_TAG_DONE, H_WAIT), GT_ECLOSED);
        int end;
        got += peer_drain(p, H_WAIT, &end);
        ASSERT(got < BIG);
    } else {
        /* inet: the send was queued, and close waits for the queue while
         * the peer reads */
        ASSERT_OK(h_wait_int(H_TAG_DONE, H_WAIT));
        drain_job d = {p, gt_self()};
        h_spawn(drainer, &d);
        ASSERT_OK(gt_close(s));
        got += (size_t)h_wait_int(H_TAG_DONE + 1, 2 * H_WAIT);
        ASSERT_EQ(got, BIG);
    }
    gt_close(p);
}

/* ---- rules 28, 53, 96: error sequences ---- */

BOTH(r96_peer_close_passive_closed_forever)
{
    gt_socket s, p;
    bpair(b, GT_OPTS(GT_ACTIVE_FALSE), GT_NOOPTS, &s, &p);
    gt_close(p);
    ASSERT_RECV_ERR(s, 0, H_WAIT, GT_ECLOSED);
    ASSERT_RECV_ERR(s, 0, H_WAIT, BY(b, -ENOTCONN, GT_ECLOSED));
    if (SOCK(b)) {
        /* the fd is still open: the first send goes to the kernel; the
         * peer's reset makes a later one fail, closed, and never enotconn */
        ASSERT_OK(gt_send(s, "a", 1));
        int rc = 0;
        for (int i = 0; i < 100 && rc == 0; i++)
            if ((rc = gt_send(s, "b", 1)) == 0)
                gt_sleep(10);
        ASSERT_ERR(rc, GT_ECLOSED);
        ASSERT_ERR(gt_send(s, "c", 1), GT_ECLOSED);
        ASSERT_RECV_ERR(s, 0, 100, GT_ECLOSED);
        ASSERT_OK(gt_close(s));
    } else {
        ASSERT_ERR(gt_send(s, "a", 1), GT_ECLOSED);
        ASSERT_ERR(gt_send(s, "b", 1), -ENOTCONN);
        ASSERT_RECV_ERR(s, 0, 100, -ENOTCONN);
        gt_close(s);
    }
}

BOTH(r96_peer_reset_passive_closed_forever)
{
    gt_socket s, p;
    bpair(b, GT_OPTS(GT_ACTIVE_FALSE), GT_NOOPTS, &s, &p);
    rst(p);
    ASSERT_RECV_ERR(s, 0, H_WAIT, GT_ECLOSED);
    ASSERT_RECV_ERR(s, 0, H_WAIT, BY(b, -ENOTCONN, GT_ECLOSED));
    ASSERT_ERR(gt_send(s, "a", 1), GT_ECLOSED);
    ASSERT_ERR(gt_send(s, "b", 1), BY(b, -ENOTCONN, GT_ECLOSED));
    ASSERT_RECV_ERR(s, 0, 100, BY(b, -ENOTCONN, GT_ECLOSED));
    gt_close(s);
}

BOTH(r54_peer_reset_shown_once_then_closed)
{
    gt_socket s, p;
    bpair(b, GT_OPTS(GT_ACTIVE_FALSE, GT_SHOW_ECONNRESET(true)), GT_NOOPTS, &s, &p);
    rst(p);
    ASSERT_RECV_ERR(s, 0, H_WAIT, -ECONNRESET);
    ASSERT_RECV_ERR(s, 0, H_WAIT, BY(b, -ENOTCONN, GT_ECLOSED));
    gt_close(s);
}

/* ---- rules 23, 24, 26: recv ---- */

typedef struct rjob {
    gt_socket s;
    gt_pid parent;
    int tag;
} rjob;

/* recv(S, 0, H_WAIT): posts 1 for "one", 2 for "two", else the error. */
static void reader(void *arg)
{
    rjob *j = arg;
    gt_msg *m = NULL;
    int rc = gt_recv(j->s, 0, H_WAIT, &m);
    if (rc == 0) {
        rc = m->len == 3 && !memcmp(m->data, "one", 3) ? 1
           : m->len == 3 && !memcmp(m->data, "two", 3) ? 2 : -1;
        gt_msg_free(m);
    }
    h_post_int(j->parent, j->tag, rc);
}

BOTH(r98_second_recv_waits_its_turn)
{
    gt_socket s, p;
    bpair(b, GT_OPTS(GT_ACTIVE_FALSE), GT_NOOPTS, &s, &p);
    rjob j1 = {s, gt_self(), 0x5101}, j2 = {s, gt_self(), 0x5102};
    h_spawn(reader, &j1);
    h_spawn(reader, &j2);
    gt_msg *m = NULL;
    int tag;
    if (SOCK(b)) {
        /* neither is refused: one gets "one", the other waits for "two" */
        gt_sleep(H_SETTLE);
        ASSERT(!h_got_tag(0x5101, 0) && !h_got_tag(0x5102, 0));
        h_send(p, "one");
        ASSERT_OK(gt_receive(H_WAIT, &m));
        tag = m->tag;
        ASSERT(tag == 0x5101 || tag == 0x5102);
        int r;
        memcpy(&r, m->data, sizeof r);
        gt_msg_free(m);
        ASSERT_EQ(r, 1);
        h_send(p, "two");
        ASSERT_EQ(h_wait_int(tag == 0x5101 ? 0x5102 : 0x5101, H_WAIT), 2);
    } else {
        /* exactly one of them is refused at once: ealready */
        ASSERT_OK(gt_receive(H_WAIT, &m));
        tag = m->tag;
        int r;
        memcpy(&r, m->data, sizeof r);
        gt_msg_free(m);
        ASSERT_ERR(r, -EALREADY);
        h_send(p, "one");
        ASSERT_EQ(h_wait_int(tag == 0x5101 ? 0x5102 : 0x5101, H_WAIT), 1);
    }
    gt_close(s);
    gt_close(p);
}

BOTH(r98_recv_length_with_packet_and_above_64mib)
{
    gt_socket s, p;
    bpair(b, GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(GT_PKT_2)), GT_OPTS(GT_PACKET(GT_PKT_2)), &s, &p);
    h_send(p, "abc");
    if (SOCK(b))
        ASSERT_RECV(s, 5, H_WAIT, "abc"); /* Length ignored */
    else
        ASSERT_RECV_ERR(s, 5, H_WAIT, -EINVAL);
    gt_close(s);
    gt_close(p);
    bpair(b, GT_OPTS(GT_ACTIVE_FALSE), GT_NOOPTS, &s, &p);
    ASSERT_RECV_ERR(s, (64u << 20) + 1, 100, BY(b, -ENOMEM, GT_ETIMEOUT));
    h_send(p, "abc");
    ASSERT_RECV(s, 0, H_WAIT, "abc");
    gt_close(s);
    gt_close(p);
}

/* ---- rules 78, 79, 83: packets ---- */

static const char oversize[] = "\x00\x14" "0123456789abcdefghij" "\x00\x02" "ok";

BOTH(r99_emsgsize_passive_keeps_the_socket)
{
    gt_socket s, p;
    bpair(b, GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(GT_PKT_2), GT_PACKET_SIZE(8)), GT_NOOPTS, &s, &p);
    ASSERT_OK(gt_send(p, oversize, sizeof oversize - 1));
    ASSERT_RECV_ERR(s, 0, H_WAIT, -EMSGSIZE);
    if (SOCK(b)) {
        /* the bad {packet,2} header stays (gen_tcp_socket peeks at it) */
        ASSERT_RECV_ERR(s, 0, 300, -EMSGSIZE);
        ASSERT_RECV_ERR(s, 0, 300, -EMSGSIZE);
        ASSERT_OK(gt_send(s, "x", 1)); /* {packet,2}: 0,1,"x" */
        gt_msg *m = NULL;
        ASSERT_OK(gt_recv(p, 3, H_WAIT, &m));
        ASSERT_MEM(m->data, m->len, "\x00\x01x", 3);
        gt_msg_free(m);
    } else {
        ASSERT_RECV_ERR(s, 0, 300, -ENOTCONN);
        ASSERT_ERR(gt_send(s, "x", 1), -ENOTCONN);
    }
    gt_close(s);
    gt_close(p);
}

BOTH(r99_emsgsize_active_no_tcp_closed)
{
    gt_socket s, p;
    bpair(b, GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(GT_PKT_2), GT_PACKET_SIZE(8)), GT_NOOPTS, &s, &p);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_TRUE)));
    ASSERT_OK(gt_send(p, oversize, sizeof oversize - 1));
    EXPECT_TCP_ERROR(s, -EMSGSIZE);
    if (SOCK(b)) {
        ASSERT_OPT(s, GT_OPT_ACTIVE, GT_ACTIVE_FALSE_V); /* passive now */
        EXPECT_NO_MSG(s, 200);
        ASSERT_OK(gt_send(p, "\x00\x02ok", 4));
        EXPECT_NO_MSG(s, 200); /* stopped at the bad packet */
        ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_ONCE)));
        EXPECT_TCP_ERROR(s, -EMSGSIZE); /* reported again */
        EXPECT_NO_MSG(s, 100);
    } else {
        EXPECT_MSG(s, GT_MSG_TCP_CLOSED);
    }
    gt_close(s);
    gt_close(p);
}

BOTH(r99_line_cut_at_packet_size)
{
    gt_socket s, p;
    bpair(b, GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(GT_PKT_LINE), GT_BUFFER(5), GT_PACKET_SIZE(10)),
          GT_NOOPTS, &s, &p);
    h_send(p, "0123456789ABC\n");
    if (SOCK(b)) {
        ASSERT_RECV(s, 0, H_WAIT, "0123456789");
        ASSERT_RECV(s, 0, H_WAIT, "ABC\n");
    } else {
        /* gentcp's inet: whole lines, a longer one is emsgsize
         * (docs/DEVIATIONS.md row 7) */
        ASSERT_RECV_ERR(s, 0, H_WAIT, -EMSGSIZE);
    }
    gt_close(s);
    gt_close(p);
}

/* Rule 83 on the socket backend: gen_tcp_socket decodes what it has read
 * with {line_length, P} and {packet_size, P} both, so a line is cut only
 * when exactly P bytes without a delimiter are at hand; more than P (a
 * longer line read at once) is emsgsize, active or passive, as for any
 * oversize packet (rules 78, 79).  OTP 25, P 8, "0123456789ABC\n" in one
 * send: socket {tcp_error,S,emsgsize}, active false, the socket kept, the
 * error again at the next activation after new data, tcp_closed after the
 * peer's close; inet {tcp_error,S,emsgsize} then {tcp_closed,S}. */
static const char long_line[] = "0123456789ABC\n";

static void r83_active_over_packet_size(int b, gt_opt active)
{
    gt_socket s, p;
    bpair(b, GT_OPTS(GT_PACKET(GT_PKT_LINE), GT_PACKET_SIZE(8), active), GT_NOOPTS, &s, &p);
    h_send(p, long_line);
    EXPECT_TCP_ERROR(s, -EMSGSIZE);
    if (SOCK(b)) {
        ASSERT_OPT(s, GT_OPT_ACTIVE, GT_ACTIVE_FALSE_V);
        EXPECT_NO_MSG(s, 200);
        h_send(p, "xy\n");
        EXPECT_NO_MSG(s, 200);
        ASSERT_OK(gt_setopts(s, GT_OPTS(active)));
        EXPECT_TCP_ERROR(s, -EMSGSIZE); /* the long line is still first */
        gt_close(p);
        ASSERT_OK(gt_setopts(s, GT_OPTS(active)));
        EXPECT_MSG(s, GT_MSG_TCP_CLOSED);
    } else {
        EXPECT_MSG(s, GT_MSG_TCP_CLOSED);
        gt_close(p);
    }
    EXPECT_NO_MSG(s, 100);
    gt_close(s);
}

BOTH(r83_line_over_packet_size_active_emsgsize)
{
    r83_active_over_packet_size(b, GT_ACTIVE_TRUE);
    h_flush();
    r83_active_over_packet_size(b, GT_ACTIVE_ONCE);
    h_flush();
    r83_active_over_packet_size(b, GT_ACTIVE_N(2));
}

BOTH(r83_line_over_packet_size_passive_emsgsize)
{
    gt_socket s, p;
    bpair(b, GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(GT_PKT_LINE), GT_PACKET_SIZE(8)), GT_NOOPTS,
          &s, &p);
    h_send(p, long_line);
    ASSERT_RECV_ERR(s, 0, H_WAIT, -EMSGSIZE);
    if (SOCK(b)) {
        ASSERT_RECV_ERR(s, 0, 200, GT_ETIMEOUT);
        h_send(p, "xy\n");
        ASSERT_RECV_ERR(s, 0, H_WAIT, -EMSGSIZE);
        gt_close(p);
        ASSERT_RECV_ERR(s, 0, H_WAIT, GT_ECLOSED);
    } else {
        ASSERT_RECV_ERR(s, 0, 200, -ENOTCONN);
        gt_close(p);
    }
    gt_close(s);
}

/* Exactly P bytes without a delimiter: the socket backend cuts them off
 * (OTP 25: "01234567" then "89ABC\n", active and passive); inet waits
 * for the rest and finds the line too long. */
BOTH(r83_line_of_exactly_packet_size_cut)
{
    for (int passive = 0; passive < 2; passive++) {
        gt_socket s, p;
        bpair(b, GT_OPTS(GT_PACKET(GT_PKT_LINE), GT_PACKET_SIZE(8),
                         passive ? GT_ACTIVE_FALSE : GT_ACTIVE_TRUE),
              GT_NOOPTS, &s, &p);
        h_send(p, "01234567");
        if (SOCK(b) && passive) {
            ASSERT_RECV(s, 0, H_WAIT, "01234567");
            h_send(p, "89ABC\n");
            ASSERT_RECV(s, 0, H_WAIT, "89ABC\n");
        } else if (SOCK(b)) {
            EXPECT_TCP(s, "01234567");
            h_send(p, "89ABC\n");
            EXPECT_TCP(s, "89ABC\n");
        } else if (passive) {
            ASSERT_RECV_ERR(s, 0, 200, GT_ETIMEOUT);
            h_send(p, "89ABC\n");
            ASSERT_RECV_ERR(s, 0, H_WAIT, -EMSGSIZE);
        } else {
            EXPECT_NO_MSG(s, 200);
            h_send(p, "89ABC\n");
            EXPECT_TCP_ERROR(s, -EMSGSIZE);
        }
        gt_close(s);
        gt_close(p);
        h_flush();
    }
}

/* ---- rules 18, 21, 46, 47: active handling ---- */

BOTH(r97_activate_after_passive_eof)
{
    gt_socket s, p;
    bpair(b, GT_OPTS(GT_ACTIVE_FALSE), GT_NOOPTS, &s, &p);
    gt_close(p);
    ASSERT_RECV_ERR(s, 0, H_WAIT, GT_ECLOSED);
    if (SOCK(b)) {
        ASSERT_ERR(gt_setopts(s, GT_OPTS(GT_ACTIVE_TRUE)), -EINVAL);
        EXPECT_NO_MSG(s, 100);
        ASSERT_ERR(gt_setopts(s, GT_OPTS(GT_ACTIVE_ONCE)), -EINVAL);
        EXPECT_NO_MSG(s, 100);
    } else {
        ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_TRUE)));
        EXPECT_MSG(s, GT_MSG_TCP_CLOSED);
        EXPECT_NO_MSG(s, 100);
    }
    gt_close(s);
}

BOTH(r97_active_eof_exit_on_close_false_reactivate)
{
    gt_socket s, p;
    bpair(b, GT_OPTS(GT_ACTIVE_TRUE, GT_EXIT_ON_CLOSE(false)), GT_NOOPTS, &s, &p);
    gt_close(p);
    EXPECT_MSG(s, GT_MSG_TCP_CLOSED);
    ASSERT_ERR(gt_setopts(s, GT_OPTS(GT_ACTIVE_FALSE)), BY(b, 0, -EINVAL));
    ASSERT_RECV_ERR(s, 0, 100, GT_ECLOSED);
    ASSERT_ERR(gt_setopts(s, GT_OPTS(GT_ACTIVE_TRUE)), BY(b, 0, -EINVAL));
    EXPECT_NO_MSG(s, 100);
    gt_close(s);
}

BOTH(r46_active_eof_socket_stays_open)
{
    gt_socket s, p;
    bpair(b, GT_OPTS(GT_ACTIVE_TRUE), GT_NOOPTS, &s, &p);
    gt_close(p);
    EXPECT_MSG(s, GT_MSG_TCP_CLOSED);
    ASSERT_ERR(gt_send(s, "x", 1), BY(b, GT_ECLOSED, 0));
    ASSERT_RECV_ERR(s, 0, 100, GT_ECLOSED);
    ASSERT_ERR(gt_setopts(s, GT_OPTS(GT_ACTIVE_TRUE)), -EINVAL);
    ASSERT_ERR(gt_close(s), 0);
}

BOTH(r97_active_false_from_n_sends_tcp_passive)
{
    gt_socket s, p;
    bpair(b, GT_OPTS(GT_ACTIVE_N(3)), GT_NOOPTS, &s, &p);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_FALSE)));
    if (SOCK(b))
        EXPECT_MSG(s, GT_MSG_TCP_PASSIVE);
    EXPECT_NO_MSG(s, 100);
    gt_close(s);
    gt_close(p);
}

/* ---- rule 59: controlling_process to a dead process ---- */

static void nothing(void *arg) { (void)arg; }

BOTH(r100_controlling_process_to_dead_pid)
{
    gt_socket s, p;
    bpair(b, GT_OPTS(GT_ACTIVE_ONCE), GT_NOOPTS, &s, &p);
    h_send(p, "hi");
    /* {active,once} turns false once "hi" is in the mailbox */
    for (int i = 0; i < H_WAIT / 5 && h_geti(s, GT_OPT_ACTIVE) != GT_ACTIVE_FALSE_V; i++)
        gt_sleep(5);
    ASSERT_OPT(s, GT_OPT_ACTIVE, GT_ACTIVE_FALSE_V);
    gt_pid dead = h_spawn(nothing, NULL);
    h_wait_dead(dead);
    ASSERT_ERR(gt_controlling_process(s, dead), BY(b, GT_EBADARG, 0));
    if (SOCK(b)) {
        /* the dead owner's exit closed it */
        gt_opt o = {.name = GT_OPT_ACTIVE};
        ASSERT_ERR(gt_getopts(s, &o, 1), GT_ECLOSED);
        ASSERT_RECV_ERR(s, 0, 100, GT_ECLOSED);
    } else {
        ASSERT_OPT(s, GT_OPT_ACTIVE, GT_ACTIVE_FALSE_V);
    }
    /* either way the data already delivered stays with the caller
     * (docs/DEVIATIONS.md row 9) */
    EXPECT_TCP(s, "hi");
    gt_close(s);
    gt_close(p);
}

/* ---- the process-wide default ---- */

GT_TEST(r92_default_backend_from_environment)
{
    /* the variable is read once, at the first socket of the process (this
     * test's own: the runner forks one process per test) */
    setenv("GENTCP_INET_BACKEND", "socket", 1);
    gt_socket l = h_listen(GT_NOOPTS);
    ASSERT_OPT(l, GT_OPT_PACKET_SIZE, 64 << 20); /* the socket backend's */
    ASSERT_OK(gt_close(l));
    ASSERT_ERR(gt_close(l), GT_ECLOSED);
    /* an explicit first option wins over the environment */
    ASSERT_OK(gt_listen(0, GT_OPTS(GT_INET_BACKEND(GT_BACKEND_INET), GT_IP("127.0.0.1")), &l));
    ASSERT_OPT(l, GT_OPT_PACKET_SIZE, 0);
    ASSERT_OK(gt_close(l));
    ASSERT_OK(gt_close(l));
}

/* Rule 101, AF_UNIX + nodelay (ignored on inet, enotsup on the socket
 * backend), runs on both backends in local_test.c
 * (i9_03_local_options_as_otp25), where local sockets are made. */

/* ---- gt_send_many: one lock and one write on inet, packet by packet on
 * the socket backend; the peer gets the same frames ---- */

BOTH(r35_send_many_on_both_backends)
{
    gt_socket s, p;
    bpair(b, GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(GT_PKT_2)), GT_OPTS(GT_PACKET(GT_PKT_2)), &s, &p);
    struct iovec v[3] = {{"one", 3}, {"", 0}, {"three", 5}};
    int sent = -1;
    ASSERT_OK(gt_send_many(s, v, 3, &sent));
    ASSERT_EQ(sent, 3);
    ASSERT_RECV(p, 0, H_WAIT, "one");
    ASSERT_RECV(p, 0, H_WAIT, "");
    ASSERT_RECV(p, 0, H_WAIT, "three");
    gt_close(s);
    gt_close(p);
}

/* ---- rules 51, 54: show_econnreset on the socket backend ---- */

/* gen_tcp_socket reports any end of input as econnreset with
 * show_econnreset, a FIN included (tests/interop/diff-cases.txt
 * sockbk/r54_fin_show_*) */
BOTH(r54_fin_with_show_econnreset)
{
    gt_socket s, p;
    bpair(b, GT_OPTS(GT_ACTIVE_FALSE, GT_SHOW_ECONNRESET(true)), GT_NOOPTS, &s, &p);
    gt_close(p);
    ASSERT_RECV_ERR(s, 0, H_WAIT, BY(b, GT_ECLOSED, -ECONNRESET));
    ASSERT_RECV_ERR(s, 0, H_WAIT, BY(b, -ENOTCONN, GT_ECLOSED));
    gt_close(s);
    bpair(b, GT_OPTS(GT_ACTIVE_TRUE, GT_SHOW_ECONNRESET(true)), GT_NOOPTS, &s, &p);
    gt_close(p);
    if (SOCK(b))
        EXPECT_TCP_ERROR(s, -ECONNRESET);
    EXPECT_MSG(s, GT_MSG_TCP_CLOSED);
    EXPECT_NO_MSG(s, 100);
    gt_close(s);
}

/* A reset read by recv: gen_tcp_socket closes the socket, so sends answer
 * closed and options einval, and close is ok once, then closed. */
BOTH(r53_reset_read_closes_the_socket_backend)
{
    gt_socket s, p;
    bpair(b, GT_OPTS(GT_ACTIVE_FALSE), GT_NOOPTS, &s, &p);
    rst(p);
    ASSERT_RECV_ERR(s, 0, H_WAIT, GT_ECLOSED);
    if (SOCK(b)) {
        ASSERT_ERR(gt_send(s, "a", 1), GT_ECLOSED);
        ASSERT_ERR(gt_send(s, "b", 1), GT_ECLOSED);
        gt_opt o = {.name = GT_OPT_ACTIVE};
        ASSERT_ERR(gt_getopts(s, &o, 1), -EINVAL);
        ASSERT_ERR(gt_setopts(s, GT_OPTS(GT_ACTIVE_TRUE)), -EINVAL);
        ASSERT_OK(gt_close(s));
        ASSERT_ERR(gt_close(s), GT_ECLOSED);
    } else {
        ASSERT_ERR(gt_send(s, "a", 1), GT_ECLOSED);
        ASSERT_OPT(s, GT_OPT_ACTIVE, GT_ACTIVE_FALSE_V);
        ASSERT_OK(gt_close(s));
        ASSERT_OK(gt_close(s));
    }
}

/* After our own shutdown(write) a send's EPIPE is a reset to both
 * backends: econnreset with show_econnreset; the socket backend says so
 * every time. */
BOTH(r51_send_after_shutdown_with_show_econnreset)
{
    gt_socket s, p;
    bpair(b, GT_OPTS(GT_ACTIVE_FALSE, GT_SHOW_ECONNRESET(true)), GT_NOOPTS, &s, &p);
    ASSERT_OK(gt_shutdown(s, GT_SHUT_WRITE));
    ASSERT_RECV_ERR(p, 0, H_WAIT, GT_ECLOSED);
    ASSERT_ERR(gt_send(s, "a", 1), -ECONNRESET);
    ASSERT_ERR(gt_send(s, "b", 1), BY(b, -ENOTCONN, -ECONNRESET));
    gt_close(s);
}

/* ---- rule 42: close and a tcp_closed already in the mailbox ---- */

BOTH(r42_close_takes_tcp_closed_on_inet_only)
{
    gt_socket s, p;
    bpair(b, GT_OPTS(GT_ACTIVE_TRUE), GT_NOOPTS, &s, &p);
    gt_close(p);
    size_t n = 0;
    for (int i = 0; i < H_WAIT / 5 && gt_mailbox_len(gt_self(), &n) == 0 && n < 1; i++)
        gt_sleep(5);
    ASSERT_EQ(n, 1); /* the tcp_closed */
    ASSERT_OK(gt_close(s));
    if (SOCK(b))
        EXPECT_MSG(s, GT_MSG_TCP_CLOSED); /* gen_tcp_socket leaves it */
    EXPECT_NO_MSG(s, 50);
}

/* Other packet types: inet (exit_on_close=false) throws the input away and
 * reads on; gen_tcp_socket keeps the bad bytes and decodes them again with
 * the next bytes that arrive: timeout while none come, then emsgsize again
 * (tests/interop/diff-cases.txt sockbk/r78_http_emsgsize_kept). */
BOTH(r78_emsgsize_http_kept_or_dropped)
{
    gt_socket s, p;
    bpair(b, GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(GT_PKT_HTTP_BIN), GT_PACKET_SIZE(20),
                     GT_EXIT_ON_CLOSE(false)), GT_NOOPTS, &s, &p);
    h_send(p, "GET /abcdefghijklmnopqrstuvwxyz HTTP/1.1\r\n");
    ASSERT_RECV_ERR(s, 0, H_WAIT, -EMSGSIZE);
    ASSERT_RECV_ERR(s, 0, 100, GT_ETIMEOUT);
    h_send(p, "GET / HTTP/1.1\r\n");
    if (SOCK(b)) {
        ASSERT_RECV_ERR(s, 0, H_WAIT, -EMSGSIZE);
        gt_close(p); /* the end drops the bad bytes */
        ASSERT_RECV_ERR(s, 0, H_WAIT, GT_ECLOSED);
    } else {
        gt_msg *m = NULL;
        ASSERT_OK(gt_recv(s, 0, H_WAIT, &m));
        ASSERT_EQ(m->kind, GT_MSG_HTTP);
        gt_msg_free(m);
        gt_close(p);
    }
    gt_close(s);
}
