/*
 * signals.c -- Unix signals as messages: a process subscribes to a signal
 * and receives a GT_MSG_SIGNAL (tag = the signal number) each time it
 * arrives, the way an Erlang node turns SIGTERM into a message to
 * erl_signal_server.  This is how a service handles SIGTERM and SIGINT:
 * its main process receives the message and stops in order.
 *
 * A signal handler may do almost nothing, and may interrupt any thread in
 * any state: ours writes the signal number to a non-blocking pipe (write
 * is async-signal-safe) and returns.  A dispatcher thread, which blocks
 * every signal itself, reads the pipe and posts the messages.  If a storm
 * fills the pipe, further arrivals of a signal already pending are
 * dropped, as the kernel coalesces a pending standard signal anyway.
 *
 * The first subscription to a signal installs the handler; when the last
 * one goes, the disposition found before is restored.  Subscribers that
 * have exited are pruned at each delivery and subscription.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/runtime.h"

typedef struct sub_list {
    gt_pid *pids;
    int n, cap;
    bool installed;
    struct sigaction old;       /* the disposition before ours */
} sub_list;

static gt__mutex sig_lock = GT__MUTEX_INIT;
static sub_list subs[NSIG];
static int pipe_fd[2] = {-1, -1};
static bool dispatcher_started;

static void on_signal(int signo)
{
    int saved = errno;
    unsigned char b = (unsigned char)signo;
    ssize_t r = write(pipe_fd[1], &b, 1); /* full pipe: coalesced */
    (void)r;
    errno = saved;
}

/* The signals a process may take over: not the ones that cannot be caught,
 * nor the ones the kernel raises for a fault in the running code. */
static bool subscribable(int signo)
{
    switch (signo) {
    case SIGKILL: case SIGSTOP: case SIGSEGV: case SIGBUS: case SIGILL:
    case SIGFPE: case SIGTRAP: case SIGSYS: case SIGABRT:
        return false;
    }
    return signo > 0 && signo < NSIG && signo < 256;
}

/* Removes dead pids from l.  sig_lock held. */
static void prune(sub_list *l)
{
    int k = 0;
    for (int i = 0; i < l->n; i++)
        if (gt_is_alive(l->pids[i]))
            l->pids[k++] = l->pids[i];
    l->n = k;
}

/* Restores the old disposition once nobody listens.  sig_lock held. */
static void maybe_uninstall(int signo)
{
    sub_list *l = &subs[signo];
    if (l->n == 0 && l->installed) {
        sigaction(signo, &l->old, NULL);
        l->installed = false;
    }
}

static void deliver(int signo)
{
    gt__lock(&sig_lock, GT__LK_SIGNALS);
    sub_list *l = &subs[signo];
    for (int i = 0; i < l->n; i++) {
        gt__proc *p = gt__proc_lookup(l->pids[i]);
        if (!p)
            continue; /* pruned below */
        gt_msg *m = gt__msg_new(GT_MSG_SIGNAL, 0);
        if (m) {
            m->tag = signo;
            gt__mbox_deliver(p, m, m);
        }
        gt__proc_unref(p);
    }
    prune(l);
    maybe_uninstall(signo);
    gt__unlock(&sig_lock);
}

static void *dispatcher(void *arg)
{
    (void)arg;
    unsigned char buf[64];
    for (;;) {
        ssize_t n = read(pipe_fd[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return NULL;
        for (ssize_t i = 0; i < n; i++)
            deliver(buf[i]);
    }
}

/* The pipe and the dispatcher, once.  sig_lock held. */
static int start_dispatcher(void)
{
    if (dispatcher_started)
        return 0;
    if (pipe2(pipe_fd, O_CLOEXEC) != 0)
        return gt__errno();
    /* Only the writing end is non-blocking: the handler must never wait,
     * the dispatcher should. */
    fcntl(pipe_fd[1], F_SETFL, O_NONBLOCK);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* inherited by the thread */
    pthread_t t;
    int rc = pthread_create(&t, NULL, dispatcher, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        close(pipe_fd[0]);
        close(pipe_fd[1]);
        pipe_fd[0] = pipe_fd[1] = -1;
        return -rc;
    }
    pthread_detach(t);
    dispatcher_started = true;
    return 0;
}

/* The argument checks of both calls: signo, and the caller's pid. */
static int check_call(int signo, gt_pid *me)
{
    if (!subscribable(signo))
        return GT_EBADARG;
    gt__proc *self = gt__self();
    if (!self)
        return -ENOMEM;
    *me = gt__proc_pid(self);
    return 0;
}

int gt_signal_subscribe(int signo)
{
    if (gt__forked())
        return GT_EFORKED;
    gt_pid me;
    int rc = check_call(signo, &me);
    if (rc)
        return rc;
    gt__lock(&sig_lock, GT__LK_SIGNALS);
    rc = start_dispatcher();
    sub_list *l = &subs[signo];
    if (rc == 0)
        prune(l);
    for (int i = 0; rc == 0 && i < l->n; i++)
        if (gt_pid_eq(l->pids[i], me))
            goto out; /* already subscribed: once is enough */
    if (rc == 0 && l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 4;
        gt_pid *p = realloc(l->pids, (size_t)cap * sizeof *p);
        if (!p)
            rc = -ENOMEM;
        else
            l->pids = p, l->cap = cap;
    }
    if (rc == 0 && !l->installed) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sa.sa_flags = SA_RESTART;
        sigemptyset(&sa.sa_mask);
        if (sigaction(signo, &sa, &l->old) != 0)
            rc = gt__errno();
        else
            l->installed = true;
    }
    if (rc == 0)
        l->pids[l->n++] = me;
out:
    gt__unlock(&sig_lock);
    return rc;
}

int gt_signal_unsubscribe(int signo)
{
    if (gt__forked())
        return GT_EFORKED;
    gt_pid me;
    int rc = check_call(signo, &me);
    if (rc)
        return rc;
    gt__lock(&sig_lock, GT__LK_SIGNALS);
    sub_list *l = &subs[signo];
    int k = 0;
    for (int i = 0; i < l->n; i++)
        if (!gt_pid_eq(l->pids[i], me))
            l->pids[k++] = l->pids[i];
    bool found = k != l->n;
    l->n = k;
    prune(l);
    maybe_uninstall(signo);
    gt__unlock(&sig_lock);
    return found ? 0 : GT_EBADARG;
}

/* fork(): a signal sent to the child must not reach the parent's
 * subscribers through the pipe they share, nor be swallowed by a
 * dispatcher the child does not have.  The child gets back the
 * dispositions found before gentcp's, read under sig_lock so that a
 * subscription under way on another thread is either done or not begun. */
void gt__signals_fork_prepare(void) { gt__lock(&sig_lock, GT__LK_SIGNALS); }
void gt__signals_fork_parent(void) { gt__unlock(&sig_lock); }

void gt__signals_fork_child(void)
{
    for (int signo = 1; signo < NSIG; signo++)
        if (subs[signo].installed)
            sigaction(signo, &subs[signo].old, NULL);
    gt__unlock(&sig_lock);
}
