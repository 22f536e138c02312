/*
 * fork_test.c -- fork() after the runtime started (issue 10, item 5): in
 * the child every call that touches the runtime returns GT_EFORKED, never
 * hangs or acts on the parent's behalf; the parent's runtime goes on; a
 * child forked before the runtime started may start its own.
 *
 * A child reports through its exit status: 0, or the number of the first
 * check that failed.  Waits on the child are bounded; one that hangs is
 * killed and fails the test.
 */
#include "helpers.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

/* The child's exit status, or -1 (killed) if it did not end within ms. */
static int wait_child(pid_t pid, int64_t ms)
{
    int st = 0;
    for (int64_t i = 0; i < ms; i++) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        h_msleep(1);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return -1;
}

#define CHILD_CHECK(n, cond) \
    do {                     \
        if (!(cond))         \
            _exit(n);        \
    } while (0)

static void noop_fn(void *arg) { (void)arg; }

/* Every call family, in a child of a parent whose runtime is busy. */
static void child_checks(gt_pid proc, gt_socket lsock, int lport, gt_socket conn, gt_timer t)
{
    const int F = GT_EFORKED;
    CHILD_CHECK(1, strcmp(gt_err_name(F), "forked") == 0);
    CHILD_CHECK(2, strstr(gt_strerror(F), "fork") != NULL);
    /* runtime and processes */
    CHILD_CHECK(3, gt_init(NULL) == F);
    CHILD_CHECK(4, gt_schedulers() == F);
    CHILD_CHECK(5, gt_spawn(noop_fn, NULL, NULL, NULL) == F);
    CHILD_CHECK(6, gt_self().id == 0);
    CHILD_CHECK(7, !gt_is_alive(proc));
    CHILD_CHECK(8, gt_sleep(1) == F);
    CHILD_CHECK(9, gt_monitor(proc) == F);
    CHILD_CHECK(10, gt_link(proc) == F && gt_unlink(proc) == F);
    CHILD_CHECK(11, gt_kill(proc, GT_EKILL) == F);
    CHILD_CHECK(12, !gt_trap_exit(true));
    CHILD_CHECK(13, gt_at_exit(noop_fn, NULL) == F);
    CHILD_CHECK(14, gt_stop(0) == F);
    /* names */
    CHILD_CHECK(15, gt_register("forked", proc) == F && gt_unregister("parent") == F);
    CHILD_CHECK(16, gt_whereis("parent").id == 0);
    /* messages */
    gt_msg *m = NULL;
    CHILD_CHECK(17, gt_post(proc, 1, "x", 1) == F);
    CHILD_CHECK(18, gt_receive(GT_INFINITY, &m) == F && !m);
    CHILD_CHECK(19, gt_receive_match(h_match_tag, &(int){1}, 0, &m) == F);
    size_t len = 7;
    CHILD_CHECK(20, gt_mailbox_len(proc, &len) == F && gt_mailbox_fd() == F);
    CHILD_CHECK(21, gt_set_mailbox_limit(10) == F);
    /* fds, timers, signals */
    CHILD_CHECK(22, gt_wait_fd(0, GT_FD_READ, GT_INFINITY, NULL) == F);
    gt_timer t2;
    CHILD_CHECK(23, gt_send_after(1, proc, 1, NULL, 0, &t2) == F &&
                        gt_start_timer(1, proc, 1, NULL, 0, &t2) == F);
    CHILD_CHECK(24, gt_cancel_timer(t) == F && gt_read_timer(t) == F);
    CHILD_CHECK(25, gt_signal_subscribe(SIGUSR2) == F && gt_signal_unsubscribe(SIGUSR2) == F);
    /* sockets */
    gt_socket s;
    CHILD_CHECK(26, gt_listen(0, GT_OPTS(GT_BINARY), &s) == F);
    CHILD_CHECK(27, gt_connect("127.0.0.1", lport, GT_OPTS(GT_BINARY), 100, &s) == F);
    CHILD_CHECK(28, gt_accept(lsock, GT_INFINITY, &s) == F);
    CHILD_CHECK(29, gt_send(conn, "x", 1) == F && gt_recv(conn, 0, GT_INFINITY, &m) == F);
    struct iovec v = {"x", 1};
    int sent = 0;
    CHILD_CHECK(30, gt_sendv(conn, &v, 1) == F && gt_send_many(conn, &v, 1, &sent) == F);
    CHILD_CHECK(31, gt_setopts(conn, GT_OPTS(GT_ACTIVE_TRUE)) == F);
    gt_opt o = {.name = GT_OPT_ACTIVE};
    CHILD_CHECK(32, gt_getopts(conn, &o, 1) == F);
    int port = 0;
    struct sockaddr_storage a = {.ss_family = AF_INET};
    socklen_t al = sizeof a;
    CHILD_CHECK(33, gt_port(conn, &port) == F && gt_sockname(conn, &a, &al) == F &&
                        gt_peername(conn, &a, &al) == F);
    CHILD_CHECK(34, gt_controlling_process(conn, proc) == F && gt_owner(conn).id == 0);
    size_t n = 0;
    CHILD_CHECK(35, gt_getaddrs("localhost", AF_INET, 100, &a, 1, &n) == F);
    CHILD_CHECK(36, gt_shutdown(conn, GT_SHUT_WRITE) == F && gt_close(conn) == F);
    /* what needs no runtime still works */
    char buf[64];
    CHILD_CHECK(37, strcmp(gt_version(), GT_VERSION) == 0);
    CHILD_CHECK(38, gt_addr_str(&a, buf, sizeof buf) != NULL);
    gt_exit(); /* returns: main's identity is the parent's */
}

