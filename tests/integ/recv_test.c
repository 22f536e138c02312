/*
 * recv_test.c -- docs/spec/semantics.md §3, gen_tcp:recv (rules 22-30 except 27), [inet].
 * S = socket under test (accepted, passive), P = its peer (passive).
 */
#include "helpers.h"
#include "h_probe.h"

/* A helper process that sends a string on a socket after a short pause. */
struct late_send {
    gt_socket sock;
    const char *data;
    int delay_ms;
};

static void late_send_fn(void *arg)
{
    struct late_send *ls = arg;
    gt_sleep(ls->delay_ms); /* the behaviour under test: data that comes late */
    gt_send(ls->sock, ls->data, strlen(ls->data));
}

/* A helper process that does one recv and posts the result back. */
struct recv_job {
    gt_pid parent;
    gt_socket sock;
    size_t len;
    int64_t timeout;
    char got[64];
    size_t got_len;
};

static void recv_job_fn(void *arg)
{
    struct recv_job *j = arg;
    h_post_int(j->parent, H_TAG_GO, 0);
    gt_msg *m = NULL;
    int rc = gt_recv(j->sock, j->len, j->timeout, &m);
    if (rc == 0) {
        j->got_len = m->len < sizeof j->got ? m->len : sizeof j->got;
        memcpy(j->got, m->data, j->got_len);
        gt_msg_free(m);
    }
    h_post_int(j->parent, H_TAG_DONE, rc);
}

/* r22: length 0 in raw mode returns what is available, at most buffer bytes. */
GT_TEST(r22_recv0_raw_capped_by_buffer)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    static char big[100000];
    memset(big, 'q', sizeof big);
    ASSERT_OK(gt_send(p, big, sizeof big));
    h_wait_inq(s, 1461); /* more than buffer: the cap decides */
    gt_msg *m = NULL;
    ASSERT_OK(gt_recv(s, 0, H_WAIT, &m));
    ASSERT(m->len >= 1 && m->len <= 1460); /* default buffer 1460 */
    gt_msg_free(m);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_BUFFER(10))));
    ASSERT_OK(gt_recv(s, 0, H_WAIT, &m));
    ASSERT(m->len >= 1 && m->len <= 10);
    gt_msg_free(m);
}

/* r22: length 0 with a packet type returns exactly one packet. */
GT_TEST(r22_recv0_one_packet)
{
    gt_socket p, s;
    h_pair(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(2)), GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(2)), NULL,
           &p, &s);
    h_send(p, "first");
    h_send(p, "second");
    h_wait_inq(s, 15);
    ASSERT_RECV(s, 0, H_WAIT, "first");
    ASSERT_RECV(s, 0, H_WAIT, "second");
    ASSERT_RECV_ERR(s, 0, 0, GT_ETIMEOUT);
}

/* r23: length N returns exactly N bytes, waiting for more as needed. */
GT_TEST(r23_recv_n_waits_for_exactly_n)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    h_send(p, "abc");
    struct late_send ls = {p, "defg", 50};
    h_spawn(late_send_fn, &ls);
    ASSERT_RECV(s, 5, H_WAIT, "abcde");
    ASSERT_RECV(s, 0, H_WAIT, "fg");
}

/* r23: length N may exceed buffer (100000 bytes in one recv). */
GT_TEST(r23_recv_n_larger_than_buffer)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    static char big[100000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)('a' + i % 26);
    ASSERT_OK(gt_send(p, big, sizeof big));
    gt_msg *m = NULL;
    ASSERT_OK(gt_recv(s, sizeof big, H_WAIT, &m));
    ASSERT_EQ(m->len, sizeof big);
    ASSERT(memcmp(m->data, big, sizeof big) == 0);
    gt_msg_free(m);
}

/* r23: a timed-out recv(S,N) keeps the partial bytes for the next recv. */
GT_TEST(r23_recv_n_timeout_keeps_partial)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    h_send(p, "abc");
    ASSERT_RECV_ERR(s, 5, 100, GT_ETIMEOUT);
    h_send(p, "de");
    ASSERT_RECV(s, 5, H_WAIT, "abcde");
}

