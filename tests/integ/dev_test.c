/*
 * dev_test.c -- the deliberate differences from Erlang listed in
 * docs/DEVIATIONS.md, one test (or more) each, against a raw BSD-socket
 * peer so that the bytes on the wire are exactly known.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "helpers.h"
#include "h_probe.h"


static gt_msg *next_msg(gt_socket s)
{
    gt_msg *m = NULL;
    ASSERT_OK(gt_receive_match(gt_match_socket, &s, 3000, &m));
    return m;
}

/* 1: {packet,1|2} payloads too long for the header are refused, nothing
 * is sent, and the stream stays in sync. */
GT_TEST(dev1_packet1_oversize_is_emsgsize)
{
    int fd;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(1)), &fd);
    static char big[70000];
    ASSERT_ERR(gt_send(s, big, 256), -EMSGSIZE);
    ASSERT_OK(gt_send(s, "ok", 2));
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_PACKET(2))));
    ASSERT_ERR(gt_send(s, big, 65536), -EMSGSIZE);
    ASSERT_OK(gt_send(s, big, 65535));
    uint8_t hdr[3];
    ASSERT_EQ(read(fd, hdr, 3), 3);
    ASSERT_EQ(hdr[0], 2);
    ASSERT(hdr[1] == 'o' && hdr[2] == 'k');
    uint8_t h2[2];
    ASSERT_EQ(recv(fd, h2, 2, MSG_WAITALL), 2);
    ASSERT_EQ((h2[0] << 8) | h2[1], 65535);
    close(fd);
}

/* 2a: raw recv(S, N) short of N at the peer's close returns what came. */
GT_TEST(dev2_raw_short_recv_at_close_returns_tail)
{
    int fd;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_BINARY), &fd);
    h_raw_write(fd, "abcd", 4);
    close(fd);
    gt_msg *m;
    ASSERT_OK(gt_recv(s, 10, 3000, &m));
    ASSERT_STR(m, "abcd");
    gt_msg_free(m);
    ASSERT_ERR(gt_recv(s, 10, 3000, &m), GT_ECLOSED);
}

/* 2b: a partial {packet,2} frame at close is reported, not dropped. */
GT_TEST(dev2_partial_frame_passive_is_truncated)
{
    int fd;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(2)), &fd);
    h_raw_write(fd, "\0\2hi\0\5abc", 9);
    close(fd);
    gt_msg *m;
    ASSERT_OK(gt_recv(s, 0, 3000, &m));
    ASSERT_STR(m, "hi");
    gt_msg_free(m);
    ASSERT_ERR(gt_recv(s, 0, 3000, &m), GT_ETRUNCATED);
    ASSERT_ERR(gt_recv(s, 0, 3000, &m), GT_ECLOSED);
}

GT_TEST(dev2_partial_frame_active_is_tcp_error_truncated)
{
    int fd;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(4)), &fd);
    h_raw_write(fd, "\0\0\0\2hi\0\0\0\7abc", 13);
    close(fd);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_TRUE)));
    gt_msg *m = next_msg(s);
    ASSERT_EQ(m->kind, GT_MSG_TCP);
    ASSERT_STR(m, "hi");
    gt_msg_free(m);
    m = next_msg(s);
    ASSERT_EQ(m->kind, GT_MSG_TCP_ERROR);
    ASSERT_ERR(m->reason, GT_ETRUNCATED);
    gt_msg_free(m);
    m = next_msg(s);
    ASSERT_EQ(m->kind, GT_MSG_TCP_CLOSED);
    gt_msg_free(m);
}

/* 2c: {packet,line}: the last line without its delimiter is delivered. */
GT_TEST(dev2_last_line_without_delimiter_is_delivered)
{
    int fd;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(GT_PKT_LINE)), &fd);
    h_raw_write(fd, "one\ntwo", 7);
    close(fd);
    gt_msg *m;
    ASSERT_OK(gt_recv(s, 0, 3000, &m));
    ASSERT_STR(m, "one\n");
    gt_msg_free(m);
    ASSERT_OK(gt_recv(s, 0, 3000, &m));
    ASSERT_STR(m, "two");
    gt_msg_free(m);
    ASSERT_ERR(gt_recv(s, 0, 3000, &m), GT_ECLOSED);
}

