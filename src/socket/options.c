/*
 * options.c -- every socket option in one table (docs/OPTIONS.md): its
 * atom, value type, the calls that take it, the backends that take it,
 * how each backend reports it, its default per backend, the gentcp field
 * that stores it and the kernel option it maps to per family.  Setting,
 * reading back, defaults and accept inheritance all walk the table; an
 * option with an effect beyond storing names one function here (the
 * socket layer's calls do the delivering, re-arming and closing).
 */
#include <errno.h>
#include <limits.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include "socket/answer.h"

enum { T_BOOL = 1, T_UINT, T_INT, T_ACTIVE, T_PACKET, T_MODE, T_TIMEOUT, T_IP, T_PORT,
       T_FAMILY, T_BACKEND, T_LINGER, T_DELIM, T_MSGQ, T_RAW, T_DEVICE, T_PATH, T_DELIVER,
       T_BYTES, T_FD, T_TRANSPORT, T_NONE /* getopts only */ };
enum { W_SET = 1, W_LISTEN = 2, W_CONNECT = 4, W_CREATE = W_LISTEN | W_CONNECT,
       W_ALL = W_SET | W_CREATE };
enum { BK_INET = 1 << GT_BACKEND_INET, BK_SOCKET = 1 << GT_BACKEND_SOCKET,
       BK_BOTH = BK_INET | BK_SOCKET };
/* How getopts answers, per backend: R_DEFAULT is the value for an option
 * setopts takes, else einval; R_OMIT leaves it out ({ok,[]}). */
enum { R_DEFAULT = 0, R_VALUE, R_OMIT, R_EINVAL };
enum { IB = 0, SB = 1 }; /* index of inet / socket in per-backend columns */

typedef struct kopt {
    int level, name; /* level < 0: none on this family */
} kopt;

typedef struct opt_row {
    const char *name;
    unsigned char type, where;
    unsigned char backends; /* setopts/create elsewhere: einval (badarg) */
    unsigned char report[2];
    bool inherit;           /* prim_inet copies it to an accepted socket */
    bool boolean;           /* the kernel's int reads back as 0/1        */
    unsigned short off, size; /* field in gt__sockopts; size 0: none     */
    int64_t def[2];
    bool kernel;            /* kernel option: k[0] on AF_INET, k[1] AF_INET6 */
    kopt k[2];
    /* the effect beyond storing (or the whole setting); 0 or -errno */
    int (*set)(gt__sock *s, const gt_opt *op);
    int (*get)(gt__sock *s, gt_opt *op);
} opt_row;

#define ROW(atom, t, w, bk) .name = (atom), .type = (t), .where = (w), .backends = (bk)
#define REP(inet, socket) .report = {(inet), (socket)}
#define F(f) .off = offsetof(gt__sockopts, f), .size = sizeof(((gt__sockopts *)0)->f)
#define DEF(i, so) .def = {(i), (so)}
#define K(l, n) .kernel = true, .k = {{(l), (n)}, {(l), (n)}}
#define K46(l4, n4, l6, n6) .kernel = true, .k = {{(l4), (n4)}, {(l6), (n6)}}

static int set_active(gt__sock *s, const gt_opt *op);
static int get_active(gt__sock *s, gt_opt *op);
static int set_packet(gt__sock *s, const gt_opt *op);
static int set_buffer(gt__sock *s, const gt_opt *op);
static int set_high(gt__sock *s, const gt_opt *op);
static int set_low(gt__sock *s, const gt_opt *op);
static int set_high_msgq(gt__sock *s, const gt_opt *op);
static int set_low_msgq(gt__sock *s, const gt_opt *op);
static int set_linger(gt__sock *s, const gt_opt *op);
static int get_linger(gt__sock *s, gt_opt *op);
static int set_recbuf(gt__sock *s, const gt_opt *op);
static int get_zero(gt__sock *s, gt_opt *op);
static int get_fd(gt__sock *s, gt_opt *op);
static int get_pktoptions(gt__sock *s, gt_opt *op);
static int set_raw(gt__sock *s, const gt_opt *op);
static int get_raw(gt__sock *s, gt_opt *op);
static int set_device(gt__sock *s, const gt_opt *op);
static int get_device(gt__sock *s, gt_opt *op);
static int set_ignored(gt__sock *s, const gt_opt *op);

