/*
 * connect.c -- making sockets: listen, accept, connect, and the address
 * helpers (inet:port/sockname/peername).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "socket/resolve.h"
#include "socket/sock.h"

#define GT_MAX_OPTS 64
/* Addresses of one name that connect tries, in order. */
#define CONNECT_ADDRS_MAX 8

/* Out of descriptors, listen and connect say emfile (enfile) as Erlang
 * does, not system_limit. */
static int new_fd(int family, const char *netns)
{
    const int type = SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC;
    if (netns)
        return gt__kopt_netns_socket(netns, family, type);
    int fd = socket(family, type, 0);
    return fd < 0 ? gt__errno() : fd;
}

/* After accept4 fails with EMFILE/ENFILE the connection stays queued, so
 * the listen socket stays readable and epoll (edge-triggered) will never
 * say when a descriptor is free.  The failing call returns emfile at once,
 * as Erlang's accept does; the next try waits this long, so an acceptor
 * that loops on accept sleeps instead of spinning, and is served within
 * this pause once descriptors are free. */
#define ACCEPT_LIMIT_PAUSE_MS 50

static socklen_t addr_len(int family)
{
    return family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

int gt_local_sockaddr(const void *path, size_t path_len, struct sockaddr_storage *out,
                      socklen_t *len_out)
{
    if (!out || !len_out || (!path && path_len))
        return GT_EBADARG;
    struct sockaddr_un *un = (struct sockaddr_un *)out;
    /* inet takes 107 bytes and refuses 108 (one for a NUL), pathnames and
     * abstract names alike */
    if (path_len >= sizeof un->sun_path)
        return -EINVAL;
    memset(out, 0, sizeof *out);
    un->sun_family = AF_UNIX;
    if (path_len)
        memcpy(un->sun_path, path, path_len);
    /* a pathname's length includes its NUL, as the kernel reports it back;
     * an abstract name is exactly its bytes */
    bool abstract = path_len && ((const char *)path)[0] == '\0';
    *len_out = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + path_len + !abstract);
    if (!path_len)
        *len_out = sizeof(sa_family_t); /* autobind */
    return 0;
}

/* An adopted descriptor ({fd, Fd}): checked to be an open stream socket
 * (else it stays the caller's), then made ours: non-blocking,
 * close-on-exec.  Returns its family or a negative error. */
static int adopt_fd(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return gt__errno(); /* ebadf, as inet */
    int type = 0, family = 0;
    socklen_t l = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l) != 0)
        return gt__errno(); /* enotsock */
    l = sizeof family;
    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &l) != 0)
        return gt__errno();
    if (type != SOCK_STREAM ||
        (family != AF_INET && family != AF_INET6 && family != AF_UNIX))
        return -EINVAL;
    if (fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)
        return gt__errno();
    return family;
}

static void set_port(struct sockaddr_storage *a, int port)
{
    if (a->ss_family == AF_INET6)
        ((struct sockaddr_in6 *)a)->sin6_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in *)a)->sin_port = htons((uint16_t)port);
}

/* The local address for a new socket: the ip option, else any. */
static void local_addr(const gt__createopts *c, int family, int port, struct sockaddr_storage *a)
{
    if (c->has_local && c->local.ss_family == family) {
        *a = c->local;
        if (port)
            set_port(a, port);
        return;
    }
    memset(a, 0, sizeof *a);
    a->ss_family = (sa_family_t)family;
    set_port(a, port);
}

/* Creates the socket struct and applies the socket-level options. */
/* o: an options block reference (optblock.c), taken over. */
static int finish_socket(int fd, int kind, int family, gt__proc *self, gt__sockopts *o,
                         int64_t active, const gt_opt *sockopts, size_t n, gt__sock **out)
{
    gt__sock *s = o ? gt__sock_new(fd, kind, family, self, o, active) : NULL;
    if (!s) {
        close(fd);
        return GT_ESYSTEM_LIMIT;
    }
    /* An accepted socket has nothing to set; it may already be closed by
     * then (its peer's FIN read at once, exit_on_close) and must still be
     * returned, with its tcp_closed, as Erlang returns {ok, S}. */
    int rc = 0;
    if (n) {
        gt__lock(&s->lock, GT__LK_SOCK);
        rc = gt__opts_set_locked(s, sockopts, n, true);
        gt__sock_tp_hold(s); /* the list's active mode waits for the handshake */
        gt__unlock(&s->lock);
    }
    if (rc != 0) {
        gt_close((gt_socket){s->id});
        gt__sock_unref(s);
        return rc == -EINVAL ? GT_EBADARG : rc;
    }
    *out = s;
    return 0;
}

