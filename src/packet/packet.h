/*
 * packet.h -- the internal packet contract the socket layer uses.
 *
 * Two phases, as in OTP's packet_parser: gt__pkt_frame() finds where the
 * first packet and its body lie; gt__http_packet_new() turns one framed
 * http line into a message payload.
 * Everything is pure over (buf, n): no I/O, no globals, no init function.
 *
 * Inside src/packet the family files share the gt__pkt_* helpers declared
 * at the bottom; nothing outside src/packet should call those.
 */
#ifndef GT_PACKET_H
#define GT_PACKET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gentcp.h"

/* A socket's framing options, as the socket holds them: the limits they
 * imply for each type (the line bound, the cut, the room for a header)
 * are this layer's rules (gt__pkt_frame). */
typedef struct gt__pkt_opts {
    size_t packet_size;   /* option packet_size; 0 = no limit (but see
                             line_length) */
    size_t line_length;   /* line: cut a longer line there (Erlang cuts at
                             buffer: docs/DEVIATIONS.md); 0 = whole lines,
                             bounded by packet_size or, when that is 0,
                             GT_LINE_MAX_DEFAULT */
    size_t buffer;        /* option buffer: raw, the most one packet holds;
                             http, the line limit when packet_size is 0;
                             the header types, the room a header must fit
                             in (packet_size when larger); 0 = none, as
                             decode_packet */
    size_t length;        /* raw only: gen_tcp:recv's Length, exactly that
                             many bytes; 0 = what is there */
    int line_delimiter;   /* default '\n' (0 is the NUL byte: set it!) */
    int http_state;       /* http/http_bin only: 0 = a start line is
                             expected, 1 = header lines (continuation
                             lines only exist in state 1).  httph/httph_bin
                             are always 1.  Zero-initialising is right for
                             a fresh socket. */
} gt__pkt_opts;

/* Where the first packet lies in the bytes framed (gt__pkt_frame). */
typedef struct gt__pkt_span {
    size_t total;    /* bytes of the whole frame (header, body, trailer) */
    size_t body;     /* offset of what is delivered: after a 1/2/4 header;
                        0 for every other type (they deliver the frame) */
    size_t body_len; /* bytes delivered: fcgi drops its padding (Erlang's
                        packet_get_body); an http line is parsed whole
                        (gt__http_packet_new on total bytes) */
    size_t need;     /* on 0 returned: the total length if known, else 0 */
} gt__pkt_span;

/*
 * gt__pkt_frame -- Erlang's packet_get_length and packet_get_body in one
 * call, as a socket frames:
 *    1: a complete packet is at buf, *sp says where (total <= n);
 *    0: more data needed, sp->need set;
 *   <0: -EMSGSIZE for an oversize packet or an invalid header (as Erlang's
 *       packet_get_length < 0: wrong cdr magic, fcgi version, tpkt version,
 *       asn1 length of more than 4 bytes, anything over 2^31-1 bytes).
 *
 * *resume (line/http/asn1; may be NULL = from the start) is where the
 * search for the line end (or a long asn1 tag's end) resumes, in and out.
 * The caller keeps it (0 at first) while the same bytes stay at buf and
 * only more are added; with any other change (bytes consumed, another
 * option or http_state) it starts again from 0.  A partial line that grows
 * by k bytes then costs O(k), not O(line).  It is 0 after a packet or an
 * error.
 *
 * A socket is not decode_packet on line: inet holds at most `buffer` bytes,
 * so with a cut length only that many bytes are looked at and a long line
 * is cut before packet_size can see its end (rule 83: cut 5, packet_size
 * 10, "0123456789ABC\n" -> "01234", "56789", "ABC\n").  For the same
 * reason a header type whose length is still unknown when
 * max(buffer, packet_size) bytes are there is -EMSGSIZE, even if more
 * bytes would complete the header (inet: asn1 tag of 10 bytes, buffer 10).
 */
int gt__pkt_frame(gt_packet_type t, const gt__pkt_opts *o, const uint8_t *buf, size_t n,
                  size_t *resume, gt__pkt_span *sp);

