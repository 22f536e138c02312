/*
 * buf_test.c -- the socket byte buffer (src/util/buf.c): appends from
 * iovecs with a skip, consumption from the front, compaction instead of
 * growth when the front is free, and no memory held while empty.
 */
#include "util/buf.h"
#include "../test.h"

static void pending_is(const gt__buf *b, const char *want)
{
    ASSERT_MEM(gt__buf_head(b), gt__buf_avail(b), want, strlen(want));
}

GT_TEST(buf_append_consume)
{
    gt__buf b = {0};
    ASSERT_EQ(gt__buf_avail(&b), 0);
    ASSERT(gt__buf_head(&b) == NULL);
    struct iovec iov[3] = {{(void *)"hello", 5}, {(void *)" ", 1}, {(void *)"world", 5}};
    ASSERT_OK(gt__buf_append_iov(&b, iov, 3, 0));
    pending_is(&b, "hello world");
    gt__buf_consume(&b, 6);
    pending_is(&b, "world");
    ASSERT_OK(gt__buf_append_iov(&b, iov, 1, 0));
    pending_is(&b, "worldhello");
    gt__buf_consume(&b, 10);
    ASSERT_EQ(gt__buf_avail(&b), 0);
    ASSERT(gt__buf_block(&b) == NULL); /* nothing pending: nothing owned */
    gt__buf_free(&b);
}

/* skip crosses iovec boundaries, as a partly written send does. */
GT_TEST(buf_append_with_skip)
{
    gt__buf b = {0};
    struct iovec iov[3] = {{(void *)"abc", 3}, {(void *)"de", 2}, {(void *)"fgh", 3}};
    ASSERT_OK(gt__buf_append_iov(&b, iov, 3, 4));
    pending_is(&b, "efgh");
    ASSERT_OK(gt__buf_append_iov(&b, iov, 3, 8)); /* all skipped */
    pending_is(&b, "efgh");
    ASSERT_OK(gt__buf_append_iov(&b, iov, 3, 3));
    pending_is(&b, "efghdefgh");
    gt__buf_free(&b);
    ASSERT(gt__buf_block(&b) == NULL);
    ASSERT_EQ(gt__buf_avail(&b), 0);
}

/* With the front consumed, reserve compacts rather than grows. */
GT_TEST(buf_reserve_compacts)
{
    gt__buf b = {0};
    char chunk[1000];
    memset(chunk, 'x', sizeof chunk);
    struct iovec iov = {chunk, sizeof chunk};
    ASSERT_OK(gt__buf_append_iov(&b, &iov, 1, 0));
    size_t cap = gt__buf_cap(&b);
    ASSERT(cap >= sizeof chunk);
    gt__buf_consume(&b, sizeof chunk - 10);
    ASSERT_OK(gt__buf_reserve(&b, cap - 10));
    ASSERT_EQ(gt__buf_cap(&b), cap);
    ASSERT_EQ(gt__buf_avail(&b), 10);
    ASSERT(gt__buf_room(&b) >= cap - 10);
    ASSERT(gt__buf_head(&b)[0] == 'x' && gt__buf_head(&b)[9] == 'x');
    gt__buf_free(&b);
}

/* Large appends grow the buffer and keep every byte in order. */
GT_TEST(buf_grows_in_order)
{
    gt__buf b = {0};
    uint8_t chunk[257];
    for (int round = 0; round < 200; round++) {
        for (size_t i = 0; i < sizeof chunk; i++)
            chunk[i] = (uint8_t)(round + i);
        struct iovec iov = {chunk, sizeof chunk};
        ASSERT_OK(gt__buf_append_iov(&b, &iov, 1, 0));
    }
    ASSERT_EQ(gt__buf_avail(&b), 200 * sizeof chunk);
    for (int round = 0; round < 200; round++)
        for (size_t i = 0; i < sizeof chunk; i++)
            ASSERT_EQ(gt__buf_head(&b)[(size_t)round * sizeof chunk + i],
                      (uint8_t)(round + i));
    gt__buf_free(&b);
}

