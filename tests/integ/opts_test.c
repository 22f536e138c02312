/*
 * opts_test.c -- docs/spec/semantics.md §1 for the options gentcp has: defaults
 * (rule 1), getopts shape (3), setopts validation (4), bad create options
 * (6), buffer (7), recbuf/buffer coupling (8), watermark clamping (10) and
 * inheritance on accept (12).  [inet]
 */
#include "helpers.h"

static int os_default_ttl(void)
{
    FILE *f = fopen("/proc/sys/net/ipv4/ip_default_ttl", "r");
    int ttl = 64;
    if (f) {
        if (fscanf(f, "%d", &ttl) != 1)
            ttl = 64;
        fclose(f);
    }
    return ttl;
}

static gt_opt getopt1(gt_socket s, gt_optname name)
{
    gt_opt o = {.name = name};
    int rc = gt_getopts(s, &o, 1);
    if (rc != 0)
        gt_test_fail(__FILE__, __LINE__, "getopts(%s): %s", gt_opt_name(name), gt_err_name(rc));
    return o;
}

/* The rule-1 table (inet column) for one socket. */
static void check_defaults(gt_socket s, const char *what)
{
    fprintf(stderr, "  checking defaults on %s\n", what);
    ASSERT_OPT(s, GT_OPT_ACTIVE, GT_ACTIVE_TRUE_V);
    ASSERT_OPT(s, GT_OPT_BUFFER, 1460);
    ASSERT_OPT(s, GT_OPT_DEBUG, 0);
    ASSERT_OPT(s, GT_OPT_DELAY_SEND, 0);
    ASSERT_OPT(s, GT_OPT_DONTROUTE, 0);
    ASSERT_OPT(s, GT_OPT_EXIT_ON_CLOSE, 1);
    ASSERT_OPT(s, GT_OPT_HEADER, 0);
    ASSERT_OPT(s, GT_OPT_HIGH_WATERMARK, 8192);
    ASSERT_OPT(s, GT_OPT_LOW_WATERMARK, 4096);
    ASSERT_OPT(s, GT_OPT_KEEPALIVE, 0);
    ASSERT_OPT(s, GT_OPT_NODELAY, 0);
    ASSERT_OPT(s, GT_OPT_REUSEADDR, 0);
    gt_opt lg = getopt1(s, GT_OPT_LINGER);
    ASSERT_EQ(lg.v.linger.on, 0);
    ASSERT_EQ(lg.v.linger.seconds, 0);
    ASSERT_OPT(s, GT_OPT_MODE, GT_MODE_LIST);
    ASSERT_OPT(s, GT_OPT_PACKET, GT_PKT_RAW);
    ASSERT_OPT(s, GT_OPT_PACKET_SIZE, 0);
    ASSERT_OPT(s, GT_OPT_PRIORITY, 0);
    ASSERT_OPT(s, GT_OPT_TOS, 0);
    ASSERT_OPT(s, GT_OPT_TTL, os_default_ttl());
    ASSERT_OPT(s, GT_OPT_SEND_TIMEOUT, GT_INFINITY);
    ASSERT_OPT(s, GT_OPT_SEND_TIMEOUT_CLOSE, 0);
    ASSERT_OPT(s, GT_OPT_SHOW_ECONNRESET, 0);
    ASSERT(h_geti(s, GT_OPT_RECBUF) > 0);
    ASSERT(h_geti(s, GT_OPT_SNDBUF) > 0);
}

/* r1: defaults on the listen, connected and accepted sockets. */
GT_TEST(r1_defaults_listen_connect_accept)
{
    gt_socket l;
    ASSERT_OK(gt_listen(0, GT_OPTS(GT_IP("127.0.0.1")), &l));
    check_defaults(l, "listen");
    gt_socket c, a;
    ASSERT_OK(gt_connect("127.0.0.1", h_port(l), GT_NOOPTS, H_WAIT, &c));
    check_defaults(c, "connect");
    a = h_accept(l);
    check_defaults(a, "accept");
}