static void echo_fn(void *arg)
{
    (void)arg;
    gt_msg *m;
    while (gt_receive(10 * H_WAIT, &m) == 0) {
        bool stop = m->tag == H_TAG_GO;
        if (m->kind == GT_MSG_USER && !stop)
            h_post_int(m->from, H_TAG_DONE, m->tag);
        gt_msg_free(m);
        if (stop)
            return;
    }
}

GT_TEST(i10_5_fork_child_calls_fail_parent_goes_on)
{
    ASSERT_OK(gt_init(NULL));
    gt_pid proc = h_spawn(echo_fn, NULL);
    ASSERT_OK(gt_register("parent", proc));
    gt_socket l, c, a;
    h_pair(GT_OPTS(GT_BINARY), GT_OPTS(GT_BINARY, GT_ACTIVE_FALSE), &l, &c, &a);
    gt_timer t;
    ASSERT_OK(gt_start_timer(H_WAIT / 10, gt_self(), 5, NULL, 0, &t));
    ASSERT_OK(gt_signal_subscribe(SIGUSR2));
    int port = h_port(l);
    fflush(NULL);
    pid_t child = fork();
    ASSERT(child >= 0);
    if (child == 0)
        child_checks(proc, l, port, c, t), _exit(0);
    ASSERT_EQ(wait_child(child, 10 * H_WAIT), 0);
    /* the parent's runtime is intact: its sockets (the child's close was
     * refused), processes, names and timers */
    h_send(a, "after fork");
    ASSERT_RECV(c, 10, H_WAIT, "after fork");
    int v = 0;
    ASSERT_OK(gt_post(gt_whereis("parent"), 42, &v, sizeof v));
    ASSERT_EQ(h_wait_int(H_TAG_DONE, H_WAIT), 42);
    gt_msg *m = NULL;
    ASSERT_OK(gt_receive(H_WAIT, &m));
    ASSERT_EQ(m->kind, GT_MSG_TIMEOUT);
    gt_msg_free(m);
    h_post_int(proc, H_TAG_GO, 0);
    h_wait_dead(proc);
    ASSERT_OK(gt_signal_unsubscribe(SIGUSR2));
}

/* The TLS calls: a context's SSL_CTX and a TLS socket's connection are
 * shared with the parent's schedulers (their locks may be held at the
 * fork), so the child gets GT_EFORKED from each, gt_tls_last_error an
 * empty text, and gt_tls_ctx_free leaves the parent's context alone. */
static void child_tls_checks(gt_tls_ctx *ctx, gt_socket lsock, int lport, gt_socket conn)
{
    const int F = GT_EFORKED;
    gt_tls_ctx *c2 = NULL;
    char buf[64] = "x";
    CHILD_CHECK(1, gt_tls_ctx_new(NULL, false, &c2, buf, sizeof buf) == F && !c2);
    gt_socket s;
    CHILD_CHECK(2, gt_tls_connect(ctx, "127.0.0.1", lport, GT_NOOPTS, 100, &s) == F);
    CHILD_CHECK(3, gt_tls_listen(ctx, 0, GT_NOOPTS, &s) == F);
    CHILD_CHECK(4, gt_tls_transport_accept(lsock, GT_INFINITY, &s) == F);
    CHILD_CHECK(5, gt_tls_handshake(conn, GT_INFINITY) == F);
    CHILD_CHECK(6, gt_tls_upgrade(conn, ctx, "localhost", GT_INFINITY) == F);
    strcpy(buf, "x");
    CHILD_CHECK(7, gt_tls_last_error(conn, buf, sizeof buf) == 0 && buf[0] == 0);
    CHILD_CHECK(8, gt_tls_info(conn, GT_TLS_PROTOCOL, buf, sizeof buf) == F);
    uint8_t *der = NULL;
    size_t n = 0;
    CHILD_CHECK(9, gt_tls_peer_cert(conn, &der, &n) == F && !der);
    gt_tls_ctx_free(ctx);
}

