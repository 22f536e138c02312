/*
 * packet.c -- dispatch by packet type: the framing contract the socket
 * layer uses (gt__pkt_frame) and erlang:decode_packet/3 (gt_decode_packet).
 *
 * Each family file answers "how long is the first packet"; this file owns
 * the rules shared by all of them: the packet_size limit, the 2^31-1 cap
 * that Erlang's int lengths impose, and what is stripped on delivery.
 */
#include <errno.h>
#include <limits.h>

#include "packet/packet.h"

static inline int64_t total(uint64_t hlen, uint64_t plen, uint64_t max_plen)
{
    if (max_plen != 0 && plen > max_plen)
        return -1;
    if (hlen + plen > INT32_MAX) /* Erlang: int overflow is "invalid" */
        return -1;
    return (int64_t)(hlen + plen);
}

int64_t gt__pkt_total(uint64_t hlen, uint64_t plen, uint64_t max_plen)
{
    return total(hlen, plen, max_plen);
}

/* Unknown packet type (only gt_decode_packet can be handed one). */
#define BAD_TYPE INT64_MIN

/* The one switch on the type: the Erlang length of the first packet (>0
 * total, 0 unknown, -1 invalid, BAD_TYPE). */
static inline int64_t measure(gt_packet_type t, uint64_t max_plen, uint64_t trunc_len,
                              uint8_t delim, int http_state, const uint8_t *p, size_t n,
                              size_t *resume)
{
    uint64_t hlen = 0, plen = 0;
    int r;

    switch (t) {
    case GT_PKT_RAW:
        return (int64_t)n; /* 0 = more */
    case GT_PKT_1:
    case GT_PKT_2:
    case GT_PKT_4:
        r = gt__pkt_len_hdr((size_t)t, p, n, &hlen, &plen);
        break;
    case GT_PKT_ASN1:
        r = gt__pkt_asn1_hdr(p, n, &hlen, &plen, resume);
        break;
    case GT_PKT_SUNRM:
        r = gt__pkt_sunrm_hdr(p, n, &hlen, &plen);
        break;
    case GT_PKT_CDR:
        r = gt__pkt_cdr_hdr(p, n, &hlen, &plen);
        break;
    case GT_PKT_FCGI:
        r = gt__pkt_fcgi_hdr(p, n, &hlen, &plen);
        break;
    case GT_PKT_TPKT:
        r = gt__pkt_tpkt_hdr(p, n, &hlen, &plen);
        break;
    case GT_PKT_LINE:
        return gt__pkt_line_len(p, n, max_plen, trunc_len, delim, resume);
    case GT_PKT_HTTPH:
    case GT_PKT_HTTPH_BIN:
        http_state = 1;
        /* fall through */
    case GT_PKT_HTTP:
    case GT_PKT_HTTP_BIN:
        return gt__pkt_http_len(p, n, max_plen, trunc_len, http_state, resume);
    default:
        return BAD_TYPE;
    }
    if (r == GT__PKT_HDR)
        return total(hlen, plen, max_plen);
    return r == GT__PKT_MORE ? 0 : -1;
}

int64_t gt__pkt_length(gt_packet_type t, uint64_t max_plen, uint64_t trunc_len, uint8_t delim,
                       int http_state, const uint8_t *p, size_t n)
{
    int64_t r = measure(t, max_plen, trunc_len, delim, http_state, p, n, NULL);
    return r == BAD_TYPE ? -1 : r;
}

/* What a complete frame of plen bytes delivers: a 1/2/4 header is
 * stripped, fcgi's padding dropped (Erlang's packet_get_body). */
static void body_of(gt_packet_type t, const uint8_t *p, size_t plen, gt__pkt_span *sp)
{
    size_t hl = (t == GT_PKT_1 || t == GT_PKT_2 || t == GT_PKT_4) ? (size_t)t : 0;
    size_t tl = t == GT_PKT_FCGI ? gt__pkt_fcgi_padding(p, plen) : 0;
    sp->total = plen;
    sp->body = hl;
    sp->body_len = plen - hl - tl;
    sp->need = 0;
}

/* raw on a socket: exactly `length` bytes for a recv that names it, else
 * what is there up to buffer. */
