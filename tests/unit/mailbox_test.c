/*
 * mailbox_test.c -- a process's mailbox (src/runtime/mailbox.c) through
 * the calls the socket layer makes: a batch delivered in one chain, the
 * limit with its hysteresis, controlling_process's move of a socket's
 * messages, and close's removal of one tcp_closed.
 */
#include <stdarg.h>

#include "runtime/runtime.h"
#include "../test.h"

static gt_msg *sock_msg(gt_msg_kind k, uint64_t sock, const char *data)
{
    size_t n = data ? strlen(data) : 0;
    gt_msg *m = gt__msg_new(k, n);
    ASSERT(m != NULL);
    if (n)
        memcpy(m->data, data, n);
    m->sock = (gt_socket){sock};
    return m;
}

/* Delivers the messages (NULL-terminated) to p as one chain. */
static void deliver(gt__proc *p, gt_msg *first, ...)
{
    va_list ap;
    va_start(ap, first);
    gt_msg *last = first, *m;
    while ((m = va_arg(ap, gt_msg *))) {
        GT__NEXT(last) = m;
        last = m;
    }
    va_end(ap);
    gt__mbox_deliver(p, first, last);
}

static size_t len_of(gt_pid pid)
{
    size_t n = 99;
    ASSERT_OK(gt_mailbox_len(pid, &n));
    return n;
}

/* The next message: its kind, socket and data as "kind/sock/data". */
static const char *take(void)
{
    static char out[64];
    gt_msg *m = NULL;
    if (gt_receive(0, &m) != 0)
        return "none";
    snprintf(out, sizeof out, "%d/%llu/%.*s", (int)m->kind, (unsigned long long)m->sock.id,
             (int)m->len, (const char *)m->data);
    gt_msg_free(m);
    return out;
}

/* p's mailbox as "sock:data," per message, oldest first (not taken). */
static const char *contents(gt__proc *p)
{
    static char out[128];
    size_t n = 0;
    out[0] = 0;
    gt__lock(&p->mbox.lock, GT__LK_MBOX);
    for (gt_msg *m = p->mbox.head; m && n < sizeof out - 32; m = GT__NEXT(m))
        n += (size_t)snprintf(out + n, sizeof out - n, "%llu:%.*s,",
                              (unsigned long long)m->sock.id, (int)m->len,
                              (const char *)m->data);
    gt__unlock(&p->mbox.lock);
    return out;
}

#define ASSERT_TAKE(want) ASSERT_MEM(take(), strlen(want), want, strlen(want))

GT_TEST(mailbox_new_message_is_clean)
{
    gt_msg *m = gt__msg_new(GT_MSG_TCP, 5);
    ASSERT(m != NULL);
    ASSERT_EQ(m->kind, GT_MSG_TCP);
    ASSERT_EQ(m->len, 5);
    ASSERT(m->data != NULL);
    ASSERT_EQ(m->sock.id, 0);
    ASSERT_EQ(m->reason, 0);
    gt_msg_free(m);
    gt_msg_free(NULL);
    m = gt__msg_new(GT_MSG_USER, 1 << 20); /* above the small size */
    ASSERT(m != NULL);
    memset(m->data, 1, 1 << 20);
    gt_msg_free(m);
}

GT_TEST(mailbox_chain_arrives_whole_in_order)
{
    gt__proc *self = gt__self();
    ASSERT(self != NULL);
    deliver(self, sock_msg(GT_MSG_TCP, 1, "a"), sock_msg(GT_MSG_TCP, 1, "b"),
            sock_msg(GT_MSG_TCP_CLOSED, 1, NULL), NULL);
    ASSERT_EQ(len_of(gt_self()), 3);
    char want[32];
    snprintf(want, sizeof want, "%d/1/a", (int)GT_MSG_TCP);
    ASSERT_TAKE(want);
    snprintf(want, sizeof want, "%d/1/b", (int)GT_MSG_TCP);
    ASSERT_TAKE(want);
    snprintf(want, sizeof want, "%d/1/", (int)GT_MSG_TCP_CLOSED);
    ASSERT_TAKE(want);
    ASSERT_TAKE("none");
    ASSERT_EQ(len_of(gt_self()), 0);
}

/* Stopped at the limit, the mailbox stays stopped until a receive brings
 * it down to half (then the owner's resources resume). */
GT_TEST(mailbox_limit_hysteresis)
{
    gt__proc *self = gt__self();
    ASSERT(!gt__mbox_over_limit(self, 100)); /* no limit: never */
    ASSERT_OK(gt_set_mailbox_limit(4));
    ASSERT(!gt__mbox_over_limit(self, 3));
    ASSERT(gt__mbox_over_limit(self, 4));
    for (int i = 0; i < 3; i++)
        deliver(self, sock_msg(GT_MSG_TCP, 2, "x"), NULL);
    ASSERT(gt__mbox_over_limit(self, 0)); /* throttled: 3 < 4, still stopped */
    ASSERT(strcmp(take(), "none") != 0); /* 2 left: half of 4 */
    ASSERT(!gt__mbox_over_limit(self, 0));
    ASSERT(gt__mbox_over_limit(self, 2)); /* 2 + 2 reaches the limit again */
    ASSERT_OK(gt_set_mailbox_limit(0));
    ASSERT(!gt__mbox_over_limit(self, 1000));
}

