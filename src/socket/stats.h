/*
 * stats.h -- inet:getstat's counters of one socket (gt_getstat), updated
 * on the data path under the socket lock that is held there anyway.
 *
 * The averages are inet_drv's running means in double precision
 * (inet_input_count, inet_output_count), so that the numbers agree with
 * Erlang's for the same traffic, deviation included; recv_oct/send_oct
 * count bytes at the read and at the accepted send.
 */
#ifndef GT_SOCK_STATS_H
#define GT_SOCK_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

typedef struct gt__sockstat {
    uint64_t recv_oct, recv_cnt, recv_max;
    uint64_t send_oct, send_cnt, send_max;
    double recv_avg, recv_dvi, send_avg;
} gt__sockstat;

/* n bytes read from the socket; reads: the backend counts reads, not
 * packets, in recv_cnt (backend.h stat_counts_reads). */
static inline void gt__stat_read(gt__sockstat *st, uint64_t n, bool reads)
{
    st->recv_oct += n;
    st->recv_cnt += reads;
}

/* Counts and lengths go to double through int64_t: one instruction, where
 * an unsigned 64-bit conversion is a branchy sequence on x86-64 (both are
 * far below 2^63). */
static inline double gt__stat_d(uint64_t v) { return (double)(int64_t)v; }

/* A packet whose length equals the running mean, with no deviation so
 * far, changes neither: x - avg is exactly 0, so avg + 0/n and
 * dvi + (0 - 0)/n give back avg and 0 bit for bit.  Traffic of one size
 * takes this on every packet after its first and skips the divisions
 * (pipelined echo: ~40 -> ~27 instructions per message, and no divsd).
 * Exact, so getstat's numbers are inet_drv's as before. */
static inline bool gt__stat_steady(double dl, double avg, double dvi)
{
    /* compared as bits: integer compares where == on doubles costs
     * parity branches; a -0.0 only misses the short cut */
    uint64_t l, a, d;
    memcpy(&l, &dl, sizeof l);
    memcpy(&a, &avg, sizeof a);
    memcpy(&d, &dvi, sizeof d);
    return l == a && d == 0;
}

/* One packet of len bytes (header included) delivered; nothing when the
 * backend counts reads instead. */
static inline void gt__stat_packet_in(gt__sockstat *st, uint64_t len, bool reads)
{
    if (reads)
        return;
    uint64_t n = st->recv_cnt + 1;
    double dl = gt__stat_d(len);
    if (!gt__stat_steady(dl, st->recv_avg, st->recv_dvi)) {
        double dn = gt__stat_d(n);
        double avg = st->recv_avg + (dl - st->recv_avg) / dn;
        st->recv_avg = avg;
        st->recv_dvi += ((dl - avg) - st->recv_dvi) / dn;
    }
    if (len > st->recv_max)
        st->recv_max = len;
    st->recv_cnt = n;
}

/* k packets of len bytes each delivered, as k gt__stat_packet_in calls:
 * those that move the mean one at a time, the rest (steady) counted at
 * once -- a pipelined run of one size costs one update, not one per
 * packet (issue 11, echo). */
static inline void gt__stat_packets_in(gt__sockstat *st, uint64_t len, uint64_t k, bool reads)
{
    if (reads)
        return;
    while (k && !gt__stat_steady(gt__stat_d(len), st->recv_avg, st->recv_dvi)) {
        gt__stat_packet_in(st, len, false);
        k--;
    }
    if (k && len > st->recv_max)
        st->recv_max = len;
    st->recv_cnt += k;
}

/* One packet of len bytes (header included) accepted by a send. */
static inline void gt__stat_packet_out(gt__sockstat *st, uint64_t len)
{
    uint64_t n = st->send_cnt + 1;
    double dl = gt__stat_d(len);
    if (!gt__stat_steady(dl, st->send_avg, 0))
        st->send_avg += (dl - st->send_avg) / gt__stat_d(n);
    if (len > st->send_max)
        st->send_max = len;
    st->send_cnt = n;
    st->send_oct += len;
}

/* k packets of len bytes each accepted, as k gt__stat_packet_out calls
 * (see gt__stat_packets_in). */
static inline void gt__stat_packets_out(gt__sockstat *st, uint64_t len, uint64_t k)
{
    while (k && !gt__stat_steady(gt__stat_d(len), st->send_avg, 0)) {
        gt__stat_packet_out(st, len);
        k--;
    }
    if (k && len > st->send_max)
        st->send_max = len;
    st->send_cnt += k;
    st->send_oct += len * k;
}

#endif
