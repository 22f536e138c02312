/*
 * http_server.c -- an HTTP/1.1 keep-alive server on {packet, http_bin}, a
 * process per connection, as an Erlang server would be written:
 *
 *   {ok, {http_request, Method, Uri, Vsn}} = gen_tcp:recv(S, 0),
 *   headers until http_eoh, then {packet, raw} and recv(S, ContentLength)
 *   for the body, then back to {packet, http_bin} for the next request.
 *
 * Every response echoes the method, the path and the body.  Meant to be
 * copied, so it defends itself as a server facing the internet must:
 *  - the acceptor survives running out of descriptors (gt_accept says
 *    emfile and paces its retries) and listens with a real backlog;
 *  - a request head must arrive within --header-timeout ms (slowloris);
 *    an idle keep-alive connection is closed after KEEPALIVE_MS;
 *  - framing is never guessed (request smuggling): a Content-Length that
 *    is not plain digits, a repeated Content-Length, Content-Length with
 *    Transfer-Encoding are 400; chunked bodies are not implemented: 411
 *    (send a Content-Length), other transfer codings 501; all of these,
 *    and any malformed line, close the connection, as nginx does.
 * With --tls CERT KEY it is an https server (issue 12): the same code on
 * TLS sockets; each connection's own process runs the handshake (within
 * HANDSHAKE_MS), so a slow client never holds the acceptor up.
 * Usage: http_server [PORT] [--requests N] [--header-timeout MS] [--tls CERT KEY]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gentcp.h"

enum { TAG_SERVED = 1 };

#define BACKLOG 1024          /* the kernel caps it at net.core.somaxconn  */
#define KEEPALIVE_MS 15000    /* idle time allowed before a request starts */
#define BODY_MS 30000         /* a body must arrive within this            */
#define MAX_LINE 8192         /* the longest request or header line: longer
                                 is emsgsize, and with exit_on_close false
                                 the socket can still carry the refusal   */
#define MAX_HEADERS 100
#define MAX_BODY (1 << 20)
#define LINGER_MS 2000        /* input read and dropped after a refusal    */
#define HANDSHAKE_MS 10000    /* TLS: the handshake must end within this   */

typedef struct request {
    char method[16], path[512];
    long long content_length; /* -1: none */
    bool close;               /* Connection: close, or HTTP/1.0 without keep-alive */
} request;

static gt_pid main_pid;
static bool tls;
static int64_t header_timeout_ms = 10000;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

/* Content-Length = 1*DIGIT (trailing blanks allowed): no sign, no suffix,
 * no list.  Returns -1 for anything else, and for more than 12 digits
 * (no overflow; any value that long is refused anyway). */
static long long parse_length(const gt_http_str *v)
{
    size_t n = v->len;
    while (n && (v->ptr[n - 1] == ' ' || v->ptr[n - 1] == '\t'))
        n--;
    if (n == 0 || n > 12)
        return -1;
    long long x = 0;
    for (size_t i = 0; i < n; i++) {
        if (v->ptr[i] < '0' || v->ptr[i] > '9')
            return -1;
        x = x * 10 + (v->ptr[i] - '0');
    }
    return x;
}

/* 0 when the head was read; an HTTP status to answer with; -1 to close
 * without an answer (the peer left, or stayed idle between requests). */