/* What listen and connect gather before they make a socket. */
typedef struct create_req {
    gt__proc *self;
    gt__sockopts o;
    gt__createopts c;
    gt_opt sockopts[GT_MAX_OPTS]; /* the options set after creation */
    size_t nsock;
} create_req;

static int create_begin(create_req *r, gt_optlist opts, bool listen, int port, gt_socket *out)
{
    if (!out)
        return GT_EBADARG;
    out->id = 0;
    if (!(r->self = gt__self()))
        return -ENOMEM;
    r->nsock = GT_MAX_OPTS;
    int rc = gt__opts_parse_create(opts, listen, &r->o, &r->c, r->sockopts, &r->nsock);
    if (rc)
        return rc;
    return port < 0 || port > 65535 ? GT_EBADARG : 0;
}

/* Makes, binds and listens the listen socket's descriptor. */
static int listen_fd(const gt__createopts *c, int port, int *family_out)
{
    if (c->fd >= 0) { /* adopted: bound already, listen() sets the backlog */
        int family = adopt_fd(c->fd);
        if (family < 0)
            return family;
        if (listen(c->fd, c->backlog) != 0) {
            int rc = gt__errno();
            close(c->fd); /* ours from adopt_fd on */
            return rc;
        }
        *family_out = family;
        return c->fd;
    }
    int family = *family_out = c->family ? c->family : AF_INET;
    struct sockaddr_storage a;
    socklen_t alen = addr_len(family);
    int rc;
    if (family == AF_UNIX) {
        if (port != 0)
            return GT_EBADARG; /* Erlang: a function_clause */
        if ((rc = gt_local_sockaddr(c->local_path, c->local_path_len, &a, &alen)))
            return rc;
    } else {
        local_addr(c, family, port, &a);
    }
    if (c->v6only >= 0 && family != AF_INET6)
        return -EINVAL; /* rule 72 */
    int fd = new_fd(family, c->netns);
    if (fd < 0)
        return fd;
    int one = 1;
    if (c->reuseaddr)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (c->reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
        rc = gt__errno();
        close(fd);
        return rc;
    }
    if (c->v6only >= 0)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &c->v6only, sizeof c->v6only);
    if (bind(fd, (struct sockaddr *)&a, alen) != 0 || listen(fd, c->backlog) != 0) {
        rc = gt__errno();
        close(fd);
        return rc;
    }
    return fd;
}

int gt_listen(int port, gt_optlist opts, gt_socket *out)
{
    if (gt__forked())
        return GT_EFORKED;
    create_req r;
    int rc = create_begin(&r, opts, true, port, out);
    if (rc)
        return rc;
    if (port == 0 && r.c.port > 0)
        port = r.c.port; /* {port, P} is the same as the first argument */
    int family = 0;
    int fd = listen_fd(&r.c, port, &family);
    if (fd < 0)
        return fd;
    gt__sock *s;
    rc = finish_socket(fd, K_LISTEN, family, r.self, gt__optblock_new(&r.o), GT__ACTIVE_DEFAULT,
                       r.sockopts, r.nsock, &s);
    if (rc)
        return rc;
    *out = (gt_socket){s->id};
    gt__sock_unref(s);
    return 0;
}

static void acc_remove(gt__sock *s, gt__waiter *w)
{
    gt__waiter *prev = NULL;
    if (!s->x) /* not a listen socket: never queued */
        return;
    for (gt__waiter *cur = s->x->acc_head; cur; prev = cur, cur = cur->next)
        if (cur == w) {
            if (prev)
                prev->next = w->next;
            else
                s->x->acc_head = w->next;
            if (s->x->acc_tail == w)
                s->x->acc_tail = prev;
            return;
        }
}

