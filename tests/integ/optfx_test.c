/*
 * optfx_test.c -- the effect of each option issue 9 item 2 added (and of
 * the IP-level ones before it), seen from outside gentcp: by the kernel
 * socket under the gentcp socket (getsockopt on its fd), by a plain
 * kernel peer (IP_PKTOPTIONS), or by where a connection can go (netns,
 * bind_to_device in a network namespace the test makes).  And bad
 * options leaving a socket as it was.  The defaults themselves are
 * compared with a live OTP 25 node by tests/interop/getopts.sh.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

/* The kernel descriptor under gentcp socket s: the one socket fd of this
 * process with s's local and peer address (a listen socket: local only). */
static int fd_of(gt_socket s)
{
    struct sockaddr_storage me, peer;
    socklen_t ml = sizeof me, pl = sizeof peer;
    ASSERT_EQ(gt_sockname(s, &me, &ml), 0);
    bool conn = gt_peername(s, &peer, &pl) == 0;
    int found = -1;
    DIR *d = opendir("/proc/self/fd");
    ASSERT(d != NULL);
    for (struct dirent *e; (e = readdir(d));) {
        int fd = atoi(e->d_name);
        struct sockaddr_storage a, b;
        socklen_t al = sizeof a, bl = sizeof b;
        memset(&a, 0, sizeof a);
        memset(&b, 0, sizeof b);
        if (e->d_name[0] == '.' || getsockname(fd, (struct sockaddr *)&a, &al) != 0 ||
            al != ml || memcmp(&a, &me, ml) != 0)
            continue;
        bool fconn = getpeername(fd, (struct sockaddr *)&b, &bl) == 0;
        if (fconn != conn || (conn && (bl != pl || memcmp(&b, &peer, pl) != 0)))
            continue;
        found = fd;
    }
    closedir(d);
    ASSERT(found >= 0);
    return found;
}

static int kget(int fd, int level, int name)
{
    int v = -1;
    socklen_t l = sizeof v;
    ASSERT_EQ(getsockopt(fd, level, name, &v, &l), 0);
    return v;
}

/* What a plain kernel socket kept of the last segment it received. */
static void kpkt(int fd, int *tos, int *ttl)
{
    union {
        struct cmsghdr align;
        char b[256];
    } buf;
    socklen_t len = sizeof buf.b;
    *tos = *ttl = -1;
    ASSERT_EQ(getsockopt(fd, IPPROTO_IP, IP_PKTOPTIONS, buf.b, &len), 0);
    struct msghdr m = {.msg_control = buf.b, .msg_controllen = len};
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level != IPPROTO_IP)
            continue;
        if (c->cmsg_type == IP_TOS)
            *tos = CMSG_DATA(c)[0];
        if (c->cmsg_type == IP_TTL)
            memcpy(ttl, CMSG_DATA(c), sizeof *ttl);
    }
}

/* A plain kernel listen socket on 127.0.0.1 with IP_RECVTOS/RECVTTL. */
static int klisten(int *port)
{
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    ASSERT(l >= 0);
    ASSERT_EQ(setsockopt(l, IPPROTO_IP, IP_RECVTOS, &one, sizeof one), 0);
    ASSERT_EQ(setsockopt(l, IPPROTO_IP, IP_RECVTTL, &one, sizeof one), 0);
    ASSERT_EQ(bind(l, (struct sockaddr *)&a, sizeof a), 0);
    ASSERT_EQ(listen(l, 4), 0);
    ASSERT_EQ(getsockname(l, (struct sockaddr *)&a, &al), 0);
    *port = ntohs(a.sin_port);
    return l;
}

static void krecv(int fd, size_t n)
{
    char b[64];
    size_t got = 0;
    while (got < n) {
        ssize_t r = recv(fd, b, sizeof b, 0);
        ASSERT(r > 0);
        got += (size_t)r;
    }
}

