/*
 * idset.c -- see idset.h.  Deletion shifts the following run back instead
 * of leaving a tombstone (Knuth 6.4, algorithm R), so lookups never wade
 * through the leftovers of a supervisor's churn.
 */
#include <errno.h>
#include <stdlib.h>

#include "util/idset.h"

#define MIN_CAP 4

/* Fibonacci hashing: pids differ mostly in their low bits (the slot). */
static size_t home(const gt__idset *s, uint64_t id)
{
    return (size_t)((id * UINT64_C(0x9E3779B97F4A7C15)) >> 32) & (s->cap - 1);
}

/* The slot holding id, or the empty slot where it would go. */
static size_t probe(const gt__idset *s, uint64_t id)
{
    size_t i = home(s, id);
    while (s->slots[i] && s->slots[i] != id)
        i = (i + 1) & (s->cap - 1);
    return i;
}

static int resize(gt__idset *s, size_t cap)
{
    uint64_t *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -ENOMEM;
    gt__idset old = *s;
    s->slots = slots;
    s->cap = cap;
    for (size_t i = 0; i < old.cap; i++)
        if (old.slots[i])
            s->slots[probe(s, old.slots[i])] = old.slots[i];
    free(old.slots);
    return 0;
}

bool gt__idset_has(const gt__idset *s, uint64_t id)
{
    return s->cap && s->slots[probe(s, id)] == id;
}

int gt__idset_add(gt__idset *s, uint64_t id)
{
    size_t i = s->cap ? probe(s, id) : 0;
    if (s->cap && s->slots[i] == id)
        return 0;
    if (2 * (s->n + 1) > s->cap) {
        int rc = resize(s, s->cap ? 2 * s->cap : MIN_CAP);
        if (rc)
            return rc;
        i = probe(s, id);
    }
    s->slots[i] = id;
    s->n++;
    return 1;
}

bool gt__idset_del(gt__idset *s, uint64_t id)
{
    if (!s->cap)
        return false;
    size_t mask = s->cap - 1, i = probe(s, id);
    if (s->slots[i] != id)
        return false;
    /* Close the hole: move back each later member of the run whose home
     * does not lie cyclically in (i, j]. */
    for (size_t j = (i + 1) & mask; s->slots[j]; j = (j + 1) & mask) {
        size_t h = home(s, s->slots[j]);
        bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
        if (!stays) {
            s->slots[i] = s->slots[j];
            i = j;
        }
    }
    s->slots[i] = 0;
    s->n--;
    if (s->n == 0)
        gt__idset_free(s);
    else if (s->cap > MIN_CAP && 8 * s->n < s->cap)
        resize(s, s->cap / 2); /* no memory: it stays larger, still correct */
    return true;
}

void gt__idset_free(gt__idset *s)
{
    free(s->slots);
    *s = (gt__idset)GT__IDSET_INIT;
}
