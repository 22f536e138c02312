/*
 * stats.c -- inet:getstat/1 (gt_getstat) and inet:i/0 (gt_sockets_list,
 * gt_sockets_print): reading the counters of stats.h and walking the
 * handle table.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "socket/sock.h"

/* gen_tcp_socket's mean: Erlang's round/1 of sum / count (half away from
 * zero), the sum itself for no count. */
static uint64_t rounded_mean(uint64_t sum, uint64_t cnt)
{
    return cnt ? (sum + cnt / 2) / cnt : sum;
}

/* The counters as the socket's backend reports them; lock held. */
static void stats_of(const gt__sock *s, gt_stats *out)
{
    const gt__sockstat *st = &s->stat;
    *out = (gt_stats){
        .recv_oct = st->recv_oct, .recv_cnt = st->recv_cnt, .recv_max = st->recv_max,
        .recv_avg = (uint64_t)st->recv_avg, .recv_dvi = (uint64_t)(st->recv_dvi < 0 ? -st->recv_dvi : st->recv_dvi),
        .send_oct = st->send_oct, .send_cnt = st->send_cnt, .send_max = st->send_max,
        .send_avg = (uint64_t)st->send_avg, .send_pend = gt__buf_avail(&s->out),
    };
    if (gt__be(s)->stat_counts_reads) {
        /* gen_tcp_socket:getstat_what/3 (OTP 25): no maximum, no deviation,
         * no pending count (its sends do not queue) */
        out->recv_max = out->recv_avg = rounded_mean(st->recv_oct, st->recv_cnt);
        out->send_max = out->send_avg = rounded_mean(st->send_oct, st->send_cnt);
        out->recv_dvi = out->send_pend = 0;
    }
}

int gt_getstat(gt_socket h, gt_stats *out)
{
    if (gt__forked())
        return GT_EFORKED;
    if (!out)
        return GT_EBADARG;
    gt__sock *s = gt__sock_acquire(h);
    if (!s)
        return -EINVAL; /* as inet:getstat on a closed port */
    stats_of(s, out);
    gt__sock_release(s);
    return 0;
}

static const char *state_name(const gt__sock *s)
{
    if (s->kind == K_LISTEN)
        return "LISTEN";
    if (s->state == S_DRV_CLOSED)
        return "CLOSED";
    return gt__wr_connecting(&s->wr) ? "CONNECTING" : "CONNECTED";
}

typedef struct collect {
    gt_sockinfo *v;
    size_t n, cap;
    int err;
} collect;

static void collect_one(gt__sock *s, void *arg)
{
    collect *c = arg;
    if (c->err)
        return;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        gt_sockinfo *v = realloc(c->v, cap * sizeof *v);
        if (!v) {
            c->err = -ENOMEM;
            return;
        }
        c->v = v;
        c->cap = cap;
    }
    gt_sockinfo *i = &c->v[c->n];
    memset(i, 0, sizeof *i);
    gt__lock(&s->lock, GT__LK_SOCK);
    if (s->state != S_CLOSED) {
        i->sock = (gt_socket){s->id};
        if (s->owner)
            i->owner = gt__proc_pid(s->owner);
        i->family = s->family;
        i->backend = s->o->backend;
        i->state = state_name(s);
        socklen_t l = sizeof i->local;
        if (s->fd < 0 || getsockname(s->fd, (struct sockaddr *)&i->local, &l) != 0)
            memset(&i->local, 0, sizeof i->local);
        l = sizeof i->peer;
        if (s->fd < 0 || s->kind == K_LISTEN ||
            getpeername(s->fd, (struct sockaddr *)&i->peer, &l) != 0)
            memset(&i->peer, 0, sizeof i->peer);
        stats_of(s, &i->stats);
        i->active = s->active;
        i->packet = s->o->packet;
        i->mode = s->o->mode;
        c->n++;
    }
    gt__unlock(&s->lock);
}

int gt_sockets_list(gt_sockinfo **out, size_t *n)
{
    if (gt__forked())
        return GT_EFORKED;
    if (!out || !n)
        return GT_EBADARG;
    collect c = {0};
    gt__sock_foreach(collect_one, &c);
    if (c.err || !c.n) {
        free(c.v);
        c.v = NULL;
        c.n = 0;
    }
    *out = c.v;
    *n = c.n;
    return c.err;
}

static const char *active_str(int64_t a, char *buf, size_t len)
{
    if (a == GT_ACTIVE_TRUE_V)
        return "true";
    if (a == GT_ACTIVE_FALSE_V)
        return "false";
    if (a == GT_ACTIVE_ONCE_V)
        return "once";
    snprintf(buf, len, "%" PRId64, a);
    return buf;
}

static const char *packet_str(int t, char *buf, size_t len)
{
    static const struct { int t; const char *name; } names[] = {
        {GT_PKT_RAW, "raw"},     {GT_PKT_1, "1"},         {GT_PKT_2, "2"},
        {GT_PKT_4, "4"},         {GT_PKT_ASN1, "asn1"},   {GT_PKT_SUNRM, "sunrm"},
        {GT_PKT_CDR, "cdr"},     {GT_PKT_FCGI, "fcgi"},   {GT_PKT_TPKT, "tpkt"},
        {GT_PKT_LINE, "line"},   {GT_PKT_HTTP, "http"},   {GT_PKT_HTTPH, "httph"},
        {GT_PKT_HTTP_BIN, "http_bin"}, {GT_PKT_HTTPH_BIN, "httph_bin"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].t == t)
            return names[i].name;
    snprintf(buf, len, "%d", t);
    return buf;
}

int gt_sockets_print(FILE *f)
{
    if (gt__forked())
        return GT_EFORKED;
    if (!f)
        return GT_EBADARG;
    gt_sockinfo *v;
    size_t n;
    int rc = gt_sockets_list(&v, &n);
    if (rc)
        return rc;
    fprintf(f, "%-10s %-7s %-10s %-10s %-10s %-28s %-28s %-10s %-6s %s\n", "Id", "Backend",
            "Recv", "Sent", "Owner", "Local Address", "Foreign Address", "State", "Active",
            "Packet");
    for (size_t i = 0; i < n; i++) {
        char la[128], pa[128], ab[24], pb[16];
        const gt_sockinfo *s = &v[i];
        gt_addr_str(&s->local, la, sizeof la);
        gt_addr_str(&s->peer, pa, sizeof pa);
        fprintf(f, "%-10" PRIu64 " %-7s %-10" PRIu64 " %-10" PRIu64 " %-10" PRIu64
                   " %-28s %-28s %-10s %-6s %s\n",
                s->sock.id, s->backend == GT_BACKEND_SOCKET ? "socket" : "inet",
                s->stats.recv_oct, s->stats.send_oct, s->owner.id, la[0] ? la : "*:*",
                pa[0] ? pa : "*:*", s->state, active_str(s->active, ab, sizeof ab),
                packet_str(s->packet, pb, sizeof pb));
    }
    free(v);
    return fflush(f) == 0 && !ferror(f) ? 0 : -EIO;
}
