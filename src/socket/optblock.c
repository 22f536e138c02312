/*
 * optblock.c -- the shared options block (issue 11: a hibernated
 * connection <= 512 B).  An accepted socket shares its listen socket's
 * gt__sockopts until an option is set on either: options.c writes through
 * a copy then (copy on write).  A block with more than one reference is
 * never written; the one with a single reference belongs to its socket
 * alone, and only a listen socket's block gains references (at accept,
 * under the listen socket's lock), so a socket writes its own block in
 * place under its lock without a race.
 */
#include <stdlib.h>
#include <string.h>

#include "socket/sock.h"

typedef struct optblock {
    atomic_int refs;
    gt__sockopts o;
} optblock;

static optblock *block_of(gt__sockopts *o) { return gt__container_of(o, optblock, o); }

gt__sockopts *gt__optblock_new(const gt__sockopts *o)
{
    optblock *b = malloc(sizeof *b);
    if (!b)
        return NULL;
    atomic_init(&b->refs, 1);
    memcpy(&b->o, o, sizeof b->o);
    return &b->o;
}

gt__sockopts *gt__optblock_share(gt__sockopts *o)
{
    atomic_fetch_add_explicit(&block_of(o)->refs, 1, memory_order_relaxed);
    return o;
}

bool gt__optblock_shared(gt__sockopts *o)
{
    return atomic_load_explicit(&block_of(o)->refs, memory_order_acquire) > 1;
}

void gt__optblock_put(gt__sockopts *o)
{
    if (o && atomic_fetch_sub_explicit(&block_of(o)->refs, 1, memory_order_acq_rel) == 1)
        free(block_of(o));
}

size_t gt__optblock_size(void) { return sizeof(optblock); }
