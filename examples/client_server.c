/*
 * client_server.c -- the first example of the gen_tcp man page: a client
 * connects, sends a binary and closes; the server accepts, receives until
 * the socket is closed, and returns what it got.
 *
 *   server() ->
 *       {ok, LSock} = gen_tcp:listen(5678, [binary, {packet, 0}, {active, false}]),
 *       {ok, Sock} = gen_tcp:accept(LSock),
 *       {ok, Bin} = do_recv(Sock, []), ...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gentcp.h"

enum { TAG_PORT = 1, TAG_RESULT };

static void check(int rc, const char *what)
{
    if (rc != 0) {
        fprintf(stderr, "%s: %s\n", what, gt_err_name(rc));
        exit(1);
    }
}

/* do_recv(Sock, Bs): append packets until {error, closed}. */
static size_t do_recv(gt_socket sock, char *buf, size_t cap)
{
    size_t len = 0;
    gt_msg *m;
    while (gt_recv(sock, 0, GT_INFINITY, &m) == 0) {
        size_t n = m->len < cap - len ? m->len : cap - len;
        memcpy(buf + len, m->data, n);
        len += n;
        gt_msg_free(m);
    }
    return len;
}

static void server(void *parent)
{
    gt_socket lsock, sock;
    /* Port 0 instead of 5678 so that the example never collides. */
    check(gt_listen(0, GT_OPTS(GT_BINARY, GT_PACKET(0), GT_ACTIVE_FALSE), &lsock), "listen");
    int port;
    gt_port(lsock, &port);
    gt_post(*(gt_pid *)parent, TAG_PORT, &port, sizeof port);
    check(gt_accept(lsock, GT_INFINITY, &sock), "accept");
    char bin[1024];
    size_t n = do_recv(sock, bin, sizeof bin);
    gt_close(sock);
    gt_close(lsock);
    gt_post(*(gt_pid *)parent, TAG_RESULT, bin, n);
}

static void client(int port)
{
    gt_socket sock;
    check(gt_connect("localhost", port, GT_OPTS(GT_BINARY, GT_PACKET(0)), GT_INFINITY, &sock),
          "connect");
    check(gt_send(sock, "Some Data", 9), "send");
    check(gt_close(sock), "close");
}

static bool tag_is(const gt_msg *m, void *tag) { return m->kind == GT_MSG_USER && m->tag == *(int *)tag; }

int main(void)
{
    gt_pid self = gt_self();
    check(gt_spawn(server, &self, NULL, NULL), "spawn");
    gt_msg *m;
    int tag = TAG_PORT;
    check(gt_receive_match(tag_is, &tag, 5000, &m), "waiting for the server");
    int port;
    memcpy(&port, m->data, sizeof port);
    gt_msg_free(m);
    client(port);
    tag = TAG_RESULT;
    check(gt_receive_match(tag_is, &tag, 5000, &m), "waiting for the result");
    printf("server received: %.*s\n", (int)m->len, (const char *)m->data);
    gt_msg_free(m);
    return 0;
}
