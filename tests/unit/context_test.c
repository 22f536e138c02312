/*
 * context_test.c -- the stack switch (src/runtime/context.c and
 * context_<arch>.S) on its own, through the sanitizer-aware fiber calls the
 * scheduler uses: a fiber runs on its own stack, switches back and forth
 * keeping its locals and the callee-saved state of both sides, and its
 * frames are aligned as the ABI requires.
 */
#include <stdalign.h>
#include <sys/mman.h>

#include "runtime/context.h"
#include "../test.h"

enum { STACK = 256 * 1024 };

static gt__fiber main_f, co_f;
static volatile int steps;
static volatile uintptr_t co_local_addr;

static void __attribute__((noinline)) check_alignment(void)
{
    alignas(16) volatile char probe[16];
    probe[0] = 1;
    if (((uintptr_t)probe & 15) != 0)
        steps = -1000;
}

static void co_entry(void *arg)
{
    gt__fiber_started();
    int *shared = arg;
    int local = 40;
    co_local_addr = (uintptr_t)&local;
    check_alignment();
    for (int i = 0; i < 5; i++) {
        local++;
        *shared += local;
        steps++;
        gt__fiber_switch(&co_f, &main_f, 0);
    }
    steps += 100;
    gt__fiber_switch(&co_f, &main_f, 1); /* never comes back */
    abort();
}

GT_TEST(context_switch_ping_pong)
{
    void *mem = mmap(NULL, STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT(mem != MAP_FAILED);
    gt__fiber_init_thread(&main_f);
    memset(&co_f, 0, sizeof co_f);
    co_f.stack_base = mem;
    co_f.stack_size = STACK;
    gt__fiber_create(&co_f);
    int shared = 0;
    co_f.sp = gt__ctx_make(mem, STACK, co_entry, &shared);
    int expect = 0;
    double kept = 1.5; /* callee-saved state of this side survives */
    for (int i = 0; i < 5; i++) {
        gt__fiber_switch(&main_f, &co_f, 0);
        ASSERT_EQ(steps, i + 1);
        expect += 41 + i;
        ASSERT_EQ(shared, expect);
        kept *= 2;
    }
    ASSERT(kept == 48.0);
    ASSERT(co_local_addr >= (uintptr_t)mem && co_local_addr < (uintptr_t)mem + STACK);
    gt__fiber_switch(&main_f, &co_f, 0);
    ASSERT_EQ(steps, 105);
    gt__fiber_destroy(&co_f);
    munmap(mem, STACK);
}

/* Each side keeps its own floating-point control state (the SSE and x87
 * control words: rounding mode, exception masks) across switches, also now
 * that the x86-64 switch loads them only when they differ. */
#if defined(__x86_64__)
#include <xmmintrin.h>

static gt__fiber fe_main, fe_co;
static volatile unsigned fe_seen[4];
static volatile unsigned short fe_cw_seen[2];

static unsigned short x87_cw(void)
{
    unsigned short cw;
    __asm__ volatile("fnstcw %0" : "=m"(cw));
    return cw;
}

static void set_x87_cw(unsigned short cw) { __asm__ volatile("fldcw %0" : : "m"(cw)); }

#define MX_UP 0x5f80   /* default masks, round up */
#define MX_ZERO 0x7f80 /* round toward zero */
#define MX_DOWN 0x3f80 /* round down */
#define CW_UP 0x0b7f   /* x87: round up */

static void fe_entry(void *arg)
{
    (void)arg;
    gt__fiber_started();
    fe_seen[0] = _mm_getcsr(); /* a new fiber: the default */
    fe_cw_seen[0] = x87_cw();
    _mm_setcsr(MX_UP);
    set_x87_cw(CW_UP);
    gt__fiber_switch(&fe_co, &fe_main, 0);
    fe_seen[1] = _mm_getcsr(); /* still its own after the other side's */
    fe_cw_seen[1] = x87_cw();
    gt__fiber_switch(&fe_co, &fe_main, 1);
    abort();
}

GT_TEST(context_switch_keeps_each_sides_fp_control)
{
    void *mem = mmap(NULL, STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT(mem != MAP_FAILED);
    unsigned mx0 = _mm_getcsr();
    unsigned short cw0 = x87_cw();
    gt__fiber_init_thread(&fe_main);
    memset(&fe_co, 0, sizeof fe_co);
    fe_co.stack_base = mem;
    fe_co.stack_size = STACK;
    gt__fiber_create(&fe_co);
    fe_co.sp = gt__ctx_make(mem, STACK, fe_entry, NULL);
    _mm_setcsr(MX_ZERO);
    gt__fiber_switch(&fe_main, &fe_co, 0);
    fe_seen[2] = _mm_getcsr(); /* this side's, not the fiber's */
    unsigned short cw_here = x87_cw();
    _mm_setcsr(MX_DOWN);
    gt__fiber_switch(&fe_main, &fe_co, 0);
    fe_seen[3] = _mm_getcsr();
    _mm_setcsr(mx0);
    set_x87_cw(cw0);
    ASSERT_EQ(fe_seen[0] & 0xffc0u, 0x1f80u); /* flags (low 6 bits) may vary */
    ASSERT_EQ(fe_cw_seen[0], 0x037f);
    ASSERT_EQ(fe_seen[1] & 0xffc0u, (unsigned)MX_UP);
    ASSERT_EQ(fe_cw_seen[1], CW_UP);
    ASSERT_EQ(fe_seen[2] & 0xffc0u, (unsigned)MX_ZERO);
    ASSERT_EQ(cw_here, cw0);
    ASSERT_EQ(fe_seen[3] & 0xffc0u, (unsigned)MX_DOWN);
    gt__fiber_destroy(&fe_co);
    munmap(mem, STACK);
}
#endif
