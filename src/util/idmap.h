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
 *
 * Look-ups take no lock (every socket call and every gt_post makes one, on
 * every scheduler at once): slots live in segments that never move, so a
 * reader needs no lock against growth, and a reader pins the slot it reads
 * while it takes its reference, so that a delete waits for it (see
 * idmap.c).  Adds and deletes are serialised by the table's lock.
 */
#ifndef GT_IDMAP_H
#define GT_IDMAP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "util/lock.h"

#define GT__ID_SLOT_BITS 20
#define GT__ID_SLOTS (1u << GT__ID_SLOT_BITS)
#define GT__ID_GEN_MAX ((UINT64_C(1) << (64 - GT__ID_SLOT_BITS)) - 1)
#define GT__ID_SEG_BITS 10 /* slots per segment: 1024 */
#define GT__ID_SEG (1u << GT__ID_SEG_BITS)

/* A slot's generation and pin count share one word, gen << PIN_BITS |
 * pins: 16 bytes a slot, not 24 (every process and socket has one, issue
 * 11), and a look-up pins and reads the generation in one atomic add.
 * The generation has 44 bits as in an id; 20 bits of pins allow a
 * million look-ups at once (one per thread at most). */
#define GT__ID_PIN_BITS GT__ID_SLOT_BITS /* 64 minus the generation's 44 */
#define GT__ID_PIN_MASK ((UINT64_C(1) << GT__ID_PIN_BITS) - 1)

typedef struct gt__idslot {
    _Atomic(void *) ptr;     /* the object, or NULL                      */
    _Atomic uint64_t genpins;/* the generation of its next or live id,
                                and the look-ups reading this slot now   */
} gt__idslot;

static inline uint64_t gt__idslot_gen(gt__idslot *sl)
{
    return atomic_load(&sl->genpins) >> GT__ID_PIN_BITS;
}

typedef struct gt__idmap {
    gt__mutex lock;          /* adds, deletes, growth                     */
    _Atomic(gt__idslot *) seg[GT__ID_SLOTS / GT__ID_SEG]; /* never moved */
    uint32_t *free_ring;     /* FIFO of free slots (lock)                 */
    uint32_t free_head, free_count;
    uint32_t cap;            /* slots in segments so far (lock)           */
} gt__idmap;

#define GT__IDMAP_INIT {.lock = GT__MUTEX_INIT}

/* Stores ptr and returns its new id, or 0 when the table is full or out of
 * memory. */
uint64_t gt__idmap_add(gt__idmap *m, void *ptr);

/* Returns the object for id, calling ref(obj) before the id can be
 * deleted (a delete waits for it), so that the object cannot be freed
 * before the caller is done; NULL if id is stale.  Takes no lock. */
void *gt__idmap_get(gt__idmap *m, uint64_t id, void (*ref)(void *));

/* Frees id's slot (a stale id is ignored).  Returns once no look-up can
 * still take a reference through id. */
void gt__idmap_del(gt__idmap *m, uint64_t id);

/* The slot for slot number n, or NULL if not allocated. */
static inline gt__idslot *gt__idmap_slot(gt__idmap *m, uint32_t n)
{
    gt__idslot *seg = atomic_load_explicit(&m->seg[n >> GT__ID_SEG_BITS], memory_order_acquire);
    return seg ? &seg[n & (GT__ID_SEG - 1)] : NULL;
}

/* Frees a table's memory (tests; the library's tables live forever). */
void gt__idmap_destroy(gt__idmap *m);

#endif
