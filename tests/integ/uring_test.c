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
#include "socket/sock.h" /* gt__sock_home */
#include "util/uring.h"

#define NSOCK 8

struct job {
    gt_socket socks[NSOCK];
    int n;
    gt_pid parent;
    int home; /* the sockets' home scheduler */
};

/* One process, one run: a 64-byte packet on each socket, then back to
 * the parent.  The sends of one run all wait for the end of that pass. */
static void send_each(void *arg)
{
    struct job *j = arg;
    int rc = gt_scheduler_id() == j->home ? 0 : -1; /* pinned there */
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
 * that: the peers' reads time out).  The sender runs on the sockets' home
 * scheduler, which then handles their events only between its passes: a
 * home elsewhere handles their first (writable) events whenever its
 * thread gets the CPU, and one that came during the sender's run wrote
 * the queued packets itself, with no enter (sender on scheduler 1, home
 * 2: 8, 10 and 13 failures in 200 runs on a loaded box; none in 150 with
 * a 50 ms pause before the spawn, none in 100 on the home). */
GT_TEST(batch_one_enter_for_a_pass)
{
    struct job j = {.n = NSOCK, .parent = gt_self()};
    int fds[NSOCK];
    for (int i = 0; i < NSOCK; i++)
        j.socks[i] = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(4)), &fds[i]);
    int home = gt__sock_home(j.socks[0]);
    for (int i = 1; i < NSOCK; i++)
        ASSERT_EQ(gt__sock_home(j.socks[i]), home);
    j.home = home;
    /* nothing else sends meanwhile: the test's own thread waits */
    unsigned long long e0 = gt__uring_enters_total();
    ASSERT_OK(gt_spawn(send_each, &j, &(gt_spawn_opts){.scheduler = home}, NULL));
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

/* ---- closes of a pass: one io_uring_enter (issue 11, acc12) ---- */

struct closer {
    gt_socket socks[NSOCK];
    int n;
    gt_pid parent;
};

/* Waits until every socket is ours (and homed on this scheduler), then
 * closes them all in one run. */
static void close_each(void *arg)
{
    struct closer *c = arg;
    int rc = h_wait_int(H_TAG_GO, H_WAIT);
    for (int i = 0; i < c->n && rc == 0; i++)
        rc = gt_close(c->socks[i]);
    h_post_int(c->parent, 1, rc);
}

/* NSOCK closes by a process on the sockets' home scheduler: one
 * io_uring_enter closes them all (fails without the close batch: NSOCK
 * close calls, no enter); every peer sees the end, in order after what
 * was sent before the close. */
GT_TEST(batch_closes_of_a_pass_in_one_enter)
{
    struct closer c = {.n = NSOCK, .parent = gt_self()};
    int fds[NSOCK];
    for (int i = 0; i < NSOCK; i++)
        c.socks[i] = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(4)), &fds[i]);
    gt_pid p;
    ASSERT_OK(gt_spawn(close_each, &c, &(gt_spawn_opts){.scheduler = 1}, &p));
    for (int i = 0; i < NSOCK; i++) {
        ASSERT_OK(gt_send(c.socks[i], "bye", 3)); /* from here: written at once */
        ASSERT_OK(gt_controlling_process(c.socks[i], p)); /* homed on scheduler 1 */
    }
    unsigned long long e0 = gt__uring_enters_total();
    h_post_int(p, H_TAG_GO, 0);
    ASSERT_OK(h_wait_int(1, H_WAIT));
    for (int i = 0; i < NSOCK; i++) {
        uint8_t got[7];
        h_raw_read_exact(fds[i], got, sizeof got);
        ASSERT(got[3] == 3 && memcmp(got + 4, "bye", 3) == 0);
        ASSERT_EQ(h_raw_wait_eof(fds[i]), 0);
        close(fds[i]);
    }
    ASSERT_EQ(gt__uring_enters_total() - e0, h_uring_expected() ? 1 : 0);
}

/* Closes of a pass, then new sockets in the same run: a closed socket's
 * descriptor stays open until the end of the pass, so the new ones get
 * numbers of their own and work; the old peers see the end.  Twice, so
 * that the second round's new sockets may take the first round's
 * numbers once they are closed. */