static const opt_row table[GT_OPT_COUNT_] = {
    [GT_OPT_INET_BACKEND] = {ROW("inet_backend", T_BACKEND, W_CREATE, BK_BOTH)},
    [GT_OPT_ACTIVE] = {ROW("active", T_ACTIVE, W_ALL, BK_BOTH), .set = set_active,
                       .get = get_active},
    [GT_OPT_PACKET] = {ROW("packet", T_PACKET, W_ALL, BK_BOTH), F(packet), .set = set_packet},
    [GT_OPT_PACKET_SIZE] = {ROW("packet_size", T_UINT, W_ALL, BK_BOTH), F(packet_size),
                            DEF(0, 64 << 20)},
    [GT_OPT_MODE] = {ROW("mode", T_MODE, W_ALL, BK_BOTH), F(mode), DEF(GT_MODE_LIST, GT_MODE_LIST)},
    [GT_OPT_HEADER] = {ROW("header", T_UINT, W_ALL, BK_BOTH), F(header)},
    [GT_OPT_BUFFER] = {ROW("buffer", T_INT, W_ALL, BK_BOTH), F(buffer), DEF(1460, 8192),
                       .set = set_buffer},
    [GT_OPT_REUSEADDR] = {ROW("reuseaddr", T_BOOL, W_ALL, BK_BOTH), .boolean = true,
                          K(SOL_SOCKET, SO_REUSEADDR)},
    /* create-only: inet's getopts says einval; the socket backend leaves
     * ip, backlog and tcp_module out and reads fd back (OTP 25) */
    [GT_OPT_BACKLOG] = {ROW("backlog", T_INT, W_LISTEN, BK_BOTH), REP(R_EINVAL, R_OMIT)},
    [GT_OPT_IP] = {ROW("ip", T_IP, W_CREATE, BK_BOTH), REP(R_EINVAL, R_OMIT)},
    [GT_OPT_PORT] = {ROW("port", T_PORT, W_CREATE, BK_BOTH)},
    [GT_OPT_FAMILY] = {ROW("family", T_FAMILY, W_CREATE, BK_BOTH)},
    [GT_OPT_NODELAY] = {ROW("nodelay", T_BOOL, W_ALL, BK_BOTH), .inherit = true, .boolean = true,
                        K(IPPROTO_TCP, TCP_NODELAY)},
    [GT_OPT_KEEPALIVE] = {ROW("keepalive", T_BOOL, W_ALL, BK_BOTH), .inherit = true,
                          .boolean = true, K(SOL_SOCKET, SO_KEEPALIVE)},
    [GT_OPT_SEND_TIMEOUT] = {ROW("send_timeout", T_TIMEOUT, W_ALL, BK_BOTH), F(send_timeout),
                             DEF(-1, -1)},
    [GT_OPT_SEND_TIMEOUT_CLOSE] = {ROW("send_timeout_close", T_BOOL, W_ALL, BK_BOTH),
                                   F(send_timeout_close)},
    [GT_OPT_EXIT_ON_CLOSE] = {ROW("exit_on_close", T_BOOL, W_ALL, BK_BOTH), F(exit_on_close),
                              DEF(1, 1)},
    [GT_OPT_SHOW_ECONNRESET] = {ROW("show_econnreset", T_BOOL, W_ALL, BK_BOTH), F(show_econnreset)},
    /* socket: OTP 25 reports no high_watermark, and low_watermark is
     * SO_RCVLOWAT's value (semantics.md rule 10; set_low) */
    [GT_OPT_HIGH_WATERMARK] = {ROW("high_watermark", T_INT, W_ALL, BK_BOTH), REP(R_VALUE, R_OMIT),
                               F(high_watermark), DEF(8192, 8192), .set = set_high},
    [GT_OPT_LOW_WATERMARK] = {ROW("low_watermark", T_INT, W_ALL, BK_BOTH), F(low_watermark),
                              DEF(4096, 1), .set = set_low},
    [GT_OPT_RECBUF] = {ROW("recbuf", T_UINT, W_ALL, BK_BOTH), K(SOL_SOCKET, SO_RCVBUF),
                       .set = set_recbuf},
    [GT_OPT_SNDBUF] = {ROW("sndbuf", T_UINT, W_ALL, BK_BOTH), K(SOL_SOCKET, SO_SNDBUF)},
    [GT_OPT_LINGER] = {ROW("linger", T_LINGER, W_ALL, BK_BOTH), .inherit = true,
                       .set = set_linger, .get = get_linger},
    [GT_OPT_DELAY_SEND] = {ROW("delay_send", T_BOOL, W_ALL, BK_BOTH), F(delay_send)},
    /* inet cannot read it back (rule 1) */
    [GT_OPT_LINE_DELIMITER] = {ROW("line_delimiter", T_DELIM, W_SET | W_CONNECT, BK_BOTH),
                               REP(R_EINVAL, R_VALUE), F(line_delimiter), DEF('\n', '\n')},
    [GT_OPT_TOS] = {ROW("tos", T_UINT, W_ALL, BK_BOTH), .inherit = true,
                    K46(IPPROTO_IP, IP_TOS, IPPROTO_IPV6, IPV6_TCLASS)},
    [GT_OPT_PRIORITY] = {ROW("priority", T_UINT, W_ALL, BK_BOTH), .inherit = true,
                         K(SOL_SOCKET, SO_PRIORITY)},
    [GT_OPT_TTL] = {ROW("ttl", T_UINT, W_ALL, BK_BOTH), .inherit = true,
                    K46(IPPROTO_IP, IP_TTL, IPPROTO_IPV6, IPV6_UNICAST_HOPS)},
    /* rule 72: an IPv4 socket has none (set einval, get omitted) */
    [GT_OPT_IPV6_V6ONLY] = {ROW("ipv6_v6only", T_BOOL, W_SET | W_LISTEN, BK_BOTH), .boolean = true,
                            K46(-1, 0, IPPROTO_IPV6, IPV6_V6ONLY)},
    [GT_OPT_DEBUG] = {ROW("debug", T_BOOL, W_ALL, BK_BOTH), .get = get_zero},
    [GT_OPT_DONTROUTE] = {ROW("dontroute", T_BOOL, W_SET, BK_BOTH), .boolean = true,
                          K(SOL_SOCKET, SO_DONTROUTE)},
    [GT_OPT_LINE_LENGTH] = {ROW("line_length", T_UINT, W_ALL, BK_BOTH), F(line_length)},
    [GT_OPT_DISCARD_PARTIAL] = {ROW("discard_partial", T_BOOL, W_ALL, BK_BOTH), F(discard_partial)},
    [GT_OPT_REUSEPORT] = {ROW("reuseport", T_BOOL, W_LISTEN, BK_BOTH)},
    [GT_OPT_RAW] = {ROW("raw", T_RAW, W_ALL, BK_BOTH), REP(R_VALUE, R_VALUE), .set = set_raw,
                    .get = get_raw},
    [GT_OPT_RECVTOS] = {ROW("recvtos", T_BOOL, W_ALL, BK_BOTH), .inherit = true, .boolean = true,
                        K46(IPPROTO_IP, IP_RECVTOS, -1, 0)},
    [GT_OPT_RECVTTL] = {ROW("recvttl", T_BOOL, W_ALL, BK_BOTH), .inherit = true, .boolean = true,
                        K46(IPPROTO_IP, IP_RECVTTL, -1, 0)},
    [GT_OPT_RECVTCLASS] = {ROW("recvtclass", T_BOOL, W_ALL, BK_BOTH), .boolean = true,
                           K46(-1, 0, IPPROTO_IPV6, IPV6_RECVTCLASS)},
    [GT_OPT_PKTOPTIONS] = {ROW("pktoptions", T_NONE, 0, 0), REP(R_VALUE, R_VALUE),
                           .get = get_pktoptions},
    [GT_OPT_TCLASS] = {ROW("tclass", T_UINT, W_ALL, BK_BOTH),
                       K46(-1, 0, IPPROTO_IPV6, IPV6_TCLASS)},
    /* socket: accepted and ignored, not reported (rule 11) */
    [GT_OPT_HIGH_MSGQ_WATERMARK] = {ROW("high_msgq_watermark", T_MSGQ, W_ALL, BK_BOTH),
                                    REP(R_VALUE, R_OMIT), F(high_msgq_watermark),
                                    DEF(8192, 8192), .set = set_high_msgq},
    [GT_OPT_LOW_MSGQ_WATERMARK] = {ROW("low_msgq_watermark", T_MSGQ, W_ALL, BK_BOTH),
                                   REP(R_VALUE, R_OMIT), F(low_msgq_watermark),
                                   DEF(4096, 4096), .set = set_low_msgq},
    [GT_OPT_BIND_TO_DEVICE] = {ROW("bind_to_device", T_DEVICE, W_ALL, BK_BOTH), .set = set_device,
                               .get = get_device},
    [GT_OPT_NETNS] = {ROW("netns", T_PATH, W_CREATE, BK_BOTH), REP(R_OMIT, R_EINVAL)},
    [GT_OPT_DELIVER] = {ROW("deliver", T_DELIVER, W_ALL, BK_BOTH), F(deliver)},
    /* socket: accepted, ignored, not reported, as in OTP 25 */
    [GT_OPT_NOPUSH] = {ROW("nopush", T_BOOL, W_ALL, BK_BOTH), REP(R_VALUE, R_OMIT), .boolean = true,
                       K(IPPROTO_TCP, TCP_CORK), .set = set_ignored},
    [GT_OPT_LOCAL] = {ROW("local", T_BYTES, W_CREATE, BK_BOTH)},
    [GT_OPT_FD] = {ROW("fd", T_FD, W_CREATE, BK_BOTH), REP(R_EINVAL, R_VALUE), .get = get_fd},
    [GT_OPT_TCP_MODULE] = {ROW("tcp_module", T_TRANSPORT, W_CREATE, BK_BOTH), REP(R_EINVAL, R_OMIT)},
    [GT_OPT_BROADCAST] = {ROW("broadcast", T_BOOL, W_ALL, BK_INET), REP(R_VALUE, R_EINVAL),
                          .boolean = true, K(SOL_SOCKET, SO_BROADCAST)},
};

