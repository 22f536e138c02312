/*
 * gt_timers.c -- 100,000 pending timers: what a timer costs, in time and in
 * memory, next to Erlang doing the same (bench/timers_bench.escript).
 *
 *   gt_timers [n=100000] [schedulers=N] [spin_us=US]
 *
 * One process, on a scheduler:
 *   start   ns per gt_send_after of a timer that will not fire during the run
 *           (10..20 s), n of them pending at once
 *   mem     bytes per pending timer (RSS after - before) / n
 *   read    ns per gt_read_timer of a pending timer
 *   cancel  ns per gt_cancel_timer of a pending timer
 *   fire    ns per timer from starting n short timers (0..100 ms) to the
 *           receipt of the last of their n messages
 * One line per figure: "NAME VALUE".
 */
#include "gt_bench.h"

#define TAG_TICK 7

static void driver(void *arg)
{
    (void)arg;
    long n = gb_arg("n", 100000);
    gt_timer *refs = calloc((size_t)n, sizeof *refs);
    if (!refs)
        gb_die("out of memory");
    gt_pid me = gt_self();
    long rss0 = gb_rss_bytes();
    double t0 = gb_now();
    for (long i = 0; i < n; i++)
        gb_check(gt_send_after(10000 + i % 10000, me, TAG_TICK, &i, sizeof i, &refs[i]),
                 "gt_send_after");
    double t1 = gb_now();
    long rss1 = gb_rss_bytes();
    int64_t sum = 0;
    for (long i = 0; i < n; i++)
        sum += gt_read_timer(refs[i]);
    double t2 = gb_now();
    for (long i = 0; i < n; i++)
        if (gt_cancel_timer(refs[i]) < 0)
            gb_die("timer %ld was not pending", i);
    double t3 = gb_now();
    for (long i = 0; i < n; i++)
        gb_check(gt_send_after(i % 100, me, TAG_TICK, &i, sizeof i, &refs[i]), "gt_send_after");
    for (long got = 0; got < n;) {
        gt_msg *m;
        gb_check(gt_receive(60000, &m), "timer message");
        got += m->kind == GT_MSG_USER && m->tag == TAG_TICK;
        gt_msg_free(m);
    }
    double t4 = gb_now();
    printf("start %.0f\n", (t1 - t0) * 1e9 / (double)n);
    printf("mem %.0f\n", (double)(rss1 - rss0) / (double)n);
    printf("read %.0f\n", (t2 - t1) * 1e9 / (double)n);
    printf("cancel %.0f\n", (t3 - t2) * 1e9 / (double)n);
    printf("fire %.0f\n", (t4 - t3) * 1e9 / (double)n);
    if (sum <= 0)
        gb_die("read_timer gave nothing");
    free(refs);
}

int main(int argc, char **argv)
{
    gb_argc = argc;
    gb_argv = argv;
    (void)gb_listen; /* the shared header's; no socket here */
    gb_run(driver, NULL);
    return 0;
}
