/*
 * connect.c -- `gtcat connect (HOST PORT|local:PATH) [--packet P] [--timeout MS]
 * [--backend B] [TLS]`.
 *
 * Copies stdin to the socket and the socket to stdout.  With a length
 * packet type each stdin line (without its newline) is one packet and each
 * packet received is written followed by a newline; raw bytes, and lines
 * (which carry their newline), pass unchanged.
 *
 * The end, by who ends first:
 *  - stdin EOF: shut down the write side, print what still comes, exit 0
 *    once the peer has closed;
 *  - the peer closes (stdin still open): exit 0 at once; what stdin still
 *    holds is not read.  A peer that half-closes and then waits for more
 *    input is not served: for an interactive session, a server that hangs
 *    up must end gtcat;
 *  - a reset or another error (also a send that fails): exit 1, with the
 *    reason (econnreset, ...) on stderr.
 * Two processes do the copying: a writer parked on stdin (gt_wait_fd)
 * that sends, a reader parked in gt_recv that prints.  The main thread
 * watches both (monitors) and decides the end from who ends first.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gtcat.h"

typedef struct session {
    gt_socket sock;
    bool framed;
    int recv_result;       /* GT_ECLOSED when the peer closed cleanly */
    const char *send_what; /* the writer's failure: what failed, */
    int send_result;       /* and why (0: stdin ended, all sent)  */
    char *buf;             /* the writer's stdin buffer, owned by it; here
                              so that it stays reachable (no leak report)
                              when main exits while the writer waits */
} session;

static void reader_main(void *arg)
{
    session *c = arg;
    gt_msg *m;
    int rc;
    while ((rc = gt_recv(c->sock, 0, GT_INFINITY, &m)) == 0) {
        print_packet(m->data, m->len, c->framed);
        gt_msg_free(m);
    }
    c->recv_result = rc;
}

/* Framed stdin: one packet per line.  buf holds *len bytes not yet sent;
 * at EOF a last line without a newline is a packet too. */
static int send_lines(gt_socket s, char *buf, size_t *len, bool eof)
{
    size_t start = 0;
    for (;;) {
        char *nl = memchr(buf + start, '\n', *len - start);
        if (!nl)
            break;
        int rc = gt_send(s, buf + start, (size_t)(nl - (buf + start)));
        if (rc)
            return rc;
        start = (size_t)(nl - buf) + 1;
    }
    if (eof && start < *len) {
        int rc = gt_send(s, buf + start, *len - start);
        if (rc)
            return rc;
        start = *len;
    }
    memmove(buf, buf + start, *len - start);
    *len -= start;
    return 0;
}

/* Copies stdin to the socket until EOF (then half-closes) or a failure. */
static int copy_stdin(session *c)
{
    size_t cap = 65536, len = 0;
    char *buf = c->buf = malloc(cap);
    if (!buf)
        return c->send_what = "stdin buffer", -ENOMEM;
    for (;;) {
        int rc = gt_wait_fd(0, GT_FD_READ, GT_INFINITY, NULL);
        if (rc)
            return c->send_what = "read stdin", rc;
        if (c->framed && len == cap) { /* a long line: grow */
            char *nb = cap < SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
            if (!nb)
                return c->send_what = "stdin buffer", -ENOMEM;
            buf = c->buf = nb;
            cap *= 2;
        }
        ssize_t n = read(0, buf + len, cap - len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0)
            return c->send_what = "read stdin", -errno;
        len += (size_t)n;
        if (c->framed) {
            rc = send_lines(c->sock, buf, &len, n == 0);
        } else {
            rc = len ? gt_send(c->sock, buf, len) : 0;
            len = 0;
        }
        if (rc)
            return c->send_what = "send", rc;
        if (n == 0) /* stdin EOF: half-close; the reader prints the rest */
            return gt_shutdown(c->sock, GT_SHUT_WRITE), 0;
    }
}

static void writer_main(void *arg)
{
    session *c = arg;
    c->send_result = copy_stdin(c);
    free(c->buf);
    c->buf = NULL;
}

/* 0 and the pid of the next DOWN in the mailbox, waiting up to
 * timeout_ms; else gt_receive's error (GT_ETIMEOUT). */