/* Holds a mailbox until killed. */
static void holder_fn(void *arg)
{
    (void)arg;
    gt_sleep(GT_INFINITY);
}

/* controlling_process: tcp and tcp_closed of the socket move, in order;
 * its tcp_passive/tcp_error and everything else stay (rule 61). */
GT_TEST(mailbox_move_socket_messages)
{
    gt__proc *self = gt__self();
    gt_pid hp;
    ASSERT_OK(gt_spawn(holder_fn, NULL, NULL, &hp));
    gt__proc *holder = gt__proc_lookup(hp);
    ASSERT(holder != NULL);
    deliver(self, sock_msg(GT_MSG_TCP, 3, "a"), sock_msg(GT_MSG_TCP, 4, "other"),
            sock_msg(GT_MSG_TCP_PASSIVE, 3, NULL), sock_msg(GT_MSG_TCP, 3, "b"),
            sock_msg(GT_MSG_TCP_ERROR, 3, NULL), sock_msg(GT_MSG_TCP_CLOSED, 3, NULL), NULL);
    ASSERT(!gt__mbox_move_socket(self, holder, (gt_socket){4})); /* no tcp_closed */
    ASSERT_EQ(len_of(hp), 1);
    ASSERT(gt__mbox_move_socket(self, holder, (gt_socket){3})); /* saw tcp_closed */
    ASSERT_EQ(len_of(hp), 4);
    const char *moved = contents(holder);
    ASSERT_MEM(moved, strlen(moved), "4:other,3:a,3:b,3:,", 19); /* b, then tcp_closed */
    ASSERT_EQ(len_of(gt_self()), 2);
    char want[32];
    snprintf(want, sizeof want, "%d/3/", (int)GT_MSG_TCP_PASSIVE);
    ASSERT_TAKE(want);
    snprintf(want, sizeof want, "%d/3/", (int)GT_MSG_TCP_ERROR);
    ASSERT_TAKE(want);
    ASSERT(!gt__mbox_move_socket(self, holder, (gt_socket){3})); /* nothing left */
    gt__proc_unref(holder);
    ASSERT_OK(gt_kill(hp, GT_EKILL));
}

/* close removes the first tcp_closed of its socket only. */
GT_TEST(mailbox_drop_one_tcp_closed)
{
    gt__proc *self = gt__self();
    deliver(self, sock_msg(GT_MSG_TCP, 5, "x"), sock_msg(GT_MSG_TCP_CLOSED, 6, NULL),
            sock_msg(GT_MSG_TCP_CLOSED, 5, NULL), sock_msg(GT_MSG_TCP_CLOSED, 5, NULL), NULL);
    gt__mbox_drop_closed(self, (gt_socket){5});
    ASSERT_EQ(len_of(gt_self()), 3);
    char want[32];
    snprintf(want, sizeof want, "%d/5/x", (int)GT_MSG_TCP);
    ASSERT_TAKE(want);
    snprintf(want, sizeof want, "%d/6/", (int)GT_MSG_TCP_CLOSED);
    ASSERT_TAKE(want);
    snprintf(want, sizeof want, "%d/5/", (int)GT_MSG_TCP_CLOSED);
    ASSERT_TAKE(want);
    gt__mbox_drop_closed(self, (gt_socket){5}); /* none: a no-op */
    ASSERT_EQ(len_of(gt_self()), 0);
}

/* gt_msg_free's cached path reads only the envelope's mark (issue 11,
 * echo6): a plain block of the cached size goes back to the thread's
 * cache; a payload bigger than a cached block is freed, never cached; an
 * adopted block is freed and its small envelope cached. */
GT_TEST(i11_echo6_free_caches_only_small_blocks)
{
    gt_msg *warm = gt__msg_new(GT_MSG_USER, 1);
    gt_msg_free(warm); /* the cache's first use goes the slow way */
    int before = gt__msg_cache_count();
    gt_msg *small = gt__msg_new(GT_MSG_USER, 100);
    if (before == 0 && gt__msg_cache_count() == 0) {
        gt_msg_free(small);
        SKIP("no message cache in this build (sanitizers check use after free without it)");
    }
    before = gt__msg_cache_count();
    gt_msg *big = gt__msg_new(GT_MSG_USER, 1000);
    ASSERT(big != NULL && small != NULL);
    gt_msg_free(big);
    ASSERT_EQ(gt__msg_cache_count(), before);
    gt_msg_free(small);
    ASSERT_EQ(gt__msg_cache_count(), before + 1);
    uint8_t *block = malloc(64);
    ASSERT(block != NULL);
    gt_msg *adopted = gt__msg_adopt(GT_MSG_TCP, block, block + 4, 60);
    ASSERT(adopted != NULL);
    int with = gt__msg_cache_count();
    gt_msg_free(adopted);
    ASSERT_EQ(gt__msg_cache_count(), with + 1);
}
