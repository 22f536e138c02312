/*
 * send_test.c -- the send side (docs/spec/semantics.md §4, rules 31-34, 36, 37, 39)
 * and gentcp's gt_send_many, against a raw BSD-socket peer whose reading
 * the test controls.
 */
#include <stdatomic.h>
#include <sys/socket.h>

#include "h_uring.h"
#include "helpers.h"
#include "util/buf.h"

/* Reads exactly n bytes from fd (bounded by a poll timeout). */
static void read_all(int fd, void *buf, size_t n) { h_raw_read_exact(fd, buf, n); }

/* gt_send_many: each iovec is one packet, framed on its own. */
GT_TEST(send_many_frames_each_packet)
{
    int fd;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(2)), &fd);
    struct iovec p[3] = {{"ab", 2}, {"", 0}, {"cde", 3}};
    int sent = -1;
    ASSERT_OK(gt_send_many(s, p, 3, &sent));
    ASSERT_EQ(sent, 3);
    char buf[11];
    read_all(fd, buf, sizeof buf);
    ASSERT(memcmp(buf, "\0\2ab\0\0\0\3cde", 11) == 0);
    close(fd);
}

/* gt_send_many stops at a packet too long for its header; the ones before
 * it are sent, the stream stays in sync. */
GT_TEST(send_many_stops_at_emsgsize)
{
    int fd;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(1)), &fd);
    static char big[300];
    struct iovec p[3] = {{"x", 1}, {big, sizeof big}, {"y", 1}};
    int sent = -1;
    ASSERT_ERR(gt_send_many(s, p, 3, &sent), -EMSGSIZE);
    ASSERT_EQ(sent, 1);
    ASSERT_OK(gt_send(s, "z", 1));
    char buf[4];
    read_all(fd, buf, sizeof buf);
    ASSERT(memcmp(buf, "\1x\1z", 4) == 0);
    close(fd);
}

/* rule 31: send returns ok at once though the peer reads nothing; what the
 * kernel does not take is queued and delivered later. */
GT_TEST(r31_send_queues_without_blocking)
{
    int fd;
    gt_socket s = h_raw_peer_server(
        GT_OPTS(GT_ACTIVE_FALSE, GT_SNDBUF(16384), GT_HIGH_WATERMARK(1 << 30)), &fd);
    static char data[300000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (char)(i * 13);
    ASSERT_OK(gt_send(s, data, sizeof data));
    static char back[sizeof data];
    read_all(fd, back, sizeof back);
    ASSERT(memcmp(back, data, sizeof data) == 0);
    close(fd);
}

/* rule 33: over the high watermark a send waits; send_timeout ends the
 * wait with timeout, and the data of that send stays queued (it still
 * arrives once the peer reads). */
GT_TEST(r33_send_timeout_keeps_data_queued)
{
    int fd;
    gt_socket s = h_raw_peer_server(
        GT_OPTS(GT_ACTIVE_FALSE, GT_SNDBUF(16384), GT_SEND_TIMEOUT(100)), &fd);
    int sz = 16384;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    static char block[65536];
    memset(block, 'b', sizeof block);
    int rc = 0, n = 0;
    while (n < 200 && (rc = gt_send(s, block, sizeof block)) == 0)
        n++;
    ASSERT_ERR(rc, GT_ETIMEOUT);
    size_t want = (size_t)(n + 1) * sizeof block; /* the timed-out one too */
    size_t got = 0;
    char buf[65536];
    while (got < want) {
        ssize_t r = read(fd, buf, sizeof buf);
        ASSERT(r > 0);
        got += (size_t)r;
    }
    ASSERT_EQ(got, want);
    close(fd);
}

/* rule 34: with send_timeout_close the socket is closed by the timeout;
 * afterwards send and recv report enotconn [inet]. */
GT_TEST(r34_send_timeout_close)
{
    int fd;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_SNDBUF(16384),
                                            GT_SEND_TIMEOUT(100), GT_SEND_TIMEOUT_CLOSE(true)),
                                    &fd);
    static char block[65536];
    int rc = 0;
    for (int n = 0; n < 200 && (rc = gt_send(s, block, sizeof block)) == 0; n++) {
    }
    ASSERT_ERR(rc, GT_ETIMEOUT);
    ASSERT_ERR(gt_send(s, "x", 1), -ENOTCONN);
    gt_msg *m;
    ASSERT_ERR(gt_recv(s, 0, 100, &m), -ENOTCONN);
    close(fd);
}

