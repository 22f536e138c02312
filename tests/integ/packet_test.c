/*
 * packet_test.c -- docs/spec/semantics.md §8 for {packet, 0|1|2|4} (rules 76-80), plus
 * packet_size (r9), the empty send (r37) and gentcp's deliberate difference
 * from rule 36 (a payload too long for a {packet,1|2} header -> -EMSGSIZE,
 * nothing sent; see gentcp.h gt_send).  [inet]
 */
#include "helpers.h"
#include "h_probe.h"

static gt_socket raw_server(int type, int packet_size, bool active, bool eoc, int *fd)
{
    gt_opt o[4] = {active ? GT_ACTIVE_TRUE : GT_ACTIVE_FALSE, GT_PACKET(type),
                   GT_PACKET_SIZE(packet_size), GT_EXIT_ON_CLOSE(eoc)};
    return h_raw_peer_server((gt_optlist){o, 4}, fd);
}

/* r77: {packet,1|2|4} deliver the body only (passive). */
GT_TEST(r77_header_stripped_passive)
{
    int fd;
    gt_socket s1 = raw_server(1, 0, false, true, &fd);
    h_raw_write(fd, "\3abc", 4);
    ASSERT_RECV(s1, 0, H_WAIT, "abc");
    close(fd);
    gt_socket s2 = raw_server(2, 0, false, true, &fd);
    h_raw_write(fd, "\0\5hello\0\2hi", 11);
    ASSERT_RECV(s2, 0, H_WAIT, "hello");
    ASSERT_RECV(s2, 0, H_WAIT, "hi");
    close(fd);
    gt_socket s4 = raw_server(4, 0, false, true, &fd);
    h_raw_write(fd, "\0\0\0\4four", 8);
    ASSERT_RECV(s4, 0, H_WAIT, "four");
    close(fd);
}

/* r77/r13: ... and in active mode, one message per packet. */
GT_TEST(r77_header_stripped_active)
{
    int fd;
    gt_socket s = raw_server(2, 0, true, true, &fd);
    h_raw_write(fd, "\0\3one\0\3two\0\5three", 17);
    EXPECT_TCP(s, "one");
    EXPECT_TCP(s, "two");
    EXPECT_TCP(s, "three");
    EXPECT_NO_MSG(s, 50);
    close(fd);
    EXPECT_MSG(s, GT_MSG_TCP_CLOSED);
}

/* r77: a frame split across many writes is delivered whole. */
GT_TEST(r77_frame_split_across_writes)
{
    int fd;
    gt_socket s = raw_server(4, 0, false, true, &fd);
    const char frame[] = "\0\0\0\12abcdefghij";
    for (size_t i = 0; i < sizeof frame - 1; i++) {
        h_raw_write(fd, frame + i, 1);
        h_wait_inq(s, i + 1); /* one segment per byte */
    }
    ASSERT_RECV(s, 0, H_WAIT, "abcdefghij");
    close(fd);
}

/* r76/r36: gentcp to gentcp, each type frames on send and strips on receive. */
GT_TEST(r77_roundtrip_each_type)
{
    static const int types[] = {1, 2, 4};
    for (size_t i = 0; i < 3; i++) {
        gt_socket p, s;
        h_pair(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(types[i])),
               GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(types[i])), NULL, &p, &s);
        h_send(p, "alpha");
        h_send(p, "beta");
        ASSERT_RECV(s, 0, H_WAIT, "alpha");
        ASSERT_RECV(s, 0, H_WAIT, "beta");
    }
}

/* r36: {packet,N} prepends the size big-endian; raw sends data unchanged. */
GT_TEST(r36_send_header_on_wire)
{
    int fd;
    gt_socket c = h_raw_peer_client(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(1)), &fd);
    h_send(c, "abc");
    ASSERT_RAW_READ(fd, "\3abc", 4);
    ASSERT_OK(gt_setopts(c, GT_OPTS(GT_PACKET(2))));
    h_send(c, "abc");
    ASSERT_RAW_READ(fd, "\0\3abc", 5);
    ASSERT_OK(gt_setopts(c, GT_OPTS(GT_PACKET(4))));
    h_send(c, "abc");
    ASSERT_RAW_READ(fd, "\0\0\0\3abc", 7);
    ASSERT_OK(gt_setopts(c, GT_OPTS(GT_PACKET(0))));
    h_send(c, "abc");
    ASSERT_RAW_READ(fd, "abc", 3);
    close(fd);
}

