/*
 * transport_test.c -- issue 9 item 2's tcp_module: a user-supplied
 * transport under a socket (include/gentcp.h, "Transports").  The test
 * transport wraps plain TCP (gt_tcp_transport), XORs every byte and counts
 * its calls; a raw BSD socket on the other end sees the wire bytes.
 */
#include <stdatomic.h>

#include "helpers.h"

#define KEY 0x5a

static atomic_int n_open, n_close, n_recv, n_sendv, n_shutdown;

static int x_open(const gt_transport *t, int fd, void **ctx)
{
    (void)fd;
    atomic_fetch_add(&n_open, 1);
    *ctx = t->arg;
    return 0;
}

static ssize_t x_recv(void *ctx, int fd, void *buf, size_t len)
{
    atomic_fetch_add(&n_recv, 1);
    ssize_t n = gt_tcp_transport.recv(ctx, fd, buf, len);
    for (ssize_t i = 0; i < n; i++)
        ((uint8_t *)buf)[i] ^= KEY;
    return n;
}

/* Encodes into a bounded copy: a short write is fine, the socket offers
 * the rest again. */
static ssize_t x_sendv(void *ctx, int fd, const struct iovec *iov, int n)
{
    atomic_fetch_add(&n_sendv, 1);
    uint8_t tmp[4096];
    size_t k = 0;
    for (int i = 0; i < n && k < sizeof tmp; i++)
        for (size_t j = 0; j < iov[i].iov_len && k < sizeof tmp; j++)
            tmp[k++] = ((const uint8_t *)iov[i].iov_base)[j] ^ KEY;
    struct iovec v = {tmp, k};
    return gt_tcp_transport.sendv(ctx, fd, &v, 1);
}

static int x_shutdown(void *ctx, int fd, int how)
{
    atomic_fetch_add(&n_shutdown, 1);
    return gt_tcp_transport.shutdown(ctx, fd, how);
}

static void x_close(void *ctx, int fd)
{
    (void)ctx;
    (void)fd;
    atomic_fetch_add(&n_close, 1);
}

static const gt_transport xor_tp = {.name = "xor", .open = x_open, .recv = x_recv,
                                    .sendv = x_sendv, .shutdown = x_shutdown,
                                    .close = x_close};

/* What gentcp sends goes through the transport (the wire has it XORed,
 * header included), and what comes in is decoded before framing. */
GT_TEST(i9_tcp_module_wraps_the_stream)
{
    int port, lfd = h_raw_listen(&port);
    gt_socket c = h_connect(port, GT_OPTS(GT_TCP_MODULE(&xor_tp), GT_PACKET(2), GT_ACTIVE_TRUE));
    int fd = h_raw_accept(lfd);
    ASSERT_EQ(atomic_load(&n_open), 1);
    h_send(c, "abc");
    uint8_t w[5];
    h_raw_read_exact(fd, w, 5);
    const uint8_t want[5] = {0 ^ KEY, 3 ^ KEY, 'a' ^ KEY, 'b' ^ KEY, 'c' ^ KEY};
    ASSERT(memcmp(w, want, 5) == 0);
    h_raw_write(fd, want, 5); /* the peer's packet: decoded, then framed */
    EXPECT_TCP(c, "abc");
    ASSERT(atomic_load(&n_recv) > 0 && atomic_load(&n_sendv) > 0);
    ASSERT_OK(gt_shutdown(c, GT_SHUT_WRITE));
    ASSERT_EQ(atomic_load(&n_shutdown), 1);
    close(fd);
    EXPECT_MSG(c, GT_MSG_TCP_CLOSED);
    ASSERT_OK(gt_close(c));
    ASSERT_EQ(atomic_load(&n_close), 1); /* released once, with the fd */
    close(lfd);
}

/* Accepted sockets take the listen socket's transport (each opened on its
 * own); a gentcp pair both ends XOR talks plain text, also passive. */
GT_TEST(i9_tcp_module_inherited_by_accept)
{
    gt_socket l = h_listen(GT_OPTS(GT_TCP_MODULE(&xor_tp), GT_ACTIVE_FALSE, GT_PACKET(GT_PKT_LINE)));
    gt_socket c = h_connect(h_port(l), GT_OPTS(GT_TCP_MODULE(&xor_tp), GT_ACTIVE_FALSE));
    gt_socket a = h_accept(l);
    ASSERT_EQ(atomic_load(&n_open), 2);
    h_send(c, "one\ntwo\n");
    ASSERT_RECV(a, 0, H_WAIT, "one\n");
    ASSERT_RECV(a, 0, H_WAIT, "two\n");
    gt_close(c);
    ASSERT_RECV_ERR(a, 0, H_WAIT, GT_ECLOSED);
    gt_close(a);
    gt_close(l);
    ASSERT_EQ(atomic_load(&n_close), 2); /* the listen socket opened none */
}