/* rule 37: an empty raw send puts nothing on the wire; an empty
 * {packet,2} send is a zero-length frame. */
GT_TEST(r37_empty_sends)
{
    int fd;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE), &fd);
    ASSERT_OK(gt_send(s, "", 0));
    ASSERT_OK(gt_send(s, "r", 1));
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_PACKET(2))));
    ASSERT_OK(gt_send(s, "", 0));
    char buf[3];
    read_all(fd, buf, sizeof buf);
    ASSERT(memcmp(buf, "r\0\0", 3) == 0);
    close(fd);
}

/* rule 39: delay_send gathers the sends a process makes before it yields
 * and writes them together on the next scheduler pass.  Loopback delivers
 * inside the sender's system call, so right after the sends -- before the
 * process yields -- the peer sees nothing with delay_send, and the data at
 * once without it.  Small sends (up to 4 KiB) without delay_send wait for
 * the end of the pass as well when the end-of-pass batch is on
 * (docs/DEVIATIONS.md row 24; since send16 all of a run's, not every
 * other one); bigger ones are written at the call. */
#include <poll.h>

#define R39_BIG 5000 /* beyond the batch's 4 KiB: written at the call */

typedef struct three_job {
    gt_socket s;
    int peer_fd;
    size_t len; /* of each send */
    gt_pid parent;
} three_job;

static void three_sends(void *arg)
{
    three_job *j = arg;
    static char bufs[3][R39_BIG];
    for (int i = 0; i < 3; i++)
        memset(bufs[i], 'a' + i, j->len);
    h_wait_int(H_TAG_GO, H_WAIT); /* owner now: the socket is homed here */
    for (int i = 0; i < 3; i++)
        gt_send(j->s, bufs[i], j->len);
    struct pollfd pf = {.fd = j->peer_fd, .events = POLLIN};
    h_post_int(j->parent, H_TAG_DONE, poll(&pf, 1, 0)); /* 1: already there */
}

static void delay_send_case(bool delay, size_t len, int want_visible)
{
    int fd;
    static three_job j;
    /* (a high watermark the big sends do not reach: busy, the sender
     * would wait, and its wait flush the gathered sends) */
    j.s = h_raw_peer_server(
        GT_OPTS(GT_ACTIVE_FALSE, GT_DELAY_SEND(delay), GT_HIGH_WATERMARK(1 << 20)), &fd);
    j.peer_fd = fd;
    j.len = len;
    j.parent = gt_self();
    gt_pid pid = h_spawn(three_sends, &j);
    ASSERT_OK(gt_controlling_process(j.s, pid));
    h_post_int(pid, H_TAG_GO, 0);
    ASSERT_EQ(h_wait_int(H_TAG_DONE, H_WAIT), want_visible);
    static char buf[3 * R39_BIG];
    read_all(fd, buf, 3 * len); /* and then it all arrives, in order */
    for (size_t i = 0; i < 3 * len; i++)
        ASSERT_EQ(buf[i], 'a' + (int)(i / len));
    close(fd);
}

GT_TEST(r39_delay_send_waits_for_the_yield)
{
    delay_send_case(true, 1, 0);
    delay_send_case(true, R39_BIG, 0);
}

GT_TEST(r39_without_delay_send_data_leaves_at_once)
{
    delay_send_case(false, R39_BIG, 1);
    delay_send_case(false, 1, h_uring_expected() ? 0 : 1);
}

/* rule 39 with the sender on another scheduler than the socket's home (the
 * owner's): the gathered sends still wait for the sender to yield.  The
 * home is idle meanwhile and would run a flush queued there at once, while
 * the sender, which never yields during its window, still looks. */
