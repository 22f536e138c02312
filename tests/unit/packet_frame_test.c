/*
 * packet_frame_test.c -- gt__pkt_frame and gt_decode_packet on the
 * length-prefixed, line and binary families (expectations checked against
 * erlang:decode_packet/3 on OTP 25).
 */
#include <time.h>

#include "packet/packet.h"
#include "../test.h"

#define ASSERT_S(a, b) ASSERT_MEM(a, strlen(a), b, strlen(b))

/* gt__pkt_frame as a length: the frame's total, 0 (*need set) or the error. */
static ssize_t fr(gt_packet_type t, const gt__pkt_opts *o, const char *b, size_t n,
                  size_t *resume, size_t *need)
{
    gt__pkt_span sp;
    int r = gt__pkt_frame(t, o, (const uint8_t *)b, n, resume, &sp);
    *need = sp.need;
    return r == 1 ? (ssize_t)sp.total : r;
}

static ssize_t frame(gt_packet_type t, const char *b, size_t n, size_t ps, size_t *need)
{
    gt__pkt_opts o = {.packet_size = ps, .line_delimiter = '\n'};
    return fr(t, &o, b, n, NULL, need);
}

/* The body gt__pkt_frame finds in a complete frame, as "offset/length". */
static const char *body(gt_packet_type t, const char *b, size_t n)
{
    static char out[64];
    gt__pkt_opts o = {.line_delimiter = '\n'};
    gt__pkt_span sp;
    if (gt__pkt_frame(t, &o, (const uint8_t *)b, n, NULL, &sp) != 1)
        return "none";
    snprintf(out, sizeof out, "%zu/%zu", sp.body, sp.body_len);
    return out;
}

/* The ~w text of decode_packet(t, b, opts). */
static const char *dec(gt_packet_type t, const char *b, size_t n, const gt_decode_opts *o)
{
    static char buf[4096];
    gt_decode_result r;
    if (gt_decode_packet(t, b, n, o, &r) != 0)
        return "badarg";
    gt_decode_result_format(&r, buf, sizeof buf);
    return buf;
}

GT_TEST(frame_len_prefixes)
{
    size_t need = 99;
    ASSERT_EQ(frame(GT_PKT_2, "\0\3abcd", 6, 0, &need), 5);
    ASSERT_EQ(frame(GT_PKT_2, "\0\3ab", 4, 0, &need), 0);
    ASSERT_EQ(need, 5);
    ASSERT_EQ(frame(GT_PKT_4, "\0\0", 2, 0, &need), 0);
    ASSERT_EQ(need, 0);
    ASSERT_EQ(frame(GT_PKT_1, "\0", 1, 0, &need), 1);
    ASSERT_EQ(frame(GT_PKT_2, "\0\5abcde", 7, 4, &need), -EMSGSIZE);
    ASSERT_EQ(frame(GT_PKT_4, "\x7f\xff\xff\xfc", 4, 0, &need), -EMSGSIZE);
    ASSERT_S(body(GT_PKT_4, "\0\0\0\2ab", 6), "4/2");
    ASSERT_S(body(GT_PKT_1, "\0", 1), "1/0");
    ASSERT_S(body(GT_PKT_SUNRM, "\x80\0\0\3abc", 7), "0/7");
}

GT_TEST(frame_whole_frame_types)
{
    size_t need = 0;
    ASSERT_EQ(frame(GT_PKT_SUNRM, "\x80\0\0\3abc", 7, 0, &need), 7);
    ASSERT_EQ(frame(GT_PKT_TPKT, "\3\0\0\7abc", 7, 0, &need), 7);
    ASSERT_EQ(frame(GT_PKT_TPKT, "\4\0\0\7abc", 7, 0, &need), -EMSGSIZE);
    ASSERT_EQ(frame(GT_PKT_CDR, "GIOP\1\0\1\0\2\0\0\0ab", 14, 0, &need), 14);
    ASSERT_EQ(frame(GT_PKT_CDR, "GIOX\1\0\1\0\2\0\0\0ab", 14, 0, &need), -EMSGSIZE);
    ASSERT_EQ(frame(GT_PKT_FCGI, "\1\1\0\1\0\3\2\0abcxy", 13, 0, &need), 13);
    ASSERT_S(body(GT_PKT_FCGI, "\1\1\0\1\0\3\2\0abcxy", 13), "0/11");
    ASSERT_EQ(frame(GT_PKT_ASN1, "\x30\x80", 2, 0, &need), 2);
    ASSERT_EQ(frame(GT_PKT_ASN1, "\x30\x82\0\2ab", 6, 0, &need), 6);
    ASSERT_EQ(frame(GT_PKT_ASN1, "\x30\x85\1\1\1\1\1", 7, 0, &need), -EMSGSIZE);
    ASSERT_EQ(frame(GT_PKT_ASN1, "\x30\x85\1\1", 4, 0, &need), 0);
}

