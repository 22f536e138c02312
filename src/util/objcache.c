/*
 * objcache.c -- per-thread caches of sockets' and processes' structs
 * (objcache.h says why and who owns what).
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/objcache.h"
#include "util/sanitizer.h"

#define GT_OBJ_CACHE_ON (!GT_SANITIZED)

typedef struct objlist {
    void *free; /* a cached block's first word links to the next */
    int n;
} objlist;

typedef struct objcache {
    objlist kind[GT__OBJ_N_];
    int n;           /* all kinds */
    bool registered; /* cache_key holds &cache: freed at the thread's exit */
} objcache;

/* initial-exec: a %fs-relative load in the -fPIC code, as the message
 * cache's (runtime/mailbox.c); 48 bytes of the static TLS */
static __thread objcache cache __attribute__((tls_model("initial-exec")));
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void cache_release(void *arg)
{
    objcache *c = arg;
    for (int k = 0; k < GT__OBJ_N_; k++) {
        objlist *l = &c->kind[k];
        while (l->free) {
            void *p = l->free;
            l->free = *(void **)p;
            free(p);
        }
        l->n = 0;
    }
    c->n = 0;
}

/* The thread's exit (its key's value is NULL by now: a block freed by a
 * later destructor registers again). */
static void cache_exit(void *arg)
{
    ((objcache *)arg)->registered = false;
    cache_release(arg);
}

static void cache_key_make(void) { pthread_key_create(&cache_key, cache_exit); }

void *gt__obj_new(unsigned kind, size_t size)
{
    objlist *l = &cache.kind[kind];
    void *p = l->free;
    if (GT_OBJ_CACHE_ON && p) {
        l->free = *(void **)p;
        l->n--;
        cache.n--;
    } else {
        p = malloc(size);
        /* Hides p's origin: gcc folds malloc + memset(0) back into calloc,
         * which never takes a block from malloc's tcache (util/zalloc.h). */
        __asm__("" : "+r"(p));
        if (!p)
            return NULL;
    }
    memset(p, 0, size);
    return p;
}

void gt__obj_free(unsigned kind, void *p)
{
    objlist *l = &cache.kind[kind];
    if (!GT_OBJ_CACHE_ON || !p || l->n >= GT__OBJ_CACHE) {
        free(p);
        return;
    }
    if (!cache.registered) {
        pthread_once(&cache_once, cache_key_make);
        pthread_setspecific(cache_key, &cache);
        cache.registered = true;
    }
    *(void **)p = l->free;
    l->free = p;
    l->n++;
    cache.n++;
}

void gt__obj_cache_trim(void) { cache_release(&cache); }
int gt__obj_cache_count(void) { return cache.n; }
