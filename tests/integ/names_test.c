/*
 * names_test.c -- registered names (gt_register, gt_unregister, gt_whereis)
 * with erlang:register/2's rules, and gt_mailbox_len (message_queue_len).
 */
#include "helpers.h"

#define TAG_GO 7001

/* Waits for a TAG_GO message, then ends. */
static void waiter_fn(void *arg)
{
    (void)arg;
    h_wait_int(TAG_GO, H_WAIT);
}

/* Registers itself under the name it is given, reports, then waits. */
static void self_register_fn(void *arg)
{
    const char *name = arg;
    gt_pid parent = gt_whereis("names_test.parent");
    h_post_int(parent, H_TAG_DONE, gt_register(name, gt_self()));
    h_wait_int(TAG_GO, H_WAIT);
}

GT_TEST(names_register_whereis_unregister)
{
    ASSERT_EQ(gt_whereis("names_test.nobody").id, 0);
    ASSERT_OK(gt_register("names_test.me", gt_self()));
    ASSERT(gt_pid_eq(gt_whereis("names_test.me"), gt_self()));
    ASSERT_OK(gt_unregister("names_test.me"));
    ASSERT_EQ(gt_whereis("names_test.me").id, 0);
    ASSERT_ERR(gt_unregister("names_test.me"), GT_EBADARG);
    /* the name and the process are free again */
    ASSERT_OK(gt_register("names_test.again", gt_self()));
    ASSERT_OK(gt_unregister("names_test.again"));
}

/* erlang:register/2 raises badarg for a taken name, a process that already
 * has a name, a dead process; names are 1..GT_NAME_MAX bytes. */
GT_TEST(names_register_errors)
{
    gt_pid other = h_spawn(waiter_fn, NULL);
    ASSERT_OK(gt_register("names_test.taken", gt_self()));
    ASSERT_ERR(gt_register("names_test.taken", other), GT_EBADARG);
    ASSERT_ERR(gt_register("names_test.second", gt_self()), GT_EBADARG);
    ASSERT(gt_pid_eq(gt_whereis("names_test.taken"), gt_self()));
    ASSERT_EQ(gt_whereis("names_test.second").id, 0);

    ASSERT_ERR(gt_register(NULL, other), GT_EBADARG);
    ASSERT_ERR(gt_register("", other), GT_EBADARG);
    char long_name[GT_NAME_MAX + 2];
    memset(long_name, 'x', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = 0;
    ASSERT_ERR(gt_register(long_name, other), GT_EBADARG);
    long_name[GT_NAME_MAX] = 0; /* exactly GT_NAME_MAX bytes is fine */
    ASSERT_OK(gt_register(long_name, other));
    ASSERT(gt_pid_eq(gt_whereis(long_name), other));
    ASSERT_ERR(gt_unregister(NULL), GT_EBADARG);
    ASSERT_EQ(gt_whereis(NULL).id, 0);

    h_post_int(other, TAG_GO, 0);
    h_wait_dead(other);
    ASSERT_ERR(gt_register("names_test.dead", other), GT_EBADARG);
    ASSERT_ERR(gt_register("names_test.none", (gt_pid){0}), GT_EBADARG);
}

/* A process's name goes with it: whereis answers none once it has exited,
 * and the name can be taken by another process. */
GT_TEST(names_released_at_exit)
{
    ASSERT_OK(gt_register("names_test.parent", gt_self()));
    gt_pid child = h_spawn(self_register_fn, "names_test.child");
    ASSERT_EQ(h_wait_int(H_TAG_DONE, H_WAIT), 0);
    ASSERT(gt_pid_eq(gt_whereis("names_test.child"), child));
    h_post_int(child, TAG_GO, 0);
    h_wait_dead(child);
    ASSERT_EQ(gt_whereis("names_test.child").id, 0);
    /* we already have a name, so the freed one goes to another process */
    ASSERT_ERR(gt_register("names_test.child", gt_self()), GT_EBADARG);
    gt_pid next = h_spawn(waiter_fn, NULL);
    ASSERT_OK(gt_register("names_test.child", next));
    h_post_int(next, TAG_GO, 0);
    h_wait_dead(next);
    ASSERT_EQ(gt_whereis("names_test.child").id, 0);
}

/* Many processes race for one name: exactly one wins. */
GT_TEST(names_one_winner)
{
    enum { N = 16 };
    ASSERT_OK(gt_register("names_test.parent", gt_self()));
    gt_pid kids[N];
    for (int i = 0; i < N; i++)
        kids[i] = h_spawn(self_register_fn, "names_test.prize");
    int winners = 0;
    for (int i = 0; i < N; i++) {
        int rc = h_wait_int(H_TAG_DONE, H_WAIT);
        ASSERT(rc == 0 || rc == GT_EBADARG);
        winners += rc == 0;
    }
    ASSERT_EQ(winners, 1);
    gt_pid owner = gt_whereis("names_test.prize");
    bool found = false;
    for (int i = 0; i < N; i++)
        found |= gt_pid_eq(owner, kids[i]);
    ASSERT(found);
    for (int i = 0; i < N; i++)
        h_post_int(kids[i], TAG_GO, 0);
    for (int i = 0; i < N; i++)
        h_wait_dead(kids[i]);
    ASSERT_EQ(gt_whereis("names_test.prize").id, 0);
}

/* The table grows past its first size and every name stays findable. */
GT_TEST(names_many)
{
    enum { N = 2000 };
    gt_pid kids[N];
    char name[32];
    for (int i = 0; i < N; i++) {
        kids[i] = h_spawn(waiter_fn, NULL);
        snprintf(name, sizeof name, "names_test.%d", i);
        ASSERT_OK(gt_register(name, kids[i]));
    }
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "names_test.%d", i);
        ASSERT(gt_pid_eq(gt_whereis(name), kids[i]));
    }
    for (int i = 0; i < N; i += 2) {
        snprintf(name, sizeof name, "names_test.%d", i);
        ASSERT_OK(gt_unregister(name));
    }
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "names_test.%d", i);
        ASSERT_EQ(gt_whereis(name).id, i % 2 ? kids[i].id : 0);
        h_post_int(kids[i], TAG_GO, 0);
    }
    for (int i = 0; i < N; i++)
        h_wait_dead(kids[i]);
    for (int i = 1; i < N; i += 2) {
        snprintf(name, sizeof name, "names_test.%d", i);
        ASSERT_EQ(gt_whereis(name).id, 0);
    }
}