const char *gt_opt_name(gt_optname n)
{
    return n > 0 && n < GT_OPT_COUNT_ ? table[n].name : NULL;
}

static void field_store(gt__sockopts *o, const opt_row *r, int64_t v)
{
    char *p = (char *)o + r->off;
    switch (r->size) {
    case sizeof(uint8_t): { /* a bool, or a small enum (mode, deliver) */
        uint8_t b = r->type == T_BOOL ? v != 0 : (uint8_t)v;
        memcpy(p, &b, sizeof b);
        break;
    }
    case sizeof(int): { int i = (int)v; memcpy(p, &i, sizeof i); break; }
    case sizeof(int64_t): memcpy(p, &v, sizeof v); break;
    }
}

static int64_t field_load(const gt__sockopts *o, const opt_row *r)
{
    const char *p = (const char *)o + r->off;
    switch (r->size) {
    case sizeof(uint8_t): { uint8_t b; memcpy(&b, p, sizeof b); return b; }
    case sizeof(int): { int i; memcpy(&i, p, sizeof i); return i; }
    case sizeof(int64_t): { int64_t v; memcpy(&v, p, sizeof v); return v; }
    }
    return 0;
}

static int bk_index(int backend) { return backend == GT_BACKEND_SOCKET ? SB : IB; }

