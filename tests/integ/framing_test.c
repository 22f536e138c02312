/*
 * framing_test.c -- the receive side's framing limits (issue 7: items 2, 9,
 * 10, 12, 13), against a raw BSD-socket peer: line_length cuts before
 * packet_size is checked (rule 83), line_delimiter keeps its low byte,
 * whole lines have a default bound, a short recv after a reset, and framing
 * stays linear when a long line trickles in.
 *
 * White-box where a count is the only deterministic witness: the socket's
 * input buffer is read through src/socket/sock.h under the socket's lock,
 * and the framing counter (gt__sock_scanned_total, process-wide: only the
 * socket under test frames lines while it is read).
 */
#include <pthread.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "helpers.h"
#include "h_probe.h"
#include "socket/sock.h"

static void expect_recv(gt_socket s, const void *want, size_t n)
{
    gt_msg *m;
    ASSERT_OK(gt_recv(s, 0, H_WAIT, &m));
    ASSERT_MEM(m->data, m->len, want, n);
    gt_msg_free(m);
}

static void expect_active(gt_socket s, const void *want, size_t n)
{
    gt_msg *m = h_expect(s, GT_MSG_TCP);
    ASSERT_MEM(m->data, m->len, want, n);
    gt_msg_free(m);
}

/* ---- white-box views of a socket ---- */

typedef struct view {
    size_t avail, cap;
} view;

static view sock_view(gt_socket h)
{
    gt__sock *s = gt__sock_acquire(h);
    ASSERT(s != NULL);
    view v = {gt__buf_avail(&s->in), gt__buf_cap(&s->in)};
    gt__sock_release(s);
    return v;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until the socket holds `want` input bytes (the scheduler reads an
 * active socket on its own; a passive one is read by a recv that times
 * out, partial data staying buffered: rule 25). */
static void wait_avail(gt_socket h, size_t want, bool passive)
{
    int64_t deadline = now_ms() + H_WAIT;
    while (sock_view(h).avail != want) {
        if (now_ms() > deadline)
            gt_test_fail(__FILE__, __LINE__, "input holds %zu bytes, want %zu",
                         sock_view(h).avail, want);
        gt_msg *m = NULL;
        if (passive)
            ASSERT_ERR(gt_recv(h, 0, 2, &m), GT_ETIMEOUT);
        else
            usleep(50);
    }
}

/* ---- a peer that writes in the background ---- */

/* Writes data[0..len) from its own thread, stopping at the first error or
 * after 300 ms without progress (SO_SNDTIMEO): a server that stops reading
 * cannot hang the test. */
typedef struct flood {
    int fd;
    const char *data;
    size_t len, sent;
    pthread_t th;
} flood;

static void *flood_main(void *arg)
{
    flood *f = arg;
    while (f->sent < f->len) {
        ssize_t w = send(f->fd, f->data + f->sent, f->len - f->sent, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        f->sent += (size_t)w;
    }
    return NULL;
}

static void flood_start(flood *f, int fd, const char *data, size_t len)
{
    *f = (flood){.fd = fd, .data = data, .len = len};
    struct timeval tv = {0, 300 * 1000};
    ASSERT(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == 0);
    ASSERT(pthread_create(&f->th, NULL, flood_main, f) == 0);
}

static void flood_join(flood *f) { pthread_join(f->th, NULL); }

/* n bytes of c; the caller frees. */
static char *filled(size_t n, char c)
{
    char *p = malloc(n);
    ASSERT(p != NULL);
    memset(p, c, n);
    return p;
}

static long vm_rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        SKIP("no /proc/self/status to read VmRSS from");
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose(f);
    ASSERT(kib > 0);
    return kib;
}

/* ---- item 2: line_length cuts before packet_size (rule 83) ---- */

/* E (inet, buffer 5, packet_size 10): "0123456789ABC\nxy\n" -> "01234",
 * "56789", "ABC\n", "xy\n".  line_length plays inet's buffer here. */
GT_TEST(i7_02_line_length_cuts_before_packet_size)
{
    int fd;
    gt_socket s = h_raw_peer_server(
        GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(GT_PKT_LINE), GT_LINE_LENGTH(5), GT_PACKET_SIZE(10)), &fd);
    h_raw_send(fd, "0123456789ABC\nxy\n");
    expect_recv(s, "01234", 5);
    expect_recv(s, "56789", 5);
    expect_recv(s, "ABC\n", 4);
    expect_recv(s, "xy\n", 3);
    close(fd);
}

