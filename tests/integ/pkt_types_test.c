/*
 * pkt_types_test.c -- every packet type on a live socket (docs/spec/semantics.md
 * §8, rules 76-88), against a raw BSD-socket peer so that the bytes on
 * the wire are exactly known, plus gentcp's line_length and
 * discard_partial options (docs/DEVIATIONS.md).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "helpers.h"


/* Writes n bytes one at a time, so that framing must reassemble. */
static void raw_trickle(int fd, const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h_raw_write(fd, (const char *)p + i, 1);
        if (i % 3 == 0)
            usleep(1000); /* the behaviour under test: pieces, read apart */
    }
}

static void expect_recv(gt_socket s, const void *want, size_t n)
{
    gt_msg *m;
    ASSERT_OK(gt_recv(s, 0, 3000, &m));
    ASSERT_MEM(m->data, m->len, want, n);
    gt_msg_free(m);
}

static const struct gt_http_packet *recv_http(gt_socket s, gt_msg **keep)
{
    ASSERT_OK(gt_recv(s, 0, 3000, keep));
    ASSERT_EQ((*keep)->kind, GT_MSG_HTTP);
    ASSERT((*keep)->http != NULL);
    return (*keep)->http;
}

static void str_eq(const gt_http_str *s, const char *want)
{
    ASSERT_MEM(s->ptr, s->len, want, strlen(want));
}

/* rule 81: one line per packet, delimiter included ("\r" kept). */
GT_TEST(r81_line_passive)
{
    int fd;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(GT_PKT_LINE)), &fd);
    raw_trickle(fd, "one\ntwo\r\nthree", 14);
    expect_recv(s, "one\n", 4);
    expect_recv(s, "two\r\n", 5);
    gt_msg *m;
    ASSERT_ERR(gt_recv(s, 0, 100, &m), GT_ETIMEOUT); /* "three" waits */
    h_raw_write(fd, "\n", 1);
    expect_recv(s, "three\n", 6);
    close(fd);
}

/* rule 81: line_delimiter (setopts). */
GT_TEST(r81_line_delimiter)
{
    int fd;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(GT_PKT_LINE)), &fd);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_LINE_DELIMITER(';'))));
    h_raw_write(fd, "a;b\nc;", 6);
    expect_recv(s, "a;", 2);
    expect_recv(s, "b\nc;", 4);
    close(fd);
}

/* Active line mode: one message per line. */
GT_TEST(r81_line_active)
{
    int fd;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_TRUE, GT_PACKET(GT_PKT_LINE)), &fd);
    h_raw_write(fd, "x\ny\n", 4);
    const char *want[] = {"x\n", "y\n"};
    for (int i = 0; i < 2; i++) {
        gt_msg *m;
        ASSERT_OK(gt_receive_match(gt_match_socket, &s, 3000, &m));
        ASSERT_EQ(m->kind, GT_MSG_TCP);
        ASSERT_STR(m, want[i]);
        gt_msg_free(m);
    }
    close(fd);
}

/* DEVIATIONS: a line longer than buffer arrives whole by default ... */
GT_TEST(dev_line_longer_than_buffer_is_whole)
{
    int fd;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(GT_PKT_LINE), GT_BUFFER(10)), &fd);
    h_raw_write(fd, "0123456789ABCDEFGHIJ0123\n", 25);
    expect_recv(s, "0123456789ABCDEFGHIJ0123\n", 25);
    close(fd);
}

/* ... and in buffer-sized pieces with line_length, as inet does (rule 83). */
GT_TEST(r83_line_length_gives_erlang_pieces)
{
    int fd;
    gt_socket s = h_raw_peer_server(
        GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(GT_PKT_LINE), GT_BUFFER(10), GT_LINE_LENGTH(10)), &fd);
    h_raw_write(fd, "0123456789ABCDEFGHIJ0123\n", 25);
    expect_recv(s, "0123456789", 10);
    expect_recv(s, "ABCDEFGHIJ", 10);
    expect_recv(s, "0123\n", 5);
    close(fd);
}

