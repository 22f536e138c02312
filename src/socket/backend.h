/*
 * backend.h -- what differs between gen_tcp's two backends, as data.
 *
 * OTP 25 has {inet_backend, inet} (inet_drv, the reference) and
 * {inet_backend, socket} (gen_tcp_socket over the socket NIF).  Where the
 * socket layer's code is the same and only the answer differs, it reads one
 * of these flags (docs/spec/semantics.md section 10); each flag names the
 * rule it stands for.  The option defaults per backend live with the
 * option table (options.c).
 */
#ifndef GT_SOCK_BACKEND_H
#define GT_SOCK_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "gentcp.h"

typedef struct gt__backend {
    int id;                  /* GT_BACKEND_*                                  */
    const char *name;        /* the Erlang atom                               */
    bool blocking_send;      /* rule 35: no user-space queue; send waits for
                                the kernel, a timeout leaves the rest to the
                                caller                                        */
    bool close_drains;       /* rule 43: close waits for the queue           */
    bool close_drops_closed; /* rule 42: close takes one {tcp_closed,S} out
                                of the caller's mailbox                       */
    bool deferred_shutdown;  /* rule 50: shutdown(write) after the queue     */
    bool closed_forever;     /* rules 28, 53, 96: the end of input is closed
                                on every later call, the fd stays open (no
                                inet close on EOF, no enotconn)               */
    bool stale_closed;       /* rules 41, 44: calls on a closed socket,
                                close included, answer closed                 */
    bool queued_recv;        /* rule 26: a second recv waits its turn        */
    bool recv_length_any;    /* rules 23, 24: Length ignored when packet is
                                not raw, and not bounded by 64 MiB            */
    bool emsgsize_keeps;     /* rules 78, 79: a bad packet keeps the socket
                                open (passive, no tcp_closed); a {packet,
                                1|2|4} one is reported again                  */
    bool line_cut_at_size;   /* rule 83: lines cut at packet_size            */
    bool activate_ended_einval; /* rules 21, 47: {active,_} after the end of
                                input was reported is einval, no message     */
    bool passive_from_false; /* rule 18: {active,false} from N: tcp_passive  */
    bool ctl_dead_ok;        /* rule 59: controlling_process to a dead pid   */
    bool local_ip_opts_enotsup; /* rules 74, 101: TCP and IP options on an
                                AF_UNIX socket are enotsup (inet: nodelay
                                ignored, the IP ones einval)                 */
    bool stat_counts_reads;  /* getstat: gen_tcp_socket derives inet's
                                counters from the socket NIF's: recv_cnt
                                counts reads, max = avg = the rounded mean,
                                dvi and send_pend 0 (stats.c)                */
} gt__backend;

/* The descriptor for a GT_BACKEND_* value (inet for anything else). */
extern const gt__backend gt__inet_backend, gt__socket_backend;
/* Inline: looked up 3-4 times per rr echo, a call each when it lived in
 * backend.c (issue 11). */
static inline const gt__backend *gt__backend_of(int id)
{
    return id == GT_BACKEND_SOCKET ? &gt__socket_backend : &gt__inet_backend;
}

/* The backend of a socket whose option list names none: the environment's
 * GENTCP_INET_BACKEND (inet or socket; read once), else inet. */
int gt__backend_default(void);

/* A socket's handle carries its backend, so that a handle already closed
 * still answers as its backend does (rule 44): bit 63 of the id, which
 * the handle table never sets (idmap.h: generations stop at 2^44). */
#define GT__SOCK_ID_SOCKET_BIT (UINT64_C(1) << 63)

static inline uint64_t gt__sock_id_mark(uint64_t id, int backend)
{
    return backend == GT_BACKEND_SOCKET ? id | GT__SOCK_ID_SOCKET_BIT : id;
}
static inline uint64_t gt__sock_id_slot(uint64_t id) { return id & ~GT__SOCK_ID_SOCKET_BIT; }
static inline int gt__sock_id_backend(uint64_t id)
{
    return id & GT__SOCK_ID_SOCKET_BIT ? GT_BACKEND_SOCKET : GT_BACKEND_INET;
}

/* What a call on a handle no longer in the table answers: closed on the
 * socket backend, inet_err (inet's own answer) on inet. */
static inline int gt__sock_stale_err(gt_socket h, int inet_err)
{
    return h.id & GT__SOCK_ID_SOCKET_BIT ? GT_ECLOSED : inet_err;
}

#endif
