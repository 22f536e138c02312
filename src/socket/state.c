/*
 * state.c -- the two sides' transition functions and their tables of
 * what calls do in each state (state.h).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "gentcp.h"
#include "socket/state.h"

/* What each call does on the write side, by state.  A send first answers
 * from the connection's state (the answer rows at the end: closed by us:
 * closed; a listen socket: enotconn; inet closed the fd after the end of
 * input: closed once, then enotconn), a shutdown likewise (sock.h
 * gt__sock_conn_err); these rows apply to a connection still open.
 *
 * send: after a failed write inet has closed the port; the next send
 * reports what the failure left for it (closed when a delayed close was
 * pending, D TCP_ADDF_DELAYED_CLOSE_SEND), then enotconn (rules 55, 56).
 * A send while shutdown(write) waits for the queue fails as inet's
 * tcp_shutdown_error: closed, the queue dropped (rule 50).  After our own
 * shutdown the write itself fails (rule 51).
 *
 * shutdown(write): inet's failed write closed the port: enotconn (rule
 * 51); a second one after the first is done changes nothing.
 *
 * The socket backend's send (send_block.c) keeps no write state: its
 * failures are the call's answer and nothing later (rules 35, 51), so it
 * never leaves OPEN / SHUT; its shutdown is never deferred (rule 50,
 * backend.h deferred_shutdown). */
const gt__wr_row gt__wr_rows[WR_N_] = {
    [WR_CONNECTING] = {"connecting", WA_GO, WA_GO, false, false, false, true},
    [WR_CONNECTING_SHUT_PENDING] = {"connecting_shut_pending", WA_FAIL, WA_GO, false, false, true,
                                    true},
    [WR_OPEN] = {"open", WA_GO, WA_GO, false, false, false, false},
    [WR_SHUT_PENDING] = {"shut_pending", WA_FAIL, WA_GO, false, false, true, false},
    [WR_SHUT] = {"shut", WA_GO, WA_DONE, false, true, false, false},
    [WR_BROKEN] = {"broken", WA_TOLD, WA_ENOTCONN, true, false, false, true},
    [WR_BROKEN_SHUT_PENDING] = {"broken_shut_pending", WA_TOLD, WA_ENOTCONN, true, false, true,
                                true},
    [WR_BROKEN_SHUT] = {"broken_shut", WA_TOLD, WA_ENOTCONN, true, true, false, true},
};

/* The diagram of state.h; WR_N_ = no arrow (the state stays). */
static const uint8_t next[WR_N_][4] = {
    /*                      connected  shut_deferred    shut_done       failed */
    [WR_CONNECTING] = {WR_OPEN, WR_CONNECTING_SHUT_PENDING, WR_N_, WR_BROKEN},
    [WR_CONNECTING_SHUT_PENDING] = {WR_SHUT_PENDING, WR_N_, WR_SHUT, WR_BROKEN_SHUT_PENDING},
    [WR_OPEN] = {WR_N_, WR_SHUT_PENDING, WR_SHUT, WR_BROKEN},
    [WR_SHUT_PENDING] = {WR_N_, WR_N_, WR_SHUT, WR_BROKEN_SHUT_PENDING},
    [WR_SHUT] = {WR_N_, WR_N_, WR_N_, WR_BROKEN_SHUT},
    [WR_BROKEN] = {WR_N_, WR_N_, WR_N_, WR_N_},
    [WR_BROKEN_SHUT_PENDING] = {WR_N_, WR_N_, WR_BROKEN_SHUT, WR_N_},
    [WR_BROKEN_SHUT] = {WR_N_, WR_N_, WR_N_, WR_N_},
};

void gt__wr_to(gt__wr *w, gt__wr_event ev)
{
    uint8_t to = next[w->st][ev];
    if (to != WR_N_)
        w->st = to;
}

/* The read side.  `reads` is the complement of `ended`: OPEN reads,
 * the others are over.  Only an error not yet reported tells a send that
 * the peer is gone (inet's flush before the next command, rule 56); a
 * reset reported on the socket backend is gen_tcp_socket's closed socket
 * (rules 53, 54). */
const gt__rd_row gt__rd_rows[RD_N_] = {
    [RD_OPEN] = {"open", false, true, false, false},
    [RD_FIN] = {"fin", true, false, false, false},
    [RD_ERROR] = {"error", true, false, true, false},
    [RD_RESET] = {"reset", true, false, false, true},
};

