/*
 * gt_pingpong.c -- the gentcp pingpong server of the benchmarks.
 *
 *   gt_pingpong [port=0] [proc=spawn|thread] [schedulers=N spin_us=N]
 *
 * One process accepts one connection ({packet,4}, binary, passive,
 * nodelay) and echoes every packet with gt_recv/gt_send until the peer
 * closes.  Prints "listening on PORT", then "result msgs=N ops_per_s=R".
 */
#include "gt_bench.h"

static void server(void *arg)
{
    (void)arg;
    gt_opt extra[] = {GT_PACKET(4), GT_NODELAY(1)};
    gt_socket l = gb_listen(extra, 2), s;
    gb_check(gt_accept(l, GT_INFINITY, &s), "gt_accept");
    gt_close(l);
    long long msgs = 0;
    double t0 = 0;
    for (;;) {
        gt_msg *m;
        int rc = gt_recv(s, 0, GT_INFINITY, &m);
        if (rc == GT_ECLOSED)
            break;
        gb_check(rc, "gt_recv");
        if (msgs++ == 0)
            t0 = gb_now();
        rc = gt_send(s, m->data, m->len);
        gt_msg_free(m);
        gb_check(rc, "gt_send");
    }
    double dt = gb_now() - t0;
    gt_close(s);
    printf("result msgs=%lld ops_per_s=%.0f\n", msgs, dt > 0 ? (double)msgs / dt : 0.0);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    gb_argc = argc;
    gb_argv = argv;
    gb_run(server, NULL);
    return 0;
}
