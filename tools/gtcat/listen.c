/*
 * listen.c -- `gtcat listen PORT|local:PATH [--packet P] [--active MODE]
 * [--echo] [--hibernate] [--bind ADDR] [--backend B] [--fd N] [TLS]`.  With
 * TLS each connection's process runs its handshake (HANDSHAKE_MS at most)
 * before serving it; a failed one is reported on stderr with its reason and
 * the connection closed.
 *
 * Prints "listening on PORT" ("listening on local:PATH") first (useful with
 * port 0) and accepts any
 * number of connections, a process each.  With --echo every packet goes
 * back framed the same way; without it packets are written to stdout (with
 * a newline after each for a framed type, packet_framed: not raw or line).
 *
 * SIGTERM or SIGINT stops it in order: the listen sockets close, each
 * connection stops reading, answers the packets it has already received,
 * and closes (its queued output still goes out); gtcat exits 0 once all
 * are done, or 1 if some are still busy after STOP_MS (a peer that does not
 * read).  SIGUSR1 prints the inet:i()-style list of every socket
 * (gt_sockets_print) on stderr and goes on.
 *
 * --fd N serves a listen socket made by someone else (systemd socket
 * activation: fd 3): gentcp adopts it ({fd, N}) and closes it at the end.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gtcat.h"

#define ECHO_ACTIVE_N 1024 /* packets per re-arm: flow control without a
                            round trip through setopts for every packet */
#define ACCEPTORS 4       /* processes waiting in gt_accept at once */
#define LISTENERS 2       /* listen sockets sharing port 0 (reuseport) */
#define ECHO_AHEAD (1024 * 1024) /* ... and at most about this many bytes
                            read ahead: 256 frames of 256 KiB in the
                            mailbox were 64 MiB of fresh memory, every
                            page faulted in and trimmed again (issue 11) */
#define ECHO_FIRST_N 16   /* packets before the first re-arm, whose size
                            is not known yet: ECHO_ACTIVE_N of them read
                            ahead 64 MiB of a bulk echo's 64 KiB frames,
                            17,000-51,000 pages faulted in, in most runs
                            (issue 11, var7); a small-packet connection
                            pays one gt_setopts more, after 16 packets */
#define ECHO_SMALL 16     /* packets echoed from a batch on the process
                            stack (384 B): a connection with one request
                            in flight touches no more of its stack */