static gt_opt getopt1(gt_socket s, gt_optname name)
{
    gt_opt o;
    memset(&o, 0, sizeof o);
    o.name = name;
    int rc = gt_getopts(s, &o, 1);
    if (rc != 0)
        gt_test_fail(__FILE__, __LINE__, "getopts(%s): %s", gt_opt_name(name), gt_err_name(rc));
    return o;
}

/* tos and ttl set at connect are what the peer's kernel sees on the
 * segments that arrive; setopts changes them on the fd. */
GT_TEST(i9_2_tos_ttl_seen_by_peer)
{
    int port, l = klisten(&port);
    gt_socket c = h_connect(port, GT_OPTS(GT_TOS(16), GT_TTL(33)));
    int a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
    ASSERT(a >= 0);
    h_send(c, "one");
    krecv(a, 3);
    int tos, ttl;
    kpkt(a, &tos, &ttl);
    ASSERT_EQ(tos, 16);
    ASSERT_EQ(ttl, 33);
    ASSERT_EQ(gt_setopts(c, GT_OPTS(GT_TOS(8), GT_TTL(20))), 0);
    /* Linux keeps the pktoptions of the handshake: a change shows on the fd */
    ASSERT_EQ(kget(fd_of(c), IPPROTO_IP, IP_TOS), 8);
    ASSERT_EQ(kget(fd_of(c), IPPROTO_IP, IP_TTL), 20);
    gt_close(c);
    close(a);
    close(l);
}

/* recvtos/recvttl (set on the listen socket: inherited) make pktoptions
 * report the peer's tos and ttl; without them pktoptions is empty. */
GT_TEST(i9_2_recvtos_recvttl_pktoptions)
{
    for (int on = 1; on >= 0; on--) {
        gt_socket l = h_listen(GT_OPTS(GT_ACTIVE_FALSE, GT_RECVTOS(on), GT_RECVTTL(on)));
        int k = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), tos = 16, ttl = 33;
        ASSERT_EQ(setsockopt(k, IPPROTO_IP, IP_TOS, &tos, sizeof tos), 0);
        ASSERT_EQ(setsockopt(k, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl), 0);
        struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)h_port(l)),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        ASSERT_EQ(connect(k, (struct sockaddr *)&to, sizeof to), 0);
        gt_socket a = h_accept(l);
        ASSERT_OPT(a, GT_OPT_RECVTOS, on);
        ASSERT_OPT(a, GT_OPT_RECVTTL, on);
        ASSERT_EQ(send(k, "hi", 2, 0), 2);
        ASSERT_RECV(a, 2, H_WAIT, "hi");
        gt_opt p = getopt1(a, GT_OPT_PKTOPTIONS);
        ASSERT_EQ(p.v.pkt.tos, on ? 16 : -1);
        ASSERT_EQ(p.v.pkt.ttl, on ? 33 : -1);
        ASSERT_EQ(p.v.pkt.tclass, -1);
        close(k);
        gt_close(a);
        gt_close(l);
    }
}

/* IPv6: tclass on the sender, recvtclass on the receiver; on IPv4 both
 * are absent (getopts omits them, setopts is einval). */
GT_TEST(i9_2_tclass_recvtclass)
{
    gt_socket l = {0};
    if (gt_listen(0, GT_OPTS(GT_IP("::1"), GT_ACTIVE_FALSE, GT_RECVTCLASS(1)), &l) != 0)
        SKIP("no IPv6 loopback");
    gt_socket c = {0}, a;
    ASSERT_EQ(gt_connect("::1", h_port(l), GT_OPTS(GT_TCLASS(32)), H_WAIT, &c), 0);
    a = h_accept(l);
    ASSERT_OPT(c, GT_OPT_TCLASS, 32);
    ASSERT_EQ(kget(fd_of(c), IPPROTO_IPV6, IPV6_TCLASS), 32);
    ASSERT_OPT(a, GT_OPT_RECVTCLASS, 1);
    h_send(c, "v6");
    ASSERT_RECV(a, 2, H_WAIT, "v6");
    gt_opt p = getopt1(a, GT_OPT_PKTOPTIONS);
    ASSERT_EQ(p.v.pkt.tclass, 32);
    gt_close(c);
    gt_close(a);
    gt_close(l);

    gt_socket c4, a4;
    h_pair(GT_NOOPTS, GT_NOOPTS, NULL, &c4, &a4);
    ASSERT_ERR(gt_setopts(c4, GT_OPTS(GT_TCLASS(32))), -EINVAL);
    ASSERT_ERR(gt_setopts(c4, GT_OPTS(GT_RECVTCLASS(1))), -EINVAL);
    gt_opt o = {.name = GT_OPT_TCLASS};
    ASSERT_EQ(gt_getopts(c4, &o, 1), 0);
    ASSERT_EQ(o.name, GT_OPT_END_);
    gt_close(c4);
    gt_close(a4);
}