/* r36 (gentcp deviation): {packet,1} payload > 255 -> -EMSGSIZE, nothing is
 * sent; 255 is fine. */
GT_TEST(r36_dev_packet1_too_long_emsgsize)
{
    int fd;
    gt_socket c = h_raw_peer_client(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(1)), &fd);
    static char buf[300];
    memset(buf, 'z', sizeof buf);
    ASSERT_ERR(gt_send(c, buf, 256), -EMSGSIZE);
    ASSERT_ERR(gt_send(c, buf, 300), -EMSGSIZE);
    ASSERT_OK(gt_send(c, "ok", 2));
    ASSERT_RAW_READ(fd, "\2ok", 3); /* nothing of the failed sends */
    ASSERT_OK(gt_send(c, buf, 255));
    char hdr;
    h_raw_read_exact(fd, &hdr, 1);
    ASSERT_EQ((unsigned char)hdr, 255);
    ASSERT_RAW_READ(fd, buf, 255);
    ASSERT(h_raw_quiet(fd, 50));
    close(fd);
}

/* r36 (gentcp deviation): {packet,2} payload > 65535 -> -EMSGSIZE, nothing
 * sent (also through gt_sendv); 65535 is fine. */
GT_TEST(r36_dev_packet2_too_long_emsgsize)
{
    int fd;
    gt_socket c = h_raw_peer_client(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(2)), &fd);
    static char buf[70000];
    memset(buf, 'y', sizeof buf);
    ASSERT_ERR(gt_send(c, buf, 65536), -EMSGSIZE);
    ASSERT_ERR(gt_send(c, buf, 70000), -EMSGSIZE);
    struct iovec iov[2] = {{buf, 40000}, {buf, 30000}};
    ASSERT_ERR(gt_sendv(c, iov, 2), -EMSGSIZE);
    ASSERT_OK(gt_send(c, "ok", 2));
    ASSERT_RAW_READ(fd, "\0\2ok", 4);
    ASSERT_OK(gt_send(c, buf, 65535));
    unsigned char hdr[2];
    h_raw_read_exact(fd, hdr, 2);
    ASSERT_EQ(hdr[0] << 8 | hdr[1], 65535);
    ASSERT_RAW_READ(fd, buf, 65535);
    ASSERT(h_raw_quiet(fd, 50));
    close(fd);
}

/* r36/gt_sendv: the iovecs are one packet. */
GT_TEST(r36_sendv_one_packet)
{
    gt_socket p, s;
    h_pair(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(2)), GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(2)), NULL,
           &p, &s);
    struct iovec iov[3] = {{"ab", 2}, {"", 0}, {"cde", 3}};
    ASSERT_OK(gt_sendv(p, iov, 3));
    ASSERT_RECV(s, 0, H_WAIT, "abcde");
}

/* r37: raw empty send -> ok, nothing on the wire; {packet,2} empty send ->
 * <<0,0>>. */
GT_TEST(r37_empty_send)
{
    int fd;
    gt_socket c = h_raw_peer_client(GT_OPTS(GT_ACTIVE_FALSE), &fd);
    ASSERT_OK(gt_send(c, "", 0));
    ASSERT(h_raw_quiet(fd, 50));
    ASSERT_OK(gt_setopts(c, GT_OPTS(GT_PACKET(2))));
    ASSERT_OK(gt_send(c, "", 0));
    ASSERT_RAW_READ(fd, "\0\0", 2);
    close(fd);
}

/* r80: a zero-length {packet,2} frame -> an empty packet, passive and active. */
GT_TEST(r80_zero_length_frame)
{
    int fd;
    gt_socket s = raw_server(2, 0, false, true, &fd);
    h_raw_write(fd, "\0\0\0\1x", 5);
    gt_msg *m = NULL;
    ASSERT_OK(gt_recv(s, 0, H_WAIT, &m));
    ASSERT_EQ(m->kind, GT_MSG_TCP);
    ASSERT_EQ(m->len, 0);
    gt_msg_free(m);
    ASSERT_RECV(s, 0, H_WAIT, "x");
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_TRUE)));
    h_raw_write(fd, "\0\0", 2);
    m = h_expect(s, GT_MSG_TCP);
    ASSERT_EQ(m->len, 0);
    gt_msg_free(m);
    close(fd);
}

