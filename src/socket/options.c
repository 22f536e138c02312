/*
 * options.c -- every socket option in one table: names, value types, where
 * an option may appear (setopts, listen, connect), validation, defaults,
 * application (to gentcp state or to the kernel) and reading back.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "socket/sock.h"

enum { T_BOOL, T_UINT, T_INT, T_ACTIVE, T_PACKET, T_MODE, T_TIMEOUT, T_IP, T_PORT,
       T_FAMILY, T_BACKEND, T_LINGER, T_DELIM, T_TRANSPORT };
enum { W_SET = 1, W_LISTEN = 2, W_CONNECT = 4, W_CREATE = W_LISTEN | W_CONNECT,
       W_ALL = W_SET | W_CREATE };

/* XX(enum suffix, atom, value type, where it is allowed) */
#define OPT_MAP(XX)                                                            \
    XX(INET_BACKEND, "inet_backend", T_BACKEND, W_CREATE)                      \
    XX(ACTIVE, "active", T_ACTIVE, W_ALL)                                      \
    XX(PACKET, "packet", T_PACKET, W_ALL)                                      \
    XX(PACKET_SIZE, "packet_size", T_UINT, W_ALL)                              \
    XX(MODE, "mode", T_MODE, W_ALL)                                            \
    XX(HEADER, "header", T_UINT, W_ALL)                                        \
    XX(BUFFER, "buffer", T_INT, W_ALL)                                         \
    XX(REUSEADDR, "reuseaddr", T_BOOL, W_ALL)                                  \
    XX(BACKLOG, "backlog", T_INT, W_LISTEN)                                    \
    XX(IP, "ip", T_IP, W_CREATE)                                               \
    XX(PORT, "port", T_PORT, W_CREATE)                                         \
    XX(FAMILY, "family", T_FAMILY, W_CREATE)                                   \
    XX(NODELAY, "nodelay", T_BOOL, W_ALL)                                      \
    XX(KEEPALIVE, "keepalive", T_BOOL, W_ALL)                                  \
    XX(SEND_TIMEOUT, "send_timeout", T_TIMEOUT, W_ALL)                         \
    XX(SEND_TIMEOUT_CLOSE, "send_timeout_close", T_BOOL, W_ALL)                \
    XX(EXIT_ON_CLOSE, "exit_on_close", T_BOOL, W_ALL)                          \
    XX(SHOW_ECONNRESET, "show_econnreset", T_BOOL, W_ALL)                      \
    XX(HIGH_WATERMARK, "high_watermark", T_INT, W_ALL)                         \
    XX(LOW_WATERMARK, "low_watermark", T_INT, W_ALL)                           \
    XX(RECBUF, "recbuf", T_UINT, W_ALL)                                        \
    XX(SNDBUF, "sndbuf", T_UINT, W_ALL)                                        \
    XX(LINGER, "linger", T_LINGER, W_ALL)                                      \
    XX(DELAY_SEND, "delay_send", T_BOOL, W_ALL)                                \
    XX(LINE_DELIMITER, "line_delimiter", T_DELIM, W_SET | W_CONNECT)           \
    XX(TOS, "tos", T_UINT, W_ALL)                                              \
    XX(PRIORITY, "priority", T_UINT, W_ALL)                                    \
    XX(TTL, "ttl", T_UINT, W_ALL)                                              \
    XX(IPV6_V6ONLY, "ipv6_v6only", T_BOOL, W_SET | W_LISTEN)                   \
    XX(DEBUG, "debug", T_BOOL, W_ALL)                                          \
    XX(DONTROUTE, "dontroute", T_BOOL, W_SET)                                  \
    XX(LINE_LENGTH, "line_length", T_UINT, W_ALL)                              \
    XX(DISCARD_PARTIAL, "discard_partial", T_BOOL, W_ALL)                      \
    XX(REUSEPORT, "reuseport", T_BOOL, W_LISTEN)                               \
    XX(TCP_MODULE, "tcp_module", T_TRANSPORT, W_CREATE)