/* r1 (IPv6): the same defaults on inet6 sockets. */
GT_TEST(r1_defaults_inet6)
{
    gt_socket l;
    ASSERT_OK(gt_listen(0, GT_OPTS(GT_IP("::1"), GT_FAMILY(GT_INET6)), &l));
    check_defaults(l, "listen6");
    gt_socket c;
    ASSERT_OK(gt_connect("::1", h_port(l), GT_OPTS(GT_FAMILY(GT_INET6)), H_WAIT, &c));
    check_defaults(c, "connect6");
    check_defaults(h_accept(l), "accept6");
}

/* r1/r72 (E): ipv6_v6only reads false on an inet6 listen on ::, true on one
 * bound to ::1 (and on its accepted sockets), false on a connected one. */
GT_TEST(r1_ipv6_v6only_readings)
{
    gt_socket any, l, c;
    ASSERT_OK(gt_listen(0, GT_OPTS(GT_FAMILY(GT_INET6)), &any));
    ASSERT_OPT(any, GT_OPT_IPV6_V6ONLY, 0);
    ASSERT_OK(gt_listen(0, GT_OPTS(GT_IP("::1"), GT_FAMILY(GT_INET6)), &l));
    ASSERT_OPT(l, GT_OPT_IPV6_V6ONLY, 1);
    ASSERT_OK(gt_connect("::1", h_port(l), GT_OPTS(GT_FAMILY(GT_INET6)), H_WAIT, &c));
    ASSERT_OPT(c, GT_OPT_IPV6_V6ONLY, 0);
    ASSERT_OPT(h_accept(l), GT_OPT_IPV6_V6ONLY, 1);
}

/* r1/r3 (E): line_delimiter and backlog are not readable [inet]: getopts ->
 * einval (backlog on listen and connected sockets alike). */
GT_TEST(r1_unreadable_options_einval)
{
    gt_socket l = h_listen(GT_NOOPTS);
    gt_socket c = h_connect(h_port(l), GT_NOOPTS);
    gt_opt o = {.name = GT_OPT_LINE_DELIMITER};
    ASSERT_ERR(gt_getopts(c, &o, 1), -EINVAL);
    o = (gt_opt){.name = GT_OPT_BACKLOG};
    ASSERT_ERR(gt_getopts(l, &o, 1), -EINVAL);
    ASSERT_ERR(gt_getopts(c, &o, 1), -EINVAL);
}

/* r1/r3 (E): inet_backend is a create option only; inet:getopts(S,
 * [inet_backend]) -> {error,einval} [inet]. */
GT_TEST(r1_inet_backend_not_readable)
{
    gt_socket l = h_listen(GT_NOOPTS);
    gt_socket c = h_connect(h_port(l), GT_NOOPTS);
    gt_opt o = {.name = GT_OPT_INET_BACKEND};
    ASSERT_ERR(gt_getopts(c, &o, 1), -EINVAL);
    ASSERT_ERR(gt_getopts(l, &o, 1), -EINVAL);
}

/* r3: getopts with no names -> ok; an unknown name fails the whole call. */
GT_TEST(r3_getopts_shape)
{
    gt_socket l = h_listen(GT_NOOPTS);
    ASSERT_OK(gt_getopts(l, NULL, 0));
    gt_opt o[2] = {{.name = GT_OPT_NODELAY}, {.name = (gt_optname)999}};
    ASSERT_ERR(gt_getopts(l, o, 2), -EINVAL);
    o[1].name = GT_OPT_COUNT_;
    ASSERT_ERR(gt_getopts(l, o, 2), -EINVAL);
    gt_opt two[2] = {{.name = GT_OPT_BUFFER}, {.name = GT_OPT_PACKET}};
    ASSERT_OK(gt_getopts(l, two, 2));
    ASSERT_EQ(two[0].v.i, 1460);
    ASSERT_EQ(two[1].v.i, 0);
}

