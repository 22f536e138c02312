/*
 * uring_test.c -- the end-of-pass batch of writes (issue 11, uring11;
 * src/socket/send.c, src/util/uring.c): a small send from a process onto
 * an empty queue waits for the end of the scheduler's pass and goes to the
 * kernel with the other sends of that pass in one io_uring_enter.  What
 * the sends mean must not change: order with later and larger sends,
 * close and exit right after a send, a peer's reset, a full socket
 * buffer.  Every test runs again with the batch off (GT_IO_URING=0: the
 * writev fallback), see uring_off_runs_the_same_tests.
 */
#include <linux/io_uring.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "h_uring.h"
#include "util/uring.h"

#define NSOCK 8

struct job {
    gt_socket socks[NSOCK];
    int n;
    gt_pid parent;
};

/* One process, one run: a 64-byte packet on each socket, then back to
 * the parent.  The sends of one run all wait for the end of that pass. */
static void send_each(void *arg)
{
    struct job *j = arg;
    int rc = 0;
    static const char body[64] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde";
    for (int i = 0; i < j->n && rc == 0; i++)
        rc = gt_send(j->socks[i], body, sizeof body);
    h_post_int(j->parent, 1, rc);
}

/* NSOCK sends of one process: one io_uring_enter for all of them (fails
 * without the batch: NSOCK sendto calls, no enter); none with the batch
 * off.  Every peer gets its packet, though the scheduler then finds
 * nothing to read and sleeps: the sends wait in the ring for the next
 * poll's reads (sched.c), and go alone when it finds none (fails without
 * that: the peers' reads time out). */
GT_TEST(batch_one_enter_for_a_pass)
{
    struct job j = {.n = NSOCK, .parent = gt_self()};
    int fds[NSOCK];
    for (int i = 0; i < NSOCK; i++)
        j.socks[i] = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(4)), &fds[i]);
    /* nothing else sends meanwhile: the test's own thread waits */
    unsigned long long e0 = gt__uring_enters_total();
    h_spawn(send_each, &j);
    ASSERT_OK(h_wait_int(1, H_WAIT));
    for (int i = 0; i < NSOCK; i++) {
        uint8_t got[68];
        h_raw_read_exact(fds[i], got, sizeof got);
        ASSERT(got[0] == 0 && got[1] == 0 && got[2] == 0 && got[3] == 64);
        ASSERT(memcmp(got + 4, "0123456789abcdef", 16) == 0);
    }
    ASSERT_EQ(gt__uring_enters_total() - e0, h_uring_expected() ? 1 : 0);
    for (int i = 0; i < NSOCK; i++) {
        gt_close(j.socks[i]);
        close(fds[i]);
    }
}

/* ---- order: small sends (batched) between large ones (written at once,
 * behind what is queued), on several sockets at a time ---- */

#define ORD_SOCKS 4
#define ORD_ROUNDS 300
#define ORD_BIG 100000

static size_t ord_len(int round) { return round % 7 == 3 ? ORD_BIG : (size_t)(1 + round % 50); }

static void send_ordered(void *arg)
{
    struct job *j = arg;
    static uint8_t buf[ORD_BIG];
    int rc = 0;
    for (int r = 0; r < ORD_ROUNDS && rc == 0; r++) {
        for (int i = 0; i < j->n && rc == 0; i++) {
            size_t n = ord_len(r);
            memset(buf, (uint8_t)(r * 31 + i), n);
            if (r % 5 == 0) { /* a lone gt_send_many packet as well */
                struct iovec v = {buf, n};
                rc = gt_send_many(j->socks[i], &v, 1, NULL);
            } else {
                rc = gt_send(j->socks[i], buf, n);
            }
        }
        if (r % 10 == 0)
            gt_yield(); /* a pass ends among the sends */
    }
    h_post_int(j->parent, 1, rc);
}

struct reader {
    int fd, idx;
    int bad; /* the first round that arrived wrong, or -1 */
};

static void *read_ordered(void *arg)
{
    struct reader *rd = arg;
    static __thread uint8_t buf[ORD_BIG];
    rd->bad = -1;
    for (int r = 0; r < ORD_ROUNDS; r++) {
        uint8_t hdr[4];
        h_raw_read_exact(rd->fd, hdr, 4);
        size_t n = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
        if (n != ord_len(r)) {
            rd->bad = r;
            return NULL;
        }
        h_raw_read_exact(rd->fd, buf, n);
        for (size_t k = 0; k < n; k++)
            if (buf[k] != (uint8_t)(r * 31 + rd->idx)) {
                rd->bad = r;
                return NULL;
            }
    }
    return NULL;
}

