/*
 * objcache.h -- per-thread caches of the fixed-size structs made and
 * freed once per connection: a socket (gt__sock) and a process (gt__proc).
 *
 * malloc's own per-thread cache (tcache) keeps 7 blocks of a size.  An
 * accept load with 50 connections in flight on one scheduler frees its
 * sockets and processes in runs longer than that (an epoll batch of
 * ends), so most frees went to _int_free's bins and most allocations to
 * _int_malloc: ~800 of a connection's ~6,200 user instructions (callgrind,
 * `load accept conc=50`; issue 11, acc6).  These caches hold up to
 * GT__OBJ_CACHE blocks of each kind per thread, last freed first out (the
 * block most likely still in this core's cache).
 *
 * Ownership: a block on a thread's list belongs to that thread's cache;
 * gt__obj_new hands it (zeroed) to the caller, who owns it until
 * gt__obj_free.  A block may be freed on another thread than the one that
 * made it: it joins that thread's cache (or goes to free() when full).
 * What a thread caches is freed at its exit (a pthread key's destructor)
 * or by gt__obj_cache_trim (runtime/trim.c, when the schedulers go idle).
 * Sanitizer builds keep no cache, so that a use after free is still
 * caught.
 */
#ifndef GT_OBJCACHE_H
#define GT_OBJCACHE_H

#include <stddef.h>

enum { GT__OBJ_SOCK, GT__OBJ_PROC, GT__OBJ_N_ };

/* Blocks kept per kind and thread: 64 sockets (256 B) and 64 processes
 * (152 B) are ~26 KiB a thread at most. */
#define GT__OBJ_CACHE 64

/* A zeroed block of size bytes (always the same size for a kind), or NULL. */
void *gt__obj_new(unsigned kind, size_t size);
/* p (NULL: nothing) back to the calling thread's cache of kind, or freed. */
void gt__obj_free(unsigned kind, void *p);
/* Frees the calling thread's cached blocks. */
void gt__obj_cache_trim(void);
/* Blocks the calling thread caches, all kinds (0 in sanitizer builds). */
int gt__obj_cache_count(void);

#endif
