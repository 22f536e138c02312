/*
 * gtcat -- try gentcp from a shell.
 *
 *   gtcat listen PORT [--packet P] [--active MODE] [--echo] [--hibernate]
 *   gtcat connect HOST PORT [--packet P]
 *   gtcat decode TYPE [--packet-size N] [--line-length N] [--line-delimiter BYTE] [--once]
 *
 * listen accepts any number of connections, a process each, and prints
 * "listening on PORT" first.  With --echo every packet goes back framed the
 * same way; without it packets are written to stdout.  connect copies stdin
 * to the socket and the socket to stdout.  With a length packet type, each
 * stdin line (without its newline) is one packet and each packet received
 * is written followed by a newline; raw/0 passes bytes unchanged.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gentcp.h"

int gtcat_decode_main(int argc, char **argv);

#define ECHO_ACTIVE_N 256 /* packets per re-arm: flow control without a
                            round trip through setopts for every packet */

static void usage(void)
{
    fprintf(stderr,
            "usage: gtcat listen PORT [--packet P] [--active MODE] [--echo] [--hibernate]\n"
            "       gtcat connect HOST PORT [--packet P]\n"
            "       gtcat decode TYPE [--packet-size N] [--line-length N] "
            "[--line-delimiter BYTE] [--once]\n"
            "P: raw|0|1|2|4|line|asn1|sunrm|cdr|fcgi|tpkt; MODE: true|false|once|N\n");
    exit(2);
}

static int die(const char *what, int err)
{
    fprintf(stderr, "gtcat: %s: %s (%s)\n", what, gt_err_name(err), gt_strerror(err));
    exit(1);
}

static int parse_packet(const char *s)
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
    fprintf(stderr, "gtcat: unknown packet type '%s'\n", s);
    exit(2);
}

static gt_opt parse_active(const char *s)
{
    if (strcmp(s, "true") == 0)
        return GT_ACTIVE_TRUE;
    if (strcmp(s, "false") == 0)
        return GT_ACTIVE_FALSE;
    if (strcmp(s, "once") == 0)
        return GT_ACTIVE_ONCE;
    char *end;
    long n = strtol(s, &end, 10);
    if (*s && !*end && n >= -32768 && n <= 32767)
        return GT_ACTIVE_N(n);
    fprintf(stderr, "gtcat: bad --active '%s'\n", s);
    exit(2);
}

static int parse_port(const char *s)
{
    char *end;
    long p = strtol(s, &end, 10);
    if (!*s || *end || p < 0 || p > 65535) {
        fprintf(stderr, "gtcat: bad port '%s'\n", s);
        exit(2);
    }
    return (int)p;
}

/* stdout is shared by every connection process; writes must not mix. */
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

static void print_packet(const gt_msg *m, bool framed)
{
    pthread_mutex_lock(&out_lock);
    write_all(1, m->data, m->len);
    if (framed)
        write_all(1, "\n", 1);
    pthread_mutex_unlock(&out_lock);
}

/* ---- listen ---- */

typedef struct server {
    int packet;
    gt_opt active;  /* for printing connections; echo uses ECHO_ACTIVE_N */
    bool echo, hibernate;
} server;

typedef struct conn {
    gt_socket sock;
    const server *srv;
} conn;

/* The acceptor posts TAG_GO once the connection process owns its socket.
 * Arming the socket earlier would send the first messages (and a
 * tcp_passive, which controlling_process does not move) to the acceptor:
 * Erlang servers wait for the same "go". */
enum { TAG_GO = 1 };

static bool is_go(const gt_msg *m, void *arg)
{
    (void)arg;
    return m->kind == GT_MSG_USER && m->tag == TAG_GO;
}

static void wait_go(void)
{
    gt_msg *m;
    if (gt_receive_match(is_go, NULL, GT_INFINITY, &m) == 0)
        gt_msg_free(m);
}

static void arm(conn *c)
{
    gt_opt a = c->srv->echo && c->srv->active.v.i == GT_ACTIVE_TRUE_V
                   ? GT_ACTIVE_N(ECHO_ACTIVE_N)
                   : c->srv->active;
    gt_setopts(c->sock, GT_OPTS(a));
}

