/*
 * idmap.c -- see idmap.h.
 *
 * A look-up against a delete, without a lock: the reader pins the slot
 * and reads its generation (one add on the shared word), then reads its
 * object; the deleter clears the
 * object, moves the generation on, then waits until the slot has no pins.
 * Both sides store, then load what the other stores (sequentially
 * consistent), so at least one sees the other: either the reader finds
 * the slot emptied and takes nothing, or the deleter waits until the
 * reader has its reference.  The slot goes back to the free ring only
 * after that wait, so a pinned reader never sees the slot's next object.
 * The object pointer is published after its generation (add), and cleared
 * before the generation moves on (delete); reading the generation first
 * then the object, a reader that sees the new generation sees the cleared
 * pointer, never an old object under a new id.
 */
#include "util/idmap.h"

#include <sched.h>
#include <stdlib.h>

#include "util/lock.h"

/* One more segment of slots.  Lock held. */
static int grow(gt__idmap *m)
{
    uint32_t ncap = m->cap + GT__ID_SEG;
    if (ncap > GT__ID_SLOTS)
        return -1;
    gt__idslot *seg = calloc(GT__ID_SEG, sizeof *seg);
    uint32_t *r = malloc(ncap * sizeof *r);
    if (!seg || !r) {
        free(seg);
        free(r);
        return -1;
    }
    for (uint32_t i = 0; i < GT__ID_SEG; i++)
        atomic_init(&seg[i].genpins, UINT64_C(1) << GT__ID_PIN_BITS);
    /* unroll the old ring into the new one, then add the new slots */
    uint32_t n = 0;
    for (uint32_t i = 0; i < m->free_count; i++)
        r[n++] = m->free_ring[(m->free_head + i) % m->cap];
    for (uint32_t s = m->cap ? m->cap : 1; s < ncap; s++)
        r[n++] = s;
    atomic_store_explicit(&m->seg[m->cap >> GT__ID_SEG_BITS], seg, memory_order_release);
    free(m->free_ring);
    m->free_ring = r;
    m->free_head = 0;
    m->free_count = n;
    m->cap = ncap;
    return 0;
}

uint64_t gt__idmap_add(gt__idmap *m, void *obj)
{
    gt__lock(&m->lock, GT__LK_IDMAP);
    if (m->free_count == 0 && grow(m) != 0) {
        gt__unlock(&m->lock);
        return 0;
    }
    uint32_t slot = m->free_ring[m->free_head];
    m->free_head = (m->free_head + 1) % m->cap;
    m->free_count--;
    gt__idslot *sl = gt__idmap_slot(m, slot);
    uint64_t id = (gt__idslot_gen(sl) << GT__ID_SLOT_BITS) | slot;
    atomic_store(&sl->ptr, obj); /* after gen, which the delete moved on */
    gt__unlock(&m->lock);
    return id;
}

static uint32_t slot_of(uint64_t id) { return (uint32_t)(id & (GT__ID_SLOTS - 1)); }

void *gt__idmap_get(gt__idmap *m, uint64_t id, void (*ref)(void *))
{
    uint32_t slot = slot_of(id);
    gt__idslot *sl = slot ? gt__idmap_slot(m, slot) : NULL;
    if (!sl)
        return NULL;
    void *obj = NULL;
    uint64_t gen = atomic_fetch_add(&sl->genpins, 1) >> GT__ID_PIN_BITS; /* pinned */
    if (gen == id >> GT__ID_SLOT_BITS && (obj = atomic_load(&sl->ptr)) && ref)
        ref(obj);
    atomic_fetch_sub(&sl->genpins, 1);
    return obj;
}

void gt__idmap_del(gt__idmap *m, uint64_t id)
{
    uint32_t slot = slot_of(id);
    uint64_t gen = id >> GT__ID_SLOT_BITS;
    gt__lock(&m->lock, GT__LK_IDMAP);
    gt__idslot *sl = slot ? gt__idmap_slot(m, slot) : NULL;
    if (sl && gt__idslot_gen(sl) == gen && atomic_load(&sl->ptr)) {
        atomic_store(&sl->ptr, NULL);
        /* A wrapped generation would give back an id already handed out:
         * retire the slot instead (it stays empty, its id stays stale).
         * The add keeps the pins (only this locked side moves gen). */
        if (gen < GT__ID_GEN_MAX)
            atomic_fetch_add(&sl->genpins, UINT64_C(1) << GT__ID_PIN_BITS);
        /* A pinned reader is a few instructions from done; it may have
         * been preempted, hence the yield. */
        while (atomic_load(&sl->genpins) & GT__ID_PIN_MASK)
            sched_yield();
        if (gen < GT__ID_GEN_MAX) {
            m->free_ring[(m->free_head + m->free_count) % m->cap] = slot;
            m->free_count++;
        }
    }
    gt__unlock(&m->lock);
}

void gt__idmap_destroy(gt__idmap *m)
{
    for (uint32_t i = 0; i < GT__ID_SLOTS / GT__ID_SEG; i++)
        free(atomic_load(&m->seg[i]));
    free(m->free_ring);
}
