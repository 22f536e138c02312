/*
 * idset.h -- a set of non-zero 64-bit ids (pids), for a process's links:
 * add, remove and membership in O(1) expected time, whatever the number of
 * members (a supervisor links thousands of workers and unlinks any one).
 *
 * Open addressing with linear probing and backward-shift deletion (no
 * tombstones), at most half full; it grows and shrinks by halves, so the
 * costs are amortised O(1) and a set that emptied gives its memory back.
 * Not thread-safe: the owner locks (a process's plock).  An empty set owns
 * no memory.
 */
#ifndef GT_IDSET_H
#define GT_IDSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct gt__idset {
    uint64_t *slots; /* 0 = empty; NULL while cap is 0 */
    size_t cap;      /* 0 or a power of two            */
    size_t n;
} gt__idset;

#define GT__IDSET_INIT {NULL, 0, 0}

bool gt__idset_has(const gt__idset *s, uint64_t id);
/* 1 added, 0 already there, -ENOMEM (the set is unchanged).  id != 0. */
int gt__idset_add(gt__idset *s, uint64_t id);
/* true if id was there */
bool gt__idset_del(gt__idset *s, uint64_t id);
/* Frees the storage; the set is empty again. */
void gt__idset_free(gt__idset *s);

/* Iteration: for (size_t i = 0; i < s->cap; i++) if (s->slots[i]) ... */

#endif
