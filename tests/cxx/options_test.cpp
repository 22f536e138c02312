// options_test.cpp -- gentcp.h from C++: the option builders (GT_OPTS and
// every GT_<OPTION> form, which are compound literals in C) compile with
// g++ -Wall -Wextra -Werror, and the options they build arrive intact: they
// are read back with gt_getopts, and a packet goes through a {packet,4}
// connection.  Prints "ok NAME" or "FAIL NAME: why" lines; exit 1 on failure.
#include <cstdio>
#include <cstring>

#include "gentcp.h"

static int failures;

static void check(bool ok, const char *name, const char *why)
{
    std::printf(ok ? "ok cxx:%s\n" : "FAIL cxx:%s: %s\n", name, why);
    if (!ok)
        failures++;
}

static int64_t geti(gt_socket s, gt_optname name)
{
    gt_opt o = GT__OPT_I(name, 0);
    return gt_getopts(s, &o, 1) == 0 ? o.v.i : -999;
}

int main()
{
    gt_socket l, c, a;
    int port = 0;
    int rc = gt_listen(0,
                       GT_OPTS(GT_IP("127.0.0.1"), GT_ACTIVE_FALSE, GT_PACKET(GT_PKT_4),
                               GT_BINARY, GT_REUSEADDR(true), GT_LINGER(1, 3),
                               GT_SEND_TIMEOUT(1500), GT_BACKLOG(8)),
                       &l);
    check(rc == 0, "listen_with_builders", gt_err_name(rc));
    if (rc != 0)
        return 1;
    check(gt_port(l, &port) == 0 && port > 0, "port", "no port");

    gt_opt got[] = {GT_PACKET(0), GT_ACTIVE_TRUE, GT_LIST, GT_REUSEADDR(false),
                    GT_LINGER(0, 0), GT_SEND_TIMEOUT(0)};
    rc = gt_getopts(l, got, sizeof got / sizeof got[0]);
    check(rc == 0 && got[0].v.i == GT_PKT_4 && got[1].v.i == GT_ACTIVE_FALSE_V &&
              got[2].v.i == GT_MODE_BINARY && got[3].v.i == 1 && got[4].v.linger.on == 1 &&
              got[4].v.linger.seconds == 3 && got[5].v.i == 1500,
          "getopts_reads_back_what_was_set", gt_err_name(rc));

    rc = gt_connect("127.0.0.1", port, GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(4)), 5000, &c);
    check(rc == 0, "connect", gt_err_name(rc));
    rc = gt_accept(l, 5000, &a);
    check(rc == 0, "accept", gt_err_name(rc));
    if (failures)
        return 1;

    rc = gt_setopts(a, GT_OPTS(GT_ACTIVE_N(3), GT_NODELAY(true)));
    check(rc == 0 && geti(a, GT_OPT_ACTIVE) == 3 && geti(a, GT_OPT_NODELAY) == 1,
          "setopts_active_n", gt_err_name(rc));
    check(gt_setopts(a, GT_OPTS(GT_ACTIVE_FALSE)) == 0 && gt_setopts(a, GT_NOOPTS) == 0,
          "setopts_noopts", "setopts failed");

    rc = gt_send(c, "hello", 5);
    gt_msg *m = nullptr;
    if (rc == 0)
        rc = gt_recv(a, 0, 5000, &m);
    check(rc == 0 && m && m->len == 5 && std::memcmp(m->data, "hello", 5) == 0,
          "packet4_roundtrip", gt_err_name(rc));
    gt_msg_free(m);

    /* the bytes builder: an abstract local name ({ifaddr, {local, <<0,...>>}}) */
    static const char lname[] = "\0gt-cxx-local";
    gt_socket ll, lc;
    struct sockaddr_storage sa;
    socklen_t salen = 0;
    rc = gt_listen(0, GT_OPTS(GT_LOCAL_BYTES(lname, sizeof lname - 1), GT_ACTIVE_FALSE), &ll);
    if (rc == 0)
        rc = gt_local_sockaddr(lname, sizeof lname - 1, &sa, &salen);
    if (rc == 0)
        rc = gt_connect_sockaddr(reinterpret_cast<struct sockaddr *>(&sa), salen,
                                 GT_OPTS(GT_ACTIVE_FALSE), 5000, &lc);
    check(rc == 0, "local_bytes_builder", gt_err_name(rc));
    if (rc == 0) {
        gt_close(lc);
        gt_close(ll);
    }

    gt_decode_result res;
    const char hdr[] = "x-my-header: v\r\n\r\n";
    rc = gt_decode_packet(GT_PKT_HTTPH, hdr, sizeof hdr - 1, nullptr, &res);
    gt_http_str name = gt_http_header_name(&res.http);
    check(rc == 0 && res.status == GT_DECODE_PACKET && name.len == 11 &&
              std::memcmp(name.ptr, "X-My-Header", 11) == 0,
          "decode_packet", gt_err_name(rc));

    check(std::strcmp(gt_version(), GT_VERSION) == 0, "version", gt_version());
    gt_close(c);
    gt_close(a);
    gt_close(l);
    return failures ? 1 : 0;
}
