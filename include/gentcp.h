/*
 * gentcp.h -- Erlang/OTP's gen_tcp for C: sockets owned by lightweight
 * processes, data delivered as messages, framing built in.
 *
 * This is the only public header.  Everything public is gt_-prefixed.
 *
 * Conventions, stated once here and relied on everywhere below:
 *
 *  - Errors.  Every function that can fail returns an int: 0 on success, a
 *    negative error code otherwise.  POSIX errors are -errno (so -EINVAL is
 *    reported as "einval", as inet:posix() spells it); gen_tcp's own reasons
 *    (closed, timeout, not_owner, ...) live in a reserved range below
 *    GT_ERR_BASE.  gt_err_name() gives the Erlang atom, gt_strerror() a
 *    sentence.  Nothing in the library prints or aborts.  A bad argument
 *    (a NULL pointer where an object is needed, a value out of range) is
 *    GT_EBADARG unless the function says otherwise, never a crash
 *    (tests/integ/api_args_test.c calls each function so).
 *
 *  - Handles.  gt_socket and gt_pid are small value structs holding an index
 *    and a generation.  A stale handle is an error, never a dangling
 *    pointer, and the same error whether the handle was closed, is {0} or
 *    was never issued:
 *      a socket: GT_ECLOSED from accept, send, sendv, send_many, recv,
 *        shutdown and controlling_process; -EINVAL from setopts, getopts,
 *        port, sockname and peername (as inet's calls); gt_close returns 0
 *        and gt_owner {0}.  A closed socket of the socket backend answers
 *        GT_ECLOSED from all of these, gt_close included (the handle
 *        remembers its backend; docs/spec/semantics.md rules 41, 44);
 *      a process: GT_ENOPROC from gt_post; GT_EBADARG from
 *        controlling_process to it; gt_monitor returns 0 and the
 *        GT_MSG_DOWN arrives at once; gt_is_alive is false.
 *    A stale handle never names a later socket or process, however long the
 *    program runs: a slot is reused with a new generation (44 bits), and a
 *    slot whose generation would wrap is retired rather than reused.
 *    Compare with gt_pid_eq / gt_sock_eq; id 0 is "none".
 *
 *  - Timeouts are milliseconds as in Erlang: 0 polls, GT_INFINITY waits
 *    forever.  Negative values other than GT_INFINITY are treated as 0;
 *    values above a century (up to INT64_MAX) as GT_INFINITY.
 *
 *  - Ownership.  Every gt_msg returned to the caller is owned by the caller
 *    and must be released with gt_msg_free().  Buffers passed in (send data,
 *    message payloads) are copied before the call returns unless stated.
 *
 *  - Processes.  gentcp functions that block (accept, recv, receive, a busy
 *    send ...) park the calling process, never its scheduler thread.  Any OS
 *    thread that calls the API is itself a process: it gets a mailbox on first
 *    use and simply blocks.
 */
#ifndef GENTCP_H
#define GENTCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Everything declared here is exported from libgentcp.so; the library is
 * built with -fvisibility=hidden, so its internal gt__ symbols are not. */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

/* The version: the one place it is written (the Makefile reads it from here
 * for the SONAME, gentcp.pc and the CMake package).  The SONAME carries the
 * major number, or major.minor while the major is 0 (libgentcp.so.0.2): every
 * 0.x minor bump changes the ABI. */
#define GT_VERSION_MAJOR 0
#define GT_VERSION_MINOR 2
#define GT_VERSION_PATCH 0
#define GT__VSTR_(x) #x
#define GT__VSTR(x) GT__VSTR_(x)
#define GT_VERSION                                                             \
    GT__VSTR(GT_VERSION_MAJOR) "." GT__VSTR(GT_VERSION_MINOR) "." GT__VSTR(GT_VERSION_PATCH)
/* For #if: 10203 is 1.2.3. */
#define GT_VERSION_NUMBER                                                      \
    (GT_VERSION_MAJOR * 10000 + GT_VERSION_MINOR * 100 + GT_VERSION_PATCH)

/* The version of the library actually loaded ("1.2.3"), which may be newer
 * than the GT_VERSION a program was compiled with.  Static storage. */
const char *gt_version(void);

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

#define GT_ERR_BASE (-100000)

/* gentcp reasons that are not errno values: XX(suffix, atom, text).  The
 * codes count up from GT_ERR_BASE+1, far below any -errno. */
#define GT_ERR_MAP(XX)                                                         \
    XX(CLOSED, "closed", "the socket is closed")                              \
    XX(TIMEOUT, "timeout", "the operation timed out")                         \
    XX(NOT_OWNER, "not_owner", "the caller is not the controlling process")   \
    XX(BADARG, "badarg", "bad argument")                                      \
    XX(SYSTEM_LIMIT, "system_limit", "a system limit was reached")            \
    XX(NXDOMAIN, "nxdomain", "the host name does not resolve")                \
    XX(NOPROC, "noproc", "no such process")                                   \
    XX(TRUNCATED, "truncated", "the peer closed in the middle of a packet")   \
    XX(KILL, "kill", "the untrappable exit reason given to gt_kill")          \
    XX(KILLED, "killed", "the process was killed by gt_kill(pid, GT_EKILL)")  \
    XX(EXITING, "exiting", "an exit signal is ending the calling process")    \
    XX(FORKED, "forked", "gentcp's runtime belongs to the parent process: "   \
                         "not usable in a child of fork()")           \
    XX(TLS, "tls_alert", "TLS failed: gt_tls_last_error tells the alert or why") \
    XX(TLS_CONFIG, "tls_options", "bad TLS options: gt_tls_ctx_new tells which")

enum gt_err {
    GT_OK = 0,
    GT__ERR_FIRST_ = GT_ERR_BASE,
#define GT__ERR_ENUM(name, atom, text) GT_E##name,
    GT_ERR_MAP(GT__ERR_ENUM)
#undef GT__ERR_ENUM
    GT__ERR_END_
};

/* The Erlang atom for err ("closed", "einval", "econnreset", ...); "ok" for
 * 0; "unknown" for codes that are neither.  Static storage, never NULL. */
const char *gt_err_name(int err);

/* A human sentence for err.  Static storage, never NULL. */
const char *gt_strerror(int err);

/* ------------------------------------------------------------------------ */
/* Runtime and processes                                                    */
/* ------------------------------------------------------------------------ */

#define GT_INFINITY (-1)

typedef struct gt_pid {
    uint64_t id; /* slot index (low 20 bits) and generation; 0 = none */
} gt_pid;

typedef struct gt_socket {
    uint64_t id; /* slot index (low 20 bits) and generation; 0 = none */
} gt_socket;

/* Runtime configuration, read once by gt_init().  A field set here (non-zero)
 * wins; a zero field takes the environment's value (GT_SCHEDULERS,
 * GT_SPIN_US, GT_STEAL) if set, else the default. */
typedef struct gt_config {
    int schedulers;   /* scheduler threads; default: see gt_schedulers() */
    int spin_us;      /* the longest an idle scheduler polls before it
                         sleeps, spent only while its recent waits were
                         short; default 50 us, negative = never spin
                         (see DESIGN.md) */
    size_t stack_size;/* default process stack; default 64 KiB */
    int steal;        /* an idle scheduler takes runnable processes (and
                         their sockets) from a busy one: > 0 on, < 0 off;
                         0 = GT_STEAL if set (0 off, 1 on), else on
                         (docs/DESIGN.md, "Balance") */
} gt_config;

/* Starts the runtime.  Optional: the first API call starts it with defaults.
 * Returns -EALREADY if it is already running; GT_EBADARG for more than 4096
 * schedulers or a stack_size above 1 TiB (spin_us is capped at INT_MAX ns). */
int gt_init(const gt_config *cfg);

/* The number of scheduler threads (erlang:system_info(schedulers)); starts
 * the runtime if needed, so a negative value is the error that stopped it.
 * By default one per core the process may use: the least of the online
 * cores, the cores in its affinity mask (taskset) and its cgroup's CPU
 * quota rounded up (a container's --cpus). */
int gt_schedulers(void);

/* The scheduler the caller runs on, 1..gt_schedulers()
 * (erlang:system_info(scheduler_id)); 0 from a thread that is not a
 * scheduler (main, an os_thread process); GT_EFORKED in a forked child.
 * A hint, not a promise: stealing may move a process later.  Spawning with
 * {.scheduler = gt_scheduler_id(), .movable = true} starts a process beside
 * its parent, without waking another scheduler. */
int gt_scheduler_id(void);

typedef void (*gt_proc_fn)(void *arg);

typedef struct gt_spawn_opts {
    size_t stack_size; /* 0 = runtime default; rounded up to pages; a guard
                          page below it faults on overflow */
    bool os_thread;    /* run on a dedicated OS thread (for long foreign
                          blocking calls) instead of a scheduler */
    int scheduler;     /* -1 or 0 = round robin; k>0 pins to scheduler k-1 */
    bool link;         /* spawn_link: linked to the caller before it runs */
    bool movable;      /* with scheduler k>0: starts there without pinning,
                          so an idle scheduler may take it like any other */
} gt_spawn_opts;

/* Starts fn(arg) as a new process.  opts and pid_out may be NULL; fn NULL or
 * a stack_size above 1 TiB is GT_EBADARG; a scheduler out of range is round
 * robin.  The process ends when fn returns or calls gt_exit(); every socket
 * it controls is then closed and its mailbox freed. */
int gt_spawn(gt_proc_fn fn, void *arg, const gt_spawn_opts *opts, gt_pid *pid_out);

/* Ends the program's use of the runtime gracefully, from main (or another
 * thread that is not a spawned process): closes the caller's own sockets
 * (output still queued is drained in the background, as at any close), then
 * waits up to timeout_ms for every spawned process to end, and on success
 * releases the caller's process identity as gt_exit() does.  Tell the
 * processes to finish first (close the listen socket they accept on, post
 * them a message).  Returns 0 when none is left, GT_ETIMEOUT when some still
 * run (they go on; call it again, or return from main to end them with the
 * program), GT_EBADARG from a spawned process, -EALREADY while another
 * thread is in gt_stop. */
int gt_stop(int64_t timeout_ms);