static int next_down(int64_t timeout_ms, gt_pid *from)
{
    gt_msg *m;
    int rc;
    while ((rc = gt_receive(timeout_ms, &m)) == 0) {
        bool down = m->kind == GT_MSG_DOWN;
        *from = m->from;
        gt_msg_free(m);
        if (down)
            return 0;
    }
    return rc;
}

static __attribute__((noreturn)) void finish(gt_socket s, const session *c)
{
    if (c->recv_result != GT_ECLOSED)
        tls_die("recv", s, c->recv_result); /* the reason is read before the close */
    gt_close(s);
    exit(fflush(stdout) == 0 ? 0 : EXIT_NETWORK);
}

/* The writer failed.  A send: the reader may know better why (a reset
 * read first); give it a moment to say so, else report the writer's
 * reason. */
static __attribute__((noreturn)) void send_failed(gt_socket s, gt_pid rp, const session *c)
{
    gt_pid who; /* the writer is gone: the next DOWN is the reader's */
    if (strcmp(c->send_what, "send") == 0 && next_down(2000, &who) == 0 && gt_pid_eq(who, rp))
        finish(s, c);
    die(c->send_what, c->send_result);
}

int cmd_connect(int argc, char **argv)
{
    static const struct option longopts[] = {{"packet", required_argument, NULL, 'p'},
                                             {"timeout", required_argument, NULL, 't'},
                                             {"backend", required_argument, NULL, 'B'},
                                             {"help", no_argument, NULL, 'h'},
                                             TLS_LONGOPTS,
                                             {NULL, 0, NULL, 0}};
    int packet = GT_PKT_RAW, c, backend = GT_BACKEND_INET;
    tls_args tls = {0};
    int64_t timeout = GT_INFINITY;
    const char *arg;
    while ((c = next_opt(argc, argv, longopts, &arg)) != -1) {
        switch (c) {
        case 'p': packet = parse_packet(arg); break;
        case 't': timeout = parse_ms("--timeout", arg); break;
        case 'B': backend = parse_backend(arg); break;
        default:
            if (tls_opt(&tls, c, arg))
                break;
            usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    gtcat_local local;
    bool is_local = argc - optind == 1 && parse_local(argv[optind], &local);
    if (argc - optind != 2 && !is_local)
        usage_error("connect needs HOST and PORT, or local:PATH");
    const char *host = argv[optind];
    int port = is_local ? 0 : parse_port(argv[optind + 1]);
    gt_socket s = {0};
    /* show_econnreset: a reset is an error to report, not a clean close */
    gt_optlist opts = GT_OPTS(GT_INET_BACKEND(backend), GT_BINARY, GT_PACKET(packet),
                              GT_ACTIVE_FALSE, GT_EXIT_ON_CLOSE(false), GT_SHOW_ECONNRESET(true));
    int rc;
    char what[300];
    if (is_local) {
        if (tls.on)
            usage_error("--tls takes HOST PORT, not local:PATH");
        struct sockaddr_storage to;
        socklen_t len;
        rc = gt_local_sockaddr(local.path, local.len, &to, &len);
        if (rc == 0)
            rc = gt_connect_sockaddr((struct sockaddr *)&to, len, opts, timeout, &s);
        snprintf(what, sizeof what, "connect %s", host);
    } else {
        rc = tls.on ? gt_tls_connect(tls_context(&tls, false), host, port, opts, timeout, &s)
                    : gt_connect(host, port, opts, timeout, &s);
        snprintf(what, sizeof what, "connect %s:%d", host, port);
    }
    if (rc)
        tls_die(what, s, rc);
    session sess = {.sock = s, .framed = packet_framed(packet)};
    gt_pid rp, wp;
    if ((rc = gt_spawn(reader_main, &sess, NULL, &rp)) != 0 || (rc = gt_monitor(rp)) != 0 ||
        (rc = gt_spawn(writer_main, &sess, NULL, &wp)) != 0 || (rc = gt_monitor(wp)) != 0)
        die("spawn", rc);
    for (;;) {
        gt_pid who;
        if ((rc = next_down(GT_INFINITY, &who)) != 0)
            die("receive", rc);
        if (gt_pid_eq(who, rp))
            finish(s, &sess); /* the peer closed (or failed) first */
        if (gt_pid_eq(who, wp) && sess.send_result)
            send_failed(s, rp, &sess);
        /* stdin ended, all sent: wait for the peer to close */
    }
}