void gt__opts_defaults(gt__sockopts *o, int backend)
{
    memset(o, 0, sizeof *o);
    o->backend = backend;
    for (int n = 1; n < GT_OPT_COUNT_; n++)
        if (table[n].size)
            field_store(o, &table[n], table[n].def[bk_index(backend)]);
}

static bool valid_packet(int64_t v)
{
    switch (v) {
    case GT_PKT_RAW: case GT_PKT_1: case GT_PKT_2: case GT_PKT_4: case GT_PKT_ASN1:
    case GT_PKT_SUNRM: case GT_PKT_CDR: case GT_PKT_FCGI: case GT_PKT_TPKT:
    case GT_PKT_LINE: case GT_PKT_HTTP: case GT_PKT_HTTPH: case GT_PKT_HTTP_BIN:
    case GT_PKT_HTTPH_BIN:
        return true;
    }
    return false;
}

static bool is_active_atom(int64_t v)
{
    return v == GT_ACTIVE_FALSE_V || v == GT_ACTIVE_TRUE_V || v == GT_ACTIVE_ONCE_V;
}

/* Parses an ip option: "any", "loopback", or a literal v4/v6 address. */
static int parse_ip(const char *str, int family_hint, struct sockaddr_storage *a)
{
    memset(a, 0, sizeof *a);
    struct sockaddr_in *s4 = (struct sockaddr_in *)a;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)a;
    if (!str)
        return -1;
    if (strcmp(str, "any") == 0 || strcmp(str, "loopback") == 0) {
        bool lo = str[0] == 'l';
        if (family_hint == AF_INET6) {
            s6->sin6_family = AF_INET6;
            s6->sin6_addr = lo ? in6addr_loopback : in6addr_any;
        } else {
            s4->sin_family = AF_INET;
            s4->sin_addr.s_addr = htonl(lo ? INADDR_LOOPBACK : INADDR_ANY);
        }
        return 0;
    }
    if (inet_pton(AF_INET, str, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, str, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        return 0;
    }
    return -1;
}

/* Type check of one value (docs/spec/semantics.md rule 4). */
static bool valid_value(const gt_opt *op)
{
    int64_t v = op->v.i;
    switch (table[op->name].type) {
    case T_BOOL: return v == 0 || v == 1;
    case T_UINT: return v >= 0 && v <= INT32_MAX;
    case T_INT: return v >= INT32_MIN && v <= INT32_MAX;
    case T_ACTIVE: return is_active_atom(v) || (v >= -32768 && v <= 32767);
    case T_PACKET: return valid_packet(v);
    case T_MODE: return v == GT_MODE_LIST || v == GT_MODE_BINARY;
    case T_TIMEOUT: return v == GT_INFINITY || (v >= 0 && v <= INT32_MAX);
    case T_IP: return op->v.s != NULL;
    case T_PORT: return v >= 0 && v <= 65535;
    case T_FAMILY: return v == GT_INET || v == GT_INET6;
    case T_BACKEND: return v == GT_BACKEND_INET || v == GT_BACKEND_SOCKET;
    case T_LINGER: return (op->v.linger.on == 0 || op->v.linger.on == 1) && op->v.linger.seconds >= 0;
    case T_DELIM: return true; /* inet takes any integer and keeps its low byte */
    case T_MSGQ: return v >= 1 && v <= INT32_MAX; /* rule 11: 0 is einval */
    case T_RAW:
        return op->v.raw.level >= 0 && op->v.raw.name >= 0 && op->v.raw.len <= INT32_MAX &&
               (op->v.raw.p || !op->v.raw.len);
    case T_DEVICE: return !op->v.bin.p || strlen(op->v.bin.p) < 16 /* IFNAMSIZ */;
    case T_PATH: return op->v.s != NULL;
    case T_DELIVER: return v == GT_DELIVER_TERM || v == GT_DELIVER_PORT;
    case T_BYTES: return op->v.bin.p != NULL || op->v.bin.len == 0;
    case T_FD: return v >= 0 && v <= INT32_MAX;
    case T_TRANSPORT: {
        const gt_transport *t = op->v.p;
        return t && t->recv && t->sendv && t->shutdown;
    }
    }
    return false;
}

static bool known(gt_optname n) { return n > 0 && n < GT_OPT_COUNT_ && table[n].name; }

/* May op appear in this call (W_*) on this backend, with this value? */
static bool accepted(const gt_opt *op, int where, int backend)
{
    return known(op->name) && (table[op->name].where & where) &&
           (table[op->name].backends & (1 << backend)) && valid_value(op);
}

