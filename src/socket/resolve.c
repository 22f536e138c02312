/*
 * resolve.c -- host names to addresses without blocking a scheduler
 * (inet:getaddrs/3, and the lookup step of gen_tcp:connect).
 *
 * getaddrinfo may wait seconds for a DNS server; called on a scheduler
 * thread it would stop every process homed there.  Names therefore go to a
 * small pool of resolver threads (at most RESOLVERS_MAX, started on demand,
 * gone after IDLE_EXIT_MS without work) through one FIFO queue, and the
 * requester parks with its own deadline.  A requester that times out
 * abandons its request: the request is reference counted (requester and
 * pool), so whichever side lets go last frees it, and a request abandoned
 * while still queued is dropped without a lookup.
 *
 * One mutex guards the queue, the counters and every request's state
 * (done, abandoned, waiter).  It is a leaf lock but for gt__wake(), which
 * the worker calls under it: the park contract of internal.h, so that a
 * requester that has given up (waiter cleared under the lock) is never
 * touched again.
 */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"
#include "socket/resolve.h"

#define RESOLVERS_MAX 4
#define IDLE_EXIT_MS 5000

/* ---- lookups that never block: answered on the calling thread ---- */

/* Appends sa to addrs unless it is there already (a hosts file may list an
 * address twice); returns false when addrs is full. */
static bool add_addr(struct sockaddr_storage *addrs, size_t cap, size_t *n,
                     const struct sockaddr *sa, size_t len)
{
    struct sockaddr_storage a;
    if (len > sizeof a)
        return true;
    memset(&a, 0, sizeof a);
    memcpy(&a, sa, len);
    for (size_t i = 0; i < *n; i++)
        if (memcmp(&addrs[i], &a, sizeof a) == 0)
            return true;
    if (*n == cap)
        return false;
    addrs[(*n)++] = a;
    return true;
}

static int gai_reason(int g)
{
    if (g == EAI_SYSTEM)
        return gt__errno();
    return g == EAI_MEMORY ? -ENOMEM : GT_ENXDOMAIN;
}

/* res's addresses of family (any if AF_UNSPEC) into addrs; frees res. */
static int collect(struct addrinfo *res, int family, struct sockaddr_storage *addrs, size_t cap,
                   size_t *n)
{
    *n = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
        if ((family == AF_UNSPEC || ai->ai_family == family) &&
            !add_addr(addrs, cap, n, ai->ai_addr, ai->ai_addrlen))
            break;
    freeaddrinfo(res);
    return *n ? 0 : GT_ENXDOMAIN; /* a literal of the other family, as inet */
}

int gt__resolve_getaddrinfo(const char *host, int family, struct sockaddr_storage *addrs,
                            size_t cap, size_t *n)
{
    struct addrinfo hints = {.ai_family = family, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int g = getaddrinfo(host, NULL, &hints, &res);
    return g ? gai_reason(g) : collect(res, family, addrs, cap, n);
}

/* RFC 6761: "localhost" is the loopback address and names under "invalid"
 * never resolve; resolver libraries SHOULD answer both at once.  The
 * loopback is given for IPv4 only (and for gt_connect's default, which is
 * inet as in Erlang); whether localhost has an IPv6 address is the hosts
 * file's to say, as Erlang's answer on a host without "::1 localhost" is
 * nxdomain. */
static bool is_invalid_tld(const char *host)
{
    size_t len = strlen(host);
    if (len && host[len - 1] == '.')
        len--;
    return (len == 7 && strncasecmp(host, "invalid", 7) == 0) ||
           (len > 7 && strncasecmp(host + len - 8, ".invalid", 8) == 0);
}

/* Answers host at once if no lookup can be needed; *slow says otherwise. */
static int fast_path(const char *host, int family, struct sockaddr_storage *addrs, size_t cap,
                     size_t *n, bool *slow)
{
    *slow = false;
    if (is_invalid_tld(host))
        return GT_ENXDOMAIN;
    if (strcasecmp(host, "localhost") == 0 && family != AF_INET6) {
        struct sockaddr_in lo = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        *n = 0;
        add_addr(addrs, cap, n, (const struct sockaddr *)&lo, sizeof lo);
        return 0;
    }
    /* A literal address: AI_NUMERICHOST never asks a name service. */
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    if (getaddrinfo(host, NULL, &hints, &res) != 0) {
        *slow = true;
        return 0;
    }
    return collect(res, family, addrs, cap, n);
}

/* ---- the resolver threads ---- */

typedef struct request {
    struct request *next;
    int refs;       /* the requester's and the pool's */
    bool done;      /* rc, n and addrs are set */
    bool abandoned; /* the requester has gone (timed out) */
    gt__proc *waiter;
    int family, rc;
    size_t n;
    struct sockaddr_storage addrs[GT__RESOLVE_MAX];
    char host[]; /* a copy: the caller's string is borrowed for the call only */
} request;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t work; /* signalled when a request is queued */
    request *head, *tail;
    int queued, idle, threads, peak, live;
    long pooled;
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER};

static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
static _Atomic(gt__lookup_fn) lookup_hook;

static void pool_init(void)
{
    /* Deadlines are on CLOCK_MONOTONIC (see proc.c's thread_park). */
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&pool.work, &ca);
    pthread_condattr_destroy(&ca);
}

/* Drops one reference to r; pool lock held. */
static void release(request *r)
{
    if (--r->refs == 0) {
        pool.live--;
        free(r);
    }
}

