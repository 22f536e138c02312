/*
 * fuzz_tls.c -- libFuzzer target for the TLS record path (issue 12): what
 * a peer sends before and during the handshake, and after it, through
 * gentcp's TLS transport (src/tls/conn.c: handshake, recv, the failure
 * explanation and alert names, close).  Built by scripts/fuzz.sh as the
 * family "tls".
 *
 * Input: [mode | bytes].  mode bit 0: we are the server (the bytes are a
 * client's: ClientHello ...) or the client (our ClientHello goes out and
 * the bytes are the server's answer).  The bytes are written into the
 * other end of a socketpair, which is then closed: the transport sees
 * them, then the end of the stream.  Invariants: every call returns one
 * of its documented results, a failure leaves an explanation, nothing
 * leaks or crashes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tls/tls.h"
#include "../tests/integ/tls_certs.h"

#define CHECK(c)                                                               \
    do {                                                                       \
        if (!(c))                                                              \
            __builtin_trap();                                                  \
    } while (0)

static gt_tls_ctx *server, *client;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    const char *dir = tc_make_all();
    CHECK(dir);
    char cert[256], key[256], ca[256];
    snprintf(cert, sizeof cert, "%s/server.pem", dir);
    snprintf(key, sizeof key, "%s/server.key", dir);
    snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    gt_tls_opts so = {.certfile = cert, .keyfile = key, .alpn = "h2,http/1.1"};
    gt_tls_opts co = {.cafile = ca, .alpn = "http/1.1"};
    CHECK(gt_tls_ctx_new(&so, true, &server, NULL, 0) == 0);
    CHECK(gt_tls_ctx_new(&co, false, &client, NULL, 0) == 0);
    tc_remove(dir); /* the contexts hold what they need */
    return 0;
}

/* One step's result must be a documented one. */
static bool step_ok(int r)
{
    return r == 0 || r == GT_TRANSPORT_WANT_READ || r == GT_TRANSPORT_WANT_WRITE ||
           r == GT_ETLS || r == GT_ECLOSED || (r < 0 && r > -4096);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool as_server = data[0] & 1;
    data++, size--;
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    int big = 1 << 20;
    setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    gt_tls_ctx *x = as_server ? server : client;
    void *ctx = NULL;
    CHECK(gt__tls_open(&x->table, sv[0], &ctx) == 0);
    if (!as_server)
        CHECK(gt__tls_set_peer(ctx, "localhost", "fuzz:1") == 0);
    /* the peer's bytes, then its end */
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(sv[1], data + off, size - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    shutdown(sv[1], SHUT_WR);
    int r = 0;
    for (int i = 0; i < 64; i++) {
        r = gt__tls_handshake(ctx, sv[0]);
        CHECK(step_ok(r));
        if (r != GT_TRANSPORT_WANT_WRITE)
            break;
    }
    char why[512];
    if (r != 0 && r != GT_TRANSPORT_WANT_READ) {
        size_t n = gt__tls_error(ctx, why, sizeof why);
        CHECK(n > 0 && strlen(why) == (n < sizeof why ? n : sizeof why - 1));
    }
    if (r == 0) { /* a handshake the fuzzer completed: read what follows */
        uint8_t buf[4096];
        for (int i = 0; i < 64; i++) {
            ssize_t n = gt__tls_recv(ctx, sv[0], buf, sizeof buf);
            CHECK(n <= (ssize_t)sizeof buf);
            if (n <= 0)
                break;
        }
    }
    if (size)
        CHECK(gt__tls_alert_name(data[0]) != NULL);
    gt__tls_close(ctx, sv[0]);
    close(sv[0]);
    close(sv[1]);
    return 0;
}

#ifdef GT_FUZZ_MAKE_SEEDS
/* Writes two seeds into DIR: a real ClientHello (for server mode) and a
 * server's answer to it (for client mode).  scripts/fuzz.sh runs it. */
#include <stdio.h>

static size_t drain(int fd, uint8_t *buf, size_t cap)
{
    size_t n = 0;
    ssize_t r;
    while (n < cap && (r = read(fd, buf + n, cap - n)) > 0)
        n += (size_t)r;
    return n;
}

static void put(const char *dir, const char *name, uint8_t mode, const uint8_t *b, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    CHECK(f);
    fputc(mode, f);
    fwrite(b, 1, n, f);
    fclose(f);
}

int main(int argc, char **argv)
{
    CHECK(argc == 2);
    LLVMFuzzerInitialize(&argc, &argv);
    int a[2], b[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, a) == 0 && socketpair(AF_UNIX, SOCK_STREAM, 0, b) == 0);
    for (int i = 0; i < 2; i++) {
        fcntl(a[i], F_SETFL, O_NONBLOCK);
        fcntl(b[i], F_SETFL, O_NONBLOCK);
    }
    void *c = NULL, *s = NULL;
    CHECK(gt__tls_open(&client->table, a[0], &c) == 0 && gt__tls_set_peer(c, "localhost", NULL) == 0);
    CHECK(gt__tls_open(&server->table, b[0], &s) == 0);
    static uint8_t hello[65536], answer[65536];
    CHECK(gt__tls_handshake(c, a[0]) == GT_TRANSPORT_WANT_READ);
    size_t hn = drain(a[1], hello, sizeof hello);
    CHECK(write(b[1], hello, hn) == (ssize_t)hn);
    CHECK(gt__tls_handshake(s, b[0]) == GT_TRANSPORT_WANT_READ);
    size_t an = drain(b[1], answer, sizeof answer);
    put(argv[1], "client_hello", 1, hello, hn);
    put(argv[1], "server_answer", 0, answer, an);
    gt__tls_close(c, a[0]);
    gt__tls_close(s, b[0]);
    return 0;
}
#endif