/* fork(): a child forked after the runtime started (after the first call
 * that starts it) cannot use gentcp.  Only the forking thread exists
 * there; the schedulers, and with them every process and socket of the
 * parent, do not.  So in the child every call that touches the runtime
 * fails at once with GT_EFORKED (the "forked" reason), never hangs:
 * gt_init, gt_spawn, gt_stop, the socket, message, timer, name, link,
 * signal, gt_wait_fd and gt_tls_* calls (gt_tls_last_error gives "" and
 * gt_tls_ctx_free does nothing: OpenSSL's locks may be held); gt_self,
 * gt_whereis and gt_owner return the none pid, gt_is_alive and
 * gt_trap_exit false, gt_cancel_timer and gt_read_timer GT_EFORKED;
 * gt_yield and gt_exit only return, except that
 * the end of a spawned process that forked (its function returns in the
 * child, or it calls gt_exit or gt_hibernate there) ends the child with
 * _exit(0) for reason normal, else _exit(1); gt_hibernate, which cannot
 * return, ends the child with _exit(1) from any thread.  What needs no
 * runtime still works: gt_err_name, gt_strerror, gt_version, gt_msg_free
 * of a message received before the fork, gt_decode_packet, gt_addr_str,
 * the name functions.  The parent's descriptors stay open in the child until it
 * closes them or execs (gentcp opens them all close-on-exec); a
 * gt_signal_subscribe'd signal has its earlier disposition back in the
 * child.  To use gentcp in a child: exec, or fork before the first call. */

/* The calling process (an OS thread becomes one on first use). */
gt_pid gt_self(void);

/* Ends the calling process (as returning from its function would) with
 * reason normal, or with the reason of an exit signal that is pending.  In
 * an OS thread that is not a spawned process, it only releases the thread's
 * process identity (its sockets are closed, its mailbox freed). */
void gt_exit(void);

/* ------------------------------------------------------------------------ */
/* Links and exit signals (erlang:link/1, unlink/1, exit/1,2, trap_exit)     */
/* ------------------------------------------------------------------------ */

/* Exit reasons are ints: 0 is normal; a negative gentcp or POSIX code (as
 * GT_ECLOSED, -ECONNRESET) names itself; positive values are the program's
 * own.  GT_EKILL, given to gt_kill, cannot be trapped; the process then
 * exits with GT_EKILLED.
 *
 * An exit signal with reason R that reaches process P (from a linked
 * process's exit, or from gt_kill) does, as in Erlang:
 *   - from gt_kill with GT_EKILL: P exits with GT_EKILLED, trapping or not;
 *   - P traps exits: a GT_MSG_EXIT message {from, reason = R} (also for
 *     normal; if there is no memory for it P exits with -ENOMEM instead,
 *     so that no signal is lost silently);
 *   - R is normal: ignored, except gt_kill(self, 0), which ends the caller;
 *   - otherwise P exits with R.
 *
 * How a signal ends a process: C cannot stop a thread running plain code,
 * so "exits" means the reason is stored in P (the first signal wins) and P
 * is woken.  From then on every gentcp call that would wait (gt_receive,
 * gt_recv, gt_accept and gt_connect with a timeout other than 0, a gt_send
 * that would wait, gt_sleep, gt_close's wait for queued output) returns
 * GT_EEXITING at once, having undone its registration; calls that do not
 * wait work as before, so the process can clean up.  When its function
 * returns (or it calls gt_exit) it exits with the stored reason: its
 * gt_at_exit hooks run, its sockets are closed (queued output is drained
 * in the background), its links and monitors are told.  A process that was
 * never run, or is hibernating, exits without running its function.  A
 * process that never calls a waiting gentcp function cannot be ended. */

/* The name of an exit reason: "normal" for 0, else gt_err_name(). */
const char *gt_reason_name(int reason);

/* As gt_exit, with reason (a pending exit signal's reason wins). */
void gt_exit_with(int reason);

/* erlang:link/1: links the caller and pid both ways; when either exits, the
 * other gets an exit signal with its reason.  0 also if already linked or
 * pid is the caller.  pid dead: GT_ENOPROC, or, if the caller traps exits,
 * 0 and a GT_MSG_EXIT with reason GT_ENOPROC (as Erlang).  -ENOMEM. */
int gt_link(gt_pid pid);

/* erlang:unlink/1: removes the link, if any, both ways; 0 always.  Once it
 * returns, the link has no further effect; a GT_MSG_EXIT it caused before
 * stays in the mailbox (as in Erlang). */
int gt_unlink(gt_pid pid);

/* erlang:exit/2: sends pid an exit signal with reason, from the caller.
 * 0, or GT_ENOPROC if pid is not alive. */
int gt_kill(gt_pid pid, int reason);

/* process_flag(trap_exit, on): exit signals other than gt_kill's GT_EKILL
 * become GT_MSG_EXIT messages.  Returns the previous setting. */
bool gt_trap_exit(bool on);

/* Runs fn(arg) when the calling process exits, however it exits, before
 * its sockets are closed (hooks run last registered first), so that memory
 * and other resources a killed process holds are released.  fn must not
 * call gt_exit.  0, GT_EBADARG for fn NULL, -ENOMEM. */
int gt_at_exit(void (*fn)(void *arg), void *arg);

/* As erlang:hibernate/3: gives the stack back and, when a message is in the
 * mailbox, runs fn(arg) afresh on a new stack.  Never returns.  Only for
 * spawned (non os_thread) processes; elsewhere it waits for a message and
 * calls fn(arg) on the current stack.  fn NULL ends the process (and an OS
 * thread) as gt_exit() would. */
#if defined(__GNUC__)
__attribute__((noreturn))
#endif
void gt_hibernate(gt_proc_fn fn, void *arg);

/* Lets other processes run. */
void gt_yield(void);

/* Parks the calling process for ms milliseconds.  Returns 0, or
 * GT_EEXITING early when an exit signal is ending the caller. */
int gt_sleep(int64_t ms);

/* True while pid names a live process. */
bool gt_is_alive(gt_pid pid);

/* Asks to be told when pid ends: a GT_MSG_DOWN message arrives, with the
 * exit reason in reason (at once, with GT_ENOPROC, if pid is already
 * dead). */
int gt_monitor(gt_pid pid);

/* Registered names (erlang:register/2, unregister/1, whereis/1).  A name is
 * 1..GT_NAME_MAX bytes (copied); a process has at most one and loses it
 * when it exits.  gt_register returns GT_EBADARG if the name is taken or
 * invalid, pid is not alive, or pid already has a name; gt_unregister
 * GT_EBADARG if the name is not registered.  gt_whereis returns the pid, or
 * the none pid (id 0) when nobody has that name. */
#define GT_NAME_MAX 255
int gt_register(const char *name, gt_pid pid);
int gt_unregister(const char *name);
gt_pid gt_whereis(const char *name);

static inline bool gt_pid_eq(gt_pid a, gt_pid b) { return a.id == b.id; }
static inline bool gt_sock_eq(gt_socket a, gt_socket b) { return a.id == b.id; }

/* ------------------------------------------------------------------------ */
/* Messages                                                                 */
/* ------------------------------------------------------------------------ */

typedef enum gt_msg_kind {
    GT_MSG_TCP = 1,     /* {tcp, S, Data}: data/len hold one packet        */
    GT_MSG_TCP_CLOSED,  /* {tcp_closed, S}                                 */
    GT_MSG_TCP_ERROR,   /* {tcp_error, S, Reason}: reason holds the code   */
    GT_MSG_TCP_PASSIVE, /* {tcp_passive, S}                                */
    GT_MSG_HTTP,        /* {http, S, HttpPacket}: http points at it        */
    GT_MSG_USER,        /* from gt_post(): tag, data/len, from             */
    GT_MSG_DOWN,        /* a monitored process ended: from = that process  */
    GT_MSG_TIMEOUT,     /* {timeout, Ref, Msg} of gt_start_timer(): timer,
                           tag, data/len                                    */
    GT_MSG_SIGNAL,      /* a Unix signal arrived: tag = its number          */
    GT_MSG_EXIT,        /* {'EXIT', From, Reason} to a process trapping
                           exits: from, reason                              */
    /* A socket whose transport says so (TLS, GT_TRANSPORT_SSL_MSGS) sends
     * these instead of the four tcp kinds, in the same order, as Erlang's
     * ssl sends ssl/ssl_closed/ssl_error/ssl_passive: */
    GT_MSG_SSL,         /* {ssl, S, Data}                                  */
    GT_MSG_SSL_CLOSED,  /* {ssl_closed, S}                                 */
    GT_MSG_SSL_ERROR,   /* {ssl_error, S, Reason}                          */
    GT_MSG_SSL_PASSIVE  /* {ssl_passive, S}                                */
} gt_msg_kind;

/* A timer handle (erlang:send_after/start_timer's TimerRef); 0 = none. */
typedef struct gt_timer {
    uint64_t id;
} gt_timer;

struct gt_http_packet; /* see the packet decoding section */

/* One message.  Allocated by gentcp, owned by whoever holds the pointer;
 * release with gt_msg_free().  data points into the same allocation. */
typedef struct gt_msg {
    gt_msg_kind kind;
    gt_socket sock;                    /* socket messages               */
    gt_pid from;                       /* GT_MSG_USER, _DOWN, _EXIT     */
    int reason;                        /* GT_MSG_TCP_ERROR, _DOWN, _EXIT */
    int tag;                           /* GT_MSG_USER, GT_MSG_TIMEOUT   */
    size_t len;                        /* bytes at data                 */
    uint8_t *data;                     /* packet or user payload        */
    const struct gt_http_packet *http; /* GT_MSG_HTTP                   */
    gt_timer timer;                    /* GT_MSG_TIMEOUT                */
} gt_msg;

void gt_msg_free(gt_msg *msg);

/* Sends a user message to pid: a copy of len bytes at data, with tag.
 * Returns GT_ENOPROC if pid is not alive, GT_EBADARG for data NULL with a
 * non-zero len. */
int gt_post(gt_pid pid, int tag, const void *data, size_t len);

/* Takes the oldest message from the caller's mailbox, waiting up to
 * timeout_ms.  Returns 0 and *msg_out (caller owns it), or GT_ETIMEOUT;
 * GT_EBADARG if msg_out is NULL.  match NULL matches every message. */
int gt_receive(int64_t timeout_ms, gt_msg **msg_out);

/* Selective receive: the oldest message for which match(msg, arg) is true;
 * the others stay in the mailbox, in order. */
typedef bool (*gt_match_fn)(const gt_msg *msg, void *arg);
int gt_receive_match(gt_match_fn match, void *arg, int64_t timeout_ms, gt_msg **msg_out);