/* r80/r37: gentcp to gentcp, empty {packet,4} packets. */
GT_TEST(r80_zero_length_roundtrip)
{
    gt_socket p, s;
    h_pair(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(4)), GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(4)), NULL,
           &p, &s);
    ASSERT_OK(gt_send(p, "", 0));
    h_send(p, "after");
    gt_msg *m = NULL;
    ASSERT_OK(gt_recv(s, 0, H_WAIT, &m));
    ASSERT_EQ(m->len, 0);
    gt_msg_free(m);
    ASSERT_RECV(s, 0, H_WAIT, "after");
}

/* r78/r9: a packet of exactly packet_size is fine; one byte more ->
 * emsgsize; exit_on_close=true then closes the socket: recv/send ->
 * enotconn, the peer sees closed.  (E: [emsgsize, enotconn, enotconn,
 * enotconn], peer closed) */
GT_TEST(r78_oversize_passive_closes)
{
    gt_socket p, s;
    h_pair(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(2), GT_PACKET_SIZE(10)), GT_OPTS(GT_ACTIVE_FALSE),
           NULL, &p, &s);
    ASSERT_OK(gt_send(p, "\0\0120123456789", 12));
    ASSERT_RECV(s, 0, H_WAIT, "0123456789");
    ASSERT_OK(gt_send(p, "\0\0130123456789A", 13));
    h_wait_inq(s, 13);
    ASSERT_RECV_ERR(s, 0, H_WAIT, -EMSGSIZE);
    ASSERT_RECV_ERR(s, 0, H_WAIT, -ENOTCONN);
    ASSERT_ERR(gt_send(s, "x", 1), -ENOTCONN);
    ASSERT_ERR(gt_send(s, "x", 1), -ENOTCONN);
    ASSERT_RECV_ERR(p, 0, H_WAIT, GT_ECLOSED);
}

/* r78: exit_on_close=false: the input read so far is thrown away; the next
 * recv times out while nothing more comes, send still works; activation
 * sends nothing. */
GT_TEST(r78_oversize_passive_exit_on_close_false)
{
    int fd;
    gt_socket s = raw_server(2, 10, false, false, &fd);
    h_raw_write(fd, "\0\0130123456789A", 13);
    ASSERT_RECV_ERR(s, 0, H_WAIT, -EMSGSIZE);
    ASSERT_RECV_ERR(s, 0, 100, GT_ETIMEOUT);
    ASSERT_OK(gt_send(s, "\0\1x", 3)); /* a {packet,2} frame of "x" */
    ASSERT_RAW_READ(fd, "\0\3\0\1x", 5);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_ONCE)));
    EXPECT_NO_MSG(s, 100);
    close(fd);
}

/* r78: exit_on_close=false: after emsgsize inet throws its buffer away and
 * reads on: the next packet arrives, then the peer's FIN is closed (live
 * node, diff-cases.txt n3_emsgsize_eocf_then_data / _then_fin: E [emsgsize,
 * timeout, {ok,"ok"}], [emsgsize, timeout, closed]); it never hangs. */
GT_TEST(r78_oversize_exit_on_close_false_reads_on)
{
    int fd;
    gt_socket s = raw_server(2, 8, false, false, &fd);
    h_raw_write(fd, "\0\0240123456789abcdefghij", 22);
    ASSERT_RECV_ERR(s, 0, H_WAIT, -EMSGSIZE);
    ASSERT_RECV_ERR(s, 0, 100, GT_ETIMEOUT);
    h_raw_write(fd, "\0\2ok", 4);
    ASSERT_RECV(s, 0, H_WAIT, "ok");
    ASSERT_OK(shutdown(fd, SHUT_WR));
    ASSERT_RECV_ERR(s, 0, H_WAIT, GT_ECLOSED);
    ASSERT_OK(gt_send(s, "x", 1));
    close(fd);
}

/* r79: active, exit_on_close=false: the oversize input is dropped (inet's
 * tcp_recv_error), not kept until close; delivery pauses until the active
 * mode changes (inet selects for input again only then), and a passive
 * recv reads on (E h7: [tcp_error, tcp_closed], [], {active,once}: [ok]). */
