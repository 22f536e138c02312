/*
 * pkt_sunrm.c -- {packet, sunrm}: a Sun RPC record mark (RFC 5531 §11).
 *
 *   [L3, L2, L1, L0 | Data]    big-endian; bit 31 = last fragment (ignored)
 *
 * The 31-bit length counts the body; the whole frame (mark included) is
 * the packet.
 */
#include "packet/packet.h"

int gt__pkt_sunrm_hdr(const uint8_t *p, size_t n, uint64_t *hlen, uint64_t *plen)
{
    if (n < 4)
        return GT__PKT_MORE;
    *hlen = 4;
    *plen = ((uint64_t)(p[0] & 0x7f) << 24) | ((uint64_t)p[1] << 16) | ((uint64_t)p[2] << 8) | p[3];
    return GT__PKT_HDR;
}
