/*
 * send_batch_test.c -- the writes of the end-of-pass batch counted
 * (send16; src/socket/send.c defer_ok): the sends a process makes in one
 * run onto one socket join the queue listed for the end of the pass and
 * go to the kernel in one write, up to DEFER_QUEUE_MAX (16 KiB) queued;
 * a queue that would grow beyond it is written at once, as every send was
 * before the batch.  Until send16 a second send wrote the listed queue at
 * once (8 small sends in one run: 4 sendto instead of 1).
 *
 * gentcp writes a plain TCP socket with syscall(SYS_sendto) (raw system
 * calls), sendmsg, or send (sanitizer builds): this program's definitions
 * of those come first in symbol lookup and count the calls on the one fd
 * a test watches.  Every test runs again with the batch off (GT_IO_URING=0:
 * every send writes at once), see batch_off_runs_the_same_tests.
 */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "h_uring.h"
#include "socket/sock.h" /* gt__sock_home */
#include "util/uring.h"

/* ---- counting the writes on one fd ---- */

static atomic_int watched[2] = {-1, -1}; /* fds whose writes count */
static atomic_int writes;
static long (*real_syscall)(long, ...);
static ssize_t (*real_sendmsg)(int, const struct msghdr *, int);
static ssize_t (*real_send)(int, const void *, size_t, int);

/* resolved before any thread starts: no race on the pointers */
__attribute__((constructor)) static void resolve(void)
{
    *(void **)&real_syscall = dlsym(RTLD_NEXT, "syscall");
    *(void **)&real_sendmsg = dlsym(RTLD_NEXT, "sendmsg");
    *(void **)&real_send = dlsym(RTLD_NEXT, "send");
}

static void count_write(int fd)
{
    if (fd >= 0 && (fd == atomic_load(&watched[0]) || fd == atomic_load(&watched[1])))
        atomic_fetch_add(&writes, 1);
}

/* glibc's syscall() itself takes six longs whatever the call; a caller
 * that passes fewer leaves the sixth to be read from its own stack frame,
 * which ASan reports as an overflow (it is never used): not instrumented */
__attribute__((no_sanitize("address"))) long syscall(long nr, ...)
{
    va_list ap;
    long a[6];
    va_start(ap, nr);
    for (int i = 0; i < 6; i++)
        a[i] = va_arg(ap, long);
    va_end(ap);
    if (nr == SYS_sendto || nr == SYS_sendmsg || nr == SYS_write || nr == SYS_writev)
        count_write((int)a[0]);
    return real_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

ssize_t sendmsg(int fd, const struct msghdr *m, int flags)
{
    count_write(fd);
    return real_sendmsg(fd, m, flags);
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
    count_write(fd);
    return real_send(fd, buf, len, flags);
}

/* The gentcp end of the connection whose other end is peer_fd: the fd
 * whose address is peer_fd's peer and whose peer is peer_fd's address. */
static int fd_of_peer(int peer_fd)
{
    struct sockaddr_storage me, him;
    socklen_t ml = sizeof me, hl = sizeof him;
    ASSERT(getsockname(peer_fd, (struct sockaddr *)&me, &ml) == 0);
    ASSERT(getpeername(peer_fd, (struct sockaddr *)&him, &hl) == 0);
    for (int fd = 3; fd < 4096; fd++) {
        struct sockaddr_storage a, b;
        socklen_t al = sizeof a, bl = sizeof b;
        if (fd == peer_fd || getsockname(fd, (struct sockaddr *)&a, &al) != 0 ||
            getpeername(fd, (struct sockaddr *)&b, &bl) != 0)
            continue;
        if (al == hl && bl == ml && memcmp(&a, &him, al) == 0 && memcmp(&b, &me, bl) == 0)
            return fd;
    }
    gt_test_fail(__FILE__, __LINE__, "no fd of this process is the peer of fd %d", peer_fd);
    return -1;
}

/* ---- the sender: one run, then the writes it cost ---- */

enum { SEND, SENDV, MANY3, MANY1 }; /* how a step sends */

struct step {
    int how;
    size_t len; /* bytes of each packet */
};

struct job {
    gt_socket socks[2];
    int nsock;
    const struct step *steps;
    int nsteps;
    int home;
    gt_pid parent;
};

static uint8_t fill_of(int step, int k) { return (uint8_t)(step * 7 + k + 1); }

/* Every step on every socket, without a wait between them (one run of
 * the process, one pass), then back to the parent: 0 or the first error. */
static void sender(void *arg)
{
    struct job *j = arg;
    static uint8_t buf[3][2000];
    int rc = gt_scheduler_id() == j->home ? 0 : -1; /* pinned there */
    for (int i = 0; i < j->nsteps && rc == 0; i++) {
        const struct step *st = &j->steps[i];
        for (int k = 0; k < 3; k++)
            memset(buf[k], fill_of(i, k), st->len);
        struct iovec v[3] = {{buf[0], st->len}, {buf[1], st->len}, {buf[2], st->len}};
        for (int s = 0; s < j->nsock && rc == 0; s++) {
            gt_socket h = j->socks[s];
            switch (st->how) {
            case SEND:
                rc = gt_send(h, buf[0], st->len);
                break;
            case SENDV: /* one packet of two pieces */
                rc = gt_sendv(h, (struct iovec[]){{buf[0], st->len / 2},
                                                  {buf[0] + st->len / 2, st->len - st->len / 2}},
                              2);
                break;
            case MANY3:
                rc = gt_send_many(h, v, 3, NULL);
                break;
            default:
                rc = gt_send_many(h, v, 1, NULL);
            }
        }
    }
    h_post_int(j->parent, 1, rc);
}

/* The packets of the steps, in order, as the peer reads them. */
static void read_steps(int fd, const struct step *steps, int n)
{
    static uint8_t got[2000];
    for (int i = 0; i < n; i++) {
        int packets = steps[i].how == MANY3 ? 3 : 1;
        for (int k = 0; k < packets; k++) {
            uint8_t hdr[4];
            h_raw_read_exact(fd, hdr, 4);
            size_t len = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
            ASSERT_EQ(len, steps[i].len);
            h_raw_read_exact(fd, got, len);
            for (size_t b = 0; b < len; b++)
                if (got[b] != fill_of(i, steps[i].how == MANY3 ? k : 0))
                    gt_test_fail(__FILE__, __LINE__, "step %d packet %d byte %zu: %d", i, k, b,
                                 got[b]);
        }
    }
}

/* Runs the steps on nsock new sockets (same home) and returns the writes
 * on their fds (sendto, sendmsg, send: the ring's sends are not counted),
 * after checking what every peer read. */
static int run_counted(const struct step *steps, int n, int nsock)
{
    static struct job j;
    int fds[2];
    j = (struct job){.nsock = nsock, .steps = steps, .nsteps = n, .parent = gt_self()};
    for (int s = 0; s < nsock; s++) {
        j.socks[s] = h_raw_peer_server(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(4)), &fds[s]);
        atomic_store(&watched[s], fd_of_peer(fds[s]));
    }
    j.home = gt__sock_home(j.socks[0]);
    if (nsock > 1)
        ASSERT_EQ(gt__sock_home(j.socks[1]), j.home);
    atomic_store(&writes, 0);
    ASSERT_OK(gt_spawn(sender, &j, &(gt_spawn_opts){.scheduler = j.home}, NULL));
    ASSERT_OK(h_wait_int(1, H_WAIT));
    for (int s = 0; s < nsock; s++)
        read_steps(fds[s], steps, n);
    int w = atomic_load(&writes);
    for (int s = 0; s < nsock; s++) {
        atomic_store(&watched[s], -1);
        gt_close(j.socks[s]);
        close(fds[s]);
    }
    return w;
}

