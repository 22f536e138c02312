/*
 * gtcat -- try gentcp from a shell.
 *
 *   gtcat listen PORT|local:PATH [--packet P] [--active MODE] [--echo] [--hibernate]
 *                [--bind ADDR] [--backend B] [--fd N] [TLS]
 *   gtcat connect (HOST PORT|local:PATH) [--packet P] [--timeout MS] [--backend B] [TLS]
 *   gtcat decode TYPE [--packet-size N] [--line-length N] [--line-delimiter BYTE] [--once]
 *   gtcat getopts [--backend inet|socket]
 *
 * listen.c, connect.c, decode.c and getopts.c hold the commands; this file the usage,
 * the shared parsing and main.  --help anywhere prints the usage on stdout
 * and exits 0; a usage error prints it on stderr and exits 2; a network or
 * I/O error exits 1.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gtcat.h"

static const char usage_text[] =
    "usage: gtcat listen PORT|local:PATH [--packet P] [--active MODE] [--echo] [--hibernate]\n"
    "                    [--bind ADDR] [--backend B] [--fd N] [TLS]\n"
    "       gtcat connect (HOST PORT|local:PATH) [--packet P] [--timeout MS] [--backend B] [TLS]\n"
    "       gtcat decode TYPE [--packet-size N] [--line-length N] [--line-delimiter BYTE]"
    " [--once]\n"
    "       gtcat getopts [--backend inet|socket]\n"
    "       gtcat --help\n"
    "P:    raw|0|1|2|4|line|asn1|sunrm|cdr|fcgi|tpkt (default raw)\n"
    "MODE: true|false|once|N, N in 1..32767 (default true)\n"
    "ADDR: an IPv4 or IPv6 address, any or loopback (default any)\n"
    "MS:   connect timeout in milliseconds (default none; with TLS, the handshake too)\n"
    "PATH: an AF_UNIX socket's path (gen_tcp's {local, Path}); @NAME: an abstract name\n"
    "B:    inet|socket, gen_tcp's inet_backend (default inet)\n"
    "N:    serve this already listening descriptor (socket activation: 3), no PORT\n"
    "TLS:  --tls [--cert FILE] [--key FILE] [--cacert FILE] [--insecure]: TLS 1.2/1.3;\n"
    "      listen needs --cert (and --key unless in it), and with --cacert asks for client\n"
    "      certificates; connect checks the server (host name too) against --cacert or the\n"
    "      system store, unless --insecure.  Any of these options implies --tls.\n"
    "listen prints every socket (as inet:i()) on stderr at SIGUSR1.\n"
    "TYPE: raw 0 1 2 4 asn1 sunrm cdr fcgi tpkt line http httph http_bin httph_bin\n"
    "getopts prints ROLE OPTION VALUE for a listen, connected and accepted socket,\n"
    "      VALUE as OTP 25's inet:getopts(S, [OPTION]) in ~w syntax.\n"
    "connect exits when the peer closes, even with stdin still open.\n"
    "Exit status: 0 done, 1 a network or I/O error (refused, timeout, reset ...), 2 a usage"
    " error.\n";

void usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("gtcat: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fputs(usage_text, stderr);
    exit(EXIT_USAGE);
}

void die(const char *what, int err)
{
    fflush(stdout);
    fprintf(stderr, "gtcat: %s: %s (%s)\n", what, gt_err_name(err), gt_strerror(err));
    exit(EXIT_NETWORK);
}

static __attribute__((noreturn)) void help(void)
{
    fputs(usage_text, stdout);
    exit(fflush(stdout) == 0 ? 0 : EXIT_NETWORK);
}

int next_opt(int argc, char **argv, const struct option *longopts, const char **optarg_out)
{
    int idx = 0;
    opterr = 0; /* our own messages, with the usage */
    int c = getopt_long(argc, argv, ":h", longopts, &idx);
    if (c == 'h')
        help();
    if (c == '?')
        usage_error("unknown option '%s'", argv[optind - 1]);
    if (c == ':')
        usage_error("option '%s' needs a value", argv[optind - 1]);
    *optarg_out = optarg;
    return c;
}

int parse_port(const char *s)
{
    char *end;
    errno = 0;
    long p = strtol(s, &end, 10);
    if (!*s || *end || errno || p < 0 || p > 65535)
        usage_error("bad port '%s'", s);
    return (int)p;
}

long long parse_ms(const char *what, const char *s)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno || v < 0)
        usage_error("bad %s '%s' (milliseconds >= 0)", what, s);
    return v;
}

int parse_packet(const char *s)
{
    static const struct {
        const char *name;
        int type;
    } types[] = {{"raw", GT_PKT_RAW}, {"0", GT_PKT_RAW},     {"1", GT_PKT_1},
                 {"2", GT_PKT_2},     {"4", GT_PKT_4},       {"line", GT_PKT_LINE},
                 {"asn1", GT_PKT_ASN1}, {"sunrm", GT_PKT_SUNRM}, {"cdr", GT_PKT_CDR},
                 {"fcgi", GT_PKT_FCGI}, {"tpkt", GT_PKT_TPKT}};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(s, types[i].name) == 0)
            return types[i].type;
    usage_error("unknown packet type '%s'", s);
}

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static void write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        c += w;
        n -= (size_t)w;
    }
}

void print_packet(const void *p, size_t n, bool framed)
{
    pthread_mutex_lock(&out_lock);
    write_all(1, p, n);
    if (framed)
        write_all(1, "\n", 1);
    pthread_mutex_unlock(&out_lock);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        usage_error("a command is needed");
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0)
        help();
    if (strcmp(cmd, "listen") == 0)
        return cmd_listen(argc - 1, argv + 1);
    if (strcmp(cmd, "connect") == 0)
        return cmd_connect(argc - 1, argv + 1);
    if (strcmp(cmd, "decode") == 0)
        return cmd_decode(argc - 1, argv + 1);
    if (strcmp(cmd, "getopts") == 0)
        return cmd_getopts(argc - 1, argv + 1);
    usage_error("unknown command '%s'", cmd);
}
