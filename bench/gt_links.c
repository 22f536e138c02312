/*
 * gt_links.c -- 10,000 linked processes: what a link costs, in time and in
 * memory, next to Erlang doing the same (bench/links_bench.escript).
 *
 *   gt_links [n=10000] [schedulers=N] [spin_us=US] [stack=BYTES]
 *
 * A hub process spawn-links n workers, each parked in gt_receive; then:
 *   spawn_link  ns per spawn of a linked process (the hub's loop)
 *   link        ns per gt_link of the hub to an already linked worker's
 *               fresh neighbour (one unlinked process per worker: the
 *               driver links to each of n idle processes)
 *   unlink      ns per gt_unlink of those links
 *   mem         bytes per linked, parked worker (RSS after - before) / n
 *   exit        ns per worker from gt_kill(hub, reason) to the last worker's
 *               DOWN at the driver (the workers die of the link)
 * One line per figure: "NAME VALUE".
 */
#include "gt_bench.h"

#define TAG_READY 1

static void idle_fn(void *arg)
{
    (void)arg;
    gt_msg *m;
    while (gt_receive(GT_INFINITY, &m) == 0)
        gt_msg_free(m);
}

struct hub {
    gt_pid driver;
    long n;
    gt_pid *workers;
    double spawn_s;
};

static void hub_fn(void *arg)
{
    struct hub *h = arg;
    gt_spawn_opts o = {.link = true};
    double t0 = gb_now();
    for (long i = 0; i < h->n; i++)
        gb_check(gt_spawn(idle_fn, NULL, &o, &h->workers[i]), "gt_spawn(link)");
    h->spawn_s = gb_now() - t0;
    gb_check(gt_post(h->driver, TAG_READY, NULL, 0), "gt_post");
    idle_fn(NULL);
}

static void driver(void *arg)
{
    (void)arg;
    long n = gb_arg("n", 10000);
    struct hub h = {gt_self(), n, calloc((size_t)n, sizeof(gt_pid)), 0};
    gt_pid *plain = calloc((size_t)n, sizeof(gt_pid));
    if (!h.workers || !plain)
        gb_die("out of memory");
    long rss0 = gb_rss_bytes();
    gt_pid hub;
    gb_check(gt_spawn(hub_fn, &h, NULL, &hub), "gt_spawn");
    gt_msg *m;
    gb_check(gt_receive(60000, &m), "hub ready");
    gt_msg_free(m);
    gt_sleep(200); /* every worker reaches its receive */
    long rss1 = gb_rss_bytes();

    for (long i = 0; i < n; i++)
        gb_check(gt_spawn(idle_fn, NULL, NULL, &plain[i]), "gt_spawn");
    gt_sleep(200); /* they have started: the links are timed alone */
    double t0 = gb_now();
    for (long i = 0; i < n; i++)
        gb_check(gt_link(plain[i]), "gt_link");
    double t1 = gb_now();
    for (long i = 0; i < n; i++)
        gb_check(gt_unlink(plain[i]), "gt_unlink");
    double t2 = gb_now();
    for (long i = 0; i < n; i++)
        gb_check(gt_kill(plain[i], GT_EKILL), "gt_kill");

    for (long i = 0; i < n; i++)
        gb_check(gt_monitor(h.workers[i]), "gt_monitor");
    double t3 = gb_now();
    gb_check(gt_kill(hub, 1), "gt_kill(hub)");
    for (long left = n; left > 0;) {
        gb_check(gt_receive(60000, &m), "DOWN");
        if (m->kind == GT_MSG_DOWN && m->reason == 1)
            left--;
        gt_msg_free(m);
    }
    double t4 = gb_now();
    printf("spawn_link %.0f\n", h.spawn_s * 1e9 / (double)n);
    printf("link %.0f\n", (t1 - t0) * 1e9 / (double)n);
    printf("unlink %.0f\n", (t2 - t1) * 1e9 / (double)n);
    printf("mem %.0f\n", (double)(rss1 - rss0) / (double)n);
    printf("exit %.0f\n", (t4 - t3) * 1e9 / (double)n);
    free(h.workers);
    free(plain);
}

int main(int argc, char **argv)
{
    gb_argc = argc;
    gb_argv = argv;
    (void)gb_listen; /* the shared header's; no socket here */
    gb_run(driver, NULL);
    return 0;
}