/* priority, dontroute, broadcast and nopush are the kernel's: each shows
 * on the fd; priority survives a later tos (inet's prio/tos trick). */
GT_TEST(i9_2_priority_dontroute_nopush_broadcast_on_fd)
{
    gt_socket c, a;
    h_pair(GT_NOOPTS, GT_OPTS(GT_PRIORITY(5), GT_NOPUSH(1), GT_BROADCAST(1)), NULL, &c, &a);
    int fd = fd_of(c);
    ASSERT_EQ(kget(fd, SOL_SOCKET, SO_PRIORITY), 5);
    ASSERT_EQ(kget(fd, IPPROTO_TCP, TCP_CORK), 1);
    ASSERT_EQ(kget(fd, SOL_SOCKET, SO_BROADCAST), 1);
    ASSERT_EQ(kget(fd, SOL_SOCKET, SO_DONTROUTE), 0);
    ASSERT_EQ(gt_setopts(c, GT_OPTS(GT_DONTROUTE(1), GT_TOS(96), GT_NOPUSH(0))), 0);
    ASSERT_EQ(kget(fd, SOL_SOCKET, SO_DONTROUTE), 1);
    ASSERT_EQ(kget(fd, SOL_SOCKET, SO_PRIORITY), 5);
    ASSERT_EQ(kget(fd, IPPROTO_TCP, TCP_CORK), 0);
    ASSERT_OPT(c, GT_OPT_DONTROUTE, 1);
    ASSERT_OPT(c, GT_OPT_PRIORITY, 5);
    ASSERT_OPT(c, GT_OPT_NOPUSH, 0);
    gt_close(c);
    gt_close(a);
}

/* The socket backend takes nopush and does nothing (OTP 25: ok, then
 * getopts {ok,[]}); broadcast is the inet backend's only: einval, and a
 * listen/connect with it is badarg. */