static void close_then_open(void *arg)
{
    struct closer *c = arg;
    int rc = h_wait_int(H_TAG_GO, H_WAIT);
    int port = h_wait_int(H_TAG_GO + 1, H_WAIT);
    for (int round = 0; round < 2 && rc == 0; round++) {
        gt_socket fresh[NSOCK];
        for (int i = 0; i < c->n && rc == 0; i++)
            rc = gt_close(c->socks[i]);
        for (int i = 0; i < c->n && rc == 0; i++)
            rc = gt_connect("127.0.0.1", port, GT_OPTS(GT_ACTIVE_FALSE), H_WAIT, &fresh[i]);
        for (int i = 0; i < c->n && rc == 0; i++)
            rc = gt_send(fresh[i], &(char){(char)('a' + i)}, 1);
        for (int i = 0; i < c->n; i++)
            c->socks[i] = fresh[i];
    }
    for (int i = 0; i < c->n; i++)
        gt_close(c->socks[i]);
    h_post_int(c->parent, 1, rc);
}

GT_TEST(batch_close_then_new_sockets_in_one_run)
{
    struct closer c = {.n = NSOCK, .parent = gt_self()};
    int fds[NSOCK];
    for (int i = 0; i < NSOCK; i++)
        c.socks[i] = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE), &fds[i]);
    int port;
    int lfd = h_raw_listen(&port);
    gt_pid p;
    ASSERT_OK(gt_spawn(close_then_open, &c, &(gt_spawn_opts){.scheduler = 1}, &p));
    for (int i = 0; i < NSOCK; i++)
        ASSERT_OK(gt_controlling_process(c.socks[i], p));
    h_post_int(p, H_TAG_GO, 0);
    h_post_int(p, H_TAG_GO + 1, port);
    for (int i = 0; i < NSOCK; i++) {
        ASSERT_EQ(h_raw_wait_eof(fds[i]), 0);
        close(fds[i]);
    }
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < NSOCK; i++) {
            int a = h_raw_accept(lfd);
            char got;
            h_raw_read_exact(a, &got, 1);
            ASSERT_EQ(got, 'a' + i);
            ASSERT_EQ(h_raw_wait_eof(a), 0);
            close(a);
        }
    ASSERT_OK(h_wait_int(1, 2 * H_WAIT));
    close(lfd);
}

/* ---- epoll adds of a pass's accepts: one io_uring_enter (acc12) ---- */

struct acceptor_job {
    gt_socket l;
    int n;
    gt_pid parent, hand_to; /* hand_to: the accepted sockets' next owner */
    unsigned long long e0;  /* io_uring_enter calls before the accepts */
};

/* Accepts n connections already queued (no wait between them: one run),
 * then takes one packet from each (active: the peers wrote before the
 * accept, so only the add's own report of the readiness brings it). */
static void accept_each(void *arg)
{
    struct acceptor_job *j = arg;
    gt_socket s[NSOCK];
    int rc = 0, got = 0;
    for (int i = 0; i < j->n && rc == 0; i++)
        rc = gt_accept(j->l, H_WAIT, &s[i]);
    if (rc == 0 && j->hand_to.id) { /* moved before the pass ends */
        unsigned long long c0 = gt__io_ctl_calls_here(); /* no wait: one thread */
        for (int i = 0; i < j->n && rc == 0; i++)
            rc = gt_controlling_process(s[i], j->hand_to);
        /* the epoll_ctl calls of the moves */
        h_post_int(j->parent, 5, (int)(gt__io_ctl_calls_here() - c0));
        h_post_int(j->parent, 1, rc);
        return;
    }
    for (int i = 0; i < j->n && rc == 0; i++) {
        gt_msg *m;
        if ((rc = gt_receive_match(gt_match_socket, &s[i], H_WAIT, &m)) == 0) {
            got += m->kind == GT_MSG_TCP && m->len == 1;
            gt_msg_free(m);
        }
    }
    /* the enters so far: the adds' (their packets are in); not the
     * closes' below, made when this run ends */
    h_post_int(j->parent, 4, (int)(gt__uring_enters_total() - j->e0));
    for (int i = 0; i < j->n; i++)
        gt_close(s[i]);
    h_post_int(j->parent, 1, rc ? rc : got);
}

static gt_socket queued_peers(int *fds)
{
    gt_socket l = h_listen(GT_OPTS(GT_ACTIVE_TRUE, GT_PACKET(1), GT_BACKLOG(64)));
    for (int i = 0; i < NSOCK; i++) {
        fds[i] = h_raw_connect(h_port(l));
        ASSERT_EQ(write(fds[i], "\1x", 2), 2);
    }
    h_msleep(H_SETTLE); /* every connection queued, its packet in */
    return l;
}

/* NSOCK accepts in one run of a process on a scheduler: their epoll adds
 * go out in one io_uring_enter (fails without the add batch: NSOCK
 * epoll_ctl calls, no enter), and each socket still hears the packet
 * that had arrived before its add. */
