/*
 * tls_echo_c.c -- the plain OpenSSL C echo server of bench/tls.sh: a
 * thread per connection, blocking sockets, what a C programmer writes
 * without a runtime.  tls_echo_c CERT KEY: prints "listening on PORT".
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static SSL_CTX *ctx;

static void *serve(void *arg)
{
    int fd = (int)(intptr_t)arg;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    SSL *s = SSL_new(ctx);
    SSL_set_fd(s, fd);
    if (SSL_accept(s) == 1) {
        static __thread char buf[65536];
        int n;
        while ((n = SSL_read(s, buf, sizeof buf)) > 0)
            if (SSL_write(s, buf, n) != n)
                break;
        SSL_shutdown(s);
    }
    SSL_free(s);
    close(fd);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    ctx = SSL_CTX_new(TLS_server_method());
    if (SSL_CTX_use_certificate_chain_file(ctx, argv[1]) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, argv[2], SSL_FILETYPE_PEM) != 1)
        return 1;
    int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    if (bind(l, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(l, 1024) != 0 ||
        getsockname(l, (struct sockaddr *)&sa, &sl) != 0)
        return 1;
    printf("listening on %d\n", ntohs(sa.sin_port));
    fflush(stdout);
    for (;;) {
        int fd = accept(l, NULL, NULL);
        if (fd < 0)
            continue;
        pthread_t t;
        if (pthread_create(&t, NULL, serve, (void *)(intptr_t)fd) == 0)
            pthread_detach(t);
        else
            close(fd);
    }
}
