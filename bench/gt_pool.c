/*
 * gt_pool.c -- an acceptor-pool echo server (the pattern of gen_tcp's own
 * documentation: accept in one process, hand the socket to a worker with
 * controlling_process).  For the accept workload of bench/load.c with the
 * hand-over in its path (issue 11, move15).
 *
 *   gt_pool [schedulers=2] [spin_us=...] [active=0|1] [secs=600]
 *
 * One acceptor, pinned to scheduler 1, accepts; each connection gets a
 * worker spawned round robin (so about half land on another scheduler and
 * their sockets move there) that echoes {packet,4} frames passively
 * (active=1: {active,true} messages) until the peer closes.  Prints
 * "listening on PORT"; serves for secs= seconds (or until killed).
 */
#include "gt_bench.h"

static int active;

static void worker_fn(void *arg)
{
    gt_socket s = {(uint64_t)(uintptr_t)arg};
    if (!gb_worker_go(s))
        return;
    gt_msg *m = NULL;
    if (active && gt_setopts(s, GT_OPTS(GT_ACTIVE_TRUE)) != 0) {
        gt_close(s);
        return;
    }
    for (;;) {
        int rc = active ? gt_receive(GT_INFINITY, &m) : gt_recv(s, 0, GT_INFINITY, &m);
        if (rc != 0)
            break;
        if (m->kind != GT_MSG_TCP) {
            gt_msg_free(m);
            break;
        }
        rc = gt_send(s, m->data, m->len);
        gt_msg_free(m);
        if (rc)
            break;
    }
    gt_close(s);
}

static void acceptor_fn(void *arg)
{
    gb_hand_each_to((gt_socket){(uint64_t)(uintptr_t)arg}, worker_fn);
}

static void server_fn(void *arg)
{
    (void)arg;
    gb_serve_pool(acceptor_fn, 4);
}

int main(int argc, char **argv)
{
    gb_argc = argc;
    gb_argv = argv;
    active = (int)gb_arg("active", 0);
    gb_run(server_fn, NULL);
    return 0;
}