static const struct {
    const char *name;
    int type, where;
} table[GT_OPT_COUNT_] = {
#define ROW(e, atom, type, where) [GT_OPT_##e] = {atom, type, where},
    OPT_MAP(ROW)
#undef ROW
};

const char *gt_opt_name(gt_optname n)
{
    return n > 0 && n < GT_OPT_COUNT_ ? table[n].name : NULL;
}

void gt__opts_defaults(gt__sockopts *o, int backend)
{
    memset(o, 0, sizeof *o);
    o->backend = backend;
    o->active = GT_ACTIVE_TRUE_V;
    o->packet = GT_PKT_RAW;
    o->packet_size = backend == GT_BACKEND_SOCKET ? 64 << 20 : 0;
    o->mode = GT_MODE_LIST;
    o->buffer = backend == GT_BACKEND_SOCKET ? 8192 : 1460;
    o->send_timeout = -1;
    o->exit_on_close = true;
    o->high_watermark = 8192;
    o->low_watermark = 4096;
    o->line_delimiter = '\n';
    o->deliver_term = true;
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
    case T_TRANSPORT: {
        const gt_transport *t = op->v.p;
        return t && t->recv && t->sendv && t->shutdown;
    }
    }
    return false;
}

static bool known(gt_optname n) { return n > 0 && n < GT_OPT_COUNT_ && table[n].name; }

int gt__opts_parse_create(gt_optlist l, bool listen, gt__sockopts *o, gt__createopts *c,
                          gt_opt *sockopts, size_t *nsock)
{
    size_t cap = *nsock, n = 0;
    int backend = GT_BACKEND_INET;
    if (l.count && !l.opts)
        return GT_EBADARG;
    for (size_t i = 0; i < l.count; i++) {
        const gt_opt *op = &l.opts[i];
        if (!known(op->name) || !valid_value(op) ||
            !(table[op->name].where & (listen ? W_LISTEN : W_CONNECT)))
            return GT_EBADARG;
        if (op->name == GT_OPT_INET_BACKEND) {
            if (i != 0)
                return GT_EBADARG; /* it has to be the first option */
            backend = (int)op->v.i;
        }
    }
    gt__opts_defaults(o, backend);
    memset(c, 0, sizeof *c);
    c->backlog = 5;
    c->port = -1;
    c->v6only = -1;
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
        case GT_OPT_TCP_MODULE: o->tp = op->v.p; break;
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
    *nsock = n;
    return 0;
}

/* ---- kernel options ---- */

static int kernel_opt(gt_optname n, int family, int *level, int *name)
{
    switch (n) {
    case GT_OPT_NODELAY: *level = IPPROTO_TCP; *name = TCP_NODELAY; return 0;
    case GT_OPT_KEEPALIVE: *level = SOL_SOCKET; *name = SO_KEEPALIVE; return 0;
    case GT_OPT_REUSEADDR: *level = SOL_SOCKET; *name = SO_REUSEADDR; return 0;
    case GT_OPT_RECBUF: *level = SOL_SOCKET; *name = SO_RCVBUF; return 0;
    case GT_OPT_SNDBUF: *level = SOL_SOCKET; *name = SO_SNDBUF; return 0;
    case GT_OPT_PRIORITY: *level = SOL_SOCKET; *name = SO_PRIORITY; return 0;
    case GT_OPT_DONTROUTE: *level = SOL_SOCKET; *name = SO_DONTROUTE; return 0;
    case GT_OPT_TOS:
        if (family == AF_INET6) { *level = IPPROTO_IPV6; *name = IPV6_TCLASS; }
        else { *level = IPPROTO_IP; *name = IP_TOS; }
        return 0;
    case GT_OPT_TTL:
        if (family == AF_INET6) { *level = IPPROTO_IPV6; *name = IPV6_UNICAST_HOPS; }
        else { *level = IPPROTO_IP; *name = IP_TTL; }
        return 0;
    case GT_OPT_IPV6_V6ONLY:
        if (family != AF_INET6)
            return -EINVAL; /* rule 72: on an IPv4 socket */
        *level = IPPROTO_IPV6; *name = IPV6_V6ONLY;
        return 0;
    default:
        return 1; /* not a kernel option */
    }
}

