/*
 * links.c -- links and exit signals: erlang:link/1, unlink/1, exit/2,
 * process_flag(trap_exit, _), and the exit hooks that let a killed process
 * release what it holds.  The rules are in gentcp.h ("Links and exit
 * signals"); docs/DESIGN.md says why a kill works the way it does.
 *
 * A link is recorded on both sides, each in its process's `links` set
 * (util/idset.h: O(1) add, remove and lookup, so that a supervisor with
 * thousands of links links and unlinks one worker as fast as one with a
 * single link) under that process's plock.  The receiver's own set is the
 * authority: an exiting process signals a linked process only if it finds
 * itself in that process's set, removing itself there under both locks.
 * So once gt_unlink has removed the other side from the caller's set, no
 * signal from that link can reach the caller any more, even from an exit
 * already under way.
 *
 * Lock order: two plocks are taken in the order of their pids (link and
 * unlink change two processes at once, as does an exit); plock, then a
 * mailbox lock (an EXIT message is delivered under the receiver's plock so
 * that it cannot race with gt_unlink or gt_trap_exit).
 */
#include <errno.h>
#include <stdlib.h>

#include "runtime/runtime.h"

/* exit_sig holds this bit and the reason in its low 32 bits */
#define EXIT_SIG_SET ((int64_t)1 << 32)

typedef struct gt__at_exit {
    struct gt__at_exit *next;
    void (*fn)(void *);
    void *arg;
} gt__at_exit;

const char *gt_reason_name(int reason)
{
    return reason == 0 ? "normal" : gt_err_name(reason);
}

/* ---- pending exits ---- */

bool gt__exit_is_pending(gt__proc *p) { return atomic_load(&p->exit_sig) != 0; }

int gt__exit_reason(gt__proc *p, int reason)
{
    int64_t v = atomic_load(&p->exit_sig);
    return v ? (int)(int32_t)(uint32_t)v : reason;
}

int gt__exit_check(void)
{
    gt__proc *p = gt__tls_proc;
    return p && gt__exit_is_pending(p) ? GT_EEXITING : 0;
}

/* p must exit with reason: the first signal wins; the wake makes whatever
 * p waits in return and find the pending exit (gt__exit_check). */
static void set_pending(gt__proc *p, int reason)
{
    int64_t none = 0;
    atomic_compare_exchange_strong(&p->exit_sig, &none, EXIT_SIG_SET | (uint32_t)reason);
    gt__wake(p);
}

/* An exit signal from `from` reaches p (Erlang's "receiving exit signals");
 * kill: gt_kill's GT_EKILL.  p's plock held. */
static void signal_locked(gt__proc *p, gt_pid from, int reason, bool kill)
{
    if (p->exiting)
        return; /* its own reason is already decided */
    if (kill) {
        set_pending(p, GT_EKILLED);
        return;
    }
    if (p->trap_exit) {
        gt_msg *m = gt__msg_new(GT_MSG_EXIT, 0);
        if (!m) {
            set_pending(p, -ENOMEM); /* never a silently lost signal */
            return;
        }
        m->from = from;
        m->reason = reason;
        gt__mbox_deliver(p, m, m);
        return;
    }
    if (reason == 0 && from.id != p->id)
        return; /* normal: ignored, except exit(self(), normal) */
    set_pending(p, reason);
}

int gt_kill(gt_pid pid, int reason)
{
    if (gt__forked())
        return GT_EFORKED;
    gt__proc *self = gt__self();
    gt__proc *p = gt__proc_lookup(pid);
    if (!p)
        return GT_ENOPROC;
    gt__lock(&p->plock, GT__LK_PLOCK);
    signal_locked(p, self ? gt__proc_pid(self) : (gt_pid){0}, reason, reason == GT_EKILL);
    gt__unlock(&p->plock);
    gt__proc_unref(p);
    return 0;
}

bool gt_trap_exit(bool on)
{
    if (gt__forked())
        return false;
    gt__proc *self = gt__self();
    if (!self)
        return false;
    gt__lock(&self->plock, GT__LK_PLOCK);
    bool old = self->trap_exit;
    self->trap_exit = on;
    gt__unlock(&self->plock);
    return old;
}

/* ---- the links sets ---- */

static void lock2(gt__proc *a, gt__proc *b)
{
    gt__lock(a->id < b->id ? &a->plock : &b->plock, GT__LK_PLOCK);
    gt__lock(a->id < b->id ? &b->plock : &a->plock, GT__LK_PLOCK2);
}

static void unlock2(gt__proc *a, gt__proc *b)
{
    gt__unlock(&a->plock);
    gt__unlock(&b->plock);
}

/* Removes id from p's links, if p has any (plock held): true if it was
 * there. */
