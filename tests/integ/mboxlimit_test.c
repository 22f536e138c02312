/*
 * mboxlimit_test.c -- gt_set_mailbox_limit (issue 10 item 3): an active
 * socket whose owner has a full mailbox stops reading, the kernel pushes
 * back on the peer, and the owner's receive lets the bytes flow on, in
 * order, with the active mode's accounting untouched.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "helpers.h"
#include "h_probe.h"
#include "socket/sock.h" /* gt__sock_read_hook */

#define BIG (50u << 20) /* bytes the peer pushes */
#define LIMIT 64

static uint8_t pattern(size_t i) { return (uint8_t)(i * 7 % 251); }

/* VmRSS of this process, kB (0 when unknown). */
static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

static size_t mbox_len(void)
{
    size_t n = 0;
    ASSERT_OK(gt_mailbox_len(gt_self(), &n));
    return n;
}

/* Waits (bounded) until the caller's mailbox holds want messages. */
static void wait_len(int line, size_t want)
{
    for (int i = 0; i < H_WAIT / 10 && mbox_len() != want; i++)
        h_msleep(10);
    if (mbox_len() != want)
        gt_test_fail(__FILE__, line, "mailbox holds %zu messages, want %zu", mbox_len(), want);
}
#define WAIT_LEN(n) wait_len(__LINE__, (n))

typedef struct writer {
    int fd;
    _Atomic size_t sent;
} writer;

/* A plain thread writing BIG bytes of the pattern, blocking when TCP
 * pushes back. */
static void *write_big(void *arg)
{
    writer *w = arg;
    static uint8_t buf[1 << 16];
    size_t off = 0;
    while (off < BIG) {
        size_t n = BIG - off < sizeof buf ? BIG - off : sizeof buf;
        for (size_t i = 0; i < n; i++)
            buf[i] = pattern(off + i);
        ssize_t k = write(w->fd, buf, n);
        if (k <= 0)
            break;
        off += (size_t)k;
        atomic_store(&w->sent, off);
    }
    return NULL;
}

GT_TEST(i10_03_slow_owner_pushes_back_on_the_peer)
{
    int peer = -1;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_BINARY, GT_ACTIVE_TRUE), &peer);
    ASSERT_OK(gt_set_mailbox_limit(LIMIT));
    long rss0 = rss_kb();
    writer w = {.fd = peer};
    pthread_t t;
    ASSERT(pthread_create(&t, NULL, write_big, &w) == 0);
    WAIT_LEN(LIMIT);
    /* the peer is blocked, not done: its bytes wait in the kernel */
    size_t sent = 0;
    for (int i = 0; i < 50 && sent != atomic_load(&w.sent); i++) {
        sent = atomic_load(&w.sent);
        h_msleep(100); /* the behaviour under test: the writer makes no
                          progress for 100 ms */
    }
    ASSERT(atomic_load(&w.sent) < BIG);
    ASSERT_EQ(mbox_len(), LIMIT); /* stays at the limit */
    long grown = rss_kb() - rss0;
    if (rss0 > 0 && grown > 16 * 1024)
        gt_test_fail(__FILE__, __LINE__, "RSS grew by %ld kB while stalled", grown);
    /* receiving resumes the flow: every byte, in order */
    size_t got = 0;
    while (got < BIG) {
        gt_msg *m = NULL;
        int rc = gt_receive(H_WAIT, &m);
        if (rc != 0)
            gt_test_fail(__FILE__, __LINE__, "after %zu bytes: %s", got, gt_err_name(rc));
        ASSERT_EQ(m->kind, GT_MSG_TCP);
        for (size_t i = 0; i < m->len; i++)
            if (m->data[i] != pattern(got + i))
                gt_test_fail(__FILE__, __LINE__, "byte %zu out of order", got + i);
        got += m->len;
        gt_msg_free(m);
        ASSERT(mbox_len() <= LIMIT);
    }
    pthread_join(t, NULL);
    ASSERT_EQ(got, BIG);
    close(peer);
    gt_close(s);
}

/* {active, N}: the count goes down by the packets delivered, not by those
 * held back; tcp_passive comes after the Nth, as without a limit. */
GT_TEST(i10_03_active_n_accounting_unchanged)
{
    int peer = -1;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_BINARY, GT_PACKET(GT_PKT_LINE), GT_ACTIVE_N(10)), &peer);
    ASSERT_OK(gt_set_mailbox_limit(4));
    char line[16];
    for (int i = 0; i < 20; i++) {
        snprintf(line, sizeof line, "l%02d\n", i);
        h_raw_send(peer, line);
    }
    WAIT_LEN(4);
    h_msleep(H_SETTLE); /* the behaviour under test: nothing more arrives */
    ASSERT_EQ(mbox_len(), 4);
    ASSERT_OPT(s, GT_OPT_ACTIVE, 6);
    for (int i = 0; i < 10; i++) {
        gt_msg *m = h_expect_line(__LINE__, s, GT_MSG_TCP);
        snprintf(line, sizeof line, "l%02d\n", i);
        ASSERT_STR(m, line);
        gt_msg_free(m);
    }
    gt_msg *m = h_expect_line(__LINE__, s, GT_MSG_TCP_PASSIVE);
    gt_msg_free(m);
    h_no_msg_line(__LINE__, s, H_SETTLE);
    ASSERT_OPT(s, GT_OPT_ACTIVE, GT_ACTIVE_FALSE_V);
    /* {active, once}: one line, then passive again */
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_ONCE)));
    m = h_expect_line(__LINE__, s, GT_MSG_TCP);
    ASSERT_STR(m, "l10\n");
    gt_msg_free(m);
    ASSERT_OPT(s, GT_OPT_ACTIVE, GT_ACTIVE_FALSE_V);
    ASSERT_RECV(s, 0, H_WAIT, "l11\n");
    close(peer);
    gt_close(s);
}