/* Takes, without waiting, up to max messages for which match(msg, arg) is
 * true (match NULL: any), oldest first, into msgs_out[0..*n_out): what max
 * gt_receive_match(match, arg, 0, ...) calls in a row would return, under
 * one lock (an echo server takes a pipelining peer's packets as one run).
 * The others stay in the mailbox, in order.  Returns 0 with *n_out >= 1
 * (the caller owns each message), GT_ETIMEOUT when none matches, GT_EBADARG
 * for a NULL msgs_out or n_out or a max of 0. */
int gt_receive_many(gt_match_fn match, void *arg, gt_msg **msgs_out, size_t max, size_t *n_out);

/* A ready-made predicate: messages about the socket *(gt_socket *)arg
 * (false if msg or arg is NULL). */
bool gt_match_socket(const gt_msg *msg, void *arg);

/* An eventfd that is readable while the caller's mailbox is not empty, for
 * waiting on a mailbox from a foreign event loop.  Owned by the process. */
int gt_mailbox_fd(void);

/* The number of messages in pid's mailbox (process_info(Pid,
 * message_queue_len)): 0 and *len_out, GT_ENOPROC for a dead pid, GT_EBADARG
 * for a NULL len_out. */
int gt_mailbox_len(gt_pid pid, size_t *len_out);

/* Back-pressure (gentcp; Erlang has none): limits the caller's mailbox to
 * max_msgs messages as far as its sockets are concerned (0, the default:
 * no limit).  An active socket whose owner has max_msgs or more messages
 * queued stops reading: the bytes stay in the kernel and TCP flow control
 * slows the peer down, instead of the mailbox growing without bound.  The
 * socket keeps its active mode and its {active, once | N} count; it reads
 * on, in order, once a receive has brought the mailbox down to max_msgs/2
 * (or the limit is raised or removed).  A batch framed from one read may
 * end a few messages past the limit; nothing else is: gt_post, timers and
 * monitors are never refused (an Erlang send never is), they only count
 * towards the limit.  A limit above 2^32-1 messages is held at that.  0,
 * or -ENOMEM when the caller is not a process. */
int gt_set_mailbox_limit(size_t max_msgs);

/* Waiting for a descriptor the program owns (a pipe, stdin, an eventfd, a
 * socket made outside gentcp): parks the calling process -- a spawned one
 * or an OS thread -- until fd is ready for what events asks (GT_FD_READ,
 * GT_FD_WRITE, or both; as poll()), without blocking its scheduler's other
 * processes.  0 and *revents_out (may be NULL): what is ready, among what
 * was asked; a hang-up or an error counts as ready (the next read or write
 * says which: 0 for EOF, -1 with errno).  GT_ETIMEOUT after timeout_ms
 * (0: just a check; GT_INFINITY); GT_EEXITING at once when an exit signal
 * is ending the caller ("Links and exit signals").  GT_EBADARG for a
 * negative fd, no or unknown events; -EBADF for an fd that is not open;
 * -EBUSY when the same scheduler already waits on the same open file for
 * another process (or it is a gentcp socket's fd); -ENOMEM.  A regular
 * file is always ready.
 * The fd stays the caller's: gentcp neither reads, writes nor closes it,
 * and watches it only during the call; it must stay open until the call
 * returns (closing it from elsewhere meanwhile leaves the wait to its
 * timeout). */
#define GT_FD_READ 1u
#define GT_FD_WRITE 2u
int gt_wait_fd(int fd, uint32_t events, int64_t timeout_ms, uint32_t *revents_out);

/* Timers that end in a message.  After ms milliseconds (0 .. GT_TIMER_MAX_MS),
 * dest receives a copy of the len bytes at data with tag: as a GT_MSG_USER
 * (gt_send_after, erlang:send_after/3) or as a GT_MSG_TIMEOUT whose timer
 * field is *ref_out (gt_start_timer, {timeout, Ref, Msg}).  As in Erlang,
 * a timer is cancelled when dest is not alive or exits: it sends nothing
 * and its memory is freed with the exit, not at its deadline (gt_read_timer
 * and gt_cancel_timer then return -1).  ref_out may be NULL: a timer
 * never read or cancelled (a gt_start_timer's message still carries its
 * handle).  Returns 0, GT_EBADARG (ms out of range, NULL data with len),
 * GT_ESYSTEM_LIMIT or -ENOMEM.
 * Callable from any process or thread; a timer costs one allocation of
 * about 100 bytes plus its payload until it fires or is cancelled. */
#define GT_TIMER_MAX_MS ((int64_t)1 << 42) /* ~139 years */
int gt_send_after(int64_t ms, gt_pid dest, int tag, const void *data, size_t len,
                  gt_timer *ref_out);
int gt_start_timer(int64_t ms, gt_pid dest, int tag, const void *data, size_t len,
                   gt_timer *ref_out);

/* erlang:cancel_timer/1: stops the timer and returns the milliseconds that
 * were left (>= 0), or -1 (Erlang's false) if it has fired or been cancelled
 * already, its destination is dead, or ref names no timer.  A message that
 * was already sent stays in the mailbox. */
int64_t gt_cancel_timer(gt_timer ref);

/* erlang:read_timer/1: the milliseconds left, or -1 as for cancel. */
int64_t gt_read_timer(gt_timer ref);

/* Unix signals as messages.  After gt_signal_subscribe(signo) the caller
 * receives a GT_MSG_SIGNAL (tag = signo) each time the signal arrives,
 * instead of the signal's default action; this is the way to handle SIGTERM
 * and SIGINT (stop accepting, finish, gt_stop, return from main).  Several
 * processes may subscribe to one signal; each gets the message.  A second
 * arrival while the first is still on its way may be merged with it, as
 * the kernel merges pending signals.  When the last subscriber
 * unsubscribes or exits, the disposition found before is restored.
 * GT_EBADARG for signals that cannot be caught or that report faults
 * (SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS,
 * SIGABRT), and from gt_signal_unsubscribe when the caller was not
 * subscribed. */
int gt_signal_subscribe(int signo);
int gt_signal_unsubscribe(int signo);

/* ------------------------------------------------------------------------ */
/* Options                                                                  */
/* ------------------------------------------------------------------------ */

typedef enum gt_optname {
    GT_OPT_END_ = 0,
    GT_OPT_INET_BACKEND, /* i: GT_BACKEND_INET | GT_BACKEND_SOCKET; first  */
    GT_OPT_ACTIVE,       /* i: GT_ACTIVE_* (see below)                     */
    GT_OPT_PACKET,       /* i: gt_packet_type                              */
    GT_OPT_PACKET_SIZE,  /* i: >= 0, 0 = no limit                          */
    GT_OPT_MODE,         /* i: GT_MODE_LIST | GT_MODE_BINARY               */
    GT_OPT_HEADER,       /* i: >= 0                                        */
    GT_OPT_BUFFER,       /* i: user-level buffer, caps a raw message; a
                            packet header must fit in it (or in
                            packet_size when larger), else emsgsize, as
                            in inet                                     */
    GT_OPT_REUSEADDR,    /* b                                              */
    GT_OPT_BACKLOG,      /* i: listen only, default 5                      */
    GT_OPT_IP,           /* s: local address ("127.0.0.1", "::1", "any",
                            "loopback"); same as ifaddr                    */
    GT_OPT_PORT,         /* i: local port                                  */
    GT_OPT_FAMILY,       /* i: GT_INET | GT_INET6                          */
    GT_OPT_NODELAY,      /* b                                              */
    GT_OPT_KEEPALIVE,    /* b                                              */
    GT_OPT_SEND_TIMEOUT, /* i: ms >= 0 or GT_INFINITY                      */
    GT_OPT_SEND_TIMEOUT_CLOSE, /* b                                        */
    GT_OPT_EXIT_ON_CLOSE,/* b                                              */
    GT_OPT_SHOW_ECONNRESET, /* b                                           */
    GT_OPT_HIGH_WATERMARK,  /* i                                           */
    GT_OPT_LOW_WATERMARK,   /* i                                           */
    GT_OPT_RECBUF,       /* i: SO_RCVBUF                                   */
    GT_OPT_SNDBUF,       /* i: SO_SNDBUF                                   */
    GT_OPT_LINGER,       /* linger: {on, seconds}                          */
    GT_OPT_DELAY_SEND,   /* b                                              */
    GT_OPT_LINE_DELIMITER, /* i: the byte that ends a line; any integer,
                            of which the low byte counts, as in inet
                            (266 is '\n', -1 is 255)                     */
    GT_OPT_TOS,          /* i                                              */
    GT_OPT_PRIORITY,     /* i                                              */
    GT_OPT_TTL,          /* i                                              */
    GT_OPT_IPV6_V6ONLY,  /* b                                              */
    GT_OPT_DEBUG,        /* b (accepted, no effect)                        */
    GT_OPT_DONTROUTE,    /* b                                              */
    /* gentcp's own (docs/DEVIATIONS.md): */
    GT_OPT_LINE_LENGTH,  /* i: {packet,line} lines longer than this are
                            delivered in pieces of this size, cut before
                            packet_size is checked (as inet cuts at
                            buffer, rule 83); 0 (default) = whole lines,
                            up to packet_size, or GT_LINE_MAX_DEFAULT
                            when packet_size is 0.  Erlang's inet cuts at
                            buffer (1460): set it to that for Erlang's
                            behaviour                                    */
    GT_OPT_DISCARD_PARTIAL, /* b: at the peer's close or reset, drop an
                            incomplete packet silently as Erlang does;
                            default false: deliver it (raw, including a
                            short recv(S, N); line) or report truncated */
    GT_OPT_REUSEPORT,    /* b: listen only: SO_REUSEPORT before bind, so
                            several listen sockets share a port, each with
                            its own accept queue, the kernel spreading the
                            connections (OTP 26's {reuseport, true})     */
    GT_OPT_LOCAL,        /* bin: {ifaddr, {local, Path}}: an AF_UNIX
                            stream socket bound to Path (listen, and the
                            local end of a connect); a leading NUL byte
                            names an abstract socket.  At most 107 bytes,
                            else -EINVAL (as inet); the port must be 0.
                            Path is never unlinked, by close either (as
                            Erlang): a second listen on it fails with
                            -EADDRINUSE until the file is removed        */
    GT_OPT_FD,           /* i: {fd, Fd}: listen and connect adopt this
                            open socket instead of making one (systemd
                            socket activation).  From a successful call
                            on, gentcp owns it (made non-blocking and
                            close-on-exec, closed by gt_close); a failing
                            call leaves it the caller's.  listen calls
                            listen() on it again (the backlog option);
                            connect connects it, or, if it is connected
                            already, adopts it as is (Erlang: eisconn,
                            docs/DEVIATIONS.md).  -EBADF if not open,
                            -ENOTSOCK, -EINVAL if not SOCK_STREAM.
                            getopts reads the descriptor on the socket
                            backend (still gentcp's), einval on inet     */
    /* issue 9 (docs/OPTIONS.md has every option's row): */
    GT_OPT_RAW,          /* raw: {level, name, p, len}: setsockopt(level,
                            name) with len bytes at p; getopts reads at
                            most len bytes into p (the caller's buffer)
                            and sets len to what the kernel returned    */
    GT_OPT_RECVTOS,      /* b: IP_RECVTOS, read back through pktoptions   */
    GT_OPT_RECVTTL,      /* b: IP_RECVTTL                                  */
    GT_OPT_RECVTCLASS,   /* b: IPV6_RECVTCLASS (inet6 sockets only)        */
    GT_OPT_PKTOPTIONS,   /* getopts only: pkt {tos, ttl, tclass} of the
                            last segment received (IP_PKTOPTIONS), -1
                            where absent                                 */
    GT_OPT_TCLASS,       /* i: IPV6_TCLASS (inet6 sockets only)            */
    GT_OPT_HIGH_MSGQ_WATERMARK, /* i >= 1: senders waiting on the socket
                            are suspended while the bytes they wait with
                            exceed it ... */
    GT_OPT_LOW_MSGQ_WATERMARK,  /* i >= 1: ... until below this (inet)     */
    GT_OPT_BIND_TO_DEVICE, /* bin: interface name (SO_BINDTODEVICE): setopts
                            takes p as a NUL-terminated name ("" unbinds);
                            getopts fills the caller's buffer p of len
                            bytes with the name and its NUL, and sets len
                            to the name's length                         */
    GT_OPT_NETNS,        /* s: listen/connect only: the socket is made in
                            the network namespace of this file
                            (/var/run/netns/NAME); needs CAP_SYS_ADMIN   */
    GT_OPT_DELIVER,      /* i: GT_DELIVER_TERM | GT_DELIVER_PORT (accepted
                            and read back; messages keep one form)       */
    GT_OPT_NOPUSH,       /* b: TCP_CORK (inet; the socket backend ignores
                            it, as OTP 25 does)                          */
    GT_OPT_BROADCAST,    /* b: SO_BROADCAST (inet backend only)            */
    GT_OPT_TCP_MODULE,   /* p: const gt_transport * (listen, connect): the
                            byte stream under the socket (see "Transports"
                            below); accepted sockets inherit it            */
    GT_OPT_COUNT_
} gt_optname;