/* The diagram of state.h; RD_N_ = no arrow. */
static const uint8_t rd_next[RD_N_][4] = {
    /*              fin     error     told_fin  told_reset */
    [RD_OPEN] = {RD_FIN, RD_ERROR, RD_FIN, RD_N_},
    [RD_FIN] = {RD_N_, RD_N_, RD_N_, RD_N_},
    [RD_ERROR] = {RD_N_, RD_N_, RD_FIN, RD_RESET},
    [RD_RESET] = {RD_N_, RD_N_, RD_N_, RD_N_},
};

void gt__rd_to(gt__rd *r, gt__rd_event ev, int err)
{
    uint8_t to = rd_next[r->st][ev];
    if (to == RD_N_)
        return;
    r->st = to;
    r->err = to == RD_ERROR ? err : 0;
}

/* ---- the answers ----------------------------------------------------- */

#define R(x) GT__R_##x
#define F(x) GT__F_##x
#define C(x) GT__CALL_##x
#define FX(x) GT__FX_##x
#define ENDS (C(RECV_END) | C(ACTIVE_END))
#define SENDS (C(SEND) | C(SEND_RESUMED))

/* Erlang's error sequences, one row each (state.h gt__ans_row): the first
 * row of a call whose facts hold answers.  inet's sequences are one
 * delayed closed / econnreset, then enotconn (rule 96); the socket
 * backend's (F(FOREVER)) closed for ever.  The rows of a call that go on
 * (answer 0) do so only for their effects. */
