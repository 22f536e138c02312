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

/* ---- the answers: Erlang's error sequences as rows (state.c) ---------- */

#include <errno.h>
#include <string.h>

#include "gentcp.h"

#define R(x) GT__R_##x
#define F(x) GT__F_##x
#define C(x) GT__CALL_##x

/* The answer of call on facts (0 when no row), and the facts after the
 * row's report bits: a model of answer.c without a socket. */
static int ask(unsigned call, uint32_t *facts)
{
    const gt__ans_row *r = gt__ans_find(call, *facts | F(ANY));
    if (!r)
        return 0;
    *facts = (*facts & ~(uint32_t)r->clear) | r->set;
    return r->answer;
}

static unsigned fx_of(unsigned call, uint32_t facts)
{
    const gt__ans_row *r = gt__ans_find(call, facts | F(ANY));
    return r ? r->fx : 0;
}

GT_TEST(ans_rows_cite_a_rule_and_answer_an_atom)
{
    ASSERT(gt__ans_nrows > 0);
    for (unsigned i = 0; i < gt__ans_nrows; i++) {
        const gt__ans_row *r = &gt__ans_rows[i];
        ASSERT(r->calls != 0 && r->calls < (1u << GT__CALL_N_));
        ASSERT(r->rule && r->rule[0] >= '1' && r->rule[0] <= '9'); /* "NN: ..." */
        ASSERT_EQ(r->need & r->none, 0u); /* no row that can never match */
        ASSERT_EQ((r->clear | r->set) & ~0xffu, 0u);
        int a = r->answer;
        bool atom = a == 0 || a == GT_ECLOSED || a == -ENOTCONN || a == -EINVAL ||
                    a == -ECONNRESET || a == GT_ETLS;
        ASSERT(atom || (a == GT__ANS_FAILURE && r->calls == C(SEND_FAILED)));
    }
}

/* The short cut of answer.h is sound: a call whose rows need a quick fact
 * finds none when none of its trigger's facts holds. */
GT_TEST(ans_trigger_covers_every_row)
{
    for (unsigned c = 0; c < GT__CALL_N_; c++) {
        uint32_t trig = gt__ans_trigger(1u << c);
        ASSERT(trig != 0);
        ASSERT_EQ(trig & ~(uint32_t)F(QUICK_), 0u); /* plain loads only */
        if (trig == F(ANY))
            continue;
        for (unsigned i = 0; i < gt__ans_nrows; i++)
            if (gt__ans_rows[i].calls & (1u << c))
                ASSERT(gt__ans_rows[i].need & trig);
    }
}

/* rules 20, 29, 32, 44: the state's plain answers. */
GT_TEST(ans_plain_answers)
{
    uint32_t f;
    f = F(CLOSED) | F(LISTEN);
    ASSERT_EQ(ask(C(RECV), &f), GT_ECLOSED);
    f = F(CLOSED);
    ASSERT_EQ(ask(C(SEND), &f), GT_ECLOSED);
    f = F(CLOSED);
    ASSERT_EQ(ask(C(OPTION), &f), GT_ECLOSED);
    f = F(CLOSED);
    ASSERT_EQ(ask(C(SEND_RESUMED), &f), -EINVAL);
    f = F(LISTEN);
    ASSERT_EQ(ask(C(RECV), &f), -ENOTCONN);
    f = F(LISTEN);
    ASSERT_EQ(ask(C(SEND_BLOCK), &f), -ENOTCONN);
    f = F(ACTIVE);
    ASSERT_EQ(ask(C(RECV), &f), -EINVAL);
    f = 0;
    ASSERT_EQ(ask(C(RECV), &f), 0);
    ASSERT_EQ(ask(C(SEND), &f), 0);
    ASSERT_EQ(ask(C(OPTION), &f), 0);
    ASSERT_EQ(f, 0u);
}

/* rules 28, 53: inet, passive, exit_on_close: closed, inet closes the fd;
 * a send closed once, then enotconn; a recv enotconn. */
