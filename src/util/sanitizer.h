/*
 * sanitizer.h -- GT_SANITIZED: 1 in an AddressSanitizer or ThreadSanitizer
 * build, else 0 (gcc says so by __SANITIZE_*__, clang by __has_feature);
 * GT_NO_TSAN, a function TSan does not instrument.
 *
 * What turns off there, and why: the caches that recycle freed blocks
 * (messages, sockets, processes), so that a use after free is still
 * caught; the raw system calls, so that the interceptors see every read,
 * send and epoll_wait and model the synchronisation through them.
 */
#ifndef GT_SANITIZER_H
#define GT_SANITIZER_H

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define GT_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define GT_SANITIZED 1
#endif
#endif
#ifndef GT_SANITIZED
#define GT_SANITIZED 0
#endif

/* GT_NO_TSAN: a function whose unlocked reads are hints (a prefetch), or
 * are ordered by the kernel in a way TSan does not model; its comment
 * says which.  Not instrumented, so not reported as a race. */
#if defined(__has_attribute)
#if __has_attribute(no_sanitize)
#define GT_NO_TSAN __attribute__((no_sanitize("thread")))
#endif
#endif
#ifndef GT_NO_TSAN
#define GT_NO_TSAN
#endif

#endif
