/*
 * tls_load.c -- the TLS load generator of bench/tls.sh (issue 12), plain
 * OpenSSL and blocking sockets, the same client for every server:
 *   tls_load PORT CAFILE handshakes N THREADS   N new connections (TLS 1.3,
 *       ECDSA P-256, full handshakes: no resumption), each sends one byte
 *       and reads its echo; prints "handshakes_per_s X"
 *   tls_load PORT CAFILE bulk MIB              one connection streams MIB
 *       MiB in 64 KiB writes with at most 256 KiB unanswered, reading the
 *       echo; prints "bulk_mb_per_s X" (MiB echoed per second)
 *   tls_load PORT CAFILE idle N        opens N connections, one echo each,
 *       prints "held N" and keeps them until stdin ends (memory per idle
 *       connection: the server's RSS is read meanwhile)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int port;
static SSL_CTX *ctx;
static long per_thread;
static int failures;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static SSL *open_conn(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return NULL;
    }
    SSL *s = SSL_new(ctx);
    SSL_set_fd(s, fd);
    SSL_set_tlsext_host_name(s, "localhost");
    SSL_set1_host(s, "localhost");
    if (SSL_connect(s) != 1) {
        SSL_free(s);
        close(fd);
        return NULL;
    }
    return s;
}

static void close_conn(SSL *s)
{
    int fd = SSL_get_fd(s);
    SSL_shutdown(s);
    SSL_free(s);
    close(fd);
}

static void *hs_thread(void *arg)
{
    (void)arg;
    for (long i = 0; i < per_thread; i++) {
        SSL *s = open_conn();
        char b = 'x';
        if (!s || SSL_write(s, &b, 1) != 1 || SSL_read(s, &b, 1) != 1) {
            __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
            if (s)
                close_conn(s);
            continue;
        }
        close_conn(s);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: tls_load PORT CAFILE handshakes N THREADS | bulk MIB\n");
        return 2;
    }
    port = atoi(argv[1]);
    ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_load_verify_locations(ctx, argv[2], NULL);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    if (strcmp(argv[3], "handshakes") == 0 && argc == 6) {
        long n = atol(argv[4]);
        int t = atoi(argv[5]);
        per_thread = n / t;
        pthread_t th[64];
        double t0 = now();
        for (int i = 0; i < t && i < 64; i++)
            pthread_create(&th[i], NULL, hs_thread, NULL);
        for (int i = 0; i < t && i < 64; i++)
            pthread_join(th[i], NULL);
        double dt = now() - t0;
        printf("handshakes_per_s %.0f failures %d\n", (double)(per_thread * t - failures) / dt,
               failures);
        return failures ? 1 : 0;
    }
    if (strcmp(argv[3], "bulk") == 0) {
        size_t total = (size_t)atol(argv[4]) << 20, sent = 0, got = 0, window = 256 << 10;
        static char out[65536], in[65536];
        memset(out, 'b', sizeof out);
        SSL *s = open_conn();
        if (!s)
            return 1;
        double t0 = now();
        while (got < total) {
            if (sent < total && sent - got < window) {
                int w = SSL_write(s, out, sizeof out);
                if (w <= 0)
                    return 1;
                sent += (size_t)w;
            } else {
                int r = SSL_read(s, in, sizeof in);
                if (r <= 0)
                    return 1;
                got += (size_t)r;
            }
        }
        double dt = now() - t0;
        printf("bulk_mb_per_s %.1f\n", (double)total / (1 << 20) / dt);
        close_conn(s);
        return 0;
    }
    if (strcmp(argv[3], "idle") == 0) {
        long n = atol(argv[4]), held = 0;
        SSL **conns = calloc((size_t)n, sizeof *conns);
        for (long i = 0; i < n; i++) {
            char b = 'i';
            SSL *s = open_conn();
            if (!s || SSL_write(s, &b, 1) != 1 || SSL_read(s, &b, 1) != 1)
                break;
            conns[held++] = s;
        }
        printf("held %ld\n", held);
        fflush(stdout);
        char c;
        while (read(0, &c, 1) > 0)
            ;
        for (long i = 0; i < held; i++)
            close_conn(conns[i]);
        free(conns);
        return held == n ? 0 : 1;
    }
    fprintf(stderr, "tls_load: bad arguments\n");
    return 2;
}
