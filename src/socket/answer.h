/*
 * answer.h -- what a call answers from the connection's state: the rows
 * of Erlang's error sequences (state.c gt__ans_rows) applied to a socket
 * (answer.c).
 */
#ifndef GT_SOCK_ANSWER_H
#define GT_SOCK_ANSWER_H

#include "socket/sock.h"

/* The facts that are plain loads from s (state.h GT__F_QUICK_). */
static inline uint32_t gt__sock_quick_facts(const gt__sock *s)
{
    return (uint32_t)s->rpt | GT__F_ANY | (s->state == S_CLOSED ? GT__F_CLOSED : 0) |
           (s->state == S_DRV_CLOSED ? GT__F_DRV_CLOSED : 0) |
           (s->kind == K_LISTEN ? GT__F_LISTEN : 0) |
           (gt__wr_broken(&s->wr) ? GT__F_BROKEN : 0) |
           (s->active != GT_ACTIVE_FALSE_V ? GT__F_ACTIVE : 0) |
           (gt__rd_row_of(&s->rd)->gone ? GT__F_GONE : 0);
}

/* The rows' answer for the rest of the facts (answer.c). */
int gt__sock_answer_rows(gt__sock *s, unsigned call, uint32_t quick);

/* What call (one GT__CALL_* bit) answers on s from its state: 0 = go on,
 * else the reason; the row's report bits and effects (state.h GT__FX_*)
 * are applied.  The common case, no quick fact that a row of the call
 * needs, is answered here.  Lock held. */
static inline int gt__sock_answer(gt__sock *s, unsigned call)
{
    uint32_t q = gt__sock_quick_facts(s);
    if (!(q & gt__ans_trigger[__builtin_ctz(call)]))
        return 0;
    return gt__sock_answer_rows(s, call, q);
}

#endif
