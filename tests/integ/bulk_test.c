/*
 * bulk_test.c -- big frames on the input side (issue 11 item 3): {packet,4}
 * frames of 64 KiB are read into the socket's buffer and leave in it as
 * the message, uncopied, intact and in order, holding about the frame's
 * size; small frames are still copied out of the read buffer (the witness
 * works).
 */
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "helpers.h"
#include "h_probe.h"
#include "socket/sock.h" /* gt__sock_read_hook */

enum { NFRAMES = 8, BODY = 64 * 1024 };

static uint8_t byte_at(int frame, size_t i) { return (uint8_t)(frame * 31 + i * 7 + (i >> 9)); }

typedef struct writer {
    int fd, nframes;
    size_t body;
} writer;

/* Fails unless m is a {tcp, S, Data} holding frame k's body of body bytes. */
static void check_frame(const gt_msg *m, int k, size_t body)
{
    ASSERT_EQ(m->kind, GT_MSG_TCP);
    ASSERT_EQ(m->len, body);
    for (size_t i = 0; i < body; i++)
        if (m->data[i] != byte_at(k, i))
            gt_test_fail(__FILE__, __LINE__, "frame %d byte %zu: %u, want %u", k, i, m->data[i],
                         byte_at(k, i));
}

/* Writes the frames with plain blocking writes, as a bulk peer does. */
static void *write_frames(void *arg)
{
    writer *w = arg;
    static uint8_t f[4 + BODY];
    for (int k = 0; k < w->nframes; k++) {
        f[0] = (uint8_t)(w->body >> 24);
        f[1] = (uint8_t)(w->body >> 16);
        f[2] = (uint8_t)(w->body >> 8);
        f[3] = (uint8_t)w->body;
        for (size_t i = 0; i < w->body; i++)
            f[4 + i] = byte_at(k, i);
        h_raw_write(w->fd, f, 4 + w->body);
    }
    return NULL;
}

/* Receives nframes frames of body bytes on an active socket; returns the
 * payload bytes copied out of read buffers meanwhile. */
static uint64_t echo_frames(int nframes, size_t body)
{
    int fd;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_TRUE, GT_PACKET(4)), &fd);
    uint64_t copied = gt__sock_copied_total();
    writer w = {fd, nframes, body};
    pthread_t t;
    ASSERT(pthread_create(&t, NULL, write_frames, &w) == 0);
    for (int k = 0; k < nframes; k++) {
        gt_msg *m = NULL;
        ASSERT_OK(gt_receive_match(gt_match_socket, &s, H_WAIT, &m));
        check_frame(m, k, body);
        /* a message that kept its read buffer holds about its frame, not
         * a power of two above it */
        void *block = gt__envelope_of(m)->block;
        if (block && malloc_usable_size(block) > 4 + body + 4096)
            gt_test_fail(__FILE__, __LINE__, "frame %d: %zu bytes held for %zu", k,
                         malloc_usable_size(block), body);
        gt_msg_free(m);
    }
    pthread_join(t, NULL);
    uint64_t d = gt__sock_copied_total() - copied;
    gt_close(s);
    close(fd);
    return d;
}

/* Only the start of the first frame, read into the scheduler's scratch
 * buffer before its size was known, is copied (at most one scratch read);
 * after it, every frame is read into the socket's buffer, sized from the
 * last one, and that buffer becomes the message. */
GT_TEST(i11_bulk_big_frames_go_from_the_kernel_to_the_message)
{
    uint64_t copied = echo_frames(NFRAMES, BODY);
    if (copied > 64 * 1024)
        gt_test_fail(__FILE__, __LINE__, "%llu bytes copied for %d frames of %d",
                     (unsigned long long)copied, NFRAMES, BODY);
}

GT_TEST(i11_bulk_small_frames_are_copied)
{
    ASSERT_EQ(echo_frames(4, 100), 4 * 100);
}

static atomic_int reads;
static void count_read(void) { atomic_fetch_add(&reads, 1); }

/* Writes one frame of body bytes (frame k's bytes) with a plain write. */
static void write_one(int fd, int k, size_t body)
{
    static uint8_t f[4 + BODY];
    f[0] = (uint8_t)(body >> 24);
    f[1] = (uint8_t)(body >> 16);
    f[2] = (uint8_t)(body >> 8);
    f[3] = (uint8_t)body;
    for (size_t i = 0; i < body; i++)
        f[4 + i] = byte_at(k, i);
    h_raw_write(fd, f, 4 + body);
}