/* {packet,line} keeps lines whole (docs/DEVIATIONS.md), so a line needs a
 * bound: with packet_size 0 and line_length 0, a line (delimiter included)
 * longer than this many bytes is the error emsgsize -- never a silent cut
 * -- and a peer sending one endless line holds at most about this much
 * memory per connection (Erlang holds `buffer`, 1460 bytes, and cuts).  A
 * packet_size > 0 is the bound instead (set it higher for longer lines);
 * line_length cuts lines instead.  http lines are bounded by packet_size,
 * or by buffer when it is 0, as in Erlang. */
#define GT_LINE_MAX_DEFAULT (1u << 20)

/* Values of GT_OPT_ACTIVE.  N-mode counters are plain ints in
 * -32768..32767; the three atoms sit outside the range of int, so that no
 * int N (a C "true" included) can be mistaken for one: every value reads
 * back as what was set. */
#define GT_ACTIVE_FALSE_V (INT64_C(1) << 32)
#define GT_ACTIVE_TRUE_V ((INT64_C(1) << 32) + 1)
#define GT_ACTIVE_ONCE_V ((INT64_C(1) << 32) + 2)

/* {inet_backend, B}, which must be the first option of gt_listen or
 * gt_connect (an accepted socket has its listen socket's).  A list without
 * it takes the process's default: the environment variable
 * GENTCP_INET_BACKEND ("inet" or "socket"; anything else is inet), read
 * once, at the process's first socket -- as Erlang reads ERL_FLAGS
 * "-kernel inet_backend socket" at boot -- else inet.  The option, the
 * program's explicit choice, always wins over the environment; gt_config
 * has no backend field.  What differs on the socket backend
 * (docs/spec/semantics.md section 10): blocking send (gt_send_partial),
 * immediate close and shutdown(write), closed forever after the end of
 * input, queued recvs, kept emsgsize, lines cut at packet_size, einval for
 * an activation after the end, controlling_process to a dead process ok. */
enum gt_backend { GT_BACKEND_INET = 1, GT_BACKEND_SOCKET = 2 };
enum gt_mode { GT_MODE_LIST = 0, GT_MODE_BINARY = 1 };
enum gt_family { GT_INET = 4, GT_INET6 = 6 };
enum gt_deliver { GT_DELIVER_TERM = 0, GT_DELIVER_PORT = 1 };

/* {packet, T}.  0, 1, 2, 4 are their own values so GT_PACKET(4) reads as in
 * Erlang. */
typedef enum gt_packet_type {
    GT_PKT_RAW = 0,
    GT_PKT_1 = 1,
    GT_PKT_2 = 2,
    GT_PKT_4 = 4,
    GT_PKT_ASN1 = 10,
    GT_PKT_SUNRM,
    GT_PKT_CDR,
    GT_PKT_FCGI,
    GT_PKT_TPKT,
    GT_PKT_LINE,
    GT_PKT_HTTP,
    GT_PKT_HTTPH,
    GT_PKT_HTTP_BIN,
    GT_PKT_HTTPH_BIN
} gt_packet_type;

/* One option: a name and a value.  Build them with the macros below. */
typedef struct gt_opt {
    gt_optname name;
    union {
        int64_t i;       /* integers, booleans, enums          */
        const char *s;   /* GT_OPT_IP: borrowed for the call   */
        struct {
            int on;
            int seconds;
        } linger;
        struct {         /* GT_OPT_LOCAL: borrowed, never written;
                            GT_OPT_BIND_TO_DEVICE: see the option */
            void *p;
            size_t len;
        } bin;
        struct {         /* GT_OPT_RAW                          */
            int level, name;
            void *p;     /* setopts: borrowed; getopts: filled */
            size_t len;  /* getopts: capacity in, length out   */
        } raw;
        struct {         /* GT_OPT_PKTOPTIONS: -1 = absent      */
            int tos, ttl, tclass;
        } pkt;
        const void *p;   /* GT_OPT_TCP_MODULE: must outlive the socket */
    } v;
} gt_opt;

/* A list of options.  The array is borrowed for the duration of the call.
 * As in Erlang: in gt_listen/gt_connect the last of two duplicates wins;
 * gt_setopts on the inet backend applies the list last-to-first, so there
 * the first wins (docs/spec/semantics.md rule 5), while the socket backend goes in
 * order.  A bad value anywhere rejects the whole list. */
typedef struct gt_optlist {
    const gt_opt *opts;
    size_t count;
} gt_optlist;

#ifndef __cplusplus
#define GT_OPTS(...)                                                           \
    ((gt_optlist){(const gt_opt[]){__VA_ARGS__},                               \
                  sizeof((gt_opt[]){__VA_ARGS__}) / sizeof(gt_opt)})
#define GT_NOOPTS ((gt_optlist){NULL, 0})

#define GT__OPT_I(n, x) ((gt_opt){.name = (n), .v.i = (int64_t)(x)})
#define GT__OPT_S(n, x) ((gt_opt){.name = (n), .v.s = (x)})
#define GT__OPT_P(n, x) ((gt_opt){.name = (n), .v.p = (x)})
#define GT__OPT_LINGER(on_, secs)                                              \
    ((gt_opt){.name = GT_OPT_LINGER, .v.linger = {(on_), (secs)}})
#define GT__OPT_RAW(l_, n_, p_, len_)                                          \
    ((gt_opt){.name = GT_OPT_RAW, .v.raw = {(l_), (n_), (void *)(p_), (len_)}})
#define GT__OPT_BIN(n, p_, len_) ((gt_opt){.name = (n), .v.bin = {(p_), (len_)}})
#else
/* C++ (11 or later) has no compound literals: the builders are functions,
 * and GT_OPTS(...) is a temporary array that lives until the end of the
 * full expression.  Pass it straight to the call; a gt_optlist kept in a
 * variable would point at a dead array. */
