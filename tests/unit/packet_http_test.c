/*
 * packet_http_test.c -- the http decoders: structured results, the
 * recognised-header table, and the socket layer's heap packets.
 */
#include <time.h>

#include "packet/packet.h"
#include "../test.h"

static const char *dec(gt_packet_type t, const char *s)
{
    static char buf[8192];
    gt_decode_result r;
    if (gt_decode_packet(t, s, strlen(s), NULL, &r) != 0)
        return "badarg";
    gt_decode_result_format(&r, buf, sizeof buf);
    return buf;
}

#define ASSERT_S(a, b) ASSERT_MEM(a, strlen(a), b, strlen(b))

GT_TEST(http_request_line)
{
    gt_decode_result r;
    const char *s = "GET http://u:p@h:8080/x?y HTTP/1.1\r\n";
    ASSERT_EQ(gt_decode_packet(GT_PKT_HTTP_BIN, s, strlen(s), NULL, &r), 0);
    ASSERT_EQ(r.http.kind, GT_HTTP_REQUEST);
    ASSERT_EQ(r.http.method, GT_HTTP_M_GET);
    ASSERT_EQ(r.http.uri.kind, GT_URI_ABSOLUTE);
    ASSERT_MEM(r.http.uri.host.ptr, r.http.uri.host.len, "u", 1); /* as Erlang */
    ASSERT_EQ(r.http.uri.port, 0);
    ASSERT_S(dec(GT_PKT_HTTP, "GET / HTTP/1.1\r\n"),
             "{ok,{http_request,'GET',{abs_path,[47]},{1,1}},<<>>}");
    ASSERT_S(dec(GT_PKT_HTTP, "garbage line\r\n"),
             "{ok,{http_request,[103,97,114,98,97,103,101],[108,105,110,101],{0,9}},<<>>}");
    ASSERT_S(dec(GT_PKT_HTTP_BIN, "OPTIONS * HTTP/1.0\r\n"),
             "{ok,{http_request,'OPTIONS','*',{1,0}},<<>>}");
    ASSERT_S(dec(GT_PKT_HTTP, "GET http://h:4294967295/ HTTP/1.1\r\n"),
             "{ok,{http_request,'GET',{absoluteURI,http,[104],-1,[47]},{1,1}},<<>>}");
    ASSERT_S(dec(GT_PKT_HTTP_BIN, "\r\n"), "{ok,{http_error,<<13,10>>},<<>>}");
}

GT_TEST(http_response_line)
{
    ASSERT_S(dec(GT_PKT_HTTP, "HTTP/1.1 200 OK\r\n"),
             "{ok,{http_response,{1,1},200,[79,75]},<<>>}");
    ASSERT_S(dec(GT_PKT_HTTP_BIN, "HTTP/1.0 404\r\n"),
             "{ok,{http_response,{1,0},404,<<>>},<<>>}");
    ASSERT_S(dec(GT_PKT_HTTP_BIN, "HTTP/1 200 OK\r\n"),
             "{ok,{http_error,<<72,84,84,80,47,49,32,50,48,48,32,79,75,13,10>>},<<>>}");
}

GT_TEST(http_headers_table_and_case)
{
    for (int f = 1; f < GT_HTTP_H_COUNT_; f++) {
        char line[128];
        gt_decode_result r;
        int n = snprintf(line, sizeof line, "%s: v\r\n\r\n", gt_http_field_name((gt_http_field)f));
        for (int i = 0; i < n; i++) /* shout it: Erlang canonicalises */
            if (line[i] >= 'a' && line[i] <= 'z')
                line[i] = (char)(line[i] - 32);
        ASSERT_EQ(gt_decode_packet(GT_PKT_HTTPH_BIN, line, (size_t)n, NULL, &r), 0);
        ASSERT_EQ(r.http.kind, GT_HTTP_HEADER);
        ASSERT_EQ(r.http.field, f);
    }
    ASSERT_EQ(GT_HTTP_H_PROXY_CONNECTION, 52);
    ASSERT_EQ(GT_HTTP_H_HOST, 14);
    ASSERT_S(dec(GT_PKT_HTTPH, "x-foo-BAR: a\r\n  b\r\n\r\n"),
             "{ok,{http_header,0,[88,45,70,111,111,45,66,97,114],"
             "[120,45,102,111,111,45,66,65,82],[97,13,10,32,32,98]},<<13,10>>}");
    ASSERT_S(dec(GT_PKT_HTTPH, "Host: a\r\n"), "{more,undefined}");
    ASSERT_S(dec(GT_PKT_HTTPH, "\r\n"), "{ok,http_eoh,<<>>}");
}

GT_TEST(http_packet_new_heap_block)
{
    int st = 0;
    const char *req = "GET /a HTTP/1.1\r\n", *hdr = "content-type: text/x\r\n";
    struct gt_http_packet *p = gt__http_packet_new(GT_PKT_HTTP, (const uint8_t *)req,
                                                   strlen(req), &st);
    ASSERT(p != NULL);
    ASSERT_EQ(st, 1);
    ASSERT_EQ(p->kind, GT_HTTP_REQUEST);
    ASSERT(strcmp(p->uri.path.ptr, "/a") == 0);
    free(p);
    p = gt__http_packet_new(GT_PKT_HTTP, (const uint8_t *)hdr, strlen(hdr), &st);
    ASSERT(p != NULL);
    ASSERT_EQ(p->field, GT_HTTP_H_CONTENT_TYPE);
    ASSERT(strcmp(p->name, "Content-Type") == 0);
    ASSERT(strcmp(p->raw_name.ptr, "content-type") == 0);
    ASSERT(strcmp(p->value.ptr, "text/x") == 0);
    free(p);
    p = gt__http_packet_new(GT_PKT_HTTP, (const uint8_t *)"\r\n", 2, &st);
    ASSERT(p != NULL && p->kind == GT_HTTP_EOH);
    ASSERT_EQ(st, 0);
    free(p);
}

/* Many headers / one huge continued header: linear. */
GT_TEST(http_many_continuations_linear)
{
    size_t lines = 200000, n = lines * 4 + 16;
    char *b = malloc(n), *w = b;
    ASSERT(b != NULL);
    w += sprintf(w, "X: a\r\n");
    for (size_t i = 0; i < lines; i++)
        w += sprintf(w, " b\r\n");
    clock_t c0 = clock();
    gt_decode_result r;
    ASSERT_EQ(gt_decode_packet(GT_PKT_HTTPH, b, (size_t)(w - b), NULL, &r), 0);
    ASSERT_EQ(r.status, GT_DECODE_MORE);
    ASSERT((double)(clock() - c0) / CLOCKS_PER_SEC < 1.0);
    free(b);
}