/* move15: a peer that trickles big frames, one at a time, each read
 * alone: the blocks a readv did not reach are kept for the next one
 * (util/buf.c's spares), not freed and allocated again; each frame costs
 * about one new block, the one its message keeps (fails without the
 * spares: 16 allocations a frame).  Every frame whole and uncopied. */
GT_TEST(i11_bulk_trickled_frames_reuse_blocks)
{
    enum { N = 8 };
    int fd;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_ACTIVE_TRUE, GT_PACKET(4)), &fd);
    gt_msg *m = NULL;
    write_one(fd, 99, BODY); /* a first frame: its size is the guess */
    ASSERT_OK(gt_receive_match(gt_match_socket, &s, H_WAIT, &m));
    gt_msg_free(m);
    write_one(fd, 98, BODY); /* the spares' first fill */
    ASSERT_OK(gt_receive_match(gt_match_socket, &s, H_WAIT, &m));
    gt_msg_free(m);
    uint64_t a0 = gt__buf_allocs_total();
    for (int k = 0; k < N; k++) {
        write_one(fd, k, BODY);
        ASSERT_OK(gt_receive_match(gt_match_socket, &s, H_WAIT, &m));
        check_frame(m, k, BODY);
        if (!gt__envelope_of(m)->block)
            gt_test_fail(__FILE__, __LINE__, "frame %d was copied", k);
        gt_msg_free(m);
    }
    uint64_t allocs = gt__buf_allocs_total() - a0;
    if (allocs > 2 * N)
        gt_test_fail(__FILE__, __LINE__, "%llu allocations for %d frames read one at a time",
                     (unsigned long long)allocs, N);
    gt_close(s);
    close(fd);
}

/* issue 11 (bulk): frames of the last big frame's size waiting in the
 * kernel are read with one readv, each into a block of its own, and each
 * still leaves uncopied as its message: 8 queued frames cost one read
 * (the delivery's hook runs before each read; the scheduler's event may
 * add one that finds nothing), where a read per frame made 8.  A frame of
 * another size behind them (its start read into the ninth block) and a
 * small one follow whole and in order. */
GT_TEST(i11_bulk_queued_frames_one_read)
{
    enum { B1 = 40 * 1024, B2 = 50 * 1024, B3 = 100, N = 8 };
    int fd;
    gt_socket s =
        h_raw_peer_server(GT_OPTS(GT_ACTIVE_TRUE, GT_PACKET(4), GT_RECBUF(4 << 20)), &fd);
    gt_msg *m = NULL;
    write_one(fd, 99, B1); /* a first frame: its size is the guess */
    ASSERT_OK(gt_receive_match(gt_match_socket, &s, H_WAIT, &m));
    ASSERT_EQ(m->len, B1);
    gt_msg_free(m);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_FALSE)));
    size_t wire = 0;
    for (int k = 0; k < N; k++, wire += 4 + B1)
        write_one(fd, k, B1);
    write_one(fd, N, B2);
    write_one(fd, N + 1, B3);
    wire += 4 + B2 + 4 + B3;
    int64_t end = h_now_ms() + H_WAIT;
    while (h_sock_inq(s) < wire && h_now_ms() < end)
        usleep(1000);
    if (h_sock_inq(s) < wire)
        SKIP("the kernel did not queue the frames (receive buffer too small)");
    atomic_store(&reads, 0);
    atomic_store(&gt__sock_read_hook, count_read);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_TRUE)));
    for (int k = 0; k < N + 2; k++) {
        size_t body = k < N ? B1 : k == N ? B2 : B3;
        ASSERT_OK(gt_receive_match(gt_match_socket, &s, H_WAIT, &m));
        check_frame(m, k, body);
        void *block = gt__envelope_of(m)->block;
        if (k < N && !block) /* the frame's own block, adopted */
            gt_test_fail(__FILE__, __LINE__, "frame %d was copied", k);
        if (k < N && malloc_usable_size(block) > 4 + body + 4096)
            gt_test_fail(__FILE__, __LINE__, "frame %d: %zu bytes held for %zu", k,
                         malloc_usable_size(block), body);
        gt_msg_free(m);
    }
    atomic_store(&gt__sock_read_hook, NULL);
    int r = atomic_load(&reads);
    if (r > 2)
        gt_test_fail(__FILE__, __LINE__, "%d reads for %d queued frames", r, N + 2);
    gt_close(s);
    close(fd);
}

