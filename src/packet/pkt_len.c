/*
 * pkt_len.c -- {packet, 1 | 2 | 4}: a big-endian length, then the body.
 *
 *   packet 1:  [L0 | Data]
 *   packet 2:  [L1, L0 | Data]
 *   packet 4:  [L3, L2, L1, L0 | Data]
 *
 * The length counts the body only.  raw/0 has no header and is handled by
 * the dispatcher (packet.c).
 */
#include "packet/packet.h"

int gt__pkt_len_hdr(size_t hsize, const uint8_t *p, size_t n, uint64_t *hlen, uint64_t *plen)
{
    uint64_t v = 0;

    if (n < hsize)
        return GT__PKT_MORE;
    for (size_t i = 0; i < hsize; i++)
        v = (v << 8) | p[i];
    *hlen = hsize;
    *plen = v;
    return GT__PKT_HDR;
}
