/*
 * local_test.c -- addresses beyond host and port (issue 9 item 3): AF_UNIX
 * stream sockets ({ifaddr, {local, Path}} and connect to {local, Path}),
 * abstract names, adopted descriptors ({fd, Fd}) and IPv6 scope ids.
 *
 * What is expected is what OTP 25 answered for the same calls (an escript
 * on a temporary path, 2026-11-30): sockname/peername give the path, the
 * unbound end gives an empty one; close does not unlink the path, so a
 * second listen on it fails with eaddrinuse; 108 bytes of path are einval,
 * 107 are fine; a port other than 0 with a local address is a badarg; on a
 * local socket inet ignores nodelay and getopts omits it, tos/ttl are
 * einval, and the socket backend answers enotsup to all three; a bad fd is
 * ebadf.  Socket files live in a fresh mkdtemp directory removed at the end.
 */
#include "helpers.h"

#include <net/if.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/un.h>

static char dir[64];

/* A path in the test's directory; four live at a time. */
static const char *tmp_path(const char *name)
{
    static char ring[4][128];
    static int next;
    char *p = ring[next++ % 4];
    if (!dir[0]) {
        strcpy(dir, "/tmp/gt-local-XXXXXX");
        ASSERT(mkdtemp(dir) != NULL);
    }
    snprintf(p, sizeof ring[0], "%s/%s", dir, name);
    return p;
}

