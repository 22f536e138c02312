/*
 * ctlproc_test.c -- docs/spec/semantics.md §6, controlling_process (rules 58-63), [inet].
 */
#include "helpers.h"
#include "h_probe.h"

#include <stdatomic.h>

/* A new owner: waits for GO, then records every message about sock that
 * arrives within 150 ms (kind and data), optionally reads the active option
 * first, and posts DONE. */
struct collector {
    gt_pid parent;
    gt_socket sock;
    int n;
    int kinds[16];
    char data[16][32];
    int64_t active; /* getopts(active) as seen by the new owner */
    int active_rc;
};

static void collector_fn(void *arg)
{
    struct collector *c = arg;
    int tag = H_TAG_GO;
    gt_msg *m = NULL;
    if (gt_receive_match(h_match_tag, &tag, H_WAIT, &m) != 0)
        return;
    gt_msg_free(m);
    gt_opt o = {.name = GT_OPT_ACTIVE};
    c->active_rc = gt_getopts(c->sock, &o, 1);
    c->active = o.v.i;
    while (c->n < 16 && gt_receive_match(gt_match_socket, &c->sock, 150, &m) == 0) {
        c->kinds[c->n] = m->kind;
        size_t k = m->len < 31 ? m->len : 31;
        memcpy(c->data[c->n], m->data, k);
        c->data[c->n][k] = 0;
        c->n++;
        gt_msg_free(m);
    }
    h_post_int(c->parent, H_TAG_DONE, c->n);
    /* stay alive (and keep the socket) until told to go */
    tag = H_TAG_GO;
    if (gt_receive_match(h_match_tag, &tag, H_WAIT, &m) == 0)
        gt_msg_free(m);
}

/* r58: only the owner may call controlling_process; non-owners may still
 * send, recv (passive) and setopts. */
struct nonowner {
    gt_pid parent;
    gt_socket s, p;
};

static void nonowner_fn(void *arg)
{
    struct nonowner *n = arg;
    ASSERT_ERR(gt_controlling_process(n->s, gt_self()), GT_ENOT_OWNER);
    ASSERT_OK(gt_send(n->s, "s", 1));
    ASSERT_RECV(n->p, 0, H_WAIT, "s");
    ASSERT_OK(gt_setopts(n->s, GT_OPTS(GT_ACTIVE_FALSE)));
    ASSERT_OK(gt_send(n->p, "r", 1));
    ASSERT_RECV(n->s, 0, H_WAIT, "r");
    h_post_int(n->parent, H_TAG_DONE, 0);
}

GT_TEST(r58_not_owner)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    struct nonowner n = {gt_self(), s, p};
    h_spawn(nonowner_fn, &n);
    ASSERT_OK(h_wait_int(H_TAG_DONE, H_WAIT));
    ASSERT(gt_pid_eq(gt_owner(s), gt_self()));
}

/* r59: target = current owner -> ok; dead pid -> badarg (socket kept);
 * closed socket -> closed. */
static void noop_fn(void *arg) { (void)arg; }

GT_TEST(r59_target_checks)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    ASSERT_OK(gt_controlling_process(s, gt_self()));
    ASSERT(gt_pid_eq(gt_owner(s), gt_self()));
    gt_pid dead = h_spawn(noop_fn, NULL);
    h_wait_dead(dead);
    ASSERT(!gt_is_alive(dead));
    ASSERT_ERR(gt_controlling_process(s, dead), GT_EBADARG);
    ASSERT(gt_pid_eq(gt_owner(s), gt_self()));
    h_send(p, "alive");
    ASSERT_RECV(s, 0, H_WAIT, "alive");
    ASSERT_OK(gt_close(s));
    ASSERT_ERR(gt_controlling_process(s, gt_self()), GT_ECLOSED);
}

