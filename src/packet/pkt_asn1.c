/*
 * pkt_asn1.c -- {packet, asn1}: one BER TLV (X.690 §8.1).
 *
 *   short tag:  [Tag (low 5 bits != 31) | Length | Value]
 *   long tag:   [Tag (low 5 bits == 31), T1 (bit 7 set) ..., Tn (bit 7 clear)
 *                | Length | Value]
 *   Length:     0..127 in one byte, or 0x80+k then k big-endian bytes.
 *
 * Erlang's reading, reproduced here: k = 0 (the BER "indefinite length")
 * gives a value length of 0, so the packet is the tag and the 0x80 byte
 * alone; k > 4 is invalid, but only once k more bytes are present (until
 * then it is "more").  The packet is the whole TLV.
 *
 * *resume (optional, as gt__pkt_opts.resume) keeps how far a long tag is
 * known to go on, so that a tag trickled in byte by byte costs linear time.
 */
#include "packet/packet.h"

int gt__pkt_asn1_hdr(const uint8_t *p, size_t n, uint64_t *hlen, uint64_t *plen,
                     size_t *resume)
{
    size_t i = 1;      /* cursor: the byte after the first tag byte */
    size_t left;       /* bytes from p[i] to the end */
    size_t k;

    if (n < 2)
        return GT__PKT_MORE;
    left = n - 1;
    if ((p[0] & 0x1f) == 0x1f) {
        /* a long tag that arrives in pieces is not walked again */
        if (resume && *resume > i && *resume <= n)
            i = *resume;
        left = n - i;
        while (left > 0 && (p[i] & 0x80)) {
            i++;
            left--;
        }
        if (resume)
            *resume = i;
        if (left < 2)
            return GT__PKT_MORE;
        i++; /* the last tag byte */
        left--;
    }
    /* p[i] is the first length byte and left >= 1 */
    k = p[i] & 0x7f;
    if (!(p[i] & 0x80)) {
        *hlen = i + 1;
        *plen = k;
        return GT__PKT_HDR;
    }
    i++;
    left--;
    if (left < k)
        return GT__PKT_MORE;
    if (k > 4)
        return GT__PKT_INVALID;
    {
        uint64_t v = 0;
        for (size_t j = 0; j < k; j++)
            v = (v << 8) | p[i + j];
        *hlen = i + k;
        *plen = v;
    }
    return GT__PKT_HDR;
}
