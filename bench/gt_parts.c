/*
 * gt_parts.c -- an echo server that answers each request with several
 * gt_send calls, for the writes of the end-of-pass batch (send16: sends a
 * process makes in one run onto one socket go out in one write).
 *
 *   gt_parts [parts=3] [schedulers=2] [spin_us=...]
 *
 * Speaks bench/load.c's {packet,4} echo protocol with the socket in raw
 * mode (passive): reads the 4-byte header, then the body, and answers
 * with parts sends -- the header, then the body in parts - 1 pieces (the
 * last takes the rest) -- so the peer gets the frame unchanged.  One
 * acceptor on scheduler 1 hands each connection to a worker spawned for
 * it (placed by the runtime).  Prints "listening on PORT"; serves until
 * secs= (600) have passed.
 */
#include "gt_bench.h"

static int parts;

static void worker_fn(void *arg)
{
    gt_socket s = {(uint64_t)(uintptr_t)arg};
    if (!gb_worker_go(s))
        return;
    for (;;) {
        gt_msg *h, *b = NULL;
        if (gt_recv(s, 4, GT_INFINITY, &h) != 0)
            break;
        const uint8_t *p = h->data;
        size_t len = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
        int rc = len ? gt_recv(s, len, GT_INFINITY, &b) : 0;
        if (rc == 0)
            rc = gt_send(s, h->data, 4);
        size_t piece = parts > 1 ? len / (size_t)(parts - 1) : len, off = 0;
        for (int i = 1; rc == 0 && off < len; i++) {
            size_t n = i == parts - 1 || parts < 2 ? len - off : piece;
            rc = gt_send(s, (const uint8_t *)b->data + off, n);
            off += n;
        }
        gt_msg_free(h);
        gt_msg_free(b);
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
    gb_serve_pool(acceptor_fn, 0);
}

int main(int argc, char **argv)
{
    gb_argc = argc;
    gb_argv = argv;
    parts = (int)gb_arg("parts", 3);
    if (parts < 1)
        parts = 1;
    gb_run(server_fn, NULL);
    return 0;
}