/* r60: the {active,N} counter is preserved across the transfer. */
GT_TEST(r60_active_n_counter_preserved)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_N(3))));
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_N(2))));
    struct collector c = {.parent = gt_self(), .sock = s};
    gt_pid np = h_spawn(collector_fn, &c);
    ASSERT_OK(gt_controlling_process(s, np));
    ASSERT(gt_pid_eq(gt_owner(s), np));
    h_post_int(np, H_TAG_GO, 0);
    h_wait_int(H_TAG_DONE, H_WAIT);
    ASSERT_OK(c.active_rc);
    ASSERT_EQ(c.active, 5);
    h_post_int(np, H_TAG_GO, 0);
}

/* r60: new data after the transfer goes to the new owner only. */
GT_TEST(r60_new_data_goes_to_new_owner)
{
    gt_socket p, s;
    h_pair(GT_OPTS(GT_ACTIVE_TRUE), GT_OPTS(GT_ACTIVE_FALSE), NULL, &p, &s);
    struct collector c = {.parent = gt_self(), .sock = s};
    gt_pid np = h_spawn(collector_fn, &c);
    ASSERT_OK(gt_controlling_process(s, np));
    h_send(p, "late");
    h_post_int(np, H_TAG_GO, 0);
    h_wait_int(H_TAG_DONE, H_WAIT);
    ASSERT_EQ(c.active, GT_ACTIVE_TRUE_V);
    ASSERT_EQ(c.n, 1);
    ASSERT_EQ(c.kinds[0], GT_MSG_TCP);
    ASSERT(strcmp(c.data[0], "late") == 0);
    EXPECT_NO_MSG(s, 50);
    h_post_int(np, H_TAG_GO, 0);
}

/* r61: pending {tcp,S,_} messages move to the new owner in order;
 * {tcp_passive,S} stays with the old owner.
 * (E: mailbox [a, tcp_passive, b] -> new owner [a, b], old keeps tcp_passive) */
GT_TEST(r61_moves_tcp_in_order_passive_stays)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_N(1))));
    h_send(p, "a");
    h_wait_mbox(2); /* a, tcp_passive */
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_ONCE)));
    h_send(p, "b");
    h_wait_mbox(3);
    struct collector c = {.parent = gt_self(), .sock = s};
    gt_pid np = h_spawn(collector_fn, &c);
    ASSERT_OK(gt_controlling_process(s, np));
    ASSERT(gt_pid_eq(gt_owner(s), np));
    h_post_int(np, H_TAG_GO, 0);
    h_wait_int(H_TAG_DONE, H_WAIT);
    ASSERT_EQ(c.n, 2);
    ASSERT_EQ(c.kinds[0], GT_MSG_TCP);
    ASSERT(strcmp(c.data[0], "a") == 0);
    ASSERT_EQ(c.kinds[1], GT_MSG_TCP);
    ASSERT(strcmp(c.data[1], "b") == 0);
    EXPECT_MSG(s, GT_MSG_TCP_PASSIVE);
    EXPECT_NO_MSG(s, 50);
    h_post_int(np, H_TAG_GO, 0);
}

/* r61: {tcp_error,S,_} stays with the old owner; tcp and tcp_closed move.
 * r62: a tcp_closed among the moved messages -> ok, but the owner does not
 * change [inet].  (E: exit_on_close=false, show_econnreset, peer sends "x"
 * and resets -> new owner gets [x, tcp_closed], old keeps tcp_error,
 * owner unchanged.) */
