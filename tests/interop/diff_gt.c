/*
 * diff_gt.c -- the gentcp side of the differential tests (diff.sh).
 *
 *   diff_gt FILE   runs every scenario of FILE (format: head of
 *                  diff.escript) with gentcp and prints exactly what
 *                  `diff.escript run FILE` prints with gen_tcp.
 *
 * Each scenario runs in a forked child (fresh runtime, bounded time), so a
 * crash or a hang costs one scenario, reported as crash:... or
 * scenario_timeout.
 *
 * Deliberate deviations (docs/DEVIATIONS.md) are switched to Erlang's
 * behaviour with gentcp's own options, added after the scenario's:
 * GT_DISCARD_PARTIAL(true) (row 2) and GT_LINE_LENGTH(buffer) (row 7).
 * DIFF_GT_DEFAULTS=1 leaves them out.  Row 5 (mode/header are bytes) is
 * handled by the escript printing lists as binaries.
 */
#include "gentcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SCENARIO_TIMEOUT_MS 20000
#define SEND_WAIT_MS 2000
#define MAX_OPTS 48
#define SHORT_DATA 48

enum { TAG_SEND = 1, TAG_SENT, TAG_GO, TAG_CTL_MSGS };

/* ---------------------------------------------------------------- output */

/* A growing text buffer; owns its bytes. */
typedef struct {
    char *p;
    size_t len, cap;
} text;

static void tx_add(text *t, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        size_t room = t->cap - t->len;
        va_start(ap, fmt);
        int n = vsnprintf(t->p ? t->p + t->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if ((size_t)n < room) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap ? t->cap * 2 : 256;
        while (cap - t->len <= (size_t)n)
            cap *= 2;
        char *np = realloc(t->p, cap);
        if (!np)
            abort();
        t->p = np;
        t->cap = cap;
    }
}

static uint32_t adler32(const uint8_t *d, size_t n)
{
    uint32_t a = 1, b = 0;
    for (size_t i = 0; i < n; i++) {
        a = (a + d[i]) % 65521;
        b = (b + a) % 65521;
    }
    return b << 16 | a;
}

/* Data as the escript prints it: <<...>> when short, else {bin,N,Adler}. */
static void tx_data(text *t, const uint8_t *d, size_t n)
{
    if (n > SHORT_DATA) {
        tx_add(t, "{bin,%zu,%u}", n, adler32(d, n));
        return;
    }
    tx_add(t, "<<");
    for (size_t i = 0; i < n; i++)
        tx_add(t, i ? ",%u" : "%u", d[i]);
    tx_add(t, ">>");
}

static void tx_http(text *t, const struct gt_http_packet *h)
{
    char buf[4096];
    gt_http_packet_format(h, buf, sizeof buf);
    tx_add(t, "%s", buf);
}

static void tx_result(text *t, int rc)
{
    if (rc == 0)
        tx_add(t, "ok");
    else
        tx_add(t, "{error,%s}", gt_err_name(rc));
}

/* ---------------------------------------------------------------- options */

typedef struct {
    gt_opt v[MAX_OPTS];
    size_t n;
    int packet;  /* the last packet= given, -1 if none */
    int buffer;  /* the last buffer= given, -1 if none */
    int backend; /* inet_backend= given (first), else GT_BACKEND_INET */
    char err[64];
} optset;

static bool parse_int(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end)
        return false;
    *out = v;
    return true;
}

static int packet_value(const char *v)
{
    static const struct { const char *name; int t; } tab[] = {
        {"raw", GT_PKT_RAW}, {"0", GT_PKT_RAW}, {"1", GT_PKT_1}, {"2", GT_PKT_2},
        {"4", GT_PKT_4}, {"line", GT_PKT_LINE}, {"http", GT_PKT_HTTP},
        {"httph", GT_PKT_HTTPH}, {"http_bin", GT_PKT_HTTP_BIN},
        {"httph_bin", GT_PKT_HTTPH_BIN}, {"asn1", GT_PKT_ASN1}, {"sunrm", GT_PKT_SUNRM},
        {"cdr", GT_PKT_CDR}, {"fcgi", GT_PKT_FCGI}, {"tpkt", GT_PKT_TPKT}};
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (!strcmp(v, tab[i].name))
            return tab[i].t;
    return -1;
}