/* r4: bad setopts values -> einval, the socket unchanged. */
GT_TEST(r4_setopts_validation)
{
    gt_socket c, a;
    h_ppair(&c, &a);
    gt_socket s = c;
    ASSERT_ERR(gt_setopts(s, GT_OPTS(GT_NODELAY(2))), -EINVAL);
    ASSERT_ERR(gt_setopts(s, GT_OPTS(GT_KEEPALIVE(-1))), -EINVAL);
    ASSERT_ERR(gt_setopts(s, GT_OPTS(GT_EXIT_ON_CLOSE(7))), -EINVAL);
    ASSERT_ERR(gt_setopts(s, GT_OPTS(GT_HEADER(-1))), -EINVAL);
    ASSERT_ERR(gt_setopts(s, GT_OPTS(GT_PACKET_SIZE(-1))), -EINVAL);
    ASSERT_ERR(gt_setopts(s, GT_OPTS(GT_PACKET(3))), -EINVAL);
    ASSERT_ERR(gt_setopts(s, GT_OPTS(GT_PACKET(5))), -EINVAL);
    ASSERT_ERR(gt_setopts(s, GT_OPTS(GT_PACKET(-1))), -EINVAL);
    ASSERT_ERR(gt_setopts(s, GT_OPTS(GT_PACKET(99))), -EINVAL);
    ASSERT_ERR(gt_setopts(s, GT_OPTS(GT_SEND_TIMEOUT(-2))), -EINVAL);
    ASSERT_ERR(gt_setopts(s, GT_OPTS(GT__OPT_I(GT_OPT_MODE, 2))), -EINVAL);
    ASSERT_ERR(gt_setopts(s, GT_OPTS(GT__OPT_I((gt_optname)999, 1))), -EINVAL);
    ASSERT_ERR(gt_setopts(s, GT_OPTS(GT__OPT_I(GT_OPT_COUNT_, 1))), -EINVAL);
    ASSERT_ERR(gt_setopts(s, GT_OPTS(GT_TTL(0))), -EINVAL);
    ASSERT_ERR(gt_setopts(s, GT_OPTS(GT_TTL(300))), -EINVAL);
    ASSERT_ERR(gt_setopts(s, GT_OPTS(GT_BACKLOG(3))), -EINVAL);
    /* nothing changed */
    ASSERT_OPT(s, GT_OPT_NODELAY, 0);
    ASSERT_OPT(s, GT_OPT_HEADER, 0);
    ASSERT_OPT(s, GT_OPT_PACKET, 0);
    ASSERT_OPT(s, GT_OPT_PACKET_SIZE, 0);
    ASSERT_OPT(s, GT_OPT_SEND_TIMEOUT, GT_INFINITY);
    ASSERT_OPT(s, GT_OPT_MODE, GT_MODE_LIST);
    /* the valid forms */
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_SEND_TIMEOUT(0))));
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_SEND_TIMEOUT(GT_INFINITY))));
    ASSERT_OPT(s, GT_OPT_SEND_TIMEOUT, GT_INFINITY);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_BINARY)));
    ASSERT_OPT(s, GT_OPT_MODE, GT_MODE_BINARY);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_LIST)));
    ASSERT_OK(gt_setopts(s, GT_NOOPTS));
}

/* r4: a list with a type error is rejected as a whole. */
GT_TEST(r4_setopts_atomic_on_type_error)
{
    gt_socket c, a;
    h_ppair(&c, &a);
    ASSERT_ERR(gt_setopts(c, GT_OPTS(GT_NODELAY(true), GT_PACKET(3))), -EINVAL);
    ASSERT_OPT(c, GT_OPT_NODELAY, 0);
    ASSERT_ERR(gt_setopts(c, GT_OPTS(GT_PACKET(2), GT_HEADER(-1))), -EINVAL);
    ASSERT_OPT(c, GT_OPT_PACKET, 0);
}

