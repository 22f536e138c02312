/*
 * http_server.c -- an HTTP/1.1 keep-alive server on {packet, http_bin}, a
 * process per connection, as an Erlang server would be written:
 *
 *   {ok, {http_request, Method, Uri, Vsn}} = gen_tcp:recv(S, 0),
 *   headers until http_eoh, then {packet, raw} and recv(S, ContentLength)
 *   for the body, then back to {packet, http_bin} for the next request.
 *
 * Every response echoes the method, the path and the body.
 * Usage: http_server [PORT] [--requests N]   (exit after N requests)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gentcp.h"

enum { TAG_SERVED = 1 };

typedef struct request {
    char method[16], path[512];
    long content_length;
    bool close;            /* Connection: close, or HTTP/1.0 without keep-alive */
} request;

static gt_pid main_pid;

static void copy_str(char *dst, size_t cap, const gt_http_str *s)
{
    size_t n = s->len < cap - 1 ? s->len : cap - 1;
    memcpy(dst, s->ptr, n);
    dst[n] = 0;
}

static bool eq_nocase(const gt_http_str *s, const char *lit)
{
    size_t n = strlen(lit);
    if (s->len != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((s->ptr[i] | 0x20) != (lit[i] | 0x20))
            return false;
    return true;
}

/* Reads a request line and its headers; false at the end of the connection. */
static bool read_request(gt_socket s, request *r)
{
    memset(r, 0, sizeof *r);
    gt_msg *m;
    for (bool first = true;; first = false) {
        if (gt_recv(s, 0, 30000, &m) != 0)
            return false;
        const struct gt_http_packet *p = m->http;
        bool done = false, ok = true;
        if (!p) {
            ok = false;
        } else if (first) {
            if (p->kind != GT_HTTP_REQUEST) {
                ok = false;
            } else {
                copy_str(r->method, sizeof r->method, &p->method_str);
                if (p->uri.kind == GT_URI_ABS_PATH || p->uri.kind == GT_URI_ABSOLUTE)
                    copy_str(r->path, sizeof r->path, &p->uri.path);
                else
                    strcpy(r->path, "*");
                r->close = p->major == 1 && p->minor == 0;
            }
        } else if (p->kind == GT_HTTP_HEADER) {
            if (p->field == GT_HTTP_H_CONTENT_LENGTH)
                r->content_length = strtol(p->value.ptr, NULL, 10);
            else if (p->field == GT_HTTP_H_CONNECTION)
                r->close = eq_nocase(&p->value, "close") ? true
                           : eq_nocase(&p->value, "keep-alive") ? false : r->close;
        } else if (p->kind == GT_HTTP_EOH) {
            done = true;
        } else {
            ok = false;
        }
        gt_msg_free(m);
        if (!ok)
            return false;
        if (done)
            return true;
    }
}

static void respond(gt_socket s, const request *r, const uint8_t *body, size_t blen)
{
    char head[256], text[1024];
    int tl = snprintf(text, sizeof text, "hello from gentcp: %s %s\n", r->method, r->path);
    int hl = snprintf(head, sizeof head,
                      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                      "Connection: %s\r\n\r\n",
                      (size_t)tl + blen, r->close ? "close" : "keep-alive");
    struct iovec v[3] = {{head, (size_t)hl}, {text, (size_t)tl}, {(void *)body, blen}};
    /* iovecs form one packet; the socket is in a non-length packet mode,
     * so they go out as they are, in one write. */
    gt_sendv(s, v, blen ? 3 : 2);
}

static void connection(void *arg)
{
    gt_socket s = *(gt_socket *)arg;
    free(arg);
    request r;
    while (read_request(s, &r)) {
        gt_msg *body = NULL;
        if (r.content_length > 0) {
            /* The body is not HTTP: read it raw, then back to http_bin. */
            gt_setopts(s, GT_OPTS(GT_PACKET(GT_PKT_RAW)));
            int rc = gt_recv(s, (size_t)r.content_length, 30000, &body);
            gt_setopts(s, GT_OPTS(GT_PACKET(GT_PKT_HTTP_BIN)));
            if (rc != 0)
                break;
        }
        respond(s, &r, body ? body->data : NULL, body ? body->len : 0);
        gt_msg_free(body);
        gt_post(main_pid, TAG_SERVED, NULL, 0);
        if (r.close)
            break;
    }
    gt_close(s);
}

static void acceptor(void *arg)
{
    gt_socket ls = *(gt_socket *)arg;
    for (;;) {
        gt_socket s;
        if (gt_accept(ls, GT_INFINITY, &s) != 0)
            return;
        gt_socket *p = malloc(sizeof *p);
        gt_pid pid;
        if (!p || (*p = s, gt_spawn(connection, p, NULL, &pid)) != 0) {
            free(p);
            gt_close(s);
            continue;
        }
        gt_controlling_process(s, pid);
    }
}

int main(int argc, char **argv)
{
    int port = 0;
    long max_requests = -1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--requests") == 0 && i + 1 < argc)
            max_requests = atol(argv[++i]);
        else
            port = atoi(argv[i]);
    }
    main_pid = gt_self();
    gt_socket ls;
    int rc = gt_listen(port, GT_OPTS(GT_BINARY, GT_PACKET(GT_PKT_HTTP_BIN), GT_ACTIVE_FALSE,
                                     GT_REUSEADDR(true), GT_IP("127.0.0.1")),
                       &ls);
    if (rc != 0) {
        fprintf(stderr, "listen: %s\n", gt_err_name(rc));
        return 1;
    }
    gt_port(ls, &port);
    printf("listening on %d\n", port);
    fflush(stdout);
    gt_spawn(acceptor, &ls, NULL, NULL);
    for (long served = 0; max_requests < 0 || served < max_requests; served++) {
        gt_msg *m;
        gt_receive(GT_INFINITY, &m);
        gt_msg_free(m);
    }
    gt_sleep(50); /* let the last response leave */
    return 0;
}