GT_TEST(r61_tcp_error_stays_r62_owner_kept)
{
    gt_socket p, s;
    h_pair(GT_OPTS(GT_EXIT_ON_CLOSE(false), GT_SHOW_ECONNRESET(true)), GT_OPTS(GT_ACTIVE_FALSE),
           NULL, &p, &s);
    h_send(p, "x");
    h_wait_mbox(1);
    ASSERT_OK(gt_setopts(p, GT_OPTS(GT_LINGER(1, 0))));
    ASSERT_OK(gt_close(p));
    h_wait_mbox(3); /* x, tcp_error, tcp_closed */
    struct collector c = {.parent = gt_self(), .sock = s};
    gt_pid np = h_spawn(collector_fn, &c);
    ASSERT_OK(gt_controlling_process(s, np));
    ASSERT(gt_pid_eq(gt_owner(s), gt_self())); /* r62 */
    h_post_int(np, H_TAG_GO, 0);
    h_wait_int(H_TAG_DONE, H_WAIT);
    ASSERT_EQ(c.n, 2);
    ASSERT_EQ(c.kinds[0], GT_MSG_TCP);
    ASSERT(strcmp(c.data[0], "x") == 0);
    ASSERT_EQ(c.kinds[1], GT_MSG_TCP_CLOSED);
    EXPECT_TCP_ERROR(s, -ECONNRESET);
    EXPECT_NO_MSG(s, 50);
    h_post_int(np, H_TAG_GO, 0);
}

/* r62: exit_on_close=true and tcp_closed already delivered: the socket is
 * gone -> closed, and the messages stay with the caller. */
GT_TEST(r62_closed_socket_messages_stay)
{
    gt_socket p, s;
    h_pair(GT_NOOPTS, GT_OPTS(GT_ACTIVE_FALSE), NULL, &p, &s);
    h_send(p, "x");
    ASSERT_OK(gt_close(p));
    h_wait_mbox(2); /* x, tcp_closed */
    struct collector c = {.parent = gt_self(), .sock = s};
    gt_pid np = h_spawn(collector_fn, &c);
    ASSERT_ERR(gt_controlling_process(s, np), GT_ECLOSED);
    h_post_int(np, H_TAG_GO, 0);
    h_wait_int(H_TAG_DONE, H_WAIT);
    ASSERT_EQ(c.n, 0);
    h_active_all(s, "x");
    EXPECT_MSG(s, GT_MSG_TCP_CLOSED);
    h_post_int(np, H_TAG_GO, 0);
}

/* i7 item 3 (rule 62, E): inet sets the socket passive before it moves the
 * messages and restores the old active value only when the owner changes.
 * With a tcp_closed among the moved messages the socket stays passive:
 * recv -> closed (exit_on_close=false), not einval.  (E: [x, tcp_closed]
 * moved, owner kept, active false for both, recv closed twice, send ok,
 * {active,true} sends nothing.) */
GT_TEST(i7_03_tcp_closed_moved_socket_stays_passive)
{
    gt_socket p, s;
    h_pair(GT_OPTS(GT_EXIT_ON_CLOSE(false)), GT_OPTS(GT_ACTIVE_FALSE), NULL, &p, &s);
    h_send(p, "x");
    ASSERT_OK(gt_close(p));
    h_wait_mbox(2); /* x, tcp_closed */
    struct collector c = {.parent = gt_self(), .sock = s};
    gt_pid np = h_spawn(collector_fn, &c);
    ASSERT_OK(gt_controlling_process(s, np));
    ASSERT(gt_pid_eq(gt_owner(s), gt_self()));
    ASSERT_OPT(s, GT_OPT_ACTIVE, GT_ACTIVE_FALSE_V);
    h_post_int(np, H_TAG_GO, 0);
    h_wait_int(H_TAG_DONE, H_WAIT);
    ASSERT_OK(c.active_rc);
    ASSERT_EQ(c.active, GT_ACTIVE_FALSE_V);
    ASSERT_EQ(c.n, 2);
    ASSERT_EQ(c.kinds[0], GT_MSG_TCP);
    ASSERT(strcmp(c.data[0], "x") == 0);
    ASSERT_EQ(c.kinds[1], GT_MSG_TCP_CLOSED);
    ASSERT_RECV_ERR(s, 0, H_WAIT, GT_ECLOSED);
    ASSERT_RECV_ERR(s, 0, H_WAIT, GT_ECLOSED);
    ASSERT_OK(gt_send(s, "y", 1));
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_TRUE)));
    EXPECT_NO_MSG(s, 50);
    h_post_int(np, H_TAG_GO, 0);
}

