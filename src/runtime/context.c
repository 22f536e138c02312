/*
 * context.c -- fresh stacks for gt__ctx_switch and the sanitizer hooks.
 */
#include "runtime/context.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>


#ifdef GT_ASAN
void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom, size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save, const void **bottom_old,
                                     size_t *size_old);
void __asan_unpoison_memory_region(const volatile void *addr, size_t size);
#endif
#ifdef GT_TSAN
void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void *fiber);
void __tsan_switch_to_fiber(void *fiber, unsigned flags);
#endif
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define GT_VALGRIND 1
#endif

void gt__ctx_trampoline(void);

void *gt__ctx_make(void *base, size_t size, void (*entry)(void *), void *arg)
{
    uintptr_t top = ((uintptr_t)base + size) & ~(uintptr_t)15;
#if defined(__x86_64__)
    /* Frame popped by gt__ctx_switch: fp control words, r15, r14, r13, r12,
     * rbx, rbp, then the return address (the trampoline).  The return
     * address sits at 8 mod 16 so that the trampoline's call leaves the
     * callee with the ABI's alignment. */
    uint64_t *sp = (uint64_t *)(top - 24);
    sp[1] = 0;                                       /* top-16: pad      */
    sp[0] = (uint64_t)(uintptr_t)gt__ctx_trampoline; /* top-24: 8 mod 16 */
    *--sp = 0;                                       /* rbp */
    *--sp = 0;                                       /* rbx */
    *--sp = (uint64_t)(uintptr_t)arg;                /* r12 */
    *--sp = (uint64_t)(uintptr_t)entry;              /* r13 */
    *--sp = 0;                                       /* r14 */
    *--sp = 0;                                       /* r15 */
    *--sp = 0x037F00001F80ull;                       /* mxcsr, x87 cw */
    return sp;
#elif defined(__aarch64__)
    uint64_t *sp = (uint64_t *)(top - 160);
    memset(sp, 0, 160);
    sp[0] = (uint64_t)(uintptr_t)arg;                /* x19 */
    sp[1] = (uint64_t)(uintptr_t)entry;              /* x20 */
    sp[11] = (uint64_t)(uintptr_t)gt__ctx_trampoline;/* x30 = lr */
    return sp;
#else
#error "gentcp: no stack switch for this architecture"
#endif
}

void gt__fiber_init_thread(gt__fiber *f)
{
    memset(f, 0, sizeof *f);
    /* ASan needs the bounds of the thread's own stack to switch back. */
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        pthread_attr_getstack(&attr, &f->stack_base, &f->stack_size);
        pthread_attr_destroy(&attr);
    }
#ifdef GT_TSAN
    f->tsan = __tsan_get_current_fiber();
#endif
}

void gt__fiber_create(gt__fiber *f)
{
#ifdef GT_ASAN
    /* A pooled stack keeps the shadow of the process that last ran on it:
     * one that exited from deep inside a call (a killed process, gt_exit)
     * left its frames' redzones poisoned, and the next process's locals
     * would land on them. */
    __asan_unpoison_memory_region(f->stack_base, f->stack_size);
#endif
#ifdef GT_TSAN
    f->tsan = __tsan_create_fiber(0);
#endif
#ifdef GT_VALGRIND
    /* The id goes in the stack's lowest word, written only under valgrind
     * (elsewhere that page is never touched): a stack that reaches it is
     * one word from its guard page. */
    if (RUNNING_ON_VALGRIND)
        *(unsigned *)f->stack_base =
            VALGRIND_STACK_REGISTER(f->stack_base, (char *)f->stack_base + f->stack_size);
#endif
}

void gt__fiber_destroy(gt__fiber *f)
{
#ifdef GT_TSAN
    if (f->tsan)
        __tsan_destroy_fiber(f->tsan);
    f->tsan = NULL;
#endif
#ifdef GT_VALGRIND
    if (RUNNING_ON_VALGRIND && f->stack_base)
        VALGRIND_STACK_DEREGISTER(*(unsigned *)f->stack_base);
#endif
}

void gt__fiber_started(void)
{
#ifdef GT_ASAN
    __sanitizer_finish_switch_fiber(NULL, NULL, NULL);
#endif
}

void gt__fiber_switch(gt__fiber *from, gt__fiber *to, int from_exits)
{
#ifdef GT_ASAN
    void *fake = NULL;
    __sanitizer_start_switch_fiber(from_exits ? NULL : &fake, to->stack_base,
                                   to->stack_size);
#else
    (void)from_exits;
#endif
#ifdef GT_TSAN
    __tsan_switch_to_fiber(to->tsan, 0);
#endif
    gt__ctx_switch(&from->sp, to->sp);
#ifdef GT_ASAN
    __sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
}
