/*
 * acceptor_test.c -- what an accept loop meets (issue 7 items 15, 16).
 *
 * Out of file descriptors (item 15). *
 * Observed on OTP 25 under `prlimit --nofile=64`: gen_tcp:listen, connect
 * and accept (with a connection queued) return {error, emfile} at once;
 * the connection stays queued and accept returns it once a descriptor is
 * free.  gentcp must do the same, and an acceptor looping on emfile must
 * not spin.
 */
#include "helpers.h"
#include "h_probe.h"

#include <sys/resource.h>

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

/* valgrind emulates the fd limit: it closes an accepted fd above it and
 * reports EMFILE, so the queued connection is gone, unlike the kernel. */
static void skip_under_valgrind(void)
{
    if (RUNNING_ON_VALGRIND)
        SKIP("valgrind emulates the fd limit and drops the accepted connection");
}

/* Opens /dev/null until EMFILE (at most 256 times, the soft limit being
 * lowered first so that this is quick); returns how many are held in fds. */
static int fill_fds(int *fds, int max)
{
    int n = 0;
    while (n < max) {
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            ASSERT_EQ(errno, EMFILE);
            return n;
        }
        fds[n++] = fd;
    }
    gt_test_fail(__FILE__, __LINE__, "still no EMFILE after %d descriptors", max);
}

/* Lowers the soft RLIMIT_NOFILE to a few above what is open now. */
static void lower_limit(void)
{
    int highest = open("/dev/null", O_RDONLY | O_CLOEXEC);
    ASSERT(highest >= 0);
    close(highest);
    struct rlimit rl;
    ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
    rl.rlim_cur = (rlim_t)highest + 64;
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &rl), 0);
}

GT_TEST(i7_15_listen_connect_at_fd_limit_say_emfile)
{
    gt_socket l = h_listen(GT_NOOPTS), s;
    int port = h_port(l);
    lower_limit();
    int fds[256];
    int n = fill_fds(fds, 256);
    ASSERT_ERR(gt_listen(0, GT_NOOPTS, &s), -EMFILE);
    ASSERT_ERR(gt_connect("127.0.0.1", port, GT_NOOPTS, H_WAIT, &s), -EMFILE);
    while (n > 0)
        close(fds[--n]);
}

typedef struct looper {
    gt_socket l;
    gt_pid parent;
    int64_t until_ms; /* CLOCK_MONOTONIC */
} looper;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A naive acceptor: calls gt_accept again at once after every emfile,
 * until the time is up; reports how many calls it made (-1: another
 * result). */
static void accept_loop(void *arg)
{
    looper *lp = arg;
    int calls = 0;
    while (mono_ms() < lp->until_ms) {
        gt_socket s;
        int rc = gt_accept(lp->l, GT_INFINITY, &s);
        calls++;
        if (rc != -EMFILE) {
            calls = -1;
            break;
        }
    }
    h_post_int(lp->parent, H_TAG_DONE, calls);
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

GT_TEST(i7_15_accept_at_fd_limit_emfile_no_spin_then_serves)
{
    skip_under_valgrind();
    gt_socket l = h_listen(GT_OPTS(GT_ACTIVE_FALSE)), s;
    int port = h_port(l);
    lower_limit();
    int fds[256];
    int n = fill_fds(fds, 256);
    close(fds[--n]); /* room for the client's end only */
    int c = h_raw_connect(port);

    /* Erlang: {error, emfile} at once, the connection stays queued */
    ASSERT_ERR(gt_accept(l, H_WAIT, &s), -EMFILE);
    ASSERT_ERR(gt_accept(l, H_WAIT, &s), -EMFILE);

    /* A loop that retries at once sleeps between tries: few calls, little
     * CPU, over a second. */
    looper lp = {l, gt_self(), mono_ms() + 1000};
    double cpu0 = cpu_s();
    int64_t t0 = mono_ms();
    h_spawn(accept_loop, &lp);
    /* An untimed wait, so that only the acceptor's CPU is counted (timed
     * waits of OS threads are issue 7 item 11); the looper always reports
     * within a second, and the runner's timeout bounds the test. */
    int tag = H_TAG_DONE, calls = 0;
    gt_msg *m;
    ASSERT_OK(gt_receive_match(h_match_tag, &tag, GT_INFINITY, &m));
    memcpy(&calls, m->data, sizeof calls);
    gt_msg_free(m);
    double cpu = cpu_s() - cpu0, wall = (double)(mono_ms() - t0) / 1000;
    if (calls < 1)
        gt_test_fail(__FILE__, __LINE__, "the looping acceptor got another result than emfile");
    if (calls > 100 || cpu > 0.5 * wall)
        gt_test_fail(__FILE__, __LINE__, "spins at the fd limit: %d accept calls, %.2f s CPU in %.2f s",
                     calls, cpu, wall);

    /* a descriptor is free again: the queued connection is served */
    close(fds[--n]);
    ASSERT_OK(gt_accept(l, H_WAIT, &s));
    h_raw_send(c, "x");
    ASSERT_OK(gt_recv(s, 0, H_WAIT, &m));
    ASSERT_STR(m, "x");
    gt_msg_free(m);
    close(c);
    while (n > 0)
        close(fds[--n]);
}

/* Timeout 0 polls: even in the pause after an emfile it tries once. */
GT_TEST(i7_15_accept_poll_at_fd_limit)
{
    skip_under_valgrind();
    gt_socket l = h_listen(GT_OPTS(GT_ACTIVE_FALSE)), s;
    int port = h_port(l);
    lower_limit();
    int fds[256];
    int n = fill_fds(fds, 256);
    close(fds[--n]);
    int c = h_raw_connect(port);
    ASSERT_ERR(gt_accept(l, H_WAIT, &s), -EMFILE);
    ASSERT_ERR(gt_accept(l, 0, &s), -EMFILE);
    close(fds[--n]);
    ASSERT_OK(gt_accept(l, 0, &s));
    close(c);
    while (n > 0)
        close(fds[--n]);
}

/* A client that connects and closes before the accept: Erlang returns
 * {ok, S} and then {tcp_closed, S}.  gentcp returned closed -- which an
 * acceptor takes for its listen socket closing -- when the peer's FIN was
 * read (exit_on_close) before accept had finished setting the socket up. */
GT_TEST(i7_16_accept_peer_already_closed)
{
    gt_socket l = h_listen(GT_NOOPTS), s;
    int port = h_port(l);
    for (int i = 0; i < 10; i++) {
        close(h_raw_connect(port));
        /* on loopback the FIN travels with the close: it is there when
         * the connection is (were it later, tcp_closed still comes) */
        h_wait_acceptable(l);
        ASSERT_OK(gt_accept(l, H_WAIT, &s));
        EXPECT_MSG(s, GT_MSG_TCP_CLOSED);
    }
}