/* i7 item 3: an {active,N} socket goes passive the same way, without a
 * tcp_passive message (inet, rule 18). */
GT_TEST(i7_03_tcp_closed_moved_active_n_no_passive_msg)
{
    gt_socket p, s;
    h_pair(GT_OPTS(GT_EXIT_ON_CLOSE(false), GT_ACTIVE_N(5)), GT_OPTS(GT_ACTIVE_FALSE), NULL, &p,
           &s);
    ASSERT_OK(gt_close(p));
    h_wait_mbox(1); /* tcp_closed */
    struct collector c = {.parent = gt_self(), .sock = s};
    gt_pid np = h_spawn(collector_fn, &c);
    ASSERT_OK(gt_controlling_process(s, np));
    ASSERT_OPT(s, GT_OPT_ACTIVE, GT_ACTIVE_FALSE_V);
    EXPECT_NO_MSG(s, 50);
    ASSERT_RECV_ERR(s, 0, H_WAIT, GT_ECLOSED);
    h_post_int(np, H_TAG_GO, 0);
    h_wait_int(H_TAG_DONE, H_WAIT);
    ASSERT_EQ(c.n, 1);
    ASSERT_EQ(c.kinds[0], GT_MSG_TCP_CLOSED);
    h_post_int(np, H_TAG_GO, 0);
}

/* i7 item 3, the other path that leaves the socket passive: a dead target
 * -> badarg and the socket is passive (E: active true or {active,5} ->
 * false; later data waits for recv).  E also moves the pending {tcp,S,_}
 * messages to the dead process, where they are lost; gentcp keeps them
 * (docs/DEVIATIONS.md row 9). */
GT_TEST(i7_03_dead_target_leaves_socket_passive)
{
    gt_socket p, s;
    h_pair(GT_NOOPTS, GT_OPTS(GT_ACTIVE_FALSE), NULL, &p, &s);
    h_send(p, "x");
    EXPECT_TCP(s, "x");
    h_send(p, "y");
    h_wait_mbox(1);
    gt_pid dead = h_spawn(noop_fn, NULL);
    h_wait_dead(dead);
    ASSERT_ERR(gt_controlling_process(s, dead), GT_EBADARG);
    ASSERT(gt_pid_eq(gt_owner(s), gt_self()));
    ASSERT_OPT(s, GT_OPT_ACTIVE, GT_ACTIVE_FALSE_V);
    EXPECT_TCP(s, "y"); /* dev 8: kept */
    h_send(p, "z");
    EXPECT_NO_MSG(s, 50);
    ASSERT_RECV(s, 0, H_WAIT, "z");
    ASSERT_OK(gt_setopts(s, GT_OPTS(GT_ACTIVE_N(5))));
    ASSERT_ERR(gt_controlling_process(s, dead), GT_EBADARG);
    ASSERT_OPT(s, GT_OPT_ACTIVE, GT_ACTIVE_FALSE_V);
    EXPECT_NO_MSG(s, 50); /* no tcp_passive (rule 18) */
}

/* r63: owner death closes the socket; the peer sees closed. */
GT_TEST(r63_owner_death_closes_socket)
{
    gt_socket p, s;
    h_ppair(&p, &s);
    gt_pid owner = h_spawn(h_holder_fn, NULL);
    ASSERT_OK(gt_controlling_process(s, owner));
    ASSERT(gt_pid_eq(gt_owner(s), owner));
    h_post_int(owner, H_TAG_GO, 0);
    h_wait_dead(owner);
    ASSERT_RECV_ERR(p, 0, H_WAIT, GT_ECLOSED);
    ASSERT_EQ(gt_owner(s).id, 0);
    ASSERT_ERR(gt_send(s, "x", 1), GT_ECLOSED);
}

/* r63: an accepted socket is owned by the process that called accept, not
 * by the listen socket's owner; its death closes that socket only. */
struct acceptor {
    gt_pid parent;
    gt_socket l, a;
};