GT_TEST(i7_02_line_length_cuts_before_packet_size_active)
{
    int fd;
    gt_socket s = h_raw_peer_server(
        GT_OPTS(GT_ACTIVE_TRUE, GT_PACKET(GT_PKT_LINE), GT_LINE_LENGTH(5), GT_PACKET_SIZE(10)), &fd);
    h_raw_send(fd, "0123456789ABC\n");
    expect_active(s, "01234", 5);
    expect_active(s, "56789", 5);
    expect_active(s, "ABC\n", 4);
    close(fd);
}

/* The other orders, as inet gives them (E): buffer 13 / packet_size 14 cuts
 * at 13 then "\n"; buffer 20 / packet_size 10 sees the whole 14-byte line:
 * emsgsize; buffer 5 / packet_size 3: 5 bytes without a delimiter are
 * already over packet_size: emsgsize. */
GT_TEST(i7_02_line_length_and_packet_size_orders)
{
    int fd;
    gt_socket s = h_raw_peer_server(
        GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(GT_PKT_LINE), GT_LINE_LENGTH(13), GT_PACKET_SIZE(14)), &fd);
    h_raw_send(fd, "0123456789ABC\n");
    expect_recv(s, "0123456789ABC", 13);
    expect_recv(s, "\n", 1);
    close(fd);

    const int64_t bad[][2] = {{20, 10}, {5, 3}};
    for (size_t i = 0; i < 2; i++) {
        s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(GT_PKT_LINE),
                                      GT_LINE_LENGTH(bad[i][0]), GT_PACKET_SIZE(bad[i][1])),
                              &fd);
        h_raw_send(fd, "0123456789ABC\n");
        gt_msg *m = NULL;
        ASSERT_ERR(gt_recv(s, 0, H_WAIT, &m), -EMSGSIZE);
        close(fd);
    }
}

/* ---- item 9: a short recv after a peer reset ---- */

/* E: the peer sends "abc" and resets; recv(S, 10) -> {error,closed} (or
 * econnreset with show_econnreset): inet drops the bytes.  gentcp returns
 * them first (docs/DEVIATIONS.md row 2), unless discard_partial asks for
 * Erlang's drop.  The same holds for a line without its delimiter, and a
 * partial {packet,2} frame is reported as truncated. */
static void reset_case(gt_optlist extra, size_t len, const char *bytes, size_t n,
                       const char *want, int want_err, int then)
{
    int fd;
    gt_opt o[8];
    gt_socket s = h_raw_peer_server(h_prepend(o, 8, GT_ACTIVE_FALSE, extra), &fd);
    h_raw_write(fd, bytes, n);
    h_wait_inq(s, n);
    h_raw_rst(fd);
    h_wait_reset(s);
    gt_msg *m = NULL;
    int rc = gt_recv(s, len, H_WAIT, &m);
    if (want) {
        ASSERT_OK(rc);
        ASSERT_MEM(m->data, m->len, want, strlen(want));
        gt_msg_free(m);
        rc = gt_recv(s, len, H_WAIT, &m);
    }
    ASSERT_ERR(rc, want_err);
    if (then)
        ASSERT_ERR(gt_recv(s, len, H_WAIT, &m), then);
    gt_close(s);
}

GT_TEST(i7_09_short_recv_after_reset_returns_the_bytes)
{
    reset_case(GT_OPTS(GT_NODELAY(true)), 10, "abc", 3, "abc", GT_ECLOSED, 0);
    reset_case(GT_OPTS(GT_SHOW_ECONNRESET(true)), 10, "abc", 3, "abc", -ECONNRESET, 0);
    reset_case(GT_OPTS(GT_PACKET(GT_PKT_LINE)), 0, "abc", 3, "abc", GT_ECLOSED, 0);
    reset_case(GT_OPTS(GT_PACKET(2)), 0, "\0\5ab", 4, NULL, GT_ETRUNCATED, GT_ECLOSED);
}

