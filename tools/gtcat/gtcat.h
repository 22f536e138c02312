/*
 * gtcat.h -- what the gtcat commands share: argument parsing helpers,
 * exit codes, the stdout lock.
 */
#ifndef GTCAT_H
#define GTCAT_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#include "gentcp.h"

/* Exit status: 0 done, 1 a network or I/O error, 2 a usage error. */
enum { EXIT_NETWORK = 1, EXIT_USAGE = 2 };

/* Prints "gtcat: why" and the usage on stderr, exits 2. */
__attribute__((noreturn)) void usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Prints "gtcat: what: atom (sentence)" on stderr, exits 1. */
__attribute__((noreturn)) void die(const char *what, int err);

/* getopt_long over argv[0..argc) (argv[0] is the command name) with the
 * common handling: --help prints the usage on stdout and exits 0, an
 * unknown option or a missing value is a usage error.  Returns the option's
 * val, or -1 at the end; *optarg_out is its argument. */
int next_opt(int argc, char **argv, const struct option *longopts, const char **optarg_out);

/* PORT (0..65535), MS (>= 0) or a usage error naming what. */
int parse_port(const char *s);
long long parse_ms(const char *what, const char *s);

/* --packet values: raw|0|1|2|4|line|asn1|sunrm|cdr|fcgi|tpkt, or a usage
 * error. */
int parse_packet(const char *s);

/* A local:PATH argument (addr.c): path (NUL first for local:@NAME) and its
 * length, as GT_LOCAL_BYTES and gt_local_sockaddr take them. */
typedef struct gtcat_local {
    char path[108];
    size_t len;
} gtcat_local;

/* true and *out for "local:PATH" (a usage error when PATH is empty or
 * longer than 107 bytes); false for anything else. */
bool parse_local(const char *arg, gtcat_local *out);

/* --backend inet|socket: GT_BACKEND_*, or a usage error. */
int parse_backend(const char *s);

/* --fd N: a descriptor number, or a usage error. */
int parse_fd(const char *s);

/* Writes n bytes at p (and a newline when framed) to stdout, whole, under a
 * lock shared by every connection process. */
void print_packet(const void *p, size_t n, bool framed);

/* Whether packets of type t are lines of their own on the terminal: one
 * stdin line (its newline dropped) sent as a packet, a newline printed
 * after each packet received.  Not raw, and not line, whose packets carry
 * their delimiter both ways (gt_send adds none): framing a line packet
 * sent "one" "two" as the line "onetwo", and printed "one\n\n". */
static inline bool packet_framed(int t) { return t != GT_PKT_RAW && t != GT_PKT_LINE; }

/* TLS (tls.c): the options --tls, --cert, --key, --cacert, --insecure,
 * as getopt vals 'T', 'C', 'K', 'A', 'I' (TLS_LONGOPTS in a table). */
typedef struct tls_args {
    bool on, insecure;
    const char *cert, *key, *cacert;
} tls_args;
#define TLS_LONGOPTS                                                           \
    {"tls", no_argument, NULL, 'T'}, {"cert", required_argument, NULL, 'C'},   \
        {"key", required_argument, NULL, 'K'},                                 \
        {"cacert", required_argument, NULL, 'A'}, {"insecure", no_argument, NULL, 'I'}
/* Takes option c if it is a TLS one. */
bool tls_opt(tls_args *t, int c, const char *arg);
/* The context for t; a bad file or option exits 2 with the reason. */
gt_tls_ctx *tls_context(const tls_args *t, bool server);
/* die() that says why a TLS failure (GT_ETLS) of s happened. */
__attribute__((noreturn)) void tls_die(const char *what, gt_socket s, int err);
/* The tcp kind of an ssl message kind (others unchanged).  Inline: an
 * echo asks once per packet. */
static inline gt_msg_kind tcp_kind(gt_msg_kind k)
{
    return k >= GT_MSG_SSL && k <= GT_MSG_SSL_PASSIVE ? (gt_msg_kind)(k - GT_MSG_SSL + GT_MSG_TCP)
                                                      : k;
}

int cmd_listen(int argc, char **argv);
int cmd_connect(int argc, char **argv);
int cmd_decode(int argc, char **argv);
int cmd_getopts(int argc, char **argv);

#endif