int gt__opts_parse_create(gt_optlist l, bool listen, gt__sockopts *o, gt__createopts *c,
                          gt_opt *sockopts, size_t *nsock)
{
    size_t cap = *nsock, n = 0;
    if (l.count && !l.opts)
        return GT_EBADARG;
    int backend = gt__backend_default(); /* inet_backend has to be the first option */
    if (l.count && l.opts[0].name == GT_OPT_INET_BACKEND && valid_value(&l.opts[0]))
        backend = (int)l.opts[0].v.i;
    for (size_t i = 0; i < l.count; i++)
        if (!accepted(&l.opts[i], listen ? W_LISTEN : W_CONNECT, backend) ||
            (i && l.opts[i].name == GT_OPT_INET_BACKEND))
            return GT_EBADARG;
    gt__opts_defaults(o, backend);
    memset(c, 0, sizeof *c);
    c->backlog = 5;
    c->port = -1;
    c->v6only = -1;
    c->fd = -1;
    const char *ip = NULL;
    for (size_t i = 0; i < l.count; i++) { /* create options: last wins */
        const gt_opt *op = &l.opts[i];
        switch (op->name) {
        case GT_OPT_INET_BACKEND: break;
        case GT_OPT_FAMILY: c->family = op->v.i == GT_INET6 ? AF_INET6 : AF_INET; break;
        case GT_OPT_PORT: c->port = (int)op->v.i; break;
        case GT_OPT_BACKLOG: c->backlog = (int)op->v.i; break;
        case GT_OPT_REUSEADDR: c->reuseaddr = op->v.i; break;
        case GT_OPT_REUSEPORT: c->reuseport = op->v.i; break;
        case GT_OPT_IP: ip = op->v.s; break;
        case GT_OPT_IPV6_V6ONLY: c->v6only = (int)op->v.i; break;
        case GT_OPT_NETNS: c->netns = op->v.s; break;
        case GT_OPT_FD: c->fd = (int)op->v.i; break;
        case GT_OPT_TCP_MODULE: o->tp = op->v.p; break;
        case GT_OPT_LOCAL:
            c->has_local_path = true;
            c->local_path = op->v.bin.p;
            c->local_path_len = op->v.bin.len;
            break;
        default:
            if (n == cap)
                return GT_EBADARG;
            sockopts[n++] = *op;
        }
    }
    if (ip) { /* "any"/"loopback" follow the family; literals set it */
        if (parse_ip(ip, c->family, &c->local) != 0 ||
            (c->family && c->family != c->local.ss_family))
            return GT_EBADARG;
        c->has_local = true;
        c->family = c->local.ss_family;
    }
    if (c->has_local_path) { /* local with inet/inet6 or an ip: badarg */
        if (c->family)
            return GT_EBADARG;
        c->family = AF_UNIX;
    }
    *nsock = n;
    return 0;
}

/* ---- the effects beyond storing ---- */

/* {active, V} (docs/spec/semantics.md rules 15-18, 21). */
static int set_active_now(gt__sock *s, const gt_opt *op)
{
    int64_t v = op->v.i, cur = s->active;
    if (is_active_atom(v)) {
        bool from_n = !is_active_atom(cur);
        s->active = v;
        if (v == GT_ACTIVE_FALSE_V && from_n && gt__be(s)->passive_from_false)
            gt__sock_passive_msg(s); /* rule 18: socket backend only */
        return 0;
    }
    int64_t nv = is_active_atom(cur) ? v : cur + v;
    if (nv > 32767 || nv < -32768)
        return -EINVAL;
    if (nv <= 0) {
        s->active = GT_ACTIVE_FALSE_V;
        gt__sock_passive_msg(s); /* every time, even if already passive */
    } else {
        s->active = nv;
    }
    return 0;
}

/* While a transport's handshake is due the socket stays passive
 * (transport.c): the mode set now is the one it takes after. */
static int set_active(gt__sock *s, const gt_opt *op)
{
    if (!s->hs_pending)
        return set_active_now(s, op);
    int64_t now = s->active;
    s->active = s->x->hs_active; /* hs_pending: the transport made x */
    int rc = set_active_now(s, op);
    s->x->hs_active = s->active;
    s->active = now;
    return rc;
}

/* in the socket, not in its options: it changes with every {active,once} */
static int get_active(gt__sock *s, gt_opt *op)
{
    op->v.i = s->active;
    return 0;
}

static int set_packet(gt__sock *s, const gt_opt *op)
{
    if (s->o->packet != (int)op->v.i)
        s->http_state = 0;
    s->o->packet = (int)op->v.i;
    return 0;
}

static int set_buffer(gt__sock *s, const gt_opt *op)
{
    s->o->buffer = op->v.i < 1 ? 1 : op->v.i; /* rule 7: clamped to 1 */
    s->o->buffer_set = true;
    return 0;
}

/* rule 10: negative is 0, and the other mark follows (inet; the socket
 * backend's low_watermark is another option, SO_RCVLOWAT's value) */
static int set_high(gt__sock *s, const gt_opt *op)
{
    s->o->high_watermark = op->v.i < 0 ? 0 : op->v.i;
    if (s->o->backend != GT_BACKEND_SOCKET && s->o->low_watermark > s->o->high_watermark)
        s->o->low_watermark = s->o->high_watermark;
    return 0;
}

