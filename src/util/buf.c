/*
 * buf.c -- see buf.h.
 */
#include "util/buf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void gt__buf_free(gt__buf *b)
{
    free(b->data);
    b->data = NULL;
    b->off = b->len = b->cap = 0;
}

int gt__buf_reserve(gt__buf *b, size_t more)
{
    if (b->off && b->off == b->len)
        b->off = b->len = 0;
    if (b->cap - b->len >= more)
        return 0;
    if (b->off) {
        memmove(b->data, b->data + b->off, gt__buf_avail(b));
        b->len -= b->off;
        b->off = 0;
        if (b->cap - b->len >= more)
            return 0;
    }
    size_t cap = b->cap ? b->cap : 16384; /* a batch of small packets fits */
    while (cap - b->len < more)
        cap *= 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p)
        return -ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int gt__buf_append_iov(gt__buf *b, const struct iovec *iov, int n, size_t skip)
{
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += iov[i].iov_len;
    if (skip >= total)
        return 0;
    if (gt__buf_reserve(b, total - skip) != 0)
        return -ENOMEM;
    for (int i = 0; i < n; i++) {
        size_t len = iov[i].iov_len;
        if (skip >= len) {
            skip -= len;
            continue;
        }
        memcpy(b->data + b->len, (const uint8_t *)iov[i].iov_base + skip, len - skip);
        b->len += len - skip;
        skip = 0;
    }
    return 0;
}

void gt__buf_consume(gt__buf *b, size_t n)
{
    b->off += n;
    if (b->off >= b->len)
        gt__buf_free(b);
}