/* Linux sets SO_PRIORITY from the TOS bits whenever IP_TOS changes, so
 * priority 3 then tos 96 would leave priority 0.  inet_drv keeps options
 * independent (setopt_prio_tos_trick): it reads the priority first and
 * sets it again afterwards, ignoring EPERM (a priority the kernel chose
 * that we may not set back).  IPV6_TCLASS leaves the priority alone. */
static int set_ip_tos(int fd, int tos)
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

/* {active, V} (docs/spec/semantics.md rules 15-18, 21). */
static int set_active(gt__sock *s, int64_t v)
{
    int64_t cur = s->o.active;
    if (is_active_atom(v)) {
        bool from_n = !is_active_atom(cur);
        s->o.active = v;
        if (v == GT_ACTIVE_FALSE_V && from_n && s->o.backend == GT_BACKEND_SOCKET)
            gt__sock_passive_msg(s); /* rule 18: socket backend only */
        return 0;
    }
    int64_t nv = is_active_atom(cur) ? v : cur + v;
    if (nv > 32767 || nv < -32768)
        return -EINVAL;
    if (nv <= 0) {
        s->o.active = GT_ACTIVE_FALSE_V;
        gt__sock_passive_msg(s); /* every time, even if already passive */
    } else {
        s->o.active = nv;
    }
    return 0;
}

/* While a transport's handshake is due the socket stays passive
 * (transport.c): the mode set now is the one it takes after. */
static int set_active_held(gt__sock *s, int64_t v)
{
    int64_t now = s->o.active;
    s->o.active = s->hs_active;
    int rc = set_active(s, v);
    s->hs_active = s->o.active;
    s->o.active = now;
    return rc;
}

static unsigned inherit_bit(gt_optname name);

static int set_one(gt__sock *s, const gt_opt *op)
{
    int64_t v = op->v.i;
    s->o.inherit_set |= inherit_bit(op->name);
    switch (op->name) {
    case GT_OPT_ACTIVE: return s->hs_pending ? set_active_held(s, v) : set_active(s, v);
    case GT_OPT_PACKET:
        if (s->o.packet != (int)v)
            s->http_state = 0;
        s->o.packet = (int)v;
        return 0;
    case GT_OPT_PACKET_SIZE: s->o.packet_size = v; return 0;
    case GT_OPT_MODE: s->o.mode = (int)v; return 0;
    case GT_OPT_HEADER: s->o.header = (int)v; return 0;
    case GT_OPT_BUFFER:
        s->o.buffer = v < 1 ? 1 : v; /* rule 7: clamped to 1 */
        s->o.buffer_set = true;
        return 0;
    case GT_OPT_SEND_TIMEOUT: s->o.send_timeout = v; return 0;
    case GT_OPT_SEND_TIMEOUT_CLOSE: s->o.send_timeout_close = v; return 0;
    case GT_OPT_EXIT_ON_CLOSE: s->o.exit_on_close = v; return 0;
    case GT_OPT_SHOW_ECONNRESET: s->o.show_econnreset = v; return 0;
    case GT_OPT_DELAY_SEND: s->o.delay_send = v; return 0;
    case GT_OPT_LINE_DELIMITER: s->o.line_delimiter = v; return 0;
    case GT_OPT_DEBUG: return 0;
    case GT_OPT_LINE_LENGTH: s->o.line_length = v; return 0;
    case GT_OPT_DISCARD_PARTIAL: s->o.discard_partial = v; return 0;
    case GT_OPT_HIGH_WATERMARK: /* rule 10 */
        s->o.high_watermark = v < 0 ? 0 : v;
        if (s->o.low_watermark > s->o.high_watermark)
            s->o.low_watermark = s->o.high_watermark;
        return 0;
    case GT_OPT_LOW_WATERMARK:
        s->o.low_watermark = v < 0 ? 0 : v;
        if (s->o.high_watermark < s->o.low_watermark)
            s->o.high_watermark = s->o.low_watermark;
        return 0;
    case GT_OPT_LINGER: {
        s->o.linger_on = op->v.linger.on;
        s->o.linger_secs = op->v.linger.seconds;
        if (s->fd < 0)
            return 0;
        struct linger lg = {op->v.linger.on, op->v.linger.seconds};
        return setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) ? gt__errno() : 0;
    }
    default: break;
    }
    int level, name;
    int k = kernel_opt(op->name, s->family, &level, &name);
    if (k < 0)
        return k;
    if (k > 0)
        return -EINVAL;
    if (op->name == GT_OPT_RECBUF && !s->o.buffer_set && v > s->o.buffer)
        s->o.buffer = v; /* rule 8: recbuf raises an unset buffer */
    if (s->fd < 0)
        return 0;
    int iv = (int)v;
    if (level == IPPROTO_IP && name == IP_TOS)
        return set_ip_tos(s->fd, iv);
    return setsockopt(s->fd, level, name, &iv, sizeof iv) ? gt__errno() : 0;
}