/* The socket backend: OTP 25 maps low_watermark to SO_RCVLOWAT and reads
 * the kernel's value back (rule 10; 1 by default).  gentcp reports the same
 * value but leaves the descriptor's at 1 (docs/DEVIATIONS.md row 22): with
 * the mark on the descriptor the kernel does not report an arrival below
 * it at all, so a recv or an active socket waiting for the next bytes
 * would wait for ones that may never come.  The kernel's own value (its
 * mapping of 0 and negatives, its cap at half the receive buffer) is
 * asked for: set, read back, set back to 1, which also raises again the
 * readiness of bytes already there. */
static int set_low(gt__sock *s, const gt_opt *op)
{
    if (s->o->backend != GT_BACKEND_SOCKET) {
        s->o->low_watermark = op->v.i < 0 ? 0 : op->v.i;
        if (s->o->high_watermark < s->o->low_watermark)
            s->o->high_watermark = s->o->low_watermark;
        return 0;
    }
    int want = (int)op->v.i, got = want < 0 ? INT_MAX : want ? want : 1, one = 1;
    socklen_t l = sizeof got;
    if (s->fd >= 0 && (setsockopt(s->fd, SOL_SOCKET, SO_RCVLOWAT, &want, sizeof want) ||
                       getsockopt(s->fd, SOL_SOCKET, SO_RCVLOWAT, &got, &l) ||
                       setsockopt(s->fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof one)))
        return gt__errno();
    s->o->low_watermark = got;
    return 0;
}

/* rule 11: as the byte marks, low <= high */
static int set_high_msgq(gt__sock *s, const gt_opt *op)
{
    s->o->high_msgq_watermark = op->v.i;
    if (s->o->low_msgq_watermark > s->o->high_msgq_watermark)
        s->o->low_msgq_watermark = s->o->high_msgq_watermark;
    return 0;
}

static int set_low_msgq(gt__sock *s, const gt_opt *op)
{
    s->o->low_msgq_watermark = op->v.i;
    if (s->o->high_msgq_watermark < s->o->low_msgq_watermark)
        s->o->high_msgq_watermark = s->o->low_msgq_watermark;
    return 0;
}

static int set_linger(gt__sock *s, const gt_opt *op)
{
    s->o->linger_on = op->v.linger.on;
    s->o->linger_secs = op->v.linger.seconds;
    if (s->fd < 0)
        return 0;
    struct linger lg = {op->v.linger.on, op->v.linger.seconds};
    return setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) ? gt__errno() : 0;
}

static int get_linger(gt__sock *s, gt_opt *op)
{
    struct linger lg;
    socklen_t l = sizeof lg;
    if (s->fd < 0)
        return -EINVAL;
    if (getsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, &l))
        return gt__errno();
    op->v.linger.on = lg.l_onoff ? 1 : 0;
    op->v.linger.seconds = lg.l_linger;
    return 0;
}

/* recbuf below this is small (the value asked, before the kernel doubles
 * it): its window holds a few segments.  Over Ethernet a window of 64 KiB
 * holds 45; on loopback (MSS 65,483) the kernel's own bound, half the
 * largest window seen, applies above it. */
#define GT__SMALL_RCVBUF (64 * 1024)
#define GT__MIN_MSS 88 /* Linux's TCP_MIN_MSS: TCP_MAXSEG refuses less */

static int set_recbuf(gt__sock *s, const gt_opt *op)
{
    /* rule 8: on inet, recbuf raises an unset buffer; socket: no coupling */
    if (s->o->backend == GT_BACKEND_INET && !s->o->buffer_set && op->v.i > s->o->buffer)
        s->o->buffer = op->v.i;
    /* A small receive buffer, set before the handshake (a listen socket's
     * accepted ones inherit it from the kernel): the MSS offered in the
     * SYN goes down to a quarter of it, so that the peer's segments stay
     * at most half the window (about the size asked: Linux doubles it and
     * counts about half as overhead).  Otherwise Linux can freeze the window it
     * offers at one segment a few bytes short of the peer's MSS (a
     * frame's short tail arriving while unread data is queued: the old
     * right edge is kept, and an offer within one MSS of the free space
     * is never recomputed); the sender then sends only on 200 ms persist
     * probes, for good (DESIGN.md, "The end-of-pass batch": 72 of 900
     * connections with 4 KiB buffers, 1 of 1,800 with plain C sockets,
     * none of 2,100 with this).  A failure is not the user's: ignored. */
    if ((s->kind == K_LISTEN || s->wr.st == WR_CONNECTING) &&
        (s->family == AF_INET || s->family == AF_INET6) && s->fd >= 0 &&
        op->v.i < GT__SMALL_RCVBUF) {
        int mss = (int)op->v.i / 4;
        if (mss < GT__MIN_MSS)
            mss = GT__MIN_MSS;
        (void)setsockopt(s->fd, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof mss);
    }
    return 1; /* and on to the kernel */
}

static int get_zero(gt__sock *s, gt_opt *op)
{
    (void)s;
    op->v.i = 0;
    return 0;
}

/* the descriptor, still gentcp's: for reading, never for closing */
static int get_fd(gt__sock *s, gt_opt *op)
{
    if (s->fd < 0)
        return -EINVAL;
    op->v.i = s->fd;
    return 0;
}

