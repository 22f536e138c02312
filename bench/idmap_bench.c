/*
 * idmap_bench.c -- handle look-ups per second (util/idmap.c), the work of
 * every socket call (gt__sock_get) and every gt_post, from 1..N threads at
 * once: a table-wide lock on look-up serialises the schedulers, a
 * read-mostly table should scale.
 *
 *   idmap_bench [THREADS [MS]]   default 2 threads, 500 ms per run
 *
 * Prints "threads=K lookups/s=R cpu_ns/lookup=C" for K = 1 .. THREADS (C:
 * the threads' CPU time per look-up, which a loaded machine, where the
 * threads do not always run at once, disturbs less).  Each thread looks
 * up its own 64 live handles in turn (taking and dropping a reference, as
 * gt__sock_get does), so the threads share nothing but the table.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "util/idmap.h"

#define PER_THREAD 64
#define MAX_THREADS 16

typedef struct obj {
    atomic_int refs;
} obj;

static gt__idmap table = GT__IDMAP_INIT;
static atomic_int go, stop;

typedef struct worker {
    pthread_t t;
    uint64_t ids[PER_THREAD];
    obj objs[PER_THREAD];
    uint64_t n;
    double cpu_ns;
} worker;

static void ref(void *o) { atomic_fetch_add(&((obj *)o)->refs, 1); }

static void *run(void *arg)
{
    worker *w = arg;
    while (!atomic_load(&go))
        ;
    uint64_t n = 0;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        for (int i = 0; i < PER_THREAD; i++) {
            obj *o = gt__idmap_get(&table, w->ids[i], ref);
            if (!o)
                abort(); /* a live handle must always be found */
            atomic_fetch_sub(&o->refs, 1);
        }
        n += PER_THREAD;
    }
    w->n = n;
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    w->cpu_ns = ts.tv_sec * 1e9 + ts.tv_nsec;
    return NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 2;
    int ms = argc > 2 ? atoi(argv[2]) : 500;
    if (threads < 1 || threads > MAX_THREADS || ms < 1) {
        fprintf(stderr, "usage: idmap_bench [THREADS(1-%d) [MS]]\n", MAX_THREADS);
        return 2;
    }
    static worker ws[MAX_THREADS];
    for (int k = 0; k < threads; k++)
        for (int i = 0; i < PER_THREAD; i++) {
            ws[k].ids[i] = gt__idmap_add(&table, &ws[k].objs[i]);
            if (!ws[k].ids[i])
                return 1;
        }
    for (int k = 1; k <= threads; k++) {
        atomic_store(&go, 0);
        atomic_store(&stop, 0);
        for (int i = 0; i < k; i++)
            pthread_create(&ws[i].t, NULL, run, &ws[i]);
        double t0 = now_s();
        atomic_store(&go, 1);
        struct timespec d = {ms / 1000, (long)(ms % 1000) * 1000000};
        nanosleep(&d, NULL);
        atomic_store(&stop, 1);
        uint64_t total = 0;
        double cpu = 0;
        for (int i = 0; i < k; i++) {
            pthread_join(ws[i].t, NULL);
            total += ws[i].n;
            cpu += ws[i].cpu_ns;
        }
        double dt = now_s() - t0;
        printf("threads=%d lookups/s=%.0f cpu_ns/lookup=%.1f\n", k, total / dt, cpu / total);
    }
    return 0;
}