static bool links_del(gt__proc *p, uint64_t id)
{
    gt__proc_ext *x = gt__proc_ext_peek(p);
    return x && gt__idset_del(&x->links, id);
}

/* Links a (the caller) and b both ways, unless b is exiting (GT_ENOPROC).
 * Between two live processes a link is on both sides or on neither. */
static int link2(gt__proc *a, gt__proc *b)
{
    int rc = GT_ENOPROC;
    lock2(a, b);
    if (!b->exiting) {
        gt__proc_ext *xa = gt__proc_ext_get(a), *xb = gt__proc_ext_get(b);
        rc = xa && xb ? gt__idset_add(&xa->links, b->id) : -ENOMEM;
        if (rc == 1 && (rc = gt__idset_add(&xb->links, a->id)) < 0)
            gt__idset_del(&xa->links, b->id);
        rc = rc < 0 ? rc : 0;
    }
    unlock2(a, b);
    return rc;
}

int gt__link_new(gt__proc *parent, gt__proc *child) { return link2(parent, child); }

int gt_link(gt_pid pid)
{
    if (gt__forked())
        return GT_EFORKED;
    gt__proc *self = gt__self();
    if (!self)
        return -ENOMEM;
    if (pid.id == self->id)
        return 0;
    gt__proc *p = gt__proc_lookup(pid);
    int rc = GT_ENOPROC;
    if (p) {
        rc = link2(self, p);
        gt__proc_unref(p);
    }
    if (rc != GT_ENOPROC)
        return rc;
    /* link/1 to a dead process: a noproc exception, or, when the caller
     * traps exits, true and {'EXIT', Pid, noproc} (OTP 25). */
    gt__lock(&self->plock, GT__LK_PLOCK);
    bool trap = self->trap_exit;
    if (trap)
        signal_locked(self, pid, GT_ENOPROC, false);
    gt__unlock(&self->plock);
    return trap ? 0 : GT_ENOPROC;
}

int gt_unlink(gt_pid pid)
{
    if (gt__forked())
        return GT_EFORKED;
    gt__proc *self = gt__self();
    if (!self)
        return -ENOMEM;
    if (pid.id == self->id)
        return 0;
    gt__proc *p = gt__proc_lookup(pid);
    if (p) {
        lock2(self, p);
        links_del(p, self->id);
        links_del(self, pid.id);
        unlock2(self, p);
        gt__proc_unref(p);
    } else { /* dead or exiting: our side is what decides (see the top) */
        gt__lock(&self->plock, GT__LK_PLOCK);
        links_del(self, pid.id);
        gt__unlock(&self->plock);
    }
    return 0;
}

void gt__links_exit(gt__proc *p, int reason)
{
    gt__lock(&p->plock, GT__LK_PLOCK); /* exiting is set: no link is added now */
    gt__proc_ext *x = gt__proc_ext_peek(p);
    gt__idset links = x ? x->links : (gt__idset)GT__IDSET_INIT;
    if (x)
        x->links = (gt__idset)GT__IDSET_INIT;
    gt__unlock(&p->plock);
    for (size_t i = 0; i < links.cap; i++) {
        gt__proc *l = links.slots[i] ? gt__proc_lookup((gt_pid){links.slots[i]}) : NULL;
        if (!l)
            continue;
        lock2(p, l);
        if (links_del(l, p->id))
            signal_locked(l, gt__proc_pid(p), reason, false);
        unlock2(p, l);
        gt__proc_unref(l);
    }
    gt__idset_free(&links);
}

/* ---- exit hooks ---- */

int gt_at_exit(void (*fn)(void *), void *arg)
{
    if (gt__forked())
        return GT_EFORKED;
    if (!fn)
        return GT_EBADARG;
    gt__proc *self = gt__self();
    gt__proc_ext *x = NULL;
    if (self) {
        gt__lock(&self->plock, GT__LK_PLOCK);
        x = gt__proc_ext_get(self);
        gt__unlock(&self->plock);
    }
    gt__at_exit *h = x ? malloc(sizeof *h) : NULL;
    if (!h)
        return -ENOMEM;
    h->fn = fn;
    h->arg = arg;
    h->next = x->at_exit;
    x->at_exit = h;
    return 0;
}

void gt__at_exit_run(gt__proc *p)
{
    gt__proc_ext *x = gt__proc_ext_peek(p);
    gt__at_exit *h;
    while (x && (h = x->at_exit)) {
        x->at_exit = h->next; /* unhooked first: a hook runs once */
        h->fn(h->arg);
        free(h);
    }
}

void gt__links_free(gt__proc *p)
{
    gt__proc_ext *x = gt__proc_ext_peek(p);
    if (!x)
        return;
    gt__idset_free(&x->links);
    gt__at_exit *h;
    while ((h = x->at_exit)) { /* a process that never exited */
        x->at_exit = h->next;
        free(h);
    }
}