/* true, false, once, or any {active,N} */
static int64_t active_mode(int64_t active) { return active < GT_ACTIVE_FALSE_V ? 0 : active; }

static bool has_input(const gt__sock *s)
{
    return gt__buf_avail(&s->in) || s->readable || s->eof || s->read_err || s->read_shut;
}

int gt__opts_set_locked(gt__sock *s, const gt_opt *opts, size_t n, bool creating)
{
    if (n && !opts)
        return -EINVAL;
    if (s->state == S_CLOSED)
        return GT_ECLOSED;
    for (size_t i = 0; i < n; i++) /* type errors reject the whole list */
        if (!known(opts[i].name) || !(table[opts[i].name].where & W_SET) || !valid_value(&opts[i]))
            return -EINVAL;
    /* inet applies a list last-to-first, so the first of two duplicates
     * wins (docs/spec/semantics.md rule 5); the socket backend goes in order. */
    bool reverse = s->o.backend == GT_BACKEND_INET && !creating;
    s->in_scanned = 0; /* a new packet type or delimiter: look again */
    int64_t was_active = s->o.active;
    for (size_t k = 0; k < n; k++) {
        int rc = set_one(s, &opts[reverse ? n - 1 - k : k]);
        if (rc)
            return rc;
    }
    /* inet selects for input again only when the active mode changes
     * ({active,N} to {active,M} is no change): that ends the pause after
     * an active emsgsize (recv.c) */
    if (active_mode(was_active) != active_mode(s->o.active))
        s->read_paused = false;
    if (s->o.active == GT_ACTIVE_FALSE_V || s->kind != K_CONN)
        return 0;
    if (s->state == S_OPEN && has_input(s)) {
        gt__sock_deliver(s);
    } else if (s->state == S_DRV_CLOSED && !s->closed_sent && s->owner) {
        /* rule 21: activating a socket whose close was already seen */
        s->closed_sent = true;
        gt_msg *m = gt__msg_new(gt__sock_msg_kind(s, GT_MSG_TCP_CLOSED), 0);
        if (m) {
            m->sock = (gt_socket){s->id};
            gt__mbox_deliver(s->owner, m, m);
        }
        if (s->o.exit_on_close)
            gt__sock_close_locked(s, S_CLOSED, GT_ECLOSED);
    }
    return 0;
}