/* rule 83: packet_size bounds a line: emsgsize. */
GT_TEST(r83_line_packet_size_emsgsize)
{
    int fd;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(GT_PKT_LINE), GT_PACKET_SIZE(8)), &fd);
    h_raw_write(fd, "short\n0123456789\n", 17);
    expect_recv(s, "short\n", 6);
    gt_msg *m;
    ASSERT_ERR(gt_recv(s, 0, 3000, &m), -EMSGSIZE);
    close(fd);
}

/* DEVIATIONS: discard_partial restores Erlang's silent drop at close. */
GT_TEST(dev_discard_partial_is_erlang)
{
    int fd;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(2), GT_DISCARD_PARTIAL(true)), &fd);
    h_raw_write(fd, "\0\2hi\0\5abc", 9);
    close(fd);
    expect_recv(s, "hi", 2);
    gt_msg *m;
    ASSERT_ERR(gt_recv(s, 0, 3000, &m), GT_ECLOSED);
}

/* rule 77: sunrm, tpkt, asn1, cdr deliver the whole frame, header included;
 * sending is unframed for them. */
static void whole_frame(int type, const void *frame, size_t n, const void *next, size_t nn)
{
    int fd;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_BINARY, GT_PACKET(type)), &fd);
    char both[256];
    memcpy(both, frame, n);
    memcpy(both + n, next, nn);
    raw_trickle(fd, both, n + nn);
    expect_recv(s, frame, n);
    expect_recv(s, next, nn);
    ASSERT_OK(gt_send(s, "as is", 5)); /* no header added */
    char buf[8];
    ASSERT_EQ(recv(fd, buf, sizeof buf, 0), 5);
    ASSERT(memcmp(buf, "as is", 5) == 0);
    close(fd);
}

GT_TEST(r77_sunrm)
{
    whole_frame(GT_PKT_SUNRM, "\x80\0\0\3" "abc", 7, "\x80\0\0\1" "z", 5);
}

GT_TEST(r77_tpkt)
{
    whole_frame(GT_PKT_TPKT, "\3\0\0\7" "abc", 7, "\3\0\0\5" "z", 5);
}

GT_TEST(r77_asn1_short_and_long_form)
{
    static const char longf[] = "\x04\x81\x03" "xyz"; /* long-form length */
    whole_frame(GT_PKT_ASN1, "\x04\x03" "abc", 5, longf, 6);
}

GT_TEST(r77_cdr)
{
    /* GIOP 1.0, big-endian, message size 4 */
    static const char giop[] = "GIOP\1\0\0\0\0\0\0\4" "body";
    whole_frame(GT_PKT_CDR, giop, 16, giop, 16);
}

/* fcgi: the frame without its padding (Erlang's packet_get_body). */
GT_TEST(r77_fcgi_drops_padding)
{
    int fd;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_BINARY, GT_PACKET(GT_PKT_FCGI)), &fd);
    /* version 1, type 5, id 1, content length 3, padding 2 */
    static const char rec[] = "\1\5\0\1\0\3\2\0" "abc" "PP";
    raw_trickle(fd, rec, 13);
    expect_recv(s, rec, 11);
    close(fd);
}

/* rules 84, 85: the http state machine on a socket. */
GT_TEST(r85_http_request_headers_eoh)
{
    int fd;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_BINARY, GT_PACKET(GT_PKT_HTTP_BIN)), &fd);
    const char *req = "GET /x?y=1 HTTP/1.1\r\nHost: example\r\nX-Custom: v\r\n\r\n";
    raw_trickle(fd, req, strlen(req));
    gt_msg *m;
    const struct gt_http_packet *p = recv_http(s, &m);
    ASSERT_EQ(p->kind, GT_HTTP_REQUEST);
    ASSERT_EQ(p->method, GT_HTTP_M_GET);
    ASSERT_EQ(p->uri.kind, GT_URI_ABS_PATH);
    str_eq(&p->uri.path, "/x?y=1");
    ASSERT(p->major == 1 && p->minor == 1 && p->binary);
    gt_msg_free(m);
    p = recv_http(s, &m);
    ASSERT_EQ(p->kind, GT_HTTP_HEADER);
    ASSERT_EQ(p->field, GT_HTTP_H_HOST);
    str_eq(&p->value, "example");
    gt_msg_free(m);
    p = recv_http(s, &m);
    ASSERT_EQ(p->kind, GT_HTTP_HEADER);
    ASSERT_EQ(p->field, GT_HTTP_H_OTHER);
    ASSERT(strcmp(p->name, "X-Custom") == 0);
    gt_msg_free(m);
    p = recv_http(s, &m);
    ASSERT_EQ(p->kind, GT_HTTP_EOH);
    gt_msg_free(m);
    close(fd);
}