static gt_optname opt_by_name(const char *k)
{
    for (int n = 1; n < GT_OPT_COUNT_; n++) {
        const char *nm = gt_opt_name((gt_optname)n);
        if (nm && !strcmp(nm, k))
            return (gt_optname)n;
    }
    return GT_OPT_END_;
}

/* One "k=v"; false (and o->err) when the runner cannot express it. */
static bool parse_opt(optset *o, char *kv)
{
    char *v = strchr(kv, '=');
    if (!v || o->n >= MAX_OPTS)
        goto bad;
    *v++ = 0;
    gt_optname name = opt_by_name(kv);
    if (name == GT_OPT_END_)
        goto bad;
    gt_opt op = {.name = name};
    long iv;
    if (name == GT_OPT_LINGER) {
        char *sl = strchr(v, '/');
        if (!sl || !parse_int(sl + 1, &iv))
            goto bad;
        op.v.linger.on = !strncmp(v, "true", 4);
        op.v.linger.seconds = (int)iv;
    } else if (name == GT_OPT_PACKET) {
        if ((op.v.i = packet_value(v)) < 0)
            goto bad;
        o->packet = (int)op.v.i;
    } else if (name == GT_OPT_ACTIVE && !strcmp(v, "once")) {
        op.v.i = GT_ACTIVE_ONCE_V;
    } else if (name == GT_OPT_ACTIVE && !strcmp(v, "true")) {
        op.v.i = GT_ACTIVE_TRUE_V;
    } else if (name == GT_OPT_ACTIVE && !strcmp(v, "false")) {
        op.v.i = GT_ACTIVE_FALSE_V;
    } else if (name == GT_OPT_INET_BACKEND) {
        op.v.i = !strcmp(v, "socket") ? GT_BACKEND_SOCKET : GT_BACKEND_INET;
        o->backend = (int)op.v.i;
    } else if (name == GT_OPT_MODE) {
        op.v.i = !strcmp(v, "binary") ? GT_MODE_BINARY : GT_MODE_LIST;
    } else if (!strcmp(v, "true") || !strcmp(v, "false")) {
        op.v.i = !strcmp(v, "true");
    } else if (!strcmp(v, "infinity")) {
        op.v.i = GT_INFINITY;
    } else if (parse_int(v, &iv)) {
        op.v.i = iv;
        if (name == GT_OPT_BUFFER)
            o->buffer = (int)iv;
    } else {
        goto bad;
    }
    o->v[o->n++] = op;
    return true;
bad:
    snprintf(o->err, sizeof o->err, "{runner_cannot,'%s'}", kv);
    return false;
}

static bool compat(void)
{
    const char *e = getenv("DIFF_GT_DEFAULTS");
    return !(e && *e == '1');
}

/* "k=v,k=v" or "-".  Modifies s.  Adds the Erlang-compatibility options
 * (see the head of the file) when create or a buffer is set. */
static bool parse_opts(optset *o, char *s, bool create)
{
    o->n = 0;
    o->packet = o->buffer = -1;
    o->backend = GT_BACKEND_INET;
    o->err[0] = 0;
    if (strcmp(s, "-")) {
        char *save = NULL;
        for (char *kv = strtok_r(s, ",", &save); kv; kv = strtok_r(NULL, ",", &save))
            if (!parse_opt(o, kv))
                return false;
    }
    if (compat() && o->n + 2 <= MAX_OPTS) {
        if (create)
            o->v[o->n++] = GT_DISCARD_PARTIAL(true);
        /* the socket backend cuts lines at packet_size, as gentcp does */
        if ((create || o->buffer >= 0) && o->backend == GT_BACKEND_INET)
            o->v[o->n++] = GT_LINE_LENGTH(o->buffer >= 0 ? (o->buffer < 1 ? 1 : o->buffer) : 1460);
    }
    return true;
}

