/*
 * state.h -- the two sides of a connection as state machines (state.c).
 *
 * For each side, the states, one transition function and one table of
 * what calls do in each state replace the booleans that send.c, recv.c,
 * socket.c, connect.c, options.c and transport.c used to test in
 * combinations.  The rules cited are docs/spec/semantics.md's; "D" facts
 * are inet_drv.c's.
 *
 * What a call answers from all of it -- Erlang's error sequences: closed
 * then enotconn, the delayed close on send and on recv, econnreset once
 * with show_econnreset, exit_on_close=false, the socket backend's closed
 * for ever and einval -- is one table of rows (gt__ans_rows, at the end),
 * looked up by answer.h gt__sock_answer at the start of gt_recv, at the
 * end of input (passive and active), in setopts/getopts and activation,
 * in both backends' sends and at a failed write.
 *
 * Beside the machines: the one-shot reports of inet_drv (gt__rpt, below)
 * and the handle's life (sock.h `state`: S_OPEN, S_DRV_CLOSED, S_CLOSED;
 * `lingering`).  The latter is a third dimension, not a state of either
 * side: it says whether the fd and the handle still exist, while the
 * machines say what the byte stream did, and every combination occurs.
 * inet closes the fd (S_DRV_CLOSED) with the read side OPEN (an emsgsize
 * with exit_on_close, rule 78; send_timeout_close, rule 34), FIN or ERROR
 * (a passive end with exit_on_close, rule 28), and the write side OPEN,
 * SHUT or BROKEN; the user closes (S_CLOSED) in any state of both; a
 * listen socket has the handle's life and no stream.  Folded into either
 * machine, each of its states would need a DRV_CLOSED and a CLOSED twin,
 * and the other machine's code would test them.  `lingering` is S_CLOSED
 * with the fd kept while a process drains the queue (never BROKEN:
 * socket.c gt__sock_close_locked); the write side stays where the close
 * found it, so a deferred shutdown is still owed by the drain.  The rows
 * read `state` as facts (GT__F_CLOSED, GT__F_DRV_CLOSED) and move it by
 * effects (GT__FX_DRV_CLOSE, GT__FX_CLOSE).  Its other readers (about 40
 * lines: connect.c's accept, socket.c's close, events and ownership, the
 * send, recv, linger and transport loops that stop once the fd is gone,
 * stats.c's listing) ask whether the handle or its fd still exists, which
 * neither machine knows (docs/DESIGN.md, connection state).
 */
#ifndef GT_SOCK_STATE_H
#define GT_SOCK_STATE_H

#include <stdbool.h>
#include <stdint.h>

/* The write side.  Each socket starts in CONNECTING (a non-blocking connect
 * in progress) or OPEN (accepted, adopted or connected).
 *
 *   CONNECTING --connected--> OPEN
 *   CONNECTING --shut_deferred--> CONNECTING_SHUT_PENDING --connected-->
 *                                          SHUT_PENDING: output queued
 *                                          before the connect finished
 *                                          goes out first, then the FIN
 *   OPEN --shut_deferred--> SHUT_PENDING   inet: shutdown(write) with output
 *                                          queued waits for it (rule 50,
 *                                          D TCP_ADDF_PENDING_SHUTDOWN)
 *   OPEN, SHUT_PENDING --shut_done--> SHUT shutdown(2) issued (rules 49-51)
 *   X --failed--> BROKEN_X                 a write failed (inet only: the
 *                                          socket backend's send keeps no
 *                                          state, rules 35, 51): inet
 *                                          closes the port (rules 55-57)
 *   BROKEN_SHUT_PENDING --shut_done--> BROKEN_SHUT
 *
 * gt_connect hands out the handle only once connected, so only a stranger
 * who found it in a listing (gt_sockets_list) can send or shut it down
 * while CONNECTING.  Its sends queue; a shutdown(write) behind them waits
 * for the connect and the queue, as on an open socket.  One with nothing
 * queued is issued at once, and Linux aborts a connect still in SYN_SENT
 * at shutdown(2) (inet_shutdown): there is nothing left to remember, so
 * CONNECTING has no shut_done arrow.
 *
 * A broken side remembers how far its shutdown(write) had gone: a failure
 * while the shutdown waited for the queue leaves it owed, and the flush
 * that finds the queue empty (it is, after the failure) still issues it. */
enum {
    WR_CONNECTING,
    WR_CONNECTING_SHUT_PENDING,
    WR_OPEN,
    WR_SHUT_PENDING,
    WR_SHUT,
    WR_BROKEN,
    WR_BROKEN_SHUT_PENDING,
    WR_BROKEN_SHUT,
    WR_N_
};