typedef struct apart_job {
    gt_socket s;
    int peer_fd;
    gt_pid parent;
} apart_job;

static void home_owner(void *arg)
{
    (void)arg;
    h_wait_int(H_TAG_GO, H_WAIT); /* parked on its scheduler until the end */
}

static void sender_apart(void *arg)
{
    apart_job *j = arg;
    gt_send(j->s, "a", 1);
    gt_send(j->s, "b", 1);
    gt_send(j->s, "c", 1);
    int seen = 0;
    int64_t end = h_now_ms() + 50; /* holds its scheduler for 50 ms */
    for (int n = 0; n < 1000000 && h_now_ms() < end && !seen; n++) {
        struct pollfd pf = {.fd = j->peer_fd, .events = POLLIN};
        seen = poll(&pf, 1, 0);
    }
    h_post_int(j->parent, H_TAG_DONE, seen);
}

GT_TEST(r39_delay_send_waits_for_a_sender_off_the_home_scheduler)
{
    if (gt_schedulers() < 2)
        SKIP("one scheduler: the sender cannot be off its socket's home");
    int fd;
    static apart_job j;
    j.s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_DELAY_SEND(true)), &fd);
    j.peer_fd = fd;
    j.parent = gt_self();
    gt_pid owner, sender;
    ASSERT_OK(gt_spawn(home_owner, NULL, &(gt_spawn_opts){.scheduler = 2}, &owner));
    ASSERT_OK(gt_controlling_process(j.s, owner)); /* homed on scheduler 2 */
    ASSERT_OK(gt_spawn(sender_apart, &j, &(gt_spawn_opts){.scheduler = 1}, &sender));
    ASSERT_EQ(h_wait_int(H_TAG_DONE, H_WAIT), 0);
    char buf[3];
    read_all(fd, buf, sizeof buf); /* written once the sender ended */
    ASSERT(memcmp(buf, "abc", 3) == 0);
    h_post_int(owner, H_TAG_GO, 0);
    h_wait_dead(owner);
    close(fd);
}

/* rule 32: a send that takes the queue over high_watermark blocks until
 * the queue drains to low_watermark; then it returns ok. */
typedef struct busy_job {
    gt_socket s;
    gt_pid parent;
} busy_job;

static void busy_sender(void *arg)
{
    busy_job *j = arg;
    static char block[65536];
    int rc = 0;
    for (int n = 0; n < 64 && rc == 0; n++)
        rc = gt_send(j->s, block, sizeof block); /* blocks once busy */
    h_post_int(j->parent, H_TAG_DONE, rc);
}

GT_TEST(r32_busy_send_waits_for_low_watermark)
{
    int fd;
    static busy_job j;
    j.s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_SNDBUF(16384),
                                    GT_HIGH_WATERMARK(100000), GT_LOW_WATERMARK(50000)),
                            &fd);
    j.parent = gt_self();
    h_spawn(busy_sender, &j);
    /* the peer reads nothing: the sender must be stuck in a send */
    gt_msg *m;
    int tag = H_TAG_DONE;
    ASSERT_ERR(gt_receive_match(h_match_tag, &tag, 300, &m), GT_ETIMEOUT);
    /* draining the peer releases it, and everything arrives */
    size_t got = 0, want = 64u * 65536;
    char buf[65536];
    while (got < want) {
        ssize_t r = read(fd, buf, sizeof buf);
        ASSERT(r > 0);
        got += (size_t)r;
    }
    ASSERT_OK(h_wait_int(H_TAG_DONE, H_WAIT));
    close(fd);
}

/* issue 11: gt_send_many hands a large packet to the kernel from the
 * caller's memory when the socket takes it at once: no queue buffer is
 * allocated and no byte is copied into one (a bulk echo used to copy every
 * frame into the queue, then write it). */