extern "C++" {
inline gt_opt gt__opt_i(gt_optname n, int64_t x)
{
    gt_opt o = gt_opt();
    o.name = n;
    o.v.i = x;
    return o;
}
inline gt_opt gt__opt_s(gt_optname n, const char *x)
{
    gt_opt o = gt_opt();
    o.name = n;
    o.v.s = x;
    return o;
}
inline gt_opt gt__opt_p(gt_optname n, const void *x)
{
    gt_opt o = gt_opt();
    o.name = n;
    o.v.p = x;
    return o;
}
inline gt_opt gt__opt_linger(int on, int seconds)
{
    gt_opt o = gt_opt();
    o.name = GT_OPT_LINGER;
    o.v.linger.on = on;
    o.v.linger.seconds = seconds;
    return o;
}
inline gt_opt gt__opt_bin(gt_optname n, void *p, size_t len)
{
    gt_opt o = gt_opt();
    o.name = n;
    o.v.bin.p = p;
    o.v.bin.len = len;
    return o;
}
template <size_t N> struct gt__opt_array {
    gt_opt a[N];
    operator gt_optlist() const
    {
        gt_optlist l = {a, N};
        return l;
    }
};
template <typename... T> inline gt__opt_array<sizeof...(T)> gt__opts(const T &...o)
{
    gt__opt_array<sizeof...(T)> r = {{o...}};
    return r;
}
}
#define GT_OPTS(...) (gt__opts(__VA_ARGS__))
#define GT_NOOPTS (gt_optlist())
#define GT__OPT_I(n, x) gt__opt_i((n), (int64_t)(x))
#define GT__OPT_S(n, x) gt__opt_s((n), (x))
#define GT__OPT_P(n, x) gt__opt_p((n), (x))
#define GT__OPT_LINGER(on_, secs) gt__opt_linger((on_), (secs))
inline gt_opt gt__opt_raw(int level, int name, void *p, size_t len)
{
    gt_opt o = gt_opt();
    o.name = GT_OPT_RAW;
    o.v.raw.level = level;
    o.v.raw.name = name;
    o.v.raw.p = p;
    o.v.raw.len = len;
    return o;
}
#define GT__OPT_RAW(l_, n_, p_, len_) gt__opt_raw((l_), (n_), (void *)(p_), (len_))
#define GT__OPT_BIN(n, p_, len_) gt__opt_bin((n), (p_), (len_))
#endif
#define GT_INET_BACKEND(b) GT__OPT_I(GT_OPT_INET_BACKEND, b)
#define GT_ACTIVE_FALSE GT__OPT_I(GT_OPT_ACTIVE, GT_ACTIVE_FALSE_V)
#define GT_ACTIVE_TRUE GT__OPT_I(GT_OPT_ACTIVE, GT_ACTIVE_TRUE_V)
#define GT_ACTIVE_ONCE GT__OPT_I(GT_OPT_ACTIVE, GT_ACTIVE_ONCE_V)
#define GT_ACTIVE_N(n) GT__OPT_I(GT_OPT_ACTIVE, n)
#define GT_PACKET(t) GT__OPT_I(GT_OPT_PACKET, t)
#define GT_PACKET_SIZE(n) GT__OPT_I(GT_OPT_PACKET_SIZE, n)
#define GT_BINARY GT__OPT_I(GT_OPT_MODE, GT_MODE_BINARY)
#define GT_LIST GT__OPT_I(GT_OPT_MODE, GT_MODE_LIST)
#define GT_HEADER(n) GT__OPT_I(GT_OPT_HEADER, n)
#define GT_BUFFER(n) GT__OPT_I(GT_OPT_BUFFER, n)
#define GT_REUSEADDR(b) GT__OPT_I(GT_OPT_REUSEADDR, b)
#define GT_REUSEPORT(b) GT__OPT_I(GT_OPT_REUSEPORT, b)
#define GT_TCP_MODULE(t) GT__OPT_P(GT_OPT_TCP_MODULE, t)
#define GT_BACKLOG(n) GT__OPT_I(GT_OPT_BACKLOG, n)
#define GT_IP(str) GT__OPT_S(GT_OPT_IP, str)
#define GT_IFADDR(str) GT_IP(str)
#define GT_PORT(n) GT__OPT_I(GT_OPT_PORT, n)
#define GT_FAMILY(f) GT__OPT_I(GT_OPT_FAMILY, f)
#define GT_NODELAY(b) GT__OPT_I(GT_OPT_NODELAY, b)
#define GT_KEEPALIVE(b) GT__OPT_I(GT_OPT_KEEPALIVE, b)
#define GT_SEND_TIMEOUT(ms) GT__OPT_I(GT_OPT_SEND_TIMEOUT, ms)
#define GT_SEND_TIMEOUT_CLOSE(b) GT__OPT_I(GT_OPT_SEND_TIMEOUT_CLOSE, b)
#define GT_EXIT_ON_CLOSE(b) GT__OPT_I(GT_OPT_EXIT_ON_CLOSE, b)
#define GT_SHOW_ECONNRESET(b) GT__OPT_I(GT_OPT_SHOW_ECONNRESET, b)
#define GT_HIGH_WATERMARK(n) GT__OPT_I(GT_OPT_HIGH_WATERMARK, n)
#define GT_LOW_WATERMARK(n) GT__OPT_I(GT_OPT_LOW_WATERMARK, n)
#define GT_RECBUF(n) GT__OPT_I(GT_OPT_RECBUF, n)
#define GT_SNDBUF(n) GT__OPT_I(GT_OPT_SNDBUF, n)
#define GT_LINGER(on_, secs) GT__OPT_LINGER(on_, secs)
#define GT_DELAY_SEND(b) GT__OPT_I(GT_OPT_DELAY_SEND, b)
#define GT_LINE_DELIMITER(c) GT__OPT_I(GT_OPT_LINE_DELIMITER, c)
#define GT_TOS(n) GT__OPT_I(GT_OPT_TOS, n)
#define GT_PRIORITY(n) GT__OPT_I(GT_OPT_PRIORITY, n)
#define GT_TTL(n) GT__OPT_I(GT_OPT_TTL, n)
#define GT_IPV6_V6ONLY(b) GT__OPT_I(GT_OPT_IPV6_V6ONLY, b)
#define GT_DEBUG(b) GT__OPT_I(GT_OPT_DEBUG, b)
#define GT_DONTROUTE(b) GT__OPT_I(GT_OPT_DONTROUTE, b)
#define GT_LINE_LENGTH(n) GT__OPT_I(GT_OPT_LINE_LENGTH, n)
#define GT_DISCARD_PARTIAL(b) GT__OPT_I(GT_OPT_DISCARD_PARTIAL, b)
/* {ifaddr, {local, Path}}: a path (a C string), or len bytes that may
 * start with NUL (an abstract name, Erlang's <<0, ...>>). */
#define GT_LOCAL(path) GT__OPT_BIN(GT_OPT_LOCAL, (void *)(path), strlen(path))
#define GT_LOCAL_BYTES(p, len) GT__OPT_BIN(GT_OPT_LOCAL, (void *)(p), (len))
#define GT_FD(fd) GT__OPT_I(GT_OPT_FD, fd)
#define GT_RECVTOS(b) GT__OPT_I(GT_OPT_RECVTOS, b)
#define GT_RECVTTL(b) GT__OPT_I(GT_OPT_RECVTTL, b)
#define GT_RECVTCLASS(b) GT__OPT_I(GT_OPT_RECVTCLASS, b)
#define GT_TCLASS(n) GT__OPT_I(GT_OPT_TCLASS, n)
#define GT_HIGH_MSGQ_WATERMARK(n) GT__OPT_I(GT_OPT_HIGH_MSGQ_WATERMARK, n)
#define GT_LOW_MSGQ_WATERMARK(n) GT__OPT_I(GT_OPT_LOW_MSGQ_WATERMARK, n)
#define GT_NETNS(path) GT__OPT_S(GT_OPT_NETNS, path)
#define GT_DELIVER(d) GT__OPT_I(GT_OPT_DELIVER, d)
#define GT_NOPUSH(b) GT__OPT_I(GT_OPT_NOPUSH, b)
#define GT_BROADCAST(b) GT__OPT_I(GT_OPT_BROADCAST, b)
/* {raw, Level, Name, Bin} with len bytes at p; {bind_to_device, Name}
 * with a NUL-terminated interface name ("" unbinds). */
#define GT_RAW(level_, name_, p_, len_) GT__OPT_RAW(level_, name_, p_, len_)
#define GT_BIND_TO_DEVICE(str) GT__OPT_BIN(GT_OPT_BIND_TO_DEVICE, (void *)(str), 0)

/* The atom name of an option ("packet_size"), or NULL. */
const char *gt_opt_name(gt_optname name);

/* ------------------------------------------------------------------------ */
/* Sockets                                                                  */
/* ------------------------------------------------------------------------ */

/* gen_tcp:listen/2.  port 0 picks an ephemeral port (see gt_port()).
 * Bad options return GT_EBADARG (Erlang raises badarg). */
int gt_listen(int port, gt_optlist opts, gt_socket *lsock_out);

/* gen_tcp:accept/2.  Any process may accept; concurrent acceptors are served
 * first come, first served.  The new socket is owned by the caller and
 * inherits the listen socket's options.
 * Out of file descriptors it returns -EMFILE (-ENFILE) at once, as Erlang
 * does, and the connection stays queued; the next accept on that listen
 * socket waits 50 ms before it tries again, so an acceptor that loops on
 * the error does not spin, and is served within that pause once a
 * descriptor is free.  gt_listen and gt_connect report -EMFILE likewise. */
int gt_accept(gt_socket lsock, int64_t timeout_ms, gt_socket *sock_out);

/* gen_tcp:connect/4.  host is a name or a literal address; every resolved
 * address (up to 8) is tried in order.  A name is looked up as by
 * gt_getaddrs (the family option's, else any), within timeout_ms, which
 * covers the lookup and the connects; GT_ENXDOMAIN if it does not resolve,
 * GT_EBADARG for NULL or "". */
int gt_connect(const char *host, int port, gt_optlist opts, int64_t timeout_ms,
               gt_socket *sock_out);

/* gen_tcp:connect(SockAddr, Opts, Timeout): connects to an address given
 * whole, with nothing to look up: a sockaddr_in, a sockaddr_in6 (its
 * sin6_scope_id chooses the interface of a link-local address such as
 * fe80::1%eth0; gt_connect takes "fe80::1%eth0" too), or a sockaddr_un
 * (Erlang's {local, Path}: see gt_local_sockaddr).  len is the address's
 * length (for AF_UNIX it decides an abstract name's length).  Options and
 * timeout as gt_connect; GT_EBADARG for addr NULL, a len too short for its
 * family, or another family. */
int gt_connect_sockaddr(const struct sockaddr *addr, socklen_t len, gt_optlist opts,
                        int64_t timeout_ms, gt_socket *sock_out);

/* Erlang's {local, Path} as a sockaddr_un in *out and its length in
 * *len_out: path_len bytes of path (a leading NUL for an abstract name).
 * 0, -EINVAL when longer than 107 bytes (inet's einval), GT_EBADARG for a
 * NULL pointer (path may be NULL when path_len is 0: Linux then picks an
 * abstract name at bind). */
int gt_local_sockaddr(const void *path, size_t path_len, struct sockaddr_storage *out,
                      socklen_t *len_out);

/* inet:getaddrs/3: the addresses of host (a name or a literal address) for
 * family AF_INET or AF_INET6 (Erlang's inet, inet6; any other is -EINVAL).
 * Stores up to cap addresses (port 0, no duplicates) in addrs[], which the
 * caller owns, and their number in *n_out (0 on error).  host is borrowed
 * for the call only.
 * A name's lookup (getaddrinfo, which may wait for a DNS server) runs on
 * one of at most 4 resolver threads while the caller parks, so other
 * processes on its scheduler keep running; after timeout_ms it returns
 * GT_ETIMEOUT and the lookup finishes, unseen, in the background.  Literal
 * addresses, "localhost" for AF_INET (127.0.0.1) and names under
 * ".invalid" (nxdomain) are answered at once without a lookup (RFC 6761).
 * Errors: GT_ENXDOMAIN (no address of that family, also for a literal of
 * the other family), GT_ETIMEOUT, -EINVAL for "" or a bad family,
 * GT_EBADARG for host, addrs or n_out NULL or cap 0. */