GT_TEST(i10_5_fork_child_tls_calls_fail)
{
    ASSERT_OK(gt_init(NULL));
    gt_tls_ctx *ctx = NULL; /* stays NULL in a TLS=0 build: the checks hold */
    char err[256];
    int rc = gt_tls_ctx_new(NULL, false, &ctx, err, sizeof err);
    ASSERT(rc == 0 || rc == -EPROTONOSUPPORT);
    gt_socket l, c, a;
    h_pair(GT_OPTS(GT_BINARY), GT_OPTS(GT_BINARY, GT_ACTIVE_FALSE), &l, &c, &a);
    int port = h_port(l);
    fflush(NULL);
    pid_t child = fork();
    ASSERT(child >= 0);
    if (child == 0)
        child_tls_checks(ctx, l, port, c), _exit(0);
    ASSERT_EQ(wait_child(child, 10 * H_WAIT), 0);
    /* the parent's socket and context are untouched by the child's calls */
    h_send(a, "after fork");
    ASSERT_RECV(c, 10, H_WAIT, "after fork");
    gt_tls_ctx_free(ctx);
    gt_close(a);
    gt_close(c);
    gt_close(l);
}

/* The child's signals are its own: a signal the parent subscribed to, sent
 * to the child, takes the disposition from before the subscription (here:
 * the default, which ends the child) instead of going down the pipe the
 * parent's dispatcher reads and arriving as the parent's message. */
GT_TEST(i10_5_fork_child_signal_not_delivered_to_parent)
{
    ASSERT_OK(gt_signal_subscribe(SIGUSR1));
    fflush(NULL);
    pid_t child = fork();
    ASSERT(child >= 0);
    if (child == 0) {
        raise(SIGUSR1);
        _exit(0); /* the signal was swallowed */
    }
    ASSERT_EQ(wait_child(child, 10 * H_WAIT), 128 + SIGUSR1);
    /* the parent's own subscription still works, and saw only its own */
    ASSERT_OK(kill(getpid(), SIGUSR1) == 0 ? 0 : -1);
    gt_msg *m = NULL;
    ASSERT_OK(gt_receive(H_WAIT, &m));
    ASSERT_EQ(m->kind, GT_MSG_SIGNAL);
    gt_msg_free(m);
    ASSERT_ERR(gt_receive(H_SETTLE, &m), GT_ETIMEOUT);
    ASSERT_OK(gt_signal_unsubscribe(SIGUSR1));
}

/* A spawned process that forks: in the child it goes on as plain code on
 * the only thread; a waiting call fails instead of switching to a
 * scheduler loop that would run the parent's processes there; when the
 * function ends, so does the child (status 0 for normal, 1 otherwise). */
static void forking_fn(void *arg)
{
    gt_pid parent = *(gt_pid *)arg;
    fflush(NULL);
    pid_t child = fork();
    if (child == 0) {
        gt_msg *m = NULL;
        int bad = gt_receive(GT_INFINITY, &m) != GT_EFORKED || gt_sleep(GT_INFINITY) != GT_EFORKED;
        gt_yield(); /* a no-op here */
        if (bad)
            gt_exit_with(7);
        return; /* ends the child with status 0 */
    }
    int st = child < 0 ? -2 : wait_child(child, 10 * H_WAIT);
    h_post_int(parent, H_TAG_DONE, st);
}

GT_TEST(i10_5_fork_inside_a_process)
{
    gt_pid me = gt_self();
    h_spawn(forking_fn, &me);
    ASSERT_EQ(h_wait_int(H_TAG_DONE, 20 * H_WAIT), 0);
}

static void fail_fn(void *arg)
{
    (void)arg;
    fflush(NULL);
    if (fork() == 0)
        gt_exit_with(GT_ECLOSED); /* status 1 */
}

GT_TEST(i10_5_fork_inside_a_process_exit_status)
{
    /* the status of a child whose process ends with a reason other than
     * normal, so that the 0 above is not the only possible answer */
    gt_pid pid = h_spawn(fail_fn, NULL);
    h_wait_dead(pid);
    int st = 0;
    pid_t r = -1;
    for (int i = 0; i < 10 * H_WAIT && (r = waitpid(-1, &st, WNOHANG)) == 0; i++)
        h_msleep(1);
    ASSERT(r > 0);
    ASSERT(WIFEXITED(st));
    ASSERT_EQ(WEXITSTATUS(st), 1);
}

/* Before any gentcp call there is no runtime to lose: the child starts
 * its own and uses it. */
static void reply_fn(void *arg) { h_post_int(*(gt_pid *)arg, H_TAG_DONE, 9); }

GT_TEST(i10_5_fork_before_the_runtime_started)
{
    fflush(NULL);
    pid_t child = fork();
    ASSERT(child >= 0);
    if (child == 0) {
        gt_pid me = gt_self();
        gt_pid p;
        if (gt_spawn(reply_fn, &me, NULL, &p) != 0)
            _exit(2);
        int tag = H_TAG_DONE;
        gt_msg *m = NULL;
        if (gt_receive_match(h_match_tag, &tag, 10 * H_WAIT, &m) != 0)
            _exit(3);
        gt_msg_free(m);
        _exit(gt_stop(10 * H_WAIT) == 0 ? 0 : 4);
    }
    ASSERT_EQ(wait_child(child, 20 * H_WAIT), 0);
}