GT_TEST(ans_inet_passive_end_then_closed_once_then_enotconn)
{
    uint32_t f = F(EXIT);
    ASSERT_EQ(fx_of(C(RECV_END), f), GT__FX_DRV_CLOSE);
    ASSERT_EQ(ask(C(RECV_END), &f), GT_ECLOSED);
    ASSERT(f & R(SEND_CLOSED));
    ASSERT(f & R(END_TOLD));
    f |= F(DRV_CLOSED); /* the effect */
    ASSERT_EQ(ask(C(SEND), &f), GT_ECLOSED);
    ASSERT_EQ(ask(C(SEND), &f), -ENOTCONN);
    ASSERT_EQ(ask(C(SEND), &f), -ENOTCONN);
    ASSERT_EQ(ask(C(RECV), &f), -ENOTCONN);
    /* rule 56: the end met a busy send: it had the closed */
    f = F(EXIT) | R(END_MET_BUSY);
    ASSERT_EQ(ask(C(RECV_END), &f), GT_ECLOSED);
    f |= F(DRV_CLOSED);
    ASSERT_EQ(ask(C(SEND), &f), -ENOTCONN);
    /* rule 48: exit_on_close=false: the fd stays; the delayed close */
    f = 0;
    ASSERT_EQ(ask(C(RECV_END), &f), GT_ECLOSED);
    ASSERT_EQ(fx_of(C(RECV_END), 0), 0u);
    ASSERT(f & R(CLOSE_SEND));
}

/* rules 47, 54: a reset shown is econnreset once, then the end of a
 * closed stream (the read side moves to FIN). */
GT_TEST(ans_inet_reset_shown_once)
{
    uint32_t f = F(SHOW) | F(RD_RESET);
    ASSERT_EQ(fx_of(C(RECV_END), f), GT__FX_RD_TOLD_FIN);
    ASSERT_EQ(ask(C(RECV_END), &f), -ECONNRESET);
    f = F(RD_RESET); /* not shown: closed */
    ASSERT_EQ(ask(C(RECV_END), &f), GT_ECLOSED);
    f = F(SHOW) | F(RD_RESET) | F(EXIT);
    ASSERT_EQ(ask(C(ACTIVE_END), &f), -ECONNRESET);
    ASSERT_EQ(fx_of(C(ACTIVE_END), F(SHOW) | F(RD_RESET) | F(EXIT)), 0u);
}

/* rule 96 [socket]: closed for ever, econnreset for any end when shown;
 * rule 21: read-side options einval once the end was reported. */
GT_TEST(ans_socket_backend_closed_forever)
{
    uint32_t f = F(FOREVER) | F(EXIT);
    ASSERT_EQ(fx_of(C(RECV_END), f), GT__FX_RD_TOLD_FIN); /* the fd stays */
    ASSERT_EQ(ask(C(RECV_END), &f), GT_ECLOSED);
    for (int i = 0; i < 3; i++)
        ASSERT_EQ(ask(C(RECV), &f), GT_ECLOSED);
    ASSERT_EQ(ask(C(SEND), &f), 0); /* rule 46: sends go on */
    uint32_t g = f | F(IN_AVAIL);
    ASSERT_EQ(ask(C(RECV), &g), 0); /* what is buffered comes first */
    g = f | F(ENDED_EINVAL);
    ASSERT_EQ(ask(C(READ_OPT), &g), -EINVAL);
    g = F(FOREVER) | F(SHOW); /* a FIN shown as econnreset */
    ASSERT_EQ(ask(C(RECV_END), &g), -ECONNRESET);
    g = F(FOREVER) | F(RD_RESET);
    ASSERT_EQ(fx_of(C(RECV_END), g), GT__FX_RD_TOLD_RESET);
    g = F(GONE);
    ASSERT_EQ(ask(C(SEND_BLOCK), &g), GT_ECLOSED);
    ASSERT_EQ(ask(C(OPT_GONE), &g), -EINVAL);
}

