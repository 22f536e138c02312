/*
 * chat.c -- a chat server: a process per client and a hub process
 * (registered as "hub"); a line ({packet, line}) from one client goes to
 * every other client.
 *
 * Memory stays bounded however slow a client is:
 *  - each client process has a mailbox limit (gt_set_mailbox_limit): its
 *    socket stops reading while LIMIT messages wait, so a client sending
 *    faster than the others can take is held back by TCP flow control;
 *  - while the hub is HUB_MAX lines behind, a client process only writes
 *    out what it has for its client, which in turn holds back its socket;
 *  - the hub queues at most BEHIND lines for a client: beyond, it waits
 *    (and so, through the two points above, do the senders);
 *  - a client that does not read is disconnected, never buffered for:
 *    its sends have send_timeout + send_timeout_close (a send blocked for
 *    SEND_TIMEOUT ms closes the socket), and the hub disconnects a client
 *    still BEHIND lines behind after 2 x SEND_TIMEOUT (gt_kill).
 * Lines are never dropped: a client gets every line or is gone.  A slow
 * reader slows the others down until it is disconnected.
 *
 * Usage: chat [PORT [LIMIT]]   (PORT 0: any; prints "chat: port N")
 * SIGTERM or SIGINT stops it: the listen socket closes, every client
 * process closes its socket, and the program exits 0.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gentcp.h"

enum { TAG_JOIN = 1, TAG_WELCOME, TAG_LINE, TAG_STOP };

#define SEND_TIMEOUT 2000 /* ms a send may wait for a slow reader */
#define HUB_MAX 1024      /* lines the hub may have queued */
#define MAX_LINE 4096

static size_t limit = 256; /* a client process's mailbox limit */
#define BEHIND (4 * limit)

/* ---- the hub: forwards each line to every other client ---- */

typedef struct clients {
    gt_pid *pid;
    size_t n, cap;
} clients;

static void drop(clients *c, size_t i)
{
    c->pid[i] = c->pid[--c->n];
}

/* Waits while client p is BEHIND lines behind: the hub's own queue then
 * grows, the clients hold back their sockets (to_hub) and TCP slows the
 * senders down.  A client still that far behind after about 2 x
 * SEND_TIMEOUT is not reading: disconnected (its exit closes its socket).
 * Returns false when p is gone. */
static bool wait_for(gt_pid p)
{
    size_t len = 0;
    for (int i = 0; gt_mailbox_len(p, &len) == 0; i++) {
        if (len < BEHIND)
            return true;
        if (i >= 2 * SEND_TIMEOUT) {
            gt_kill(p, 1);
            return false;
        }
        gt_sleep(1);
    }
    return false;
}

static void forward(clients *c, const gt_msg *m)
{
    for (size_t i = 0; i < c->n; i++) {
        if (gt_pid_eq(c->pid[i], m->from))
            continue;
        if (!wait_for(c->pid[i]) || gt_post(c->pid[i], TAG_LINE, m->data, m->len) != 0)
            drop(c, i--); /* gone: its DOWN follows */
    }
}

static void hub(void *arg)
{
    (void)arg;
    clients c = {0};
    for (;;) {
        gt_msg *m;
        if (gt_receive(GT_INFINITY, &m) != 0)
            break;
        if (m->kind == GT_MSG_USER && m->tag == TAG_STOP) {
            gt_msg_free(m);
            break;
        }
        if (m->kind == GT_MSG_USER && m->tag == TAG_JOIN) {
            gt_pid *p = c.n < c.cap ? c.pid : realloc(c.pid, (c.cap * 2 + 8) * sizeof *p);
            if (p && c.n == c.cap) {
                c.pid = p;
                c.cap = c.cap * 2 + 8;
            }
            if (p && gt_monitor(m->from) == 0) {
                c.pid[c.n++] = m->from;
                gt_post(m->from, TAG_WELCOME, NULL, 0);
            } else {
                gt_kill(m->from, 1); /* out of memory: refused */
            }
        } else if (m->kind == GT_MSG_USER && m->tag == TAG_LINE) {
            forward(&c, m);
        } else if (m->kind == GT_MSG_DOWN) {
            for (size_t i = 0; i < c.n; i++)
                if (gt_pid_eq(c.pid[i], m->from))
                    drop(&c, i--);
        }
        gt_msg_free(m);
    }
    for (size_t i = 0; i < c.n; i++)
        gt_post(c.pid[i], TAG_STOP, NULL, 0);
    free(c.pid);
}

/* ---- a client process: its socket's lines to the hub, the hub's to it ---- */

static bool is_line(const gt_msg *m, void *arg)
{
    (void)arg;
    return m->kind == GT_MSG_USER && m->tag == TAG_LINE;
}