GT_TEST(i7_09_discard_partial_after_reset_is_erlang)
{
    reset_case(GT_OPTS(GT_DISCARD_PARTIAL(true)), 10, "abc", 3, NULL, GT_ECLOSED, 0);
    reset_case(GT_OPTS(GT_DISCARD_PARTIAL(true), GT_SHOW_ECONNRESET(true)), 10, "abc", 3, NULL,
               -ECONNRESET, 0);
    reset_case(GT_OPTS(GT_DISCARD_PARTIAL(true), GT_PACKET(GT_PKT_LINE)), 0, "abc", 3, NULL,
               GT_ECLOSED, 0);
    reset_case(GT_OPTS(GT_DISCARD_PARTIAL(true), GT_PACKET(2)), 0, "\0\5ab", 4, NULL, GT_ECLOSED,
               0);
}

/* ---- item 10: line_delimiter keeps its low byte ---- */

/* E (inet): setopts and connect take any integer: 266 splits at "\n" (266 &
 * 255 = 10), -1 at 255; listen still refuses the option (badarg). */
GT_TEST(i7_10_line_delimiter_low_byte)
{
    int fd;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(GT_PKT_LINE)), &fd);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_LINE_DELIMITER(266))));
    h_raw_send(fd, "ab\ncd\n");
    expect_recv(s, "ab\n", 3);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_LINE_DELIMITER(-1))));
    h_raw_send(fd, "xy\xffz\n");
    expect_recv(s, "cd\nxy\xff", 6);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_LINE_DELIMITER(INT64_MAX)))); /* low byte 255 */
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_LINE_DELIMITER(((int64_t)1 << 40) + ';'))));
    h_raw_send(fd, "p;q");
    expect_recv(s, "z\np;", 4);
    close(fd);

    int port = 0;
    int lfd = h_raw_listen(&port);
    gt_socket c = h_connect(port, GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(GT_PKT_LINE),
                                          GT_LINE_DELIMITER(256 + ';')));
    int pfd = h_raw_accept(lfd);
    h_raw_send(pfd, "a;b;");
    expect_recv(c, "a;", 2);
    close(pfd);
    close(lfd);

    gt_socket l;
    ASSERT_ERR(gt_listen(0, GT_OPTS(GT_LINE_DELIMITER(266)), &l), GT_EBADARG);
}

/* [socket] getopts reads the value back as it was given (E: 266, -1). */
GT_TEST(i7_10_line_delimiter_socket_backend_reads_back)
{
    int port = 0;
    int lfd = h_raw_listen(&port);
    gt_socket c = h_connect(port, GT_OPTS(GT_INET_BACKEND(GT_BACKEND_SOCKET), GT_ACTIVE_FALSE,
                                          GT_PACKET(GT_PKT_LINE)));
    int pfd = h_raw_accept(lfd);
    ASSERT_OK(gt_setopts(c, GT_OPTS(GT_LINE_DELIMITER(266))));
    ASSERT_EQ(h_geti(c, GT_OPT_LINE_DELIMITER), 266);
    ASSERT_OK(gt_setopts(c, GT_OPTS(GT_LINE_DELIMITER(-1))));
    ASSERT_EQ(h_geti(c, GT_OPT_LINE_DELIMITER), -1);
    h_raw_send(pfd, "a\xff");
    expect_recv(c, "a\xff", 2);
    close(pfd);
    close(lfd);
}

/* ---- item 12: whole lines have a default bound ---- */

/* The bound is exact: a line of GT_LINE_MAX_DEFAULT bytes (delimiter
 * included) arrives whole, one byte more is emsgsize. */
GT_TEST(i7_12_line_default_bound_is_exact)
{
    for (size_t extra = 0; extra < 2; extra++) {
        int fd;
        gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(GT_PKT_LINE)), &fd);
        size_t n = GT_LINE_MAX_DEFAULT + extra;
        char *line = filled(n, 'x');
        line[n - 1] = '\n';
        flood f;
        flood_start(&f, fd, line, n);
        gt_msg *m = NULL;
        int rc = gt_recv(s, 0, H_WAIT, &m);
        if (extra == 0) {
            ASSERT_OK(rc);
            ASSERT_MEM(m->data, m->len, line, n);
            gt_msg_free(m);
        } else {
            ASSERT_ERR(rc, -EMSGSIZE);
        }
        flood_join(&f);
        free(line);
        close(fd);
        gt_close(s);
    }
}

