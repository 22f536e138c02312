/*
 * gt_bench.h -- small helpers shared by the bench/gt_*.c contenders:
 * key=value arguments, the monotonic clock, runtime start-up from arguments
 * and running the workload in a spawned process.  Header-only so that the
 * Makefile's one-program-per-C-file bench rule still applies.
 */
#ifndef GT_BENCH_H
#define GT_BENCH_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gentcp.h"

static int gb_argc;
static char **gb_argv;

static void gb_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", gb_argv ? gb_argv[0] : "gt_bench");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* The integer value of key=value among the arguments, or def. */
static long long gb_arg(const char *key, long long def)
{
    size_t kl = strlen(key);
    for (int i = 1; i < gb_argc; i++)
        if (strncmp(gb_argv[i], key, kl) == 0 && gb_argv[i][kl] == '=')
            return strtoll(gb_argv[i] + kl + 1, NULL, 0);
    return def;
}

static const char *gb_sarg(const char *key, const char *def)
{
    size_t kl = strlen(key);
    for (int i = 1; i < gb_argc; i++)
        if (strncmp(gb_argv[i], key, kl) == 0 && gb_argv[i][kl] == '=')
            return gb_argv[i] + kl + 1;
    return def;
}

/* The resident set size of this process, in bytes. */
static inline long gb_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    return rss * sysconf(_SC_PAGESIZE);
}

static double gb_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void gb_check(int rc, const char *what)
{
    if (rc != 0)
        gb_die("%s: %s (%s)", what, gt_err_name(rc), gt_strerror(rc));
}

/* Starts the runtime (schedulers= spin_us= stack= steal= arguments, 0 = default),
 * then runs fn(arg) in a spawned process (proc=spawn, the default) or on the
 * main thread (proc=thread) and returns when it has ended. */
static void gb_run(gt_proc_fn fn, void *arg)
{
    gt_config cfg = {.schedulers = (int)gb_arg("schedulers", 0),
                     .spin_us = (int)gb_arg("spin_us", 0),
                     .stack_size = (size_t)gb_arg("stack", 0),
                     .steal = (int)gb_arg("steal", 0)};
    gb_check(gt_init(&cfg), "gt_init");
    if (strcmp(gb_sarg("proc", "spawn"), "thread") == 0) {
        fn(arg);
        return;
    }
    gt_pid pid;
    gb_check(gt_spawn(fn, arg, NULL, &pid), "gt_spawn");
    gb_check(gt_monitor(pid), "gt_monitor");
    for (;;) {
        gt_msg *m;
        if (gt_receive(GT_INFINITY, &m) != 0)
            continue;
        int down = m->kind == GT_MSG_DOWN && gt_pid_eq(m->from, pid);
        gt_msg_free(m);
        if (down)
            return;
    }
}

/* gt_listen on 127.0.0.1 with the harness's listen options plus extra, and
 * the "listening on PORT" line. */
static gt_socket gb_listen(const gt_opt *extra, size_t nextra)
{
    gt_opt o[16] = {
        GT_INET_BACKEND(GT_BACKEND_INET), GT_BINARY, GT_ACTIVE_FALSE, GT_REUSEADDR(1),
        GT_IP("127.0.0.1"), GT_BACKLOG(4096),
    };
    size_t n = 6;
    for (size_t i = 0; i < nextra && n < 16; i++)
        o[n++] = extra[i];
    gt_socket l;
    gb_check(gt_listen((int)gb_arg("port", 0), (gt_optlist){o, n}, &l), "gt_listen");
    int port = 0;
    gb_check(gt_port(l, &port), "gt_port");
    printf("listening on %d\n", port);
    fflush(stdout);
    return l;
}

/* A nodelay listener (gb_listen) with {packet, packet} whose acceptor
 * process, fn(l's id), runs on scheduler 1 and owns it, so that its
 * watcher is homed there too: the acceptor-pool shape of gt_pool, gt_parts
 * and gt_skew, where connections are handed to workers with
 * controlling_process. */
static inline void gb_acceptor_on_scheduler_1(gt_proc_fn fn, int packet)
{
    gt_opt extra[] = {GT_PACKET(packet), GT_NODELAY(true)};
    gt_socket l = gb_listen(extra, 2);
    gt_spawn_opts o = {.scheduler = 1};
    gt_pid acc;
    gb_check(gt_spawn(fn, (void *)(uintptr_t)l.id, &o, &acc), "gt_spawn");
    gb_check(gt_controlling_process(l, acc), "gt_controlling_process");
}

/* gt_pool's and gt_parts' server: the acceptor on scheduler 1, then
 * serves for secs= seconds (600) without holding a scheduler, and exits. */
static inline void gb_serve_pool(gt_proc_fn acceptor, int packet)
{
    gb_acceptor_on_scheduler_1(acceptor, packet);
    double end = gb_now() + (double)gb_arg("secs", 600);
    while (gb_now() < end)
        gt_sleep(100);
    exit(0);
}

/* An acceptor's loop (gt_pool, gt_parts): each connection accepted on l
 * goes to worker(its id), spawned for it where the runtime places it,
 * with controlling_process, then a post that says go (gb_worker_go). */
static inline void gb_hand_each_to(gt_socket l, gt_proc_fn worker)
{
    gt_socket a;
    while (gt_accept(l, GT_INFINITY, &a) == 0) {
        gt_pid pid;
        if (gt_spawn(worker, (void *)(uintptr_t)a.id, NULL, &pid) != 0) {
            gt_close(a);
            continue;
        }
        if (gt_controlling_process(a, pid) != 0)
            gt_close(a); /* the worker finds it closed */
        gt_post(pid, 1, NULL, 0);
    }
}

/* A worker's start: the socket is its own once gb_hand_each_to's go
 * arrives; false (the socket closed) if none can. */
static inline bool gb_worker_go(gt_socket s)
{
    gt_msg *m = NULL;
    if (gt_receive(GT_INFINITY, &m) != 0) {
        gt_close(s);
        return false;
    }
    gt_msg_free(m);
    return true;
}

#endif
