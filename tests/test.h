/*
 * test.h -- the C test framework: GT_TEST(name) registers a test; the runner
 * (tests/runner.c) runs each in a forked child with a timeout and prints one
 * line per test: "ok NAME", "FAIL NAME: why" or "skip NAME: why".  A skip
 * always says why and is counted.
 */
#ifndef GT_TEST_H
#define GT_TEST_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gentcp.h"

typedef void (*gt_test_fn)(void);
void gt_test_register(const char *name, gt_test_fn fn, const char *file);
void gt_test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));
void gt_test_skip(const char *why) __attribute__((noreturn));

#define GT_TEST(name)                                                          \
    static void name(void);                                                    \
    __attribute__((constructor)) static void gt_reg_##name(void)               \
    {                                                                          \
        gt_test_register(#name, name, __FILE__);                               \
    }                                                                          \
    static void name(void)

#define ASSERT(c)                                                              \
    do {                                                                       \
        if (!(c))                                                              \
            gt_test_fail(__FILE__, __LINE__, "assertion failed: %s", #c);      \
    } while (0)

#define ASSERT_EQ(a, b)                                                        \
    do {                                                                       \
        long long a_ = (long long)(a), b_ = (long long)(b);                    \
        if (a_ != b_)                                                          \
            gt_test_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, \
                         a_, b_);                                              \
    } while (0)

/* Compares two gentcp results and prints both as Erlang atoms. */
#define ASSERT_ERR(expr, want)                                                 \
    do {                                                                       \
        int got_ = (expr), want_ = (want);                                     \
        if (got_ != want_)                                                     \
            gt_test_fail(__FILE__, __LINE__, "%s: got %s (%d), want %s (%d)",  \
                         #expr, gt_err_name(got_), got_, gt_err_name(want_),   \
                         want_);                                               \
    } while (0)

#define ASSERT_OK(expr) ASSERT_ERR(expr, 0)

#define ASSERT_MEM(p, n, want, wn)                                             \
    do {                                                                       \
        size_t n_ = (n), wn_ = (wn);                                           \
        if (n_ != wn_ || memcmp((p), (want), n_) != 0)                         \
            gt_test_fail(__FILE__, __LINE__, "%s: %zu bytes \"%.*s\", want "   \
                         "%zu bytes \"%.*s\"", #p, n_, (int)(n_ > 60 ? 60 : n_),\
                         (const char *)(p), wn_, (int)(wn_ > 60 ? 60 : wn_),   \
                         (const char *)(want));                                \
    } while (0)

#define ASSERT_STR(msgp, s) ASSERT_MEM((msgp)->data, (msgp)->len, s, strlen(s))

#define SKIP(why) gt_test_skip(why)

#endif