/* r23: length > 64 MiB -> enomem [inet]; exactly 64 MiB is accepted (waits). */
GT_TEST(r23_recv_n_over_64mib_enomem)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    ASSERT_RECV_ERR(s, 0x4000001, 10, -ENOMEM);
    ASSERT_RECV_ERR(s, 0x4000000, 10, GT_ETIMEOUT);
    h_send(p, "still");
    ASSERT_RECV(s, 0, H_WAIT, "still");
}

/* r24: length > 0 with packet != raw -> einval [inet]. */
GT_TEST(r24_recv_n_with_packet_einval)
{
    gt_socket p, s;
    h_pair(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(2)), GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(2)), NULL,
           &p, &s);
    h_send(p, "pkt");
    h_wait_inq(s, 5);
    ASSERT_RECV_ERR(s, 3, H_WAIT, -EINVAL);
    ASSERT_RECV(s, 0, H_WAIT, "pkt"); /* nothing lost */
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_PACKET(4))));
    ASSERT_RECV_ERR(s, 1, 0, -EINVAL);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_PACKET(1))));
    ASSERT_RECV_ERR(s, 1, 0, -EINVAL);
}

/* r25: recv(S,0,0) with nothing buffered -> timeout at once. */
GT_TEST(r25_recv_timeout_zero)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    ASSERT_RECV_ERR(s, 0, 0, GT_ETIMEOUT);
    ASSERT_RECV_ERR(s, 3, 0, GT_ETIMEOUT);
    ASSERT_RECV_ERR(s, 0, 50, GT_ETIMEOUT);
}

/* r25 (E): recv(S,0,0) and recv(S,N,0) return data that is already there. */
GT_TEST(r25_recv_timeout_zero_with_data)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    h_send(p, "abc");
    h_wait_inq(s, 3);
    ASSERT_RECV(s, 0, 0, "abc");
    h_send(p, "xyz");
    h_wait_inq(s, 3);
    ASSERT_RECV(s, 3, 0, "xyz");
}

/* recv(S,0,0) and recv(S,N,0) read what the kernel already holds at once,
 * before the runtime has taken the readiness edge, on both backends (E,
 * OTP 25: bytes sent, 100 ms, recv(S,0,0) -> {ok,Bytes}); so does the end
 * of input (recv(S,0,0) -> {error,closed}).  Only the kernel is waited
 * for, never the runtime. */
static void zero_timeout_reads_kernel_on(int backend)
{
    int port;
    int lfd = h_raw_listen(&port);
    gt_socket s = h_connect(port, GT_OPTS(GT_INET_BACKEND(backend), GT_ACTIVE_FALSE));
    int fd = h_raw_accept(lfd);
    /* Whether the runtime took the edge before the recv is a race: many
     * rounds, so that a recv that looked only at the flag fails. */
    for (int i = 0; i < 20; i++) {
        h_raw_send(fd, "abc");
        h_wait_inq(s, 3);
        ASSERT_RECV(s, 0, 0, "abc");
        h_raw_send(fd, "xyz");
        h_wait_inq(s, 3);
        ASSERT_RECV(s, 3, 0, "xyz");
        ASSERT_RECV_ERR(s, 0, 0, GT_ETIMEOUT); /* nothing there: timeout */
    }
    close(fd);
    h_wait_peer_end(s);
    ASSERT_RECV_ERR(s, 0, 0, GT_ECLOSED);
    close(lfd);
    gt_close(s);
}

GT_TEST(i8_zero_timeout_recv_reads_kernel_data)
{
    zero_timeout_reads_kernel_on(GT_BACKEND_INET);
    zero_timeout_reads_kernel_on(GT_BACKEND_SOCKET);
}

/* gentcp.h: a negative timeout other than GT_INFINITY is treated as 0. */
GT_TEST(r25_recv_negative_timeout_polls)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    ASSERT_RECV_ERR(s, 0, -5, GT_ETIMEOUT);
    struct late_send ls = {p, "inf", 50};
    h_spawn(late_send_fn, &ls);
    ASSERT_RECV(s, 0, GT_INFINITY, "inf");
}

