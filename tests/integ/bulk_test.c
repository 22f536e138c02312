/*
 * bulk_test.c -- big frames on the input side (issue 11 item 3): {packet,4}
 * frames of 64 KiB are read into the socket's buffer and leave in it as
 * the message, uncopied, intact and in order, holding about the frame's
 * size; small frames are still copied out of the read buffer (the witness
 * works).
 */
#include <malloc.h>
#include <pthread.h>
#include <sys/socket.h>

#include "helpers.h"
#include "socket/sock.h"

enum { NFRAMES = 8, BODY = 64 * 1024 };

static uint8_t byte_at(int frame, size_t i) { return (uint8_t)(frame * 31 + i * 7 + (i >> 9)); }

typedef struct writer {
    int fd, nframes;
    size_t body;
} writer;

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
        ASSERT_EQ(m->kind, GT_MSG_TCP);
        ASSERT_EQ(m->len, body);
        for (size_t i = 0; i < body; i++)
            if (m->data[i] != byte_at(k, i))
                gt_test_fail(__FILE__, __LINE__, "frame %d byte %zu: %u, want %u", k, i,
                             m->data[i], byte_at(k, i));
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