/* ---------------------------------------------------------------- data */

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* DATA spec -> malloc'd bytes (caller frees), *len. */
static uint8_t *parse_data(const char *spec, size_t *len)
{
    size_t cap = 64, n = 0;
    uint8_t *b = malloc(cap);
    char *copy = strdup(spec), *save = NULL;
    for (char *it = strtok_r(copy, "+", &save); it; it = strtok_r(NULL, "+", &save)) {
        size_t need = strlen(it);
        long cnt = 0, byte = 0;
        if (!strncmp(it, "f:", 2) && sscanf(it + 2, "%ld:%ld", &cnt, &byte) == 2 && cnt > 0)
            need = (size_t)cnt;
        while (n + need > cap)
            cap *= 2;
        b = realloc(b, cap);
        if (!strncmp(it, "s:", 2)) {
            for (const char *p = it + 2; *p; p++) {
                if (*p == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
                    b[n++] = (uint8_t)(hexval(p[1]) * 16 + hexval(p[2]));
                    p += 2;
                } else {
                    b[n++] = (uint8_t)*p;
                }
            }
        } else if (!strncmp(it, "h:", 2)) {
            for (const char *p = it + 2; hexval(p[0]) >= 0 && hexval(p[1]) >= 0; p += 2)
                b[n++] = (uint8_t)(hexval(p[0]) * 16 + hexval(p[1]));
        } else if (!strncmp(it, "f:", 2)) {
            memset(b + n, (int)byte, (size_t)cnt);
            n += (size_t)cnt;
        }
    }
    free(copy);
    *len = n;
    return b;
}

/* ---------------------------------------------------------------- getopts */

static void tx_optval(text *t, const gt_opt *o)
{
    int64_t v = o->v.i;
    switch (o->name) {
    case GT_OPT_ACTIVE:
        if (v == GT_ACTIVE_TRUE_V) tx_add(t, "true");
        else if (v == GT_ACTIVE_FALSE_V) tx_add(t, "false");
        else if (v == GT_ACTIVE_ONCE_V) tx_add(t, "once");
        else tx_add(t, "%lld", (long long)v);
        return;
    case GT_OPT_PACKET: {
        static const char *names[] = {[GT_PKT_ASN1] = "asn1", [GT_PKT_SUNRM] = "sunrm",
            [GT_PKT_CDR] = "cdr", [GT_PKT_FCGI] = "fcgi", [GT_PKT_TPKT] = "tpkt",
            [GT_PKT_LINE] = "line", [GT_PKT_HTTP] = "http", [GT_PKT_HTTPH] = "httph",
            [GT_PKT_HTTP_BIN] = "http_bin", [GT_PKT_HTTPH_BIN] = "httph_bin"};
        if (v >= GT_PKT_ASN1 && v <= GT_PKT_HTTPH_BIN)
            tx_add(t, "%s", names[v]);
        else
            tx_add(t, "%lld", (long long)v);
        return;
    }
    case GT_OPT_MODE: tx_add(t, v == GT_MODE_BINARY ? "binary" : "list"); return;
    case GT_OPT_LINGER:
        tx_add(t, "{%s,%d}", o->v.linger.on ? "true" : "false", o->v.linger.seconds);
        return;
    case GT_OPT_SEND_TIMEOUT:
        if (v < 0) { tx_add(t, "infinity"); return; }
        break;
    case GT_OPT_EXIT_ON_CLOSE: case GT_OPT_SHOW_ECONNRESET: case GT_OPT_SEND_TIMEOUT_CLOSE:
    case GT_OPT_DELAY_SEND: case GT_OPT_NODELAY: case GT_OPT_KEEPALIVE: case GT_OPT_REUSEADDR:
        tx_add(t, v ? "true" : "false");
        return;
    default: break;
    }
    tx_add(t, "%lld", (long long)v);
}

static void do_getopts(text *t, gt_socket s, char *names)
{
    gt_opt o[MAX_OPTS];
    size_t n = 0;
    char *save = NULL;
    for (char *k = strtok_r(names, ",", &save); k && n < MAX_OPTS; k = strtok_r(NULL, ",", &save)) {
        o[n] = (gt_opt){.name = opt_by_name(k)};
        if (o[n].name == GT_OPT_END_) {
            tx_add(t, "{runner_cannot,'%s'}", k);
            return;
        }
        n++;
    }
    int rc = gt_getopts(s, o, n);
    if (rc) {
        tx_result(t, rc);
        return;
    }
    tx_add(t, "{ok,[");
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (o[i].name == GT_OPT_END_)
            continue;
        tx_add(t, first ? "{%s," : ",{%s,", gt_opt_name(o[i].name));
        tx_optval(t, &o[i]);
        tx_add(t, "}");
        first = false;
    }
    tx_add(t, "]}");
}

/* ---------------------------------------------------------------- mailbox */