GT_TEST(frame_line_truncation)
{
    gt__pkt_opts o = {.line_length = 10, .line_delimiter = '\n'};
    size_t need;
    ASSERT_EQ(fr(GT_PKT_LINE, &o, "0123456789ABC", 13, NULL, &need), 10);
    ASSERT_EQ(fr(GT_PKT_LINE, &o, "01\n", 3, NULL, &need), 3);
    o.line_delimiter = ';';
    ASSERT_EQ(fr(GT_PKT_LINE, &o, "a;b\n", 4, NULL, &need), 2);
    o = (gt__pkt_opts){.packet_size = 3, .line_delimiter = '\n'};
    ASSERT_EQ(fr(GT_PKT_LINE, &o, "abcd", 4, NULL, &need), -EMSGSIZE);
}

GT_TEST(decode_text_matches_erlang)
{
    gt_decode_opts o = GT_DECODE_OPTS_INIT;
    ASSERT_S(dec(GT_PKT_2, "\0\3abcd", 6, NULL), "{ok,<<97,98,99>>,<<100>>}");
    ASSERT_S(dec(GT_PKT_RAW, "", 0, NULL), "{more,undefined}");
    ASSERT_S(dec(GT_PKT_4, "\0\0\0\7ab", 6, NULL), "{more,11}");
    ASSERT_S(dec(GT_PKT_FCGI, "\1\1\0\1\0\3\2\0abc\xff\xff\0", 14, NULL),
             "{ok,<<1,1,0,1,0,3,2,0,97,98,99>>,<<0>>}");
    ASSERT_S(dec(GT_PKT_4, "\x7f\xff\xff\xfb\0", 5, NULL), "{more,2147483647}");
    ASSERT_S(dec(GT_PKT_4, "\x7f\xff\xff\xfc\0", 5, NULL), "{error,invalid}");
    o.line_length = 2;
    ASSERT_S(dec(GT_PKT_LINE, "abc", 3, &o), "{ok,<<97,98>>,<<99>>}");
}

GT_TEST(decode_badarg_rules)
{
    gt_decode_opts o = GT_DECODE_OPTS_INIT;
    o.line_delimiter = 3;
    ASSERT_S(dec(GT_PKT_2, "\0\1a", 3, &o), "badarg");
    o.line_delimiter = 256;
    ASSERT_S(dec(GT_PKT_LINE, "a", 1, &o), "badarg");
    o = (gt_decode_opts)GT_DECODE_OPTS_INIT;
    o.packet_size = 4294967296ull;
    ASSERT_S(dec(GT_PKT_RAW, "a", 1, &o), "badarg");
    o.packet_size = 4294967295ull;
    ASSERT_S(dec(GT_PKT_RAW, "a", 1, &o), "{ok,<<97>>,<<>>}");
    ASSERT_S(dec((gt_packet_type)3, "a", 1, NULL), "badarg");
}

GT_TEST(format_truncates_like_snprintf)
{
    gt_decode_result r;
    char buf[8];
    ASSERT_EQ(gt_decode_packet(GT_PKT_RAW, "abc", 3, NULL, &r), 0);
    ASSERT_EQ(gt_decode_result_format(&r, buf, sizeof buf), strlen("{ok,<<97,98,99>>,<<>>}"));
    ASSERT_S(buf, "{ok,<<9");
    ASSERT_EQ(gt_decode_result_format(&r, NULL, 0), 22);
}

