/*
 * context.h -- stack switching for processes.  A context is just a saved
 * stack pointer: gt__ctx_switch() pushes the callee-saved registers (and
 * the FP control words) on the current stack, stores the stack pointer,
 * loads the other one and pops.  No system call, no signal mask (unlike
 * swapcontext): a switch costs a few nanoseconds.
 *
 * The sanitizers must be told about every switch, or ASan reports false
 * stack-buffer errors and TSan loses happens-before edges; gt__fiber_*
 * wrap that bookkeeping so the scheduler calls one function per switch.
 */
#ifndef GT_CONTEXT_H
#define GT_CONTEXT_H

#include <stddef.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GT_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define GT_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define GT_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#define GT_TSAN 1
#endif

/* Saves the current context's stack pointer in *save_sp and resumes the
 * context whose stack pointer is new_sp.  Implemented in context_<arch>.S. */
void gt__ctx_switch(void **save_sp, void *new_sp);

/* Prepares a fresh stack [base, base+size) so that switching to the
 * returned stack pointer calls entry(arg) on it.  entry must never return. */
void *gt__ctx_make(void *base, size_t size, void (*entry)(void *), void *arg);

/* A fiber is a stack the sanitizers know about. */
typedef struct gt__fiber {
    void *sp;          /* saved stack pointer while switched out */
    void *stack_base;  /* lowest usable address (NULL: an OS thread stack) */
    size_t stack_size;
#ifdef GT_TSAN
    void *tsan;        /* TSan fiber handle (a TSan build only: every
                          process carries a fiber, issue 11) */
#endif
    /* Under valgrind, the id of the registered stack is kept in the
     * stack's lowest word (context.c), not here: every process carries
     * a fiber (issue 11). */
} gt__fiber;

/* Initialises f as the fiber of the calling OS thread. */
void gt__fiber_init_thread(gt__fiber *f);

/* Registers and releases a process fiber's stack with the sanitizers. */
void gt__fiber_create(gt__fiber *f);
void gt__fiber_destroy(gt__fiber *f);

/* Must be the first call on a new fiber (ASan bookkeeping). */
void gt__fiber_started(void);

/* Switches from `from` to `to`.  If from_exits, `from` will never run
 * again (ASan then drops its fake stack). */
void gt__fiber_switch(gt__fiber *from, gt__fiber *to, int from_exits);

#endif