GT_TEST(i9_2_backend_only_options)
{
    gt_socket l, c;
    ASSERT_EQ(gt_listen(0, GT_OPTS(GT_INET_BACKEND(GT_BACKEND_SOCKET), GT_IP("127.0.0.1")), &l), 0);
    c = h_connect(h_port(l), GT_OPTS(GT_INET_BACKEND(GT_BACKEND_SOCKET)));
    gt_socket a = h_accept(l);
    gt_close(l);
    ASSERT_EQ(gt_setopts(c, GT_OPTS(GT_NOPUSH(1))), 0);
    ASSERT_EQ(kget(fd_of(c), IPPROTO_TCP, TCP_CORK), 0);
    gt_opt o = {.name = GT_OPT_NOPUSH};
    ASSERT_EQ(gt_getopts(c, &o, 1), 0);
    ASSERT_EQ(o.name, GT_OPT_END_);
    ASSERT_ERR(gt_setopts(c, GT_OPTS(GT_NODELAY(1), GT_BROADCAST(1))), -EINVAL);
    ASSERT_OPT(c, GT_OPT_NODELAY, 0); /* the whole list was refused */
    ASSERT_EQ(kget(fd_of(c), SOL_SOCKET, SO_BROADCAST), 0);
    gt_socket x = {0};
    ASSERT_ERR(gt_listen(0, GT_OPTS(GT_INET_BACKEND(GT_BACKEND_SOCKET), GT_BROADCAST(1)), &x),
               GT_EBADARG);
    /* the socket backend's low_watermark reads back as SO_RCVLOWAT would,
     * as OTP 25 maps it, but the descriptor keeps 1 (DEVIATIONS row 22) */
    ASSERT_OPT(c, GT_OPT_LOW_WATERMARK, 1);
    ASSERT_EQ(gt_setopts(c, GT_OPTS(GT_LOW_WATERMARK(7))), 0);
    ASSERT_EQ(kget(fd_of(c), SOL_SOCKET, SO_RCVLOWAT), 1);
    ASSERT_OPT(c, GT_OPT_LOW_WATERMARK, 7);
    /* the kernel's own reading of 0 and of a negative value */
    int plain = socket(AF_INET, SOCK_STREAM, 0), want[] = {0, -5};
    ASSERT(plain >= 0);
    for (int i = 0; i < 2; i++) {
        ASSERT_EQ(setsockopt(plain, SOL_SOCKET, SO_RCVLOWAT, &want[i], sizeof want[i]), 0);
        ASSERT_EQ(gt_setopts(c, GT_OPTS(GT_LOW_WATERMARK(want[i]))), 0);
        ASSERT_OPT(c, GT_OPT_LOW_WATERMARK, kget(plain, SOL_SOCKET, SO_RCVLOWAT));
        ASSERT_EQ(kget(fd_of(c), SOL_SOCKET, SO_RCVLOWAT), 1);
    }
    close(plain);
    /* high_watermark (ignored there, OTP omits it) leaves it alone */
    ASSERT_EQ(gt_setopts(c, GT_OPTS(GT_LOW_WATERMARK(3000), GT_HIGH_WATERMARK(10))), 0);
    ASSERT_OPT(c, GT_OPT_LOW_WATERMARK, 3000);
    gt_close(c);
    gt_close(a);
}

struct late_sender {
    gt_socket sock;
    int delay_ms;
};

static void send_late(void *arg)
{
    struct late_sender *j = arg;
    gt_sleep(j->delay_ms);
    gt_send(j->sock, "abc", 3);
}

/* DEVIATIONS row 22: the socket backend's low_watermark (OTP: SO_RCVLOWAT)
 * never holds input back.  Bytes fewer than the mark that arrive while a
 * recv waits, or while an active socket waits, are delivered: with the
 * mark on the descriptor the kernel reported no readiness for them and
 * both waited for ever (found by combo_test). */
GT_TEST(i12_socket_low_watermark_never_holds_back_input)
{
    gt_socket l = {0}, c, a;
    ASSERT_OK(gt_listen(0, GT_OPTS(GT_INET_BACKEND(GT_BACKEND_SOCKET), GT_IP("127.0.0.1"),
                                   GT_ACTIVE_FALSE, GT_LOW_WATERMARK(1024)), &l));
    c = h_connect(h_port(l), GT_OPTS(GT_INET_BACKEND(GT_BACKEND_SOCKET), GT_ACTIVE_FALSE,
                                     GT_LOW_WATERMARK(1024)));
    a = h_accept(l);
    ASSERT_OPT(a, GT_OPT_LOW_WATERMARK, 1024);
    /* a passive recv that waits when the bytes come */
    struct late_sender j = {c, 100};
    h_spawn(send_late, &j);
    ASSERT_RECV(a, 0, H_WAIT, "abc");
    /* an active socket */
    ASSERT_OK(gt_setopts(a, GT_OPTS(GT_ACTIVE_ONCE)));
    h_spawn(send_late, &j);
    gt_msg *m = h_expect(a, GT_MSG_TCP);
    ASSERT_STR(m, "abc");
    gt_msg_free(m);
    gt_close(c);
    gt_close(a);
    gt_close(l);
}

/* {raw, Level, Name, Bin}: set goes to the kernel, getopts reads at most
 * the size asked for. */
