/*
 * state.h -- the write side of a connection as a state machine (state.c).
 *
 * The states, the one transition function and the one table of what each
 * call does in each state replace the booleans that send.c, socket.c,
 * connect.c, recv.c and transport.c used to test in combinations.  The
 * rules cited are docs/spec/semantics.md's; "D" facts are inet_drv.c's.
 *
 * The read side (eof, read_err, read_shut, the delayed-report flags of
 * inet_drv's TCP_ADDF_DELAYED_*, sock.h) is not a machine yet: see
 * docs/DESIGN.md.
 */
#ifndef GT_SOCK_STATE_H
#define GT_SOCK_STATE_H

#include <stdbool.h>
#include <stdint.h>

/* The write side.  Each socket starts in CONNECTING (a non-blocking connect
 * in progress) or OPEN (accepted, adopted or connected).
 *
 *   CONNECTING --connected--> OPEN
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
 * CONNECTING has no shutdown arrows: only a stranger who found the handle
 * in a listing could call shutdown then, and shutdown(2) on a socket not
 * yet connected fails (ENOTCONN) and changes nothing.
 *
 * A broken side remembers how far its shutdown(write) had gone: a failure
 * while the shutdown waited for the queue leaves the shutdown owed, and
 * the next flush (the queue is empty now) still issues it, as inet's
 * tcp_inet_output does once its queue is gone. */
enum {
    WR_CONNECTING,
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
static inline bool gt__wr_connecting(const gt__wr *w) { return w->st == WR_CONNECTING; }

#endif