static int get_pktoptions(gt__sock *s, gt_opt *op)
{
    if (s->fd < 0)
        return -EINVAL;
    return gt__kopt_get_pktoptions(s->fd, s->family, &op->v.pkt.tos, &op->v.pkt.ttl,
                                   &op->v.pkt.tclass);
}

static int set_raw(gt__sock *s, const gt_opt *op)
{
    return s->fd < 0 ? 0 : gt__kopt_raw_set(s->fd, op);
}

static int get_raw(gt__sock *s, gt_opt *op)
{
    if (!valid_value(op))
        return -EINVAL;
    return s->fd < 0 ? -EINVAL : gt__kopt_raw_get(s->fd, op);
}

static int set_device(gt__sock *s, const gt_opt *op)
{
    return s->fd < 0 ? 0 : gt__kopt_device_set(s->fd, op->v.bin.p);
}

static int get_device(gt__sock *s, gt_opt *op)
{
    return s->fd < 0 ? -EINVAL : gt__kopt_device_get(s->fd, op);
}

/* the socket backend takes the option and does nothing (OTP 25) */
static int set_ignored(gt__sock *s, const gt_opt *op)
{
    (void)op;
    return s->o->backend == GT_BACKEND_SOCKET ? 0 : 1;
}

/* ---- setting and reading back ---- */

/* The kernel option of row r on this socket's family: NULL when the
 * family has none (rule 72: ipv6_v6only on IPv4). */
static const kopt *kernel_of(const gt__sock *s, const opt_row *r)
{
    const kopt *k = &r->k[s->family == AF_INET6 ? 1 : 0];
    return k->level < 0 ? NULL : k;
}

/* An AF_UNIX socket has no TCP or IP options.  OTP 25 on {local, _}:
 * inet accepts nodelay and ignores it, answers einval for the IP ones
 * (tos, ttl, ...); the socket backend says enotsup for all of them.
 * getopts leaves them out.  0: not such an option; else the answer. */
static int unix_answer(const gt__sock *s, const opt_row *r)
{
    if (s->family != AF_UNIX || !r->kernel)
        return 0;
    int level = r->k[0].level >= 0 ? r->k[0].level : r->k[1].level;
    if (level != IPPROTO_TCP && level != IPPROTO_IP && level != IPPROTO_IPV6)
        return 0;
    if (gt__be(s)->local_ip_opts_enotsup)
        return -EOPNOTSUPP;
    return level == IPPROTO_TCP ? 1 : -EINVAL;
}

/* gen_tcp_socket's read-side options (server_read_opts): once the end of
 * input was reported (its closed_read state) getopts and setopts of these
 * answer einval.  Lock held. */
static bool read_opt_gone(gt__sock *s, gt_optname n)
{
    switch (n) {
    case GT_OPT_ACTIVE: case GT_OPT_MODE: case GT_OPT_HEADER: case GT_OPT_LINE_DELIMITER:
    case GT_OPT_EXIT_ON_CLOSE:
        return gt__sock_answer(s, GT__CALL_READ_OPT) != 0;
    default:
        return false;
    }
}

static int set_in_place(gt__sock *s, const gt_opt *op)
{
    const opt_row *r = &table[op->name];
    int ua = unix_answer(s, r);
    if (ua)
        return ua < 0 ? ua : 0;
    if (r->inherit)
        s->o->inherit_set |= UINT64_C(1) << op->name;
    if (r->size && !r->set)
        field_store(s->o, r, op->v.i);
    if (r->set) { /* it stores the value itself */
        int rc = r->set(s, op);
        if (rc <= 0)
            return rc; /* done (or failed); 1: on to the kernel */
    }
    if (!r->kernel)
        return 0;
    const kopt *k = kernel_of(s, r);
    if (!k)
        return -EINVAL;
    if (s->fd < 0)
        return 0;
    int iv = (int)op->v.i;
    if (k->level == IPPROTO_IP && k->name == IP_TOS)
        return gt__kopt_set_ip_tos(s->fd, iv);
    return setsockopt(s->fd, k->level, k->name, &iv, sizeof iv) ? gt__errno() : 0;
}

/* Copy on write (optblock.c): on a shared block the option is set on a
 * copy on the stack, which becomes the socket's own block only if it
 * differs -- the active mode (in the socket) and an accepted socket's
 * inherited kernel options (the block holds them already) cost no block.
 * The copy stands in for s->o only while the lock is held.  Lock held. */
static int set_one(gt__sock *s, const gt_opt *op)
{
    gt__sockopts *shared = s->o;
    if (!gt__optblock_shared(shared))
        return set_in_place(s, op);
    gt__sockopts tmp;
    memcpy(&tmp, shared, sizeof tmp);
    s->o = &tmp;
    int rc = set_in_place(s, op);
    s->o = shared;
    if (memcmp(&tmp, shared, sizeof tmp) == 0)
        return rc;
    gt__sockopts *own = gt__optblock_new(&tmp);
    if (!own)
        return -ENOMEM;
    gt__optblock_put(shared);
    s->o = own;
    return rc;
}

/* true, false, once, or any {active,N} */
static int64_t active_mode(int64_t active) { return active < GT_ACTIVE_FALSE_V ? 0 : active; }

