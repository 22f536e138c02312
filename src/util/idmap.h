/*
 * idmap.h -- generation-counted handle tables behind gt_pid and gt_socket.
 * An id is (generation << 20 | slot); slot 0 is never used, so id 0 means
 * "none".  Freed slots are reused first-in first-out, so a stale handle
 * meets a different generation for as long as possible.
 *
 * A stale id never names a later object: each reuse of a slot takes the
 * next generation, and a slot whose generation would wrap is retired for
 * good instead of being reused.  With 44 generation bits a slot is retired
 * after 2^44 uses: even reused a million times a second it lasts 200 days,
 * and FIFO reuse over the free slots spreads the uses much thinner.
 */
#ifndef GT_IDMAP_H
#define GT_IDMAP_H

#include <pthread.h>
#include <stdint.h>

#define GT__ID_SLOT_BITS 20
#define GT__ID_SLOTS (1u << GT__ID_SLOT_BITS)
#define GT__ID_GEN_MAX ((UINT64_C(1) << (64 - GT__ID_SLOT_BITS)) - 1)

typedef struct gt__idmap {
    pthread_mutex_t lock;
    void **ptr;          /* by slot */
    uint64_t *gen;       /* by slot: the generation of its next or live id */
    uint32_t *free_ring; /* FIFO of free slots */
    uint32_t free_head, free_count;
    uint32_t cap;        /* slots allocated so far (grows) */
} gt__idmap;

#define GT__IDMAP_INIT {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0, 0, 0}

/* Stores ptr and returns its new id, or 0 when the table is full or out of
 * memory. */
uint64_t gt__idmap_add(gt__idmap *m, void *ptr);

/* Returns the object for id, calling ref(obj) under the table lock so that
 * it cannot be freed before the caller is done; NULL if id is stale. */
void *gt__idmap_get(gt__idmap *m, uint64_t id, void (*ref)(void *));

/* Frees id's slot (a stale id is ignored). */
void gt__idmap_del(gt__idmap *m, uint64_t id);

#endif
