/*
 * resolve_test.c -- name resolution never blocks a scheduler (issue 10
 * item 6): gt_getaddrs (inet:getaddrs/3) and the lookup step of gt_connect.
 *
 * No test needs a DNS server.  The real getaddrinfo is used only for
 * names the hosts file answers, and checked against getaddrinfo called
 * here; the slow cases replace the resolver threads' lookup with a hook
 * (gt__resolve_set_lookup, internal, linked from the static library) that
 * blocks until the test lets it go, so what is checked is what happened
 * while a lookup was in progress, not how long anything took.
 */
#include "helpers.h"

#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>

#include "socket/resolve.h"

/* The runner ends each test with _exit, so the ASan build checks for
 * leaks here, where a test wants it. */
#if defined(__SANITIZE_ADDRESS__) /* gcc */
#define WITH_ASAN 1
#elif defined(__has_feature) /* clang */
#if __has_feature(address_sanitizer)
#define WITH_ASAN 1
#endif
#endif
#ifdef WITH_ASAN
#include <sanitizer/lsan_interface.h>
#define ASSERT_NO_LEAKS() ASSERT(__lsan_do_recoverable_leak_check() == 0)
#else
#define ASSERT_NO_LEAKS() ((void)0)
#endif

/* ---- helpers ---- */

static bool is_v4(const struct sockaddr_storage *a, const char *ip)
{
    struct in_addr want;
    inet_pton(AF_INET, ip, &want);
    return a->ss_family == AF_INET &&
           ((const struct sockaddr_in *)a)->sin_addr.s_addr == want.s_addr;
}

static bool is_v6(const struct sockaddr_storage *a, const char *ip)
{
    struct in6_addr want;
    inet_pton(AF_INET6, ip, &want);
    return a->ss_family == AF_INET6 &&
           memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr, &want, sizeof want) == 0;
}

/* Polls cond every 2 ms for at most H_WAIT ms; true once it holds. */
#define WAIT_FOR(cond)                                                         \
    ({                                                                         \
        bool ok_ = false;                                                      \
        for (int i_ = 0; i_ < H_WAIT / 2 && !(ok_ = (cond)); i_++)             \
            gt_sleep(2);                                                       \
        ok_;                                                                   \
    })

static bool resolver_idle(void) { return gt__resolve_get_stats().live == 0; }

/* ---- a lookup that blocks until the test releases it ---- */

static atomic_int hook_entered, hook_left, gate_open;
static atomic_int in_flight, max_in_flight;

static void gate_release(void) { atomic_store(&gate_open, 1); }

/* Answers 192.0.2.1 (TEST-NET-1) once the gate opens, after at most
 * H_WAIT ms whatever happens. */
static int gated_lookup(const char *host, int family, struct sockaddr_storage *addrs, size_t cap,
                        size_t *n)
{
    (void)host;
    atomic_fetch_add(&hook_entered, 1);
    for (int i = 0; i < H_WAIT && !atomic_load(&gate_open); i++)
        usleep(1000);
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, "192.0.2.1", &a.sin_addr);
    memset(addrs, 0, sizeof *addrs);
    memcpy(addrs, &a, sizeof a);
    *n = family == AF_INET6 || cap == 0 ? 0 : 1;
    atomic_fetch_add(&hook_left, 1);
    return 0;
}

/* ---- answers without a lookup ---- */

GT_TEST(i10_6_localhost_and_literals_answer_at_once)
{
    struct sockaddr_storage a[4];
    size_t n = 9;
    ASSERT_OK(gt_getaddrs("localhost", AF_INET, H_WAIT, a, 4, &n));
    ASSERT_EQ(n, 1);
    ASSERT(is_v4(&a[0], "127.0.0.1"));
    ASSERT_OK(gt_getaddrs("LocalHost", AF_INET, 0, a, 4, &n)); /* case-blind, as inet */
    ASSERT(n == 1 && is_v4(&a[0], "127.0.0.1"));
    ASSERT_OK(gt_getaddrs("10.1.2.3", AF_INET, 0, a, 4, &n));
    ASSERT(n == 1 && is_v4(&a[0], "10.1.2.3"));
    ASSERT_OK(gt_getaddrs("::1", AF_INET6, 0, a, 4, &n));
    ASSERT(n == 1 && is_v6(&a[0], "::1"));
    /* A literal of the other family: nxdomain, as inet:getaddrs. */
    ASSERT_ERR(gt_getaddrs("::1", AF_INET, 0, a, 4, &n), GT_ENXDOMAIN);
    ASSERT_EQ(n, 0);
    ASSERT_ERR(gt_getaddrs("127.0.0.1", AF_INET6, 0, a, 4, &n), GT_ENXDOMAIN);
    /* connect to localhost (Erlang's default family, inet). */
    gt_socket l = h_listen(GT_NOOPTS), c, s;
    ASSERT_OK(gt_connect("localhost", h_port(l), GT_NOOPTS, H_WAIT, &c));
    ASSERT_OK(gt_accept(l, H_WAIT, &s));
    gt_close(c);
    gt_close(s);
    gt_close(l);
    /* Timeout 0 and still answered: none of these went to the threads. */
    ASSERT_EQ(gt__resolve_get_stats().pooled, 0);
}