GT_TEST(r79_oversize_active_drops_input_then_pauses)
{
    int fd;
    gt_socket s = raw_server(2, 10, true, false, &fd);
    h_raw_write(fd, "\0\0130123456789A", 13);
    EXPECT_TCP_ERROR(s, -EMSGSIZE);
    EXPECT_MSG(s, GT_MSG_TCP_CLOSED);
    h_raw_write(fd, "\0\2ok", 4);
    EXPECT_NO_MSG(s, 100);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_TRUE))); /* no change: still paused */
    EXPECT_NO_MSG(s, 100);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_ONCE)));
    EXPECT_TCP(s, "ok");
    h_raw_write(fd, "\0\2hi", 4);
    ASSERT_RECV(s, 0, H_WAIT, "hi"); /* passive now: reads on */
    close(fd);
}

/* r79: oversize, active: {tcp_error,S,emsgsize} then {tcp_closed,S};
 * afterwards send/recv -> closed and the peer sees closed. */
GT_TEST(r79_oversize_active)
{
    int fd;
    gt_socket s = raw_server(2, 10, true, true, &fd);
    h_raw_write(fd, "\0\2ok", 4);
    EXPECT_TCP(s, "ok");
    h_raw_write(fd, "\0\0130123456789A", 13);
    EXPECT_TCP_ERROR(s, -EMSGSIZE);
    EXPECT_MSG(s, GT_MSG_TCP_CLOSED);
    EXPECT_NO_MSG(s, 50);
    ASSERT_ERR(gt_send(s, "x", 1), GT_ECLOSED);
    ASSERT_RECV_ERR(s, 0, 100, GT_ECLOSED);
    ASSERT(h_raw_wait_eof(fd) >= 0);
    close(fd);
}

/* r79: exit_on_close=false, active: tcp_error, tcp_closed; send still ok. */
GT_TEST(r79_oversize_active_exit_on_close_false)
{
    int fd;
    gt_socket s = raw_server(2, 10, true, false, &fd);
    h_raw_write(fd, "\0\0130123456789A", 13);
    EXPECT_TCP_ERROR(s, -EMSGSIZE);
    EXPECT_MSG(s, GT_MSG_TCP_CLOSED);
    ASSERT_OK(gt_send(s, "x", 1));
    ASSERT_RAW_READ(fd, "\0\1x", 3);
    close(fd);
}

/* r78 with {packet,1} and {packet,4}: the limit is on the body length. */
GT_TEST(r78_oversize_packet1_packet4)
{
    int fd;
    gt_socket s = raw_server(1, 3, false, true, &fd);
    h_raw_write(fd, "\3abc\4abcd", 9);
    ASSERT_RECV(s, 0, H_WAIT, "abc");
    ASSERT_RECV_ERR(s, 0, H_WAIT, -EMSGSIZE);
    close(fd);
    s = raw_server(4, 3, false, true, &fd);
    h_raw_write(fd, "\0\0\0\4abcd", 8);
    ASSERT_RECV_ERR(s, 0, H_WAIT, -EMSGSIZE);
    close(fd);
}

/* r9: packet_size is stored unclamped (0x4000001 reads back as 67108865). */
GT_TEST(r9_packet_size_unclamped)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    ASSERT_OPT(s, GT_OPT_PACKET_SIZE, 0);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_PACKET_SIZE(0x4000001))));
    ASSERT_OPT(s, GT_OPT_PACKET_SIZE, 67108865);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_PACKET_SIZE(0x7fffffff))));
    ASSERT_OPT(s, GT_OPT_PACKET_SIZE, 0x7fffffff);
}

/* r9: with packet_size 0 a {packet,4} header of 0x7fffffff -> emsgsize; one
 * of 0x4000001 is legal and waits for data. */
GT_TEST(r9_packet4_limits_without_packet_size)
{
    int fd;
    gt_socket s = raw_server(4, 0, false, true, &fd);
    h_raw_write(fd, "\x7f\xff\xff\xffx", 5);
    ASSERT_RECV_ERR(s, 0, H_WAIT, -EMSGSIZE);
    close(fd);
    s = raw_server(4, 0, false, true, &fd);
    h_raw_write(fd, "\x04\0\0\1x", 5);
    ASSERT_RECV_ERR(s, 0, 200, GT_ETIMEOUT);
    close(fd);
}

/* A sender process: a big send may block until the reader drains the queue
 * (rule 32), so it must not be the reader's own process. */
struct big_send {
    gt_socket sock;
    const char *data;
    size_t len;
};

static void big_send_fn(void *arg)
{
    struct big_send *b = arg;
    ASSERT_OK(gt_send(b->sock, b->data, b->len));
    ASSERT_OK(gt_send(b->sock, "tail", 4));
}