/* 3: a send that finds the peer gone fails as in Erlang, but what the peer
 * sent before closing can still be read. */
GT_TEST(dev3_failed_send_keeps_unread_data)
{
    int fd;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_BINARY), &fd);
    h_raw_write(fd, "last words", 10);
    close(fd); /* FIN; our next send draws an RST */
    h_wait_peer_end(s);
    ASSERT_OK(gt_send(s, "x", 1));
    h_wait_reset(s);
    ASSERT_ERR(gt_send(s, "y", 1), GT_ECLOSED);
    ASSERT_ERR(gt_send(s, "z", 1), -ENOTCONN);
    /* Linux keeps received data after an RST until it is read. */
    gt_msg *m;
    ASSERT_OK(gt_recv(s, 0, 3000, &m));
    ASSERT_STR(m, "last words");
    gt_msg_free(m);
    int rc = gt_recv(s, 0, 3000, &m);
    ASSERT(rc == GT_ECLOSED || rc == -ECONNRESET);
}

/* Nothing sent is lost at close: output still queued when the owner exits
 * is drained in the background (inet flushes a closing port's queue). */
static void send_and_exit(void *arg)
{
    int port = *(int *)arg;
    gt_socket c;
    if (gt_connect("127.0.0.1", port, GT_OPTS(GT_ACTIVE_FALSE), 3000, &c) != 0)
        return;
    static char big[4 << 20];
    memset(big, 'q', sizeof big);
    big[sizeof big - 1] = 'Z';
    gt_send(c, big, sizeof big); /* mostly queued: the peer is not reading */
}                                /* ...and the owner exits at once */

GT_TEST(dev_queued_output_survives_owner_exit)
{
    gt_socket l, a;
    ASSERT_OK(gt_listen(0, GT_OPTS(GT_ACTIVE_FALSE, GT_BINARY), &l));
    int port;
    ASSERT_OK(gt_port(l, &port));
    gt_pid sender;
    ASSERT_OK(gt_spawn(send_and_exit, &port, NULL, &sender));
    ASSERT_OK(gt_accept(l, 3000, &a));
    h_wait_dead(sender); /* it exits with its queue full */
    size_t got = 0;
    uint8_t last = 0;
    gt_msg *m;
    while (gt_recv(a, 0, 5000, &m) == 0) {
        got += m->len;
        last = m->data[m->len - 1];
        gt_msg_free(m);
    }
    ASSERT_EQ(got, 4 << 20);
    ASSERT_EQ(last, 'Z');
}

/* An active socket with exit_on_close closes at the peer's FIN (rule 46):
 * a reply sent after that fails with closed, loudly; but every reply a
 * send accepted before it reaches the peer. */
typedef struct echo_job {
    gt_socket s;
    size_t accepted; /* bytes whose gt_send returned 0 */
} echo_job;

static void echo_until_closed(void *arg)
{
    echo_job *j = arg;
    gt_msg *m;
    while (gt_receive_match(gt_match_socket, &j->s, 5000, &m) == 0) {
        bool closed = m->kind == GT_MSG_TCP_CLOSED;
        if (m->kind == GT_MSG_TCP && gt_send(j->s, m->data, m->len) == 0)
            j->accepted += m->len;
        gt_msg_free(m);
        if (closed)
            return;
    }
}

GT_TEST(dev_every_accepted_send_is_delivered)
{
    int fd;
    static echo_job j;
    j.s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_BINARY), &fd);
    gt_pid pid;
    ASSERT_OK(gt_spawn(echo_until_closed, &j, NULL, &pid));
    ASSERT_OK(gt_controlling_process(j.s, pid));
    ASSERT_OK(gt_setopts(j.s, GT_OPTS(GT_ACTIVE_TRUE)));
    static char data[300000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (char)(i * 31);
    h_raw_write(fd, data, sizeof data);
    ASSERT(shutdown(fd, SHUT_WR) == 0);
    static char back[sizeof data];
    size_t got = 0;
    ssize_t r;
    while (got < sizeof back && (r = read(fd, back + got, sizeof back - got)) > 0)
        got += (size_t)r;
    h_wait_dead(pid);
    ASSERT_EQ(got, j.accepted);
    ASSERT(memcmp(back, data, got) == 0);
    close(fd);
}
