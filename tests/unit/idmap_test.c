/*
 * idmap_test.c -- the handle tables behind gt_pid and gt_socket
 * (src/util/idmap.c): ids are never 0, a freed id goes stale for good (its
 * slot comes back with a new generation), freed slots are reused first-in
 * first-out, a lookup takes its reference before a delete returns and
 * takes no lock, and a stale id never names a later object, including when
 * a slot's generation reaches its limit (forced here, rather than reusing
 * a slot 2^44 times).
 */
#include "util/idmap.h"
#include "../test.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define SLOT(id) ((uint32_t)((id) & (GT__ID_SLOTS - 1)))

/* The library's tables live as long as the program; the test's do not. */
static void idmap_free(gt__idmap *m) { gt__idmap_destroy(m); }

/* Adds and removes objects until slot comes round again; returns its id
 * (holding obj) or 0. */
static uint64_t cycle_to(gt__idmap *m, uint32_t slot, void *obj)
{
    for (uint32_t i = 0; i <= m->cap; i++) {
        uint64_t id = gt__idmap_add(m, obj);
        ASSERT(id != 0);
        if (SLOT(id) == slot)
            return id;
        gt__idmap_del(m, id);
    }
    return 0;
}

static int refs;
static void count_ref(void *p) { (void)p, refs++; }

GT_TEST(idmap_add_get_del)
{
    static gt__idmap m = GT__IDMAP_INIT; /* static: still reachable at exit */
    int a, b;
    uint64_t ia = gt__idmap_add(&m, &a), ib = gt__idmap_add(&m, &b);
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
    ASSERT(gt__idmap_get(&m, UINT64_MAX, NULL) == NULL);
}

/* A slot that comes back carries a new generation: the old id stays stale. */
GT_TEST(idmap_reused_slot_new_generation)
{
    static gt__idmap m = GT__IDMAP_INIT; /* static: still reachable at exit */
    int a, b;
    uint64_t first = gt__idmap_add(&m, &a);
    gt__idmap_del(&m, first);
    uint64_t id = 0;
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
    uint64_t ids[8];
    for (int i = 0; i < 8; i++)
        ids[i] = gt__idmap_add(&m, &x);
    for (int i = 0; i < 8; i++)
        gt__idmap_del(&m, ids[i]);
    /* the next adds never reuse the most recently freed slot first */
    uint64_t n = gt__idmap_add(&m, &x);
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
    static uint64_t ids[N];
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

GT_TEST(idmap_stale_id_is_stale)
{
    gt__idmap m = GT__IDMAP_INIT;
    int a, b;
    uint64_t ia = gt__idmap_add(&m, &a);
    ASSERT(ia != 0);
    ASSERT(gt__idmap_get(&m, ia, NULL) == &a);
    gt__idmap_del(&m, ia);
    ASSERT(gt__idmap_get(&m, ia, NULL) == NULL);
    uint64_t ib = cycle_to(&m, SLOT(ia), &b);
    ASSERT(ib != 0 && ib != ia);
    ASSERT(gt__idmap_get(&m, ia, NULL) == NULL);
    ASSERT(gt__idmap_get(&m, ib, NULL) == &b);
    gt__idmap_del(&m, ia); /* stale: ignored */
    ASSERT(gt__idmap_get(&m, ib, NULL) == &b);
    ASSERT(gt__idmap_get(&m, 0, NULL) == NULL);
    idmap_free(&m);
}

/* Issue 7 item 14: with 12 generation bits the 4096th use of a slot gave
 * back its first id, so a handle closed long ago named a live object.  A
 * slot at the last generation is now retired, never reused. */
GT_TEST(i7_14_idmap_generation_limit_retires_slot)
{
    gt__idmap m = GT__IDMAP_INIT;
    int a, b, c;
    uint64_t first = gt__idmap_add(&m, &a);
    ASSERT(first != 0);
    uint32_t slot = SLOT(first);
    gt__idmap_del(&m, first);
    /* as if used 2^44 - 2 times since */
    atomic_store(&gt__idmap_slot(&m, slot)->genpins, GT__ID_GEN_MAX << GT__ID_PIN_BITS);
    uint64_t last = cycle_to(&m, slot, &b);
    ASSERT(last != 0);
    ASSERT(last >> GT__ID_SLOT_BITS == GT__ID_GEN_MAX);
    ASSERT(gt__idmap_get(&m, last, NULL) == &b);
    gt__idmap_del(&m, last);
    ASSERT(gt__idmap_get(&m, last, NULL) == NULL);
    /* Twice round the table: the slot never comes back, no id repeats. */
    uint32_t rounds = 2 * m.cap;
    for (uint32_t i = 0; i < rounds; i++) {
        uint64_t id = gt__idmap_add(&m, &c);
        ASSERT(id != 0);
        if (SLOT(id) == slot)
            gt_test_fail(__FILE__, __LINE__, "retired slot %u reused: id %llu (first was %llu)",
                         slot, (unsigned long long)id, (unsigned long long)first);
        ASSERT(gt__idmap_get(&m, first, NULL) == NULL);
        ASSERT(gt__idmap_get(&m, last, NULL) == NULL);
        gt__idmap_del(&m, id);
    }
    idmap_free(&m);
}

/* The public handles carry the whole id. */
GT_TEST(i7_14_handles_are_64_bit)
{
    ASSERT_EQ(sizeof(gt_socket){0}.id, sizeof(uint64_t));
    ASSERT_EQ(sizeof(gt_pid){0}.id, sizeof(uint64_t));
    ASSERT(GT__ID_GEN_MAX >= (UINT64_C(1) << 32) - 1);
}

/* ---- issue 8 item 6: look-ups take no lock ---- */

typedef struct lookup_arg {
    gt__idmap *m;
    uint64_t id;
    void *found;
    atomic_int done;
} lookup_arg;

static void *lookup_thread(void *arg)
{
    lookup_arg *a = arg;
    a->found = gt__idmap_get(a->m, a->id, NULL);
    atomic_store(&a->done, 1);
    return NULL;
}

/* A look-up completes while the table's lock is held (by an add or a
 * delete elsewhere): look-ups do not queue behind each other or writers. */
GT_TEST(i8_06_idmap_lookup_takes_no_lock)
{
    static gt__idmap m = GT__IDMAP_INIT; /* static: still reachable at exit */
    int a;
    uint64_t id = gt__idmap_add(&m, &a);
    ASSERT(id != 0);
    lookup_arg la = {.m = &m, .id = id};
    gt__mutex_lock(&m.lock);
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, lookup_thread, &la), 0);
    for (int i = 0; i < 5000 && !atomic_load(&la.done); i++)
        usleep(1000);
    int done = atomic_load(&la.done);
    gt__mutex_unlock(&m.lock);
    pthread_join(t, NULL);
    ASSERT(done);
    ASSERT(la.found == &a);
}