/* A listen socket's readiness goes to the scheduler of an acceptor waiting
 * on it: homed elsewhere (the listen socket of main, which has no
 * scheduler), each connection's edge woke that other scheduler, which woke
 * the acceptor here -- a second scheduler kept busy and a cross-thread
 * wake per connection (issue 11).  It stays while any waiting acceptor
 * runs on its home, so acceptors spread over schedulers do not bounce it.
 * Lock held; self has joined the FIFO. */
static void acc_follow(gt__sock *l, gt__proc *self)
{
    if (gt__io_homed_with(&l->io, self))
        return;
    for (gt__waiter *w = l->x->acc_head; w; w = w->next)
        if (w->proc != self && gt__io_homed_with(&l->io, w->proc))
            return;
    gt__sock_rehome(l, self);
}

/* accept4 without glibc's cancellation bracket (GT_RAW_SYSCALLS,
 * internal.h): ~30 instructions of every accepted connection (issue 11,
 * acc11). */
static int sys_accept4(int lfd)
{
#if GT_RAW_SYSCALLS
    return (int)syscall(SYS_accept4, lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
#else
    return accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
#endif
}

static atomic_ullong ring_taken, eagains; /* gt__accept_counts */

void gt__accept_counts(unsigned long long *ring, unsigned long long *eagain)
{
    *ring = atomic_load_explicit(&ring_taken, memory_order_relaxed);
    *eagain = atomic_load_explicit(&eagains, memory_order_relaxed);
}

int gt_accept(gt_socket lh, int64_t timeout_ms, gt_socket *out)
{
    if (gt__forked())
        return GT_EFORKED;
    if (!out)
        return GT_EBADARG;
    out->id = 0;
    gt__proc *self = gt__self();
    if (!self)
        return -ENOMEM;
    gt__sock *l = gt__sock_get(lh);
    if (!l)
        return GT_ECLOSED;
    int64_t deadline = gt__deadline(timeout_ms);
    int rc = 0, fd = -1;
    gt__lock(&l->lock, GT__LK_SOCK);
    if (l->kind != K_LISTEN)
        rc = -EINVAL;
    else if (l->state != S_OPEN)
        rc = GT_ECLOSED;
    gt__waiter w = {.proc = self};
    if (rc == 0) { /* join the FIFO of acceptors (docs/spec/semantics.md rule 68) */
        if (l->x->acc_tail)
            l->x->acc_tail->next = &w;
        else
            l->x->acc_head = &w;
        l->x->acc_tail = &w;
        acc_follow(l, self);
    }
    /* accept(L,0) makes one accept4 whatever the readable flag says: the
     * flag is set only once the scheduler has taken the edge, and a
     * connection already queued in the kernel is inet's at once.  A call
     * that may wait waits for the edge instead when the flag is down: the
     * last accept4 said EAGAIN, and every connection queued since raises
     * an edge (epoll's EPOLLET), which the scheduler's next poll takes.
     * Trying anyway cost an acceptor that replaces the one just served
     * (gtcat listen) an accept4 that said EAGAIN: 0.5-0.7 of 1.6 accept4
     * per connection (issue 11, accept). */
    bool tried = timeout_ms > 0 && !l->readable;
    while (rc == 0) {
        if (w.done) {
            rc = w.result; /* the listen socket was closed */
            break;
        }
        if (timeout_ms != 0 && (rc = gt__exit_check()))
            break; /* killed: no more accepts */
        int64_t wait_until = deadline;
        if (l->x->acc_head == &w && l->x->acc_nfd > 0) {
            fd = l->x->acc_fds[0]; /* accepted in the scheduler's ring (socket.c) */
            l->x->acc_nfd--;
            memmove(l->x->acc_fds, l->x->acc_fds + 1, (size_t)l->x->acc_nfd * sizeof fd);
            atomic_fetch_add_explicit(&ring_taken, 1, memory_order_relaxed);
            break;
        }
        if (l->x->acc_head == &w && (l->readable || !tried)) {
            int64_t now = gt__now_ms();
            if (now >= l->x->acc_retry_at || (!tried && gt__expired(deadline))) {
                tried = true;
                fd = sys_accept4(l->fd);
                if (fd >= 0) {
                    l->x->acc_retry_at = 0;
                    break;
                }
                int e = errno;
                if (e == EAGAIN || e == EWOULDBLOCK) {
                    l->readable = false;
                    atomic_fetch_add_explicit(&eagains, 1, memory_order_relaxed);
                }
                else if (e != ECONNABORTED && e != EINTR)
                    rc = -e;
                if (e == EMFILE || e == ENFILE)
                    l->x->acc_retry_at = now + ACCEPT_LIMIT_PAUSE_MS;
                if (rc)
                    break;
                continue;
            }
            if (deadline < 0 || l->x->acc_retry_at < deadline)
                wait_until = l->x->acc_retry_at; /* at the fd limit: pause */
        }
        if (gt__expired(deadline)) {
            rc = GT_ETIMEOUT;
            break;
        }
        gt__sock_wait(l, &w, wait_until);
    }
    if (!w.done)
        acc_remove(l, &w);
    if (l->x && l->x->acc_head && (l->readable || l->x->acc_nfd > 0) && l->state == S_OPEN)
        gt__wake(l->x->acc_head->proc); /* more may be pending (or the pause
                                        to wait out): next in line */
    /* shared until either sets an option (optblock.c) */
    gt__sockopts *o = rc == 0 ? gt__optblock_share(l->o) : NULL;
    int64_t active = l->active;
    int family = l->family;
    gt__unlock(&l->lock);
    /* The options are copied from the listen socket (rule 12): gentcp's
     * here, the kernel's that Linux does not copy by itself in inherit. */
    gt__sock *s = NULL;
    if (rc == 0 && (rc = finish_socket(fd, K_CONN, family, self, o, active, NULL, 0, &s)) == 0)
        gt__opts_inherit(l, s);
    gt__sock_unref(l);
    if (rc)
        return rc;
    *out = (gt_socket){s->id};
    gt__sock_unref(s);
    return 0;
}

/* Waits for a non-blocking connect on s to finish; lock held. */
static int connect_wait(gt__sock *s, int64_t deadline)
{
    gt__waiter w = {.proc = gt__self()};
    for (;;) {
        int err = 0;
        socklen_t el = sizeof err;
        if (s->writable) {
            if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
                return gt__errno();
            if (err)
                return -err;
            struct sockaddr_storage peer;
            socklen_t pl = sizeof peer;
            if (getpeername(s->fd, (struct sockaddr *)&peer, &pl) == 0)
                return 0;
            s->writable = false; /* not yet connected */
        }
        if (s->state != S_OPEN)
            return GT_ECLOSED;
        if (gt__expired(deadline))
            return GT_ETIMEOUT;
        int killed = gt__exit_check();
        if (killed)
            return killed;
        gt__sock_wait_writer(s, &w, deadline);
        if (w.done)
            return w.result;
    }
}

/* The descriptor for one connect attempt to a `family` address: the
 * adopted one ({fd, Fd}), or a new one bound to the ifaddr/port options.
 * *connected: an adopted descriptor that is connected already. */
static int connect_fd(const gt__createopts *c, int family, bool *connected)
{
    *connected = false;
    if (c->fd >= 0) {
        int fam = adopt_fd(c->fd);
        if (fam < 0)
            return fam;
        struct sockaddr_storage peer;
        socklen_t pl = sizeof peer;
        *connected = getpeername(c->fd, (struct sockaddr *)&peer, &pl) == 0;
        if (!*connected && fam != family) {
            close(c->fd);
            return -EAFNOSUPPORT;
        }
        return c->fd;
    }
    int fd = new_fd(family, c->netns);
    if (fd < 0)
        return fd;
    int one = 1;
    if (c->reuseaddr) /* before any bind, and read back as set (OTP 25) */
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (!(c->has_local || c->port > 0 || c->has_local_path))
        return fd;
    struct sockaddr_storage a;
    socklen_t alen = addr_len(family);
    int rc = 0;
    if (family == AF_UNIX)
        rc = gt_local_sockaddr(c->local_path, c->local_path_len, &a, &alen);
    else
        local_addr(c, family, c->port > 0 ? c->port : 0, &a);
    if (rc == 0 && bind(fd, (struct sockaddr *)&a, alen) != 0)
        rc = gt__errno();
    if (rc) {
        close(fd);
        return rc;
    }
    return fd;
}

static int try_connect(gt__proc *self, const struct sockaddr_storage *to, socklen_t tolen,
                       const gt__sockopts *o, const gt__createopts *c, const gt_opt *sockopts,
                       size_t nsock, int64_t deadline, gt__sock **out)
{
    bool connected;
    int fd = connect_fd(c, to->ss_family, &connected);
    if (fd < 0)
        return fd;
    int family = to->ss_family;
    if (connected) { /* an adopted connected socket keeps its own family */
        socklen_t l = sizeof family;
        getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &l);
    }
    gt__sock *s;
    int rc = finish_socket(fd, K_CONNECTING, family, self, gt__optblock_new(o),
                           GT__ACTIVE_DEFAULT, sockopts, nsock, &s);
    if (rc)
        return rc;
    gt__lock(&s->lock, GT__LK_SOCK);
    s->writable = connected;
    if (!connected && connect(s->fd, (const struct sockaddr *)to, tolen) == 0)
        s->writable = true;
    else if (!connected && errno != EINPROGRESS)
        rc = gt__errno();
    if (rc == 0)
        rc = connect_wait(s, deadline);
    gt__wr_to(&s->wr, WE_CONNECTED);
    /* The readable flag stays as the connect's events left it (io_event):
     * one without input says there is nothing to read, and anything that
     * comes later raises an edge of its own.  Setting it here tried a read
     * after every connect whose peer had not spoken, which could only say
     * EAGAIN (issue 11).  A connect that needed no event keeps the flag it
     * was born with (readable: look). */
    s->writable = true;
    if (rc == 0 && gt__buf_avail(&s->out))
        gt__sock_flush(s); /* sent by another process while connecting: the
                              edge that ended the connect was this one's */
    if (rc == 0 && s->active != GT_ACTIVE_FALSE_V)
        gt__sock_deliver(s); /* data may have arrived with the handshake */
    gt__unlock(&s->lock);
    if (rc) {
        gt_close((gt_socket){s->id});
        gt__sock_unref(s);
        return rc;
    }
    *out = s;
    return 0;
}

