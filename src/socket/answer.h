/*
 * answer.h -- what a call answers from the connection's state: the rows
 * of Erlang's error sequences (state.c gt__ans_rows) applied to a socket
 * (answer.c).
 */
#ifndef GT_SOCK_ANSWER_H
#define GT_SOCK_ANSWER_H

#include "socket/sock.h"

/* The facts that are plain loads from s (state.h GT__F_QUICK_), those of
 * want only: for a constant want the compiler drops the other loads. */
static inline uint32_t gt__sock_quick_facts(const gt__sock *s, uint32_t want)
{
    uint32_t q = GT__F_ANY | ((uint32_t)s->rpt & want);
    if ((want & GT__F_CLOSED) && s->state == S_CLOSED)
        q |= GT__F_CLOSED;
    if ((want & GT__F_DRV_CLOSED) && s->state == S_DRV_CLOSED)
        q |= GT__F_DRV_CLOSED;
    if ((want & GT__F_LISTEN) && s->kind == K_LISTEN)
        q |= GT__F_LISTEN;
    if ((want & GT__F_BROKEN) && gt__wr_broken(&s->wr))
        q |= GT__F_BROKEN;
    if ((want & GT__F_ACTIVE) && s->active != GT_ACTIVE_FALSE_V)
        q |= GT__F_ACTIVE;
    if ((want & GT__F_GONE) && gt__rd_row_of(&s->rd)->gone)
        q |= GT__F_GONE;
    return q;
}

/* The rows' answer for the rest of the facts (answer.c). */
int gt__sock_answer_rows(gt__sock *s, unsigned call, uint32_t quick);

/* What call (one GT__CALL_* bit) answers on s from its state: 0 = go on,
 * else the reason; the row's report bits and effects (state.h GT__FX_*)
 * are applied.  The common case, no quick fact that a row of the call
 * needs, is answered here.  Lock held. */
static inline int gt__sock_answer(gt__sock *s, unsigned call)
{
    uint32_t trig = gt__ans_trigger(call);
    if (trig != GT__F_ANY && !(gt__sock_quick_facts(s, trig) & trig))
        return 0;
    return gt__sock_answer_rows(s, call, gt__sock_quick_facts(s, GT__F_QUICK_));
}

#endif