/* Readers look up while a writer deletes and re-adds: once a delete has
 * returned, no look-up takes a reference through the deleted id (the
 * caller frees the object then). */
enum { RACE_OBJS = 8 };
typedef struct race_obj {
    atomic_int dead;
} race_obj;
static race_obj race_objs[RACE_OBJS];
static _Atomic uint64_t race_ids[RACE_OBJS];
static atomic_int race_stop, race_violations;
static atomic_long race_hits;
static gt__idmap race_map = GT__IDMAP_INIT;

static void race_ref(void *o)
{
    /* A slow reference widens the window a delete that did not wait for
     * it would fall into. */
    for (int k = 0; k < 100; k++)
        atomic_load(&race_stop);
    if (atomic_load(&((race_obj *)o)->dead))
        atomic_fetch_add(&race_violations, 1);
    atomic_fetch_add(&race_hits, 1);
}

static void *race_reader(void *arg)
{
    (void)arg;
    for (unsigned i = 0; !atomic_load(&race_stop); i++)
        gt__idmap_get(&race_map, atomic_load(&race_ids[i % RACE_OBJS]), race_ref);
    return NULL;
}

GT_TEST(i8_06_idmap_delete_waits_for_lookups)
{
    for (int i = 0; i < RACE_OBJS; i++) {
        atomic_store(&race_ids[i], gt__idmap_add(&race_map, &race_objs[i]));
        ASSERT(atomic_load(&race_ids[i]) != 0);
    }
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        ASSERT_EQ(pthread_create(&t[i], NULL, race_reader, NULL), 0);
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* Two seconds of churn, longer (to 30 s) until the readers have taken
     * a reference at all: under valgrind the threads run one at a time and
     * a reader may not be scheduled in the first seconds. */
    for (int n = 0; n < 2000000; n++) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        long elapsed = (long)(now.tv_sec - t0.tv_sec);
        if ((elapsed >= 2 && atomic_load(&race_hits) > 0) || elapsed >= 30)
            break;
        if (n % 1024 == 1023)
            sched_yield();
        int i = n % RACE_OBJS;
        gt__idmap_del(&race_map, atomic_load(&race_ids[i]));
        atomic_store(&race_objs[i].dead, 1); /* as if freed: a late reference shows */
        for (int k = 0; k < 300; k++)
            atomic_load(&race_hits);
        atomic_store(&race_objs[i].dead, 0); /* reborn under a new id */
        atomic_store(&race_ids[i], gt__idmap_add(&race_map, &race_objs[i]));
    }
    atomic_store(&race_stop, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    ASSERT_EQ(atomic_load(&race_violations), 0);
    ASSERT(atomic_load(&race_hits) > 0);
}
