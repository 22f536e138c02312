/*
 * decode.c -- `gtcat decode TYPE [options] [--once]`: erlang:decode_packet/3
 * on stdin.
 *
 *   --once                one decode_packet call on all of stdin, printed as
 *                         Erlang's io:format("~w~n", [Result]) prints it, or
 *                         "badarg" where Erlang raises badarg
 *   (default)             decode packet after packet, one line each, until
 *                         {more,_} or {error,_}; http/http_bin follow the
 *                         socket's state machine (headers after a start
 *                         line, a start line again after http_eoh)
 *   --packet-size N       {packet_size, N}
 *   --line-length N       {line_length, N}
 *   --line-delimiter B    {line_delimiter, B}, B decimal
 * Options may repeat; as in Erlang's list the last one counts, and any bad
 * one makes the call badarg, as does an unknown TYPE (Erlang's badarg for
 * decode_packet(foo, ...)).  Exit status 0, or 2 for a usage error
 * (ssl_tls, which Erlang knows, is not supported).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gentcp.h"

int gtcat_decode_main(int argc, char **argv);

static const struct {
    const char *name;
    gt_packet_type type;
} types[] = {
    {"raw", GT_PKT_RAW},   {"0", GT_PKT_RAW},         {"1", GT_PKT_1},
    {"2", GT_PKT_2},       {"4", GT_PKT_4},           {"asn1", GT_PKT_ASN1},
    {"sunrm", GT_PKT_SUNRM}, {"cdr", GT_PKT_CDR},     {"fcgi", GT_PKT_FCGI},
    {"tpkt", GT_PKT_TPKT}, {"line", GT_PKT_LINE},     {"http", GT_PKT_HTTP},
    {"httph", GT_PKT_HTTPH}, {"http_bin", GT_PKT_HTTP_BIN},
    {"httph_bin", GT_PKT_HTTPH_BIN},
};

static int usage(const char *why)
{
    fprintf(stderr,
            "gtcat decode: %s\n"
            "usage: gtcat decode TYPE [--packet-size N] [--line-length N]"
            " [--line-delimiter BYTE] [--once] < bytes\n"
            "TYPE: raw 0 1 2 4 asn1 sunrm cdr fcgi tpkt line http httph"
            " http_bin httph_bin\n",
            why);
    return 2;
}

/* A decimal integer, possibly negative.  Returns false if s is not one.
 * *neg tells the sign; *v saturates at UINT64_MAX. */
static bool parse_int(const char *s, bool *neg, uint64_t *v)
{
    *neg = false;
    *v = 0;
    if (*s == '-' || *s == '+')
        *neg = (*s++ == '-');
    if (*s == '\0')
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        unsigned d = (unsigned)(*s - '0');
        *v = (*v > (UINT64_MAX - d) / 10) ? UINT64_MAX : *v * 10 + d;
    }
    if (*neg && *v == 0)
        *neg = false;
    return true;
}

static uint8_t *read_all(FILE *f, size_t *len_out)
{
    size_t cap = 65536, len = 0;
    uint8_t *buf = malloc(cap);

    if (buf == NULL)
        return NULL;
    for (;;) {
        if (len == cap) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
        size_t k = fread(buf + len, 1, cap - len, f);
        len += k;
        if (k == 0)
            break;
    }
    if (ferror(f)) {
        free(buf);
        return NULL;
    }
    *len_out = len;
    return buf;
}

static int print_result(const gt_decode_result *res)
{
    char small[4096];
    size_t need = gt_decode_result_format(res, small, sizeof small);

    if (need < sizeof small) {
        fwrite(small, 1, need, stdout);
    } else {
        char *big = malloc(need + 1);
        if (big == NULL) {
            fprintf(stderr, "gtcat decode: out of memory\n");
            return -1;
        }
        gt_decode_result_format(res, big, need + 1);
        fwrite(big, 1, need, stdout);
        free(big);
    }
    fputc('\n', stdout);
    return 0;
}

/* The type for the next packet of a stream of type t0, as a socket would:
 * http/http_bin read headers after a start line and a start line again
 * after http_eoh; httph/httph_bin always read headers. */
static gt_packet_type next_type(gt_packet_type t0, gt_packet_type cur, const gt_decode_result *res)
{
    if (!res->is_http || (t0 != GT_PKT_HTTP && t0 != GT_PKT_HTTP_BIN))
        return cur;
    switch (res->http.kind) {
    case GT_HTTP_REQUEST:
    case GT_HTTP_RESPONSE:
        return t0 == GT_PKT_HTTP ? GT_PKT_HTTPH : GT_PKT_HTTPH_BIN;
    case GT_HTTP_EOH:
        return t0;
    default:
        return cur;
    }
}

int gtcat_decode_main(int argc, char **argv)
{
    gt_decode_opts opts = GT_DECODE_OPTS_INIT;
    gt_packet_type type = GT_PKT_RAW;
    bool once = false, badarg = false, have_type = false;
    int i;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--once") == 0) {
            once = true;
            continue;
        }
        if (strcmp(a, "--packet-size") == 0 || strcmp(a, "--line-length") == 0 ||
            strcmp(a, "--line-delimiter") == 0) {
            bool neg;
            uint64_t v;
            if (i + 1 >= argc || !parse_int(argv[i + 1], &neg, &v))
                return usage("option needs an integer");
            i++;
            if (neg || v > UINT32_MAX) {
                badarg = true; /* Erlang: term_to_Uint fails or > UINT_MAX */
                continue;
            }
            if (a[2] == 'p')
                opts.packet_size = v;
            else if (a[7] == 'l')
                opts.line_length = v;
            else if (v > 255)
                badarg = true;
            else
                opts.line_delimiter = (int)v;
            continue;
        }
        if (a[0] == '-' && a[1] == '-')
            return usage("unknown option");
        if (have_type)
            return usage("more than one TYPE");
        size_t k;
        for (k = 0; k < sizeof types / sizeof types[0]; k++)
            if (strcmp(a, types[k].name) == 0)
                break;
        if (strcmp(a, "ssl_tls") == 0)
            return usage("ssl_tls is not supported");
        if (k == sizeof types / sizeof types[0])
            badarg = true; /* decode_packet(foo, ...) raises badarg */
        else
            type = types[k].type;
        have_type = true;
    }
    if (!have_type)
        return usage("TYPE missing");

    size_t len;
    uint8_t *bytes = read_all(stdin, &len);
    if (bytes == NULL) {
        fprintf(stderr, "gtcat decode: reading stdin: %s\n", strerror(errno));
        return 1;
    }

    gt_decode_result res;
    int rc = 0;
    if (badarg || gt_decode_packet(type, bytes, len, &opts, &res) != 0) {
        puts("badarg");
    } else if (once) {
        rc = print_result(&res);
    } else {
        /* every packet consumes at least one byte, so this ends */
        gt_packet_type t0 = type;
        while (print_result(&res) == 0 && res.status == GT_DECODE_PACKET) {
            type = next_type(t0, type, &res);
            if (gt_decode_packet(type, res.rest, res.rest_len, &opts, &res) != 0)
                break;
        }
    }
    free(bytes);
    if (fflush(stdout) != 0)
        rc = -1;
    return rc < 0 ? 1 : 0;
}
