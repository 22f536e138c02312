/*
 * state_test.c -- the write and read sides' state machines
 * (src/socket/state.c):
 * the transition function follows state.h's diagram, the events it has no
 * arrow for leave the state alone, and the table answers as the rules it
 * cites say (rules 50, 51, 55: a broken side answers a send with what the
 * failure left, once, and shutdown(write) with enotconn; a pending
 * shutdown fails the next send; a broken side keeps how far its shutdown
 * had gone).
 */
#include "socket/state.h"
#include "../test.h"

static uint8_t after(uint8_t st, gt__wr_event ev)
{
    gt__wr w = {.st = st, .fail = -7, .told = -8};
    gt__wr_to(&w, ev);
    ASSERT_EQ(w.fail, -7); /* the transition leaves the state's data */
    ASSERT_EQ(w.told, -8);
    return w.st;
}

GT_TEST(wr_transitions_follow_the_diagram)
{
    ASSERT_EQ(after(WR_CONNECTING, WE_CONNECTED), WR_OPEN);
    /* a shutdown behind output queued while connecting waits for both */
    ASSERT_EQ(after(WR_CONNECTING, WE_SHUT_DEFERRED), WR_CONNECTING_SHUT_PENDING);
    ASSERT_EQ(after(WR_CONNECTING_SHUT_PENDING, WE_CONNECTED), WR_SHUT_PENDING);
    ASSERT_EQ(after(WR_CONNECTING_SHUT_PENDING, WE_SHUT_DONE), WR_SHUT);
    ASSERT_EQ(after(WR_CONNECTING_SHUT_PENDING, WE_FAILED), WR_BROKEN_SHUT_PENDING);
    ASSERT_EQ(after(WR_OPEN, WE_SHUT_DEFERRED), WR_SHUT_PENDING);
    ASSERT_EQ(after(WR_OPEN, WE_SHUT_DONE), WR_SHUT);
    ASSERT_EQ(after(WR_SHUT_PENDING, WE_SHUT_DONE), WR_SHUT);
    ASSERT_EQ(after(WR_SHUT_PENDING, WE_SHUT_DEFERRED), WR_SHUT_PENDING);
    ASSERT_EQ(after(WR_OPEN, WE_FAILED), WR_BROKEN);
    ASSERT_EQ(after(WR_CONNECTING, WE_FAILED), WR_BROKEN);
    ASSERT_EQ(after(WR_SHUT_PENDING, WE_FAILED), WR_BROKEN_SHUT_PENDING);
    ASSERT_EQ(after(WR_SHUT, WE_FAILED), WR_BROKEN_SHUT);
    ASSERT_EQ(after(WR_BROKEN_SHUT_PENDING, WE_SHUT_DONE), WR_BROKEN_SHUT);
    /* no arrow: the state stays */
    ASSERT_EQ(after(WR_CONNECTING, WE_SHUT_DONE), WR_CONNECTING);
    ASSERT_EQ(after(WR_OPEN, WE_CONNECTED), WR_OPEN);
    ASSERT_EQ(after(WR_SHUT, WE_SHUT_DONE), WR_SHUT);
    ASSERT_EQ(after(WR_BROKEN, WE_FAILED), WR_BROKEN);
    ASSERT_EQ(after(WR_BROKEN, WE_SHUT_DONE), WR_BROKEN);
    ASSERT_EQ(after(WR_BROKEN_SHUT, WE_FAILED), WR_BROKEN_SHUT);
}

GT_TEST(wr_table_answers_as_the_rules_say)
{
    for (int st = 0; st < WR_N_; st++) {
        const gt__wr_row *r = &gt__wr_rows[st];
        ASSERT(r->name != NULL);
        /* rules 51, 55: inet closed the port at the failure */
        ASSERT_EQ(r->broken, st >= WR_BROKEN);
        ASSERT_EQ(r->send == WA_TOLD, r->broken);
        ASSERT_EQ(r->shutdown == WA_ENOTCONN, r->broken);
        ASSERT(!r->broken || r->no_attach);
        /* rule 50: a send while the shutdown waits fails the queue */
        bool pending = st == WR_SHUT_PENDING || st == WR_CONNECTING_SHUT_PENDING;
        ASSERT_EQ(r->send == WA_FAIL, pending);
        ASSERT_EQ(r->shut_owed, pending || st == WR_BROKEN_SHUT_PENDING);
        ASSERT_EQ(r->shut_done, st == WR_SHUT || st == WR_BROKEN_SHUT);
        ASSERT_EQ(r->shutdown == WA_DONE, st == WR_SHUT);
    }
    ASSERT(gt__wr_rows[WR_CONNECTING].no_attach);
    ASSERT(!gt__wr_rows[WR_OPEN].no_attach);
}

static uint8_t rd_after(uint8_t st, gt__rd_event ev, int err)
{
    gt__rd r = {.st = st, .shut = true, .err = st == RD_ERROR ? -5 : 0};
    gt__rd_to(&r, ev, err);
    ASSERT(r.shut); /* our shutdown(read) is not the state's to change */
    ASSERT_EQ(r.err, r.st == RD_ERROR ? (st == RD_ERROR ? -5 : err) : 0);
    return r.st;
}

GT_TEST(rd_transitions_follow_the_diagram)
{
    ASSERT_EQ(rd_after(RD_OPEN, RE_FIN, 0), RD_FIN);
    ASSERT_EQ(rd_after(RD_OPEN, RE_ERROR, -104), RD_ERROR);
    ASSERT_EQ(rd_after(RD_OPEN, RE_TOLD_FIN, 0), RD_FIN);
    ASSERT_EQ(rd_after(RD_ERROR, RE_TOLD_FIN, 0), RD_FIN);
    ASSERT_EQ(rd_after(RD_ERROR, RE_TOLD_RESET, 0), RD_RESET);
    /* no arrow: the state stays (an end is read once; a reset told stays) */
    ASSERT_EQ(rd_after(RD_OPEN, RE_TOLD_RESET, 0), RD_OPEN);
    ASSERT_EQ(rd_after(RD_FIN, RE_ERROR, -104), RD_FIN);
    ASSERT_EQ(rd_after(RD_ERROR, RE_FIN, 0), RD_ERROR);
    ASSERT_EQ(rd_after(RD_RESET, RE_TOLD_FIN, 0), RD_RESET);
    ASSERT_EQ(rd_after(RD_FIN, RE_TOLD_RESET, 0), RD_FIN);
}

GT_TEST(rd_table_answers_as_the_rules_say)
{
    for (int st = 0; st < RD_N_; st++) {
        const gt__rd_row *r = &gt__rd_rows[st];
        ASSERT(r->name != NULL);
        ASSERT_EQ(r->reads, st == RD_OPEN);
        ASSERT_EQ(r->ended, st != RD_OPEN);
        ASSERT_EQ(r->peer_gone, st == RD_ERROR); /* rule 56 */
        ASSERT_EQ(r->gone, st == RD_RESET);      /* rules 53, 54 */
        gt__rd rd = {.st = (uint8_t)st};
        ASSERT_EQ(gt__rd_ended(&rd), st != RD_OPEN);
        rd.shut = true; /* rule 52 */
        ASSERT(gt__rd_ended(&rd));
    }
    gt__rd e = {.st = RD_ERROR, .err = -104};
    ASSERT_EQ(gt__rd_err(&e), -104);
    gt__rd f = {.st = RD_FIN, .err = -104};
    ASSERT_EQ(gt__rd_err(&f), 0);
}
