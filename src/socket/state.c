/*
 * state.c -- the two sides' transition functions and their tables of
 * what calls do in each state (state.h).
 */
#include "socket/state.h"

/* What each call does on the write side, by state.  A send or shutdown
 * first answers from the connection's state (closed by us: closed; a
 * listen socket or one inet closed after the end of input: enotconn;
 * sock.h gt__sock_conn_err); these rows apply to a connection still open.
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
