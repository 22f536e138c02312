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