static void acceptor_fn(void *arg)
{
    struct acceptor *ac = arg;
    ASSERT_OK(gt_accept(ac->l, H_WAIT, &ac->a));
    ASSERT(gt_pid_eq(gt_owner(ac->a), gt_self()));
    h_post_int(ac->parent, H_TAG_DONE, 0);
    int tag = H_TAG_GO;
    gt_msg *m = NULL;
    if (gt_receive_match(h_match_tag, &tag, H_WAIT, &m) == 0)
        gt_msg_free(m);
}

GT_TEST(r63_accepted_socket_owned_by_acceptor)
{
    gt_socket l = h_listen(GT_OPTS(GT_ACTIVE_FALSE));
    struct acceptor ac = {.parent = gt_self(), .l = l};
    gt_pid pid = h_spawn(acceptor_fn, &ac);
    gt_socket c = h_connect(h_port(l), GT_OPTS(GT_ACTIVE_FALSE));
    h_wait_int(H_TAG_DONE, H_WAIT);
    ASSERT(gt_pid_eq(gt_owner(ac.a), pid));
    ASSERT(gt_pid_eq(gt_owner(l), gt_self()));
    h_post_int(pid, H_TAG_GO, 0);
    h_wait_dead(pid);
    ASSERT_RECV_ERR(c, 0, H_WAIT, GT_ECLOSED);
    /* the listen socket is unaffected */
    gt_socket c2 = h_connect(h_port(l), GT_OPTS(GT_ACTIVE_FALSE));
    gt_socket a2 = h_accept(l);
    h_send(c2, "ok");
    ASSERT_RECV(a2, 0, H_WAIT, "ok");
}

/* Issue 7 item 20: a socket handed to a process that is exiting must end
 * up either closed by that exit or still ours (badarg), never linked to a
 * dead owner and left open.  The race is narrow (the hand-over must land
 * after the exit's last look at its socket list), so the test repeats it,
 * the new owner ending a little later each time (a sweep over the window)
 * while we hand the socket over. */
struct exiter {
    atomic_int started, go;
    int spins;
};

static void exiter_fn(void *arg)
{
    struct exiter *e = arg;
    atomic_store(&e->started, 1);
    for (int i = 0; i < 100000000 && !atomic_load(&e->go); i++) {
    }
    for (volatile int k = 0; k < e->spins; k++) {
    }
}

GT_TEST(i7_20_ctlproc_to_exiting_process_never_strands_socket)
{
    gt_pid me = gt_self();
    int64_t end = h_now_ms() + 4000;
    int handed = 0, refused = 0;
    for (int i = 0; i < 4000 && h_now_ms() < end; i++) {
        gt_socket l = h_listen(GT_OPTS());
        struct exiter e = {.spins = (i % 50) * 20};
        gt_pid pid = h_spawn(exiter_fn, &e);
        while (!atomic_load(&e.started) && h_now_ms() < end) {
        }
        atomic_store(&e.go, 1);
        int rc = gt_controlling_process(l, pid);
        /* Dead for gt_is_alive means its exit has closed what it owned
         * (a DOWN can come earlier, as soon as the exit begins). */
        for (int64_t t = h_now_ms() + H_WAIT; gt_is_alive(pid) && h_now_ms() < t;)
            gt_yield();
        ASSERT(!gt_is_alive(pid));
        gt_pid owner = gt_owner(l);
        if (rc == 0) {
            handed++;
            if (owner.id != 0)
                gt_test_fail(__FILE__, __LINE__,
                             "iteration %d: the socket outlived its new owner's exit (owner: %s)",
                             i, gt_pid_eq(owner, pid) ? "the dead process" : "another");
        } else {
            refused++;
            ASSERT_ERR(rc, GT_EBADARG);
            ASSERT(gt_pid_eq(owner, me));
            ASSERT_OK(gt_close(l));
        }
    }
    fprintf(stderr, "handed over %d, refused %d\n", handed, refused);
}
