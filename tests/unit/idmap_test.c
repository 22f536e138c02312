/*
 * idmap_test.c -- the handle tables behind gt_pid and gt_socket
 * (src/util/idmap.c): ids are never 0, a freed id goes stale for good
 * (its slot comes back with a new generation), freed slots are reused
 * first-in first-out, and a lookup takes its reference under the lock.
 */
#include "util/idmap.h"
#include "../test.h"

#define SLOT(id) ((id) & (GT__ID_SLOTS - 1))

static int refs;
static void count_ref(void *p) { (void)p, refs++; }

GT_TEST(idmap_add_get_del)
{
    static gt__idmap m = GT__IDMAP_INIT; /* static: still reachable at exit */
    int a, b;
    uint32_t ia = gt__idmap_add(&m, &a), ib = gt__idmap_add(&m, &b);
    ASSERT(ia != 0 && ib != 0 && ia != ib);
    ASSERT(SLOT(ia) != 0 && SLOT(ib) != 0);
    refs = 0;
    ASSERT(gt__idmap_get(&m, ia, count_ref) == &a);
    ASSERT(gt__idmap_get(&m, ib, NULL) == &b);
    ASSERT_EQ(refs, 1);
    gt__idmap_del(&m, ia);
    ASSERT(gt__idmap_get(&m, ia, count_ref) == NULL);
    ASSERT_EQ(refs, 1); /* no reference taken for a stale id */
    ASSERT(gt__idmap_get(&m, ib, NULL) == &b);
    gt__idmap_del(&m, ia); /* a stale id is ignored */
    ASSERT(gt__idmap_get(&m, ib, NULL) == &b);
    ASSERT(gt__idmap_get(&m, 0, NULL) == NULL);
    ASSERT(gt__idmap_get(&m, 0xffffffffu, NULL) == NULL);
}

/* A slot that comes back carries a new generation: the old id stays stale. */
GT_TEST(idmap_reused_slot_new_generation)
{
    static gt__idmap m = GT__IDMAP_INIT; /* static: still reachable at exit */
    int a, b;
    uint32_t first = gt__idmap_add(&m, &a);
    gt__idmap_del(&m, first);
    uint32_t id = 0;
    /* add and delete until the slot comes back (FIFO: after every other
     * free slot was used once) */
    for (int i = 0; i < 100000; i++) {
        id = gt__idmap_add(&m, &b);
        ASSERT(id != 0);
        if (SLOT(id) == SLOT(first))
            break;
        gt__idmap_del(&m, id);
    }
    ASSERT_EQ(SLOT(id), SLOT(first));
    ASSERT(id != first);
    ASSERT(gt__idmap_get(&m, first, NULL) == NULL);
    ASSERT(gt__idmap_get(&m, id, NULL) == &b);
}

/* Freed slots are handed out again oldest first. */
GT_TEST(idmap_free_slots_fifo)
{
    static gt__idmap m = GT__IDMAP_INIT; /* static: still reachable at exit */
    int x;
    uint32_t ids[8];
    for (int i = 0; i < 8; i++)
        ids[i] = gt__idmap_add(&m, &x);
    for (int i = 0; i < 8; i++)
        gt__idmap_del(&m, ids[i]);
    /* the next adds never reuse the most recently freed slot first */
    uint32_t n = gt__idmap_add(&m, &x);
    ASSERT(SLOT(n) != SLOT(ids[7]));
    for (int i = 0; i < 8; i++)
        ASSERT(gt__idmap_get(&m, ids[i], NULL) == NULL);
}

/* Many live ids at once: the table grows and every id finds its object. */
GT_TEST(idmap_grows)
{
    static gt__idmap m = GT__IDMAP_INIT; /* static: still reachable at exit */
    enum { N = 5000 };
    static int objs[N];
    static uint32_t ids[N];
    for (int i = 0; i < N; i++) {
        ids[i] = gt__idmap_add(&m, &objs[i]);
        ASSERT(ids[i] != 0);
    }
    for (int i = 0; i < N; i++)
        ASSERT(gt__idmap_get(&m, ids[i], NULL) == &objs[i]);
    for (int i = 0; i < N; i += 2)
        gt__idmap_del(&m, ids[i]);
    for (int i = 0; i < N; i++)
        ASSERT(gt__idmap_get(&m, ids[i], NULL) == (i % 2 ? &objs[i] : NULL));
}