int gt_getaddrs(const char *host, int family, int64_t timeout_ms, struct sockaddr_storage *addrs,
                size_t cap, size_t *n_out);

/* gen_tcp:send/2.  The bytes are framed for the socket's packet type and
 * copied before the call returns.  With {packet,1|2} a payload too long for
 * its header fails with -EMSGSIZE and nothing is sent (Erlang truncates the
 * header and corrupts the stream; see docs/DEVIATIONS.md); with {packet,4}
 * so does one above 2 GiB - 5 bytes, which no Erlang receiver accepts.
 * What the kernel does not take is queued.  A send onto an empty queue
 * returns at once, whatever its size; one that finds data queued and takes
 * the queue to high_watermark waits (send_timeout applies) until the queue
 * drains to low_watermark, and every other sender waits behind it. */
int gt_send(gt_socket sock, const void *data, size_t len);
/* On the socket backend ({inet_backend, socket}) there is no queue: a send
 * returns once the kernel took the whole packet (senders take turns), or
 * fails with GT_ETIMEOUT when send_timeout expires first; with
 * send_timeout_close the socket is then closed (later calls: GT_ECLOSED).
 * Erlang returns {error, {timeout, RestData}} there: gt_send_partial and
 * gt_sendv_partial tell the caller the rest. */

/* gen_tcp:send/2 with iodata: the iovcnt (<= 1024) iovecs are one packet.
 * GT_EBADARG for a negative or larger iovcnt, iov NULL with iovcnt > 0, an
 * iovec with a NULL base and a non-zero length (also data NULL with len > 0
 * in gt_send), or lengths whose sum overflows size_t. */
int gt_sendv(gt_socket sock, const struct iovec *iov, int iovcnt);

/* gt_send / gt_sendv that also report progress: *sent (may be NULL) is the
 * number of bytes of the packet -- its {packet,1|2|4} header first, then
 * the data -- that the socket took.  Socket backend: the bytes the kernel
 * took, whatever the result; on GT_ETIMEOUT the unsent rest, Erlang's
 * RestData, is the packet's last (header + len - *sent) bytes, so with no
 * header (raw, line, ...) it is data + *sent; a packet whose header did not
 * go out completely has *sent below the header's length.  inet backend:
 * header + len when the send returned 0 or GT_ETIMEOUT (the data is queued
 * and still goes out, rule 33), else 0. */
int gt_send_partial(gt_socket sock, const void *data, size_t len, size_t *sent);
int gt_sendv_partial(gt_socket sock, const struct iovec *iov, int iovcnt, size_t *sent);

/* Sends count packets, each framed on its own, with one lock and (unless
 * the kernel pushes back) one write: for pipelined protocols, where one
 * gt_send per packet costs a system call each.  Stops at the first packet
 * that cannot be sent (-EMSGSIZE for its header, or a socket error);
 * *sent (may be NULL) tells how many packets were accepted.  For the
 * high_watermark rule of gt_send the packets count as one send.  count is
 * 0..1024; the argument checks are gt_sendv's (GT_EBADARG, nothing sent). */
int gt_send_many(gt_socket sock, const struct iovec *packets, int count, int *sent);

/* gen_tcp:recv/3 on a passive socket: one packet (length 0) or exactly
 * length bytes (raw mode only).  On 0, *msg_out is a GT_MSG_TCP (or
 * GT_MSG_HTTP) message the caller owns. */
int gt_recv(gt_socket sock, size_t length, int64_t timeout_ms, gt_msg **msg_out);

/* gen_tcp:close/1.  Returns 0 also when the socket is already closed
 * (inet backend), as Erlang does; the socket backend returns GT_ECLOSED
 * then (rule 41).  inet waits for queued output (rule 43); the socket
 * backend has none and closes at once: a send still writing gets
 * GT_ECLOSED. */
int gt_close(gt_socket sock);

typedef enum gt_shutdown_how { GT_SHUT_READ = 1, GT_SHUT_WRITE, GT_SHUT_READ_WRITE } gt_shutdown_how;

/* gen_tcp:shutdown/2.  Any other how is GT_EBADARG. */
int gt_shutdown(gt_socket sock, gt_shutdown_how how);

/* gen_tcp:controlling_process/2: only the owner may call it; pending
 * messages about the socket move to the new owner, in order. */
int gt_controlling_process(gt_socket sock, gt_pid new_owner);

/* inet:setopts/2 and inet:getopts/2.  getopts fills in the value of every
 * opts[i] whose name is set; an option this socket does not have (as
 * ipv6_v6only on an IPv4 socket, which Erlang silently omits) comes back
 * with its name set to GT_OPT_END_.  An unknown name fails the whole call
 * with -EINVAL, as does a stale handle (GT_ECLOSED on the socket backend)
 * or opts NULL with a count in setopts; opts NULL with a count in getopts
 * is GT_EBADARG.  For GT_OPT_RAW and GT_OPT_BIND_TO_DEVICE getopts writes
 * into the caller's buffer (v.raw.p / v.bin.p, capacity in len);
 * GT_OPT_PKTOPTIONS is getopts only.  docs/OPTIONS.md lists every option. */
int gt_setopts(gt_socket sock, gt_optlist opts);
int gt_getopts(gt_socket sock, gt_opt *opts, size_t count);

/* inet:port/1, inet:sockname/1, inet:peername/1.  A stale handle is -EINVAL
 * (inet; GT_ECLOSED on the socket backend); port_out and len may be NULL, addr may not (GT_EBADARG). */
int gt_port(gt_socket sock, int *port_out);
int gt_sockname(gt_socket sock, struct sockaddr_storage *addr, socklen_t *len);
int gt_peername(gt_socket sock, struct sockaddr_storage *addr, socklen_t *len);

/* Formats an address as "127.0.0.1:5678", "[::1]:5678" ("[fe80::1%lo]:5678"
 * with a scope id) or, for AF_UNIX, "local:/path" ("local:@name" for an
 * abstract name, whose trailing NUL bytes are not shown; "local:" for an
 * unbound end) into buf (cut short to len - 1 bytes).  Returns buf, with ""
 * for a NULL addr or another family; a static "" if buf is NULL or len is
 * 0.  On an AF_UNIX socket gt_port gives 0 (inet:port/1 returns the path,
 * which gt_sockname gives). */
const char *gt_addr_str(const struct sockaddr_storage *addr, char *buf, size_t len);

/* The process that controls sock, or {0} if it is closed. */
gt_pid gt_owner(gt_socket sock);

/* ------------------------------------------------------------------------ */
/* Statistics and the socket listing (inet:getstat/1, inet:i/0)             */
/* ------------------------------------------------------------------------ */

/* inet:getstat/1's counters, as inet_drv keeps them.  A packet is what one
 * message (active) or one gt_recv delivers, and what one gt_send (one packet
 * of gt_send_many) hands over; its length includes the packet header.
 *   recv_oct, send_oct: bytes read from / handed to the kernel's socket
 *     (send_oct: every byte of every accepted send, queued or written);
 *   recv_cnt, send_cnt: packets received / sent;
 *   recv_max, send_max: the longest packet;
 *   recv_avg, send_avg: the running average packet length (truncated);
 *   recv_dvi: the running average of each packet's deviation from the
 *     average at that point, absolute value, truncated (inet_drv's);
 *   send_pend: bytes queued in gentcp, not yet taken by the kernel.
 * The counters cost a few arithmetic operations per packet under the
 * socket lock already held.  A listen socket's are all 0. */
typedef struct gt_stats {
    uint64_t recv_oct, recv_cnt, recv_max, recv_avg, recv_dvi;
    uint64_t send_oct, send_cnt, send_max, send_avg, send_pend;
} gt_stats;

/* 0 and *out; -EINVAL for a stale handle (as inet), GT_EBADARG for out
 * NULL. */
int gt_getstat(gt_socket sock, gt_stats *out);

/* One socket as gt_sockets_list sees it. */
typedef struct gt_sockinfo {
    gt_socket sock;
    gt_pid owner;                  /* {0} once closed                   */
    int family;                    /* AF_INET, AF_INET6, AF_UNIX         */
    int backend;                   /* GT_BACKEND_*                       */
    const char *state;             /* static: "LISTEN", "CONNECTED",
                                      "CONNECTING" or "CLOSED" (the
                                      input ended and inet's driver
                                      closed it; the handle waits for
                                      its owner's gt_close)             */
    struct sockaddr_storage local; /* ss_family 0 when unknown           */
    struct sockaddr_storage peer;  /* ss_family 0: none (listen, gone)   */
    gt_stats stats;
    int64_t active;                /* as GT_OPT_ACTIVE                   */
    int packet;                    /* gt_packet_type                     */
    int mode;                      /* GT_MODE_*                          */
} gt_sockinfo;

/* Every open socket of the program (inet:i/0's data), in handle order:
 * *out is an array of *n entries that the caller frees with free() (NULL
 * when *n is 0).  0, -ENOMEM, GT_EBADARG for NULL pointers.  A snapshot:
 * sockets may come and go while it is taken. */
int gt_sockets_list(gt_sockinfo **out, size_t *n);

/* inet:i/0: prints the list to f, one line per socket under a header:
 * Id, Backend, Recv (recv_oct), Sent (send_oct), Owner, Local Address,
 * Foreign Address, State, Active, Packet.  0, -ENOMEM, GT_EBADARG for f
 * NULL, or -EIO when writing fails. */
int gt_sockets_print(FILE *f);

/* ======================================================================== */
/* Packet decoding: erlang:decode_packet/3 in C.  Pure: no I/O, no           */
/* allocation, no global state; results borrow from the input bytes.        */
/* ======================================================================== */

/* ------------------------------------------------------------------------ */
/* HTTP packets                                                             */
/* ------------------------------------------------------------------------ */

/* Methods Erlang reports as atoms ('GET' ...), in Erlang's table order.
 * Method matching is case-sensitive: "get" is GT_HTTP_M_OTHER. */
#define GT_HTTP_METHOD_MAP(XX)                                                 \
    XX(OPTIONS, "OPTIONS") XX(GET, "GET") XX(HEAD, "HEAD") XX(POST, "POST")    \
    XX(PUT, "PUT") XX(DELETE, "DELETE") XX(TRACE, "TRACE")

