/*
 * app.c -- a program built against an installed gentcp (by install.sh, once
 * with pkg-config and once with CMake's find_package): one packet through a
 * loopback connection, then the library's version.  Prints "gentcp VERSION"
 * and exits 0, or prints the failing call and exits 1.
 */
#include <stdio.h>
#include <string.h>

#include <gentcp.h>

static int fail(const char *what, int rc)
{
    printf("%s: %s\n", what, gt_err_name(rc));
    return 1;
}

int main(void)
{
    gt_socket l, c, a;
    gt_msg *m;
    int port, rc;
    if ((rc = gt_listen(0, GT_OPTS(GT_IP("127.0.0.1"), GT_PACKET(2), GT_ACTIVE_FALSE), &l)))
        return fail("listen", rc);
    if ((rc = gt_port(l, &port)))
        return fail("port", rc);
    if ((rc = gt_connect("127.0.0.1", port, GT_OPTS(GT_PACKET(2)), 5000, &c)))
        return fail("connect", rc);
    if ((rc = gt_accept(l, 5000, &a)))
        return fail("accept", rc);
    if ((rc = gt_send(c, "ping", 4)))
        return fail("send", rc);
    if ((rc = gt_recv(a, 0, 5000, &m)))
        return fail("recv", rc);
    int same = m->len == 4 && memcmp(m->data, "ping", 4) == 0;
    gt_msg_free(m);
    if (!same)
        return fail("recv", GT_EBADARG);
    if (strcmp(gt_version(), GT_VERSION) != 0)
        return fail("version", GT_EBADARG);
    printf("gentcp %s\n", gt_version());
    return 0;
}