/* RFC 6761: nothing under .invalid resolves, and no server is asked. */
GT_TEST(i10_6_invalid_tld_is_nxdomain)
{
    struct sockaddr_storage a[4];
    size_t n = 9;
    ASSERT_ERR(gt_getaddrs("no-such-host.invalid", AF_INET, H_WAIT, a, 4, &n), GT_ENXDOMAIN);
    ASSERT_EQ(n, 0);
    ASSERT_ERR(gt_getaddrs("x.INVALID.", AF_INET6, H_WAIT, a, 4, &n), GT_ENXDOMAIN);
    gt_socket s = {7};
    ASSERT_ERR(gt_connect("no-such-host.invalid", 80, GT_NOOPTS, H_WAIT, &s), GT_ENXDOMAIN);
    ASSERT_EQ(s.id, 0);
    ASSERT_EQ(gt__resolve_get_stats().pooled, 0);
}

GT_TEST(i10_6_bad_arguments)
{
    struct sockaddr_storage a[2];
    size_t n = 9;
    ASSERT_ERR(gt_getaddrs(NULL, AF_INET, 0, a, 2, &n), GT_EBADARG);
    ASSERT_EQ(n, 0);
    ASSERT_ERR(gt_getaddrs("localhost", AF_INET, 0, NULL, 2, &n), GT_EBADARG);
    ASSERT_ERR(gt_getaddrs("localhost", AF_INET, 0, a, 0, &n), GT_EBADARG);
    ASSERT_ERR(gt_getaddrs("localhost", AF_INET, 0, a, 2, NULL), GT_EBADARG);
    /* inet:getaddrs("localhost", foo) and inet:getaddrs("", inet): einval */
    ASSERT_ERR(gt_getaddrs("localhost", AF_UNSPEC, 0, a, 2, &n), -EINVAL);
    ASSERT_ERR(gt_getaddrs("localhost", AF_UNIX, 0, a, 2, &n), -EINVAL);
    ASSERT_ERR(gt_getaddrs("", AF_INET, 0, a, 2, &n), -EINVAL);
    /* gen_tcp:connect("", 80, []) raises badarg */
    gt_socket s;
    ASSERT_ERR(gt_connect("", 80, GT_NOOPTS, H_WAIT, &s), GT_EBADARG);
}

/* ---- the real getaddrinfo, on a resolver thread ---- */

/* getaddrinfo here, as the oracle: the addresses of family in order,
 * without duplicates, or 0 for none. */
static size_t oracle(const char *host, int family, struct sockaddr_storage *out, size_t cap)
{
    struct addrinfo hints = {.ai_family = family, .ai_socktype = SOCK_STREAM}, *res = NULL;
    size_t n = 0;
    if (getaddrinfo(host, NULL, &hints, &res) != 0)
        return 0;
    for (struct addrinfo *ai = res; ai && n < cap; ai = ai->ai_next) {
        struct sockaddr_storage s;
        memset(&s, 0, sizeof s);
        memcpy(&s, ai->ai_addr, ai->ai_addrlen);
        bool dup = false;
        for (size_t i = 0; i < n; i++)
            dup = dup || memcmp(&out[i], &s, sizeof s) == 0;
        if (!dup)
            out[n++] = s;
    }
    freeaddrinfo(res);
    return n;
}

static void check_against_oracle(const char *host, int family)
{
    struct sockaddr_storage got[8], want[8];
    size_t n = 9, wn = oracle(host, family, want, 8);
    long pooled = gt__resolve_get_stats().pooled;
    int rc = gt_getaddrs(host, family, H_WAIT, got, 8, &n);
    if (wn == 0) {
        ASSERT_ERR(rc, GT_ENXDOMAIN);
    } else {
        ASSERT_OK(rc);
        ASSERT_EQ(n, wn);
        ASSERT(memcmp(got, want, n * sizeof *got) == 0);
    }
    ASSERT_EQ(gt__resolve_get_stats().pooled, pooled + 1);
}

/* The first name of an IPv4 line of /etc/hosts other than localhost, or
 * NULL: a name the hosts file answers without any server. */
