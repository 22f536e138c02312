/*
 * objcache_test.c -- the per-thread caches of sockets' and processes'
 * structs (src/util/objcache.c; issue 11, acc6): a block freed comes back
 * to the next allocation of its kind on the thread, zeroed as a fresh
 * one; a cache holds at most GT__OBJ_CACHE blocks of a kind; a trim frees
 * them all.  Sanitizer builds keep no cache (a use after free stays
 * visible): the tests that need one skip there.
 */
#include <stdint.h>

#include "util/objcache.h"
#include "../test.h"

#define SIZE 256

static void need_cache(void)
{
    void *p = gt__obj_new(GT__OBJ_SOCK, SIZE);
    ASSERT(p != NULL);
    int before = gt__obj_cache_count();
    gt__obj_free(GT__OBJ_SOCK, p);
    if (gt__obj_cache_count() == before)
        SKIP("no object cache in this build (sanitizers check use after free without it)");
    gt__obj_cache_trim();
}

GT_TEST(i11_acc6_reused_block_is_zeroed)
{
    need_cache();
    uint8_t *p = gt__obj_new(GT__OBJ_SOCK, SIZE);
    ASSERT(p != NULL);
    memset(p, 0xab, SIZE);
    gt__obj_free(GT__OBJ_SOCK, p);
    ASSERT_EQ(gt__obj_cache_count(), 1);
    /* another kind does not take it */
    void *other = gt__obj_new(GT__OBJ_PROC, 152);
    ASSERT(other != NULL && other != (void *)p);
    ASSERT_EQ(gt__obj_cache_count(), 1);
    uint8_t *q = gt__obj_new(GT__OBJ_SOCK, SIZE);
    ASSERT(q == p); /* the block last freed, likely still in this core's cache */
    ASSERT_EQ(gt__obj_cache_count(), 0);
    for (int i = 0; i < SIZE; i++)
        ASSERT_EQ(q[i], 0);
    gt__obj_free(GT__OBJ_SOCK, q);
    gt__obj_free(GT__OBJ_PROC, other);
    ASSERT_EQ(gt__obj_cache_count(), 2);
    gt__obj_cache_trim();
    ASSERT_EQ(gt__obj_cache_count(), 0);
}

GT_TEST(i11_acc6_cache_is_bounded_per_kind)
{
    need_cache();
    enum { N = GT__OBJ_CACHE + 8 };
    void *s[N], *p[N];
    for (int i = 0; i < N; i++) {
        s[i] = gt__obj_new(GT__OBJ_SOCK, SIZE);
        p[i] = gt__obj_new(GT__OBJ_PROC, 152);
        ASSERT(s[i] != NULL && p[i] != NULL);
    }
    for (int i = 0; i < N; i++)
        gt__obj_free(GT__OBJ_SOCK, s[i]);
    ASSERT_EQ(gt__obj_cache_count(), GT__OBJ_CACHE); /* the rest went to free() */
    for (int i = 0; i < N; i++)
        gt__obj_free(GT__OBJ_PROC, p[i]);
    ASSERT_EQ(gt__obj_cache_count(), 2 * GT__OBJ_CACHE);
    gt__obj_free(GT__OBJ_SOCK, NULL); /* nothing */
    ASSERT_EQ(gt__obj_cache_count(), 2 * GT__OBJ_CACHE);
    gt__obj_cache_trim();
    ASSERT_EQ(gt__obj_cache_count(), 0);
}