const gt__ans_row gt__ans_rows[] = {
    /* ---- gt_recv's start ---- */
    {C(RECV) | C(SEND) | C(SEND_BLOCK) | C(OPTION), F(CLOSED), 0, GT_ECLOSED, 0, 0, 0,
     "29, 44: closed by us: every call closed"},
    {C(SEND_RESUMED), F(CLOSED), 0, -EINVAL, 0, 0, 0,
     "32: a port closed while the send was suspended on busy: einval"},
    {C(SEND_BLOCK), F(GONE), 0, GT_ECLOSED, 0, 0, 0,
     "53, 54 [socket]: gen_tcp_socket closed the socket at a reset: send closed"},
    {C(RECV) | SENDS | C(SEND_BLOCK), F(LISTEN), 0, -ENOTCONN, 0, 0, 0,
     "29: a listen socket carries no data: enotconn"},
    {C(RECV), F(DRV_CLOSED), 0, -ENOTCONN, 0, 0, 0,
     "28: inet closed the fd after the end was reported: enotconn"},
    {SENDS, F(DRV_CLOSED) | R(SEND_CLOSED), 0, GT_ECLOSED, R(SEND_CLOSED), 0, 0,
     "28, 53: inet closed the fd at the end of input: the first send closed ..."},
    {SENDS, F(DRV_CLOSED), 0, -ENOTCONN, 0, 0, 0, "28, 53: ... then enotconn"},
    {C(RECV), F(BROKEN) | F(ACTIVE) | R(CLOSE_RECV) | R(ECONNRESET), 0, -ECONNRESET,
     R(CLOSE_RECV) | R(ECONNRESET), 0, FX(TOLD_ENOTCONN),
     "55, 57: inet closed the port at a failed send: its delayed econnreset, once ..."},
    {C(RECV), F(BROKEN) | F(ACTIVE) | R(CLOSE_RECV), 0, GT_ECLOSED, R(CLOSE_RECV), 0,
     FX(TOLD_ENOTCONN), "55: ... or its delayed closed, once (the send's as well) ..."},
    {C(RECV), F(BROKEN) | F(ACTIVE), 0, -ENOTCONN, 0, 0, 0,
     "55: ... then enotconn, active or not (no einval: the port is gone)"},
    {C(RECV), F(FOREVER) | R(END_TOLD), F(IN_AVAIL), GT_ECLOSED, 0, 0, 0,
     "96 [socket]: once the end was reported, closed on every recv, active or not"},
    {C(RECV), F(ACTIVE), 0, -EINVAL, 0, 0, 0, "20: recv on an active socket: einval"},

    /* ---- a passive recv meets the end of input: after a failed send
     * (inet closed the port then; the read side kept what the kernel
     * held, docs/DEVIATIONS.md 3) the failure's delayed report; with
     * exit_on_close inet closes the fd, and nothing is left for a send */
    {C(RECV_END), F(BROKEN) | R(CLOSE_RECV) | R(ECONNRESET) | F(EXIT), F(FOREVER), -ECONNRESET,
     R(CLOSE_RECV) | R(ECONNRESET) | R(SEND_CLOSED), 0, FX(TOLD_ENOTCONN) | FX(DRV_CLOSE),
     "55, 28: the failed send's econnreset, once; inet closes the fd"},
    {C(RECV_END), F(BROKEN) | R(CLOSE_RECV) | R(ECONNRESET), 0, -ECONNRESET,
     R(CLOSE_RECV) | R(ECONNRESET), 0, FX(TOLD_ENOTCONN),
     "55, 47: the failed send's econnreset, once"},
    {C(RECV_END), F(BROKEN) | R(CLOSE_RECV) | F(EXIT), F(FOREVER), GT_ECLOSED,
     R(CLOSE_RECV) | R(SEND_CLOSED), 0, FX(TOLD_ENOTCONN) | FX(DRV_CLOSE),
     "55, 28: the failed send's closed, once; inet closes the fd"},
    {C(RECV_END), F(BROKEN) | R(CLOSE_RECV), 0, GT_ECLOSED, R(CLOSE_RECV), 0, FX(TOLD_ENOTCONN),
     "55, 47: the failed send's closed, once"},
    {C(RECV_END), F(BROKEN) | F(EXIT), F(FOREVER), -ENOTCONN, R(SEND_CLOSED), 0, FX(DRV_CLOSE),
     "55, 28: reported already (or active then): enotconn; inet closes the fd"},
    {C(RECV_END), F(BROKEN), 0, -ENOTCONN, 0, 0, 0, "55: reported already: enotconn"},

    /* ---- active delivery meets the end after a failed send: what inet
     * still owes is a reset shown, once (its tcp_error; rule 57) ---- */
    {C(ACTIVE_END), F(BROKEN) | R(ECONNRESET), 0, -ECONNRESET, R(ECONNRESET), 0, 0,
     "57: the failed send's econnreset, once, as tcp_error"},
    {C(ACTIVE_END), F(BROKEN), 0, GT_ECLOSED, 0, 0, 0, "57: then only tcp_closed"},

    /* ---- the end of input reported, passive or active: the socket
     * backend (gen_tcp_socket) reports any end, a FIN included, as
     * econnreset with show_econnreset, and keeps the fd; a reset is
     * reported once and closes the socket (rules 53, 54, 96) ---- */
    {ENDS, F(FOREVER) | F(SHOW) | F(RD_RESET), 0, -ECONNRESET, 0, R(END_TOLD), FX(RD_TOLD_RESET),
     "54, 96 [socket]: a reset shown, once; gen_tcp_socket closes the socket"},
    {ENDS, F(FOREVER) | F(SHOW), 0, -ECONNRESET, 0, R(END_TOLD), FX(RD_TOLD_FIN),
     "96 [socket]: any end is econnreset with show_econnreset, then closed"},
    {ENDS, F(FOREVER) | F(RD_RESET), 0, GT_ECLOSED, 0, R(END_TOLD), FX(RD_TOLD_RESET),
     "53, 96 [socket]: a reset not shown: closed; gen_tcp_socket closes the socket"},
    {ENDS, F(FOREVER), 0, GT_ECLOSED, 0, R(END_TOLD), FX(RD_TOLD_FIN),
     "48, 96 [socket]: closed, for ever"},
    /* inet: tcp_recv_error with a reset shown: econnreset, once; the
     * socket stays with exit_on_close=false and later reads find a FIN
     * (rules 47, 54); with it, a passive recv's inet closes the fd (the
     * active one closes the socket, recv.c) */
    {C(RECV_END), F(SHOW) | F(RD_RESET) | F(EXIT), 0, -ECONNRESET, R(SEND_CLOSED), R(END_TOLD),
     FX(DRV_CLOSE), "54, 28: econnreset; inet closes the fd; sends enotconn"},
    {C(ACTIVE_END), F(SHOW) | F(RD_RESET) | F(EXIT), 0, -ECONNRESET, 0, R(END_TOLD), 0,
     "54, 46: econnreset as tcp_error; the socket closes"},
    {ENDS, F(SHOW) | F(RD_RESET), 0, -ECONNRESET, 0, R(END_TOLD), FX(RD_TOLD_FIN),
     "54, 47: econnreset once, then the end of a closed stream"},
    /* a TLS alert read: the transport's error, as a reset shown */
    {C(RECV_END), F(RD_TLS) | F(EXIT), 0, GT_ETLS, R(SEND_CLOSED), R(END_TOLD), FX(DRV_CLOSE),
     "54, 28 (ssl_error): the alert; inet closes the fd"},
    {C(ACTIVE_END), F(RD_TLS) | F(EXIT), 0, GT_ETLS, 0, R(END_TOLD), 0,
     "54, 46 (ssl_error): the alert; the socket closes"},
    {ENDS, F(RD_TLS), 0, GT_ETLS, 0, R(END_TOLD), FX(RD_TOLD_FIN),
     "54, 47 (ssl_error): the alert once, then the end of a closed stream"},
    /* tcp_recv_closed: closed, and the next failing send leaves its
     * reason for the send after it (TCP_ADDF_DELAYED_CLOSE_SEND) -- unless
     * the end met a busy send, which got the closed (rule 56) */
    {C(RECV_END), R(END_MET_BUSY) | F(EXIT), 0, GT_ECLOSED, R(CLOSE_SEND) | R(SEND_CLOSED),
     R(END_TOLD), FX(DRV_CLOSE), "56, 28: closed; the busy send had the closed"},
    {ENDS, R(END_MET_BUSY), 0, GT_ECLOSED, R(CLOSE_SEND), R(END_TOLD), 0,
     "56, 46, 48: closed; the busy send had the closed"},
    {C(RECV_END), F(EXIT), 0, GT_ECLOSED, 0, R(END_TOLD) | R(CLOSE_SEND) | R(SEND_CLOSED),
     FX(DRV_CLOSE), "28, 53: closed; inet closes the fd: a send closed once, then enotconn"},
    {ENDS, 0, 0, GT_ECLOSED, 0, R(END_TOLD) | R(CLOSE_SEND), 0,
     "46, 47, 48: closed; the next failing send leaves its reason for the next"},

    /* ---- a write failed (inet's tcp_send_or_shutdown_error): an active
     * socket tells its owner now and remembers nothing for a recv; a
     * passive one leaves the reason for the next recv (and activation)
     * and, when no send waited for it (a background failure), for the
     * next send too.  A delayed close pending (an end of input reported
     * as closed) makes the next send report it once more: closed if the
     * socket was active.  A reset is remembered for a reset shown. ---- */
    {C(SEND_FAILED), F(ACTIVE) | R(CLOSE_SEND) | F(FAIL_RESET), 0, GT_ECLOSED,
     R(CLOSE_SEND) | R(CLOSE_RECV), R(ECONNRESET), 0,
     "57, 56: active, a delayed close pending: the next send closed"},
    {C(SEND_FAILED), F(ACTIVE) | R(CLOSE_SEND), F(FAIL_RESET), GT_ECLOSED,
     R(CLOSE_SEND) | R(CLOSE_RECV) | R(ECONNRESET), 0, 0,
     "57, 56: active, a delayed close pending: the next send closed"},
    {C(SEND_FAILED), F(ACTIVE) | F(FAIL_RESET), 0, -ENOTCONN, R(CLOSE_RECV), R(ECONNRESET), 0,
     "57, 55: active: the next send enotconn"},
    {C(SEND_FAILED), F(ACTIVE), F(FAIL_RESET), -ENOTCONN, R(CLOSE_RECV) | R(ECONNRESET), 0, 0,
     "57, 55: active: the next send enotconn"},
    {C(SEND_FAILED), F(FAIL_RESET), F(ACTIVE) | F(CALLER), GT__ANS_FAILURE, R(CLOSE_SEND),
     R(CLOSE_RECV) | R(ECONNRESET), 0, "56: passive, in the background: the next send and recv"},
    {C(SEND_FAILED), 0, F(ACTIVE) | F(CALLER) | F(FAIL_RESET), GT__ANS_FAILURE,
     R(CLOSE_SEND) | R(ECONNRESET), R(CLOSE_RECV), 0,
     "56: passive, in the background: the next send and recv"},
    {C(SEND_FAILED), F(CALLER) | R(CLOSE_SEND) | F(FAIL_RESET), F(ACTIVE), GT__ANS_FAILURE,
     R(CLOSE_SEND), R(CLOSE_RECV) | R(ECONNRESET), 0,
     "55, 56: passive, a delayed close pending: the next send once more, and the recv"},
    {C(SEND_FAILED), F(CALLER) | R(CLOSE_SEND), F(ACTIVE) | F(FAIL_RESET), GT__ANS_FAILURE,
     R(CLOSE_SEND) | R(ECONNRESET), R(CLOSE_RECV), 0,
     "55, 56: passive, a delayed close pending: the next send once more, and the recv"},
    {C(SEND_FAILED), F(CALLER) | F(FAIL_RESET), F(ACTIVE), -ENOTCONN, 0,
     R(CLOSE_RECV) | R(ECONNRESET), 0, "55: passive: the next recv; the next send enotconn"},
    {C(SEND_FAILED), F(CALLER), F(ACTIVE) | F(FAIL_RESET), -ENOTCONN, R(ECONNRESET),
     R(CLOSE_RECV), 0, "55: passive: the next recv; the next send enotconn"},

    /* ---- options ---- */
    {C(READ_OPT), R(END_TOLD) | F(ENDED_EINVAL), 0, -EINVAL, 0, 0, 0,
     "21, 47 [socket]: read-side options after the end was reported: einval"},
    {C(OPT_GONE), F(GONE), 0, -EINVAL, 0, 0, 0,
     "53, 54 [socket]: gen_tcp_socket closed the socket at a reset: einval"},
    {C(ACTIVATE), F(DRV_CLOSED) | F(OWNER) | F(EXIT), R(CLOSED_SENT), 0, 0, R(CLOSED_SENT),
     FX(MSG_CLOSED) | FX(CLOSE), "21: activating a socket inet closed: tcp_closed, once"},
    {C(ACTIVATE), F(DRV_CLOSED) | F(OWNER), R(CLOSED_SENT), 0, 0, R(CLOSED_SENT), FX(MSG_CLOSED),
     "21, 47: ... and with exit_on_close=false the socket stays"},
};
#define ANS_NROWS (sizeof gt__ans_rows / sizeof gt__ans_rows[0])
const unsigned gt__ans_nrows = ANS_NROWS;