static int frame_raw(const gt__pkt_opts *o, const uint8_t *buf, size_t n, gt__pkt_span *sp)
{
    *sp = (gt__pkt_span){0};
    if (o->length) {
        if (n < o->length) {
            sp->need = o->length;
            return 0;
        }
        n = o->length;
    } else if (o->buffer && n > o->buffer) {
        n = o->buffer;
    }
    if (n == 0)
        return 0;
    body_of(GT_PKT_RAW, buf, n, sp);
    return 1;
}

int gt__pkt_frame(gt_packet_type t, const gt__pkt_opts *o, const uint8_t *buf, size_t n,
                  size_t *resume, gt__pkt_span *sp)
{
    if (t == GT_PKT_RAW)
        return frame_raw(o, buf, n, sp);
    /* The socket's limits (include/gentcp.h, docs/DEVIATIONS.md): lines
     * are cut at line_length, and whole lines must not let a peer grow the
     * input without limit; as in inet, an http line longer than buffer is
     * an error when packet_size is 0, inet's buffer holds no more than the
     * cut length, and a header must fit in it (or in packet_size when that
     * is larger). */
    bool line = t == GT_PKT_LINE;
    bool header = !line && !gt__pkt_is_http(t);
    size_t max_plen = o->packet_size;
    if (line && !max_plen && !o->line_length)
        max_plen = GT_LINE_MAX_DEFAULT;
    size_t cut = line ? o->line_length : o->buffer;
    size_t room = header && cut && o->packet_size > cut ? o->packet_size : cut;
    size_t view = (line || header) && room && n > room ? room : n;
    int64_t r = measure(t, max_plen, cut, (uint8_t)o->line_delimiter, o->http_state, buf, view,
                        resume);

    *sp = (gt__pkt_span){0};
    if (r < 0 || (r == 0 && header && room && n >= room)) {
        if (resume)
            *resume = 0;
        return -EMSGSIZE;
    }
    if (r > 0 && (uint64_t)r <= n) {
        if (resume)
            *resume = 0;
        body_of(t, buf, (size_t)r, sp);
        return 1;
    }
    sp->need = (size_t)r;
    return 0;
}

int gt_decode_packet(gt_packet_type t, const void *bytes, size_t len, const gt_decode_opts *opts,
                     gt_decode_result *res)
{
    static const gt_decode_opts defaults = GT_DECODE_OPTS_INIT;
    const uint8_t *p = bytes ? bytes : (const uint8_t *)"";
    uint8_t delim = '\n';
    int64_t r;

    if (!res || (!bytes && len))
        return GT_EBADARG;
    if (opts == NULL)
        opts = &defaults;
    /* Erlang's option rules (decode_packet_3): values are unsigned 32-bit,
     * line_delimiter is a byte and only for line. */
    if (opts->packet_size > UINT32_MAX || opts->line_length > UINT32_MAX)
        return GT_EBADARG;
    if (opts->line_delimiter != -1) {
        if (t != GT_PKT_LINE || opts->line_delimiter < 0 || opts->line_delimiter > 255)
            return GT_EBADARG;
        delim = (uint8_t)opts->line_delimiter;
    }

    r = measure(t, opts->packet_size, opts->line_length, delim, 0, p, len, NULL);
    if (r == BAD_TYPE)
        return GT_EBADARG;
    res->type = t;
    res->more = 0;
    res->is_http = false;
    if (r < 0) {
        res->status = GT_DECODE_INVALID;
        res->packet = res->rest = NULL;
        res->packet_len = res->rest_len = 0;
        return 0;
    }
    if (r == 0 || (uint64_t)r > len) {
        res->status = GT_DECODE_MORE;
        res->more = (size_t)r;
        res->packet = res->rest = NULL;
        res->packet_len = res->rest_len = 0;
        return 0;
    }
    size_t plen = (size_t)r;
    gt__pkt_span sp;
    body_of(t, p, plen, &sp);
    res->status = GT_DECODE_PACKET;
    res->packet = p + sp.body;
    res->packet_len = sp.body_len;
    res->rest = p + plen;
    res->rest_len = len - plen;
    if (gt__pkt_is_http(t)) {
        int state = (t == GT_PKT_HTTPH || t == GT_PKT_HTTPH_BIN);
        res->is_http = true;
        gt__http_parse(p, plen, &state, t == GT_PKT_HTTP_BIN || t == GT_PKT_HTTPH_BIN,
                       &res->http);
    }
    return 0;
}