static const char *hosts_name(char *buf, size_t len)
{
    FILE *f = fopen("/etc/hosts", "r");
    char line[512];
    const char *found = NULL;
    while (f && !found && fgets(line, sizeof line, f)) {
        char ip[64], name[256];
        struct in_addr a;
        if (sscanf(line, "%63s %255s", ip, name) == 2 && ip[0] != '#' &&
            inet_pton(AF_INET, ip, &a) == 1 && strcasecmp(name, "localhost") != 0 &&
            strlen(name) < len) {
            snprintf(buf, len, "%s", name);
            found = buf;
        }
    }
    if (f)
        fclose(f);
    return found;
}

GT_TEST(i10_6_real_getaddrinfo_on_a_resolver_thread)
{
    /* The lookup the threads run is getaddrinfo (localhost itself is
     * answered before it, without a lookup). */
    struct sockaddr_storage a[8];
    size_t n = 0;
    ASSERT_OK(gt__resolve_getaddrinfo("localhost", AF_INET, a, 8, &n));
    ASSERT(n >= 1 && is_v4(&a[0], "127.0.0.1"));
    /* A name of the hosts file, on a thread; localhost for inet6 is not
     * used: where the hosts file lacks it, getaddrinfo asks DNS. */
    char name[256];
    if (!hosts_name(name, sizeof name))
        SKIP("/etc/hosts lists no IPv4 name besides localhost");
    check_against_oracle(name, AF_INET);
    ASSERT(WAIT_FOR(resolver_idle()));
}

/* ---- a slow lookup ---- */

static atomic_int ticks, lookup_rc = 1;

/* Counts while the lookup is in progress; lets it go after 5 ticks. */
static void ticker(void *arg)
{
    (void)arg;
    for (int i = 0; i < H_WAIT / 5 && atomic_load(&lookup_rc) == 1; i++) {
        if (atomic_load(&hook_entered) && !atomic_load(&gate_open)) {
            if (atomic_fetch_add(&ticks, 1) + 1 >= 5)
                gate_release();
        }
        gt_sleep(5);
    }
}

static void slow_resolver(void *arg)
{
    (void)arg;
    struct sockaddr_storage a[2];
    size_t n = 0;
    int rc = gt_getaddrs("slow.example", AF_INET, 2 * H_WAIT, a, 2, &n);
    atomic_store(&lookup_rc, rc == 0 && n == 1 && is_v4(&a[0], "192.0.2.1") ? 0 : rc ? rc : -1);
}

/* The process that waits for a name and another on the same scheduler:
 * the second keeps running during the lookup.  With getaddrinfo on the
 * scheduler thread it could not tick at all until the lookup ended. */
GT_TEST(i10_6_lookup_does_not_block_its_scheduler)
{
    gt__resolve_set_lookup(gated_lookup);
    gt_spawn_opts pin = {.scheduler = 1};
    ASSERT_OK(gt_spawn(slow_resolver, NULL, &pin, NULL));
    ASSERT_OK(gt_spawn(ticker, NULL, &pin, NULL));
    ASSERT(WAIT_FOR(atomic_load(&lookup_rc) != 1));
    ASSERT_OK(atomic_load(&lookup_rc));
    ASSERT_EQ(atomic_load(&ticks), 5); /* it was the ticker that let it go */
    ASSERT(WAIT_FOR(resolver_idle()));
}

/* ---- timeouts: the lookup is inside the connect timeout ---- */

GT_TEST(i10_6_connect_timeout_covers_lookup)
{
    gt__resolve_set_lookup(gated_lookup);
    gt_socket l = h_listen(GT_NOOPTS), s = {7};
    ASSERT_ERR(gt_connect("slow.example", h_port(l), GT_NOOPTS, 100, &s), GT_ETIMEOUT);
    ASSERT_EQ(s.id, 0);
    /* It returned while the lookup was still held at the gate. */
    ASSERT_EQ(atomic_load(&hook_left), 0);
    struct sockaddr_storage a[2];
    size_t n = 9;
    ASSERT_ERR(gt_getaddrs("slow.example", AF_INET, 50, a, 2, &n), GT_ETIMEOUT);
    ASSERT_EQ(n, 0);
    ASSERT_EQ(atomic_load(&hook_left), 0);
    ASSERT(gt__resolve_get_stats().live >= 1); /* abandoned, not yet freed */
    gate_release();
    /* The threads finish the lookups nobody waits for and free them (a
     * request leaked would also fail the ASan build's leak check). */
    ASSERT(WAIT_FOR(resolver_idle()));
    ASSERT_EQ(atomic_load(&hook_left), atomic_load(&hook_entered));
    gt_close(l);
    ASSERT_NO_LEAKS();
}

