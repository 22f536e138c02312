/*
 * idmap.c -- see idmap.h.
 */
#include "util/idmap.h"

#include <stdlib.h>

static int grow(gt__idmap *m)
{
    uint32_t ncap = m->cap ? m->cap * 2 : 1024;
    if (ncap > GT__ID_SLOTS)
        ncap = GT__ID_SLOTS;
    if (ncap <= m->cap)
        return -1;
    void **p = realloc(m->ptr, ncap * sizeof *p);
    if (!p)
        return -1;
    m->ptr = p;
    uint64_t *g = realloc(m->gen, ncap * sizeof *g);
    if (!g)
        return -1;
    m->gen = g;
    uint32_t *r = malloc(ncap * sizeof *r);
    if (!r)
        return -1;
    /* unroll the old ring into the new one, then add the new slots */
    uint32_t n = 0;
    for (uint32_t i = 0; i < m->free_count; i++)
        r[n++] = m->free_ring[(m->free_head + i) % m->cap];
    for (uint32_t s = m->cap ? m->cap : 1; s < ncap; s++) {
        p[s] = NULL;
        g[s] = 1;
        r[n++] = s;
    }
    free(m->free_ring);
    m->free_ring = r;
    m->free_head = 0;
    m->free_count = n;
    m->cap = ncap;
    return 0;
}

uint64_t gt__idmap_add(gt__idmap *m, void *obj)
{
    pthread_mutex_lock(&m->lock);
    if (m->free_count == 0 && grow(m) != 0) {
        pthread_mutex_unlock(&m->lock);
        return 0;
    }
    uint32_t slot = m->free_ring[m->free_head];
    m->free_head = (m->free_head + 1) % m->cap;
    m->free_count--;
    m->ptr[slot] = obj;
    uint64_t id = (m->gen[slot] << GT__ID_SLOT_BITS) | slot;
    pthread_mutex_unlock(&m->lock);
    return id;
}

static uint32_t slot_of(uint64_t id) { return (uint32_t)(id & (GT__ID_SLOTS - 1)); }

void *gt__idmap_get(gt__idmap *m, uint64_t id, void (*ref)(void *))
{
    uint32_t slot = slot_of(id);
    uint64_t gen = id >> GT__ID_SLOT_BITS;
    void *obj = NULL;
    pthread_mutex_lock(&m->lock);
    if (slot && slot < m->cap && m->gen[slot] == gen && m->ptr[slot]) {
        obj = m->ptr[slot];
        if (ref)
            ref(obj);
    }
    pthread_mutex_unlock(&m->lock);
    return obj;
}

void gt__idmap_del(gt__idmap *m, uint64_t id)
{
    uint32_t slot = slot_of(id);
    uint64_t gen = id >> GT__ID_SLOT_BITS;
    pthread_mutex_lock(&m->lock);
    if (slot && slot < m->cap && m->gen[slot] == gen && m->ptr[slot]) {
        m->ptr[slot] = NULL;
        /* A wrapped generation would give back an id already handed out:
         * retire the slot instead (it stays empty, its id stays stale). */
        if (gen < GT__ID_GEN_MAX) {
            m->gen[slot] = gen + 1;
            m->free_ring[(m->free_head + m->free_count) % m->cap] = slot;
            m->free_count++;
        }
    }
    pthread_mutex_unlock(&m->lock);
}
