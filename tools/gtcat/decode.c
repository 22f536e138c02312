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
 * Options may repeat; as in Erlang's list the last one counts, and a value
 * Erlang rejects (negative, above 2^32-1, a delimiter above 255 or with a
 * type other than line) prints "badarg" as decode_packet raises it, exit 0.
 * An unknown TYPE, a value that is not an integer, a missing TYPE are usage
 * errors: exit 2 (ssl_tls, which Erlang knows, is not supported).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gtcat.h"

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

int cmd_decode(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"once", no_argument, NULL, 'o'},
        {"packet-size", required_argument, NULL, 's'},
        {"line-length", required_argument, NULL, 'l'},
        {"line-delimiter", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    gt_decode_opts opts = GT_DECODE_OPTS_INIT;
    bool once = false, badarg = false;
    const char *arg;
    int c;
    while ((c = next_opt(argc, argv, longopts, &arg)) != -1) {
        bool neg;
        uint64_t v;
        if (c == 'o') {
            once = true;
            continue;
        }
        if (c != 's' && c != 'l' && c != 'd')
            usage_error("unknown option '%s'", argv[optind - 1]);
        if (!parse_int(arg, &neg, &v))
            usage_error("--%s needs an integer, not '%s'",
                        c == 's' ? "packet-size" : c == 'l' ? "line-length" : "line-delimiter", arg);
        if (neg || v > UINT32_MAX)
            badarg = true; /* Erlang: term_to_Uint fails or > UINT_MAX */
        else if (c == 's')
            opts.packet_size = v;
        else if (c == 'l')
            opts.line_length = v;
        else if (v > 255)
            badarg = true;
        else
            opts.line_delimiter = (int)v;
    }
    if (optind == argc)
        usage_error("decode needs a TYPE");
    if (argc - optind > 1)
        usage_error("decode takes one TYPE");
    const char *name = argv[optind];
    size_t k;
    for (k = 0; k < sizeof types / sizeof types[0]; k++)
        if (strcmp(name, types[k].name) == 0)
            break;
    if (k == sizeof types / sizeof types[0])
        usage_error("unknown TYPE '%s'%s", name,
                    strcmp(name, "ssl_tls") == 0 ? " (ssl_tls is not supported)" : "");
    gt_packet_type type = types[k].type;

    size_t len;
    uint8_t *bytes = read_all(stdin, &len);
    if (bytes == NULL) {
        fprintf(stderr, "gtcat decode: reading stdin: %s\n", strerror(errno));
        return EXIT_NETWORK;
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
    return rc < 0 ? EXIT_NETWORK : 0;
}