GT_TEST(i11_send_many_large_packets_skip_the_queue)
{
    int fd;
    gt_socket s = h_raw_peer_server(
        GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(4), GT_SNDBUF(1 << 20)), &fd);
    enum { BODY = 48 * 1024 };
    static uint8_t body[2][BODY];
    for (int p = 0; p < 2; p++)
        for (size_t i = 0; i < BODY; i++)
            body[p][i] = (uint8_t)(p * 7 + i);
    if (h_geti(s, GT_OPT_SNDBUF) < 4 * BODY)
        SKIP("the kernel's wmem_max keeps SO_SNDBUF below two packets");
    struct iovec pk[2] = {{body[0], BODY}, {body[1], BODY}};
    uint64_t allocs = gt__buf_allocs_total();
    int sent = -1;
    ASSERT_OK(gt_send_many(s, pk, 2, &sent));
    ASSERT_EQ(sent, 2);
    ASSERT_EQ(gt__buf_allocs_total(), allocs);
    static uint8_t got[2 * (4 + BODY)];
    read_all(fd, got, sizeof got);
    for (int p = 0; p < 2; p++) {
        const uint8_t *f = got + p * (4 + BODY);
        ASSERT_EQ(((uint32_t)f[1] << 16) | ((uint32_t)f[2] << 8) | f[3], BODY);
        ASSERT_MEM(f + 4, BODY, body[p], BODY);
    }
    close(fd);
}

/* A pass-through transport that counts its writes (plain TCP below). */
static atomic_int n_writes;
static ssize_t count_sendv(void *ctx, int fd, const struct iovec *iov, int n)
{
    atomic_fetch_add(&n_writes, 1);
    return gt_tcp_transport.sendv(ctx, fd, iov, n);
}
static const gt_transport count_tp = {.name = "count", .recv = NULL, .sendv = count_sendv};

/* issue 11 (bulk): gt_send_many's big packets, and every packet after the
 * first big one, go out in one writev behind what the queue holds (here
 * the small packet before the first big one): a bulk echo wrote each
 * 64 KiB frame with a sendmsg of its own, and each frame's 57 bytes over
 * loopback's MSS made a segment of their own.  Whole and in order, the
 * bytes of the small packet before the run the only ones queued.  Then a
 * run longer than one writev takes (DIRECT_RUN: two writes) and one the
 * kernel takes only part of: the rest is queued, in order, flushed as the
 * peer reads. */