GT_TEST(i9_2_raw)
{
    gt_socket c, a;
    h_pair(GT_NOOPTS, GT_NOOPTS, NULL, &c, &a);
    int one = 1;
    ASSERT_EQ(gt_setopts(c, GT_OPTS(GT_RAW(SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one))), 0);
    ASSERT_EQ(kget(fd_of(c), SOL_SOCKET, SO_KEEPALIVE), 1);
    ASSERT_OPT(c, GT_OPT_KEEPALIVE, 1);
    unsigned char b[8];
    memset(b, 0xee, sizeof b);
    gt_opt o = GT_RAW(SOL_SOCKET, SO_KEEPALIVE, b, 8);
    ASSERT_EQ(gt_getopts(c, &o, 1), 0);
    ASSERT_EQ(o.v.raw.len, 4);
    int v;
    memcpy(&v, b, sizeof v);
    ASSERT_EQ(v, 1);
    o = GT_RAW(SOL_SOCKET, SO_KEEPALIVE, b, 2);
    ASSERT_EQ(gt_getopts(c, &o, 1), 0);
    ASSERT_EQ(o.v.raw.len, 2);
    /* a level or name the kernel does not know: its error, nothing set */
    ASSERT_ERR(gt_setopts(c, GT_OPTS(GT_RAW(SOL_SOCKET, 12345, &one, sizeof one))), -ENOPROTOOPT);
    ASSERT_ERR(gt_setopts(c, GT_OPTS(GT_RAW(-1, SO_KEEPALIVE, &one, sizeof one))), -EINVAL);
    ASSERT_ERR(gt_setopts(c, GT_OPTS(GT_RAW(SOL_SOCKET, SO_KEEPALIVE, NULL, 4))), -EINVAL);
    gt_close(c);
    gt_close(a);
}

/* deliver and the msgq watermarks: stored, checked, clamped as inet does
 * (rule 11), inherited on accept, reported per backend. */
GT_TEST(i9_2_deliver_msgq_watermarks)
{
    gt_socket l = h_listen(GT_OPTS(GT_DELIVER(GT_DELIVER_PORT), GT_HIGH_MSGQ_WATERMARK(300)));
    gt_socket c = h_connect(h_port(l), GT_NOOPTS), a = h_accept(l);
    ASSERT_OPT(a, GT_OPT_DELIVER, GT_DELIVER_PORT);
    ASSERT_OPT(a, GT_OPT_HIGH_MSGQ_WATERMARK, 300);
    ASSERT_OPT(c, GT_OPT_DELIVER, GT_DELIVER_TERM);
    ASSERT_ERR(gt_setopts(c, GT_OPTS(GT_HIGH_MSGQ_WATERMARK(0))), -EINVAL);
    ASSERT_ERR(gt_setopts(c, GT_OPTS(GT_DELIVER(7))), -EINVAL);
    ASSERT_EQ(gt_setopts(c, GT_OPTS(GT_HIGH_MSGQ_WATERMARK(100), GT_LOW_MSGQ_WATERMARK(200))), 0);
    ASSERT_OPT(c, GT_OPT_HIGH_MSGQ_WATERMARK, 100);
    ASSERT_OPT(c, GT_OPT_LOW_MSGQ_WATERMARK, 100);
    ASSERT_EQ(gt_setopts(c, GT_OPTS(GT_LOW_MSGQ_WATERMARK(200), GT_HIGH_MSGQ_WATERMARK(100))), 0);
    ASSERT_OPT(c, GT_OPT_HIGH_MSGQ_WATERMARK, 200);
    ASSERT_OPT(c, GT_OPT_LOW_MSGQ_WATERMARK, 200);
    gt_close(a);
    gt_close(c);
    gt_close(l);
}

/* Bad options: an unknown name, a wrong type, a value out of range, a
 * device that does not exist.  Each is an error and the socket keeps
 * every option it had, the others of the same list included. */
