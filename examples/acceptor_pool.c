/*
 * acceptor_pool.c -- the man page's worker pool: Num processes all accept
 * on one listening socket ({active, false}, {packet, 2}); each serves its
 * connection with {active, once}, answering every packet, then goes back
 * to accept.  A few clients (as in client/2) send a message each and print
 * the answer.
 *
 * Usage: acceptor_pool [WORKERS] [CLIENTS]
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gentcp.h"

enum { TAG_DONE = 1 };

/* process(Data): "Not implemented in this example" -- we upper-case it. */
static size_t process(const uint8_t *data, size_t len, char *out)
{
    for (size_t i = 0; i < len; i++)
        out[i] = (char)toupper(data[i]);
    return len;
}

/* loop(S): one message at a time, re-armed with {active, once}. */
static void loop(gt_socket s)
{
    for (;;) {
        gt_setopts(s, GT_OPTS(GT_ACTIVE_ONCE));
        gt_msg *m;
        if (gt_receive_match(gt_match_socket, &s, GT_INFINITY, &m) != 0)
            return;
        if (m->kind == GT_MSG_TCP) {
            /* A process stack is small (64 KiB): packets go on the heap. */
            char *answer = malloc(m->len ? m->len : 1);
            if (answer) {
                gt_send(s, answer, process(m->data, m->len, answer));
                free(answer);
            }
            gt_msg_free(m);
        } else if (m->kind == GT_MSG_TCP_CLOSED) {
            printf("Socket %" PRIu64 " closed [%" PRIu64 "]\n", s.id, gt_self().id);
            gt_msg_free(m);
            return;
        } else {
            gt_msg_free(m);
        }
    }
}

static void server(void *arg)
{
    gt_socket ls = *(gt_socket *)arg;
    for (;;) {
        gt_socket s;
        int rc = gt_accept(ls, GT_INFINITY, &s);
        if (rc != 0) {
            printf("accept returned %s - goodbye!\n", gt_err_name(rc));
            return;
        }
        loop(s);
        gt_close(s);
    }
}

/* start(Num, LPort): returns the port. */
static int start(int num, int lport, gt_socket *ls)
{
    int rc = gt_listen(lport, GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(2)), ls);
    if (rc != 0)
        return rc;
    for (int i = 0; i < num; i++)
        gt_spawn(server, ls, NULL, NULL);
    int port;
    gt_port(*ls, &port);
    return port;
}

typedef struct job {
    int port, n;
    gt_pid parent;
} job;

/* client(PortNo, Message) */
static void client(void *arg)
{
    job *j = arg;
    char msg[64], line[256];
    int len = snprintf(msg, sizeof msg, "hello from client %d", j->n);
    gt_socket sock;
    int rc = gt_connect("localhost", j->port, GT_OPTS(GT_ACTIVE_FALSE, GT_PACKET(2)), 5000, &sock);
    if (rc == 0) {
        gt_send(sock, msg, (size_t)len);
        gt_msg *m;
        rc = gt_recv(sock, 0, 5000, &m);
        if (rc == 0) {
            snprintf(line, sizeof line, "client %d: sent \"%s\", got \"%.*s\"", j->n, msg,
                     (int)m->len, (const char *)m->data);
            gt_msg_free(m);
        }
        gt_close(sock);
    }
    if (rc != 0)
        snprintf(line, sizeof line, "client %d: %s", j->n, gt_err_name(rc));
    gt_post(j->parent, TAG_DONE, line, strlen(line) + 1);
}

int main(int argc, char **argv)
{
    int workers = argc > 1 ? atoi(argv[1]) : 3;
    int clients = argc > 2 ? atoi(argv[2]) : 5;
    gt_socket ls;
    int port = start(workers, 0, &ls);
    if (port < 0) {
        fprintf(stderr, "listen: %s\n", gt_err_name(port));
        return 1;
    }
    printf("worker pool: %d acceptors on port %d\n", workers, port);
    job *jobs = calloc((size_t)clients, sizeof *jobs);
    for (int i = 0; i < clients; i++) {
        jobs[i] = (job){port, i + 1, gt_self()};
        gt_spawn(client, &jobs[i], NULL, NULL);
    }
    int failed = 0;
    for (int i = 0; i < clients; i++) {
        gt_msg *m;
        if (gt_receive(10000, &m) != 0) {
            fprintf(stderr, "a client did not answer\n");
            return 1;
        }
        printf("%s\n", (const char *)m->data);
        failed += strstr((const char *)m->data, "got \"HELLO") == NULL;
        gt_msg_free(m);
    }
    gt_close(ls); /* the acceptors print "accept returned closed" */
    gt_sleep(100);
    free(jobs);
    return failed ? 1 : 0;
}