/* r25: a timed-out recv never loses a partial {packet,2} frame [inet]. */
GT_TEST(r25_timeout_keeps_partial_packet)
{
    int fd;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(2)), &fd);
    h_raw_write(fd, "\0\5ab", 4);
    ASSERT_RECV_ERR(s, 0, 100, GT_ETIMEOUT);
    h_raw_write(fd, "cde\0\2xy", 7);
    ASSERT_RECV(s, 0, H_WAIT, "abcde");
    ASSERT_RECV(s, 0, H_WAIT, "xy");
    close(fd);
}

/* r26: a second concurrent recv gets ealready at once [inet]; any process
 * (not only the owner) may recv. */
GT_TEST(r26_concurrent_recv_ealready)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    struct recv_job j = {.parent = gt_self(), .sock = s, .len = 0, .timeout = H_WAIT};
    h_spawn(recv_job_fn, &j);
    h_wait_int(H_TAG_GO, H_WAIT);
    H_WAIT_UNTIL(h_sock_recv_pending(s));
    ASSERT_RECV_ERR(s, 0, H_WAIT, -EALREADY);
    h_send(p, "x");
    ASSERT_OK(h_wait_int(H_TAG_DONE, H_WAIT));
    ASSERT_MEM(j.got, j.got_len, "x", 1);
}

/* r27 is a deliberate gentcp difference (partial data at close): not tested. */

/* r28: after {error,closed}: recv -> enotconn; first send -> closed, later
 * sends -> enotconn (E: [closed, enotconn, closed, enotconn, enotconn]). */
GT_TEST(r28_delayed_close_recv_first)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    ASSERT_OK(gt_close(p));
    ASSERT_RECV_ERR(s, 0, H_WAIT, GT_ECLOSED);
    ASSERT_RECV_ERR(s, 0, H_WAIT, -ENOTCONN);
    ASSERT_ERR(gt_send(s, "x", 1), GT_ECLOSED);
    ASSERT_ERR(gt_send(s, "x", 1), -ENOTCONN);
    ASSERT_RECV_ERR(s, 0, H_WAIT, -ENOTCONN);
}

/* r28: E: [recv closed, send closed, send enotconn, recv enotconn]. */
GT_TEST(r28_delayed_close_send_after_recv)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    ASSERT_OK(gt_close(p));
    ASSERT_RECV_ERR(s, 0, H_WAIT, GT_ECLOSED);
    ASSERT_ERR(gt_send(s, "x", 1), GT_ECLOSED);
    ASSERT_ERR(gt_send(s, "x", 1), -ENOTCONN);
    ASSERT_RECV_ERR(s, 0, H_WAIT, -ENOTCONN);
    /* the handle stays valid: close is still ok */
    ASSERT_OK(gt_close(s));
}

/* r28 with r22: buffered data first, then closed, then enotconn. */
GT_TEST(r28_data_then_closed_then_enotconn)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    h_send(p, "data");
    ASSERT_OK(gt_close(p));
    h_wait_peer_end(s);
    ASSERT_RECV(s, 0, H_WAIT, "data");
    ASSERT_RECV_ERR(s, 0, H_WAIT, GT_ECLOSED);
    ASSERT_RECV_ERR(s, 0, H_WAIT, -ENOTCONN);
}

/* r29: recv on a listen socket -> enotconn. */
GT_TEST(r29_recv_on_listen_enotconn)
{
    gt_socket l = h_listen(GT_OPTS(GT_ACTIVE_FALSE));
    ASSERT_RECV_ERR(l, 0, 100, -ENOTCONN);
}

/* r29/r44: recv on a socket closed by the caller -> closed. */
GT_TEST(r29_recv_after_own_close_closed)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    ASSERT_OK(gt_close(s));
    ASSERT_RECV_ERR(s, 0, 100, GT_ECLOSED);
    ASSERT_RECV_ERR(s, 0, 0, GT_ECLOSED);
}

/* r30: passive close detection is lazy: a send right after the peer's FIN
 * succeeds. */
GT_TEST(r30_send_after_peer_fin_ok)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    ASSERT_OK(gt_close(p));
    h_wait_peer_end(s);
    ASSERT_OK(gt_send(s, "x", 1));
}