GT_TEST(i11_send_many_big_packets_one_write)
{
    enum { BODY = 40 * 1024, N = 7, LONG = 80 };
    static const size_t len[N] = {100, BODY, BODY, 10, BODY, BODY + 1, 0};
    static uint8_t body[N][BODY + 1];
    static uint8_t got[N * (4 + BODY + 1)];
    for (int p = 0; p < N; p++)
        for (size_t i = 0; i < BODY + 1; i++)
            body[p][i] = (uint8_t)(p * 31 + i * 7);
    gt_transport tp = count_tp;
    tp.recv = gt_tcp_transport.recv;
    tp.shutdown = gt_tcp_transport.shutdown;
    int fd;
    gt_socket s = h_raw_peer_server(
        GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(4), GT_SNDBUF(4 << 20), GT_TCP_MODULE(&tp)), &fd);
    if (h_geti(s, GT_OPT_SNDBUF) < 8 * BODY)
        SKIP("the kernel's wmem_max keeps SO_SNDBUF below the run");
    struct iovec pk[N];
    size_t wire = 0;
    for (int p = 0; p < N; p++) {
        pk[p] = (struct iovec){body[p], len[p]};
        wire += 4 + len[p];
    }
    atomic_store(&n_writes, 0);
    uint64_t appended = gt__buf_appended_here(); /* no wait: same thread */
    int sent = -1;
    ASSERT_OK(gt_send_many(s, pk, N, &sent));
    ASSERT_EQ(sent, N);
    ASSERT_EQ(atomic_load(&n_writes), 1);
    ASSERT_EQ(gt__buf_appended_here() - appended, 4 + len[0]);
    read_all(fd, got, wire);
    const uint8_t *f = got;
    for (int p = 0; p < N; p++) {
        ASSERT_EQ(((uint32_t)f[0] << 24 | (uint32_t)f[1] << 16 | (uint32_t)f[2] << 8 | f[3]), len[p]);
        ASSERT_MEM(f + 4, len[p], body[p], len[p]);
        f += 4 + len[p];
    }
    /* a run longer than one writev holds (DIRECT_RUN, 32): 40 packets,
     * the first big, in two, nothing queued */
    static struct iovec rp[40];
    size_t rwire = 0;
    for (int p = 0; p < 40; p++) {
        rp[p] = (struct iovec){body[p % N], p ? 100 + (size_t)p : BODY};
        rwire += 4 + rp[p].iov_len;
    }
    atomic_store(&n_writes, 0);
    appended = gt__buf_appended_here();
    ASSERT_OK(gt_send_many(s, rp, 40, &sent));
    ASSERT_EQ(sent, 40);
    ASSERT_EQ(atomic_load(&n_writes), 2);
    ASSERT_EQ(gt__buf_appended_here() - appended, 0);
    read_all(fd, got, rwire);
    f = got;
    for (int p = 0; p < 40; p++) {
        ASSERT_EQ(((uint32_t)f[2] << 8 | f[3]), rp[p].iov_len);
        ASSERT_MEM(f + 4, rp[p].iov_len, rp[p].iov_base, rp[p].iov_len);
        f += 4 + rp[p].iov_len;
    }
    /* LONG packets, more than the kernel takes at once (~2 MiB against a
     * 64 KiB send buffer): the rest queued, in order */
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_SNDBUF(64 * 1024))));
    static struct iovec lp[LONG];
    for (int p = 0; p < LONG; p++)
        lp[p] = (struct iovec){body[p % N], p % 3 ? BODY : 1000 + (size_t)p};
    ASSERT_OK(gt_send_many(s, lp, LONG, &sent));
    ASSERT_EQ(sent, LONG);
    static uint8_t one[4 + BODY];
    for (int p = 0; p < LONG; p++) {
        read_all(fd, one, 4 + lp[p].iov_len);
        ASSERT_EQ(((uint32_t)one[1] << 16 | (uint32_t)one[2] << 8 | one[3]), lp[p].iov_len);
        ASSERT_MEM(one + 4, lp[p].iov_len, lp[p].iov_base, lp[p].iov_len);
    }
    ASSERT_OK(gt_send(s, "z", 1)); /* the stream is in sync */
    read_all(fd, one, 5);
    ASSERT_EQ(one[4], 'z');
    gt_close(s);
    close(fd);
}

/* issue 11: a long gt_send_many run of small packets (written into the
 * queue in one go) is framed packet by packet, every header type and size
 * (the empty body and bodies whose length needs a header's high bytes
 * included), counted per packet in getstat, and stopped at the first body
 * too long for its header with the ones before it sent. */
GT_TEST(i11_send_many_long_run_of_mixed_sizes)
{
    enum { N = 600 };
    static uint8_t body[N][300];
    static struct iovec pk[N];
    static uint8_t got[N * (4 + 300)];
    int types[] = {1, 2, 4};
    for (int ti = 0; ti < 3; ti++) {
        int t = types[ti], fd;
        gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(t)), &fd);
        gt_stats st0, st1;
        ASSERT_OK(gt_getstat(s, &st0));
        size_t wire = 0, longest = 0;
        int stop = t == 1 ? 400 : N; /* {packet,1}: body 400 has 257 bytes */
        for (int i = 0; i < N; i++) {
            size_t len = i == 400 ? 257 : (size_t)(i * 37 % (t == 1 ? 256 : 300));
            for (size_t k = 0; k < len; k++)
                body[i][k] = (uint8_t)(i ^ k);
            pk[i] = (struct iovec){body[i], len};
            if (i < stop) {
                wire += (size_t)t + len;
                longest = (size_t)t + len > longest ? (size_t)t + len : longest;
            }
        }
        int sent = -1;
        int rc = gt_send_many(s, pk, N, &sent);
        ASSERT_EQ(rc, t == 1 ? -EMSGSIZE : 0);
        ASSERT_EQ(sent, stop);
        read_all(fd, got, wire);
        const uint8_t *f = got;
        for (int i = 0; i < stop; i++) {
            size_t len = 0;
            for (int k = 0; k < t; k++)
                len = len << 8 | f[k];
            ASSERT_EQ(len, pk[i].iov_len);
            ASSERT_MEM(f + t, len, body[i], len);
            f += (size_t)t + len;
        }
        ASSERT_OK(gt_getstat(s, &st1));
        ASSERT_EQ(st1.send_cnt - st0.send_cnt, (uint64_t)stop);
        ASSERT_EQ(st1.send_oct - st0.send_oct, (uint64_t)wire);
        ASSERT_EQ(st1.send_max, (uint64_t)longest);
        ASSERT_OK(gt_send(s, "z", 1)); /* the stream is in sync */
        uint8_t z[5];
        read_all(fd, z, (size_t)t + 1);
        ASSERT_EQ(z[t], 'z');
        close(fd);
        gt_close(s);
    }
}