/* What gt_connect and gt_connect_sockaddr check before the first attempt. */
static int connect_begin(int64_t timeout_ms)
{
    if (timeout_ms == 0)
        return GT_ETIMEOUT; /* rule 71: even for a refused port */
    return gt__exit_check();
}

int gt_connect(const char *host, int port, gt_optlist opts, int64_t timeout_ms, gt_socket *out)
{
    if (gt__forked())
        return GT_EFORKED;
    create_req r;
    int rc = create_begin(&r, opts, false, port, out);
    if (rc)
        return rc;
    if (!host || !*host)
        return GT_EBADARG; /* Erlang raises badarg for "" too */
    if (r.c.family == AF_UNIX)
        return GT_EBADARG; /* a local ifaddr needs a local address */
    if ((rc = connect_begin(timeout_ms)))
        return rc;
    gt__createopts c = r.c;
    int64_t deadline = gt__deadline(timeout_ms);

    /* Names are looked up off the scheduler threads, within the timeout. */
    struct sockaddr_storage addrs[CONNECT_ADDRS_MAX];
    size_t n = 0;
    rc = gt__resolve(host, c.family ? c.family : AF_UNSPEC, deadline, addrs, CONNECT_ADDRS_MAX, &n);
    for (size_t i = 0; i < n; i++) { /* n is 0 if rc is an error */
        struct sockaddr_storage to = addrs[i];
        set_port(&to, port);
        gt__sock *s = NULL;
        rc = try_connect(r.self, &to, addr_len(to.ss_family), &r.o, &c, r.sockopts, r.nsock,
                         deadline, &s);
        if (rc == 0) {
            *out = (gt_socket){s->id};
            gt__sock_unref(s);
            break;
        }
        if (rc == GT_ETIMEOUT || rc == -EINVAL || rc == GT_EEXITING || c.fd >= 0)
            break; /* an adopted descriptor is closed after one failure */
    }
    return rc;
}