GT_TEST(i9_2_bad_options_leave_socket_unchanged)
{
    gt_socket c, a;
    h_pair(GT_NOOPTS, GT_NOOPTS, NULL, &c, &a);
    const gt_opt bad[] = {
        GT__OPT_I((gt_optname)(GT_OPT_COUNT_ + 3), 1), /* unknown */
        GT_NODELAY(2),                                   /* not a boolean */
        GT_TOS(-1),                                      /* out of range */
        GT_LOW_MSGQ_WATERMARK(0),
        GT_DELIVER(-1),
        GT__OPT_I(GT_OPT_PKTOPTIONS, 0),                /* getopts only */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        gt_opt l2[3] = {GT_NODELAY(1), GT_PRIORITY(4), bad[i]};
        ASSERT_ERR(gt_setopts(c, (gt_optlist){l2, 3}), -EINVAL);
        ASSERT_OPT(c, GT_OPT_NODELAY, 0);
        ASSERT_OPT(c, GT_OPT_PRIORITY, 0);
        ASSERT_EQ(kget(fd_of(c), IPPROTO_TCP, TCP_NODELAY), 0);
    }
    ASSERT_ERR(gt_setopts(c, GT_OPTS(GT_BIND_TO_DEVICE("nosuchdev0"))), -ENODEV);
    unsigned char name[32];
    gt_opt d = GT__OPT_BIN(GT_OPT_BIND_TO_DEVICE, name, sizeof name);
    ASSERT_EQ(gt_getopts(c, &d, 1), 0);
    ASSERT_EQ(d.v.bin.len, 0);
    ASSERT_ERR(gt_setopts(c, GT_OPTS(GT_TTL(300))), -EINVAL); /* the kernel's range */
    ASSERT_OPT(c, GT_OPT_TTL, h_geti(a, GT_OPT_TTL));
    gt_socket x = {0};
    ASSERT_ERR(gt_connect("127.0.0.1", h_port(c), GT_OPTS(GT_DELIVER(9)), H_WAIT, &x), GT_EBADARG);
    ASSERT_ERR(gt_connect("127.0.0.1", h_port(c), GT_OPTS(GT_NETNS(NULL)), H_WAIT, &x), GT_EBADARG);
    gt_close(c);
    gt_close(a);
}

/* ---- netns and bind_to_device, in a network namespace made here ---- */

static char ns_path[64];

