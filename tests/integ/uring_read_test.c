/*
 * uring_read_test.c -- the scheduler's batched reads (issue 11, rd11;
 * src/runtime/sched.c read_batch, src/socket/socket.c io_read_prep/done,
 * src/socket/recv.c gt__sock_preread): the readable sockets one
 * epoll_wait reports are read with one io_uring_enter, and each socket's
 * delivery frames its slice where it would have read.  What the reads
 * mean must not change: every byte in order, a frame split across the
 * slice and a later read, more than a slice waiting, active once, the
 * peer's FIN or reset.  Every test runs again with the batched reads off
 * (GT_IO_URING_READS=0), see reads_off_runs_the_same_tests.
 *
 * How a batch is made sure of: the sockets' owner is pinned to a
 * scheduler and keeps it busy (no yield) while the test's thread writes
 * to every peer; the scheduler's next epoll_wait then reports them all.
 */
#include <linux/io_uring.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "h_uring.h"
#include "util/uring.h"

#define NS 8
/* M_MANY: more readable sockets than one batch holds (GT__URING_BATCH) */
#define NS_MANY 150
#define NS_MAX NS_MANY
#define BIG_SOCK 0 /* this one gets more than a slice (16 KiB) at once */

enum { M_FRAMES, M_FIN, M_ONCE, M_RST, M_SENDS, M_MANY };

#define NSEND 4 /* M_SENDS: sockets the owner sends on before its batch */

struct rjob {
    int mode;
    int ns; /* sockets: NS, NS_MANY for M_MANY */
    gt_pid parent;
    gt_socket s[NS_MAX];
    int fd[NS_MAX];
    gt_socket out[NSEND]; /* M_SENDS */
    int out_fd[NSEND];
    atomic_int written; /* the test's thread wrote every peer's first part */
    atomic_int counted; /* M_SENDS: the owner has counted the enters */
    unsigned long long enters;
    int bad_line; /* 0, or the line of the first wrong thing seen */
    char what[160];
};

/* Socket i's frame k: its length and its bytes. */
static size_t frame_len(int i, int k) { return i == BIG_SOCK ? 1000 : (size_t)(1 + (k * 13 + i) % 200); }
static uint8_t frame_byte(int i, int k) { return (uint8_t)(i * 37 + k); }
static int frames_of(int i, int mode) { return mode == M_FIN || mode == M_RST ? 2 : i == BIG_SOCK ? 40 : 6; }

/* Writes socket i's frames [k0, k1) to fd; with split, the last frame's
 * second half is left out and returned in rest (written later). */
static void write_frames(int fd, int i, int k0, int k1, bool split, uint8_t *rest, size_t *rest_len)
{
    size_t cap = 0;
    for (int k = k0; k < k1; k++)
        cap += 4 + frame_len(i, k);
    uint8_t *b = malloc(cap);
    ASSERT(b);
    size_t n = 0;
    for (int k = k0; k < k1; k++) {
        size_t len = frame_len(i, k);
        b[n] = 0, b[n + 1] = 0, b[n + 2] = (uint8_t)(len >> 8), b[n + 3] = (uint8_t)len;
        memset(b + n + 4, frame_byte(i, k), len);
        n += 4 + len;
    }
    size_t keep = 0;
    if (split) {
        keep = (4 + frame_len(i, k1 - 1)) / 2 + 2; /* the header's end and part of the body */
        memcpy(rest, b + n - keep, keep);
        *rest_len = keep;
    }
    h_raw_write(fd, b, n - keep);
    free(b);
}

#define CHECK(cond, ...)                                                                 \
    do {                                                                                 \
        if (!(cond) && !j->bad_line) {                                                   \
            j->bad_line = __LINE__;                                                      \
            snprintf(j->what, sizeof j->what, __VA_ARGS__);                              \
        }                                                                                \
    } while (0)

static int sock_index(const struct rjob *j, gt_socket s)
{
    for (int i = 0; i < j->ns; i++)
        if (j->s[i].id == s.id)
            return i;
    return -1;
}

/* The sockets' owner (the test's thread opened them and hands them over:
 * their accepts and the listen sockets' closes are not this scheduler's
 * batch): keeps its scheduler busy until every peer has written, then
 * takes what arrives and checks it. */