/* rule 85: garbage start line is HTTP/0.9; an empty line is http_error. */
GT_TEST(r85_http_garbage_and_empty_line)
{
    int fd;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(GT_PKT_HTTP)), &fd);
    h_raw_write(fd, "garbage line\r\n", 14);
    gt_msg *m;
    const struct gt_http_packet *p = recv_http(s, &m);
    ASSERT_EQ(p->kind, GT_HTTP_REQUEST);
    ASSERT(p->major == 0 && p->minor == 9);
    gt_msg_free(m);
    close(fd);
    s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(GT_PKT_HTTP)), &fd);
    h_raw_write(fd, "\r\n", 2);
    p = recv_http(s, &m);
    ASSERT_EQ(p->kind, GT_HTTP_ERROR);
    str_eq(&p->line, "\r\n");
    ASSERT(!p->binary);
    gt_msg_free(m);
    close(fd);
}

/* rule 86: body with {packet,raw}, then back to http for the next request
 * on the same connection; active mode gives GT_MSG_HTTP messages. */
GT_TEST(r86_http_body_then_keepalive_active)
{
    int fd;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_BINARY, GT_PACKET(GT_PKT_HTTP_BIN)), &fd);
    const char *two = "POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nBODY"
                      "GET /next HTTP/1.1\r\n\r\n";
    h_raw_write(fd, two, strlen(two));
    gt_msg *m;
    ASSERT_EQ(recv_http(s, &m)->kind, GT_HTTP_REQUEST);
    gt_msg_free(m);
    ASSERT_EQ(recv_http(s, &m)->field, GT_HTTP_H_CONTENT_LENGTH);
    gt_msg_free(m);
    ASSERT_EQ(recv_http(s, &m)->kind, GT_HTTP_EOH);
    gt_msg_free(m);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_PACKET(GT_PKT_RAW))));
    ASSERT_OK(gt_recv(s, 4, 3000, &m));
    ASSERT_STR(m, "BODY");
    gt_msg_free(m);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_PACKET(GT_PKT_HTTP_BIN), GT_ACTIVE_ONCE)));
    ASSERT_OK(gt_receive_match(gt_match_socket, &s, 3000, &m));
    ASSERT_EQ(m->kind, GT_MSG_HTTP);
    ASSERT_EQ(m->http->kind, GT_HTTP_REQUEST);
    str_eq(&m->http->uri.path, "/next");
    gt_msg_free(m);
    close(fd);
}

/* rule 85: httph starts in header state. */
GT_TEST(r85_httph_starts_with_headers)
{
    int fd;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(GT_PKT_HTTPH_BIN)), &fd);
    h_raw_write(fd, "Content-Type: text/plain\r\n\r\n", 28);
    gt_msg *m;
    const struct gt_http_packet *p = recv_http(s, &m);
    ASSERT_EQ(p->kind, GT_HTTP_HEADER);
    ASSERT_EQ(p->field, GT_HTTP_H_CONTENT_TYPE);
    gt_msg_free(m);
    ASSERT_EQ(recv_http(s, &m)->kind, GT_HTTP_EOH);
    gt_msg_free(m);
    close(fd);
}

/* rule 88: an http line longer than buffer (packet_size 0) is emsgsize. */
GT_TEST(r88_http_line_over_buffer_emsgsize)
{
    int fd;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(GT_PKT_HTTPH), GT_BUFFER(20)), &fd);
    h_raw_write(fd, "X-Long-Header: 0123456789012345678901234567890\r\n\r\n", 50);
    gt_msg *m;
    ASSERT_ERR(gt_recv(s, 0, 3000, &m), -EMSGSIZE);
    close(fd);
}
