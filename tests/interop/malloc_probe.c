/*
 * malloc_probe.c -- an LD_PRELOAD library for tests/interop/echo_batch.sh:
 * counts the live allocations of one size (PROBE_SIZE bytes, asked for
 * with malloc) in the program it is loaded into, and writes "LIVE MAX\n"
 * to the file PROBE_OUT each time the count changes, so that a test sees
 * from outside what a program keeps (issue 11: gtcat's echo batch).
 * Every other allocation passes straight to glibc.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

extern void *__libc_malloc(size_t n);
extern void __libc_free(void *p);

#define TRACKED 4096 /* live blocks followed at once; more are not counted */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static size_t want; /* 0: the probe is off */
static int out = -1;
static void *live[TRACKED];
static long nlive, nmax;

static void setup(void)
{
    const char *s = getenv("PROBE_SIZE"), *o = getenv("PROBE_OUT");
    if (!s || !o)
        return;
    out = open(o, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    want = out >= 0 ? strtoul(s, NULL, 10) : 0;
}

/* lock held */
static void report(void)
{
    char line[64];
    int n = snprintf(line, sizeof line, "%ld %ld\n", nlive, nmax);
    if (ftruncate(out, 0) == 0 && pwrite(out, line, (size_t)n, 0) != n)
        want = 0; /* cannot report: stop counting rather than mislead */
}

void *malloc(size_t n)
{
    void *p = __libc_malloc(n);
    pthread_once(&once, setup);
    if (!p || !want || n != want)
        return p;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < TRACKED; i++)
        if (!live[i]) {
            live[i] = p;
            if (++nlive > nmax)
                nmax = nlive;
            report();
            break;
        }
    pthread_mutex_unlock(&lock);
    return p;
}

void free(void *p)
{
    /* only a block of about the size can be one of ours: the scan is rare */
    size_t u = p && want ? malloc_usable_size(p) : 0;
    if (u >= want && u < want + 64) {
        pthread_mutex_lock(&lock);
        for (int i = 0; i < TRACKED; i++)
            if (live[i] == p) {
                live[i] = NULL;
                nlive--;
                report();
                break;
            }
        pthread_mutex_unlock(&lock);
    }
    __libc_free(p);
}