static void owner(void *arg)
{
    struct rjob *j = arg;
    h_post_int(j->parent, 1, 0);
    int64_t end = h_now_ms() + 10000;
    while (!atomic_load(&j->written) && h_now_ms() < end)
        ; /* busy: the scheduler polls nothing meanwhile */
    unsigned long long e0 = gt__uring_enters_total();
    /* M_SENDS: sends that wait for the end of this pass (uring_test), by
     * which the peers' frames are readable: the next poll's reads ride in
     * their io_uring_enter */
    for (int i = 0; j->mode == M_SENDS && i < NSEND; i++)
        CHECK(gt_send(j->out[i], "reply", 5) == 0, "send %d", i);
    int next[NS_MAX] = {0};
    bool closed[NS_MAX] = {0}, told = false;
    int want_done = 0;
    end = h_now_ms() + 10000;
    while (want_done < j->ns && h_now_ms() < end && !j->bad_line) {
        gt_msg *m = NULL;
        if (gt_receive(2000, &m) != 0)
            continue;
        if (!told) { /* the batch has been handled: the split frames' rests may come */
            j->enters = gt__uring_enters_total() - e0;
            atomic_store(&j->counted, 1);
            h_post_int(j->parent, 2, 0);
            told = true;
        }
        int i = sock_index(j, m->sock);
        CHECK(i >= 0, "a message of kind %d about an unknown socket", (int)m->kind);
        if (i < 0) {
            gt_msg_free(m);
            continue;
        }
        if (m->kind == GT_MSG_TCP) {
            int k = next[i]++;
            CHECK(k < frames_of(i, j->mode), "socket %d: frame %d, beyond the last", i, k);
            CHECK(m->len == frame_len(i, k), "socket %d frame %d: %zu bytes, not %zu", i, k, m->len,
                  frame_len(i, k));
            for (size_t b = 0; b < m->len && b < frame_len(i, k); b++)
                if (m->data[b] != frame_byte(i, k)) {
                    CHECK(0, "socket %d frame %d: byte %zu is %d", i, k, b, m->data[b]);
                    break;
                }
            if (j->mode == M_ONCE)
                CHECK(gt_setopts(j->s[i], GT_OPTS(GT_ACTIVE_ONCE)) == 0, "setopts");
            if (j->mode != M_FIN && j->mode != M_RST && next[i] == frames_of(i, j->mode))
                want_done++;
        } else if (m->kind == GT_MSG_TCP_CLOSED) {
            CHECK((j->mode == M_FIN || j->mode == M_RST) && !closed[i], "socket %d: tcp_closed", i);
            /* after a reset, what the kernel still held: a prefix */
            CHECK(j->mode == M_RST || next[i] == frames_of(i, j->mode),
                  "socket %d: closed after %d frames", i, next[i]);
            closed[i] = true;
            want_done++;
        } else if (m->kind == GT_MSG_TCP_ERROR && j->mode == M_RST) {
            CHECK(m->reason == -ECONNRESET && !closed[i], "socket %d: tcp_error %d", i, m->reason);
        } else {
            CHECK(0, "socket %d: a message of kind %d (reason %d)", i, (int)m->kind, m->reason);
        }
        gt_msg_free(m);
    }
    CHECK(want_done == j->ns, "%d of %d sockets complete", want_done, j->ns);
    for (int i = 0; i < j->ns; i++)
        gt_close(j->s[i]);
    for (int i = 0; j->mode == M_SENDS && i < NSEND; i++)
        gt_close(j->out[i]);
    h_post_int(j->parent, 3, 0);
}

/* M_SENDS: a neighbour that keeps the owner's scheduler from going idle
 * until the owner has counted, so that the pass's end is always followed
 * by the poll whose reads the sends ride with (an idle scheduler may go
 * straight to its blocking wait, spin.h, and send alone first). */
static void neighbour(void *arg)
{
    struct rjob *j = arg;
    int64_t end = h_now_ms() + 10000;
    while (!atomic_load(&j->counted) && h_now_ms() < end)
        gt_yield();
}

