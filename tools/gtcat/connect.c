/*
 * connect.c -- `gtcat connect HOST PORT [--packet P] [--timeout MS]`.
 *
 * Copies stdin to the socket and the socket to stdout.  With a length
 * packet type each stdin line (without its newline) is one packet and each
 * packet received is written followed by a newline; raw bytes pass
 * unchanged.
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
 * The main thread waits on stdin and on its mailbox (gt_mailbox_fd) at
 * once, so that the reader's end is seen while stdin is idle.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gtcat.h"

typedef struct reader {
    gt_socket sock;
    bool framed;
    int result; /* GT_ECLOSED when the peer closed cleanly */
} reader;

static void reader_main(void *arg)
{
    reader *r = arg;
    gt_msg *m;
    int rc;
    while ((rc = gt_recv(r->sock, 0, GT_INFINITY, &m)) == 0) {
        print_packet(m->data, m->len, r->framed);
        gt_msg_free(m);
    }
    r->result = rc;
}

/* The reader's DOWN, if it is in the mailbox within timeout_ms. */
static bool reader_done(gt_pid rp, int64_t timeout_ms)
{
    gt_msg *m;
    while (gt_receive(timeout_ms, &m) == 0) {
        bool down = m->kind == GT_MSG_DOWN && gt_pid_eq(m->from, rp);
        gt_msg_free(m);
        if (down)
            return true;
    }
    return false;
}

static __attribute__((noreturn)) void finish(gt_socket s, const reader *r)
{
    gt_close(s);
    if (r->result != GT_ECLOSED)
        die("recv", r->result);
    exit(fflush(stdout) == 0 ? 0 : EXIT_NETWORK);
}

/* A send failed: the reader may know better why (a reset read first);
 * give it a moment to say so, else report the send's own reason. */
static __attribute__((noreturn)) void send_failed(gt_socket s, gt_pid rp, const reader *r, int rc)
{
    if (reader_done(rp, 2000))
        finish(s, r);
    die("send", rc);
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

int cmd_connect(int argc, char **argv)
{
    static const struct option longopts[] = {{"packet", required_argument, NULL, 'p'},
                                             {"timeout", required_argument, NULL, 't'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    int packet = GT_PKT_RAW, c;
    int64_t timeout = GT_INFINITY;
    const char *arg;
    while ((c = next_opt(argc, argv, longopts, &arg)) != -1) {
        switch (c) {
        case 'p': packet = parse_packet(arg); break;
        case 't': timeout = parse_ms("--timeout", arg); break;
        default: usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 2)
        usage_error("connect needs HOST and PORT");
    const char *host = argv[optind];
    int port = parse_port(argv[optind + 1]);
    gt_socket s;
    /* show_econnreset: a reset is an error to report, not a clean close */
    int rc = gt_connect(host, port,
                        GT_OPTS(GT_BINARY, GT_PACKET(packet), GT_ACTIVE_FALSE,
                                GT_EXIT_ON_CLOSE(false), GT_SHOW_ECONNRESET(true)),
                        timeout, &s);
    if (rc) {
        char what[300];
        snprintf(what, sizeof what, "connect %s:%d", host, port);
        die(what, rc);
    }
    bool framed = packet != GT_PKT_RAW;
    reader r = {.sock = s, .framed = framed};
    gt_pid rp;
    if ((rc = gt_spawn(reader_main, &r, NULL, &rp)) != 0)
        die("spawn", rc);
    gt_monitor(rp);
    int mfd = gt_mailbox_fd();
    if (mfd < 0)
        die("mailbox", mfd);

    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        die("stdin buffer", -ENOMEM);
    bool in_open = true;
    for (;;) {
        struct pollfd p[2] = {{mfd, POLLIN, 0}, {0, POLLIN, 0}};
        if (poll(p, in_open ? 2 : 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            die("poll", -errno);
        }
        if (p[0].revents && reader_done(rp, 0))
            finish(s, &r); /* the peer closed (or failed) first */
        if (!in_open || !p[1].revents)
            continue;
        if (framed && len == cap) { /* a long line: grow */
            char *nb = cap < SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
            if (!nb)
                die("stdin buffer", -ENOMEM);
            buf = nb;
            cap *= 2;
        }
        ssize_t n = read(0, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            die("read stdin", -errno);
        len += (size_t)n;
        if (framed) {
            rc = send_lines(s, buf, &len, n == 0);
        } else {
            rc = len ? gt_send(s, buf, len) : 0;
            len = 0;
        }
        if (rc)
            send_failed(s, rp, &r, rc);
        if (n == 0) { /* stdin EOF: half-close, then wait for the peer */
            in_open = false;
            gt_shutdown(s, GT_SHUT_WRITE);
        }
    }
}