/* The events of the one transition function. */
typedef enum {
    WE_CONNECTED,     /* connect finished (or failed: the socket closes)  */
    WE_SHUT_DEFERRED, /* shutdown(write) waits for queued output         */
    WE_SHUT_DONE,     /* shutdown(2) SHUT_WR issued                      */
    WE_FAILED,        /* a write failed (send.c send_failed)             */
} gt__wr_event;

/* What a call does on the write side, by state (the table in state.c). */
typedef enum {
    WA_GO,       /* go on with the call                                   */
    WA_TOLD,     /* send: the answer kept at the failure (wr.told), once,
                    then enotconn (rule 55)                               */
    WA_FAIL,     /* send: fail the queue with closed and shut down now
                    (rule 50, D tcp_shutdown_error)                       */
    WA_ENOTCONN, /* shutdown(write): inet closed the write side (rule 51) */
    WA_DONE,     /* shutdown(write): already done, ok                     */
} gt__wr_action;

typedef struct gt__wr_row {
    const char *name;
    uint8_t send;     /* gt__wr_action of an inet send (send.c send_checks) */
    uint8_t shutdown; /* ... of shutdown(write) / read_write              */
    bool broken;      /* inet closed the socket at a failed write: nothing
                         more goes out (close neither drains nor lingers,
                         no sender waits on busy) and reads find the
                         delayed reports (recv.c)                         */
    bool shut_done;   /* our shutdown(2) SHUT_WR was issued               */
    bool shut_owed;   /* the flush that empties the queue issues it       */
    bool no_attach;   /* gt_transport_attach is einval: connecting, or
                         the stream is no longer whole                    */
} gt__wr_row;

extern const gt__wr_row gt__wr_rows[WR_N_];

/* The write side's state and the data of its broken states. */
typedef struct gt__wr {
    uint8_t st;  /* WR_*                                                  */
    int fail;    /* broken: what the failing send reported               */
    int told;    /* broken: what the next send reports (then enotconn)   */
} gt__wr;

/* The one transition function: w moves on ev (a no-op where the diagram
 * has no arrow).  Lock held. */
void gt__wr_to(gt__wr *w, gt__wr_event ev);

static inline const gt__wr_row *gt__wr_row_of(const gt__wr *w) { return &gt__wr_rows[w->st]; }
static inline bool gt__wr_broken(const gt__wr *w) { return gt__wr_row_of(w)->broken; }
static inline bool gt__wr_connecting(const gt__wr *w)
{
    return w->st == WR_CONNECTING || w->st == WR_CONNECTING_SHUT_PENDING;
}

/* ---- one-shot reports ------------------------------------------------- */

/* What inet reports once after an end of input or a failed send, and the
 * facts that decide it: a bitset, as inet_drv keeps its tcp_add_flags.
 * Each is set by one event and consumed by the call that reports it
 * (recv.c, send.c, options.c); they cross both sides, so they are a
 * dimension of their own, not states of either machine. */
enum {
    GT__R_CLOSE_SEND = 1 << 0,  /* D TCP_ADDF_DELAYED_CLOSE_SEND: an end of
                                   input was reported as closed; the next
                                   failing send leaves its reason for the
                                   send after it                          */
    GT__R_CLOSE_RECV = 1 << 1,  /* D TCP_ADDF_DELAYED_CLOSE_RECV: a send
                                   failed while passive; the next recv (or
                                   activation) reports it (rule 55)       */
    GT__R_ECONNRESET = 1 << 2,  /* D TCP_ADDF_DELAYED_ECONNRESET: ... with a
                                   reset shown: econnreset, once          */
    GT__R_SEND_CLOSED = 1 << 3, /* inet closed the fd at a passive end of
                                   input: the first send reports closed,
                                   then enotconn (rules 53, 55)           */
    GT__R_END_MET_BUSY = 1 << 4, /* the end of input was read while a send
                                   was busy: that send got closed, so no
                                   delayed closed is left for the next one
                                   (D tcp_recv_closed's IS_BUSY, rule 56;
                                   not a FIN with exit_on_close=false:
                                   recv.c end_read, DEVIATIONS row 26)    */
    GT__R_CLOSED_SENT = 1 << 5, /* a tcp_closed went out (only ever once)  */
    GT__R_END_TOLD = 1 << 6,    /* the end of input went to the user (a
                                   recv's closed, a tcp_closed): the socket
                                   backend answers an activation einval
                                   (rule 21)                              */
};
typedef uint8_t gt__rpt;

/* r with the report bits `bits` set (on) or cleared. */
static inline gt__rpt gt__rpt_put(gt__rpt r, unsigned bits, bool on)
{
    return (gt__rpt)(on ? r | bits : r & ~bits);
}

