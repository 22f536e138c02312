/*
 * decode_bench.c -- gt_decode_packet speed per packet type.
 *
 *   decode_bench [CASE...] ns per decode for every case (or the named
 *                          ones): "NAME NS"
 *   decode_bench --dump    the cases: "NAME STEP TYPE HEX" (one line per
 *                          decode_packet call), for bench/decode_bench.escript
 *                          to time erlang:decode_packet/3 on the same bytes
 *
 * A case is a sequence of calls; "http" is a request line plus 10 headers
 * plus the empty line (12 calls, types http_bin then httph_bin), the time is
 * per whole case (thread CPU time, the best of 3 runs of >= 20 ms).  See bench/decode.sh for the comparison table.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gentcp.h"

typedef struct step {
    gt_packet_type type;
    const char *tname;
    uint8_t bytes[600];
    size_t len;
} step;

typedef struct bcase {
    const char *name;
    step steps[16];
    int nsteps;
} bcase;

static bcase cases[16];
static int ncases;

static step *add_step(bcase *c, gt_packet_type t, const char *tname, const void *b, size_t n)
{
    step *s = &c->steps[c->nsteps++];
    s->type = t;
    s->tname = tname;
    memcpy(s->bytes, b, n);
    s->len = n;
    return s;
}

static void one(const char *name, gt_packet_type t, const char *tname, const void *b, size_t n)
{
    bcase *c = &cases[ncases++];
    c->name = name;
    add_step(c, t, tname, b, n);
}

static void build(void)
{
    uint8_t body[64], buf[256];
    for (int i = 0; i < 64; i++)
        body[i] = (uint8_t)('a' + i % 26);
    one("raw", GT_PKT_RAW, "raw", body, 64);
    buf[0] = 64;
    memcpy(buf + 1, body, 64);
    one("packet_1", GT_PKT_1, "1", buf, 65);
    buf[0] = 0, buf[1] = 64;
    memcpy(buf + 2, body, 64);
    one("packet_2", GT_PKT_2, "2", buf, 66);
    buf[0] = buf[1] = buf[2] = 0, buf[3] = 64;
    memcpy(buf + 4, body, 64);
    one("packet_4", GT_PKT_4, "4", buf, 68);
    buf[0] = 0x30, buf[1] = 0x81, buf[2] = 64;
    memcpy(buf + 3, body, 64);
    one("asn1", GT_PKT_ASN1, "asn1", buf, 67);
    buf[0] = 0x80, buf[1] = buf[2] = 0, buf[3] = 64;
    memcpy(buf + 4, body, 64);
    one("sunrm", GT_PKT_SUNRM, "sunrm", buf, 68);
    memcpy(buf, "GIOP\1\2\0\0\0\0\0\100", 12);
    memcpy(buf + 12, body, 64);
    one("cdr", GT_PKT_CDR, "cdr", buf, 76);
    memcpy(buf, "\1\1\0\1\0\100\0\0", 8);
    memcpy(buf + 8, body, 64);
    one("fcgi", GT_PKT_FCGI, "fcgi", buf, 72);
    memcpy(buf, "\3\0\0\104", 4);
    memcpy(buf + 4, body, 64);
    one("tpkt", GT_PKT_TPKT, "tpkt", buf, 68);
    memcpy(buf, body, 63);
    buf[63] = '\n';
    memcpy(buf + 64, "next", 4);
    one("line", GT_PKT_LINE, "line", buf, 68);

    static const char *http[] = {
        "GET /index.html?q=1 HTTP/1.1\r\n",
        "Host: www.example.com\r\n",
        "User-Agent: Mozilla/5.0 (X11; Linux x86_64) bench/1.0\r\n",
        "Accept: text/html,application/xhtml+xml\r\n",
        "Accept-Language: en-US,en;q=0.5\r\n",
        "Accept-Encoding: gzip, deflate\r\n",
        "Connection: keep-alive\r\n",
        "Cookie: a=1; b=2\r\n",
        "Cache-Control: max-age=0\r\n",
        "X-Request-Id: 4bf92f3577b34da6a3ce929d0e0e4736\r\n",
        "If-None-Match: \"abc\"\r\n",
        "\r\n",
    };
    bcase *c = &cases[ncases++];
    c->name = "http_req_10_headers";
    for (int i = 0; i < 12; i++) {
        /* each call sees its line plus what follows (as on a socket) */
        size_t n = 0;
        for (int j = i; j < 12; j++) {
            size_t k = strlen(http[j]);
            memcpy(buf + n, http[j], k);
            n += k;
            if (n > 200)
                break;
        }
        add_step(c, i == 0 ? GT_PKT_HTTP_BIN : GT_PKT_HTTPH_BIN,
                 i == 0 ? "http_bin" : "httph_bin", buf, n);
    }
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* CPU time: robust on a busy box */
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    volatile size_t sink = 0;

    build();
    if (argc > 1 && strcmp(argv[1], "--dump") == 0) {
        for (int i = 0; i < ncases; i++)
            for (int s = 0; s < cases[i].nsteps; s++) {
                const step *st = &cases[i].steps[s];
                printf("%s %d %s ", cases[i].name, s, st->tname);
                for (size_t k = 0; k < st->len; k++)
                    printf("%02x", st->bytes[k]);
                printf("\n");
            }
        return 0;
    }
    for (int i = 0; i < ncases; i++) {
        const bcase *c = &cases[i];
        bool wanted = argc < 2;
        for (int a = 1; a < argc; a++)
            wanted |= strcmp(argv[a], c->name) == 0;
        if (!wanted)
            continue;
        long iters = 1000;
        double dt, best = 1e30;
        for (int rep = 0; rep < 3;) { /* grow to >= 20 ms a run; best of 3 */
            double t0 = now();
            for (long it = 0; it < iters; it++)
                for (int s = 0; s < c->nsteps; s++) {
                    gt_decode_result r;
                    if (gt_decode_packet(c->steps[s].type, c->steps[s].bytes, c->steps[s].len,
                                         NULL, &r) != 0 ||
                        r.status != GT_DECODE_PACKET) {
                        fprintf(stderr, "decode_bench: %s step %d did not decode\n", c->name, s);
                        return 1;
                    }
                    sink += r.rest_len + (r.is_http ? r.http.value.len : r.packet_len);
                }
            dt = now() - t0;
            if (dt < 0.02) {
                iters *= dt > 0.005 ? 2 : 10;
                continue;
            }
            if (dt * 1e9 / (double)iters < best)
                best = dt * 1e9 / (double)iters;
            rep++;
        }
        printf("%s %.1f\n", c->name, best);
    }
    return sink == 0;
}