static int sh(const char *cmd)
{
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* A namespace with lo up and a veth pair va/vb (va 10.9.9.1/24): a
 * connection bound to va goes out there, where nothing answers.  The test
 * holds it by a descriptor and removes its name at once, so a failing
 * assertion (which ends the process) leaves nothing behind: ns_path is
 * /proc/self/fd/N. */
static void ns_make(void)
{
    if (geteuid() != 0)
        SKIP("needs root to make a network namespace");
    if (sh("ip -V >/dev/null 2>&1") != 0)
        SKIP("the ip command (iproute2) is not installed");
    char name[32], cmd[512];
    snprintf(name, sizeof name, "gtopts%d", (int)getpid());
    snprintf(cmd, sizeof cmd,
             "ip netns add %1$s && ip -n %1$s link set lo up && "
             "ip -n %1$s link add va type veth peer name vb && "
             "ip -n %1$s addr add 10.9.9.1/24 dev va && ip -n %1$s link set va up && "
             "ip -n %1$s link set vb up",
             name);
    int rc = sh(cmd);
    snprintf(cmd, sizeof cmd, "/var/run/netns/%s", name);
    int fd = rc == 0 ? open(cmd, O_RDONLY) : -1;
    snprintf(cmd, sizeof cmd, "ip netns del %s 2>/dev/null", name);
    sh(cmd);
    if (fd < 0)
        SKIP("cannot make a network namespace with a veth pair (ip netns add failed)");
    snprintf(ns_path, sizeof ns_path, "/proc/self/fd/%d", fd);
}

GT_TEST(i9_2_netns_and_bind_to_device)
{
    ns_make();
    /* a listener in the namespace is not reachable from this one */
    gt_socket l = {0}, c = {0}, x = {0};
    int rc = gt_listen(0, GT_OPTS(GT_IP("127.0.0.1"), GT_NETNS(ns_path), GT_ACTIVE_FALSE), &l);
    if (rc != 0)
        gt_test_fail(__FILE__, __LINE__, "listen in netns: %s", gt_err_name(rc));
    int port = h_port(l);
    gt_opt o = {.name = GT_OPT_NETNS};
    ASSERT_EQ(gt_getopts(l, &o, 1), 0);
    ASSERT_EQ(o.name, GT_OPT_END_); /* inet: {ok,[]} */
    int here = gt_connect("127.0.0.1", port, GT_NOOPTS, H_WAIT, &x);
    if (here == 0)
        gt_close(x);
    ASSERT_EQ(here, -ECONNREFUSED);
    /* bound to lo inside it: connects */
    rc = gt_connect("127.0.0.1", port, GT_OPTS(GT_NETNS(ns_path), GT_BIND_TO_DEVICE("lo")),
                    H_WAIT, &c);
    ASSERT_EQ(rc, 0);
    gt_socket a = h_accept(l);
    char name[32];
    gt_opt d = GT__OPT_BIN(GT_OPT_BIND_TO_DEVICE, name, sizeof name);
    ASSERT_EQ(gt_getopts(c, &d, 1), 0);
    ASSERT_EQ(d.v.bin.len, 2);
    ASSERT_MEM(name, 3, "lo", 3);
    h_send(c, "ns");
    ASSERT_RECV(a, 2, H_WAIT, "ns");
    gt_close(c);
    gt_close(a);
    /* bound to va: the SYN leaves by va, nobody answers */
    rc = gt_connect("127.0.0.1", port, GT_OPTS(GT_NETNS(ns_path), GT_BIND_TO_DEVICE("va")),
                    1000, &c);
    if (rc == 0)
        gt_close(c);
    ASSERT(rc != 0);
    /* a namespace that does not exist: connect says so */
    ASSERT_ERR(gt_connect("127.0.0.1", port, GT_OPTS(GT_NETNS("/nonexistent/netns")), H_WAIT, &x),
               -ENOENT);
    gt_close(l);
}

/* The SOL_SOCKET/TCP options that are the kernel's: set at connect and by
 * setopts, each shows on the fd (Linux doubles the buffer sizes). */
GT_TEST(i9_2_socket_level_options_on_fd)
{
    gt_socket c, a;
    h_pair(GT_NOOPTS, GT_OPTS(GT_NODELAY(1), GT_KEEPALIVE(1), GT_REUSEADDR(1), GT_RECBUF(65536)),
           NULL, &c, &a);
    int fd = fd_of(c);
    ASSERT_EQ(kget(fd, IPPROTO_TCP, TCP_NODELAY), 1);
    ASSERT_EQ(kget(fd, SOL_SOCKET, SO_KEEPALIVE), 1);
    ASSERT_EQ(kget(fd, SOL_SOCKET, SO_REUSEADDR), 1);
    ASSERT_EQ(kget(fd, SOL_SOCKET, SO_RCVBUF), 2 * 65536);
    ASSERT_EQ(gt_setopts(c, GT_OPTS(GT_NODELAY(0), GT_KEEPALIVE(0), GT_SNDBUF(32768),
                                    GT_LINGER(1, 7))), 0);
    ASSERT_EQ(kget(fd, IPPROTO_TCP, TCP_NODELAY), 0);
    ASSERT_EQ(kget(fd, SOL_SOCKET, SO_KEEPALIVE), 0);
    ASSERT_EQ(kget(fd, SOL_SOCKET, SO_SNDBUF), 2 * 32768);
    struct linger lg;
    socklen_t ll = sizeof lg;
    ASSERT_EQ(getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &ll), 0);
    ASSERT_EQ(lg.l_onoff, 1);
    ASSERT_EQ(lg.l_linger, 7);
    ASSERT_OPT(c, GT_OPT_SNDBUF, 2 * 32768);
    gt_close(c);
    gt_close(a);
}