static int read_request(gt_socket s, request *r)
{
    memset(r, 0, sizeof *r);
    r->content_length = -1;
    bool chunked = false, other_coding = false, bad_length = false;
    int64_t deadline = 0; /* set once the request line is in */
    for (int lines = 0;; lines++) {
        int64_t wait = KEEPALIVE_MS;
        if (lines > 0) {
            int64_t now = now_ms();
            if (lines == 1)
                deadline = now + header_timeout_ms;
            wait = deadline - now;
            if (wait <= 0)
                return 408;
        }
        gt_msg *m;
        int rc = gt_recv(s, 0, wait, &m);
        if (rc == GT_ETIMEOUT)
            return lines ? 408 : -1;
        if (rc == -EMSGSIZE)
            return lines ? 431 : 414; /* a line over MAX_LINE */
        if (rc != 0)
            return -1;
        const struct gt_http_packet *p = m->http;
        int status = 0;
        bool done = false;
        if (!p || p->kind == GT_HTTP_ERROR) {
            status = 400;
        } else if (lines == 0) {
            if (p->kind != GT_HTTP_REQUEST) {
                status = 400;
            } else {
                copy_str(r->method, sizeof r->method, &p->method_str);
                if (p->uri.kind == GT_URI_ABS_PATH || p->uri.kind == GT_URI_ABSOLUTE)
                    copy_str(r->path, sizeof r->path, &p->uri.path);
                else
                    strcpy(r->path, "*");
                r->close = p->major == 1 && p->minor == 0;
            }
        } else if (p->kind == GT_HTTP_HEADER) {
            if (lines > MAX_HEADERS) {
                status = 431;
            } else if (p->field == GT_HTTP_H_CONTENT_LENGTH) {
                if (r->content_length >= 0) /* repeated, even if equal (nginx) */
                    bad_length = true;
                r->content_length = parse_length(&p->value);
                if (r->content_length < 0)
                    bad_length = true;
            } else if (p->field == GT_HTTP_H_TRANSFER_ENCODING) {
                if (eq_nocase(&p->value, "chunked"))
                    chunked = true;
                else
                    other_coding = true;
            } else if (p->field == GT_HTTP_H_CONNECTION) {
                r->close = eq_nocase(&p->value, "close")        ? true
                           : eq_nocase(&p->value, "keep-alive") ? false
                                                                 : r->close;
            }
        } else if (p->kind == GT_HTTP_EOH) {
            done = true;
        } else {
            status = 400;
        }
        gt_msg_free(m);
        if (status)
            return status;
        if (!done)
            continue;
        /* the framing, judged once the whole head is in */
        if (bad_length || (r->content_length >= 0 && (chunked || other_coding)))
            return 400;
        if (other_coding)
            return 501;
        if (chunked)
            return 411;
        if (r->content_length > MAX_BODY)
            return 413;
        return 0;
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

static const char *reason(int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    default: return "Not Implemented";
    }
}

/* Answers status and ends the connection.  Closing with unread input
 * would make the kernel send a reset that can destroy the answer before
 * the client reads it: shut down the write side, then read and drop what
 * comes for a short while (nginx's lingering close). */
static void refuse(gt_socket s, int status)
{
    char head[160];
    int hl = snprintf(head, sizeof head,
                      "HTTP/1.1 %d %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", status,
                      reason(status));
    gt_setopts(s, GT_OPTS(GT_PACKET(GT_PKT_RAW), GT_PACKET_SIZE(0)));
    gt_send(s, head, (size_t)hl);
    gt_shutdown(s, GT_SHUT_WRITE);
    gt_msg *m;
    int64_t end = now_ms() + LINGER_MS;
    for (int64_t left; (left = end - now_ms()) > 0 && gt_recv(s, 0, left, &m) == 0;)
        gt_msg_free(m);
}

static void connection(void *arg)
{
    gt_socket s = *(gt_socket *)arg;
    free(arg);
    request r;
    int status;
    if (tls && gt_tls_handshake(s, HANDSHAKE_MS) != 0) {
        gt_close(s); /* gt_tls_last_error(s, ...) would say why */
        return;
    }
    while ((status = read_request(s, &r)) == 0) {
        gt_msg *body = NULL;
        if (r.content_length > 0) {
            /* The body is not HTTP: read it raw, then back to http_bin. */
            gt_setopts(s, GT_OPTS(GT_PACKET(GT_PKT_RAW), GT_PACKET_SIZE(0)));
            int rc = gt_recv(s, (size_t)r.content_length, BODY_MS, &body);
            gt_setopts(s, GT_OPTS(GT_PACKET(GT_PKT_HTTP_BIN), GT_PACKET_SIZE(MAX_LINE)));
            if (rc != 0)
                break;
        }
        respond(s, &r, body ? body->data : NULL, body ? body->len : 0);
        gt_msg_free(body);
        gt_post(main_pid, TAG_SERVED, NULL, 0);
        if (r.close)
            break;
    }
    if (status > 0)
        refuse(s, status);
    gt_close(s);
}

/* Out of descriptors gt_accept returns emfile (enfile) and waits a little
 * before its next try: keep accepting; the connections wait in the
 * backlog.  Only the listen socket's end stops the acceptor. */
static void acceptor(void *arg)
{
    gt_socket ls = *(gt_socket *)arg;
    for (;;) {
        gt_socket s;
        int rc = gt_accept(ls, GT_INFINITY, &s);
        if (rc == GT_ECLOSED)
            return;
        if (rc != 0) {
            if (rc != -EMFILE && rc != -ENFILE)
                gt_sleep(10); /* enomem, enobufs ...: do not spin either */
            continue;
        }
        gt_socket *p = malloc(sizeof *p);
        gt_pid pid;
        /* beside the acceptor: the hand-over moves no epoll registration */
        gt_spawn_opts here = {.scheduler = gt_scheduler_id(), .movable = true};
        if (!p || (*p = s, gt_spawn(connection, p, &here, &pid)) != 0) {
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
    const char *cert = NULL, *key = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--requests") == 0 && i + 1 < argc)
            max_requests = atol(argv[++i]);
        else if (strcmp(argv[i], "--header-timeout") == 0 && i + 1 < argc)
            header_timeout_ms = atol(argv[++i]);
        else if (strcmp(argv[i], "--tls") == 0 && i + 2 < argc)
            cert = argv[++i], key = argv[++i];
        else
            port = atoi(argv[i]);
    }
    main_pid = gt_self();
    gt_socket ls;
    gt_optlist opts = GT_OPTS(GT_BINARY, GT_PACKET(GT_PKT_HTTP_BIN), GT_ACTIVE_FALSE,
                              GT_PACKET_SIZE(MAX_LINE), GT_EXIT_ON_CLOSE(false),
                              GT_REUSEADDR(true), GT_BACKLOG(BACKLOG), GT_IP("127.0.0.1"));
    gt_tls_ctx *ctx = NULL; /* lives as long as the server */
    int rc;
    if (cert) {
        char why[256];
        gt_tls_opts o = {.certfile = cert, .keyfile = key, .alpn = "http/1.1"};
        if ((rc = gt_tls_ctx_new(&o, true, &ctx, why, sizeof why)) != 0) {
            fprintf(stderr, "tls: %s\n", why);
            return 1;
        }
        tls = true;
        rc = gt_tls_listen(ctx, port, opts, &ls); /* gt_accept: transport_accept */
    } else {
        rc = gt_listen(port, opts, &ls);
    }
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
