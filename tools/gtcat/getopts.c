/*
 * getopts.c -- gtcat getopts [--backend inet|socket]: listens on
 * 127.0.0.1 port 0, connects to it, accepts, and prints one line
 * "ROLE OPTION VALUE" per option and socket, VALUE written as Erlang's
 * io:format("~w") writes what inet:getopts(S, [OPTION]) returns on OTP
 * 25: V for {ok,[{OPTION,V}]}, else the whole term ({ok,[]},
 * {error,einval}).  tests/interop/getopts.sh diffs it with an Erlang
 * node doing the same.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "gtcat.h"

/* The order tests/interop/getopts.escript prints. */
static const gt_optname names[] = {
    GT_OPT_ACTIVE,       GT_OPT_BUFFER,        GT_OPT_DEBUG,
    GT_OPT_DELAY_SEND,   GT_OPT_DELIVER,       GT_OPT_DONTROUTE,
    GT_OPT_EXIT_ON_CLOSE, GT_OPT_HEADER,       GT_OPT_HIGH_MSGQ_WATERMARK,
    GT_OPT_HIGH_WATERMARK, GT_OPT_KEEPALIVE,   GT_OPT_LINGER,
    GT_OPT_LOW_MSGQ_WATERMARK, GT_OPT_LOW_WATERMARK, GT_OPT_MODE,
    GT_OPT_NODELAY,      GT_OPT_PACKET,        GT_OPT_PACKET_SIZE,
    GT_OPT_PRIORITY,     GT_OPT_RECBUF,        GT_OPT_REUSEADDR,
    GT_OPT_SEND_TIMEOUT, GT_OPT_SEND_TIMEOUT_CLOSE, GT_OPT_SHOW_ECONNRESET,
    GT_OPT_SNDBUF,       GT_OPT_TOS,           GT_OPT_TCLASS,
    GT_OPT_TTL,          GT_OPT_RECVTOS,       GT_OPT_RECVTCLASS,
    GT_OPT_RECVTTL,      GT_OPT_PKTOPTIONS,    GT_OPT_IPV6_V6ONLY,
    GT_OPT_LINE_DELIMITER, GT_OPT_BIND_TO_DEVICE, GT_OPT_NETNS,
    GT_OPT_RAW,          GT_OPT_REUSEPORT,     GT_OPT_BROADCAST,
    GT_OPT_NOPUSH,       GT_OPT_TCP_MODULE,    GT_OPT_IP,
    GT_OPT_BACKLOG,
};

/* {raw, Level, Name, Size} rows: SO_REUSEADDR and TCP_NODELAY, 4 bytes */
static const struct { int level, name; } raws[] = {{SOL_SOCKET, SO_REUSEADDR}, {6, 1}};

static const char *atom_of(gt_optname n, int64_t v)
{
    switch (n) {
    case GT_OPT_ACTIVE:
        return v == GT_ACTIVE_TRUE_V ? "true" : v == GT_ACTIVE_FALSE_V ? "false"
             : v == GT_ACTIVE_ONCE_V ? "once" : NULL;
    case GT_OPT_MODE: return v == GT_MODE_BINARY ? "binary" : "list";
    case GT_OPT_DELIVER: return v == GT_DELIVER_PORT ? "port" : "term";
    case GT_OPT_SEND_TIMEOUT: return v == GT_INFINITY ? "infinity" : NULL;
    case GT_OPT_PACKET:
        switch (v) {
        case GT_PKT_ASN1: return "asn1";
        case GT_PKT_SUNRM: return "sunrm";
        case GT_PKT_CDR: return "cdr";
        case GT_PKT_FCGI: return "fcgi";
        case GT_PKT_TPKT: return "tpkt";
        case GT_PKT_LINE: return "line";
        case GT_PKT_HTTP: return "http";
        case GT_PKT_HTTPH: return "httph";
        case GT_PKT_HTTP_BIN: return "http_bin";
        case GT_PKT_HTTPH_BIN: return "httph_bin";
        }
        return NULL;
    default: return NULL;
    }
}

static bool is_bool(gt_optname n)
{
    switch (n) {
    case GT_OPT_DEBUG: case GT_OPT_DELAY_SEND: case GT_OPT_DONTROUTE: case GT_OPT_EXIT_ON_CLOSE:
    case GT_OPT_KEEPALIVE: case GT_OPT_NODELAY: case GT_OPT_REUSEADDR: case GT_OPT_SEND_TIMEOUT_CLOSE:
    case GT_OPT_SHOW_ECONNRESET: case GT_OPT_RECVTOS: case GT_OPT_RECVTCLASS: case GT_OPT_RECVTTL:
    case GT_OPT_IPV6_V6ONLY: case GT_OPT_BROADCAST: case GT_OPT_NOPUSH:
        return true;
    default: return false;
    }
}

/* The socket backend reports these TOS values as atoms (socket:ip_tos()). */
static void put_tos(int backend, int64_t v)
{
    const char *a = NULL;
    if (backend == GT_BACKEND_SOCKET)
        a = v == 16 ? "lowdelay" : v == 8 ? "throughput" : v == 4 ? "reliability"
          : v == 2 ? "mincost" : NULL;
    if (a)
        fputs(a, stdout);
    else
        printf("%lld", (long long)v);
}