/* r4: every packet type in the documented set is accepted and reads back. */
GT_TEST(r4_setopts_packet_types_roundtrip)
{
    gt_socket c, a;
    h_ppair(&c, &a);
    static const int types[] = {GT_PKT_1,     GT_PKT_2,     GT_PKT_4,      GT_PKT_ASN1,
                                GT_PKT_SUNRM, GT_PKT_CDR,   GT_PKT_FCGI,   GT_PKT_TPKT,
                                GT_PKT_LINE,  GT_PKT_HTTP,  GT_PKT_HTTPH,  GT_PKT_HTTP_BIN,
                                GT_PKT_HTTPH_BIN, GT_PKT_RAW};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        ASSERT_OK(gt_setopts(c, GT_OPTS(GT_PACKET(types[i]))));
        ASSERT_OPT(c, GT_OPT_PACKET, types[i]);
    }
}

/* r6: bad options to listen/connect -> badarg (Erlang raises). */
GT_TEST(r6_bad_create_options_badarg)
{
    gt_socket l = h_listen(GT_NOOPTS);
    int port = h_port(l);
    gt_socket x;
    /* listen-only / connect-only options */
    ASSERT_ERR(gt_connect("127.0.0.1", port, GT_OPTS(GT_BACKLOG(5)), H_WAIT, &x), GT_EBADARG);
    ASSERT_ERR(gt_listen(0, GT_OPTS(GT_LINE_DELIMITER(';')), &x), GT_EBADARG);
    ASSERT_ERR(gt_connect("127.0.0.1", port, GT_OPTS(GT_IPV6_V6ONLY(true)), H_WAIT, &x),
               GT_EBADARG);
    ASSERT_ERR(gt_connect("127.0.0.1", port, GT_OPTS(GT__OPT_I(GT_OPT_DONTROUTE, 1)), H_WAIT, &x),
               GT_EBADARG);
    ASSERT_ERR(gt_listen(0, GT_OPTS(GT__OPT_I(GT_OPT_DONTROUTE, 1)), &x), GT_EBADARG);
    /* bad values */
    ASSERT_ERR(gt_listen(0, GT_OPTS(GT_PACKET(3)), &x), GT_EBADARG);
    ASSERT_ERR(gt_connect("127.0.0.1", port, GT_OPTS(GT_PACKET_SIZE(-1)), H_WAIT, &x),
               GT_EBADARG);
    ASSERT_ERR(gt_connect("127.0.0.1", port, GT_OPTS(GT_NODELAY(2)), H_WAIT, &x), GT_EBADARG);
    ASSERT_ERR(gt_listen(0, GT_OPTS(GT_ACTIVE_N(40000)), &x), GT_EBADARG);
    ASSERT_ERR(gt_listen(0, GT_OPTS(GT__OPT_I((gt_optname)999, 0)), &x), GT_EBADARG);
    ASSERT_ERR(gt_listen(0, GT_OPTS(GT_IP("not-an-address")), &x), GT_EBADARG);
    /* bad ports */
    ASSERT_ERR(gt_listen(-1, GT_NOOPTS, &x), GT_EBADARG);
    ASSERT_ERR(gt_listen(70000, GT_NOOPTS, &x), GT_EBADARG);
    ASSERT_ERR(gt_connect("127.0.0.1", 70000, GT_NOOPTS, H_WAIT, &x), GT_EBADARG);
    ASSERT_ERR(gt_connect("127.0.0.1", -1, GT_NOOPTS, H_WAIT, &x), GT_EBADARG);
}

/* r6: listen accepts ipv6_v6only (on inet6); connect accepts line_delimiter. */
GT_TEST(r6_create_only_options_accepted)
{
    gt_socket l, c;
    ASSERT_OK(gt_listen(0, GT_OPTS(GT_IP("::1"), GT_IPV6_V6ONLY(false)), &l));
    gt_socket l4 = h_listen(GT_NOOPTS);
    ASSERT_OK(gt_connect("127.0.0.1", h_port(l4), GT_OPTS(GT_LINE_DELIMITER(';')), H_WAIT, &c));
}