/* rules 55, 56, 57: a failed send's delayed reports. */
GT_TEST(ans_failed_send_reports)
{
    /* passive, the send waited: it answered; the next recv gets the
     * reason once (the next send enotconn), then enotconn */
    uint32_t f = F(CALLER) | F(FAIL_RESET);
    ASSERT_EQ(ask(C(SEND_FAILED), &f), -ENOTCONN);
    f = (f & 0xff) | F(BROKEN);
    ASSERT_EQ(fx_of(C(RECV_END), f), GT__FX_TOLD_ENOTCONN);
    ASSERT_EQ(ask(C(RECV_END), &f), -ECONNRESET);
    ASSERT_EQ(ask(C(RECV_END), &f), -ENOTCONN);
    /* in the background: the next send gets the reason too (rule 56) */
    f = 0;
    ASSERT_EQ(ask(C(SEND_FAILED), &f), GT__ANS_FAILURE);
    ASSERT_EQ(f & (R(CLOSE_RECV) | R(ECONNRESET)), (uint32_t)R(CLOSE_RECV));
    /* active: nothing for a recv; a recv after it is the port's enotconn */
    f = F(ACTIVE) | F(FAIL_RESET);
    ASSERT_EQ(ask(C(SEND_FAILED), &f), -ENOTCONN);
    ASSERT(!(f & R(CLOSE_RECV)));
    f = (f & 0xff) | F(BROKEN);
    ASSERT_EQ(ask(C(ACTIVE_END), &f), -ECONNRESET); /* tcp_error once */
    ASSERT_EQ(ask(C(ACTIVE_END), &f), GT_ECLOSED);
    f |= F(ACTIVE);
    ASSERT_EQ(ask(C(RECV), &f), -ENOTCONN); /* no einval: rule 55 */
    /* a delayed close pending: the next send reports once more */
    f = F(ACTIVE) | R(CLOSE_SEND);
    ASSERT_EQ(ask(C(SEND_FAILED), &f), GT_ECLOSED);
    ASSERT(!(f & R(CLOSE_SEND)));
}

/* Every failure and every end finds a row whatever the facts:
 * a failed send always leaves an answer for the next send, an end is
 * always reported, and the fd closes only where inet closes it. */
GT_TEST(ans_every_failure_and_end_has_a_row)
{
    static const uint32_t bits[] = {F(ACTIVE), F(CALLER), R(CLOSE_SEND), F(FAIL_RESET),
                                    R(CLOSE_RECV), R(ECONNRESET)};
    for (unsigned m = 0; m < 64; m++) {
        uint32_t f = 0;
        for (unsigned b = 0; b < 6; b++)
            if (m & (1u << b))
                f |= bits[b];
        uint32_t g = f;
        ASSERT(gt__ans_find(C(SEND_FAILED), f | F(ANY)) != NULL);
        ask(C(SEND_FAILED), &g);
        ASSERT_EQ(!!(g & R(ECONNRESET)), !!(f & F(FAIL_RESET)));
        ASSERT_EQ(!!(g & R(CLOSE_RECV)), !(f & F(ACTIVE)));
        ASSERT(!(g & R(CLOSE_SEND)));
    }
    static const uint32_t ends[] = {F(BROKEN), R(CLOSE_RECV), R(ECONNRESET), F(FOREVER), F(SHOW),
                                    F(RD_RESET), F(EXIT), R(END_MET_BUSY)};
    for (unsigned m = 0; m < 256; m++) {
        uint32_t f = 0;
        for (unsigned b = 0; b < 8; b++)
            if (m & (1u << b))
                f |= ends[b];
        for (unsigned call = C(RECV_END); call <= C(ACTIVE_END); call <<= 1) {
            const gt__ans_row *r = gt__ans_find(call, f | F(ANY));
            ASSERT(r != NULL);
            ASSERT(r->answer != 0);
            bool drv = r->fx & GT__FX_DRV_CLOSE;
            ASSERT_EQ(drv, call == C(RECV_END) && (f & F(EXIT)) && !(f & F(FOREVER)));
        }
    }
}

/* rule 21: activating a socket inet closed: tcp_closed, once; with
 * exit_on_close the socket closes. */
GT_TEST(ans_activate_after_inet_closed)
{
    uint32_t f = F(DRV_CLOSED) | F(OWNER);
    ASSERT_EQ(fx_of(C(ACTIVATE), f), GT__FX_MSG_CLOSED);
    ASSERT_EQ(ask(C(ACTIVATE), &f), 0);
    ASSERT(f & R(CLOSED_SENT));
    ASSERT(gt__ans_find(C(ACTIVATE), f | F(ANY)) == NULL); /* once */
    ASSERT_EQ(fx_of(C(ACTIVATE), F(DRV_CLOSED) | F(OWNER) | F(EXIT)),
              GT__FX_MSG_CLOSED | GT__FX_CLOSE);
    ASSERT(gt__ans_find(C(ACTIVATE), F(DRV_CLOSED) | F(ANY)) == NULL); /* no owner */
}

/* gt__ans_find looks a call up in its own rows (state.c by_call, made from
 * the table at load; issue 11, acc6): for every call and every set of the
 * facts its rows test (sampled where there are too many), the row it
 * finds is the first row of the whole table that names the call and
 * matches, as a scan of every row finds it. */