static atomic_int held_ok;

static void held_resolver(void *arg)
{
    (void)arg;
    struct sockaddr_storage a[2];
    size_t n = 0;
    if (gt_getaddrs("held.example", AF_INET, 10 * H_WAIT, a, 2, &n) == 0 && n == 1)
        atomic_fetch_add(&held_ok, 1);
}

/* A request abandoned while still queued (all 4 threads busy) is freed
 * without a lookup. */
GT_TEST(i10_6_abandoned_in_queue_is_dropped)
{
    gt__resolve_set_lookup(gated_lookup);
    for (int i = 0; i < 4; i++)
        ASSERT_OK(gt_spawn(held_resolver, NULL, NULL, NULL));
    ASSERT(WAIT_FOR(atomic_load(&hook_entered) == 4));
    ASSERT_EQ(gt__resolve_get_stats().threads, 4);
    struct sockaddr_storage a[2];
    size_t n;
    ASSERT_ERR(gt_getaddrs("queued.example", AF_INET, 20, a, 2, &n), GT_ETIMEOUT);
    ASSERT_EQ(gt__resolve_get_stats().live, 5);
    gate_release();
    ASSERT(WAIT_FOR(resolver_idle()));
    ASSERT(WAIT_FOR(atomic_load(&held_ok) == 4));
    ASSERT_EQ(atomic_load(&hook_entered), 4); /* not one lookup more */
    ASSERT_EQ(gt__resolve_get_stats().threads, 4);
    ASSERT_NO_LEAKS();
}

/* ---- many at once ---- */

#define MANY 100

static atomic_int many_ok, many_done;

static int counting_lookup(const char *host, int family, struct sockaddr_storage *addrs,
                           size_t cap, size_t *n)
{
    int now = atomic_fetch_add(&in_flight, 1) + 1;
    for (int m = atomic_load(&max_in_flight); now > m;)
        if (atomic_compare_exchange_weak(&max_in_flight, &m, now))
            break;
    usleep(2000); /* the behaviour under test: slow lookups overlap */
    /* 192.0.2.N for "hN.example": each answer is the asker's own. */
    int k = atoi(host + 1);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0xC0000200u + (uint32_t)k)};
    memset(addrs, 0, sizeof *addrs);
    memcpy(addrs, &a, sizeof a);
    *n = family == AF_INET && cap ? 1 : 0;
    atomic_fetch_sub(&in_flight, 1);
    return 0;
}

static void many_resolver(void *arg)
{
    int k = (int)(intptr_t)arg;
    char host[32], want[32];
    snprintf(host, sizeof host, "h%d.example", k);
    snprintf(want, sizeof want, "192.0.2.%d", k);
    struct sockaddr_storage a[2];
    size_t n = 0;
    if (gt_getaddrs(host, AF_INET, 10 * H_WAIT, a, 2, &n) == 0 && n == 1 && is_v4(&a[0], want))
        atomic_fetch_add(&many_ok, 1);
    atomic_fetch_add(&many_done, 1);
}

GT_TEST(i10_6_many_lookups_few_threads)
{
    gt__resolve_set_lookup(counting_lookup);
    for (int k = 1; k <= MANY; k++)
        ASSERT_OK(gt_spawn(many_resolver, (void *)(intptr_t)k, NULL, NULL));
    for (int i = 0; i < 10 * H_WAIT / 5 && atomic_load(&many_done) < MANY; i++)
        gt_sleep(5);
    ASSERT_EQ(atomic_load(&many_done), MANY);
    ASSERT_EQ(atomic_load(&many_ok), MANY);
    gt__resolve_stats st = gt__resolve_get_stats();
    ASSERT_EQ(st.pooled, MANY);
    ASSERT(st.peak >= 1 && st.peak <= 4);
    ASSERT(atomic_load(&max_in_flight) <= 4);
    ASSERT(WAIT_FOR(resolver_idle()));
}

/* Resolver threads without work go away (after 5 s). */
GT_TEST(i10_6_idle_resolver_threads_exit)
{
    struct sockaddr_storage a[2];
    size_t n;
    gt__resolve_set_lookup(counting_lookup);
    ASSERT_OK(gt_getaddrs("h1.example", AF_INET, H_WAIT, a, 2, &n));
    ASSERT(gt__resolve_get_stats().threads >= 1);
    for (int i = 0; i < 400 && gt__resolve_get_stats().threads > 0; i++)
        gt_sleep(25);
    ASSERT_EQ(gt__resolve_get_stats().threads, 0);
}