/* r5/gentcp.h: in a connect/listen list a duplicated option: the last wins
 * (Erlang agrees for create lists: IN add_opt keydelete). */
GT_TEST(r5_create_list_last_wins)
{
    gt_socket l;
    ASSERT_OK(gt_listen(0, GT_OPTS(GT_IP("127.0.0.1"), GT_PACKET(1), GT_PACKET(2)), &l));
    ASSERT_OPT(l, GT_OPT_PACKET, 2);
    gt_socket c;
    ASSERT_OK(gt_connect("127.0.0.1", h_port(l), GT_OPTS(GT_ACTIVE_N(3), GT_ACTIVE_FALSE), H_WAIT,
                         &c));
    ASSERT_OPT(c, GT_OPT_ACTIVE, GT_ACTIVE_FALSE_V);
}

/* r7: buffer < 1 is clamped to 1; no upper clamp. */
GT_TEST(r7_buffer_clamp)
{
    gt_socket c, a;
    h_ppair(&c, &a);
    ASSERT_OK(gt_setopts(c, GT_OPTS(GT_BUFFER(0))));
    ASSERT_OPT(c, GT_OPT_BUFFER, 1);
    ASSERT_OK(gt_setopts(c, GT_OPTS(GT_BUFFER(-1))));
    ASSERT_OPT(c, GT_OPT_BUFFER, 1);
    ASSERT_OK(gt_setopts(c, GT_OPTS(GT_BUFFER(100000000))));
    ASSERT_OPT(c, GT_OPT_BUFFER, 100000000);
}

/* r7: buffer caps one raw active message. */
GT_TEST(r7_buffer_caps_active_message)
{
    gt_socket p, s;
    h_pair(GT_OPTS(GT_BUFFER(100)), GT_OPTS(GT_ACTIVE_FALSE), NULL, &p, &s);
    static char data[1000];
    memset(data, 'b', sizeof data);
    ASSERT_OK(gt_send(p, data, sizeof data));
    size_t got = 0;
    while (got < sizeof data) {
        gt_msg *m = h_expect(s, GT_MSG_TCP);
        ASSERT(m->len >= 1 && m->len <= 100);
        got += m->len;
        gt_msg_free(m);
    }
    ASSERT_EQ(got, sizeof data);
}

/* r8: recbuf raises buffer while buffer was never set; sndbuf never does. */
GT_TEST(r8_recbuf_raises_buffer)
{
    gt_socket l = h_listen(GT_OPTS(GT_ACTIVE_FALSE));
    gt_socket c;
    ASSERT_OK(gt_connect("127.0.0.1", h_port(l), GT_OPTS(GT_RECBUF(4000)), H_WAIT, &c));
    ASSERT_OPT(c, GT_OPT_BUFFER, 4000);
    ASSERT_OK(gt_setopts(c, GT_OPTS(GT_RECBUF(65536))));
    ASSERT_OPT(c, GT_OPT_BUFFER, 65536);

    gt_socket c2 = h_connect(h_port(l), GT_NOOPTS);
    ASSERT_OK(gt_setopts(c2, GT_OPTS(GT_RECBUF(1000))));
    ASSERT_OPT(c2, GT_OPT_BUFFER, 1460);
    ASSERT_OK(gt_setopts(c2, GT_OPTS(GT_SNDBUF(65536))));
    ASSERT_OPT(c2, GT_OPT_BUFFER, 1460);
    ASSERT_OK(gt_setopts(c2, GT_OPTS(GT_BUFFER(2000))));
    ASSERT_OK(gt_setopts(c2, GT_OPTS(GT_RECBUF(65536))));
    ASSERT_OPT(c2, GT_OPT_BUFFER, 2000);

    /* buffer given explicitly at connect (even = default) also counts */
    gt_socket c3;
    ASSERT_OK(gt_connect("127.0.0.1", h_port(l), GT_OPTS(GT_BUFFER(1460)), H_WAIT, &c3));
    ASSERT_OK(gt_setopts(c3, GT_OPTS(GT_RECBUF(65536))));
    ASSERT_OPT(c3, GT_OPT_BUFFER, 1460);
}