typedef enum gt_http_method {
    GT_HTTP_M_OTHER = 0, /* not a known method: see method_str */
#define GT__HTTP_M_ENUM(id, s) GT_HTTP_M_##id,
    GT_HTTP_METHOD_MAP(GT__HTTP_M_ENUM)
#undef GT__HTTP_M_ENUM
    GT_HTTP_M_COUNT_
} gt_http_method;

/* Header fields Erlang reports as atoms, numbered as Erlang numbers them in
 * {http_header, N, Name, _, _}: Cache-Control is 1 ... Proxy-Connection 52.
 * The string is the canonical spelling (also the atom's name). */
#define GT_HTTP_HEADER_MAP(XX)                                                 \
    XX(CACHE_CONTROL, "Cache-Control") XX(CONNECTION, "Connection")            \
    XX(DATE, "Date") XX(PRAGMA, "Pragma")                                      \
    XX(TRANSFER_ENCODING, "Transfer-Encoding") XX(UPGRADE, "Upgrade")          \
    XX(VIA, "Via") XX(ACCEPT, "Accept") XX(ACCEPT_CHARSET, "Accept-Charset")   \
    XX(ACCEPT_ENCODING, "Accept-Encoding")                                     \
    XX(ACCEPT_LANGUAGE, "Accept-Language")                                     \
    XX(AUTHORIZATION, "Authorization") XX(FROM, "From") XX(HOST, "Host")       \
    XX(IF_MODIFIED_SINCE, "If-Modified-Since") XX(IF_MATCH, "If-Match")        \
    XX(IF_NONE_MATCH, "If-None-Match") XX(IF_RANGE, "If-Range")                \
    XX(IF_UNMODIFIED_SINCE, "If-Unmodified-Since")                             \
    XX(MAX_FORWARDS, "Max-Forwards")                                           \
    XX(PROXY_AUTHORIZATION, "Proxy-Authorization") XX(RANGE, "Range")          \
    XX(REFERER, "Referer") XX(USER_AGENT, "User-Agent") XX(AGE, "Age")         \
    XX(LOCATION, "Location") XX(PROXY_AUTHENTICATE, "Proxy-Authenticate")      \
    XX(PUBLIC, "Public") XX(RETRY_AFTER, "Retry-After") XX(SERVER, "Server")   \
    XX(VARY, "Vary") XX(WARNING, "Warning")                                    \
    XX(WWW_AUTHENTICATE, "Www-Authenticate") XX(ALLOW, "Allow")                \
    XX(CONTENT_BASE, "Content-Base")                                           \
    XX(CONTENT_ENCODING, "Content-Encoding")                                   \
    XX(CONTENT_LANGUAGE, "Content-Language")                                   \
    XX(CONTENT_LENGTH, "Content-Length")                                       \
    XX(CONTENT_LOCATION, "Content-Location") XX(CONTENT_MD5, "Content-Md5")    \
    XX(CONTENT_RANGE, "Content-Range") XX(CONTENT_TYPE, "Content-Type")        \
    XX(ETAG, "Etag") XX(EXPIRES, "Expires")                                    \
    XX(LAST_MODIFIED, "Last-Modified") XX(ACCEPT_RANGES, "Accept-Ranges")      \
    XX(SET_COOKIE, "Set-Cookie") XX(SET_COOKIE2, "Set-Cookie2")                \
    XX(X_FORWARDED_FOR, "X-Forwarded-For") XX(COOKIE, "Cookie")                \
    XX(KEEP_ALIVE, "Keep-Alive") XX(PROXY_CONNECTION, "Proxy-Connection")

typedef enum gt_http_field {
    GT_HTTP_H_OTHER = 0, /* not a recognised header (Erlang's 0) */
#define GT__HTTP_H_ENUM(id, s) GT_HTTP_H_##id,
    GT_HTTP_HEADER_MAP(GT__HTTP_H_ENUM)
#undef GT__HTTP_H_ENUM
    GT_HTTP_H_COUNT_
} gt_http_field;

/* Longest header name Erlang canonicalises; longer names are reported
 * unchanged (and never recognised). */
#define GT_HTTP_MAX_NAME_LEN 50

/* A byte string inside a decoded packet.  Not NUL-terminated (except in
 * packets built by the socket layer, see gt_msg).  May contain any byte. */
typedef struct gt_http_str {
    const char *ptr;
    size_t len;
} gt_http_str;

typedef enum gt_http_kind {
    GT_HTTP_REQUEST = 1, /* {http_request, Method, Uri, {Major, Minor}}     */
    GT_HTTP_RESPONSE,    /* {http_response, {Major, Minor}, Status, Reason} */
    GT_HTTP_HEADER,      /* {http_header, N, Name, RawName, Value}          */
    GT_HTTP_EOH,         /* http_eoh                                        */
    GT_HTTP_ERROR        /* {http_error, Line}                              */
} gt_http_kind;

typedef enum gt_http_uri_kind {
    GT_URI_STAR = 1,  /* '*'                                               */
    GT_URI_ABS_PATH,  /* {abs_path, Path}                                  */
    GT_URI_ABSOLUTE,  /* {absoluteURI, http|https, Host, Port, Path}        */
    GT_URI_SCHEME,    /* {scheme, Scheme, Rest}: any other "x:..." form    */
    GT_URI_STRING     /* a bare string: no '/', no ':', not '*'            */
} gt_http_uri_kind;

typedef struct gt_http_uri {
    gt_http_uri_kind kind;
    bool https;         /* GT_URI_ABSOLUTE: https (else http)               */
    gt_http_str host;   /* GT_URI_ABSOLUTE: everything before the first ':'
                           of the authority (userinfo included, as Erlang);
                           GT_URI_SCHEME: the scheme                        */
    int32_t port;       /* GT_URI_ABSOLUTE: 0 = undefined; Erlang's int
                           arithmetic, so huge ports wrap (even negative)   */
    gt_http_str path;   /* ABS_PATH: the path; ABSOLUTE: path ("/" if none);
                           SCHEME: the text after ':'; STRING: the string   */
} gt_http_uri;

/*
 * One decoded HTTP packet.  Which fields are set depends on kind.  The
 * gt_http_str fields point into the decoded bytes or into static tables,
 * never into the struct (the canonical header name is held in it by value),
 * so a copy is as good as the original while the bytes live.
 * The integers are Erlang's C ints: absurdly long digit strings wrap.
 */
struct gt_http_packet {
    gt_http_kind kind;
    bool binary;              /* from http_bin/httph_bin: Erlang gives
                                 binaries, else strings (lists)           */
    /* GT_HTTP_REQUEST */
    gt_http_method method;    /* GT_HTTP_M_OTHER: see method_str          */
    gt_http_str method_str;   /* the method as sent                       */
    gt_http_uri uri;
    /* GT_HTTP_REQUEST and GT_HTTP_RESPONSE ({0,9} for "GET /") */
    int32_t major, minor;
    /* GT_HTTP_RESPONSE */
    int32_t status;
    gt_http_str reason;
    /* GT_HTTP_HEADER */
    gt_http_field field;      /* Erlang's number; GT_HTTP_H_OTHER = 0     */
    gt_http_str raw_name;     /* as sent                                  */
    char name[GT_HTTP_MAX_NAME_LEN + 1]; /* canonical name ("Content-Type"),
                                 NUL-terminated; "" when raw_name is
                                 longer: see gt_http_header_name()        */
    gt_http_str value;        /* leading blanks skipped; continuation
                                 lines kept with their CRLF               */
    /* GT_HTTP_ERROR */
    gt_http_str line;         /* the whole line, line end included        */
};

/* A header's Name as Erlang reports it: the canonical name, or the raw name
 * when it is longer than GT_HTTP_MAX_NAME_LEN bytes.  Points into *p or
 * into the decoded bytes. */
static inline gt_http_str gt_http_header_name(const struct gt_http_packet *p)
{
    gt_http_str s = p->raw_name;
    if (s.len <= GT_HTTP_MAX_NAME_LEN)
        s.ptr = p->name;
    return s;
}

/* The canonical name of a known header field ("Content-Length"), or NULL. */
const char *gt_http_field_name(gt_http_field f);

/* The name of a known method ("GET"), or NULL. */
const char *gt_http_method_name(gt_http_method m);

/* ------------------------------------------------------------------------ */
/* erlang:decode_packet/3                                                   */
/* ------------------------------------------------------------------------ */

/* The Options list of decode_packet/3 after Erlang has read it (for a
 * repeated option the last one counts).  A NULL pointer means []. */
typedef struct gt_decode_opts {
    uint64_t packet_size; /* {packet_size, N}: 0 = no limit; <= 2^32-1     */
    uint64_t line_length; /* {line_length, N}: 0 = none; <= 2^32-1; line:
                             truncate longer lines; http: the line limit
                             when packet_size is 0                        */
    int line_delimiter;   /* {line_delimiter, B}: -1 = not given ('\n');
                             0..255, and only allowed with GT_PKT_LINE    */
} gt_decode_opts;

#define GT_DECODE_OPTS_INIT {0, 0, -1}

typedef enum gt_decode_status {
    GT_DECODE_PACKET = 0, /* {ok, Packet, Rest}                            */
    GT_DECODE_MORE,       /* {more, Length}: more bytes needed             */
    GT_DECODE_INVALID     /* {error, invalid}: bad header or oversize      */
} gt_decode_status;

typedef struct gt_decode_result {
    gt_packet_type type;
    gt_decode_status status;
    /* GT_DECODE_MORE: the total packet length if known, else 0 (Erlang's
       'undefined'). */
    size_t more;
    /* GT_DECODE_PACKET: the packet as Erlang returns it (1/2/4 without
       their length header; fcgi without its padding; the rest whole), and
       the bytes after it.  Both point into the input. */
    const uint8_t *packet;
    size_t packet_len;
    const uint8_t *rest;
    size_t rest_len;
    /* GT_DECODE_PACKET of an http type: the decoded term */
    bool is_http;
    struct gt_http_packet http;
} gt_decode_result;