/*
 * gt__http_packet_new -- parses one framed http line (len bytes as
 * gt__pkt_frame measured them, line end included) into a single heap block:
 * the struct followed by copies of every string it references, each
 * NUL-terminated.  Release with free().
 *
 * *http_state is the socket's http state (see gt__pkt_opts.http_state) and
 * is updated as inet_drv does: a request/response line moves it to 1
 * (headers), http_eoh back to 0.  For httph/httph_bin it is forced to 1.
 * A line that does not parse gives kind GT_HTTP_ERROR (state unchanged).
 * Returns NULL only when malloc fails (then *http_state is unchanged).
 */
struct gt_http_packet *gt__http_packet_new(gt_packet_type t, const uint8_t *frame,
                                           size_t len, int *http_state);

/* True for the four http types. */
static inline int gt__pkt_is_http(gt_packet_type t)
{
    return t == GT_PKT_HTTP || t == GT_PKT_HTTPH || t == GT_PKT_HTTP_BIN ||
           t == GT_PKT_HTTPH_BIN;
}

/* ---- shared by the family files (src/packet only) ---------------------- */

/* What a header-prefixed family learnt from the bytes so far. */
enum gt__pkt_hdr {
    GT__PKT_MORE = 0,    /* not enough bytes to know the length */
    GT__PKT_HDR = 1,     /* *hlen / *plen are set */
    GT__PKT_INVALID = -1 /* the header is not valid for this type */
};

/* pkt_len.c: raw is not handled here; hsize is 1, 2 or 4. */
int gt__pkt_len_hdr(size_t hsize, const uint8_t *p, size_t n, uint64_t *hlen, uint64_t *plen);
/* pkt_sunrm.c, pkt_asn1.c, pkt_cdr.c, pkt_fcgi.c, pkt_tpkt.c */
int gt__pkt_sunrm_hdr(const uint8_t *p, size_t n, uint64_t *hlen, uint64_t *plen);
int gt__pkt_asn1_hdr(const uint8_t *p, size_t n, uint64_t *hlen, uint64_t *plen,
                     size_t *resume);
int gt__pkt_cdr_hdr(const uint8_t *p, size_t n, uint64_t *hlen, uint64_t *plen);
int gt__pkt_fcgi_hdr(const uint8_t *p, size_t n, uint64_t *hlen, uint64_t *plen);
size_t gt__pkt_fcgi_padding(const uint8_t *frame, size_t len);
int gt__pkt_tpkt_hdr(const uint8_t *p, size_t n, uint64_t *hlen, uint64_t *plen);

/* pkt_line.c: >0 line length (or trunc_len), 0 more, -1 invalid.  resume
 * as gt__pkt_frame's (may be NULL). */
int64_t gt__pkt_line_len(const uint8_t *p, size_t n, uint64_t max_plen, uint64_t trunc_len,
                         uint8_t delim, size_t *resume);

/* pkt_http.c: framing of one http line; state as gt__pkt_opts.http_state,
 * resume as gt__pkt_frame's (may be NULL).  >0 line length, 0 more,
 * -1 invalid. */
int64_t gt__pkt_http_len(const uint8_t *p, size_t n, uint64_t max_plen, uint64_t trunc_len,
                         int state, size_t *resume);

/* pkt_http.c: parses a framed line (ends in '\n') into *out, pointing into
 * buf (the canonical header name is copied into out->name).  Updates *state as inet_drv does.  Never fails:
 * a bad line becomes GT_HTTP_ERROR. */
void gt__http_parse(const uint8_t *buf, size_t len, int *state, bool binary,
                    struct gt_http_packet *out);

/* The common length check: plen over max_plen (0 = none) or a total over
 * INT_MAX is invalid (Erlang returns -1; its int cannot hold more). */
int64_t gt__pkt_total(uint64_t hlen, uint64_t plen, uint64_t max_plen);

/* Erlang-length of the first packet: >0 total, 0 unknown, -1 invalid. */
int64_t gt__pkt_length(gt_packet_type t, uint64_t max_plen, uint64_t trunc_len, uint8_t delim,
                       int http_state, const uint8_t *p, size_t n);

#endif /* GT_PACKET_H */