/* issue 11 (bulk): a readv that ended inside a frame left its start in
 * the input; the next delivery reads the rest of that frame and the frames
 * queued behind it with one readv (the rest into the input's room, each
 * frame behind into a block of its own, uncopied).  The socket backend
 * counts reads in getstat's recv_cnt (each read that brought bytes): 1
 * for the rest and 3 frames, where a read for the rest and a readv for
 * the frames made 2. */
GT_TEST(i11_bulk_frame_rest_and_queued_frames_one_read)
{
    enum { B1 = 40 * 1024, HALF = 20000, N = 3 };
    gt_socket l;
    ASSERT_OK(gt_listen(0,
                        GT_OPTS(GT_INET_BACKEND(GT_BACKEND_SOCKET), GT_IP("127.0.0.1"),
                                GT_ACTIVE_TRUE, GT_PACKET(4), GT_RECBUF(4 << 20)),
                        &l));
    int fd = h_raw_connect(h_port(l));
    gt_socket s = h_accept(l);
    gt_close(l);
    gt_msg *m = NULL;
    write_one(fd, 99, B1); /* a first frame: its size is the guess */
    ASSERT_OK(gt_receive_match(gt_match_socket, &s, H_WAIT, &m));
    ASSERT_EQ(m->len, B1);
    gt_msg_free(m);
    /* the start of frame 0, read by the delivery: it stays in the input */
    static uint8_t f[N + 1][4 + B1];
    for (int k = 0; k <= N; k++) {
        f[k][1] = (uint8_t)(B1 >> 16);
        f[k][2] = (uint8_t)(B1 >> 8);
        f[k][3] = (uint8_t)B1;
        for (size_t i = 0; i < B1; i++)
            f[k][4 + i] = byte_at(k, i);
    }
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_FALSE)));
    h_raw_write(fd, f[0], HALF);
    int64_t end = h_now_ms() + H_WAIT;
    while (h_sock_inq(s) < HALF && h_now_ms() < end)
        usleep(1000);
    ASSERT_EQ(h_sock_inq(s), HALF);
    /* read at once if the scheduler took the edge already, else when it
     * does */
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_TRUE)));
    end = h_now_ms() + H_WAIT;
    while (h_sock_inq(s) > 0 && h_now_ms() < end)
        usleep(1000);
    ASSERT_EQ(h_sock_inq(s), 0);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_FALSE)));
    /* the rest of frame 0 and N frames, all in the kernel before a read */
    h_raw_write(fd, f[0] + HALF, 4 + B1 - HALF);
    for (int k = 1; k <= N; k++)
        h_raw_write(fd, f[k], 4 + B1);
    size_t wire = 4 + B1 - HALF + (size_t)N * (4 + B1);
    end = h_now_ms() + H_WAIT;
    while (h_sock_inq(s) < wire && h_now_ms() < end)
        usleep(1000);
    if (h_sock_inq(s) < wire)
        SKIP("the kernel did not queue the frames (receive buffer too small)");
    gt_stats st0, st1;
    ASSERT_OK(gt_getstat(s, &st0));
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_TRUE)));
    for (int k = 0; k <= N; k++) {
        ASSERT_OK(gt_receive_match(gt_match_socket, &s, H_WAIT, &m));
        ASSERT_EQ(m->kind, GT_MSG_TCP);
        ASSERT_EQ(m->len, B1);
        ASSERT_MEM(m->data, B1, f[k] + 4, B1);
        if (!gt__envelope_of(m)->block) /* the frame's own block, adopted */
            gt_test_fail(__FILE__, __LINE__, "frame %d was copied", k);
        gt_msg_free(m);
    }
    ASSERT_OK(gt_getstat(s, &st1));
    ASSERT_EQ(st1.recv_oct - st0.recv_oct, wire);
    ASSERT_EQ(st1.recv_cnt - st0.recv_cnt, 1);
    gt_close(s);
    close(fd);
}
