/*
 * public_types_test.c -- the public structs carry no accidental ABI: a
 * decode result is a plain value that may be copied (issue 8), and gt_msg
 * has no internal field in its public part.
 */
#include <stddef.h>

#include "../test.h"

static void name_is(gt_http_str s, const char *want)
{
    ASSERT_MEM(s.ptr, s.len, want, strlen(want));
}

/* A copy outlives the result it was copied from: nothing in it points into
 * the original struct (the canonical name used to). */
GT_TEST(i8_decode_result_copy_outlives_original)
{
    static const char hdr[] = "x-my-header: v\r\n\r\n";
    gt_decode_result *orig = malloc(sizeof *orig);
    ASSERT(orig);
    ASSERT_OK(gt_decode_packet(GT_PKT_HTTPH_BIN, hdr, sizeof hdr - 1, NULL, orig));
    ASSERT_EQ(orig->status, GT_DECODE_PACKET);
    gt_decode_result copy = *orig;
    memset(orig, 0x5a, sizeof *orig);
    free(orig);
    ASSERT_EQ(copy.http.kind, GT_HTTP_HEADER);
    ASSERT_EQ(copy.http.field, GT_HTTP_H_OTHER);
    name_is(gt_http_header_name(&copy.http), "X-My-Header");
    name_is(copy.http.raw_name, "x-my-header");
    name_is(copy.http.value, "v");
    /* as erlang:decode_packet(httph_bin, <<"x-my-header: v\r\n\r\n">>, []) */
    static const char want[] =
        "{ok,{http_header,0,<<88,45,77,121,45,72,101,97,100,101,114>>,"
        "<<120,45,109,121,45,104,101,97,100,101,114>>,<<118>>},<<13,10>>}";
    char text[200];
    gt_decode_result_format(&copy, text, sizeof text);
    ASSERT_MEM(text, strlen(text), want, strlen(want));
}

/* Known fields and over-long names: the name is the canonical one, or the
 * raw name beyond GT_HTTP_MAX_NAME_LEN bytes (Erlang's rule). */
GT_TEST(i8_header_name_known_and_long)
{
    gt_decode_result r;
    static const char known[] = "content-LENGTH: 3\r\n\r\n";
    ASSERT_OK(gt_decode_packet(GT_PKT_HTTPH, known, sizeof known - 1, NULL, &r));
    ASSERT_EQ(r.http.field, GT_HTTP_H_CONTENT_LENGTH);
    name_is(gt_http_header_name(&r.http), "Content-Length");
    ASSERT(strcmp(r.http.name, "Content-Length") == 0);

    char longhdr[128];
    const char *n51 = "abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefg";
    ASSERT_EQ(strlen(n51), GT_HTTP_MAX_NAME_LEN + 1);
    int len = snprintf(longhdr, sizeof longhdr, "%s: v\r\n\r\n", n51);
    ASSERT_OK(gt_decode_packet(GT_PKT_HTTPH, longhdr, (size_t)len, NULL, &r));
    ASSERT_EQ(r.http.kind, GT_HTTP_HEADER);
    name_is(gt_http_header_name(&r.http), n51);
    ASSERT_EQ(r.http.name[0], 0);
}

/* The mailbox link lives outside the public struct. */
GT_TEST(i8_msg_has_no_internal_link)
{
    _Static_assert(offsetof(gt_msg, kind) == 0, "gt_msg starts with its kind");
    ASSERT_OK(gt_post(gt_self(), 7, "abc", 3));
    ASSERT_OK(gt_post(gt_self(), 8, "de", 2));
    gt_msg *a, *b;
    ASSERT_OK(gt_receive(1000, &a));
    ASSERT_OK(gt_receive(1000, &b));
    ASSERT_EQ(a->tag, 7);
    ASSERT_STR(a, "abc");
    ASSERT_EQ(b->tag, 8);
    ASSERT_STR(b, "de");
    gt_msg copy = *a; /* a plain value: copying it copies no list state */
    gt_msg_free(a);
    gt_msg_free(b);
    ASSERT_EQ(copy.kind, GT_MSG_USER);
    ASSERT_ERR(gt_receive(0, &a), GT_ETIMEOUT);
}