/* Plain sockets never call a transport. */
GT_TEST(i9_tcp_module_plain_untouched)
{
    gt_socket c, a;
    h_ppair(&c, &a);
    h_send(c, "x");
    ASSERT_RECV(a, 0, H_WAIT, "x");
    gt_close(c);
    gt_close(a);
    ASSERT_EQ(atomic_load(&n_open) + atomic_load(&n_recv) + atomic_load(&n_sendv), 0);
}

/* A table without recv/sendv/shutdown, or NULL, is badarg, not a crash. */
GT_TEST(i9_tcp_module_bad_table_badarg)
{
    static const gt_transport half = {.name = "half", .recv = x_recv};
    gt_socket l = {0};
    ASSERT_ERR(gt_listen(0, GT_OPTS(GT_TCP_MODULE(&half)), &l), GT_EBADARG);
    ASSERT_ERR(gt_listen(0, GT_OPTS(GT_TCP_MODULE(NULL)), &l), GT_EBADARG);
    gt_socket s = h_listen(GT_NOOPTS);
    ASSERT_ERR(gt_setopts(s, GT_OPTS(GT_TCP_MODULE(&xor_tp))), -EINVAL);
    gt_close(s);
}

static int fail_open(const gt_transport *t, int fd, void **ctx)
{
    (void)t, (void)fd, (void)ctx;
    return -EPROTO;
}

/* An open hook's failure fails the accept. */
GT_TEST(i9_tcp_module_open_failure)
{
    static const gt_transport bad = {.name = "bad", .open = fail_open, .recv = x_recv,
                                     .sendv = x_sendv, .shutdown = x_shutdown};
    gt_socket l = h_listen(GT_OPTS(GT_TCP_MODULE(&bad)));
    int fd = h_raw_connect(h_port(l));
    gt_socket a = {0};
    ASSERT(gt_accept(l, H_WAIT, &a) != 0);
    close(fd);
    gt_close(l);
}

/* STARTTLS's step: a connected plain socket gets a transport; the bytes
 * after it are coded.  Refused while input is buffered. */
GT_TEST(i9_transport_attach)
{
    int port, lfd = h_raw_listen(&port);
    gt_socket c = h_connect(port, GT_OPTS(GT_ACTIVE_FALSE));
    int fd = h_raw_accept(lfd);
    h_raw_write(fd, "plain+", 6);
    ASSERT_RECV(c, 5, H_WAIT, "plain"); /* "+" stays buffered */
    ASSERT_ERR(gt_transport_attach(c, &xor_tp), -EINVAL);
    ASSERT_RECV(c, 1, H_WAIT, "+");
    ASSERT_OK(gt_transport_attach(c, &xor_tp));
    ASSERT_ERR(gt_transport_attach(c, &xor_tp), -EINVAL); /* one is enough */
    h_send(c, "z");
    uint8_t b;
    h_raw_read_exact(fd, &b, 1);
    ASSERT_EQ(b, 'z' ^ KEY);
    gt_close(c);
    close(fd);
    close(lfd);
}

/* A transport with a handshake: the socket stays passive (whatever active
 * mode the options gave) until gt_transport_handshake is done, then that
 * mode applies.  The "handshake" here waits for one byte '!' from the peer. */
static int hs_step(void *ctx, int fd)
{
    (void)ctx;
    char b;
    ssize_t n = read(fd, &b, 1);
    if (n == 1)
        return b == '!' ? 0 : -EPROTO;
    if (n < 0 && errno == EAGAIN)
        return GT_TRANSPORT_WANT_READ;
    return n == 0 ? GT_ECLOSED : -errno;
}

GT_TEST(i9_transport_handshake_holds_active)
{
    static const gt_transport hs = {.name = "hs", .recv = x_recv, .sendv = x_sendv,
                                    .shutdown = x_shutdown, .handshake = hs_step};
    int port, lfd = h_raw_listen(&port);
    gt_socket c = h_connect(port, GT_OPTS(GT_TCP_MODULE(&hs), GT_ACTIVE_TRUE));
    int fd = h_raw_accept(lfd);
    ASSERT_OPT(c, GT_OPT_ACTIVE, GT_ACTIVE_FALSE_V);
    ASSERT_ERR(gt_transport_handshake(c, 50), GT_ETIMEOUT);
    const uint8_t msg[3] = {'!', 'h' ^ KEY, 'i' ^ KEY};
    h_raw_write(fd, msg, 3);
    ASSERT_OK(gt_transport_handshake(c, H_WAIT));
    ASSERT_OPT(c, GT_OPT_ACTIVE, GT_ACTIVE_TRUE_V);
    ASSERT_EQ(h_active_all(c, "hi"), 1);
    ASSERT_OK(gt_transport_handshake(c, 0)); /* done: nothing more to do */
    gt_close(c);
    close(fd);
    close(lfd);
}