GT_TEST(order_small_and_large_across_sockets)
{
    struct job j = {.n = ORD_SOCKS, .parent = gt_self()};
    struct reader rd[ORD_SOCKS];
    pthread_t th[ORD_SOCKS];
    for (int i = 0; i < ORD_SOCKS; i++) {
        j.socks[i] = h_raw_peer_server(
            GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(4), GT_HIGH_WATERMARK(1 << 30)), &rd[i].fd);
        rd[i].idx = i;
        ASSERT(pthread_create(&th[i], NULL, read_ordered, &rd[i]) == 0);
    }
    h_spawn(send_ordered, &j);
    ASSERT_OK(h_wait_int(1, 4 * H_WAIT));
    for (int i = 0; i < ORD_SOCKS; i++) {
        pthread_join(th[i], NULL);
        ASSERT_EQ(rd[i].bad, -1);
        gt_close(j.socks[i]);
        close(rd[i].fd);
    }
}

/* ---- close and exit right after a send ---- */

struct closing {
    gt_socket s;
    gt_pid parent;
    int how; /* 0: gt_close; 1: exit without closing (owner) */
};

static void send_then_close(void *arg)
{
    struct closing *c = arg;
    (void)h_wait_int(H_TAG_GO, H_WAIT); /* the socket is ours */
    int rc = gt_send(c->s, "last words", 10);
    if (c->how == 0) {
        int rc2 = gt_close(c->s);
        rc = rc ? rc : rc2;
    }
    h_post_int(c->parent, 1, rc);
    /* how 1: the exit closes the socket it owns */
}

static void close_case(gt_optlist opts, int how, bool want_eof)
{
    int fd;
    struct closing c = {.parent = gt_self(), .how = how};
    c.s = h_raw_peer_server(opts, &fd);
    gt_pid p = h_spawn(send_then_close, &c);
    ASSERT_OK(gt_controlling_process(c.s, p));
    h_post_int(p, H_TAG_GO, 0);
    ASSERT_OK(h_wait_int(1, H_WAIT));
    char got[10];
    h_raw_read_exact(fd, got, sizeof got);
    ASSERT(memcmp(got, "last words", 10) == 0);
    if (want_eof)
        ASSERT_EQ(h_raw_wait_eof(fd), 0);
    close(fd);
}

/* A send then close: everything, then EOF. */
GT_TEST(send_then_close_delivers)
{
    close_case(GT_OPTS(GT_ACTIVE_FALSE), 0, true);
}

/* A send then an abortive close ({linger,{true,0}}): the send was
 * written before the reset, as when it went out at once (fails if the
 * close drops the queue the batch was to write). */
GT_TEST(send_then_abortive_close_delivers)
{
    close_case(GT_OPTS(GT_ACTIVE_FALSE, GT_LINGER(true, 0)), 0, false);
}

/* A send then the owner's exit: everything, then EOF. */
GT_TEST(send_then_exit_delivers)
{
    close_case(GT_OPTS(GT_ACTIVE_FALSE), 1, true);
}

/* ---- the peer's reset: a send's failure is never lost ---- */

static void send_until_error(void *arg)
{
    struct closing *c = arg;
    int rc = 0, n = 0;
    while (n++ < 200 && (rc = gt_send(c->s, "ping", 4)) == 0)
        gt_sleep(5);
    int next = gt_send(c->s, "ping", 4);
    h_post_int(c->parent, 1, rc);
    h_post_int(c->parent, 2, next);
}

GT_TEST(reset_peer_error_reported_by_a_send)
{
    int fd;
    struct closing c = {.parent = gt_self()};
    c.s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE), &fd);
    h_raw_rst(fd);
    h_msleep(H_SETTLE);
    h_spawn(send_until_error, &c);
    int rc = h_wait_int(1, 2 * H_WAIT);
    ASSERT(rc == GT_ECLOSED || rc == -ECONNRESET || rc == -EPIPE);
    int next = h_wait_int(2, H_WAIT);
    ASSERT(next != 0);
    gt_close(c.s);
}

/* ---- a write that fails in the batch: the next call reports it ---- */

struct failing {
    gt_socket bad, good;
    int bad_fd;
    gt_pid parent;
};

