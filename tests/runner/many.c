/*
 * many.c -- 600 trivial tests, more than the 512 slots the runner once had
 * (it dropped the rest silently).  Built and run by runner.sh.
 */
#include "../test.h"

#define T1(a, b, c) GT_TEST(t_##a##b##c) { ASSERT(1); }
#define T10(a, b) T1(a, b, 0) T1(a, b, 1) T1(a, b, 2) T1(a, b, 3) T1(a, b, 4)         \
    T1(a, b, 5) T1(a, b, 6) T1(a, b, 7) T1(a, b, 8) T1(a, b, 9)
#define T100(a) T10(a, 0) T10(a, 1) T10(a, 2) T10(a, 3) T10(a, 4) T10(a, 5) T10(a, 6) \
    T10(a, 7) T10(a, 8) T10(a, 9)
T100(0) T100(1) T100(2) T100(3) T100(4) T100(5)