static bool match_tag_2(const gt_msg *m, void *arg)
{
    (void)arg;
    return m->kind == GT_MSG_USER && m->tag == 2;
}

/* message_queue_len follows posts, receives (plain and selective) and the
 * messages a socket delivers. */
GT_TEST(mailbox_len_counts)
{
    size_t n = 99;
    gt_msg *m;
    h_flush();
    ASSERT_OK(gt_mailbox_len(gt_self(), &n));
    ASSERT_EQ(n, 0);
    for (int i = 1; i <= 3; i++)
        h_post_int(gt_self(), i, i);
    ASSERT_OK(gt_mailbox_len(gt_self(), &n));
    ASSERT_EQ(n, 3);
    ASSERT_OK(gt_receive_match(match_tag_2, NULL, 0, &m));
    gt_msg_free(m);
    ASSERT_OK(gt_mailbox_len(gt_self(), &n));
    ASSERT_EQ(n, 2);
    ASSERT_OK(gt_receive(0, &m));
    gt_msg_free(m);
    ASSERT_OK(gt_mailbox_len(gt_self(), &n));
    ASSERT_EQ(n, 1);
    h_flush();
    ASSERT_OK(gt_mailbox_len(gt_self(), &n));
    ASSERT_EQ(n, 0);

    /* socket messages count too: three packets on an active socket */
    gt_socket l, c, a;
    h_pair(GT_OPTS(GT_BINARY, GT_PACKET(4), GT_ACTIVE_TRUE), GT_OPTS(GT_BINARY, GT_PACKET(4)),
           &l, &c, &a);
    h_send(c, "one");
    h_send(c, "two");
    h_send(c, "three");
    for (int i = 0; i < 300 && n < 3; i++) {
        h_msleep(10);
        ASSERT_OK(gt_mailbox_len(gt_self(), &n));
    }
    ASSERT_EQ(n, 3);
    gt_close(c);
    gt_close(a);
    gt_close(l);
    h_flush();

    ASSERT_ERR(gt_mailbox_len(gt_self(), NULL), GT_EBADARG);
    gt_pid dead = h_spawn(waiter_fn, NULL);
    h_post_int(dead, TAG_GO, 0);
    h_wait_dead(dead);
    ASSERT_ERR(gt_mailbox_len(dead, &n), GT_ENOPROC);
}