#define ECHO_BATCH 1024   /* ... and from its heap batch, made once the
                            small one filled up (a pipelining peer): one
                            gt_receive_many and one gt_send_many for up to
                            ECHO_ACTIVE_N packets (gt_send_many's limit) */
#define ECHO_IDLE_MS 200  /* ... which is freed once no packet came for this
                            long: an idle connection keeps no 24 KiB
                            (issue 11), a pipelining peer's pauses do not
                            make it churn */
#define ECHO_RECBUF (4 * 1024 * 1024) /* an echo connection's SO_RCVBUF
                            (the kernel doubles it, capped by
                            net.core.rmem_max): see cmd_listen */
#define LISTEN_BACKLOG 65535 /* the kernel caps it at net.core.somaxconn: a
                               burst of connects must not overflow the
                               queue (each dropped SYN costs the client a
                               1 s retransmit; issue 11) */

#define HANDSHAKE_MS 10000

typedef struct server {
    int packet;
    bool tls;
    gt_opt active;  /* for printing connections; echo uses ECHO_ACTIVE_N */
    bool echo, hibernate;
} server;

/* What an acceptor waits on. */
typedef struct listener {
    gt_socket ls;
    const server *srv;
} listener;

#define STOP_MS 5000      /* how long a stop waits for connections: they
                            end as soon as their peers have read the last
                            answers and closed, usually well within 1 s */

/* The one configuration a gtcat listen serves, set before the first
 * accept: not a pointer in every connection (issue 11's idle figure). */
static const server *the_srv;

typedef struct conn {
    gt_socket sock;        /* owned by the connection's process until it
                              leaves the list: a stop finds the process
                              with gt_owner (a socket the driver closed
                              meanwhile: the process ends by itself)    */
    struct echo_batch *batch; /* owned; NULL until a run fills ECHO_SMALL */
    struct conn *prev, *next; /* the live connections, for a stop */
    uint32_t last_len;    /* the last packet echoed, capped: sizes the
                             read-ahead */
    uint16_t unreported;  /* packets echoed, not yet added to `echoed`
                             (< ECHO_REPORT + ECHO_BATCH) */
    bool joined : 1, finishing : 1;
    bool heap : 1;        /* malloc'd (a hibernating connection's); else
                             it lives in its acceptor's frame, which the
                             process keeps until it ends (issue 11, acc11:
                             the malloc and free were ~200 instructions of
                             every accepted connection) */
    /* 40 B: the struct takes a 48 B malloc chunk (issue 11's idle
     * figure); see the check below */
} conn;
_Static_assert(sizeof(conn) <= 40, "conn outgrew its 48 B malloc chunk");

/* The live connections, so that a stop can reach each of them; the
 * packets answered, for the report at the end. */
static atomic_flag conns_lock = ATOMIC_FLAG_INIT;

/* A spin lock: every connection takes it twice (join, leave) for a few
 * stores, where a pthread mutex's lock and unlock were ~110 instructions
 * of every accepted connection (issue 11, acc11).  Only a stop holds it
 * longer (a message to each connection); a connection ending meanwhile on
 * another scheduler yields its core until the stop is through. */
static void conns_lock_take(void)
{
    while (atomic_flag_test_and_set_explicit(&conns_lock, memory_order_acquire))
        sched_yield();
}

static void conns_lock_give(void) { atomic_flag_clear_explicit(&conns_lock, memory_order_release); }
static conn *conns;
static int nconns;
static bool stopping;
static int64_t stop_deadline; /* CLOCK_MONOTONIC ms, set before stopping */
static atomic_llong echoed;
static atomic_int cut_short; /* closes forced by the stop's deadline */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

enum { TAG_STOP = 1 }; /* from main: finish and close */

/* Joins the list; false if a stop has begun (then the caller closes). */
static bool conn_join(conn *c)
{
    conns_lock_take();
    bool ok = !stopping;
    if (ok) {
        c->joined = true;
        c->prev = NULL;
        c->next = conns;
        if (conns)
            conns->prev = c;
        conns = c;
        nconns++;
    }
    conns_lock_give();
    return ok;
}

/* One shared counter bumped by every echo on every scheduler thread
 * bounced its cache line between the cores on each packet (issue 11,
 * rr1k): a connection adds its count every ECHO_REPORT packets, and the
 * rest when it leaves. */
#define ECHO_REPORT 64
_Static_assert(ECHO_REPORT + ECHO_BATCH < UINT16_MAX, "unreported overflows");

static void count_echoes(conn *c, int n)
{
    c->unreported += n;
    if (c->unreported >= ECHO_REPORT) {
        atomic_fetch_add(&echoed, c->unreported);
        c->unreported = 0;
    }
}

static void conn_leave(conn *c)
{
    atomic_fetch_add(&echoed, c->unreported);
    c->unreported = 0;
    if (!c->joined)
        return;
    conns_lock_take();
    if (c->prev)
        c->prev->next = c->next;
    else if (conns == c)
        conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    nconns--;
    conns_lock_give();
}

/* What a connection process waits for: its socket's messages, or a stop. */
static bool is_mine(const gt_msg *m, void *arg)
{
    return gt_match_socket(m, arg) || (m->kind == GT_MSG_USER && m->tag == TAG_STOP);
}

static bool is_stop(const gt_msg *m) { return m->kind == GT_MSG_USER && m->tag == TAG_STOP; }

/* {active, N} with N <= 0 would make the socket passive at once and every
 * re-arm passive again: a busy loop of tcp_passive messages. */
static gt_opt parse_active(const char *s)
{
    if (strcmp(s, "true") == 0)
        return GT_ACTIVE_TRUE;
    if (strcmp(s, "false") == 0)
        return GT_ACTIVE_FALSE;
    if (strcmp(s, "once") == 0)
        return GT_ACTIVE_ONCE;
    char *end;
    errno = 0;
    long n = strtol(s, &end, 10);
    if (*s && !*end && !errno && n >= 1 && n <= 32767)
        return GT_ACTIVE_N(n);
    usage_error("bad --active '%s' (true, false, once or 1..32767)", s);
}

/* The active mode a connection runs in, after packets of last_len bytes
 * (0: none yet, ECHO_FIRST_N packets). */
static gt_opt arm_opt(const server *srv, size_t last_len)
{
    size_t n = last_len ? ECHO_ACTIVE_N : ECHO_FIRST_N;
    if (last_len && ECHO_AHEAD / last_len < n)
        n = ECHO_AHEAD / last_len < 4 ? 4 : ECHO_AHEAD / last_len;
    return srv->echo && srv->active.v.i == GT_ACTIVE_TRUE_V ? GT_ACTIVE_N((int64_t)n)
                                                          : srv->active;
}

static void arm(conn *c)
{
    if (c->finishing)
        return; /* a stop made it passive for good */
    gt_setopts(c->sock, GT_OPTS(arm_opt(the_srv, c->last_len)));
}

/* Whether accepted sockets start in their first arm()'s mode, inherited
 * from the listen socket (rule 12), so that a connection's process need
 * not set it: a gt_setopts per connection, ~400 instructions and a socket
 * lock round trip of each accepted connection (issue 11, accept).  Not
 * with TLS (the handshake reads passively) nor for passive connections. */
static bool born_armed;

static void first_arm(conn *c)
{
    if (!born_armed)
        arm(c);
}

/* Whether an echo send (rc) went; if not, the connection ends, and says
 * why: its peer misses the echoes from the sent-th of n on. */
static bool echo_ok(int rc, int sent, int n)
{
    if (rc != 0)
        fprintf(stderr, "gtcat: echo: %s; %d of %d packets sent, closing the connection\n",
                gt_err_name(rc), sent, n);
    return rc == 0;
}

/* Handles one message; returns false when the connection is over. */
static bool handle(conn *c, gt_msg *m)
{
    bool more = true;
    switch (tcp_kind(m->kind)) {
    case GT_MSG_TCP:
        if (the_srv->echo) {
            more = echo_ok(gt_send(c->sock, m->data, m->len), 0, 1);
            if (more)
                count_echoes(c, 1);
        } else {
            print_packet(m->data, m->len, packet_framed(the_srv->packet));
        }
        if (the_srv->active.v.i == GT_ACTIVE_ONCE_V)
            arm(c);
        break;
    case GT_MSG_TCP_PASSIVE:
        arm(c);
        break;
    case GT_MSG_TCP_ERROR:
        fprintf(stderr, "gtcat: connection error: %s\n", gt_err_name(m->reason));
        break;
    default:
        more = false;
    }
    gt_msg_free(m);
    return more;
}

static void conn_end(conn *c)
{
    conn_leave(c);
    gt_close(c->sock);
    free(c->batch);
    if (c->heap)
        free(c);
}

/* A stop: read nothing more, answer what has been received (the packets
 * in the mailbox), then close in the lingering way: FIN after the answers,
 * then read and discard until the peer closes (or the stop's time is up).
 * Closing with unread input would send a reset instead, and a reset can
 * destroy answers the peer has not read yet. */
static void conn_finish(conn *c)
{
    c->finishing = true;
    gt_setopts(c->sock, GT_OPTS(GT_ACTIVE_FALSE));
    gt_msg *m;
    bool ok = true;
    while (ok && gt_receive_match(gt_match_socket, &c->sock, 0, &m) == 0)
        ok = handle(c, m);
    if (ok && gt_shutdown(c->sock, GT_SHUT_WRITE) == 0) {
        int64_t left;
        int rc = 0;
        while ((left = stop_deadline - now_ms()) > 0 && (rc = gt_recv(c->sock, 0, left, &m)) == 0)
            gt_msg_free(m);
        /* the deadline passed between two reads, or during the last one */
        if (left <= 0 || rc == GT_ETIMEOUT)
            atomic_fetch_add(&cut_short, 1); /* the peer may see a reset */
    }
    conn_end(c);
}

/* The next message for c: 1 and *m; 0 when there is none (the connection
 * is over, or nothing came within timeout); -1 after a stop, which has
 * finished c (it is gone). */
static int next_msg(conn *c, int64_t timeout, gt_msg **m)
{
    if (gt_receive_match(is_mine, &c->sock, timeout, m) != 0)
        return 0;
    if (!is_stop(*m))
        return 1;
    gt_msg_free(*m);
    conn_finish(c);
    return -1;
}

typedef struct echo_batch {
    gt_msg *msgs[ECHO_BATCH];
    struct iovec iov[ECHO_BATCH];
} echo_batch;

/* Echoes the n packets at msgs / iov with one gt_send_many (unless an
 * earlier send failed: ok false) and frees them.  Returns whether the
 * connection goes on. */
static bool echo_flush(conn *c, gt_msg **msgs, const struct iovec *iov, size_t n, bool ok)
{
    if (n) /* for arm(): the last packet's size */
        c->last_len = iov[n - 1].iov_len < UINT32_MAX ? (uint32_t)iov[n - 1].iov_len : UINT32_MAX;
    if (n && ok) {
        int sent = 0;
        ok = echo_ok(gt_send_many(c->sock, iov, (int)n, &sent), sent, (int)n);
        count_echoes(c, sent);
    }
    for (size_t i = 0; i < n; i++)
        gt_msg_free(msgs[i]);
    return ok;
}

/* Handles the n messages taken for c, in order: each run of packets is
 * echoed with one send, any other message after the packets before it. */
static bool echo_run(conn *c, gt_msg **msgs, struct iovec *iov, size_t n)
{
    bool ok = true;
    /* {active, once}: re-armed per packet, which sizes by the last packet;
     * otherwise echo_flush notes the run's last size, once */
    bool once = the_srv->active.v.i == GT_ACTIVE_ONCE_V;
    size_t run = 0; /* packets gathered at msgs[0..run), run <= i */
    for (size_t i = 0; i < n; i++) {
        gt_msg *m = msgs[i];
        if (tcp_kind(m->kind) == GT_MSG_TCP) {
            msgs[run] = m;
            iov[run++] = (struct iovec){m->data, m->len};
            if (once && ok) {
                c->last_len = m->len < UINT32_MAX ? (uint32_t)m->len : UINT32_MAX;
                arm(c);
            }
            continue;
        }
        ok = echo_flush(c, msgs, iov, run, ok);
        run = 0;
        if (ok)
            ok = handle(c, m); /* frees it */
        else
            gt_msg_free(m);
    }
    return echo_flush(c, msgs, iov, run, ok);
}

/* Waits for a message, then takes the ones already behind it for the
 * socket with one gt_receive_many and echoes their packets with one
 * gt_send_many, gathered at small_msgs / small_iov (ECHO_SMALL, the
 * caller's) or at the heap batch.  Returns as next_msg does (0: the
 * connection is over).  The heap batch waits ECHO_IDLE_MS for the next
 * message (a receive that finds one costs no more: the deadline is
 * computed only to wait). */
static inline int echo_burst(conn *c, gt_msg **small_msgs, struct iovec *small_iov)
{
    gt_msg *m;
    int r = c->batch ? next_msg(c, ECHO_IDLE_MS, &m) : 0;
    if (r == 0) {
        if (c->batch) { /* (not free(NULL): a call of each rr echo) */
            free(c->batch); /* idle (or over): made again by the next long run */
            c->batch = NULL;
        }
        r = next_msg(c, GT_INFINITY, &m);
    }
    if (r <= 0)
        return r;
    if (tcp_kind(m->kind) != GT_MSG_TCP)
        return handle(c, m);
    echo_batch *b = c->batch;
    gt_msg **msgs = b ? b->msgs : small_msgs;
    struct iovec *iov = b ? b->iov : small_iov;
    size_t cap = b ? ECHO_BATCH : ECHO_SMALL, n = 0;
    msgs[0] = m;
    gt_receive_many(gt_match_socket, &c->sock, msgs + 1, cap - 1, &n);
    n++;
    if (n == cap && !b)
        c->batch = malloc(sizeof *c->batch); /* for the next run; without
                                                it, runs stay small */
    return echo_run(c, msgs, iov, n);
}

/* Echoes until the connection is over (returns as next_msg does).  The
 * loop runs in the frame that holds the small batch: a connection with
 * one request in flight returned from a frame of its own after each echo
 * and made it again, and that return read two stack lines that had gone
 * cold while it waited (issue 11, rr1k: 2 of ~30 D1 misses per echo). */
static int echo_loop(conn *c)
{
    gt_msg *small_msgs[ECHO_SMALL];
    struct iovec small_iov[ECHO_SMALL];
    int r;
    while ((r = echo_burst(c, small_msgs, small_iov)) > 0)
        ;
    return r;
}

/* A connection process that keeps its stack between packets. */
static void conn_active(void *arg)
{
    conn *c = arg;
    if (!conn_join(c)) {
        conn_finish(c); /* accepted as a stop began */
        return;
    }
    first_arm(c);
    gt_msg *m;
    int r;
    if (the_srv->echo)
        r = echo_loop(c);
    else
        while ((r = next_msg(c, GT_INFINITY, &m)) > 0)
            if (!handle(c, m)) {
                r = 0;
                break;
            }
    if (r == 0)
        conn_end(c);
}

/* The hibernating variant: handle what is there, then give the stack back
 * until the next message (gt_hibernate restarts this function). */
static void conn_hibernating(void *arg)
{
    conn *c = arg;
    gt_msg *m;
    int r;
    while ((r = next_msg(c, 0, &m)) > 0)
        if (!handle(c, m)) {
            conn_end(c);
            return;
        }
    if (r == 0)
        gt_hibernate(conn_hibernating, c);
}

static void conn_hibernate_start(void *arg)
{
    if (!conn_join(arg)) {
        conn_finish(arg); /* accepted as a stop began */
        return;
    }
    first_arm(arg);
    conn_hibernating(arg);
}

/* Passive connections: recv until closed. */
static void conn_passive(void *arg)
{
    conn *c = arg;
    gt_msg *m;
    if (!conn_join(c)) {
        conn_finish(c); /* accepted as a stop began */
        return;
    }
    int rc;
    while ((rc = gt_recv(c->sock, 0, GT_INFINITY, &m)) == 0) {
        if (the_srv->echo) {
            int src = gt_send(c->sock, m->data, m->len);
            gt_msg_free(m);
            if (!echo_ok(src, 0, 1))
                break;
            count_echoes(c, 1);
        } else {
            print_packet(m->data, m->len, packet_framed(the_srv->packet));
            gt_msg_free(m);
        }
    }
    if (rc && rc != GT_ECLOSED && rc != GT_EEXITING)
        fprintf(stderr, "gtcat: recv: %s\n", gt_err_name(rc));
    conn_end(c);
}

/* An acceptor waits in gt_accept, starts its replacement, then serves the
 * connection itself: the socket is created on the scheduler of the process
 * that owns it and stays there (no controlling_process, no move of its
 * epoll registration, no hand-over between threads), and a burst of
 * connects finds several acceptors queued on the listen socket (issue 11).
 * Out of descriptors, gt_accept says emfile and paces the retries itself:
 * say so once, and again when serving resumes. */
static atomic_bool at_limit, stop_begun;

/* Every acceptor, and so every connection, starts on scheduler 1 (its
 * listen sockets' events follow it there: gt_accept): a load one scheduler
 * serves stays on one.  Round robin, or a replacement started beside an
 * acceptor that stealing had moved, kept a second scheduler half busy --
 * spinning, sleeping and waking for its half -- at ~40% more CPU per
 * connection than one scheduler doing it all (issue 11).  Movable: while
 * scheduler 1 is backed up, stealing hands the waiting ones to another. */
static const gt_spawn_opts acceptor_start = {.scheduler = 1, .movable = true};

static void acceptor(void *arg)
{
    const listener *l = arg;
    const server *srv = l->srv;
    gt_socket s;
    for (;;) {
        int rc = gt_accept(l->ls, GT_INFINITY, &s);
        if (rc == -EMFILE || rc == -ENFILE) {
            if (!atomic_exchange(&at_limit, true))
                fprintf(stderr, "gtcat: accept: %s; waiting for descriptors\n", gt_err_name(rc));
            continue;
        }
        if (rc == GT_ECLOSED && atomic_load(&stop_begun))
            return; /* a stop closed the listen socket */
        if (rc)
            die("accept", rc);
        if (atomic_exchange(&at_limit, false))
            fprintf(stderr, "gtcat: accepting again\n");
        /* A connection that keeps its stack keeps its conn there too; a
         * hibernating one gives the stack back between packets.  On a
         * line of its own: placed as it fell, it shifted the frames below
         * it so that an rr echo's resume wrote one more stack line
         * (callgrind, load rr conns=200: 30.8-31.3 D1 misses per round
         * trip against 30.4 with the malloc'd conn, 29.9-30.3 aligned). */
        _Alignas(64) conn on_stack;
        conn *c = srv->hibernate ? malloc(sizeof *c) : &on_stack;
        if (c && gt_spawn(acceptor, arg, &acceptor_start, NULL) == 0) {
            *c = (conn){.sock = s, .heap = c != &on_stack};
            if (srv->tls && (rc = gt_tls_handshake(s, HANDSHAKE_MS)) != 0) {
                char why[300] = "";
                gt_tls_last_error(s, why, sizeof why);
                fprintf(stderr, "gtcat: handshake: %s%s%s%s\n", gt_err_name(rc),
                        *why ? " (" : "", why, *why ? ")" : "");
                gt_close(s);
                if (c->heap)
                    free(c);
                return;
            }
            bool passive = srv->active.v.i == GT_ACTIVE_FALSE_V;
            (passive ? conn_passive : srv->hibernate ? conn_hibernate_start : conn_active)(c);
            return;
        }
        fprintf(stderr, "gtcat: cannot start a process\n");
        if (srv->hibernate) /* malloc'd above (c->heap is not set yet) */
            free(c);
        gt_close(s); /* and stay the acceptor */
    }
}

/* The signals: stop, or print the socket list. */
static bool is_signal(const gt_msg *m, void *arg)
{
    (void)arg;
    return m->kind == GT_MSG_SIGNAL;
}

/* Stops in order: no new connections, then each connection finishes what
 * it received (a passive one, blocked in gt_recv, is ended by an exit
 * signal instead: what it received it has answered already). */
static int stop(listener *ls, int n, const server *srv, int signo)
{
    fprintf(stderr, "gtcat: %s: stopping\n", signo == SIGINT ? "SIGINT" : "SIGTERM");
    atomic_store(&stop_begun, true);
    for (int i = 0; i < n; i++)
        gt_close(ls[i].ls);
    conns_lock_take();
    stop_deadline = now_ms() + STOP_MS - STOP_MS / 10; /* a margin for the closes */
    stopping = true;
    int count = nconns;
    for (conn *c = conns; c; c = c->next) {
        gt_pid pid = gt_owner(c->sock);
        if (srv->active.v.i == GT_ACTIVE_FALSE_V)
            gt_kill(pid, 1);
        else
            gt_post(pid, TAG_STOP, NULL, 0);
    }
    conns_lock_give();
    int rc = gt_stop(STOP_MS);
    int cut = atomic_load(&cut_short);
    fprintf(stderr, "gtcat: stopped: %d connections, %lld packets echoed%s%s\n", count,
            (long long)atomic_load(&echoed), rc ? "; some connections were still busy" : "",
            cut ? "; some peers did not close in time" : "");
    return rc || cut ? EXIT_NETWORK : 0;
}

/* Starts the acceptors, spread over the listen sockets, then waits for
 * SIGTERM or SIGINT (SIGUSR1: the socket list on stderr). */
static int serve(listener *ls, int n, const server *srv)
{
    if (gt_signal_subscribe(SIGTERM) != 0 || gt_signal_subscribe(SIGINT) != 0 ||
        gt_signal_subscribe(SIGUSR1) != 0)
        die("signals", -EINVAL);
    for (int i = 0; i < ACCEPTORS; i++)
        if (gt_spawn(acceptor, &ls[i % n], &acceptor_start, NULL) != 0 && i < n)
            die("spawn", -ENOMEM);
    for (;;) {
        gt_msg *m;
        if (gt_receive_match(is_signal, NULL, GT_INFINITY, &m) == 0) {
            int signo = m->tag;
            gt_msg_free(m);
            if (signo != SIGUSR1)
                return stop(ls, n, srv, signo);
            int rc = gt_sockets_print(stderr);
            if (rc)
                fprintf(stderr, "gtcat: socket list: %s\n", gt_err_name(rc));
        }
    }
}

/* An echo server frees each packet as soon as it is echoed.  glibc then
 * gives the top of its heap back to the kernel (and serves packets above
 * 128 KiB with mmap/munmap), so the next packets fault every page in
 * again: bulk echo fell into a mode of 15 page faults and ~600 us of CPU
 * per 64 KiB frame (issue 11).  A server keeps its heap, as Go's and
 * Rust's allocators do -- up to 4 MB of free top per arena: the top of a
 * thread's arena (where the schedulers allocate) shrinks only in free()
 * and only above this threshold, never in malloc_trim(0), the runtime's
 * idle trim.  At 64 MB (an arena heap's whole size) it never shrank: after
 * 1,000 connections holding 100 KB lines closed, +6 to +51 MB stayed in
 * about half the bursts (audit16, tests/interop/mem_after_close.sh); at
 * 1 MB bulk echo faulted 2-3x more (4,200-7,300 minor faults per 2 s run
 * against 2,000-2,800). */
static void keep_heap(void)
{
#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 4 * 1024 * 1024);
#endif
}

int cmd_listen(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"packet", required_argument, NULL, 'p'}, {"active", required_argument, NULL, 'a'},
        {"echo", no_argument, NULL, 'e'},         {"hibernate", no_argument, NULL, 'H'},
        {"bind", required_argument, NULL, 'b'},   {"help", no_argument, NULL, 'h'},
        {"backend", required_argument, NULL, 'B'}, {"fd", required_argument, NULL, 'f'},
        TLS_LONGOPTS,                             {NULL, 0, NULL, 0}};
    tls_args tls = {0};
    server srv = {.packet = GT_PKT_RAW, .active = GT_ACTIVE_TRUE};
    const char *bind = NULL, *arg;
    int c, backend = 0, fd = -1;
    while ((c = next_opt(argc, argv, longopts, &arg)) != -1) {
        switch (c) {
        case 'p': srv.packet = parse_packet(arg); break;
        case 'a': srv.active = parse_active(arg); break;
        case 'e': srv.echo = true; break;
        case 'H': srv.hibernate = true; break;
        case 'b': bind = arg; break;
        case 'B': backend = parse_backend(arg); break;
        case 'f': fd = parse_fd(arg); break;
        default:
            if (tls_opt(&tls, c, arg))
                break;
            usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    /* --fd: the adopted socket has its address already */
    bool has_addr = optind < argc;
    if (argc - optind > 1 || has_addr == (fd >= 0))
        usage_error(fd >= 0 ? "--fd takes no PORT"
                    : has_addr ? "listen takes one PORT" : "listen needs a PORT");
    gtcat_local local;
    bool is_local = has_addr && parse_local(argv[optind], &local);
    int port = has_addr && !is_local ? parse_port(argv[optind]) : 0;
    if (is_local && bind)
        usage_error("local:PATH takes no --bind");
    if (srv.echo)
        keep_heap();
    /* exit_on_close false: a peer that half-closes (shutdown(write)) still
     * gets every echo; we close after its tcp_closed (docs/spec/semantics.md 49).
     * No delay_send: gt_send_many already makes one write of a batch, and
     * without it large frames go to the kernel without a copy.  On port 0
     * (a port of our own) LISTENERS sockets share it with reuseport, each
     * with its own accept queue: a burst of connects overflows none.  A
     * port given is listened on once, so that one in use stays eaddrinuse. */
    /* A local path or an adopted descriptor is one listen socket: no
     * reuseport (a second bind of the path is eaddrinuse). */
    bool shared = port == 0 && !is_local && fd < 0;
    gt_opt opts[14]; /* room for nodelay and recbuf */
    size_t nopts = 0;
    if (backend)
        opts[nopts++] = GT_INET_BACKEND(backend); /* it has to be first */
    born_armed = !tls.on && srv.active.v.i != GT_ACTIVE_FALSE_V;
    gt_opt common[] = {GT_BINARY,          GT_PACKET(srv.packet),
                       born_armed ? arm_opt(&srv, 0) : GT_ACTIVE_FALSE,
                       GT_REUSEADDR(true), GT_BACKLOG(LISTEN_BACKLOG), GT_EXIT_ON_CLOSE(false),
                       GT_REUSEPORT(shared)};
    memcpy(opts + nopts, common, sizeof common);
    nopts += sizeof common / sizeof common[0];
    /* An echo server's receive window, fixed at ECHO_RECBUF: a pipelining
     * peer that gets ahead of the server (a few ms without a core is
     * enough) fills the autotuned window -- ~1 MiB here -- and its queued
     * sends are then transmitted by the server's own reads (each read's
     * window update, processed over loopback in the server's system
     * call), which held the rest of the connection at 15-60% more
     * server CPU per message.  With the fixed window the peer's writes go
     * on into the server's queue on the peer's own CPU time.  Measured
     * (issue 11, echo8: bench/modes.py, alternating rounds, medians):
     * 100-byte echo 0.089 against 0.103 and 0.086 against 0.107 us of
     * server CPU per message, bulk 59.2 against 63.7 us per 64 KiB frame
     * (docs/BENCHMARKS.md).  The buffer is a
     * limit, not memory: the kernel's autotuning may grow a window to
     * tcp_rmem's maximum (32 MiB here) anyway.  Set on the listen socket,
     * it is the kernel's to copy at accept (no call per connection). */
    if (srv.echo)
        opts[nopts++] = GT_RECBUF(ECHO_RECBUF);
    if (bind)
        opts[nopts++] = GT_IP(bind);
    if (is_local)
        opts[nopts++] = GT_LOCAL_BYTES(local.path, local.len);
    if (fd >= 0)
        opts[nopts++] = GT_FD(fd);
    static listener ls[LISTENERS];
    gt_tls_ctx *tctx = tls.on ? tls_context(&tls, true) : NULL; /* lives until exit */
    if (tls.on) /* a handshake is several small writes each way: no Nagle
                   waits between them (Erlang's ssl users set it too) */
        opts[nopts++] = GT_NODELAY(true);
    srv.tls = tls.on;
    int rc = tls.on ? gt_tls_listen(tctx, port, (gt_optlist){opts, nopts}, &ls[0].ls)
                    : gt_listen(port, (gt_optlist){opts, nopts}, &ls[0].ls);
    if (rc == GT_EBADARG && bind)
        usage_error("bad --bind address '%s'", bind);
    if (rc)
        die("listen", rc);
    struct sockaddr_storage name;
    char where[160];
    gt_sockname(ls[0].ls, &name, NULL);
    gt_port(ls[0].ls, &port);
    int n = 1;
    while (shared && n < LISTENERS &&
           (tls.on ? gt_tls_listen(tctx, port, (gt_optlist){opts, nopts}, &ls[n].ls)
                   : gt_listen(port, (gt_optlist){opts, nopts}, &ls[n].ls)) == 0)
        n++;
    for (int i = 0; i < n; i++)
        ls[i].srv = &srv;
    the_srv = &srv;
    if (name.ss_family == AF_UNIX)
        printf("listening on %s\n", gt_addr_str(&name, where, sizeof where));
    else
        printf("listening on %d\n", port);
    fflush(stdout);
    return serve(ls, n, &srv);
}