int gt__opts_get_locked(gt__sock *s, gt_opt *op)
{
    if (s->state == S_CLOSED)
        return GT_ECLOSED;
    if (!known(op->name) || !(table[op->name].where & W_SET))
        return -EINVAL;
    switch (op->name) {
    case GT_OPT_ACTIVE: op->v.i = s->o.active; return 0;
    case GT_OPT_PACKET: op->v.i = s->o.packet; return 0;
    case GT_OPT_PACKET_SIZE: op->v.i = s->o.packet_size; return 0;
    case GT_OPT_MODE: op->v.i = s->o.mode; return 0;
    case GT_OPT_HEADER: op->v.i = s->o.header; return 0;
    case GT_OPT_BUFFER: op->v.i = s->o.buffer; return 0;
    case GT_OPT_SEND_TIMEOUT: op->v.i = s->o.send_timeout; return 0;
    case GT_OPT_SEND_TIMEOUT_CLOSE: op->v.i = s->o.send_timeout_close; return 0;
    case GT_OPT_EXIT_ON_CLOSE: op->v.i = s->o.exit_on_close; return 0;
    case GT_OPT_SHOW_ECONNRESET: op->v.i = s->o.show_econnreset; return 0;
    case GT_OPT_DELAY_SEND: op->v.i = s->o.delay_send; return 0;
    case GT_OPT_LINE_DELIMITER:
        if (s->o.backend == GT_BACKEND_INET)
            return -EINVAL; /* inet cannot read it back (rule 1) */
        op->v.i = s->o.line_delimiter;
        return 0;
    case GT_OPT_DEBUG: op->v.i = 0; return 0;
    case GT_OPT_LINE_LENGTH: op->v.i = s->o.line_length; return 0;
    case GT_OPT_DISCARD_PARTIAL: op->v.i = s->o.discard_partial; return 0;
    case GT_OPT_HIGH_WATERMARK: op->v.i = s->o.high_watermark; return 0;
    case GT_OPT_LOW_WATERMARK: op->v.i = s->o.low_watermark; return 0;
    default: break;
    }
    if (s->fd < 0)
        return -EINVAL;
    if (op->name == GT_OPT_LINGER) {
        struct linger lg;
        socklen_t l = sizeof lg;
        if (getsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, &l))
            return gt__errno();
        op->v.linger.on = lg.l_onoff ? 1 : 0;
        op->v.linger.seconds = lg.l_linger;
        return 0;
    }
    int level, name;
    int k = kernel_opt(op->name, s->family, &level, &name);
    if (k < 0) {
        op->name = GT_OPT_END_; /* not an option of this socket: omitted */
        return 0;
    }
    if (k)
        return -EINVAL;
    int iv = 0;
    socklen_t l = sizeof iv;
    if (getsockopt(s->fd, level, name, &iv, &l))
        return gt__errno();
    op->v.i = (op->name == GT_OPT_NODELAY || op->name == GT_OPT_KEEPALIVE ||
               op->name == GT_OPT_REUSEADDR || op->name == GT_OPT_DONTROUTE ||
               op->name == GT_OPT_IPV6_V6ONLY) ? (iv != 0) : iv;
    return 0;
}

/* What an accepted socket takes from its listen socket beyond the gentcp
 * options it already copied: the kernel options prim_inet copies after
 * accept (nodelay, keepalive, priority, linger, tos, ttl).  inet does not
 * inherit line_delimiter (rule 12). */
static const gt_optname inherited[] = {GT_OPT_NODELAY, GT_OPT_LINGER, GT_OPT_KEEPALIVE,
                                       GT_OPT_PRIORITY, GT_OPT_TOS,    GT_OPT_TTL};

static unsigned inherit_bit(gt_optname name)
{
    for (size_t i = 0; i < sizeof inherited / sizeof inherited[0]; i++)
        if (inherited[i] == name)
            return 1u << i;
    return 0;
}

void gt__opts_inherit(gt__sock *from, gt__sock *to)
{
    /* Only the options set on the listen socket are copied: the others
     * hold the kernel's own values on both sockets, and copying them cost
     * 12 system calls per accepted connection (issue 11). */
    gt_opt v[sizeof inherited / sizeof inherited[0]];
    size_t n = 0;
    gt__lock(&from->lock, GT__LK_SOCK);
    for (size_t i = 0; i < sizeof inherited / sizeof inherited[0]; i++) {
        if (!(from->o.inherit_set & (1u << i)))
            continue;
        v[n].name = inherited[i];
        if (gt__opts_get_locked(from, &v[n]) == 0)
            n++;
    }
    gt__unlock(&from->lock);
    gt__lock(&to->lock, GT__LK_SOCK);
    if (to->o.backend == GT_BACKEND_INET)
        to->o.line_delimiter = '\n';
    for (size_t i = 0; i < n; i++)
        set_one(to, &v[i]);
    gt__unlock(&to->lock);
}