/* Eight 64-byte sends in one run: one write (fails without send16: 4,
 * every second send writing the listed queue at once); eight with the
 * batch off. */
GT_TEST(send16_sends_of_a_run_one_write)
{
    static const struct step steps[8] = {
        {SEND, 64}, {SEND, 64}, {SEND, 64}, {SEND, 64},
        {SEND, 64}, {SEND, 64}, {SEND, 64}, {SEND, 64},
    };
    ASSERT_EQ(run_counted(steps, 8, 1), h_uring_expected() ? 1 : 8);
}

/* Every kind of send joins the listed queue, in order: gt_send, gt_sendv,
 * gt_send_many of three and of one packet (fails without send16: 3). */
GT_TEST(send16_every_send_call_joins_the_queue)
{
    static const struct step steps[6] = {
        {SEND, 100}, {MANY3, 50}, {SENDV, 300}, {MANY1, 10}, {MANY3, 200}, {SEND, 1},
    };
    ASSERT_EQ(run_counted(steps, 6, 1), h_uring_expected() ? 1 : 6);
}

/* The bound: twenty 1,000-byte sends (1,004 bytes framed).  Sixteen fit
 * in 16 KiB; the seventeenth would take the queue beyond it and writes
 * all seventeen at once; the last three wait for the end of the pass:
 * two writes (fails without send16: 10). */
GT_TEST(send16_a_queue_beyond_the_bound_is_written_at_once)
{
    static struct step steps[20];
    for (int i = 0; i < 20; i++)
        steps[i] = (struct step){SEND, 1000};
    ASSERT_EQ(run_counted(steps, 20, 1), h_uring_expected() ? 2 : 20);
}

/* Two sockets, eight sends each in one run: both queues go in the pass's
 * one io_uring_enter, no write system call at all (fails without send16:
 * 8, each second send writing at once); sixteen with the batch off. */
GT_TEST(send16_two_sockets_one_enter_no_write)
{
    static const struct step steps[8] = {
        {SEND, 64}, {MANY1, 64}, {SEND, 64}, {MANY3, 64},
        {SEND, 64}, {SENDV, 64}, {SEND, 64}, {SEND, 64},
    };
    unsigned long long e0 = gt__uring_enters_total();
    int w = run_counted(steps, 8, 2);
    ASSERT_EQ(w, h_uring_expected() ? 0 : 16);
    ASSERT_EQ(gt__uring_enters_total() - e0, h_uring_expected() ? 1 : 0);
}

/* The same tests with the batch off: GT_IO_URING=0, every send written at
 * the call. */
GT_TEST(batch_off_runs_the_same_tests)
{
    static const char *const tests[] = {
        "send16_sends_of_a_run_one_write", "send16_every_send_call_joins_the_queue",
        "send16_a_queue_beyond_the_bound_is_written_at_once",
        "send16_two_sockets_one_enter_no_write", NULL};
    h_rerun_with_off("send_batch_test", "GT_IO_URING", tests);
}