/* r1: Linux doubles a set recbuf/sndbuf; getopts shows the OS value. */
GT_TEST(r1_recbuf_sndbuf_os_values)
{
    gt_socket c, a;
    h_ppair(&c, &a);
    ASSERT_OK(gt_setopts(c, GT_OPTS(GT_RECBUF(65536), GT_SNDBUF(65536))));
    ASSERT_OPT(c, GT_OPT_RECBUF, 131072);
    ASSERT_OPT(c, GT_OPT_SNDBUF, 131072);
}

/* r10: watermark clamping: negative -> 0; high below low lowers low; low
 * above high raises high. */
GT_TEST(r10_watermark_clamping)
{
    gt_socket c, a;
    h_ppair(&c, &a);
    ASSERT_OK(gt_setopts(c, GT_OPTS(GT_HIGH_WATERMARK(-5))));
    ASSERT_OPT(c, GT_OPT_HIGH_WATERMARK, 0);
    ASSERT_OPT(c, GT_OPT_LOW_WATERMARK, 0);
    ASSERT_OK(gt_setopts(c, GT_OPTS(GT_HIGH_WATERMARK(8192))));
    ASSERT_OK(gt_setopts(c, GT_OPTS(GT_LOW_WATERMARK(4096))));
    ASSERT_OK(gt_setopts(c, GT_OPTS(GT_HIGH_WATERMARK(100))));
    ASSERT_OPT(c, GT_OPT_HIGH_WATERMARK, 100);
    ASSERT_OPT(c, GT_OPT_LOW_WATERMARK, 100);
    ASSERT_OK(gt_setopts(c, GT_OPTS(GT_LOW_WATERMARK(20000))));
    ASSERT_OPT(c, GT_OPT_HIGH_WATERMARK, 20000);
    ASSERT_OPT(c, GT_OPT_LOW_WATERMARK, 20000);
    ASSERT_OK(gt_setopts(c, GT_OPTS(GT_LOW_WATERMARK(-1))));
    ASSERT_OPT(c, GT_OPT_LOW_WATERMARK, 0);
    ASSERT_OPT(c, GT_OPT_HIGH_WATERMARK, 20000);
}

/* r12: an accepted socket inherits the listen socket's options, including
 * ones changed on L with setopts after listen. */