/* Removes the test's directory and the socket files in it. */
static void tmp_clean(const char *const *names, size_t n)
{
    char p[128];
    for (size_t i = 0; i < n; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
}

static gt_socket local_connect(const void *path, size_t len, gt_optlist opts, int *rc)
{
    struct sockaddr_storage a;
    socklen_t alen;
    gt_socket c = {0};
    ASSERT_OK(gt_local_sockaddr(path, len, &a, &alen));
    *rc = gt_connect_sockaddr((struct sockaddr *)&a, alen, opts, H_WAIT, &c);
    return c;
}

static void assert_name(gt_socket s, bool peer, const char *want)
{
    struct sockaddr_storage a;
    char buf[160];
    ASSERT_OK((peer ? gt_peername : gt_sockname)(s, &a, NULL));
    ASSERT_EQ(a.ss_family, AF_UNIX);
    gt_addr_str(&a, buf, sizeof buf);
    if (strcmp(buf, want) != 0)
        gt_test_fail(__FILE__, __LINE__, "%s: %s, want %s", peer ? "peername" : "sockname",
                     buf, want);
}

GT_TEST(i9_03_local_listen_connect_accept_and_names)
{
    const char *path = tmp_path("s");
    char want[160];
    snprintf(want, sizeof want, "local:%s", path);
    gt_socket l = {0};
    ASSERT_OK(gt_listen(0, GT_OPTS(GT_LOCAL(path), GT_ACTIVE_FALSE, GT_BINARY), &l));
    int rc;
    gt_socket c = local_connect(path, strlen(path), GT_OPTS(GT_ACTIVE_FALSE), &rc);
    ASSERT_OK(rc);
    gt_socket a = h_accept(l);
    h_send(c, "hello");
    ASSERT_RECV(a, 5, H_WAIT, "hello");
    h_send(a, "back");
    ASSERT_RECV(c, 4, H_WAIT, "back");
    /* {ok,{local,<<"/path">>}} and {ok,{local,<<>>}} for the unbound end */
    assert_name(l, false, want);
    assert_name(a, false, want);
    assert_name(c, true, want);
    assert_name(c, false, "local:");
    assert_name(a, true, "local:");
    int port = -1;
    ASSERT_OK(gt_port(l, &port));
    ASSERT_EQ(port, 0);
    gt_close(c);
    gt_close(a);
    gt_close(l);
    const char *names[] = {"s"};
    tmp_clean(names, 1);
}

GT_TEST(i9_03_local_close_keeps_path_second_listen_eaddrinuse)
{
    const char *path = tmp_path("s");
    gt_socket l = {0}, l2 = {0};
    ASSERT_OK(gt_listen(0, GT_OPTS(GT_LOCAL(path)), &l));
    ASSERT_ERR(gt_listen(0, GT_OPTS(GT_LOCAL(path)), &l2), -EADDRINUSE);
    gt_close(l);
    struct stat st;
    ASSERT(stat(path, &st) == 0 && S_ISSOCK(st.st_mode)); /* not unlinked */
    ASSERT_ERR(gt_listen(0, GT_OPTS(GT_LOCAL(path)), &l2), -EADDRINUSE);
    int rc;
    local_connect(path, strlen(path), GT_NOOPTS, &rc);
    ASSERT_ERR(rc, -ECONNREFUSED);
    unlink(path);
    local_connect(path, strlen(path), GT_NOOPTS, &rc);
    ASSERT_ERR(rc, -ENOENT);
    ASSERT_OK(gt_listen(0, GT_OPTS(GT_LOCAL(path)), &l2));
    gt_close(l2);
    const char *names[] = {"s"};
    tmp_clean(names, 1);
}

GT_TEST(i9_03_local_path_length_107_ok_108_einval)
{
    char p[200];
    const char *base = tmp_path("");
    size_t bl = strlen(base);
    memset(p, 'b', sizeof p);
    memcpy(p, base, bl);
    p[107] = '\0';
    gt_socket l = {0};
    ASSERT_OK(gt_listen(0, GT_OPTS(GT_LOCAL(p)), &l));
    int rc;
    gt_socket c = local_connect(p, 107, GT_NOOPTS, &rc);
    ASSERT_OK(rc);
    gt_close(c);
    gt_close(l);
    unlink(p);
    p[107] = 'b';
    p[108] = '\0';
    ASSERT_ERR(gt_listen(0, GT_OPTS(GT_LOCAL(p)), &l), -EINVAL);
    struct sockaddr_storage a;
    socklen_t alen;
    ASSERT_ERR(gt_local_sockaddr(p, 108, &a, &alen), -EINVAL);
    rmdir(dir);
}

GT_TEST(i9_03_local_abstract_name)
{
    char name[64];
    int n = snprintf(name, sizeof name, "%cgt-local-test-%d", '\0', (int)getpid());
    gt_socket l = {0};
    ASSERT_OK(gt_listen(0, GT_OPTS(GT_LOCAL_BYTES(name, (size_t)n), GT_ACTIVE_FALSE), &l));
    int rc;
    gt_socket c = local_connect(name, (size_t)n, GT_OPTS(GT_ACTIVE_FALSE), &rc);
    ASSERT_OK(rc);
    gt_socket a = h_accept(l);
    h_send(c, "x");
    ASSERT_RECV(a, 1, H_WAIT, "x");
    char want[96];
    snprintf(want, sizeof want, "local:@%s", name + 1);
    assert_name(l, false, want);
    assert_name(c, true, want);
    /* the name is exactly its bytes: the kernel's length says so */
    struct sockaddr_storage s;
    socklen_t len = 0;
    ASSERT_OK(gt_sockname(l, &s, &len));
    ASSERT_EQ(len, offsetof(struct sockaddr_un, sun_path) + (size_t)n);
    ASSERT(memcmp(((struct sockaddr_un *)&s)->sun_path, name, (size_t)n) == 0);
    gt_close(c);
    gt_close(a);
    gt_close(l);
}

GT_TEST(i9_03_local_options_as_otp25)
{
    const char *path = tmp_path("s");
    const char *path2 = tmp_path("s2");
    gt_socket l = {0}, c2 = {0};
    ASSERT_OK(gt_listen(0, GT_OPTS(GT_LOCAL(path), GT_NODELAY(true)), &l));
    int rc;
    gt_socket c = local_connect(path, strlen(path), GT_OPTS(GT_NODELAY(true)), &rc);
    ASSERT_OK(rc);
    /* inet: nodelay ignored and omitted; tos, ttl einval */
    ASSERT_OK(gt_setopts(c, GT_OPTS(GT_NODELAY(true))));
    gt_opt g[2] = {{.name = GT_OPT_NODELAY}, {.name = GT_OPT_KEEPALIVE}};
    ASSERT_OK(gt_getopts(c, g, 2));
    ASSERT_EQ(g[0].name, GT_OPT_END_);
    ASSERT_EQ(g[1].name, GT_OPT_KEEPALIVE);
    ASSERT_ERR(gt_setopts(c, GT_OPTS(GT_TOS(5))), -EINVAL);
    ASSERT_ERR(gt_setopts(c, GT_OPTS(GT_TTL(5))), -EINVAL);
    ASSERT_OK(gt_setopts(c, GT_OPTS(GT_KEEPALIVE(true))));
    ASSERT_OPT(c, GT_OPT_KEEPALIVE, 1);
    /* socket backend: enotsup, at connect too */
    gt_socket l2 = {0};
    ASSERT_OK(gt_listen(0, GT_OPTS(GT_INET_BACKEND(GT_BACKEND_SOCKET), GT_LOCAL(path2)), &l2));
    ASSERT_ERR(gt_setopts(l2, GT_OPTS(GT_NODELAY(true))), -EOPNOTSUPP);
    ASSERT_ERR(gt_setopts(l2, GT_OPTS(GT_TOS(5))), -EOPNOTSUPP);
    local_connect(path2, strlen(path2),
                  GT_OPTS(GT_INET_BACKEND(GT_BACKEND_SOCKET), GT_NODELAY(true)), &rc);
    ASSERT_ERR(rc, -EOPNOTSUPP);
    /* a local address with inet6, an ip, or a port: badarg */
    ASSERT_ERR(gt_listen(0, GT_OPTS(GT_FAMILY(GT_INET6), GT_LOCAL(path2)), &c2), GT_EBADARG);
    ASSERT_ERR(gt_listen(0, GT_OPTS(GT_IP("127.0.0.1"), GT_LOCAL(path2)), &c2), GT_EBADARG);
    ASSERT_ERR(gt_listen(5, GT_OPTS(GT_LOCAL(path2)), &c2), GT_EBADARG);
    ASSERT_ERR(gt_connect("127.0.0.1", 1, GT_OPTS(GT_LOCAL(path2)), H_WAIT, &c2), GT_EBADARG);
    gt_close(c);
    gt_close(l);
    gt_close(l2);
    const char *names[] = {"s", "s2"};
    tmp_clean(names, 2);
}

/* ---- {fd, Fd} ---- */

static int raw_listener(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    ASSERT(fd >= 0);
    ASSERT(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
    ASSERT(listen(fd, 5) == 0);
    ASSERT(getsockname(fd, (struct sockaddr *)&a, &l) == 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static bool fd_open(int fd) { return fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

GT_TEST(i9_03_fd_listen_adopts_and_close_closes_it)
{
    int port;
    int fd = raw_listener(&port);
    gt_socket l = {0};
    ASSERT_OK(gt_listen(0, GT_OPTS(GT_FD(fd), GT_ACTIVE_FALSE), &l));
    ASSERT_EQ(h_port(l), port);
    ASSERT(fcntl(fd, F_GETFL) & O_NONBLOCK);
    ASSERT(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    gt_socket c = h_connect(port, GT_OPTS(GT_ACTIVE_FALSE));
    gt_socket a = h_accept(l);
    h_send(c, "via fd");
    ASSERT_RECV(a, 6, H_WAIT, "via fd");
    ASSERT(fd_open(fd));
    gt_close(l);
    ASSERT(!fd_open(fd)); /* gentcp owned it */
    gt_close(a);
    gt_close(c);
}

GT_TEST(i9_03_fd_bad_descriptors_stay_the_callers)
{
    gt_socket s = {0};
    int p[2];
    ASSERT(pipe(p) == 0);
    ASSERT_ERR(gt_listen(0, GT_OPTS(GT_FD(p[0])), &s), -ENOTSOCK);
    ASSERT_ERR(gt_connect("127.0.0.1", 1, GT_OPTS(GT_FD(p[1])), H_WAIT, &s), -ENOTSOCK);
    ASSERT(fd_open(p[0]) && fd_open(p[1]));
    close(p[1]);
    ASSERT_ERR(gt_listen(0, GT_OPTS(GT_FD(p[1])), &s), -EBADF); /* as inet's ebadf */
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    ASSERT_ERR(gt_listen(0, GT_OPTS(GT_FD(u)), &s), -EINVAL);
    ASSERT(fd_open(u));
    ASSERT_ERR(gt_listen(0, GT_OPTS(GT_FD(-1)), &s), GT_EBADARG);
    close(u);
    close(p[0]);
}

GT_TEST(i9_03_fd_connect_unconnected_and_connected)
{
    gt_socket l = h_listen(GT_OPTS(GT_ACTIVE_FALSE));
    int port = h_port(l);
    /* an open, unconnected socket: connect connects it */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    gt_socket c = {0};
    ASSERT_OK(gt_connect("127.0.0.1", port, GT_OPTS(GT_FD(fd), GT_ACTIVE_FALSE), H_WAIT, &c));
    gt_socket a = h_accept(l);
    h_send(c, "one");
    ASSERT_RECV(a, 3, H_WAIT, "one");
    gt_close(c);
    ASSERT(!fd_open(fd));
    gt_close(a);
    /* a connected one is adopted as it is (Erlang: eisconn) */
    int fd2 = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ASSERT(connect(fd2, (struct sockaddr *)&to, sizeof to) == 0);
    gt_socket c2 = {0};
    ASSERT_OK(gt_connect("127.0.0.1", port, GT_OPTS(GT_FD(fd2), GT_ACTIVE_FALSE), H_WAIT, &c2));
    gt_socket a2 = h_accept(l);
    h_send(a2, "two");
    ASSERT_RECV(c2, 3, H_WAIT, "two");
    gt_close(c2);
    ASSERT(!fd_open(fd2));
    gt_close(a2);
    gt_close(l);
}

/* ---- IPv6 scope ids ---- */

/* A link-local address needs its interface: without the scope id the
 * kernel refuses (einval); with it, through gt_connect_sockaddr or
 * "fe80::1%lo" in gt_connect, it connects.  The address is added to lo
 * inside a network namespace of this test's own (the runner forks each
 * test), so the host's interfaces are never touched. */
GT_TEST(i9_03_ipv6_scope_id_link_local)
{
    if (unshare(CLONE_NEWNET) != 0)
        SKIP("unshare(CLONE_NEWNET) not permitted (needs root / CAP_SYS_ADMIN)");
    if (system("ip link set lo up && ip -6 addr add fe80::1/64 dev lo nodad") != 0)
        SKIP("cannot add fe80::1 to lo in the test's namespace (no ip tool or no IPv6)");
    gt_socket l = {0};
    ASSERT_OK(gt_listen(0, GT_OPTS(GT_IP("::"), GT_ACTIVE_FALSE), &l));
    int port = h_port(l);
    struct sockaddr_in6 to = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
    inet_pton(AF_INET6, "fe80::1", &to.sin6_addr);
    gt_socket c = {0};
    ASSERT_ERR(gt_connect_sockaddr((struct sockaddr *)&to, sizeof to, GT_NOOPTS, H_WAIT, &c),
               -EINVAL);
    to.sin6_scope_id = if_nametoindex("lo");
    ASSERT(to.sin6_scope_id != 0);
    ASSERT_OK(gt_connect_sockaddr((struct sockaddr *)&to, sizeof to, GT_OPTS(GT_ACTIVE_FALSE),
                                  H_WAIT, &c));
    gt_socket a = h_accept(l);
    struct sockaddr_storage peer;
    char buf[96], want[96];
    ASSERT_OK(gt_peername(c, &peer, NULL));
    ASSERT_EQ(((struct sockaddr_in6 *)&peer)->sin6_scope_id, to.sin6_scope_id);
    snprintf(want, sizeof want, "[fe80::1%%lo]:%d", port);
    ASSERT(strcmp(gt_addr_str(&peer, buf, sizeof buf), want) == 0);
    h_send(c, "scoped");
    ASSERT_RECV(a, 6, H_WAIT, "scoped");
    gt_close(c);
    gt_close(a);
    gt_socket c2 = {0};
    ASSERT_OK(gt_connect("fe80::1%lo", port, GT_NOOPTS, H_WAIT, &c2));
    gt_close(c2);
    gt_close(l);
}

GT_TEST(i9_03_connect_sockaddr_bad_args)
{
    gt_socket c = {0};
    struct sockaddr_in a = {.sin_family = AF_INET};
    ASSERT_ERR(gt_connect_sockaddr(NULL, sizeof a, GT_NOOPTS, H_WAIT, &c), GT_EBADARG);
    ASSERT_ERR(gt_connect_sockaddr((struct sockaddr *)&a, 4, GT_NOOPTS, H_WAIT, &c), GT_EBADARG);
    a.sin_family = AF_APPLETALK;
    ASSERT_ERR(gt_connect_sockaddr((struct sockaddr *)&a, sizeof a, GT_NOOPTS, H_WAIT, &c),
               GT_EBADARG);
    a.sin_family = AF_INET;
    ASSERT_ERR(gt_connect_sockaddr((struct sockaddr *)&a, sizeof a, GT_OPTS(GT_FAMILY(GT_INET6)),
                                   H_WAIT, &c),
               GT_EBADARG);
    ASSERT_ERR(gt_connect_sockaddr((struct sockaddr *)&a, sizeof a, GT_NOOPTS, H_WAIT, NULL),
               GT_EBADARG);
    ASSERT_ERR(gt_local_sockaddr(NULL, 3, (struct sockaddr_storage *)&a, NULL), GT_EBADARG);
}