/* r76/r80 max sizes: a 16 MiB {packet,4} packet round-trips (passive). */
GT_TEST(r80_packet4_16mib)
{
    gt_socket p, s;
    h_pair(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(4)), GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(4)), NULL,
           &p, &s);
    size_t n = 16u << 20;
    char *big = malloc(n);
    ASSERT(big != NULL);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)(i * 7 + (i >> 13));
    struct big_send b = {p, big, n};
    h_spawn(big_send_fn, &b);
    gt_msg *m = NULL;
    ASSERT_OK(gt_recv(s, 0, 10000, &m));
    ASSERT_EQ(m->len, n);
    ASSERT(memcmp(m->data, big, n) == 0);
    gt_msg_free(m);
    ASSERT_RECV(s, 0, H_WAIT, "tail");
    free(big);
}

/* r80 max sizes: 16 MiB {packet,4} in active mode: one message. */
GT_TEST(r80_packet4_16mib_active)
{
    gt_socket p, s;
    h_pair(GT_OPTS(GT_PACKET(4)), GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(4)), NULL, &p, &s);
    size_t n = 16u << 20;
    char *big = malloc(n);
    ASSERT(big != NULL);
    memset(big, 'M', n);
    big[n - 1] = 'E';
    struct big_send b = {p, big, n};
    h_spawn(big_send_fn, &b);
    gt_msg *m = h_next(s, 10000);
    ASSERT_EQ(m->kind, GT_MSG_TCP);
    ASSERT_EQ(m->len, n);
    ASSERT(memcmp(m->data, big, n) == 0);
    gt_msg_free(m);
    EXPECT_TCP(s, "tail");
    free(big);
}

/* r76/r80: {packet,2} at its maximum, 65535 bytes, round-trips. */
GT_TEST(r80_packet2_max)
{
    gt_socket p, s;
    h_pair(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(2)), GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(2)), NULL,
           &p, &s);
    static char buf[65535];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (char)i;
    ASSERT_OK(gt_send(p, buf, sizeof buf));
    gt_msg *m = NULL;
    ASSERT_OK(gt_recv(s, 0, H_WAIT, &m));
    ASSERT_MEM(m->data, m->len, buf, sizeof buf);
    gt_msg_free(m);
}

/* r19/r77: switching packet type re-frames already buffered bytes. */
GT_TEST(r77_switch_raw_to_packet_reframes)
{
    int fd;
    gt_socket s = raw_server(0, 0, false, true, &fd);
    h_raw_write(fd, "ab\0\3xyz", 7);
    ASSERT_RECV(s, 2, H_WAIT, "ab");
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_PACKET(2))));
    ASSERT_RECV(s, 0, H_WAIT, "xyz");
    close(fd);
}

/* r79 inside a run (issue 11: small frames are framed by a short path):
 * the frames of one read up to packet_size are delivered, the empty one
 * and the one exactly at the limit included, then the oversize one is
 * {tcp_error,S,emsgsize} and {tcp_closed,S}, and what follows it is
 * dropped; with {packet,4} and a partial last frame the whole ones come
 * first and the rest when it completes. */
GT_TEST(i11_run_of_small_frames_then_oversize_active)
{
    int fd;
    gt_socket s = raw_server(2, 10, true, true, &fd);
    static const char run[] = "\0\2ok\0\0\0\0120123456789\0\3abc\0\0130123456789A\0\2no";
    h_raw_write(fd, run, sizeof run - 1);
    EXPECT_TCP(s, "ok");
    EXPECT_TCP(s, "");
    EXPECT_TCP(s, "0123456789");
    EXPECT_TCP(s, "abc");
    EXPECT_TCP_ERROR(s, -EMSGSIZE);
    EXPECT_MSG(s, GT_MSG_TCP_CLOSED);
    EXPECT_NO_MSG(s, 50);
    close(fd);
    s = raw_server(4, 0, true, true, &fd);
    h_raw_write(fd, "\0\0\0\2hi\0\0\0\3abc\0\0\0\5he", 19);
    EXPECT_TCP(s, "hi");
    EXPECT_TCP(s, "abc");
    EXPECT_NO_MSG(s, 50);
    h_raw_write(fd, "llo", 3);
    EXPECT_TCP(s, "hello");
    close(fd);
    EXPECT_MSG(s, GT_MSG_TCP_CLOSED);
    gt_close(s);
}