GT_TEST(r12_inheritance_on_accept)
{
    gt_socket l;
    ASSERT_OK(gt_listen(0,
                        GT_OPTS(GT_IP("127.0.0.1"), GT_BINARY, GT_EXIT_ON_CLOSE(false),
                                GT_PACKET(2), GT_PACKET_SIZE(1000), GT_HEADER(1), GT_BUFFER(3000),
                                GT_HIGH_WATERMARK(20000), GT_LOW_WATERMARK(10000),
                                GT_SEND_TIMEOUT(1234), GT_SEND_TIMEOUT_CLOSE(true),
                                GT_SHOW_ECONNRESET(true), GT_ACTIVE_ONCE),
                        &l));
    ASSERT_OK(gt_setopts(l, GT_OPTS(GT_NODELAY(true), GT_KEEPALIVE(true), GT_DELAY_SEND(true),
                                    GT_PRIORITY(3), GT_LINGER(1, 7), GT_TOS(16), GT_TTL(33),
                                    GT_RECBUF(65536), GT_SNDBUF(65536))));
    gt_socket c = h_connect(h_port(l), GT_OPTS(GT_ACTIVE_FALSE));
    gt_socket a = h_accept(l);
    static const gt_optname names[] = {
        GT_OPT_MODE,           GT_OPT_EXIT_ON_CLOSE,      GT_OPT_PACKET,
        GT_OPT_PACKET_SIZE,    GT_OPT_HEADER,             GT_OPT_BUFFER,
        GT_OPT_HIGH_WATERMARK, GT_OPT_LOW_WATERMARK,      GT_OPT_SEND_TIMEOUT,
        GT_OPT_SEND_TIMEOUT_CLOSE, GT_OPT_SHOW_ECONNRESET, GT_OPT_ACTIVE,
        GT_OPT_NODELAY,        GT_OPT_KEEPALIVE,          GT_OPT_DELAY_SEND,
        GT_OPT_PRIORITY,       GT_OPT_TOS,                GT_OPT_TTL,
        GT_OPT_RECBUF,         GT_OPT_SNDBUF};
    static const int64_t want[] = {GT_MODE_BINARY, 0, 2, 1000, 1, 3000, 20000, 10000, 1234, 1, 1,
                                   GT_ACTIVE_ONCE_V, 1, 1, 1, 3, 16, 33, 131072, 131072};
    int bad = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        int64_t lv = h_geti(l, names[i]), av = h_geti(a, names[i]);
        if (lv != want[i] || av != want[i]) {
            fprintf(stderr, "  %s: L %lld, A %lld, want %lld\n", gt_opt_name(names[i]),
                    (long long)lv, (long long)av, (long long)want[i]);
            bad++;
        }
    }
    ASSERT_EQ(bad, 0);
    gt_opt lg = {.name = GT_OPT_LINGER};
    ASSERT_OK(gt_getopts(a, &lg, 1));
    ASSERT_EQ(lg.v.linger.on, 1);
    ASSERT_EQ(lg.v.linger.seconds, 7);
    /* and it behaves that way: {packet,2}, active once */
    ASSERT_OK(gt_send(c, "\0\2hi", 4));
    EXPECT_TCP(a, "hi");
    ASSERT_OPT(a, GT_OPT_ACTIVE, GT_ACTIVE_FALSE_V);
}

/* r12: line_delimiter is not inherited [inet]: the accepted socket splits
 * on \n (E: L {packet,line} + setopts line_delimiter ';' -> "a;b\n"). */
GT_TEST(r12_line_delimiter_not_inherited)
{
    gt_socket l = h_listen(GT_OPTS(GT_ACTIVE_FALSE));
    ASSERT_OK(gt_setopts(l, GT_OPTS(GT_PACKET(GT_PKT_LINE), GT_LINE_DELIMITER(';'),
                                    GT_PACKET_SIZE(77))));
    gt_socket c = h_connect(h_port(l), GT_NOOPTS);
    gt_socket a = h_accept(l);
    ASSERT_OPT(a, GT_OPT_PACKET, GT_PKT_LINE);
    ASSERT_OPT(a, GT_OPT_PACKET_SIZE, 77);
    h_send(c, "a;b\n");
    ASSERT_RECV(a, 0, H_WAIT, "a;b\n");
}

/* i7 item 8 (E): Linux resets SO_PRIORITY when IP_TOS changes; inet sets the
 * priority again, so the options stay independent.  (E: priority 3 then
 * tos 96 -> [3, 96]; [priority 5, tos 32] -> [5, 32]; connect and listen
 * lists with both, either order -> [3, 96], and so does the accepted
 * socket; priority 0 then tos 128 -> [0, 128].) */
static void expect_prio_tos(gt_socket s, int64_t prio, int64_t tos)
{
    ASSERT_OPT(s, GT_OPT_PRIORITY, prio);
    ASSERT_OPT(s, GT_OPT_TOS, tos);
}