/* While the hub is HUB_MAX lines behind, this client only writes what the
 * hub sent it: its own socket's lines wait (and so, at the mailbox limit,
 * does its socket). */
static int to_hub(gt_pid h, gt_socket s, const gt_msg *line)
{
    size_t len = 0;
    while (gt_mailbox_len(h, &len) == 0 && len >= HUB_MAX) {
        gt_msg *m;
        if (gt_receive_match(is_line, NULL, 1, &m) != 0)
            continue;
        int rc = gt_send(s, m->data, m->len);
        gt_msg_free(m);
        if (rc != 0)
            return rc;
    }
    return gt_post(h, TAG_LINE, line->data, line->len);
}

static void client(void *arg)
{
    gt_socket s = *(gt_socket *)arg;
    free(arg);
    gt_set_mailbox_limit(limit);
    gt_pid h = gt_whereis("hub");
    gt_msg *m;
    if (gt_post(h, TAG_JOIN, NULL, 0) != 0 || gt_receive(GT_INFINITY, &m) != 0)
        return;
    bool ok = m->kind == GT_MSG_USER && m->tag == TAG_WELCOME;
    gt_msg_free(m);
    if (!ok || gt_send(s, "welcome\n", 8) != 0 ||
        gt_setopts(s, GT_OPTS(GT_SEND_TIMEOUT(SEND_TIMEOUT), GT_SEND_TIMEOUT_CLOSE(true),
                              GT_ACTIVE_TRUE)) != 0)
        return;
    while (gt_receive(GT_INFINITY, &m) == 0) {
        bool more = true;
        if (m->kind == GT_MSG_TCP)
            more = to_hub(h, s, m) == 0;
        else if (m->kind == GT_MSG_USER && m->tag == TAG_LINE)
            more = gt_send(s, m->data, m->len) == 0; /* timeout: closed */
        else if (m->kind != GT_MSG_USER || m->tag == TAG_STOP)
            more = false; /* tcp_closed, tcp_error, stop */
        gt_msg_free(m);
        if (!more)
            break;
    }
    gt_close(s);
}

/* ---- the acceptor ---- */

static void acceptor(void *arg)
{
    gt_socket ls = *(gt_socket *)arg;
    for (;;) {
        gt_socket *s = malloc(sizeof *s);
        if (!s || gt_accept(ls, GT_INFINITY, s) != 0) {
            free(s);
            return; /* the listen socket closed: stopping */
        }
        gt_socket sock = *s;
        gt_pid pid;
        /* passive until the client process activates it: nothing is
         * delivered to the acceptor meanwhile.  Started beside the
         * acceptor, the client takes the socket without moving its epoll
         * registration to another scheduler. */
        gt_spawn_opts here = {.scheduler = gt_scheduler_id(), .movable = true};
        if (gt_spawn(client, s, &here, &pid) != 0) {
            free(s);
            gt_close(sock);
        } else if (gt_controlling_process(sock, pid) != 0) {
            gt_close(sock);
        }
    }
}

static bool is_signal(const gt_msg *m, void *arg)
{
    (void)arg;
    return m->kind == GT_MSG_SIGNAL;
}

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 0;
    if (argc > 2 && atol(argv[2]) > 0)
        limit = (size_t)atol(argv[2]);
    if (gt_signal_subscribe(SIGTERM) != 0 || gt_signal_subscribe(SIGINT) != 0)
        return 1;
    gt_socket ls;
    int rc = gt_listen(port,
                       GT_OPTS(GT_BINARY, GT_PACKET(GT_PKT_LINE), GT_ACTIVE_FALSE,
                               GT_REUSEADDR(true), GT_IP("127.0.0.1")),
                       &ls);
    if (rc != 0 || gt_port(ls, &port) != 0) {
        fprintf(stderr, "chat: listen: %s\n", gt_err_name(rc));
        return 1;
    }
    gt_pid hpid;
    if (gt_spawn(hub, NULL, NULL, &hpid) != 0 || gt_register("hub", hpid) != 0 ||
        gt_spawn(acceptor, &ls, NULL, NULL) != 0)
        return 1;
    printf("chat: port %d, mailbox limit %zu\n", port, limit);
    fflush(stdout);
    gt_msg *m;
    while (gt_receive_match(is_signal, NULL, GT_INFINITY, &m) != 0) {
    }
    gt_msg_free(m);
    gt_close(ls);                      /* the acceptor ends */
    gt_post(hpid, TAG_STOP, NULL, 0);  /* the hub tells every client */
    rc = gt_stop(5000);
    printf("chat: stopped%s\n", rc ? " (some clients still busy)" : "");
    return rc ? 1 : 0;
}