/*
 * gt_decode_packet -- erlang:decode_packet(Type, Bin, Options).
 *
 * Decodes the first packet of type t in the len bytes at bytes.  Returns 0
 * and fills *res (status says which of ok / more / error it is), or
 * GT_EBADARG -- with *res untouched -- where Erlang raises badarg: an
 * unknown type, packet_size or line_length above 2^32-1, a line_delimiter
 * outside 0..255 or given with a type other than line.
 *
 * res borrows from bytes (and res->http from itself, see struct
 * gt_http_packet): keep bytes alive while res is used.  Never allocates;
 * linear in len.  bytes may be NULL when len is 0; bytes NULL with len > 0,
 * or res NULL, is GT_EBADARG.
 */
int gt_decode_packet(gt_packet_type t, const void *bytes, size_t len,
                     const gt_decode_opts *opts, gt_decode_result *res);

/*
 * gt_decode_result_format -- res as Erlang's io:format("~w", [Result])
 * prints it, e.g. "{ok,{http_request,'GET',{abs_path,[47]},{1,1}},<<>>}".
 *
 * Writes at most cap bytes including a terminating NUL into buf (buf NULL:
 * nothing is written, whatever cap) and returns the length of the full
 * text, so a result >= cap means it was cut short (call again with a bigger
 * buffer, as with snprintf).  res NULL gives "" and 0.
 */
size_t gt_decode_result_format(const gt_decode_result *res, char *buf, size_t cap);

/* Same for one HTTP packet alone ("{http_header,14,'Host',...}"); pkt NULL
 * gives "" and 0. */
size_t gt_http_packet_format(const struct gt_http_packet *pkt, char *buf, size_t cap);

/* ------------------------------------------------------------------------ */
/* Transports (Erlang's tcp_module): the byte stream under a socket          */
/* ------------------------------------------------------------------------ */

/*
 * A socket reads, writes, shuts down and closes its connected fd through a
 * transport.  The default is plain TCP (gt_tcp_transport, called directly,
 * with no indirection); GT_TCP_MODULE(&t) on listen or connect puts t under
 * the socket instead, and TLS is such a transport.  Everything above it --
 * buffering, {packet,...} framing, active modes, ownership -- works on what
 * the transport's recv returns.
 *
 * Contract (all calls are made with the socket's lock held, on a
 * non-blocking fd, from any scheduler thread; none may block or park):
 *   open      optional: makes the per-socket state *ctx_out for a connected
 *             (or connecting) fd; 0 or a negative code (the connect or
 *             accept then fails with it).  NULL: ctx is t->arg.
 *   recv      up to len bytes into buf: >0 bytes, 0 at the end of the
 *             stream, -EAGAIN when nothing is there until the fd becomes
 *             readable, else a negative code (the input ends with it).
 *             Only -EAGAIN ends a read burst (a short read does not), so
 *             a transport may buffer.
 *   sendv     writes from the iovecs: bytes taken (may be fewer than
 *             offered), -EAGAIN until the fd becomes writable, or a
 *             negative code (-EPIPE/-ECONNRESET: the peer is gone).  After
 *             a short write the next call starts with the bytes not taken.
 *   shutdown  how is SHUT_RD or SHUT_WR; 0 or a negative code.
 *   close     optional: releases ctx; the library closes the fd after it.
 *   handshake optional: one non-blocking step of a negotiation:
 *             0 done, GT_TRANSPORT_WANT_READ / _WANT_WRITE, or an error.
 *   error     optional: why the last failure happened, as text into buf
 *             (snprintf style); kept by the socket when it closes, for
 *             gt_transport_error.
 * flags: GT_TRANSPORT_SSL_MSGS makes the socket send GT_MSG_SSL* messages.
 * The table must outlive every socket using it.
 */
#define GT_TRANSPORT_SSL_MSGS 1u
#define GT_TRANSPORT_WANT_READ 1
#define GT_TRANSPORT_WANT_WRITE 2

typedef struct gt_transport {
    const char *name;
    unsigned flags;
    int (*open)(const struct gt_transport *t, int fd, void **ctx_out);
    ssize_t (*recv)(void *ctx, int fd, void *buf, size_t len);
    ssize_t (*sendv)(void *ctx, int fd, const struct iovec *iov, int iovcnt);
    int (*shutdown)(void *ctx, int fd, int how);
    void (*close)(void *ctx, int fd);
    int (*handshake)(void *ctx, int fd);
    size_t (*error)(void *ctx, char *buf, size_t len);
    void *arg; /* the user's */
} gt_transport;

/* Plain TCP as a table, for transports that wrap it (ctx unused). */
extern const gt_transport gt_tcp_transport;

/* Runs t->handshake of s's transport until it is done, parking the
 * caller (not its scheduler) while it waits for the fd.  0, GT_ETIMEOUT,
 * GT_ECLOSED, -EINVAL (no handshake in the transport) or its error. */
int gt_transport_handshake(gt_socket s, int64_t timeout_ms);

/* The transport's explanation of s's last failure (its error hook), also
 * after the socket closed its fd; 0 and "" when there is none. */
size_t gt_transport_error(gt_socket s, char *buf, size_t len);

/* Puts transport t (ctx from t->open) under the connected socket s, as
 * STARTTLS does: -EINVAL if s already has one, has unread input or
 * queued output, or is not connected. */
int gt_transport_attach(gt_socket s, const gt_transport *t);

/* ------------------------------------------------------------------------ */
/* TLS (Erlang's ssl over gentcp; OpenSSL 3)                                 */
/* ------------------------------------------------------------------------ */

/*
 * A TLS socket is a gentcp socket with the TLS transport: gt_send, gt_sendv,
 * gt_recv, gt_close, gt_shutdown, gt_controlling_process, gt_setopts and
 * gt_getopts work on it unchanged, on the plaintext, with every active mode
 * and packet type; its messages are GT_MSG_SSL, _SSL_CLOSED, _SSL_ERROR and
 * _SSL_PASSIVE.  A TLS failure is GT_ETLS (the error of a call, or the
 * reason of an ssl_error message); gt_tls_last_error says why.
 *
 * Settings live in a context (an SSL_CTX), made once and shared by many
 * sockets; it holds the client's session cache for resumption.
 */
enum { GT_TLS_VERIFY_DEFAULT = 0, GT_TLS_VERIFY_PEER, GT_TLS_VERIFY_NONE };
enum { GT_TLS_V1_2 = 0x0303, GT_TLS_V1_3 = 0x0304 };

typedef struct gt_tls_opts {
    const char *certfile;   /* PEM chain; servers need one              */
    const char *keyfile;    /* PEM key; NULL: in certfile               */
    const char *cafile;     /* PEM CAs to verify the peer; NULL: the
                               system store                             */
    int verify;             /* DEFAULT: peer on clients (host name
                               checked), none on servers; PEER on a
                               server asks for and requires a client
                               certificate                              */
    const char *alpn;       /* "h2,http/1.1": offered (client) or chosen
                               in this order of preference (server)     */
    int min_version, max_version; /* GT_TLS_V1_2 / _V1_3; 0 = both      */
    const char *ciphers;    /* TLS 1.2 list (OpenSSL syntax); NULL: its
                               default                                  */
    bool no_session_reuse;  /* client: no resumption; server: no tickets */
    bool ktls;              /* kernel TLS offload where the kernel and the
                               cipher allow (OpenSSL's SSL_OP_ENABLE_KTLS):
                               records are then encrypted in the kernel;
                               GT_TLS_KTLS tells whether it happened      */
} gt_tls_opts;

typedef struct gt_tls_ctx gt_tls_ctx;

/* A context for servers (server) or clients.  On GT_ETLS_CONFIG, err
 * (if not NULL) gets the reason ("certfile x.pem: no such file"). */
int gt_tls_ctx_new(const gt_tls_opts *o, bool server, gt_tls_ctx **out, char *err,
                   size_t errlen);
/* Drops the caller's reference; sockets keep theirs. */
void gt_tls_ctx_free(gt_tls_ctx *c);

/* ssl:connect: TCP connect, then the handshake, both within timeout_ms.
 * host names the server for SNI and the certificate check (an address
 * literal: no SNI, the address is checked).  opts as gt_connect's; the
 * socket is passive during the handshake and gets opts' active mode
 * after it. */
int gt_tls_connect(gt_tls_ctx *c, const char *host, int port, gt_optlist opts,
                   int64_t timeout_ms, gt_socket *sock_out);
/* ssl:listen: gt_listen whose accepted sockets carry c's TLS transport. */
int gt_tls_listen(gt_tls_ctx *c, int port, gt_optlist opts, gt_socket *lsock_out);
/* ssl:transport_accept: a TCP accept, no handshake yet (the acceptor is
 * free again at once); the socket is passive until gt_tls_handshake. */
int gt_tls_transport_accept(gt_socket lsock, int64_t timeout_ms, gt_socket *sock_out);
/* ssl:handshake: runs the server's handshake (in the new owner, say) and
 * then applies the active mode the listen options gave.  On failure the
 * socket stays open (close it); gt_tls_last_error says why. */
int gt_tls_handshake(gt_socket s, int64_t timeout_ms);
/* STARTTLS: TLS on the connected plain socket s (nothing unread, nothing
 * queued), as a client (host as for gt_tls_connect) or a server by c. */
int gt_tls_upgrade(gt_socket s, gt_tls_ctx *c, const char *host, int64_t timeout_ms);

/* Why the last TLS failure of s happened ("alert bad_certificate: ...",
 * "certificate verify failed: certificate has expired"); the alert name is
 * Erlang's.  Writes at most len bytes with the NUL; returns the full
 * length (0: no failure). */
size_t gt_tls_last_error(gt_socket s, char *buf, size_t len);

/* Negotiated details, each written as text into buf (snprintf style: the
 * full length is returned; negative: not a TLS socket or no handshake yet):
 * the protocol ("TLSv1.3"), the cipher, the ALPN protocol ("" if none),
 * the peer certificate's subject ("" if none). */
typedef enum { GT_TLS_PROTOCOL, GT_TLS_CIPHER, GT_TLS_ALPN, GT_TLS_PEER_SUBJECT,
               GT_TLS_SESSION_REUSED, /* "true"/"false" */
               GT_TLS_KTLS /* "send+recv", "send", "recv" or "none" */ } gt_tls_info_item;
int gt_tls_info(gt_socket s, gt_tls_info_item item, char *buf, size_t len);
/* The peer's certificate as DER, copied into a malloc'ed buffer the caller
 * frees; -ENOENT when there is none. */
int gt_tls_peer_cert(gt_socket s, uint8_t **der_out, size_t *len_out);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif /* GENTCP_H */