/* Handles one message; returns false when the connection is over. */
static bool handle(conn *c, gt_msg *m)
{
    bool more = true;
    switch (m->kind) {
    case GT_MSG_TCP:
        if (c->srv->echo) {
            if (gt_send(c->sock, m->data, m->len) != 0)
                more = false;
        } else {
            print_packet(m, c->srv->packet != GT_PKT_RAW);
        }
        if (c->srv->active.v.i == GT_ACTIVE_ONCE_V)
            arm(c);
        break;
    case GT_MSG_TCP_PASSIVE:
        arm(c);
        break;
    case GT_MSG_TCP_ERROR:
        fprintf(stderr, "gtcat: connection error: %s\n", gt_err_name(m->reason));
        break;
    default:
        more = false;
    }
    gt_msg_free(m);
    return more;
}

static void conn_end(conn *c)
{
    gt_close(c->sock);
    free(c);
}

#define ECHO_BATCH 256 /* packets echoed with one gt_send_many */

/* Waits for a packet, then echoes it and the packets already behind it in
 * the mailbox with one gt_send_many; returns false when the connection is
 * over.  The batch lives on the heap, allocated only once a packet is
 * here: an idle connection holds nothing, and a process stack stays one
 * page (10,000 connections). */
static bool echo_burst(conn *c)
{
    gt_msg *m, *other = NULL;
    if (gt_receive_match(gt_match_socket, &c->sock, GT_INFINITY, &m) != 0)
        return false;
    if (m->kind != GT_MSG_TCP)
        return handle(c, m);
    gt_msg **batch = malloc(ECHO_BATCH * sizeof *batch);
    struct iovec *iov = malloc(ECHO_BATCH * sizeof *iov);
    if (!batch || !iov) {
        free(batch);
        free(iov);
        return handle(c, m); /* one at a time, then */
    }
    int n = 0;
    do {
        if (m->kind != GT_MSG_TCP) {
            other = m; /* echo what came before it first */
            break;
        }
        batch[n] = m;
        iov[n] = (struct iovec){m->data, m->len};
        n++;
        if (c->srv->active.v.i == GT_ACTIVE_ONCE_V)
            arm(c);
    } while (n < ECHO_BATCH && gt_receive_match(gt_match_socket, &c->sock, 0, &m) == 0);
    bool more = gt_send_many(c->sock, iov, n, NULL) == 0;
    for (int i = 0; i < n; i++)
        gt_msg_free(batch[i]);
    free(batch);
    free(iov);
    if (other)
        more = more && handle(c, other); /* frees it */
    return more;
}

/* A connection process that keeps its stack between packets. */
static void conn_active(void *arg)
{
    conn *c = arg;
    wait_go();
    arm(c);
    gt_msg *m;
    if (c->srv->echo) {
        while (echo_burst(c)) {
        }
    } else {
        while (gt_receive_match(gt_match_socket, &c->sock, GT_INFINITY, &m) == 0)
            if (!handle(c, m))
                break;
    }
    conn_end(c);
}

/* The hibernating variant: handle what is there, then give the stack back
 * until the next message (gt_hibernate restarts this function). */
static void conn_hibernating(void *arg)
{
    conn *c = arg;
    gt_msg *m;
    while (gt_receive_match(gt_match_socket, &c->sock, 0, &m) == 0)
        if (!handle(c, m)) {
            conn_end(c);
            return;
        }
    gt_hibernate(conn_hibernating, c);
}

static void conn_hibernate_start(void *arg)
{
    wait_go();
    arm(arg);
    conn_hibernating(arg);
}

/* Passive connections: recv until closed. */
static void conn_passive(void *arg)
{
    conn *c = arg;
    gt_msg *m;
    int rc;
    wait_go();
    while ((rc = gt_recv(c->sock, 0, GT_INFINITY, &m)) == 0) {
        if (c->srv->echo) {
            rc = gt_send(c->sock, m->data, m->len);
            gt_msg_free(m);
            if (rc)
                break;
        } else {
            print_packet(m, c->srv->packet != GT_PKT_RAW);
            gt_msg_free(m);
        }
    }
    if (rc && rc != GT_ECLOSED)
        fprintf(stderr, "gtcat: recv: %s\n", gt_err_name(rc));
    conn_end(c);
}