/* issue 11: a queue that stays large while it is appended to at the back
 * and drained at the front (a bulk echo's output) moves each byte O(1)
 * times.  Compacting on every append that did not fit moved the whole
 * pending queue per append: 7.5 bytes moved per byte appended here, and
 * more the fuller the buffer. */
GT_TEST(i11_buf_queue_moves_each_byte_boundedly)
{
    gt__buf b = {0};
    static uint8_t chunk[64 * 1024];
    struct iovec iov = {chunk, sizeof chunk};
    for (int i = 0; i < 15; i++) /* 960 KiB pending: the buffer is 1 MiB */
        ASSERT_OK(gt__buf_append_iov(&b, &iov, 1, 0));
    uint64_t moved0 = gt__buf_moved_total(), appended = 0; /* this thread's buffer only */
    for (int round = 0; round < 200; round++) {
        memset(chunk, round, sizeof chunk);
        gt__buf_consume(&b, sizeof chunk);
        ASSERT_OK(gt__buf_append_iov(&b, &iov, 1, 0));
        appended += sizeof chunk;
        /* FIFO order kept: the newest chunk is at the back */
        ASSERT_EQ(gt__buf_head(&b)[gt__buf_avail(&b) - 1], (uint8_t)round);
    }
    ASSERT_EQ(gt__buf_avail(&b), 15 * sizeof chunk);
    uint64_t moved = gt__buf_moved_total() - moved0;
    if (moved > 2 * appended)
        gt_test_fail(__FILE__, __LINE__, "%llu bytes moved for %llu appended",
                     (unsigned long long)moved, (unsigned long long)appended);
    gt__buf_free(&b);
}

/* issue 11: a buffer that fills and drains once per message reuses its
 * memory (the thread's pool) instead of a malloc/free pair per message. */
GT_TEST(i11_buf_reuses_memory_after_drain)
{
    gt__buf b = {0};
    struct iovec iov = {(void *)"ping", 4};
    ASSERT_OK(gt__buf_append_iov(&b, &iov, 1, 0));
    uint64_t allocs = gt__buf_allocs_total();
    for (int i = 0; i < 100; i++) {
        gt__buf_consume(&b, 4);
        ASSERT(gt__buf_block(&b) == NULL); /* an idle buffer still owns nothing */
        ASSERT_OK(gt__buf_append_iov(&b, &iov, 1, 0));
    }
    ASSERT_EQ(gt__buf_allocs_total(), allocs);
    gt__buf_free(&b);
}

/* issue 11: a small send's block (512 B, the end-of-pass batch's copies)
 * that must grow goes straight to the ordinary 16 KiB buffer, in one
 * allocation, not by doubling from 512 B (five reallocs). */
GT_TEST(i12_buf_small_block_grows_to_full_buffer_at_once)
{
    gt__buf b = {0};
    char small[100], more[600];
    memset(small, 's', sizeof small);
    memset(more, 'm', sizeof more);
    struct iovec a = {small, sizeof small}, c = {more, sizeof more};
    ASSERT_OK(gt__buf_append_iov(&b, &a, 1, 0));
    size_t first = gt__buf_cap(&b);
    ASSERT(first >= sizeof small && first < 16 * 1024); /* a small block */
    uint64_t allocs = gt__buf_allocs_total();
    ASSERT_OK(gt__buf_append_iov(&b, &c, 1, 0));
    ASSERT(gt__buf_cap(&b) >= 16 * 1024);
    ASSERT_EQ(gt__buf_allocs_total(), allocs + 1);
    ASSERT_EQ(gt__buf_avail(&b), sizeof small + sizeof more);
    ASSERT(gt__buf_head(&b)[0] == 's' && gt__buf_head(&b)[99] == 's' &&
           gt__buf_head(&b)[100] == 'm' && gt__buf_head(&b)[699] == 'm');
    gt__buf_free(&b);
}