_Static_assert(ANS_NROWS < UINT8_MAX, "a row's index fits by_call's bytes");

/* The rows that name each call (by its bit's number), in the table's
 * order, each list ended by UINT8_MAX: made from the table once, at load,
 * so that the table stays the one place that says what a call answers.  A
 * scan of every row cost ~300 instructions a lookup, one lookup per
 * accepted connection (its end of input, ACTIVE_END; issue 11, acc6). */
static uint8_t by_call[GT__CALL_N_][ANS_NROWS + 1];
/* The facts each call's rows test (their need and none): the only ones
 * its answer depends on. */
static uint32_t by_call_tests[GT__CALL_N_];

/* The last answer of each call: (1 << 40) | (the facts it tests << 8) |
 * the row's index (UINT8_MAX: none), 0 before the first.  Even the call's
 * own rows took ~160 instructions to walk for an accepted connection's
 * end of input (ACTIVE_END: its row is among the last), and a server asks
 * that with the same facts for every connection (issue 11, acc11).  The
 * answer is a function of the call and those facts alone, so a stale or
 * another thread's entry is still a right one for its key: relaxed
 * atomics suffice, and a lookup that misses only writes the entry anew. */
static _Atomic uint64_t ans_memo[GT__CALL_N_];
#define ANS_MEMO_VALID ((uint64_t)1 << 40)