/* Waits for a request; false when idle for IDLE_EXIT_MS.  Pool lock held. */
static bool await_work(void)
{
    if (pool.head)
        return true;
    int64_t until = gt__now_ms() + IDLE_EXIT_MS;
    struct timespec ts = {.tv_sec = until / 1000, .tv_nsec = (long)(until % 1000) * 1000000};
    pool.idle++;
    int e = 0;
    while (!pool.head && e != ETIMEDOUT)
        e = pthread_cond_timedwait(&pool.work, &pool.lock, &ts);
    pool.idle--;
    return pool.head != NULL;
}

static void *resolver_main(void *arg)
{
    (void)arg;
    sigset_t all; /* signals are the program's threads' business, not ours */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    gt__cvlock(&pool.lock, GT__LK_RESOLVE);
    while (await_work()) {
        request *r = pool.head;
        pool.head = r->next;
        if (!pool.head)
            pool.tail = NULL;
        pool.queued--;
        if (!r->abandoned) {
            gt__cvunlock(&pool.lock);
            gt__lookup_fn fn = atomic_load(&lookup_hook);
            size_t n = 0;
            int rc = (fn ? fn : gt__resolve_getaddrinfo)(r->host, r->family, r->addrs,
                                                         GT__RESOLVE_MAX, &n);
            gt__cvlock(&pool.lock, GT__LK_RESOLVE);
            r->rc = rc ? rc : n ? 0 : GT_ENXDOMAIN;
            r->n = rc ? 0 : n;
            r->done = true;
            if (r->waiter)
                gt__wake(r->waiter);
        }
        release(r);
    }
    pool.threads--;
    gt__cvunlock(&pool.lock);
    return NULL;
}

/* Queues r, starting a thread if every one is busy; pool lock held. */
static int submit(request *r)
{
    if (pool.queued + 1 > pool.idle && pool.threads < RESOLVERS_MAX) {
        pthread_attr_t attr;
        pthread_t t;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int e = pthread_create(&t, &attr, resolver_main, NULL);
        pthread_attr_destroy(&attr);
        if (e == 0 && ++pool.threads > pool.peak)
            pool.peak = pool.threads;
        if (e != 0 && pool.threads == 0)
            return GT_ESYSTEM_LIMIT; /* nobody would ever serve it */
    }
    if (pool.tail)
        pool.tail->next = r;
    else
        pool.head = r;
    pool.tail = r;
    pool.queued++;
    pool.pooled++;
    pthread_cond_signal(&pool.work);
    return 0;
}

/* Hands host to the pool and parks until the answer or the deadline. */
static int resolve_slow(const char *host, int family, int64_t deadline,
                        struct sockaddr_storage *addrs, size_t cap, size_t *n)
{
    if (gt__expired(deadline))
        return GT_ETIMEOUT;
    gt__proc *self = gt__self();
    size_t hl = strlen(host);
    request *r = self ? calloc(1, sizeof *r + hl + 1) : NULL;
    if (!r)
        return -ENOMEM;
    memcpy(r->host, host, hl + 1);
    r->family = family;
    r->refs = 2;
    r->waiter = self;
    pthread_once(&pool_once, pool_init);
    gt__cvlock(&pool.lock, GT__LK_RESOLVE);
    int rc = submit(r);
    if (rc) {
        gt__cvunlock(&pool.lock);
        free(r);
        return rc;
    }
    pool.live++;
    while (!r->done && !gt__expired(deadline)) {
        gt__cvunlock(&pool.lock);
        gt__park(deadline);
        gt__cvlock(&pool.lock, GT__LK_RESOLVE);
    }
    if (r->done) {
        rc = r->rc;
        *n = r->n < cap ? r->n : cap;
        memcpy(addrs, r->addrs, *n * sizeof *addrs);
    } else {
        rc = GT_ETIMEOUT;
        r->abandoned = true;
    }
    r->waiter = NULL;
    release(r);
    gt__cvunlock(&pool.lock);
    return rc;
}

int gt__resolve(const char *host, int family, int64_t deadline, struct sockaddr_storage *addrs,
                size_t cap, size_t *n)
{
    *n = 0;
    if (!*host)
        return -EINVAL; /* as inet:getaddrs("", inet) */
    bool slow;
    int rc = fast_path(host, family, addrs, cap, n, &slow);
    return slow ? resolve_slow(host, family, deadline, addrs, cap, n) : rc;
}

int gt_getaddrs(const char *host, int family, int64_t timeout_ms, struct sockaddr_storage *addrs,
                size_t cap, size_t *n_out)
{
    if (gt__forked())
        return GT_EFORKED;
    if (n_out)
        *n_out = 0;
    if (!host || !addrs || !cap || !n_out)
        return GT_EBADARG;
    if (family != AF_INET && family != AF_INET6)
        return -EINVAL;
    return gt__resolve(host, family, gt__deadline(timeout_ms), addrs, cap, n_out);
}

/* ---- for tests ---- */

void gt__resolve_set_lookup(gt__lookup_fn fn) { atomic_store(&lookup_hook, fn); }

gt__resolve_stats gt__resolve_get_stats(void)
{
    gt__cvlock(&pool.lock, GT__LK_RESOLVE);
    gt__resolve_stats s = {pool.threads, pool.peak, pool.live, pool.pooled};
    gt__cvunlock(&pool.lock);
    return s;
}
