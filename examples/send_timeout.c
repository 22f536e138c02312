/*
 * send_timeout.c -- the man page's forwarder: a process connected with
 * {send_timeout, T} forwards what clients send it to a server that has
 * stopped reading; when a send times out it tells the client and closes.
 *
 *   {ok,Sock} = gen_tcp:connect(HostAddress, Port,
 *                               [{active,false}, {send_timeout, 5000}, {packet,2}]),
 *   loop(Sock) -> receive {Client, send_data, Binary} -> case gen_tcp:send(...)
 *
 * The server here accepts and never reads; the client pushes 60 KB blocks
 * until the forwarder reports an error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gentcp.h"

enum { TAG_SEND_DATA = 1, TAG_DATA_SENT, TAG_ERROR_SENDING, TAG_STOP };

#define SEND_TIMEOUT_MS 500 /* the man page uses 5000; shorter for a demo */
#define BLOCK (60 * 1000)
#define MAX_BLOCKS 2000     /* bound: 120 MB, far beyond any socket buffer */

static void forwarder(void *arg)
{
    int port = *(int *)arg;
    gt_socket sock;
    int rc = gt_connect("127.0.0.1", port,
                        GT_OPTS(GT_ACTIVE_FALSE, GT_SEND_TIMEOUT(SEND_TIMEOUT_MS), GT_PACKET(2),
                                GT_SNDBUF(65536)),
                        5000, &sock);
    if (rc != 0) {
        fprintf(stderr, "connect: %s\n", gt_err_name(rc));
        return;
    }
    for (;;) { /* loop(Sock) */
        gt_msg *m;
        if (gt_receive(GT_INFINITY, &m) != 0 || m->tag == TAG_STOP)
            break;
        gt_pid client = m->from;
        rc = gt_send(sock, m->data, m->len);
        gt_msg_free(m);
        if (rc == GT_ETIMEOUT) {
            printf("Send timeout, closing!\n");
            gt_post(client, TAG_ERROR_SENDING, &rc, sizeof rc);
            gt_close(sock);
            return;
        } else if (rc != 0) {
            printf("Some other error on socket (%s), closing\n", gt_err_name(rc));
            gt_post(client, TAG_ERROR_SENDING, &rc, sizeof rc);
            gt_close(sock);
            return;
        }
        gt_post(client, TAG_DATA_SENT, NULL, 0);
    }
    gt_close(sock);
}

int main(void)
{
    gt_socket ls, peer;
    int port;
    if (gt_listen(0, GT_OPTS(GT_ACTIVE_FALSE, GT_RECBUF(65536)), &ls) != 0)
        return 1;
    gt_port(ls, &port);
    gt_pid fw;
    gt_spawn(forwarder, &port, NULL, &fw);
    if (gt_accept(ls, 5000, &peer) != 0) /* accepted, never read */
        return 1;
    static char block[BLOCK];
    memset(block, 'd', sizeof block);
    for (int i = 0; i < MAX_BLOCKS; i++) {
        gt_post(fw, TAG_SEND_DATA, block, sizeof block);
        gt_msg *m;
        if (gt_receive(10 * SEND_TIMEOUT_MS, &m) != 0) {
            fprintf(stderr, "the forwarder did not answer\n");
            return 1;
        }
        int tag = m->tag, err = 0;
        if (m->len == sizeof err)
            memcpy(&err, m->data, sizeof err);
        gt_msg_free(m);
        if (tag == TAG_ERROR_SENDING) {
            printf("client: error_sending %s after %d blocks\n", gt_err_name(err), i + 1);
            gt_close(peer);
            gt_close(ls);
            return err == GT_ETIMEOUT ? 0 : 1;
        }
    }
    fprintf(stderr, "no send timeout after %d blocks\n", MAX_BLOCKS);
    return 1;
}
