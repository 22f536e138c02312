/*
 * gt_stream.c -- the gentcp stream reader of the benchmarks.
 *
 *   gt_stream [port=0] [active=100|once] [proc=spawn|thread] [schedulers= spin_us=]
 *
 * One process accepts one connection ({packet,4}, binary) and reads it with
 * {active,N}, re-armed on GT_MSG_TCP_PASSIVE (or {active,once}, re-armed
 * after every message), counting non-empty packets until the empty one; then
 * it goes passive, sends the 8-byte count and closes.  Prints "listening on
 * PORT", then "result msgs=N ops_per_s=R active=A".
 */
#include "gt_bench.h"

static void reader(void *arg)
{
    (void)arg;
    const char *act = gb_sarg("active", "100");
    int once = strcmp(act, "once") == 0;
    gt_opt arm = once ? GT_ACTIVE_ONCE : GT_ACTIVE_N(atoi(act));
    gt_opt extra[] = {GT_PACKET(4)};
    gt_socket l = gb_listen(extra, 1), s;
    gb_check(gt_accept(l, GT_INFINITY, &s), "gt_accept");
    gt_close(l);
    gb_check(gt_setopts(s, (gt_optlist){&arm, 1}), "gt_setopts active");
    unsigned long long count = 0;
    double t0 = 0, t1 = 0;
    for (;;) {
        gt_msg *m;
        gb_check(gt_receive(GT_INFINITY, &m), "gt_receive");
        gt_msg_kind k = m->kind;
        size_t len = m->len;
        int reason = m->reason;
        gt_msg_free(m);
        if (k == GT_MSG_TCP) {
            if (len == 0) {
                t1 = gb_now();
                break;
            }
            if (count++ == 0)
                t0 = gb_now();
            if (once)
                gb_check(gt_setopts(s, (gt_optlist){&arm, 1}), "gt_setopts once");
        } else if (k == GT_MSG_TCP_PASSIVE) {
            gb_check(gt_setopts(s, (gt_optlist){&arm, 1}), "gt_setopts N");
        } else if (k == GT_MSG_TCP_CLOSED) {
            gb_die("closed before the end marker after %llu packets", count);
        } else if (k == GT_MSG_TCP_ERROR) {
            gb_die("tcp_error %s after %llu packets", gt_err_name(reason), count);
        }
    }
    gt_opt passive = GT_ACTIVE_FALSE;
    gb_check(gt_setopts(s, (gt_optlist){&passive, 1}), "gt_setopts passive");
    uint8_t c[8];
    for (int i = 0; i < 8; i++)
        c[i] = (uint8_t)(count >> (8 * (7 - i)));
    gb_check(gt_send(s, c, 8), "gt_send count");
    gt_close(s);
    double dt = t1 - t0;
    printf("result msgs=%llu ops_per_s=%.0f active=%s\n", count,
           dt > 0 ? (double)count / dt : 0.0, act);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    gb_argc = argc;
    gb_argv = argv;
    gb_run(reader, NULL);
    return 0;
}
