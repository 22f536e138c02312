/*
 * opt_kernel.c -- the options whose kernel side is more than one int
 * setsockopt: IP_TOS without losing SO_PRIORITY, IP_PKTOPTIONS,
 * {raw, ...}, SO_BINDTODEVICE, and sockets made in another network
 * namespace (netns).  options.c decides when; these talk to the kernel.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "socket/sock.h"

/* Linux sets SO_PRIORITY from the TOS bits whenever IP_TOS changes, so
 * priority 3 then tos 96 would leave priority 0.  inet_drv keeps options
 * independent (setopt_prio_tos_trick): it reads the priority first and
 * sets it again afterwards, ignoring EPERM (a priority the kernel chose
 * that we may not set back).  IPV6_TCLASS leaves the priority alone. */
int gt__kopt_set_ip_tos(int fd, int tos)
{
    int prio = 0;
    socklen_t l = sizeof prio;
    bool have_prio = getsockopt(fd, SOL_SOCKET, SO_PRIORITY, &prio, &l) == 0;
    if (setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof tos))
        return gt__errno();
    if (have_prio && setsockopt(fd, SOL_SOCKET, SO_PRIORITY, &prio, sizeof prio) &&
        errno != EPERM)
        return gt__errno();
    return 0;
}

/* IP_PKTOPTIONS (IPV6_2292PKTOPTIONS): the ancillary data the kernel kept
 * from the last segment received, for the recvtos/recvttl/recvtclass that
 * are on.  A TCP socket has no recvmsg control data per read, so this is
 * where those options show (as inet:getopts(S, [pktoptions]) on Linux). */
int gt__kopt_get_pktoptions(int fd, int family, int *tos, int *ttl, int *tclass)
{
    *tos = *ttl = *tclass = -1;
    union {
        struct cmsghdr align;
        char b[256];
    } buf;
    socklen_t len = sizeof buf.b;
    int rc = family == AF_INET6
                 ? getsockopt(fd, IPPROTO_IPV6, IPV6_2292PKTOPTIONS, buf.b, &len)
                 : getsockopt(fd, IPPROTO_IP, IP_PKTOPTIONS, buf.b, &len);
    if (rc)
        return gt__errno();
    struct msghdr m = {.msg_control = buf.b, .msg_controllen = len};
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        const unsigned char *d = CMSG_DATA(c);
        size_t n = c->cmsg_len - CMSG_LEN(0);
        int iv = 0;
        if (n >= sizeof iv)
            memcpy(&iv, d, sizeof iv);
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS && n >= 1)
            *tos = d[0];
        else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL && n >= sizeof iv)
            *ttl = iv;
        else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS && n >= sizeof iv)
            *tclass = iv;
        else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_2292HOPLIMIT &&
                 n >= sizeof iv)
            *ttl = iv;
    }
    return 0;
}

int gt__kopt_raw_get(int fd, gt_opt *op)
{
    socklen_t len = (socklen_t)op->v.raw.len;
    if (op->v.raw.len > INT32_MAX || (len && !op->v.raw.p))
        return -EINVAL;
    if (getsockopt(fd, op->v.raw.level, op->v.raw.name, op->v.raw.p, &len))
        return gt__errno();
    op->v.raw.len = len;
    return 0;
}

int gt__kopt_raw_set(int fd, const gt_opt *op)
{
    return setsockopt(fd, op->v.raw.level, op->v.raw.name, op->v.raw.p,
                      (socklen_t)op->v.raw.len) ? gt__errno() : 0;
}

int gt__kopt_device_set(int fd, const char *name)
{
    return setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name ? name : "",
                      (socklen_t)(name ? strlen(name) : 0)) ? gt__errno() : 0;
}

/* The caller's buffer gets the name and its NUL; len says its length.  A
 * buffer too small for the name is einval, as nothing partial is given. */
int gt__kopt_device_get(int fd, gt_opt *op)
{
    char name[IFNAMSIZ + 1] = {0};
    socklen_t len = IFNAMSIZ;
    if (getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name, &len))
        return gt__errno();
    size_t n = strnlen(name, IFNAMSIZ);
    if (!op->v.bin.p || op->v.bin.len < n + 1)
        return -EINVAL;
    memcpy(op->v.bin.p, name, n + 1);
    op->v.bin.len = n;
    return 0;
}

/* socket() in the network namespace of path, as inet_drv does for
 * {netns, Path}: enter it on this thread, make the socket, come back.
 * Nothing else runs on the thread meanwhile (no yield), so no other
 * process sees the foreign namespace. */
int gt__kopt_netns_socket(const char *path, int family, int type)
{
    int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (self < 0)
        return gt__errno();
    int ns = open(path, O_RDONLY | O_CLOEXEC);
    if (ns < 0) {
        int rc = gt__errno();
        close(self);
        return rc;
    }
    int fd = setns(ns, CLONE_NEWNET) == 0 ? socket(family, type, 0) : -1;
    int rc = fd < 0 ? gt__errno() : fd;
    close(ns);
    if (setns(self, CLONE_NEWNET) != 0)
        abort(); /* never leave a scheduler thread in another namespace */
    close(self);
    return rc;
}
