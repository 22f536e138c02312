/*
 * pkt_tpkt.c -- {packet, tpkt}: an ISO transport packet (RFC 1006).
 *
 *   [Version=3, Reserved, L1, L0 | Data]
 *
 * The 16-bit big-endian length counts the whole frame, header included.
 * A version other than 3 is invalid.  A length below 4 is invalid too
 * (Erlang's unsigned arithmetic wraps it to ~4 GiB, which no limit admits).
 */
#include "packet/packet.h"

#define TPKT_HLEN 4

int gt__pkt_tpkt_hdr(const uint8_t *p, size_t n, uint64_t *hlen, uint64_t *plen)
{
    uint32_t total;

    if (n < TPKT_HLEN)
        return GT__PKT_MORE;
    if (p[0] != 3)
        return GT__PKT_INVALID;
    total = ((uint32_t)p[2] << 8) | p[3];
    *hlen = TPKT_HLEN;
    *plen = (uint32_t)(total - TPKT_HLEN); /* wraps for total < 4, as Erlang */
    return GT__PKT_HDR;
}