GT_TEST(batch_adds_of_a_pass_in_one_enter)
{
    int fds[NSOCK];
    struct acceptor_job j = {.n = NSOCK, .parent = gt_self()};
    j.l = queued_peers(fds);
    j.e0 = gt__uring_enters_total();
    ASSERT_OK(gt_spawn(accept_each, &j, &(gt_spawn_opts){.scheduler = 1}, NULL));
    int enters = h_wait_int(4, H_WAIT);
    if (h_uring_reads_expected())
        ASSERT(enters >= 1); /* the packets' reads may take their own (exact:
                                batch_adds_counted_with_reads_off) */
    else
        ASSERT_EQ(enters, h_uring_expected() ? 1 : 0);
    ASSERT_EQ(h_wait_int(1, H_WAIT), NSOCK);
    for (int i = 0; i < NSOCK; i++) {
        ASSERT_EQ(h_raw_wait_eof(fds[i]), 0);
        close(fds[i]);
    }
    gt_close(j.l);
}

/* Accepted, then handed to a process on another scheduler before the
 * acceptor's pass ends: the socket is watched at its new home (the move
 * made the add), and its events reach the new owner there. */
static int take_packets(int n)
{
    int got = 0, rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        gt_msg *m;
        if ((rc = gt_receive(H_WAIT, &m)) == 0) {
            got += m->kind == GT_MSG_TCP && m->len == 1;
            gt_msg_free(m);
        }
    }
    return rc ? rc : got;
}

static void take_one_each(void *arg)
{
    struct acceptor_job *j = arg;
    h_post_int(j->parent, 2, take_packets(j->n));
    h_post_int(j->parent, 3, take_packets(j->n)); /* then its exit closes them */
}

/* Each move makes one epoll_ctl when the adds are batched: the ADD at the
 * socket's new home, and no DEL at the old one, where its add had not
 * been made yet (fails without that: 2 * NSOCK); with the adds made at
 * once (batch off), each move makes that ADD and a DEL. */
GT_TEST(batch_add_then_moved_in_the_same_pass)
{
    if (gt_schedulers() < 2)
        gt_test_skip("one scheduler");
    int fds[NSOCK];
    struct acceptor_job j = {.n = NSOCK, .parent = gt_self()};
    j.l = queued_peers(fds);
    ASSERT_OK(gt_spawn(take_one_each, &j, &(gt_spawn_opts){.scheduler = 2}, &j.hand_to));
    ASSERT_OK(gt_spawn(accept_each, &j, &(gt_spawn_opts){.scheduler = 1}, NULL));
    ASSERT_EQ(h_wait_int(5, H_WAIT), h_uring_expected() ? NSOCK : 2 * NSOCK);
    ASSERT_OK(h_wait_int(1, H_WAIT));
    ASSERT_EQ(h_wait_int(2, H_WAIT), NSOCK);
    for (int i = 0; i < NSOCK; i++) /* still watched, after the pass too */
        ASSERT_EQ(write(fds[i], "\1y", 2), 2);
    ASSERT_EQ(h_wait_int(3, H_WAIT), NSOCK);
    for (int i = 0; i < NSOCK; i++) {
        ASSERT_EQ(h_raw_wait_eof(fds[i]), 0);
        close(fds[i]);
    }
    gt_close(j.l);
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

/* batch_adds_of_a_pass_in_one_enter's exact count: with the batched reads
 * off, the adds' enter is the only one before every packet is in. */
GT_TEST(batch_adds_counted_with_reads_off)
{
    static const char *const tests[] = {"batch_adds_of_a_pass_in_one_enter", NULL};
    h_rerun_with_off("uring_test", "GT_IO_URING_READS", tests);
}

/* The same tests with the batch off: GT_IO_URING=0, the writev fallback
 * (io_uring_setup failing takes the same path). */
GT_TEST(uring_off_runs_the_same_tests)
{
    static const char *const tests[] = {
        "batch_one_enter_for_a_pass", "order_small_and_large_across_sockets",
        "send_then_close_delivers", "send_then_abortive_close_delivers", "send_then_exit_delivers",
        "reset_peer_error_reported_by_a_send", "full_buffer_then_everything_delivered",
        "batch_write_failure_reported_by_the_next_call", "batch_closes_of_a_pass_in_one_enter",
        "batch_close_then_new_sockets_in_one_run", "batch_adds_of_a_pass_in_one_enter",
        "batch_add_then_moved_in_the_same_pass", NULL};
    h_rerun_with_off("uring_test", "GT_IO_URING", tests);
}