static void send_into_failure(void *arg)
{
    struct failing *f = arg;
    /* our write side shut behind gentcp's back: it knows of no peer gone
     * and no shutdown, so the send may wait for the batch, whose write
     * then fails with EPIPE */
    shutdown(f->bad_fd, SHUT_WR);
    int g = gt_send(f->good, "fine", 4); /* two sockets: a real batch */
    int first = gt_send(f->bad, "lost?", 5);
    gt_sleep(20); /* the pass ends: the batch is written */
    /* the failure was taken then: nothing stays queued (a failure left
     * for the next write would leave the 9 bytes) */
    gt_stats st;
    int grc = gt_getstat(f->bad, &st);
    int pend = grc ? grc : (int)st.send_pend;
    int second = gt_send(f->bad, "again", 5);
    h_post_int(f->parent, 4, pend);
    h_post_int(f->parent, 1, g);
    h_post_int(f->parent, 2, first);
    h_post_int(f->parent, 3, second);
}

GT_TEST(batch_write_failure_reported_by_the_next_call)
{
    int port, gfd;
    int lfd = h_raw_listen(&port);
    struct failing f = {.parent = gt_self()};
    f.bad_fd = h_raw_connect(port);
    int peer = h_raw_accept(lfd);
    ASSERT_OK(gt_connect("127.0.0.1", port, GT_OPTS(GT_FD(f.bad_fd), GT_ACTIVE_FALSE), H_WAIT,
                         &f.bad));
    f.good = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE), &gfd);
    h_spawn(send_into_failure, &f);
    ASSERT_OK(h_wait_int(1, H_WAIT));
    int first = h_wait_int(2, H_WAIT), second = h_wait_int(3, H_WAIT);
    ASSERT_EQ(h_wait_int(4, H_WAIT), 0);
    if (h_uring_expected()) {
        ASSERT_OK(first);                 /* queued for the batch */
        ASSERT_ERR(second, GT_ECLOSED);   /* the batch's EPIPE, as inet's */
    } else {
        ASSERT_ERR(first, GT_ECLOSED);    /* written at the call */
        ASSERT_ERR(second, -ENOTCONN);
    }
    char got[4];
    h_raw_read_exact(gfd, got, 4);
    ASSERT(memcmp(got, "fine", 4) == 0);
    gt_close(f.bad);
    gt_close(f.good);
    close(gfd);
    close(peer);
    close(lfd);
}

/* ---- a full socket buffer: the batch's write comes back short or with
 * EAGAIN; the rest waits in the queue for EPOLLOUT ---- */

#define FULL_N 20000
#define FULL_LEN 100

static void send_many_small(void *arg)
{
    struct closing *c = arg;
    uint8_t buf[FULL_LEN];
    int rc = 0;
    for (int i = 0; i < FULL_N && rc == 0; i++) {
        memset(buf, (uint8_t)i, sizeof buf);
        rc = gt_send(c->s, buf, sizeof buf);
        if (i % 16 == 0)
            gt_yield();
    }
    h_post_int(c->parent, 1, rc);
}

GT_TEST(full_buffer_then_everything_delivered)
{
    int fd;
    struct closing c = {.parent = gt_self()};
    c.s = h_raw_peer_server(
        GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(2), GT_SNDBUF(16384), GT_HIGH_WATERMARK(1 << 30)),
        &fd);
    int sz = 16384;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    h_spawn(send_many_small, &c);
    ASSERT_OK(h_wait_int(1, 4 * H_WAIT)); /* all sent, the peer reading nothing */
    for (int i = 0; i < FULL_N; i++) {
        uint8_t f[2 + FULL_LEN];
        h_raw_read_exact(fd, f, sizeof f);
        ASSERT(f[0] == 0 && f[1] == FULL_LEN);
        for (int k = 0; k < FULL_LEN; k++)
            if (f[2 + k] != (uint8_t)i)
                gt_test_fail(__FILE__, __LINE__, "packet %d: byte %d is %d", i, k, f[2 + k]);
    }
    gt_close(c.s);
    close(fd);
}

/* The same tests with the batch off: GT_IO_URING=0, the writev fallback
 * (io_uring_setup failing takes the same path). */
GT_TEST(uring_off_runs_the_same_tests)
{
    static const char *const tests[] = {
        "batch_one_enter_for_a_pass", "order_small_and_large_across_sockets",
        "send_then_close_delivers", "send_then_abortive_close_delivers", "send_then_exit_delivers",
        "reset_peer_error_reported_by_a_send", "full_buffer_then_everything_delivered",
        "batch_write_failure_reported_by_the_next_call", NULL};
    h_rerun_with_off("uring_test", "GT_IO_URING", tests);
}