__attribute__((constructor)) static void by_call_make(void)
{
    for (unsigned c = 0; c < GT__CALL_N_; c++) {
        unsigned n = 0;
        for (unsigned i = 0; i < ANS_NROWS; i++)
            if (gt__ans_rows[i].calls & (1u << c)) {
                by_call[c][n++] = (uint8_t)i;
                by_call_tests[c] |= gt__ans_rows[i].need | gt__ans_rows[i].none;
            }
        by_call[c][n] = UINT8_MAX;
    }
}

static bool ans_match(const gt__ans_row *r, uint32_t facts)
{
    return (facts & r->need) == r->need && !(facts & r->none);
}

const gt__ans_row *gt__ans_find(unsigned call, uint32_t facts)
{
    if (call != 0 && (call & (call - 1)) == 0 && call < (1u << GT__CALL_N_)) { /* one call */
        unsigned c = (unsigned)__builtin_ctz(call);
        uint64_t key = ANS_MEMO_VALID | (uint64_t)(facts & by_call_tests[c]) << 8;
        uint64_t m = atomic_load_explicit(&ans_memo[c], memory_order_relaxed);
        if ((m & ~(uint64_t)UINT8_MAX) == key)
            return (m & UINT8_MAX) == UINT8_MAX ? NULL : &gt__ans_rows[m & UINT8_MAX];
        const uint8_t *i = by_call[c];
        while (*i != UINT8_MAX && !ans_match(&gt__ans_rows[*i], facts))
            i++;
        atomic_store_explicit(&ans_memo[c], key | *i, memory_order_relaxed);
        return *i == UINT8_MAX ? NULL : &gt__ans_rows[*i];
    }
    for (unsigned i = 0; i < ANS_NROWS; i++) /* several: any of them */
        if ((gt__ans_rows[i].calls & call) && ans_match(&gt__ans_rows[i], facts))
            return &gt__ans_rows[i];
    return NULL;
}
