/*
 * pkt_line.c -- {packet, line}: bytes up to and including a delimiter.
 *
 *   [Data ... Delimiter]        Delimiter is '\n' unless line_delimiter
 *
 * Limits, in Erlang's order: a line (with its delimiter) longer than
 * packet_size is invalid, and so is a delimiter-less buffer longer than it;
 * otherwise a line longer than trunc_len (line_length / the socket's
 * buffer), or trunc_len bytes without a delimiter, is cut at trunc_len and
 * delivered without the delimiter.
 *
 * *resume (optional) is the length of a prefix known to hold no delimiter:
 * the search starts there, and when it fails the whole of p is such a
 * prefix for the next call.
 */
#include <string.h>

#include "packet/packet.h"

int64_t gt__pkt_line_len(const uint8_t *p, size_t n, uint64_t max_plen, uint64_t trunc_len,
                         uint8_t delim, size_t *resume)
{
    size_t from = resume && *resume <= n ? *resume : 0;
    const uint8_t *d = from < n ? memchr(p + from, delim, n - from) : NULL;

    if (d == NULL) {
        if (resume)
            *resume = n;
        if (max_plen != 0 && n > max_plen)
            return -1;
        if (trunc_len != 0 && n >= trunc_len)
            return (int64_t)trunc_len;
        return 0;
    }
    uint64_t len = (uint64_t)(d - p) + 1;
    if (max_plen != 0 && len > max_plen)
        return -1;
    if (trunc_len != 0 && len > trunc_len)
        return (int64_t)trunc_len;
    return (int64_t)len;
}
