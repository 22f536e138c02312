/*
 * stale_test.c -- what every call returns for a stale handle, as gentcp.h's
 * "Handles" convention states it (issue 8): a closed socket (inet and
 * socket backends, connected and listening), the null handle and one never
 * issued; a dead process and the null pid.
 */
#include "helpers.h"

/* sock: the handle was a socket backend's, which answers closed where
 * inet answers einval, and closed from close (rules 41, 44). */
static void check_stale(const char *what, gt_socket s, bool sock)
{
    int einval = sock ? GT_ECLOSED : -EINVAL;
    fprintf(stderr, "  stale socket: %s\n", what);
    gt_socket o;
    gt_msg *m = NULL;
    struct iovec iov = {(void *)"x", 1};
    int sent = -1, port;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    gt_opt op = GT_PACKET(0);
    ASSERT_ERR(gt_accept(s, 0, &o), GT_ECLOSED);
    ASSERT_ERR(gt_send(s, "x", 1), GT_ECLOSED);
    ASSERT_ERR(gt_sendv(s, &iov, 1), GT_ECLOSED);
    ASSERT_ERR(gt_send_many(s, &iov, 1, &sent), GT_ECLOSED);
    ASSERT_ERR(gt_recv(s, 0, 0, &m), GT_ECLOSED);
    ASSERT_ERR(gt_shutdown(s, GT_SHUT_WRITE), GT_ECLOSED);
    ASSERT_ERR(gt_controlling_process(s, gt_self()), GT_ECLOSED);
    ASSERT_ERR(gt_setopts(s, GT_OPTS(GT_PACKET(0))), einval);
    ASSERT_ERR(gt_getopts(s, &op, 1), einval);
    ASSERT_ERR(gt_port(s, &port), einval);
    ASSERT_ERR(gt_sockname(s, &ss, &sl), einval);
    ASSERT_ERR(gt_peername(s, &ss, &sl), einval);
    ASSERT_EQ(gt_owner(s).id, 0);
    ASSERT_ERR(gt_close(s), sock ? GT_ECLOSED : 0);
}

static void check_stale_socket(const char *what, gt_socket s) { check_stale(what, s, false); }

GT_TEST(i8_stale_socket_errors)
{
    gt_socket l = h_listen(GT_OPTS(GT_ACTIVE_FALSE));
    gt_socket c = h_connect(h_port(l), GT_OPTS(GT_ACTIVE_FALSE));
    gt_socket a;
    ASSERT_OK(gt_accept(l, H_WAIT, &a));
    ASSERT_OK(gt_close(c));
    check_stale_socket("closed connection", c);
    ASSERT_OK(gt_close(l));
    check_stale_socket("closed listen socket", l);
    check_stale_socket("{0}", (gt_socket){0});
    check_stale_socket("never issued", (gt_socket){0x7ffffu | (77u << 20)});
    ASSERT_OK(gt_close(a));
}

GT_TEST(i8_stale_socket_errors_socket_backend)
{
    gt_socket l, c;
    ASSERT_OK(gt_listen(0, GT_OPTS(GT_INET_BACKEND(GT_BACKEND_SOCKET), GT_IP("127.0.0.1"),
                                   GT_ACTIVE_FALSE), &l));
    ASSERT_OK(gt_connect("127.0.0.1", h_port(l),
                         GT_OPTS(GT_INET_BACKEND(GT_BACKEND_SOCKET), GT_ACTIVE_FALSE), H_WAIT,
                         &c));
    ASSERT_OK(gt_close(c));
    check_stale("closed connection (socket backend)", c, true);
    ASSERT_OK(gt_close(l));
    check_stale("closed listen socket (socket backend)", l, true);
}

static void quit_fn(void *arg) { (void)arg; }

static void check_stale_pid(const char *what, gt_pid pid, gt_socket s)
{
    fprintf(stderr, "  stale pid: %s\n", what);
    ASSERT(!gt_is_alive(pid));
    ASSERT_ERR(gt_post(pid, 1, "x", 1), GT_ENOPROC);
    ASSERT_ERR(gt_controlling_process(s, pid), GT_EBADARG);
    ASSERT_OK(gt_monitor(pid));
    gt_msg *m;
    ASSERT_OK(gt_receive(H_WAIT, &m));
    ASSERT_EQ(m->kind, GT_MSG_DOWN);
    ASSERT(gt_pid_eq(m->from, pid));
    gt_msg_free(m);
}

GT_TEST(i8_stale_pid_errors)
{
    gt_socket l = h_listen(GT_OPTS(GT_ACTIVE_FALSE));
    gt_pid dead;
    ASSERT_OK(gt_spawn(quit_fn, NULL, NULL, &dead));
    ASSERT_OK(gt_monitor(dead));
    gt_msg *m;
    ASSERT_OK(gt_receive(H_WAIT, &m)); /* its end */
    ASSERT_EQ(m->kind, GT_MSG_DOWN);
    gt_msg_free(m);
    check_stale_pid("dead process", dead, l);
    check_stale_pid("{0}", (gt_pid){0}, l);
    ASSERT(gt_pid_eq(gt_owner(l), gt_self())); /* still ours */
}