/* issue 11 (rr1k): a lone packet that finds the queue empty and the
 * socket writable goes to the kernel from the caller's memory (a small one
 * behind its header, copied on the stack): no byte passes through the
 * queue, whatever the packet type, also an empty {packet,4} packet.  The
 * copy's header is moved as 4 bytes whatever its length (the body
 * overwrites the rest): the 1- and 2-byte headers of copied packets. */
GT_TEST(i11_send_many_lone_packet_skips_the_queue)
{
    static const struct {
        int packet;
        size_t len, hlen;
    } cases[] = {{4, 64, 4}, {2, 1000, 2}, {2, 100, 2}, {1, 255, 1}, {1, 0, 1}, {4, 0, 4},
                 {GT_PKT_RAW, 64, 0}};
    static uint8_t body[1000], got[1004];
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (uint8_t)(i * 13 + 1);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int fd;
        gt_socket s =
            h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(cases[c].packet)), &fd);
        struct iovec pk = {body, cases[c].len};
        int sent = -1;
        uint64_t appended = gt__buf_appended_here(); /* no wait: same thread */
        ASSERT_OK(gt_send_many(s, &pk, 1, &sent));
        ASSERT_EQ(gt__buf_appended_here() - appended, 0);
        ASSERT_EQ(sent, 1);
        size_t n = cases[c].hlen + cases[c].len;
        read_all(fd, got, n);
        for (size_t i = 0; i < cases[c].hlen; i++)
            ASSERT_EQ(got[i], (uint8_t)(cases[c].len >> (8 * (cases[c].hlen - 1 - i))));
        ASSERT_MEM(got + cases[c].hlen, cases[c].len, body, cases[c].len);
        gt_close(s);
        close(fd);
    }
}

/* issue 11 (echo): a run framed in place takes each header's largest body
 * and stops at the next one up, as make_header does for a lone packet:
 * 255 / 256 for {packet,1}, 65535 / 65536 for {packet,2} (the run writes
 * its headers itself, with the type looked up once). */
GT_TEST(i11_send_many_run_stops_one_past_the_header_limit)
{
    static uint8_t body[65536], got[2 + 65535 + 2 + 1];
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (uint8_t)(i * 7 + 3);
    for (int t = 1; t <= 2; t++) {
        size_t max = t == 1 ? 255 : 65535;
        int fd;
        gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(t)), &fd);
        struct iovec pk[3] = {{body, max}, {body, max + 1}, {body, 1}};
        int sent = -1;
        ASSERT_ERR(gt_send_many(s, pk, 3, &sent), -EMSGSIZE);
        ASSERT_EQ(sent, 1);
        ASSERT_OK(gt_send(s, "z", 1)); /* the stream is in sync */
        size_t n = (size_t)t + max + (size_t)t + 1;
        read_all(fd, got, n);
        size_t len = 0;
        for (int k = 0; k < t; k++)
            len = len << 8 | got[k];
        ASSERT_EQ(len, max);
        ASSERT_MEM(got + t, max, body, max);
        ASSERT_EQ(got[n - 1], 'z');
        gt_close(s);
        close(fd);
    }
}
