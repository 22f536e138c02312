/*
 * pkt_fcgi.c -- {packet, fcgi}: a FastCGI record.
 *
 *   [Version=1, Type, ReqId1, ReqId0, Len1, Len0, PadLen, Reserved
 *    | Content (Len bytes) | Padding (PadLen bytes)]
 *
 * A version other than 1 is invalid.  The frame is header + content +
 * padding; the delivered packet is header + content (Erlang drops the
 * padding, see packet_get_body).
 */
#include "packet/packet.h"

#define FCGI_HLEN 8

int gt__pkt_fcgi_hdr(const uint8_t *p, size_t n, uint64_t *hlen, uint64_t *plen)
{
    if (n < FCGI_HLEN)
        return GT__PKT_MORE;
    if (p[0] != 1)
        return GT__PKT_INVALID;
    *hlen = FCGI_HLEN;
    *plen = (((uint64_t)p[4] << 8) | p[5]) + p[6];
    return GT__PKT_HDR;
}

size_t gt__pkt_fcgi_padding(const uint8_t *frame, size_t len)
{
    return len >= FCGI_HLEN ? frame[6] : 0;
}