static bool has_input(const gt__sock *s)
{
    return gt__buf_avail(&s->in) || s->readable || gt__rd_ended(&s->rd);
}

int gt__opts_set_locked(gt__sock *s, const gt_opt *opts, size_t n, bool creating)
{
    if (n && !opts)
        return -EINVAL;
    int ans = gt__sock_answer(s, GT__CALL_OPTION); /* closed: rule 44 */
    if (ans)
        return ans;
    for (size_t i = 0; i < n; i++) { /* type errors reject the whole list */
        if (!accepted(&opts[i], W_SET | (creating ? W_CREATE : 0), s->o->backend))
            return -EINVAL;
        if (read_opt_gone(s, opts[i].name))
            return -EINVAL; /* rules 21, 47 */
        int ua = unix_answer(s, &table[opts[i].name]); /* rules 74, 101 */
        if (ua < 0)
            return ua;
    }
    /* the socket backend refuses options after a reset closed it */
    if ((ans = gt__sock_answer(s, GT__CALL_OPT_GONE)))
        return ans;
    /* inet applies a list last-to-first, so the first of two duplicates
     * wins (docs/spec/semantics.md rule 5); the socket backend goes in order. */
    bool reverse = s->o->backend == GT_BACKEND_INET && !creating;
    s->in_scanned = 0; /* a new packet type or delimiter: look again */
    int64_t was_active = s->active;
    for (size_t k = 0; k < n; k++) {
        int rc = set_one(s, &opts[reverse ? n - 1 - k : k]);
        if (rc)
            return rc;
    }
    /* inet selects for input again only when the active mode changes
     * ({active,N} to {active,M} is no change): that ends the pause after
     * an active emsgsize (recv.c) */
    if (active_mode(was_active) != active_mode(s->active))
        s->read_paused = false;
    if (s->active == GT_ACTIVE_FALSE_V || s->kind != K_CONN)
        return 0;
    if (s->state == S_OPEN && has_input(s))
        gt__sock_deliver(s);
    else /* rule 21: a socket inet closed answers with its tcp_closed */
        gt__sock_answer(s, GT__CALL_ACTIVATE);
    return 0;
}

int gt__opts_get_locked(gt__sock *s, gt_opt *op)
{
    int ans = gt__sock_answer(s, GT__CALL_OPTION); /* closed: rule 44 */
    if (!ans)
        ans = gt__sock_answer(s, GT__CALL_OPT_GONE);
    if (ans)
        return ans; /* gen_tcp_socket closed it at the reset */
    if (read_opt_gone(s, op->name))
        return -EINVAL;
    if (!known(op->name))
        return -EINVAL;
    const opt_row *r = &table[op->name];
    int rep = r->report[bk_index(s->o->backend)];
    if (rep == R_DEFAULT)
        rep = r->where & W_SET ? R_VALUE : R_EINVAL;
    if (rep == R_EINVAL)
        return -EINVAL;
    if (rep == R_OMIT) {
        op->name = GT_OPT_END_;
        return 0;
    }
    if (r->get)
        return r->get(s, op);
    if (r->size) {
        op->v.i = field_load(s->o, r);
        return 0;
    }
    if (!r->kernel || s->fd < 0)
        return -EINVAL;
    const kopt *k = kernel_of(s, r);
    if (!k || unix_answer(s, r)) {
        op->name = GT_OPT_END_; /* not an option of this socket: omitted */
        return 0;
    }
    int iv = 0;
    socklen_t l = sizeof iv;
    if (getsockopt(s->fd, k->level, k->name, &iv, &l))
        return gt__errno();
    op->v.i = r->boolean ? (iv != 0) : iv;
    return 0;
}

/* accept: the gentcp fields came with the listen socket's whole option
 * set; the kernel options prim_inet copies after accept (rows marked
 * inherit) are copied here, but only those set on the listen socket: the
 * others hold the kernel's own values on both sockets, and copying them
 * cost 12 system calls per accepted connection (issue 11).  inet does
 * not inherit line_delimiter (rule 12). */
void gt__opts_inherit(gt__sock *from, gt__sock *to)
{
    gt__lock(&to->lock, GT__LK_SOCK);
    if (to->o->backend == GT_BACKEND_INET && to->o->line_delimiter != '\n')
        set_one(to, &(gt_opt){.name = GT_OPT_LINE_DELIMITER, .v.i = '\n'});
    gt__unlock(&to->lock);
    gt__lock(&from->lock, GT__LK_SOCK);
    uint64_t set = from->o->inherit_set;
    gt__unlock(&from->lock);
    /* Only the options set (inherit_set holds inheritable ones only): a
     * walk of the whole table was ~300 instructions of every accept. */
    for (uint64_t left = set; left; left &= left - 1) { /* one lock at a time */
        int i = __builtin_ctzll(left);
        gt_opt v;
        memset(&v, 0, sizeof v);
        v.name = (gt_optname)i;
        gt__lock(&from->lock, GT__LK_SOCK);
        int rc = gt__opts_get_locked(from, &v);
        gt__unlock(&from->lock);
        if (rc || v.name == GT_OPT_END_)
            continue;
        gt__lock(&to->lock, GT__LK_SOCK);
        set_one(to, &v);
        gt__unlock(&to->lock);
    }
}