int gt_connect_sockaddr(const struct sockaddr *addr, socklen_t len, gt_optlist opts,
                        int64_t timeout_ms, gt_socket *out)
{
    if (gt__forked())
        return GT_EFORKED;
    create_req r;
    int rc = create_begin(&r, opts, false, 0, out);
    if (rc)
        return rc;
    if (!addr || len < (socklen_t)sizeof(sa_family_t) || len > (socklen_t)sizeof(struct sockaddr_storage))
        return GT_EBADARG;
    int family = addr->sa_family;
    if (!((family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) ||
          (family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) ||
          family == AF_UNIX))
        return GT_EBADARG;
    if (r.c.family && r.c.family != family)
        return GT_EBADARG; /* as Erlang's inet6 with a {local, _} address */
    if ((rc = connect_begin(timeout_ms)))
        return rc;
    struct sockaddr_storage to;
    memset(&to, 0, sizeof to);
    memcpy(&to, addr, len);
    gt__sock *s = NULL;
    rc = try_connect(r.self, &to, len, &r.o, &r.c, r.sockopts, r.nsock,
                     gt__deadline(timeout_ms), &s);
    if (rc == 0) {
        *out = (gt_socket){s->id};
        gt__sock_unref(s);
    }
    return rc;
}

/* ---- addresses ---- */