static int cmd_listen(int argc, char **argv)
{
    if (argc < 2)
        usage();
    int port = parse_port(argv[1]);
    server srv = {.packet = GT_PKT_RAW, .active = GT_ACTIVE_TRUE};
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--packet") == 0 && i + 1 < argc)
            srv.packet = parse_packet(argv[++i]);
        else if (strcmp(argv[i], "--active") == 0 && i + 1 < argc)
            srv.active = parse_active(argv[++i]);
        else if (strcmp(argv[i], "--echo") == 0)
            srv.echo = true;
        else if (strcmp(argv[i], "--hibernate") == 0)
            srv.hibernate = true;
        else
            usage();
    }
    gt_socket ls;
    /* exit_on_close false: a peer that half-closes (shutdown(write)) still
     * gets every echo; we close after its tcp_closed (docs/spec/semantics.md 49). */
    int rc = gt_listen(port, GT_OPTS(GT_BINARY, GT_PACKET(srv.packet), GT_ACTIVE_FALSE,
                                     GT_REUSEADDR(true), GT_BACKLOG(1024),
                                     GT_DELAY_SEND(srv.echo), GT_EXIT_ON_CLOSE(false)),
                       &ls);
    if (rc)
        die("listen", rc);
    gt_port(ls, &port);
    printf("listening on %d\n", port);
    fflush(stdout);
    bool passive = srv.active.v.i == GT_ACTIVE_FALSE_V;
    gt_proc_fn fn = passive ? conn_passive : srv.hibernate ? conn_hibernate_start : conn_active;
    for (;;) {
        gt_socket s;
        rc = gt_accept(ls, GT_INFINITY, &s);
        if (rc == GT_ESYSTEM_LIMIT || rc == -EMFILE) {
            fprintf(stderr, "gtcat: accept: %s; retrying\n", gt_err_name(rc));
            gt_sleep(100);
            continue;
        }
        if (rc)
            die("accept", rc);
        conn *c = malloc(sizeof *c);
        gt_pid pid;
        if (!c || (c->sock = s, c->srv = &srv, gt_spawn(fn, c, NULL, &pid)) != 0) {
            fprintf(stderr, "gtcat: cannot start a connection process\n");
            free(c);
            gt_close(s);
            continue;
        }
        gt_controlling_process(s, pid);
        gt_post(pid, TAG_GO, NULL, 0);
    }
    return 0;
}

/* ---- connect ---- */

typedef struct reader {
    gt_socket sock;
    bool framed;
    int result;
} reader;

static void reader_main(void *arg)
{
    reader *r = arg;
    gt_msg *m;
    int rc;
    while ((rc = gt_recv(r->sock, 0, GT_INFINITY, &m)) == 0) {
        print_packet(m, r->framed);
        gt_msg_free(m);
    }
    r->result = rc;
}

static int cmd_connect(int argc, char **argv)
{
    if (argc < 3)
        usage();
    const char *host = argv[1];
    int port = parse_port(argv[2]);
    int packet = GT_PKT_RAW;
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--packet") == 0 && i + 1 < argc)
            packet = parse_packet(argv[++i]);
        else
            usage();
    }
    gt_socket s;
    int rc = gt_connect(host, port,
                        GT_OPTS(GT_BINARY, GT_PACKET(packet), GT_ACTIVE_FALSE,
                                GT_EXIT_ON_CLOSE(false)),
                        GT_INFINITY, &s);
    if (rc) {
        char what[300];
        snprintf(what, sizeof what, "connect %s:%d", host, port);
        die(what, rc);
    }
    reader r = {.sock = s, .framed = packet != GT_PKT_RAW};
    gt_pid rp;
    if ((rc = gt_spawn(reader_main, &r, NULL, &rp)) != 0)
        die("spawn", rc);
    gt_monitor(rp);

    bool framed = packet != GT_PKT_RAW;
    FILE *in = stdin;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    char buf[65536];
    if (framed) {
        while ((n = getline(&line, &cap, in)) > 0) {
            if (line[n - 1] == '\n')
                n--;
            if ((rc = gt_send(s, line, (size_t)n)) != 0)
                die("send", rc);
        }
    } else {
        while ((n = read(0, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
            if (n > 0 && (rc = gt_send(s, buf, (size_t)n)) != 0)
                die("send", rc);
    }
    free(line);
    gt_shutdown(s, GT_SHUT_WRITE);
    gt_msg *m;
    while (gt_receive(GT_INFINITY, &m) == 0) { /* wait for the reader */
        bool down = m->kind == GT_MSG_DOWN;
        gt_msg_free(m);
        if (down)
            break;
    }
    gt_close(s);
    if (r.result != GT_ECLOSED)
        die("recv", r.result);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        usage();
    if (strcmp(argv[1], "listen") == 0)
        return cmd_listen(argc - 1, argv + 1);
    if (strcmp(argv[1], "connect") == 0)
        return cmd_connect(argc - 1, argv + 1);
    if (strcmp(argv[1], "decode") == 0)
        return gtcat_decode_main(argc - 1, argv + 1);
    usage();
}