/* A hostile peer sends one endless line (48 MiB).  The server reports
 * emsgsize once the bound is passed, its memory stays flat, and the input
 * buffer is released at once.  passive: recv; active: tcp_error. */
static void endless(gt_optlist opts, bool active, const char *head, size_t hn, char fill)
{
    int fd;
    gt_opt o[8];
    gt_socket s = h_raw_peer_server(h_prepend(o, 8, active ? GT_ACTIVE_TRUE : GT_ACTIVE_FALSE,
                                              opts), &fd);
    const size_t total = 48u << 20;
    char *data = filled(total, fill);
    memcpy(data, head, hn);
    long rss0 = vm_rss_kib();
    flood f;
    flood_start(&f, fd, data, total);
    gt_msg *m = NULL;
    if (active) {
        EXPECT_TCP_ERROR(s, -EMSGSIZE);
        EXPECT_MSG(s, GT_MSG_TCP_CLOSED);
    } else {
        ASSERT_ERR(gt_recv(s, 0, H_WAIT, &m), -EMSGSIZE);
        ASSERT_EQ(sock_view(s).cap, 0); /* released */
    }
    flood_join(&f);
    long grown = vm_rss_kib() - rss0;
    if (grown > 16 * 1024)
        gt_test_fail(__FILE__, __LINE__, "RSS grew by %ld KiB while the peer sent %zu MiB", grown,
                     f.sent >> 20);
    free(data);
    close(fd);
    gt_close(s);
}

GT_TEST(i7_12_endless_line_is_bounded_passive)
{
    endless(GT_OPTS(GT_PACKET(GT_PKT_LINE)), false, "", 0, 'x');
}

GT_TEST(i7_12_endless_line_is_bounded_active)
{
    endless(GT_OPTS(GT_PACKET(GT_PKT_LINE)), true, "", 0, 'x');
}

/* packet_size replaces the default bound (here 2 MiB) */
GT_TEST(i7_12_endless_line_packet_size_bound)
{
    endless(GT_OPTS(GT_PACKET(GT_PKT_LINE), GT_PACKET_SIZE(2 << 20)), false, "", 0, 'x');
}

/* http lines were already bounded (buffer, or packet_size): a guard, also
 * for a header that goes on in continuation lines. */
GT_TEST(i7_12_endless_http_header_is_bounded)
{
    endless(GT_OPTS(GT_PACKET(GT_PKT_HTTPH)), false, "X-A: ", 5, 'x');
    endless(GT_OPTS(GT_PACKET(GT_PKT_HTTPH), GT_PACKET_SIZE(1 << 20)), true, "X-A: a\r\n", 8,
            ' ');
}

/* A header must fit inet's buffer (or packet_size when larger): E on OTP 25
 * for a 10-byte asn1 tag, its length byte and 2 bytes of value. */
GT_TEST(i7_12_header_must_fit_buffer)
{
    static const char tlv[] = "\x1f\x81\x81\x81\x81\x81\x81\x81\x81\x01\x02" "ab";
    const struct {
        int type;
        int64_t buffer, psize;
        const char *data;
        size_t n;
        int want;
    } cases[] = {
        {GT_PKT_ASN1, 10, 0, tlv, 13, -EMSGSIZE},
        {GT_PKT_ASN1, 11, 0, tlv, 13, 0},
        {GT_PKT_ASN1, 5, 100, tlv, 13, 0},
        {GT_PKT_ASN1, 5, 8, tlv, 13, -EMSGSIZE},
        {2, 1, 0, "\0\2ab", 4, -EMSGSIZE},
        {4, 2, 0, "\0\0\0\2ab", 6, -EMSGSIZE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int fd;
        gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(cases[i].type),
                                                GT_BUFFER(cases[i].buffer),
                                                GT_PACKET_SIZE(cases[i].psize)),
                                        &fd);
        h_raw_write(fd, cases[i].data, cases[i].n);
        gt_msg *m = NULL;
        int rc = gt_recv(s, 0, H_WAIT, &m);
        if (rc != cases[i].want)
            gt_test_fail(__FILE__, __LINE__, "case %zu: %s, want %s", i, gt_err_name(rc),
                         gt_err_name(cases[i].want));
        if (rc == 0)
            ASSERT_MEM(m->data, m->len, cases[i].data, cases[i].n);
        gt_msg_free(m);
        close(fd);
        gt_close(s);
    }
}