static bool is_sock_msg(const gt_msg *m, void *arg)
{
    return m->kind != GT_MSG_USER && m->kind != GT_MSG_DOWN && gt_sock_eq(m->sock, *(gt_socket *)arg);
}

typedef struct {
    int tag;
} tagmatch;

static bool is_tag(const gt_msg *m, void *arg)
{
    return m->kind == GT_MSG_USER && m->tag == ((tagmatch *)arg)->tag;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The messages about s until idle_ms of silence (at most 500, 10 s); raw
 * data messages in a row are merged, as the escript does. */
static void tx_msgs(text *t, gt_socket s, int packet, int64_t idle_ms)
{
    int64_t deadline = now_ms() + 10000;
    uint8_t *pend = NULL; /* merged raw data not yet printed; owned */
    size_t plen = 0;
    bool have_pend = false, first = true;
    tx_add(t, "[");
    for (int k = 0; k < 500; k++) {
        int64_t left = deadline - now_ms();
        gt_msg *m = NULL;
        if (gt_receive_match(is_sock_msg, &s, left < idle_ms ? (left > 0 ? left : 0) : idle_ms, &m))
            break;
        if (m->kind == GT_MSG_TCP && packet == GT_PKT_RAW) {
            pend = realloc(pend, plen + m->len + 1);
            memcpy(pend + plen, m->data, m->len);
            plen += m->len;
            have_pend = true;
            gt_msg_free(m);
            continue;
        }
        if (have_pend) {
            tx_add(t, first ? "{tcp,s," : ",{tcp,s,");
            tx_data(t, pend, plen);
            tx_add(t, "}");
            first = false;
            have_pend = false;
            plen = 0;
        }
        tx_add(t, first ? "" : ",");
        first = false;
        switch (m->kind) {
        case GT_MSG_TCP: tx_add(t, "{tcp,s,"); tx_data(t, m->data, m->len); tx_add(t, "}"); break;
        case GT_MSG_HTTP: tx_add(t, "{http,s,"); tx_http(t, m->http); tx_add(t, "}"); break;
        case GT_MSG_TCP_CLOSED: tx_add(t, "{tcp_closed,s}"); break;
        case GT_MSG_TCP_ERROR: tx_add(t, "{tcp_error,s,%s}", gt_err_name(m->reason)); break;
        case GT_MSG_TCP_PASSIVE: tx_add(t, "{tcp_passive,s}"); break;
        default: tx_add(t, "{unexpected,%d}", (int)m->kind); break;
        }
        gt_msg_free(m);
    }
    if (have_pend) {
        tx_add(t, first ? "{tcp,s," : ",{tcp,s,");
        tx_data(t, pend, plen);
        tx_add(t, "}");
    }
    free(pend);
    tx_add(t, "]");
}

/* ---------------------------------------------------------------- helpers */

/* The sender: performs each TAG_SEND (socket id, then the bytes) and posts
 * the result back, in order. */
static void sender(void *arg)
{
    (void)arg;
    for (;;) {
        gt_msg *m = NULL;
        if (gt_receive(GT_INFINITY, &m))
            continue;
        if (m->kind == GT_MSG_USER && m->tag == TAG_SEND && m->len >= sizeof(gt_socket)) {
            gt_socket s;
            memcpy(&s, m->data, sizeof s);
            size_t len = m->len - sizeof s, sent = 0;
            /* rc, then whether a timeout left an unsent rest (the socket
             * backend's {error,{timeout,RestData}}) */
            int r[2] = {gt_send_partial(s, m->data + sizeof s, len, &sent), 0};
            r[1] = r[0] == GT_ETIMEOUT && sent < len;
            gt_post(m->from, TAG_SENT, r, sizeof r);
        }
        gt_msg_free(m);
    }
}

typedef struct {
    gt_socket s;
    int packet;
    int64_t idle_ms;
    gt_pid main;
} ctl_arg;

/* The new owner of ctl: waits for TAG_GO, reports its mailbox, stays alive
 * (its death would close the socket). */
static void new_owner(void *argp)
{
    ctl_arg a = *(ctl_arg *)argp;
    free(argp);
    tagmatch go = {TAG_GO};
    gt_msg *m = NULL;
    if (gt_receive_match(is_tag, &go, GT_INFINITY, &m) == 0)
        gt_msg_free(m);
    text t = {0};
    tx_msgs(&t, a.s, a.packet, a.idle_ms);
    gt_post(a.main, TAG_CTL_MSGS, t.p, t.len);
    free(t.p);
    for (;;) {
        if (gt_receive(GT_INFINITY, &m) == 0)
            gt_msg_free(m);
    }
}

/* ---------------------------------------------------------------- peer */

static int tcp_socket(int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd >= 0 && rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    return fd;
}

static struct sockaddr_in loopback(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

static const char *errno_atom(int e)
{
    switch (e) {
    case ECONNRESET: return "econnreset";
    case EPIPE: return "closed";
    case ENOTCONN: return "enotconn";
    default: return "eio";
    }
}

static void peer_send(text *t, int fd, const uint8_t *d, size_t n)
{
    size_t off = 0;
    while (off < n) {
        struct pollfd p = {fd, POLLOUT, 0};
        if (poll(&p, 1, 5000) <= 0) {
            tx_add(t, "{error,timeout}");
            return;
        }
        ssize_t w = send(fd, d + off, n - off, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            tx_add(t, "{error,%s}", errno_atom(errno));
            return;
        }
        off += (size_t)w;
    }
    tx_add(t, "ok");
}

static void peer_read(text *t, int fd, int idle_ms)
{
    size_t cap = 65536, n = 0;
    uint8_t *b = malloc(cap);
    const char *state = "too_long";
    for (int i = 0; i < 100000; i++) {
        struct pollfd p = {fd, POLLIN, 0};
        int pr = poll(&p, 1, idle_ms);
        if (pr == 0) {
            state = "open";
            break;
        }
        if (n + 65536 > cap)
            b = realloc(b, cap *= 2);
        ssize_t r = recv(fd, b + n, 65536, 0);
        if (r > 0) {
            n += (size_t)r;
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        state = r == 0 ? "eof" : errno == ECONNRESET ? "reset" : errno_atom(errno);
        break;
    }
    tx_add(t, "{peer,%zu,%u,%s}", n, adler32(b, n), state);
    free(b);
}

/* ---------------------------------------------------------------- steps */

typedef struct {
    gt_socket s;
    int peer;        /* fd, -1 when closed */
    gt_pid sender;
    int pending;     /* sends whose result is not printed yet */
    int packet;      /* current packet type, for merging raw messages */
    gt_pid ctl_owner;
    bool timeout_close; /* send_timeout_close=true was given */
} state;

static int await_send(text *t, state *st, int64_t ms)
{
    if (!st->pending) {
        tx_add(t, "no_pending_send");
        return 0;
    }
    tagmatch tm = {TAG_SENT};
    gt_msg *m = NULL;
    if (gt_receive_match(is_tag, &tm, ms, &m)) {
        tx_add(t, "pending");
        return 0;
    }
    int r[2];
    memcpy(r, m->data, sizeof r);
    gt_msg_free(m);
    st->pending--;
    /* Erlang gives no RestData when send_timeout_close closes the socket */
    if (r[1] && !st->timeout_close)
        tx_add(t, "{error,{timeout,rest}}");
    else
        tx_result(t, r[0]);
    return 0;
}

/* Opens the socket under test and its peer (listen or connect).  Returns
 * false to abort the scenario (the reason is in t). */
static bool open_pair(text *t, state *st, bool listen_side, char *optstr, int rcvbuf)
{
    optset o;
    if (!parse_opts(&o, optstr, true)) {
        tx_add(t, "%s", o.err);
        return false;
    }
    gt_opt all[MAX_OPTS + 2] = {GT_INET_BACKEND(GT_BACKEND_INET), GT_IP("127.0.0.1")};
    size_t first = o.n && o.v[0].name == GT_OPT_INET_BACKEND; /* it leads the list */
    all[0].v.i = o.backend;
    memcpy(all + 2, o.v + first, (o.n - first) * sizeof(gt_opt));
    gt_optlist ol = {all, o.n - first + 2};
    st->packet = o.packet >= 0 ? o.packet : GT_PKT_RAW;
    for (size_t i = 0; i < o.n; i++)
        if (o.v[i].name == GT_OPT_SEND_TIMEOUT_CLOSE)
            st->timeout_close = o.v[i].v.i;
    int rc;
    if (listen_side) {
        gt_socket l;
        if ((rc = gt_listen(0, ol, &l))) {
            tx_add(t, rc == GT_EBADARG ? "{abort,badarg}" : "{abort,{error,%s}}", gt_err_name(rc));
            return false;
        }
        int port = 0;
        gt_port(l, &port);
        st->peer = tcp_socket(rcvbuf);
        struct sockaddr_in a = loopback(port);
        if (connect(st->peer, (struct sockaddr *)&a, sizeof a) || (rc = gt_accept(l, 5000, &st->s))) {
            tx_add(t, "{abort,peer_connect}");
            return false;
        }
        gt_close(l);
    } else {
        int lfd = tcp_socket(rcvbuf);
        struct sockaddr_in a = loopback(0);
        socklen_t al = sizeof a;
        if (bind(lfd, (struct sockaddr *)&a, sizeof a) || listen(lfd, 5) ||
            getsockname(lfd, (struct sockaddr *)&a, &al)) {
            tx_add(t, "{abort,peer_listen}");
            return false;
        }
        ol.opts++; /* no ip option for connect: the escript gives none */
        ol.count--;
        all[1] = all[0];
        if ((rc = gt_connect("127.0.0.1", ntohs(a.sin_port), ol, 5000, &st->s))) {
            tx_add(t, rc == GT_EBADARG ? "{abort,badarg}" : "{abort,{error,%s}}", gt_err_name(rc));
            close(lfd);
            return false;
        }
        struct pollfd p = {lfd, POLLIN, 0};
        st->peer = poll(&p, 1, 5000) > 0 ? accept(lfd, NULL, NULL) : -1;
        close(lfd);
        if (st->peer < 0) {
            tx_add(t, "{abort,peer_accept}");
            return false;
        }
    }
    tx_add(t, "ok");
    return true;
}

static long num(const char *s)
{
    long v = 0;
    parse_int(s ? s : "", &v);
    return v;
}

/* One step; false ends the scenario. */
static bool step(text *t, state *st, char **w, int nw)
{
    const char *op = w[0];
    if ((!strcmp(op, "listen") || !strcmp(op, "connect")) && nw == 3)
        return open_pair(t, st, op[0] == 'l', w[1], (int)num(w[2]));
    if (!strcmp(op, "psend") && nw == 2) {
        size_t n;
        uint8_t *d = parse_data(w[1], &n);
        if (st->peer < 0)
            tx_add(t, "{error,closed}");
        else
            peer_send(t, st->peer, d, n);
        free(d);
    } else if (!strcmp(op, "pshut")) {
        tx_add(t, st->peer >= 0 && shutdown(st->peer, SHUT_WR) == 0 ? "ok" : "{error,enotconn}");
    } else if (!strcmp(op, "pclose") || !strcmp(op, "prst")) {
        if (op[1] == 'r') {
            struct linger lg = {1, 0};
            setsockopt(st->peer, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        }
        if (st->peer >= 0)
            close(st->peer);
        st->peer = -1;
        tx_add(t, "ok");
    } else if (!strcmp(op, "precv") && nw == 2) {
        if (st->peer < 0)
            tx_add(t, "{peer,closed}");
        else
            peer_read(t, st->peer, (int)num(w[1]));
    } else if (!strcmp(op, "send") && nw == 2) {
        size_t n;
        uint8_t *d = parse_data(w[1], &n);
        uint8_t *msg = malloc(sizeof st->s + n);
        memcpy(msg, &st->s, sizeof st->s);
        memcpy(msg + sizeof st->s, d, n);
        gt_post(st->sender, TAG_SEND, msg, sizeof st->s + n);
        free(msg);
        free(d);
        st->pending++;
        await_send(t, st, SEND_WAIT_MS);
    } else if (!strcmp(op, "await") && nw == 2) {
        await_send(t, st, num(w[1]));
    } else if (!strcmp(op, "recv") && nw == 3) {
        gt_msg *m = NULL;
        int rc = gt_recv(st->s, (size_t)num(w[1]), num(w[2]), &m);
        if (rc) {
            tx_result(t, rc);
        } else {
            tx_add(t, "{ok,");
            if (m->kind == GT_MSG_HTTP)
                tx_http(t, m->http);
            else
                tx_data(t, m->data, m->len);
            tx_add(t, "}");
            gt_msg_free(m);
        }
    } else if (!strcmp(op, "setopts") && nw == 2) {
        optset o;
        if (!parse_opts(&o, w[1], false)) {
            tx_add(t, "%s", o.err);
        } else {
            int rc = gt_setopts(st->s, (gt_optlist){o.v, o.n});
            /* rule 5: the first packet= of a setopts list wins */
            if (rc == 0)
                for (size_t i = o.n; i-- > 0;)
                    if (o.v[i].name == GT_OPT_PACKET)
                        st->packet = (int)o.v[i].v.i;
            tx_result(t, rc);
        }
    } else if (!strcmp(op, "getopts") && nw == 2) {
        do_getopts(t, st->s, w[1]);
    } else if (!strcmp(op, "close")) {
        tx_result(t, gt_close(st->s));
    } else if (!strcmp(op, "shutdown") && nw == 2) {
        gt_shutdown_how how = !strcmp(w[1], "read") ? GT_SHUT_READ
                            : !strcmp(w[1], "write") ? GT_SHUT_WRITE : GT_SHUT_READ_WRITE;
        tx_result(t, gt_shutdown(st->s, how));
    } else if (!strcmp(op, "msgs") && nw == 2) {
        tx_msgs(t, st->s, st->packet, num(w[1]));
    } else if (!strcmp(op, "ctl") && nw == 2) {
        ctl_arg *a = malloc(sizeof *a);
        *a = (ctl_arg){st->s, st->packet, num(w[1]), gt_self()};
        gt_pid h;
        if (gt_spawn(new_owner, a, NULL, &h)) {
            free(a);
            tx_add(t, "{runner_cannot,spawn}");
            return true;
        }
        tx_result(t, gt_controlling_process(st->s, h));
        gt_post(h, TAG_GO, NULL, 0);
        tagmatch tm = {TAG_CTL_MSGS};
        gt_msg *m = NULL;
        if (gt_receive_match(is_tag, &tm, 10000, &m)) {
            tx_add(t, " ctl_timeout");
        } else {
            tx_add(t, " %.*s", (int)m->len, (const char *)m->data);
            gt_msg_free(m);
        }
    } else if (!strcmp(op, "sleep") && nw == 2) {
        gt_sleep(num(w[1]));
        tx_add(t, "ok");
    } else {
        tx_add(t, "{error,{bad_step,'%s'}}", op);
    }
    return true;
}

/* Runs one scenario line (modified) and prints its result line. */
static void scenario(char *line)
{
    char *tab = strchr(line, '\t');
    if (!tab)
        return;
    *tab = 0;
    state st = {.peer = -1, .packet = GT_PKT_RAW};
    if (gt_spawn(sender, NULL, NULL, &st.sender)) {
        printf("%s\t{runner_cannot,spawn}\n", line);
        return;
    }
    text t = {0};
    char *save = NULL;
    bool first = true;
    for (char *s = strtok_r(tab + 1, "|", &save); s; s = strtok_r(NULL, "|", &save)) {
        char *w[8], *ws = NULL;
        int nw = 0;
        for (char *x = strtok_r(s, " ", &ws); x && nw < 8; x = strtok_r(NULL, " ", &ws))
            w[nw++] = x;
        if (!nw)
            continue;
        if (!first)
            tx_add(&t, " ; ");
        first = false;
        if (!step(&t, &st, w, nw))
            break;
    }
    printf("%s\t%.*s\n", line, (int)t.len, t.p ? t.p : "");
    fflush(stdout);
    free(t.p);
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: diff_gt FILE (see tests/interop/diff.escript)\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        if (line[n - 1] == '\n')
            line[--n] = 0;
        char *tab = strchr(line, '\t');
        if (!n || !tab)
            continue;
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            scenario(line);
            fflush(stdout);
            _exit(0);
        }
        int status = 0;
        bool done = false;
        for (int i = 0; i < SCENARIO_TIMEOUT_MS / 10 && !done; i++) {
            if (waitpid(pid, &status, WNOHANG) == pid)
                done = true;
            else
                usleep(10000);
        }
        if (!done) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            printf("%.*s\tscenario_timeout\n", (int)(tab - line), line);
        } else if (WIFSIGNALED(status)) {
            printf("%.*s\tcrash:signal_%d\n", (int)(tab - line), line, WTERMSIG(status));
        }
        fflush(stdout);
    }
    free(line);
    fclose(f);
    return 0;
}