/* ---- the read side ---------------------------------------------------- */

/* The end of input as read from the fd, and what later reads find:
 *
 *   OPEN --fin--> FIN          read() returned 0; also inet's end of input
 *                              at a failed send on an active socket
 *                              (recv.c gt__sock_send_failed, rule 57)
 *   OPEN --error--> ERROR      read() failed (err: econnreset ...)
 *   ERROR --told_fin--> FIN    the error was reported and the socket stays:
 *                              later reads find the end of a closed stream
 *                              (rules 47, 54; the socket backend, rule 54)
 *   ERROR --told_reset--> RESET  socket backend: a reset was reported and
 *                              gen_tcp_socket closed the socket: sends
 *                              closed, options einval, reads closed
 *   OPEN --told_fin--> FIN     socket backend: the end after our own
 *                              shutdown(read) was reported (rule 96)
 *
 * Our shutdown(read) (`shut`) is orthogonal: it ends the input for the
 * calls (rule 52) without reading an end, and either end may follow or
 * precede it. */
enum { RD_OPEN, RD_FIN, RD_ERROR, RD_RESET, RD_N_ };

typedef enum {
    RE_FIN,        /* read() returned 0, or inet's end at a failed send  */
    RE_ERROR,      /* read() failed                                      */
    RE_TOLD_FIN,   /* the end was reported; later reads find a FIN       */
    RE_TOLD_RESET, /* socket backend: a reset was reported               */
} gt__rd_event;

typedef struct gt__rd_row {
    const char *name;
    bool ended;     /* the input is over: recv takes the tail, then the
                       end's answer; delivery ends with tcp_closed        */
    bool reads;     /* the fd may still be read                           */
    bool peer_gone; /* a send flushes a pending delay_send first, so its
                       failure answers this send (rule 56)                */
    bool gone;      /* socket backend: closed at a reset: sends closed,
                       options einval (rules 53, 54)                      */
} gt__rd_row;

extern const gt__rd_row gt__rd_rows[RD_N_];

typedef struct gt__rd {
    uint8_t st;  /* RD_*                                                  */
    bool shut;   /* our shutdown(read)                                    */
    int err;     /* ERROR: the read's error (-errno or GT_ETLS)           */
} gt__rd;

/* The read side's one transition function (no arrow: the state stays).
 * err: the error of RE_ERROR.  Lock held. */
void gt__rd_to(gt__rd *r, gt__rd_event ev, int err);

static inline const gt__rd_row *gt__rd_row_of(const gt__rd *r) { return &gt__rd_rows[r->st]; }
/* The input is over for the calls: an end was read, or we shut it. */
static inline bool gt__rd_ended(const gt__rd *r) { return r->shut || gt__rd_row_of(r)->ended; }
/* The error read and not yet reported as a FIN, or 0. */
static inline int gt__rd_err(const gt__rd *r) { return r->st == RD_ERROR ? r->err : 0; }

/* ---- the answers: Erlang's error sequences as rows ------------------- */

/* What decides a call's answer from the connection's state: the report
 * bits above (the low 8 bits, GT__R_*) and these facts.  The quick ones
 * are plain loads from the socket; the others (backend, options, input)
 * are looked at only when a quick one says a row may match. */
enum {
    GT__F_CLOSED = 1 << 8,      /* S_CLOSED: closed by us / the owner       */
    GT__F_DRV_CLOSED = 1 << 9,  /* S_DRV_CLOSED: inet closed the fd         */
    GT__F_LISTEN = 1 << 10,     /* a listen socket                          */
    GT__F_BROKEN = 1 << 11,     /* the write side is broken (gt__wr_rows)   */
    GT__F_ACTIVE = 1 << 12,     /* active is not false                      */
    GT__F_GONE = 1 << 13,       /* the read side's row says gone (RD_RESET) */
    GT__F_ANY = 1 << 14,        /* always: the trigger of calls whose rows
                                   are looked at every time               */
    GT__F_QUICK_ = (1 << 15) - 1,
    GT__F_FOREVER = 1 << 16,    /* backend.h closed_forever (socket)        */
    GT__F_IN_AVAIL = 1 << 17,   /* input buffered, not yet taken            */
    GT__F_ENDED_EINVAL = 1 << 18, /* backend.h activate_ended_einval        */
    GT__F_OWNER = 1 << 19,      /* the socket has an owner                  */
    GT__F_EXIT = 1 << 20,       /* exit_on_close                            */
    GT__F_SHOW = 1 << 21,       /* show_econnreset                          */
    GT__F_RD_RESET = 1 << 22,   /* the read found a reset (gt__rd_err)      */
    GT__F_RD_TLS = 1 << 23,     /* the read found a TLS alert               */
    /* the facts of a failed send, given by its caller (SEND_FAILED) */
    GT__F_CALLER = 1 << 24,     /* a send waits for this result             */
    GT__F_FAIL_RESET = 1 << 25, /* the failure is a reset (shown)           */
};