/* 16 MiB without a delimiter, then with: linear, well under a second. */
GT_TEST(long_line_is_linear)
{
    size_t n = 16u << 20;
    char *b = malloc(n);
    ASSERT(b != NULL);
    memset(b, 'x', n);
    b[n - 1] = '\n';
    clock_t c0 = clock();
    gt_decode_result r;
    for (int i = 0; i < 4; i++) {
        ASSERT_EQ(gt_decode_packet(GT_PKT_LINE, b, n, NULL, &r), 0);
        ASSERT_EQ(r.packet_len, n);
        ASSERT_EQ(gt_decode_packet(GT_PKT_HTTPH, b, n - 1, NULL, &r), 0);
        ASSERT_EQ(r.status, GT_DECODE_MORE);
    }
    ASSERT((double)(clock() - c0) / CLOCKS_PER_SEC < 2.0);
    free(b);
}

/* i7_02: a socket's line framing looks at no more than the cut length
 * (inet's buffer), so the cut comes before packet_size sees the line end;
 * decode_packet sees the whole binary and says invalid. */
GT_TEST(i7_02_frame_line_cut_before_packet_size)
{
    gt__pkt_opts o = {.packet_size = 10, .line_length = 5, .line_delimiter = '\n'};
    size_t need;
    const char *l = "0123456789ABC\n";
    ASSERT_EQ(fr(GT_PKT_LINE, &o, l, 14, NULL, &need), 5);
    ASSERT_EQ(fr(GT_PKT_LINE, &o, l + 10, 4, NULL, &need), 4);
    o.line_length = 20;
    ASSERT_EQ(fr(GT_PKT_LINE, &o, l, 14, NULL, &need), -EMSGSIZE);
    gt_decode_opts d = {.packet_size = 10, .line_length = 5, .line_delimiter = -1};
    ASSERT_S(dec(GT_PKT_LINE, l, 14, &d), "{error,invalid}");
}

/* i7_13: framing a stream that grows one byte at a time with a kept resume
 * point gives, at every length, what framing from scratch gives -- for
 * lines, cut lines, http start lines and header lines with continuations,
 * line ends split between reads, and the limits. */
static void resume_matches(gt_packet_type t, const char *s, size_t ps, size_t tl, int state)
{
    size_t n = strlen(s), resume = 0, need1, need2;
    /* tl: the cut of a line, the buffer of the other types */
    gt__pkt_opts o = {.packet_size = ps, .line_length = tl, .buffer = tl,
                      .line_delimiter = '\n', .http_state = state};
    for (size_t k = 0; k <= n; k++) {
        ssize_t a = fr(t, &o, s, k, &resume, &need1);
        ssize_t b = fr(t, &o, s, k, NULL, &need2);
        if (a != b || need1 != need2)
            gt_test_fail(__FILE__, __LINE__, "type %d \"%s\" at %zu: %zd/%zu with resume, %zd/%zu "
                         "fresh", (int)t, s, k, a, need1, b, need2);
        ASSERT(resume <= k);
        if (a != 0)
            ASSERT_EQ(resume, 0); /* the caller consumes the packet or stops */
    }
}

GT_TEST(i7_13_frame_resume_matches_fresh_scan)
{
    resume_matches(GT_PKT_LINE, "abc\n", 0, 0, 0);
    resume_matches(GT_PKT_LINE, "0123456789ABC\n", 0, 5, 0);
    resume_matches(GT_PKT_LINE, "0123456789ABC\n", 10, 0, 0);
    resume_matches(GT_PKT_LINE, "0123456789ABC\n", 10, 5, 0);
    resume_matches(GT_PKT_HTTP, "GET / HTTP/1.1\r\n", 0, 1460, 0);
    resume_matches(GT_PKT_HTTP, "GET / HTTP/1.1\r\n", 0, 8, 0);
    resume_matches(GT_PKT_HTTPH, "X: a\r\n b\r\n\tc\r\n d\r\nY: z\r\n", 0, 1460, 1);
    resume_matches(GT_PKT_HTTPH, "X: a\r\n b\r\n\tc\r\n d\r\nY: z\r\n", 12, 0, 1);
    resume_matches(GT_PKT_HTTPH, "\r\n", 0, 1460, 1);
    resume_matches(GT_PKT_HTTPH, "\n X\r\n", 0, 1460, 1);
    resume_matches(GT_PKT_HTTPH, "A\n\n", 0, 1460, 1);
    resume_matches(GT_PKT_HTTP, "\r\n", 0, 1460, 0);
}

