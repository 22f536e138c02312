/*
 * resolve.h -- host name resolution that never blocks a scheduler thread
 * (issue 10 item 6): gt_connect and gt_getaddrs.
 */
#ifndef GT_SOCKET_RESOLVE_H
#define GT_SOCKET_RESOLVE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Addresses one lookup keeps; later ones are dropped. */
#define GT__RESOLVE_MAX 16

/* Resolves host for family (AF_INET, AF_INET6, or AF_UNSPEC as
 * gt_connect's default) into addrs[0..*n) (port 0), waiting at most until
 * deadline (absolute ms, -1 = never).  Literal addresses, "localhost" for
 * AF_INET/AF_UNSPEC and names under .invalid are answered on the calling
 * thread; other names go to the resolver threads while the caller parks.
 * Returns 0 (then *n >= 1), GT_ENXDOMAIN, GT_ETIMEOUT, -EINVAL for "",
 * -ENOMEM or GT_ESYSTEM_LIMIT. */
int gt__resolve(const char *host, int family, int64_t deadline, struct sockaddr_storage *addrs,
                size_t cap, size_t *n);

/* A lookup as the resolver threads run it: same results as gt__resolve,
 * blocking.  The default is gt__resolve_getaddrinfo. */
typedef int (*gt__lookup_fn)(const char *host, int family, struct sockaddr_storage *addrs,
                             size_t cap, size_t *n);
int gt__resolve_getaddrinfo(const char *host, int family, struct sockaddr_storage *addrs,
                            size_t cap, size_t *n);

/* ---- for tests only (tests/integ/resolve_test.c) ---- */

/* Replaces the lookup the resolver threads run (NULL: getaddrinfo again). */
void gt__resolve_set_lookup(gt__lookup_fn fn);

typedef struct gt__resolve_stats {
    int threads; /* resolver threads alive */
    int peak;    /* most alive at once, ever */
    int live;    /* requests not yet freed (queued, running or abandoned) */
    long pooled; /* lookups handed to the threads, ever */
} gt__resolve_stats;
gt__resolve_stats gt__resolve_get_stats(void);

#endif