/* A row's answer that is the failure's own reason (SEND_FAILED). */
#define GT__ANS_FAILURE 1

/* The calls (and moments of a call) that ask; a row names the ones it
 * answers. */
enum {
    GT__CALL_RECV = 1 << 0,        /* gt_recv's start                       */
    GT__CALL_RECV_END = 1 << 1,    /* a passive recv met the end of input   */
    GT__CALL_ACTIVE_END = 1 << 2,  /* active delivery met the end of input  */
    GT__CALL_SEND = 1 << 3,        /* inet's send (send.c send_checks)      */
    GT__CALL_SEND_RESUMED = 1 << 4, /* ... again after waiting on busy       */
    GT__CALL_SEND_BLOCK = 1 << 5,  /* the socket backend's send             */
    GT__CALL_OPTION = 1 << 6,      /* setopts / getopts                     */
    GT__CALL_READ_OPT = 1 << 7,    /* ... of a read-side option (active,
                                      mode, header, ...)                   */
    GT__CALL_OPT_GONE = 1 << 8,    /* ... once the options were checked     */
    GT__CALL_ACTIVATE = 1 << 9,    /* setopts set a non-false active mode   */
    GT__CALL_SEND_FAILED = 1 << 10, /* a write failed: the answer is what the
                                      next send reports (wr.told)          */
    GT__CALL_N_ = 11
};

/* What a row does beside answering, in this order: the report bits, then
 * these. */
enum {
    GT__FX_TOLD_ENOTCONN = 1 << 0, /* the next send answers enotconn (the
                                      delayed reason was reported here)     */
    GT__FX_RD_TOLD_FIN = 1 << 1,   /* read side: RE_TOLD_FIN                 */
    GT__FX_RD_TOLD_RESET = 1 << 2, /* read side: RE_TOLD_RESET               */
    GT__FX_MSG_CLOSED = 1 << 3,    /* {tcp_closed, S} to the owner           */
    GT__FX_DRV_CLOSE = 1 << 4,     /* inet closes the fd: S_DRV_CLOSED       */
    GT__FX_CLOSE = 1 << 5,         /* the socket closes: S_CLOSED            */
};

/* A row applies to a call in `calls` when every fact of `need` holds and
 * none of `none`; the first such row answers.  No row: 0 (go on). */
typedef struct gt__ans_row {
    uint16_t calls;
    uint32_t need, none;
    int answer;      /* 0 = go on, else the reason returned              */
    uint8_t clear;   /* report bits cleared ...                          */
    uint8_t set;     /* ... then set                                     */
    uint8_t fx;      /* GT__FX_*                                         */
    const char *rule;
} gt__ans_row;

extern const gt__ans_row gt__ans_rows[];
extern const unsigned gt__ans_nrows;

/* The quick facts that any row of call (one GT__CALL_* bit) needs one of
 * (the unit test checks it against the rows): none set, no row can match.
 * GT__F_ANY: every call of this kind looks at the rows.  Inline, so that
 * for a constant call the compiler computes only these facts. */
static inline uint32_t gt__ans_trigger(unsigned call)
{
    switch (call) {
    case GT__CALL_RECV:
        return GT__F_CLOSED | GT__F_LISTEN | GT__F_DRV_CLOSED | GT__F_ACTIVE | GT__R_END_TOLD;
    case GT__CALL_SEND:
    case GT__CALL_SEND_RESUMED:
        return GT__F_CLOSED | GT__F_LISTEN | GT__F_DRV_CLOSED;
    case GT__CALL_SEND_BLOCK:
        return GT__F_CLOSED | GT__F_GONE | GT__F_LISTEN;
    case GT__CALL_OPTION:
        return GT__F_CLOSED;
    case GT__CALL_READ_OPT:
        return GT__R_END_TOLD;
    case GT__CALL_OPT_GONE:
        return GT__F_GONE;
    case GT__CALL_ACTIVATE:
        return GT__F_DRV_CLOSED;
    default: /* RECV_END, ACTIVE_END, SEND_FAILED */
        return GT__F_ANY;
    }
}

/* The first row for call (one GT__CALL_* bit) that facts match, or NULL. */
const gt__ans_row *gt__ans_find(unsigned call, uint32_t facts);

#endif