/* i7_12: on a socket, a header whose length is still unknown when inet's
 * buffer (or packet_size, when larger) is full is emsgsize (E: a 10-byte
 * asn1 tag + 1 length byte, buffer 10 -> emsgsize, 11 -> the packet). */
GT_TEST(i7_12_frame_header_must_fit_buffer)
{
    const char *p = "\x1f\x81\x81\x81\x81\x81\x81\x81\x81\x01\x02" "ab";
    size_t need;
    gt__pkt_opts o = {.buffer = 10};
    ASSERT_EQ(fr(GT_PKT_ASN1, &o, p, 13, NULL, &need), -EMSGSIZE);
    o.buffer = 11;
    ASSERT_EQ(fr(GT_PKT_ASN1, &o, p, 13, NULL, &need), 13);
    o = (gt__pkt_opts){.buffer = 5, .packet_size = 100};
    ASSERT_EQ(fr(GT_PKT_ASN1, &o, p, 13, NULL, &need), 13);
    o.packet_size = 8;
    ASSERT_EQ(fr(GT_PKT_ASN1, &o, p, 13, NULL, &need), -EMSGSIZE);
    o = (gt__pkt_opts){.buffer = 1};
    ASSERT_EQ(fr(GT_PKT_2, &o, "\0\2ab", 4, NULL, &need), -EMSGSIZE);
    o.buffer = 0; /* not a socket: decode_packet's answer */
    ASSERT_EQ(fr(GT_PKT_ASN1, &o, p, 9, NULL, &need), 0);
}

GT_TEST(i7_13_frame_resume_asn1_long_tag)
{
    resume_matches(GT_PKT_ASN1, "\x1f\x81\x81\x81\x81\x81\x01\x02" "ab", 0, 0, 0);
    resume_matches(GT_PKT_ASN1, "\x1f\x81\x81\x81\x81\x81\x01\x02" "ab", 0, 6, 0);
    resume_matches(GT_PKT_ASN1, "\x3f\x81\x01\x82\x01\x01" "ab", 0, 0, 0);
    resume_matches(GT_PKT_ASN1, "\x30\x03" "abc", 0, 0, 0);
}

/* i8_04: one call frames a socket's packet with its limits: raw gives what
 * is there up to buffer, or exactly a recv's length; whole lines are
 * bounded by GT_LINE_MAX_DEFAULT when packet_size is 0 (line_length lifts
 * the bound: the cut bounds the input instead). */
GT_TEST(i8_04_frame_socket_limits)
{
    size_t need;
    gt__pkt_opts o = {.buffer = 3};
    ASSERT_EQ(fr(GT_PKT_RAW, &o, "abcde", 5, NULL, &need), 3);
    ASSERT_EQ(fr(GT_PKT_RAW, &o, "", 0, NULL, &need), 0);
    o.length = 4;
    ASSERT_EQ(fr(GT_PKT_RAW, &o, "abc", 3, NULL, &need), 0);
    ASSERT_EQ(need, 4);
    ASSERT_EQ(fr(GT_PKT_RAW, &o, "abcde", 5, NULL, &need), 4);

    size_t big = GT_LINE_MAX_DEFAULT + 1;
    char *l = malloc(big);
    ASSERT(l != NULL);
    memset(l, 'x', big);
    o = (gt__pkt_opts){.line_delimiter = '\n'};
    ASSERT_EQ(fr(GT_PKT_LINE, &o, l, big - 1, NULL, &need), 0);
    ASSERT_EQ(fr(GT_PKT_LINE, &o, l, big, NULL, &need), -EMSGSIZE);
    l[big - 2] = '\n'; /* a line of exactly the bound */
    ASSERT_EQ(fr(GT_PKT_LINE, &o, l, big, NULL, &need), (ssize_t)big - 1);
    o.packet_size = big + 10;
    l[big - 2] = 'x';
    ASSERT_EQ(fr(GT_PKT_LINE, &o, l, big, NULL, &need), 0);
    o = (gt__pkt_opts){.line_length = 8, .line_delimiter = '\n'};
    ASSERT_EQ(fr(GT_PKT_LINE, &o, l, big, NULL, &need), 8);
    free(l);
}