/* rule 8: recbuf raises an unset buffer on inet only (OTP 25 socket:
 * buffer stays 8192 after {recbuf,65536}). */
GT_TEST(r8_recbuf_buffer_coupling_inet_only)
{
    gt_socket l, c;
    ASSERT_EQ(gt_listen(0, GT_OPTS(GT_INET_BACKEND(GT_BACKEND_SOCKET), GT_IP("127.0.0.1")), &l), 0);
    c = h_connect(h_port(l), GT_OPTS(GT_INET_BACKEND(GT_BACKEND_SOCKET), GT_RECBUF(65536)));
    ASSERT_OPT(c, GT_OPT_BUFFER, 8192);
    ASSERT_EQ(gt_setopts(l, GT_OPTS(GT_RECBUF(30000))), 0);
    ASSERT_OPT(l, GT_OPT_BUFFER, 8192);
    gt_close(c);
    gt_close(l);
    gt_socket c4, a4;
    h_pair(GT_NOOPTS, GT_OPTS(GT_RECBUF(65536)), NULL, &c4, &a4);
    ASSERT_OPT(c4, GT_OPT_BUFFER, 65536);
    gt_close(c4);
    gt_close(a4);
}

/* rule 12 with shared options (issue 11, src/socket/optblock.c): an
 * accepted socket starts with its listen socket's options, and an option
 * set on it afterwards changes neither the listen socket's nor a sibling's
 * -- nor does an option set on the listen socket change the sockets it
 * accepted before.  Framing follows each socket's own packet type. */
GT_TEST(i11_option_set_on_accepted_socket_is_its_own)
{
    gt_socket l = h_listen(GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(4), GT_HIGH_WATERMARK(10000),
                                   GT_NODELAY(true)));
    int port = h_port(l);
    gt_socket c1 = h_connect(port, GT_OPTS(GT_PACKET(2))), a1 = h_accept(l);
    gt_socket c2 = h_connect(port, GT_OPTS(GT_PACKET(4))), a2 = h_accept(l);
    ASSERT_OK(gt_setopts(a1, GT_OPTS(GT_PACKET(2), GT_HIGH_WATERMARK(20000), GT_DELAY_SEND(true),
                                     GT_ACTIVE_ONCE)));
    ASSERT_OPT(a1, GT_OPT_PACKET, 2);
    ASSERT_OPT(a1, GT_OPT_HIGH_WATERMARK, 20000);
    ASSERT_OPT(a1, GT_OPT_DELAY_SEND, 1);
    gt_socket both[] = {l, a2};
    for (int i = 0; i < 2; i++) {
        ASSERT_OPT(both[i], GT_OPT_PACKET, 4);
        ASSERT_OPT(both[i], GT_OPT_HIGH_WATERMARK, 10000);
        ASSERT_OPT(both[i], GT_OPT_DELAY_SEND, 0);
        ASSERT_OPT(both[i], GT_OPT_ACTIVE, GT_ACTIVE_FALSE_V);
    }
    ASSERT_OK(gt_setopts(l, GT_OPTS(GT_PACKET(1))));
    ASSERT_OPT(a2, GT_OPT_PACKET, 4);
    ASSERT_OPT(a1, GT_OPT_PACKET, 2);
    gt_socket c3 = h_connect(port, GT_NOOPTS), a3 = h_accept(l);
    ASSERT_OPT(a3, GT_OPT_PACKET, 1);
    ASSERT_OPT(a3, GT_OPT_HIGH_WATERMARK, 10000);
    /* each frames with its own type */
    ASSERT_OK(gt_send(c2, "four", 4));
    ASSERT_RECV(a2, 0, H_WAIT, "four");
    ASSERT_OK(gt_setopts(a1, GT_OPTS(GT_ACTIVE_FALSE)));
    ASSERT_OK(gt_send(c1, "two", 3));
    ASSERT_RECV(a1, 0, H_WAIT, "two");
    gt_socket all[] = {c1, a1, c2, a2, c3, a3, l};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        gt_close(all[i]);
}
