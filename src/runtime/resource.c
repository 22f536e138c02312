/*
 * resource.c -- what a process owns and its exit releases (see
 * gt__resource in internal.h).  The list is the owner's, under its plock;
 * what a resource is (a socket) is known only to its ops.
 */
#include <errno.h>
#include <stdlib.h>

#include "runtime/runtime.h"

static void link_plocked(gt__proc *p, gt__resource *r)
{
    r->prev = NULL;
    r->next = p->resources;
    if (p->resources)
        p->resources->prev = r;
    p->resources = r;
}

static void unlink_plocked(gt__proc *p, gt__resource *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else if (p->resources == r)
        p->resources = r->next;
    else
        return; /* not in the list */
    if (r->next)
        r->next->prev = r->prev;
    r->next = r->prev = NULL;
}

void gt__resource_link(gt__proc *p, gt__resource *r)
{
    gt__lock(&p->plock, GT__LK_PLOCK);
    link_plocked(p, r);
    gt__unlock(&p->plock);
}

void gt__resource_unlink(gt__proc *p, gt__resource *r)
{
    gt__lock(&p->plock, GT__LK_PLOCK);
    unlink_plocked(p, r);
    gt__unlock(&p->plock);
}

int gt__resource_move(gt__resource *r, gt__proc *from, gt__proc *to,
                      bool (*handover)(void *arg), void *arg)
{
    /* Out of from's list first: two plocks are never held together (no
     * order between them), and from -- the caller -- cannot exit
     * meanwhile. */
    gt__resource_unlink(from, r);
    int rc = GT_ENOPROC;
    gt__lock(&to->plock, GT__LK_PLOCK);
    /* `exiting` is set under this lock before the exit empties the list:
     * linked now, r is released by that exit; never left with a dead
     * owner. */
    if (!to->exiting) {
        rc = handover(arg) ? 1 : 0;
        if (rc == 1)
            link_plocked(to, r);
    }
    gt__unlock(&to->plock);
    if (rc != 1)
        gt__resource_link(from, r);
    return rc;
}

/* At exit (proc.c), after `exiting` is set: nothing joins the list any
 * more.  Each resource leaves it under the lock, held, and is released
 * outside it (its release takes its own lock, which comes before plock). */
void gt__resources_release(gt__proc *p)
{
    for (;;) {
        gt__lock(&p->plock, GT__LK_PLOCK);
        gt__resource *r = p->resources;
        if (r) {
            unlink_plocked(p, r);
            r->ops->hold(r);
        }
        gt__unlock(&p->plock);
        if (!r)
            return;
        r->ops->release(r, p);
    }
}

/* Calls op on each of p's resources that has one (has(ops)).  An op takes
 * the resource's own lock, which comes before plock: the list is copied
 * (with holds) under plock and each op, which drops its hold, runs
 * outside it. */
static void for_each_held(gt__proc *p, bool (*has)(const gt__resource_ops *),
                          void (*op)(gt__resource *, gt__proc *))
{
    gt__resource *few[16], **held = few;
    size_t n = 0, cap = sizeof few / sizeof *few;
    gt__lock(&p->plock, GT__LK_PLOCK);
    size_t count = 0;
    for (gt__resource *r = p->resources; r; r = r->next)
        count += has(r->ops);
    if (count > cap) {
        gt__resource **big = malloc(count * sizeof *big);
        if (big) { /* else: the first 16 only (out of memory) */
            held = big;
            cap = count;
        }
    }
    for (gt__resource *r = p->resources; r && n < cap; r = r->next) {
        if (has(r->ops)) {
            r->ops->hold(r);
            held[n++] = r;
        }
    }
    gt__unlock(&p->plock);
    for (size_t i = 0; i < n; i++)
        op(held[i], p);
    if (held != few)
        free(held);
}

static bool has_resume(const gt__resource_ops *o) { return o->resume != NULL; }
static void do_resume(gt__resource *r, gt__proc *p) { (void)p; r->ops->resume(r); }

/* The owner, after a receive brought its mailbox below the limit. */
void gt__resources_resume(gt__proc *p) { for_each_held(p, has_resume, do_resume); }

static bool has_rehome(const gt__resource_ops *o) { return o->rehome != NULL; }
static void do_rehome(gt__resource *r, gt__proc *p) { r->ops->rehome(r, p); }

/* p moved to another scheduler (steal.c), on the new one's thread before
 * p runs there.  A resource that joins p's list after the copy was handed
 * over with p's new home already set (gt__io_move reads it under plock). */
void gt__resources_rehome(gt__proc *p) { for_each_held(p, has_rehome, do_rehome); }