/* An endless asn1 tag (0x1f, then bytes with bit 7 set) was read without
 * limit; now the default buffer (1460) bounds it, as in inet (E: 2001 tag
 * bytes -> emsgsize). */
GT_TEST(i7_12_endless_asn1_tag_is_bounded)
{
    endless(GT_OPTS(GT_PACKET(GT_PKT_ASN1)), false, "\x1f", 1, (char)0x81);
    endless(GT_OPTS(GT_PACKET(GT_PKT_ASN1)), true, "\x1f", 1, (char)0x81);
}

/* ---- item 13: a line that trickles in is framed in linear time ---- */

/* big bytes of `partial` arrive at once, then `step` (sn bytes) `count`
 * times, one read each; then `last` completes the packet.  The framing
 * may search each byte a bounded number of times, not once per read. */
static void trickle(gt_optlist opts, bool active, const char *partial, size_t pn, size_t big,
                    const char *step, size_t sn, int count, const char *last)
{
    int fd;
    gt_opt o[8];
    gt_socket s = h_raw_peer_server(h_prepend(o, 8, active ? GT_ACTIVE_TRUE : GT_ACTIVE_FALSE,
                                              opts), &fd);
    uint64_t scanned0 = gt__sock_scanned_total();
    char *data = malloc(big);
    ASSERT(data != NULL);
    for (size_t i = 0; i < big; i += pn)
        memcpy(data + i, partial, big - i < pn ? big - i : pn);
    flood f;
    flood_start(&f, fd, data, big);
    wait_avail(s, big, !active);
    flood_join(&f);
    ASSERT_EQ(f.sent, big);
    for (int i = 0; i < count; i++) {
        h_raw_write(fd, step, sn);
        wait_avail(s, big + (size_t)(i + 1) * sn, !active);
    }
    uint64_t scanned = gt__sock_scanned_total() - scanned0;
    size_t total = big + (size_t)count * sn;
    if (scanned > 3 * (uint64_t)total)
        gt_test_fail(__FILE__, __LINE__, "framing searched %llu bytes for a %zu-byte partial",
                     (unsigned long long)scanned, total);
    h_raw_send(fd, last);
    gt_msg *m = NULL;
    if (active)
        m = h_next(s, H_WAIT);
    else
        ASSERT_OK(gt_recv(s, 0, H_WAIT, &m));
    ASSERT(m != NULL && m->kind != GT_MSG_TCP_ERROR && m->kind != GT_MSG_TCP_CLOSED);
    if (m->kind == GT_MSG_TCP)
        ASSERT_EQ(m->len, total + strlen(last));
    gt_msg_free(m);
    free(data);
    close(fd);
}

GT_TEST(i7_13_active_line_trickle_is_linear)
{
    trickle(GT_OPTS(GT_PACKET(GT_PKT_LINE), GT_PACKET_SIZE(64 << 20)), true, "x", 1, 8u << 20, "y",
            1, 2000, "\n");
}

GT_TEST(i7_13_passive_line_trickle_is_linear)
{
    trickle(GT_OPTS(GT_PACKET(GT_PKT_LINE), GT_PACKET_SIZE(64 << 20)), false, "x", 1, 8u << 20,
            "y", 1, 200, "\n");
}

/* An http header continued line after line: each read ends in a line end
 * whose next byte is still unknown. */
GT_TEST(i7_13_active_http_continuations_are_linear)
{
    trickle(GT_OPTS(GT_PACKET(GT_PKT_HTTPH), GT_PACKET_SIZE(64 << 20)), true, " b\r\n", 4,
            8u << 20, " c\r\n", 4, 1000, "Y: z\r\n");
}
