/*
 * fuzz_packet.c -- libFuzzer target for the packet decoders, one binary per
 * family: build with -DGT_FUZZ_FAMILY=N (see scripts/fuzz.sh):
 *   0 len (raw/1/2/4)  1 line  2 http (all four)  3 asn1  4 sunrm
 *   5 cdr  6 fcgi  7 tpkt
 *
 * Input: [sel, o1, o2, o3 | bytes].  sel picks the type inside the family,
 * o1..o3 the options (packet_size, line_length, line_delimiter), so the
 * fuzzer explores limits as well as bytes.  Each input goes through:
 * gt_decode_packet + gt_decode_result_format, a stream decode of all of it
 * (checking that each packet lies inside the input and the stream makes
 * progress), gt__pkt_frame with the same limits, and for http
 * gt__http_packet_new.  Any violated invariant traps.
 */
#include <stdlib.h>
#include <string.h>

#include "packet/packet.h"

#ifndef GT_FUZZ_FAMILY
#define GT_FUZZ_FAMILY 0
#endif

#define CHECK(c)                                                               \
    do {                                                                       \
        if (!(c))                                                              \
            __builtin_trap();                                                  \
    } while (0)

static gt_packet_type pick_type(uint8_t sel)
{
    static const gt_packet_type len_types[] = {GT_PKT_RAW, GT_PKT_1, GT_PKT_2, GT_PKT_4};
    static const gt_packet_type http_types[] = {GT_PKT_HTTP, GT_PKT_HTTPH, GT_PKT_HTTP_BIN,
                                                GT_PKT_HTTPH_BIN};
    switch (GT_FUZZ_FAMILY) {
    case 0: return len_types[sel & 3];
    case 1: return GT_PKT_LINE;
    case 2: return http_types[sel & 3];
    case 3: return GT_PKT_ASN1;
    case 4: return GT_PKT_SUNRM;
    case 5: return GT_PKT_CDR;
    case 6: return GT_PKT_FCGI;
    default: return GT_PKT_TPKT;
    }
}

/* A limit from one byte: mostly none, else small, sometimes huge. */
static uint64_t limit(uint8_t b)
{
    if (b < 128)
        return 0;
    if (b < 250)
        return b - 127u;
    return b == 255 ? UINT32_MAX : (uint64_t)1 << (b - 220);
}

static void check_result(const gt_decode_result *r, const uint8_t *p, size_t n)
{
    char small[256];
    size_t need = gt_decode_result_format(r, small, sizeof small);
    CHECK(strlen(small) == (need < sizeof small ? need : sizeof small - 1));
    if (r->status != GT_DECODE_PACKET)
        return;
    CHECK(r->rest >= p && r->rest + r->rest_len == p + n);
    CHECK(r->rest > p); /* progress */
    if (!r->is_http)
        CHECK(r->packet >= p && r->packet + r->packet_len <= r->rest);
    char *big = malloc(need + 1);
    CHECK(big != NULL);
    CHECK(gt_decode_result_format(r, big, need + 1) == need && big[need] == '\0');
    free(big);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    gt_packet_type t = pick_type(data[0]);
    gt_decode_opts o = GT_DECODE_OPTS_INIT;
    o.packet_size = limit(data[1]);
    o.line_length = limit(data[2]);
    if (t == GT_PKT_LINE && data[3] != '\n')
        o.line_delimiter = data[3];
    const uint8_t *p = data + 4;
    size_t n = size - 4;

    /* one call, as decode_packet/3 */
    gt_decode_result r;
    int rc = gt_decode_packet(t, p, n, &o, &r);
    if (rc != 0) { /* only options above 2^32-1 are refused here */
        CHECK(rc == GT_EBADARG && (o.packet_size > UINT32_MAX || o.line_length > UINT32_MAX));
        return 0;
    }
    check_result(&r, p, n);

    /* the whole stream, as gtcat decode does */
    const uint8_t *cur = p;
    size_t left = n, steps = 0;
    gt_packet_type st = t;
    while (gt_decode_packet(st, cur, left, &o, &r) == 0 && r.status == GT_DECODE_PACKET) {
        check_result(&r, cur, left);
        if (r.is_http && (r.http.kind == GT_HTTP_REQUEST || r.http.kind == GT_HTTP_RESPONSE))
            st = t == GT_PKT_HTTP ? GT_PKT_HTTPH : t == GT_PKT_HTTP_BIN ? GT_PKT_HTTPH_BIN : st;
        else if (r.is_http && r.http.kind == GT_HTTP_EOH)
            st = t;
        left = r.rest_len;
        cur = r.rest;
        CHECK(++steps <= n + 1);
    }

    /* the socket layer's framing and http payloads (line_length cuts a
     * line, buffer bounds the others) */
    gt__pkt_opts so = {.packet_size = o.packet_size, .line_length = o.line_length,
                       .buffer = o.line_length,
                       .line_delimiter = o.line_delimiter < 0 ? '\n' : o.line_delimiter,
                       .http_state = data[0] >> 7};
    gt__pkt_span sp;
    int fr = gt__pkt_frame(t, &so, p, n, NULL, &sp);
    CHECK(fr != 1 || sp.total <= n);

    /* framing resumed over growing prefixes, as a socket does read after
     * read, answers what framing from scratch answers */
    size_t resume = 0;
    for (size_t k = 0; k <= n && k <= 512; k++) {
        gt__pkt_span s1, s2;
        int a = gt__pkt_frame(t, &so, p, k, &resume, &s1);
        int b = gt__pkt_frame(t, &so, p, k, NULL, &s2);
        CHECK(a == b && s1.need == s2.need && resume <= k);
        CHECK(a == 0 || resume == 0);
        CHECK(a != 1 || (s1.total == s2.total && s1.body == s2.body &&
                         s1.body_len == s2.body_len));
    }
    if (fr == 1) {
        CHECK(sp.body + sp.body_len <= sp.total);
        if (gt__pkt_is_http(t)) {
            int hs = so.http_state;
            struct gt_http_packet *hp = gt__http_packet_new(t, p, sp.total, &hs);
            CHECK(hp != NULL);
            char buf[64];
            (void)gt_http_packet_format(hp, buf, sizeof buf);
            free(hp);
        }
    } else if (fr == 0) {
        CHECK(sp.need == 0 || sp.need > n);
    }
    return 0;
}