GT_TEST(i7_08_tos_keeps_priority_setopts)
{
    gt_socket c, a;
    h_ppair(&c, &a);
    ASSERT_OK(gt_setopts(c, GT_OPTS(GT_PRIORITY(3))));
    ASSERT_OK(gt_setopts(c, GT_OPTS(GT_TOS(96))));
    expect_prio_tos(c, 3, 96);
    ASSERT_OK(gt_setopts(c, GT_OPTS(GT_PRIORITY(5), GT_TOS(32))));
    expect_prio_tos(c, 5, 32);
    ASSERT_OK(gt_setopts(c, GT_OPTS(GT_TOS(64), GT_PRIORITY(2))));
    expect_prio_tos(c, 2, 64);
    ASSERT_OK(gt_setopts(c, GT_OPTS(GT_PRIORITY(0))));
    ASSERT_OK(gt_setopts(c, GT_OPTS(GT_TOS(16)))); /* Linux would pick 6 */
    expect_prio_tos(c, 0, 16);
}

GT_TEST(i7_08_tos_keeps_priority_create_lists)
{
    gt_socket l = h_listen(GT_OPTS(GT_PRIORITY(3), GT_TOS(96)));
    expect_prio_tos(l, 3, 96);
    gt_socket c1 = h_connect(h_port(l), GT_OPTS(GT_ACTIVE_FALSE, GT_PRIORITY(3), GT_TOS(96)));
    expect_prio_tos(c1, 3, 96);
    expect_prio_tos(h_accept(l), 3, 96);
    gt_socket c2 = h_connect(h_port(l), GT_OPTS(GT_ACTIVE_FALSE, GT_TOS(96), GT_PRIORITY(3)));
    expect_prio_tos(c2, 3, 96);
}

/* i7 item 8: on inet6 sockets tos is IPV6_TCLASS, which Linux does not tie
 * to the priority (E: priority 3 then tclass 96 -> priority 3). */
GT_TEST(i7_08_tclass_keeps_priority)
{
    gt_socket l, c;
    ASSERT_OK(gt_listen(0, GT_OPTS(GT_IP("::1"), GT_FAMILY(GT_INET6)), &l));
    ASSERT_OK(gt_connect("::1", h_port(l), GT_OPTS(GT_FAMILY(GT_INET6), GT_PRIORITY(3), GT_TOS(96)),
                         H_WAIT, &c));
    expect_prio_tos(c, 3, 96);
    ASSERT_OK(gt_setopts(c, GT_OPTS(GT_TOS(16))));
    expect_prio_tos(c, 3, 16);
}

/* Create-only options read back as OTP 25 answers (checked on the node):
 * inet says einval for each; the socket backend leaves ip, backlog and
 * tcp_module out and gives the descriptor for fd. */
GT_TEST(i9_2_create_only_options_in_getopts)
{
    for (int b = GT_BACKEND_INET; b <= GT_BACKEND_SOCKET; b++) {
        gt_socket l;
        ASSERT_OK(gt_listen(0, GT_OPTS(GT_INET_BACKEND(b), GT_IP("127.0.0.1")), &l));
        gt_opt o[4] = {{.name = GT_OPT_IP}, {.name = GT_OPT_BACKLOG}, {.name = GT_OPT_TCP_MODULE},
                       {.name = GT_OPT_FD}};
        if (b == GT_BACKEND_INET) {
            for (int i = 0; i < 4; i++)
                ASSERT_ERR(gt_getopts(l, &o[i], 1), -EINVAL);
        } else {
            ASSERT_OK(gt_getopts(l, o, 4));
            for (int i = 0; i < 3; i++)
                ASSERT_EQ(o[i].name, GT_OPT_END_);
            ASSERT_EQ(o[3].name, GT_OPT_FD);
            struct sockaddr_in a;
            socklen_t al = sizeof a;
            int port = 0;
            ASSERT_OK(gt_port(l, &port));
            ASSERT_EQ(getsockname((int)o[3].v.i, (struct sockaddr *)&a, &al), 0);
            ASSERT_EQ(ntohs(a.sin_port), port);
        }
        gt_close(l);
    }
}