static int name_of(gt_socket h, bool peer, struct sockaddr_storage *a, socklen_t *len)
{
    gt__sock *s = gt__sock_acquire(h);
    if (!s)
        return gt__sock_stale_err(h, -EINVAL); /* rule 44 */
    int rc = 0;
    socklen_t l = sizeof *a;
    memset(a, 0, sizeof *a); /* an abstract name is known by its length */
    if (s->fd < 0)
        rc = -EINVAL;
    else if ((peer ? getpeername : getsockname)(s->fd, (struct sockaddr *)a, &l) != 0)
        rc = gt__errno();
    gt__sock_release(s);
    if (len)
        *len = l;
    return rc;
}

int gt_sockname(gt_socket h, struct sockaddr_storage *a, socklen_t *len)
{
    if (gt__forked())
        return GT_EFORKED;
    return a ? name_of(h, false, a, len) : GT_EBADARG;
}

int gt_peername(gt_socket h, struct sockaddr_storage *a, socklen_t *len)
{
    if (gt__forked())
        return GT_EFORKED;
    return a ? name_of(h, true, a, len) : GT_EBADARG;
}

int gt_port(gt_socket h, int *port)
{
    if (gt__forked())
        return GT_EFORKED;
    struct sockaddr_storage a;
    int rc = name_of(h, false, &a, NULL);
    if (rc)
        return rc;
    if (port && a.ss_family == AF_UNIX)
        *port = 0; /* inet:port/1 gives the path: see gt_sockname */
    else if (port)
        *port = ntohs(a.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&a)->sin6_port
                                              : ((struct sockaddr_in *)&a)->sin_port);
    return 0;
}

/* "local:/path", "local:@abstract" (its trailing NULs not shown). */
static void local_str(const struct sockaddr_un *un, char *buf, size_t len)
{
    size_t n = sizeof un->sun_path;
    while (n && un->sun_path[n - 1] == '\0')
        n--;
    bool abstract = n && un->sun_path[0] == '\0';
    snprintf(buf, len, "local:%s%.*s", abstract ? "@" : "", (int)(n - abstract),
             un->sun_path + abstract);
}

const char *gt_addr_str(const struct sockaddr_storage *a, char *buf, size_t len)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    if (!buf || !len)
        return "";
    if (!a || (a->ss_family != AF_INET && a->ss_family != AF_INET6 && a->ss_family != AF_UNIX)) {
        buf[0] = '\0';
    } else if (a->ss_family == AF_UNIX) {
        local_str((const struct sockaddr_un *)a, buf, len);
    } else if (a->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const void *)a;
        inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof ip);
        char scope[IF_NAMESIZE + 12] = "";
        if (s6->sin6_scope_id) { /* as getaddrinfo takes it back */
            char ifn[IF_NAMESIZE];
            if (if_indextoname(s6->sin6_scope_id, ifn))
                snprintf(scope, sizeof scope, "%%%s", ifn);
            else
                snprintf(scope, sizeof scope, "%%%u", (unsigned)s6->sin6_scope_id);
        }
        snprintf(buf, len, "[%s%s]:%u", ip, scope, ntohs(s6->sin6_port));
    } else {
        const struct sockaddr_in *s4 = (const void *)a;
        inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof ip);
        snprintf(buf, len, "%s:%u", ip, ntohs(s4->sin_port));
    }
    return buf;
}
