/*
 * gt_skew.c -- the skewed-load echo server of bench/skew.sh (issue 10 item 7).
 *
 *   gt_skew [schedulers=2] [steal=1|-1] [spin_us=...] [work_us=0]
 *
 * Echoes {packet,4} frames (the protocol of bench/load.c) with one passive
 * process per connection, every one spawned on scheduler 1 (.scheduler = 1,
 * .movable = true) by an acceptor pinned there, and the sockets homed there
 * too: the whole load lands on one scheduler and only stealing can spread
 * it.  steal= is gt_config.steal (0: GT_STEAL or the default); work_us=
 * spins that long per request (a request that costs CPU, so that one
 * scheduler, not the box or the client, is the limit).  Prints
 * "listening on PORT"; serves until its stdin closes.
 */
#include "gt_bench.h"

static double work_s;

static void conn_fn(void *arg)
{
    gt_socket s = {(uint64_t)(uintptr_t)arg};
    gt_msg *m = NULL;
    while (gt_recv(s, 0, GT_INFINITY, &m) == 0) {
        for (double end = gb_now() + work_s; gb_now() < end;)
            ;
        int rc = gt_send(s, m->data, m->len);
        gt_msg_free(m);
        if (rc)
            break;
    }
    gt_close(s);
}

static void acceptor_fn(void *arg)
{
    gt_socket l = {(uint64_t)(uintptr_t)arg};
    gt_socket a;
    while (gt_accept(l, GT_INFINITY, &a) == 0) {
        gt_pid pid;
        gt_spawn_opts o = {.scheduler = 1, .movable = true};
        if (gt_spawn(conn_fn, (void *)(uintptr_t)a.id, &o, &pid) != 0 ||
            gt_controlling_process(a, pid) != 0)
            gt_close(a);
    }
}

static void server_fn(void *arg)
{
    (void)arg;
    gb_acceptor_on_scheduler_1(acceptor_fn, 4);
    double t0 = gb_now();
    for (;;) { /* until stdin closes, without holding a scheduler */
        uint32_t ev = 0;
        char buf[64];
        if (gt_wait_fd(0, GT_FD_READ, GT_INFINITY, &ev) != 0 || read(0, buf, sizeof buf) <= 0)
            break;
    }
    fprintf(stderr, "gt_skew: served %.1f s\n", gb_now() - t0);
    exit(0);
}

int main(int argc, char **argv)
{
    gb_argc = argc;
    gb_argv = argv;
    work_s = (double)gb_arg("work_us", 0) / 1e6;
    if (!gb_arg("schedulers", 0)) /* the point is two schedulers */
        setenv("GT_SCHEDULERS", "2", 0);
    gb_run(server_fn, NULL);
    return 0;
}