/* Removing the limit resumes at once; 0 is no limit. */
GT_TEST(i10_03_limit_zero_is_no_limit)
{
    int peer = -1;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_BINARY, GT_PACKET(GT_PKT_LINE), GT_ACTIVE_TRUE), &peer);
    ASSERT_OK(gt_set_mailbox_limit(4));
    for (int i = 0; i < 100; i++)
        h_raw_send(peer, "line\n");
    WAIT_LEN(4);
    h_msleep(H_SETTLE); /* the behaviour under test: nothing more arrives */
    ASSERT_EQ(mbox_len(), 4);
    ASSERT_OK(gt_set_mailbox_limit(0));
    WAIT_LEN(100);
    close(peer);
    WAIT_LEN(101); /* tcp_closed */
    gt_close(s);
}

/* The limit never refuses a message: only sockets wait. */
GT_TEST(i10_03_posts_are_never_refused)
{
    ASSERT_OK(gt_set_mailbox_limit(2));
    for (int i = 0; i < 10; i++)
        h_post_int(gt_self(), 7, i);
    ASSERT_EQ(mbox_len(), 10);
    for (int i = 0; i < 10; i++)
        ASSERT_EQ(h_wait_int(7, 0), i);
}

/* A socket whose owner is at the limit before it connects still delivers
 * its end: the tcp_closed waits behind the data, in order. */
GT_TEST(i10_03_closed_comes_after_the_held_data)
{
    int peer = -1;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_BINARY, GT_PACKET(GT_PKT_LINE), GT_ACTIVE_TRUE), &peer);
    ASSERT_OK(gt_set_mailbox_limit(2));
    for (int i = 0; i < 8; i++)
        h_raw_send(peer, "x\n");
    close(peer);
    WAIT_LEN(2);
    for (int i = 0; i < 8; i++) {
        gt_msg *m = h_expect_line(__LINE__, s, GT_MSG_TCP);
        ASSERT_STR(m, "x\n");
        gt_msg_free(m);
    }
    gt_msg_free(h_expect_line(__LINE__, s, GT_MSG_TCP_CLOSED));
    gt_close(s);
}

/* A socket stalled at its owner's limit and handed to another process
 * reads on for the new owner. */
GT_TEST(i10_03_controlling_process_resumes_a_stalled_socket)
{
    int peer = -1;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_BINARY, GT_PACKET(GT_PKT_LINE), GT_ACTIVE_TRUE), &peer);
    ASSERT_OK(gt_set_mailbox_limit(2));
    for (int i = 0; i < 6; i++)
        h_raw_send(peer, "y\n");
    WAIT_LEN(2);
    H_WAIT_UNTIL(h_sock_mbox_stalled(s));
    gt_pid holder = h_spawn(h_holder_fn, NULL);
    ASSERT_OK(gt_controlling_process(s, holder));
    size_t n = 0;
    for (int i = 0; i < H_WAIT / 10; i++) {
        ASSERT_OK(gt_mailbox_len(holder, &n));
        if (n == 6)
            break;
        h_msleep(10);
    }
    ASSERT_EQ(n, 6); /* the 2 moved with it, then the 4 held back */
    h_post_int(holder, H_TAG_GO, 0);
    close(peer);
}

/* Hysteresis: the socket reads on only once a receive brings the mailbox
 * down to half the limit, then fills it to the limit again. */
GT_TEST(i10_03_resumes_at_half_the_limit)
{
    int peer = -1;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_BINARY, GT_PACKET(GT_PKT_LINE), GT_ACTIVE_TRUE), &peer);
    ASSERT_OK(gt_set_mailbox_limit(10));
    for (int i = 0; i < 30; i++)
        h_raw_send(peer, "z\n");
    WAIT_LEN(10);
    for (int i = 0; i < 4; i++)
        gt_msg_free(h_expect_line(__LINE__, s, GT_MSG_TCP));
    h_msleep(H_SETTLE); /* the behaviour under test: nothing more arrives */
    ASSERT_EQ(mbox_len(), 6); /* above half: still stopped */
    gt_msg_free(h_expect_line(__LINE__, s, GT_MSG_TCP));
    WAIT_LEN(10); /* at half: read on, up to the limit */
    close(peer);
    gt_close(s);
}