static const gt__ans_row *scan_all(unsigned call, uint32_t facts)
{
    for (unsigned i = 0; i < gt__ans_nrows; i++) {
        const gt__ans_row *r = &gt__ans_rows[i];
        if ((r->calls & call) && (facts & r->need) == r->need && !(facts & r->none))
            return r;
    }
    return NULL;
}

GT_TEST(i11_acc6_ans_find_by_call_is_the_first_matching_row)
{
    uint32_t x = 12345; /* xorshift32 */
    for (unsigned c = 0; c < GT__CALL_N_; c++) {
        unsigned call = 1u << c;
        uint32_t used = 0, bit[32];
        unsigned nbits = 0;
        for (unsigned i = 0; i < gt__ans_nrows; i++)
            if (gt__ans_rows[i].calls & call)
                used |= gt__ans_rows[i].need | gt__ans_rows[i].none;
        for (unsigned b = 0; b < 32; b++)
            if (used & (1u << b))
                bit[nbits++] = 1u << b;
        unsigned n = nbits <= 14 ? 1u << nbits : 16384; /* all subsets, or a sample */
        for (unsigned k = 0; k < n; k++) {
            uint32_t pick = k;
            if (nbits > 14)
                x ^= x << 13, x ^= x >> 17, x ^= x << 5, pick = x;
            uint32_t facts = F(ANY);
            for (unsigned b = 0; b < nbits; b++)
                if (pick & (1u << b))
                    facts |= bit[b];
            ASSERT(gt__ans_find(call, facts) == scan_all(call, facts));
        }
    }
    /* several calls at once: a row of any of them */
    uint32_t f = F(CLOSED);
    ASSERT(gt__ans_find(C(RECV) | C(SEND), f) == scan_all(C(RECV) | C(SEND), f));
    ASSERT(gt__ans_find(C(OPT_GONE) | C(SEND_BLOCK), F(GONE)) ==
           scan_all(C(OPT_GONE) | C(SEND_BLOCK), F(GONE)));
}

/* gt__ans_find remembers each call's last answer (state.c ans_memo; issue
 * 11, acc11): lookups of one call that alternate between facts with
 * different answers (and none), or that differ only in facts the call's
 * rows do not test, each get their own row, never the one remembered from
 * the lookup before. */
GT_TEST(i11_acc11_ans_find_memo_follows_the_facts)
{
    for (unsigned c = 0; c < GT__CALL_N_; c++) {
        unsigned call = 1u << c;
        /* facts that give different answers for this call: each row's
         * need (its own answer, or an earlier row's), and nothing */
        uint32_t cases[64];
        unsigned n = 0;
        cases[n++] = F(ANY);
        for (unsigned i = 0; i < gt__ans_nrows && n < 64; i++)
            if (gt__ans_rows[i].calls & call)
                cases[n++] = gt__ans_rows[i].need | F(ANY);
        for (unsigned round = 0; round < 3; round++)
            for (unsigned a = 0; a < n; a++)
                for (unsigned b = 0; b < n; b++) {
                    ASSERT(gt__ans_find(call, cases[a]) == scan_all(call, cases[a]));
                    ASSERT(gt__ans_find(call, cases[b]) == scan_all(call, cases[b]));
                    ASSERT(gt__ans_find(call, cases[a]) == scan_all(call, cases[a]));
                }
    }
    /* ACTIVE_END, as each accepted connection's end asks it: the same
     * answer with other facts that its rows do not test, and a different
     * one once a fact they test changes */
    uint32_t end = F(ANY) | F(OWNER) | F(ACTIVE);
    const gt__ans_row *r = scan_all(C(ACTIVE_END), end);
    ASSERT(gt__ans_find(C(ACTIVE_END), end) == r);
    ASSERT(gt__ans_find(C(ACTIVE_END), end | F(CALLER)) == scan_all(C(ACTIVE_END), end | F(CALLER)));
    ASSERT(gt__ans_find(C(ACTIVE_END), end | F(RD_RESET)) ==
           scan_all(C(ACTIVE_END), end | F(RD_RESET)));
    ASSERT(gt__ans_find(C(ACTIVE_END), end | F(RD_RESET) | F(SHOW)) ==
           scan_all(C(ACTIVE_END), end | F(RD_RESET) | F(SHOW)));
    ASSERT(gt__ans_find(C(ACTIVE_END), end) == r);
}