static void run(int mode)
{
    static struct rjob j; /* (the owner reads it until it posts tag 3) */
    memset(&j, 0, sizeof j);
    j.mode = mode;
    j.ns = mode == M_MANY ? NS_MANY : NS;
    j.parent = gt_self();
    gt_optlist lo = mode == M_ONCE ? GT_OPTS(GT_ACTIVE_ONCE, GT_PACKET(4))
                                   : GT_OPTS(GT_ACTIVE_TRUE, GT_PACKET(4));
    for (int i = 0; i < j.ns; i++)
        j.s[i] = h_raw_peer_server(lo, &j.fd[i]);
    for (int i = 0; mode == M_SENDS && i < NSEND; i++)
        j.out[i] = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(4)), &j.out_fd[i]);
    gt_spawn_opts o = {.scheduler = 1};
    gt_pid pid;
    ASSERT_OK(gt_spawn(owner, &j, &o, &pid));
    h_wait_int(1, H_WAIT);
    if (mode == M_SENDS)
        ASSERT_OK(gt_spawn(neighbour, &j, &o, NULL));
    for (int i = 0; i < j.ns; i++)
        ASSERT_OK(gt_controlling_process(j.s[i], pid));
    for (int i = 0; mode == M_SENDS && i < NSEND; i++)
        ASSERT_OK(gt_controlling_process(j.out[i], pid));
    static uint8_t rest[NS_MAX][600];
    size_t rest_len[NS_MAX] = {0};
    for (int i = 0; i < j.ns; i++) {
        bool split = mode != M_FIN && mode != M_RST;
        write_frames(j.fd[i], i, 0, frames_of(i, mode), split, rest[i], &rest_len[i]);
        if (mode == M_FIN)
            ASSERT(shutdown(j.fd[i], SHUT_WR) == 0);
        if (mode == M_RST) {
            h_raw_rst(j.fd[i]);
            j.fd[i] = -1;
        }
    }
    atomic_store(&j.written, 1);
    h_wait_int(2, H_WAIT);
    for (int i = 0; i < j.ns; i++)
        if (rest_len[i])
            h_raw_write(j.fd[i], rest[i], rest_len[i]);
    for (int i = 0; mode == M_SENDS && i < NSEND; i++) {
        uint8_t got[9];
        h_raw_read_exact(j.out_fd[i], got, sizeof got);
        ASSERT(got[3] == 5 && memcmp(got + 4, "reply", 5) == 0);
    }
    h_wait_int(3, 4 * H_WAIT);
    for (int i = 0; mode == M_SENDS && i < NSEND; i++)
        close(j.out_fd[i]);
    for (int i = 0; i < j.ns; i++)
        if (j.fd[i] >= 0)
            close(j.fd[i]);
    if (j.bad_line)
        gt_test_fail(__FILE__, j.bad_line, "%s", j.what);
    /* One enter for the batch (fails without it: every socket's own read,
     * no enter); none with the reads off.  (At least one: a socket that
     * raised its edge late makes a second batch.) */
    if (mode == M_SENDS) {
        /* The pass's sends and the batch's reads in one enter (fails
         * without it: 2, the sends' then the reads'); the sends' alone
         * with the reads off; none with io_uring off.  Exactly: the
         * owner counts before its sends and on its first frame. */
        ASSERT_EQ(j.enters, h_uring_reads_expected() || h_uring_expected() ? 1 : 0);
    } else if (mode == M_MANY && h_uring_reads_expected()) {
        /* 150 readable sockets: three batches (64 + 64 + 22), one enter
         * each (fails with one batch a poll: 1 enter, 86 plain reads) */
        ASSERT(j.enters >= (NS_MANY + GT__URING_BATCH - 1) / GT__URING_BATCH);
    } else if (h_uring_reads_expected()) {
        ASSERT(j.enters >= 1);
    } else {
        ASSERT(j.enters == 0);
    }
}

/* Frames on 8 sockets read in one batch, each one's last frame split
 * (its rest comes later: the slice's tail joins the socket's input), one
 * socket with 40 KB waiting (more than a slice: its delivery reads on). */
GT_TEST(batched_reads_deliver_every_frame_in_order) { run(M_FRAMES); }

/* Two frames then the peer's FIN on each socket: the frames, then
 * tcp_closed, as with plain reads. */
GT_TEST(batched_reads_then_fin) { run(M_FIN); }

/* Two frames then a reset on each socket: the frames the kernel still
 * gives (a prefix, in order), a tcp_error econnreset if reported, then
 * tcp_closed: the batch's recv may be the one that meets the reset. */
GT_TEST(batched_reads_then_reset) { run(M_RST); }

/* {active, once}: one frame per activation; what the slice held beyond it
 * waits in the socket for the next. */
GT_TEST(batched_reads_active_once) { run(M_ONCE); }

/* Frames on 8 sockets while the owner's pass ends with sends on 4 others:
 * one io_uring_enter carries the sends and the reads, every frame and
 * every send arrives. */
GT_TEST(batched_reads_ride_with_the_pass_sends) { run(M_SENDS); }

/* More readable sockets than one batch holds, all reported by one poll:
 * batch after batch, each handled before the next is prepared (their
 * slices are shared), every frame in order (rr13). */
GT_TEST(batched_reads_more_sockets_than_a_batch) { run(M_MANY); }

/* The same tests with the batched reads off (GT_IO_URING_READS=0: each
 * socket's own read). */
GT_TEST(reads_off_runs_the_same_tests)
{
    static const char *const tests[] = {
        "batched_reads_deliver_every_frame_in_order", "batched_reads_then_fin",
        "batched_reads_then_reset", "batched_reads_active_once",
        "batched_reads_ride_with_the_pass_sends", "batched_reads_more_sockets_than_a_batch", NULL};
    h_rerun_with_off("uring_read_test", "GT_IO_URING_READS", tests);
}