/* The mailbox emptied by controlling_process, not by a receive: another
 * socket of the same owner, stopped at the limit, reads on when the owner
 * waits for a message. */
GT_TEST(i10_03_drained_by_controlling_process_resumes_the_others)
{
    int pa = -1, pb = -1;
    gt_optlist o = GT_OPTS(GT_BINARY, GT_PACKET(GT_PKT_LINE), GT_ACTIVE_TRUE);
    gt_socket a = h_raw_peer_server(o, &pa);
    gt_socket b = h_raw_peer_server(o, &pb);
    ASSERT_OK(gt_set_mailbox_limit(4));
    for (int i = 0; i < 4; i++)
        h_raw_send(pa, "a\n");
    WAIT_LEN(4);
    h_raw_send(pb, "b\n");
    h_msleep(H_SETTLE); /* the behaviour under test: b does not arrive */
    ASSERT_EQ(mbox_len(), 4); /* b is stopped too: the limit is the owner's */
    gt_pid holder = h_spawn(h_holder_fn, NULL);
    ASSERT_OK(gt_controlling_process(a, holder)); /* takes the 4 messages */
    ASSERT_EQ(mbox_len(), 0);
    gt_msg *m = h_expect_line(__LINE__, b, GT_MSG_TCP);
    ASSERT_STR(m, "b\n");
    gt_msg_free(m);
    h_post_int(holder, H_TAG_GO, 0);
    close(pa);
    close(pb);
    gt_close(b);
}

/* gt_receive_many that takes the mailbox down to half resumes the stalled
 * socket as gt_receive does (issue 11: the echo server's batch take). */
GT_TEST(i11_receive_many_resumes_at_half_the_limit)
{
    int peer = -1;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_BINARY, GT_PACKET(GT_PKT_LINE), GT_ACTIVE_TRUE), &peer);
    ASSERT_OK(gt_set_mailbox_limit(10));
    for (int i = 0; i < 30; i++)
        h_raw_send(peer, "z\n");
    WAIT_LEN(10);
    gt_msg *ms[10];
    size_t n = 0;
    ASSERT_OK(gt_receive_many(gt_match_socket, &s, ms, 4, &n));
    ASSERT_EQ(n, 4);
    for (size_t i = 0; i < n; i++)
        gt_msg_free(ms[i]);
    h_msleep(H_SETTLE); /* the behaviour under test: nothing more arrives */
    ASSERT_EQ(mbox_len(), 6); /* above half: still stopped */
    ASSERT_OK(gt_receive_many(gt_match_socket, &s, ms, 1, &n));
    gt_msg_free(ms[0]);
    WAIT_LEN(10); /* at half: read on, up to the limit */
    close(peer);
    gt_close(s);
}

/* gt__sock_read_hook: the first delivery that reaches a read after
 * hold_arm() waits there (bounded) until hold_release(). */
enum { HOLD_OFF, HOLD_ARMED, HOLD_HOLDING, HOLD_RELEASED };
static atomic_int hold_state;

static void hold_read(void)
{
    int armed = HOLD_ARMED;
    if (!atomic_compare_exchange_strong(&hold_state, &armed, HOLD_HOLDING))
        return;
    for (int i = 0; i < H_WAIT && atomic_load(&hold_state) != HOLD_RELEASED; i++)
        h_msleep(1);
}

/* A limit set while a delivery is under way (its owner is another thread)
 * applies to what that delivery reads next: the peer sent those bytes only
 * once the limit was set.  The delivery used to look at the limit once, at
 * its start, and let a whole read's packets past it (this file's tests
 * flaked under load: "mailbox holds 14 messages, want 10"). */
GT_TEST(i10_03_a_limit_set_during_a_delivery_applies_to_its_reads)
{
    int peer = -1;
    gt_socket s = h_raw_peer_server(GT_OPTS(GT_BINARY, GT_PACKET(GT_PKT_LINE), GT_ACTIVE_TRUE), &peer);
    atomic_store(&hold_state, HOLD_ARMED);
    atomic_store(&gt__sock_read_hook, hold_read);
    h_raw_send(peer, "a\n"); /* a delivery starts: no limit yet */
    for (int i = 0; i < H_WAIT && atomic_load(&hold_state) != HOLD_HOLDING; i++)
        h_msleep(1);
    ASSERT_EQ(atomic_load(&hold_state), HOLD_HOLDING);
    ASSERT_OK(gt_set_mailbox_limit(4));
    for (int i = 0; i < 20; i++)
        h_raw_send(peer, "b\n");
    h_msleep(H_SETTLE); /* the peer's bytes are in the kernel, unread */
    atomic_store(&hold_state, HOLD_RELEASED);
    WAIT_LEN(4);
    h_msleep(H_SETTLE); /* the behaviour under test: nothing more arrives */
    atomic_store(&gt__sock_read_hook, NULL);
    ASSERT_EQ(mbox_len(), 4);
    close(peer);
    gt_close(s);
}