static void put_bytes(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf("%s%u", i ? "," : "", p[i]);
}

static void put_value(int backend, const gt_opt *o)
{
    const char *a = atom_of(o->name, o->v.i);
    if (o->name == GT_OPT_PACKET && o->v.i == GT_PKT_RAW)
        a = backend == GT_BACKEND_SOCKET ? "raw" : "0";
    if (a) {
        fputs(a, stdout);
    } else if (is_bool(o->name)) {
        fputs(o->v.i ? "true" : "false", stdout);
    } else if (o->name == GT_OPT_LINGER) {
        printf("{%s,%d}", o->v.linger.on ? "true" : "false", o->v.linger.seconds);
    } else if (o->name == GT_OPT_TOS) {
        put_tos(backend, o->v.i);
    } else if (o->name == GT_OPT_PKTOPTIONS) {
        /* in the order Linux puts the ancillary data */
        const char *sep = "";
        putchar('[');
        if (o->v.pkt.ttl >= 0) {
            printf("{ttl,%d}", o->v.pkt.ttl);
            sep = ",";
        }
        if (o->v.pkt.tos >= 0) {
            printf("%s{tos,", sep);
            put_tos(backend, o->v.pkt.tos);
            putchar('}');
            sep = ",";
        }
        if (o->v.pkt.tclass >= 0)
            printf("%s{tclass,%d}", sep, o->v.pkt.tclass);
        putchar(']');
    } else if (o->name == GT_OPT_BIND_TO_DEVICE) {
        /* inet: a binary; socket: a string with its NUL, [] when unbound */
        size_t n = o->v.bin.len;
        if (backend == GT_BACKEND_SOCKET) {
            putchar('[');
            if (n) {
                put_bytes(o->v.bin.p, n);
                fputs(",0", stdout);
            }
            putchar(']');
        } else {
            fputs("<<", stdout);
            put_bytes(o->v.bin.p, n);
            fputs(">>", stdout);
        }
    } else {
        printf("%lld", (long long)o->v.i);
    }
}

static void put_result(int backend, int rc, const gt_opt *o)
{
    if (rc)
        printf("{error,%s}", gt_err_name(rc));
    else if (o->name == GT_OPT_END_)
        fputs("{ok,[]}", stdout);
    else if (o->name == GT_OPT_RAW) {
        printf("{ok,[{raw,%d,%d,<<", o->v.raw.level, o->v.raw.name);
        put_bytes(o->v.raw.p, o->v.raw.len);
        fputs(">>}]}", stdout);
    } else
        put_value(backend, o);
}

static void print_socket(const char *role, int backend, gt_socket s)
{
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t nraw = names[i] == GT_OPT_RAW ? sizeof raws / sizeof raws[0] : 1;
        for (size_t k = 0; k < nraw; k++) {
            unsigned char buf[64];
            gt_opt o;
            memset(&o, 0, sizeof o);
            o.name = names[i];
            if (o.name == GT_OPT_RAW) {
                o.v.raw.level = raws[k].level;
                o.v.raw.name = raws[k].name;
                o.v.raw.p = buf;
                o.v.raw.len = 4;
                printf("%s {raw,%d,%d,4} ", role, raws[k].level, raws[k].name);
            } else {
                if (o.name == GT_OPT_BIND_TO_DEVICE) {
                    o.v.bin.p = buf;
                    o.v.bin.len = sizeof buf;
                }
                printf("%s %s ", role, gt_opt_name(names[i]));
            }
            int rc = gt_getopts(s, &o, 1);
            put_result(backend, rc, &o);
            putchar('\n');
        }
    }
}

int cmd_getopts(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"backend", required_argument, NULL, 'b'}, {"help", no_argument, NULL, 'h'}, {0}};
    int backend = GT_BACKEND_INET;
    const char *arg;
    for (int c; (c = next_opt(argc, argv, longopts, &arg)) != -1;) {
        if (c != 'b')
            usage_error("unknown option");
        if (strcmp(arg, "inet") == 0)
            backend = GT_BACKEND_INET;
        else if (strcmp(arg, "socket") == 0)
            backend = GT_BACKEND_SOCKET;
        else
            usage_error("unknown backend '%s' (inet|socket)", arg);
    }
    if (optind < argc)
        usage_error("getopts takes no arguments");
    gt_socket l, c, a;
    int rc = gt_listen(0, GT_OPTS(GT_INET_BACKEND(backend), GT_IP("127.0.0.1")), &l);
    if (rc)
        die("listen", rc);
    int port = 0;
    if ((rc = gt_port(l, &port)) != 0)
        die("port", rc);
    if ((rc = gt_connect("127.0.0.1", port, GT_OPTS(GT_INET_BACKEND(backend)), GT_INFINITY, &c)))
        die("connect", rc);
    if ((rc = gt_accept(l, GT_INFINITY, &a)) != 0)
        die("accept", rc);
    print_socket("listen", backend, l);
    print_socket("connect", backend, c);
    print_socket("accept", backend, a);
    gt_close(a);
    gt_close(c);
    gt_close(l);
    return fflush(stdout) == 0 ? 0 : EXIT_NETWORK;
}
