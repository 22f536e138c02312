/*
 * chunk.c -- a run of {packet,1|2|4} frames copied once out of a read, whose
 * messages are slices of it (Erlang's sub-binaries of one refc binary).
 *
 * A pipelining peer's read holds dozens of small frames: one copy of the
 * run and one allocation instead of one per frame, and the frames keep
 * their headers in front of them, so that gt_send_msgs writes a run of
 * them back as it came, headers included, with no copy (issue 11, echo).
 *
 * Ownership: the maker (the socket framing the run) holds the chunk until
 * gt__chunk_publish; from then each slice message holds one reference,
 * released by gt_msg_free, from any thread (messages move between
 * processes: controlling_process, a process stolen by another scheduler).
 * A retained slice keeps its whole chunk, at most GT__CHUNK_MAX bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static _Atomic uint64_t live; /* per chunk, not per message: a witness for
                                 the tests that a retained slice is freed */

gt__chunk *gt__chunk_new(const uint8_t *bytes, size_t len, unsigned hl)
{
    if (len > GT__CHUNK_MAX)
        return NULL;
    gt__chunk *c = malloc(sizeof *c + len);
    if (!c)
        return NULL;
    atomic_init(&c->refs, 0);
    c->hl = hl;
    c->len = (uint32_t)len;
    memcpy(c->data, bytes, len);
    atomic_fetch_add_explicit(&live, 1, memory_order_relaxed);
    return c;
}

gt_msg *gt__msg_slice(gt_msg_kind kind, gt__chunk *c, uint32_t *slices, uint8_t *data, size_t len)
{
    gt_msg *m = gt__msg_new(kind, 0);
    if (!m)
        return NULL;
    gt__envelope_of(m)->chunk = c;
    m->data = data;
    m->len = len;
    (*slices)++;
    return m;
}

void gt__chunk_publish(gt__chunk *c, uint32_t slices)
{
    if (!slices) {
        atomic_fetch_sub_explicit(&live, 1, memory_order_relaxed);
        free(c);
        return;
    }
    /* the slices are not seen by another thread before the mailbox's lock
     * publishes them: a plain store is enough */
    atomic_store_explicit(&c->refs, slices, memory_order_relaxed);
}

void gt__chunk_release(gt__chunk *c)
{
    if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1)
        return;
    atomic_fetch_sub_explicit(&live, 1, memory_order_relaxed);
    free(c);
}

uint64_t gt__chunks_live(void) { return atomic_load(&live); }
