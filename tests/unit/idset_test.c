/*
 * idset_test.c -- the set behind a process's links (src/util/idset.c):
 * add, del and has agree with a plain reference array over a long random
 * run of adds and deletes (which exercises the backward shift of deletion
 * across wrapped runs, growth and shrinking), and an emptied set owns no
 * memory.
 */
#include "util/idset.h"
#include "../test.h"

#include <stdint.h>

#define U 4096 /* ids drawn from U values: collisions and long runs */

static uint64_t rng = 88172645463325252u;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* pid-like: a slot in the low 20 bits, a generation above */
static uint64_t id_of(unsigned k) { return (uint64_t)(k % 1000 + 1) | (uint64_t)(k / 1000 + 1) << 20; }

GT_TEST(idset_matches_a_reference)
{
    static bool in[U];
    gt__idset s = GT__IDSET_INIT;
    size_t n = 0;
    for (int round = 0; round < 400000; round++) {
        unsigned k = (unsigned)(next() % U);
        /* phases: mostly adds, then mostly deletes, so the set grows large
         * and shrinks back down several times */
        bool add = (next() % 100) < ((round / 50000) % 2 ? 30u : 70u);
        if (add) {
            int rc = gt__idset_add(&s, id_of(k));
            ASSERT_EQ(rc, in[k] ? 0 : 1);
            n += !in[k];
            in[k] = true;
        } else {
            ASSERT_EQ(gt__idset_del(&s, id_of(k)), in[k]);
            n -= in[k];
            in[k] = false;
        }
        ASSERT_EQ(s.n, n);
        if (round % 997 == 0) {
            size_t seen = 0;
            for (unsigned j = 0; j < U; j++)
                ASSERT_EQ(gt__idset_has(&s, id_of(j)), in[j]);
            for (size_t i = 0; i < s.cap; i++)
                seen += s.slots[i] != 0;
            ASSERT_EQ(seen, n);
            ASSERT(s.cap == 0 || 2 * s.n <= s.cap);
        }
    }
    for (unsigned j = 0; j < U; j++)
        if (in[j])
            ASSERT(gt__idset_del(&s, id_of(j)));
    ASSERT_EQ(s.n, 0);
    ASSERT(s.slots == NULL && s.cap == 0);
    ASSERT(!gt__idset_del(&s, id_of(1)));
    ASSERT(!gt__idset_has(&s, id_of(1)));
}
