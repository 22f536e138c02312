/*
 * answer.c -- a row of Erlang's error sequences (state.c) applied to a
 * socket: the facts that need more than a load, the row's report bits and
 * its effects.
 */
#include "socket/answer.h"

static uint32_t slow_facts(const gt__sock *s)
{
    const gt__backend *be = gt__be(s);
    int rd_err = gt__rd_err(&s->rd);
    return (be->closed_forever ? GT__F_FOREVER : 0) |
           (gt__buf_avail(&s->in) ? GT__F_IN_AVAIL : 0) |
           (be->activate_ended_einval ? GT__F_ENDED_EINVAL : 0) |
           (s->owner ? GT__F_OWNER : 0) | (s->o->exit_on_close ? GT__F_EXIT : 0) |
           (s->o->show_econnreset ? GT__F_SHOW : 0) |
           (rd_err == -ECONNRESET ? GT__F_RD_RESET : 0) | (rd_err == GT_ETLS ? GT__F_RD_TLS : 0);
}

int gt__sock_answer_rows(gt__sock *s, unsigned call, uint32_t quick)
{
    const gt__ans_row *r = gt__ans_find(call, quick | slow_facts(s));
    if (!r)
        return 0;
    s->rpt = (gt__rpt)((s->rpt & ~r->clear) | r->set);
    if (r->fx & GT__FX_TOLD_ENOTCONN)
        s->wr.told = -ENOTCONN;
    if (r->fx & GT__FX_RD_TOLD_FIN)
        gt__rd_to(&s->rd, RE_TOLD_FIN, 0);
    if (r->fx & GT__FX_RD_TOLD_RESET)
        gt__rd_to(&s->rd, RE_TOLD_RESET, 0);
    if ((r->fx & GT__FX_MSG_CLOSED) && s->owner) {
        gt_msg *m = gt__msg_new(gt__sock_msg_kind(s, GT_MSG_TCP_CLOSED), 0);
        if (m) {
            m->sock = (gt_socket){s->id};
            gt__mbox_deliver(s->owner, m, m);
        }
    }
    if (r->fx & GT__FX_DRV_CLOSE)
        gt__sock_close_locked(s, S_DRV_CLOSED, GT_ECLOSED);
    if (r->fx & GT__FX_CLOSE)
        gt__sock_close_locked(s, S_CLOSED, GT_ECLOSED);
    return r->answer;
}
