/*
 * pkt_cdr.c -- {packet, cdr}: a CORBA GIOP message header.
 *
 *   ['G','I','O','P', Major, Minor, Flags, MsgType, S0, S1, S2, S3 | Body]
 *
 * Flags bit 0 gives the byte order of the 32-bit body size S (1 = little
 * endian).  Anything but "GIOP" is invalid.  The packet is the whole frame.
 */
#include <string.h>

#include "packet/packet.h"

#define CDR_HLEN 12

int gt__pkt_cdr_hdr(const uint8_t *p, size_t n, uint64_t *hlen, uint64_t *plen)
{
    const uint8_t *s = p + 8;

    if (n < CDR_HLEN)
        return GT__PKT_MORE;
    if (memcmp(p, "GIOP", 4) != 0)
        return GT__PKT_INVALID;
    if (p[6] & 0x01)
        *plen = ((uint64_t)s[3] << 24) | ((uint64_t)s[2] << 16) | ((uint64_t)s[1] << 8) | s[0];
    else
        *plen = ((uint64_t)s[0] << 24) | ((uint64_t)s[1] << 16) | ((uint64_t)s[2] << 8) | s[3];
    *hlen = CDR_HLEN;
    return GT__PKT_HDR;
}
