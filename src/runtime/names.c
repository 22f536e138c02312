/*
 * names.c -- registered process names: erlang:register/2, unregister/1 and
 * whereis/1.  A name belongs to one live process, a process has at most one
 * name, and the name is released when the process exits.
 *
 * The table is a chained hash table under a read-write lock: whereis is the
 * frequent call (a client finding its server on every request) and must
 * not serialise the schedulers; register and unregister are rare.
 *
 * Lock order: a process's plock, then the table lock (register holds plock
 * while it checks that the process is not exiting, so that an exit either
 * sees the new name and drops it or happens before the check).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime.h"

typedef struct name_entry {
    struct name_entry *next;
    gt__proc *proc;       /* not a reference: the exit removes the entry */
    gt_pid pid;
    size_t len;
    char name[];          /* len bytes and a NUL */
} name_entry;

static pthread_rwlock_t table_lock = PTHREAD_RWLOCK_INITIALIZER;
static name_entry **buckets;  /* nbuckets heads, allocated on first use */
static size_t nbuckets, nnames;

static size_t hash(const char *s, size_t len)
{
    size_t h = 14695981039346656037ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

/* The link that points at name's entry (or at NULL).  Table lock held. */
static name_entry **find_link(const char *name, size_t len)
{
    if (!nbuckets)
        return NULL;
    name_entry **link = &buckets[hash(name, len) & (nbuckets - 1)];
    for (; *link; link = &(*link)->next)
        if ((*link)->len == len && memcmp((*link)->name, name, len) == 0)
            return link;
    return link;
}

/* Doubles the bucket array when chains would grow past two on average.
 * Write lock held.  On allocation failure the table keeps working, with
 * longer chains. */
static void maybe_grow(void)
{
    if (nnames < 2 * nbuckets)
        return;
    size_t n = nbuckets ? nbuckets * 2 : 64;
    name_entry **nb = calloc(n, sizeof *nb);
    if (!nb)
        return;
    for (size_t i = 0; i < nbuckets; i++) {
        for (name_entry *e = buckets[i], *next; e; e = next) {
            next = e->next;
            name_entry **head = &nb[hash(e->name, e->len) & (n - 1)];
            e->next = *head;
            *head = e;
        }
    }
    free(buckets);
    buckets = nb;
    nbuckets = n;
}

static bool valid_name(const char *name, size_t *len)
{
    if (!name)
        return false;
    *len = strnlen(name, GT_NAME_MAX + 1);
    return *len > 0 && *len <= GT_NAME_MAX;
}

int gt_register(const char *name, gt_pid pid)
{
    if (gt__forked())
        return GT_EFORKED;
    size_t len;
    if (!valid_name(name, &len))
        return GT_EBADARG;
    gt__proc *p = gt__proc_lookup(pid);
    if (!p)
        return GT_EBADARG; /* erlang:register/2: badarg for a dead pid */
    name_entry *e = malloc(sizeof *e + len + 1);
    if (!e) {
        gt__proc_unref(p);
        return -ENOMEM;
    }
    memcpy(e->name, name, len + 1);
    e->len = len;
    e->proc = p;
    e->pid = pid;

    int rc = GT_EBADARG;
    gt__lock(&p->plock, GT__LK_PLOCK);
    gt__proc_ext *x = p->exiting ? NULL : gt__proc_ext_get(p);
    if (!p->exiting && !x)
        rc = -ENOMEM;
    gt__wrlock(&table_lock, GT__LK_NAMES);
    maybe_grow();
    name_entry **link = find_link(name, len);
    if (x && !x->reg_name && link && !*link) {
        e->next = NULL;
        *link = e;
        x->reg_name = e->name;
        x->ever_named = true;
        nnames++;
        rc = 0;
    }
    gt__rwunlock(&table_lock);
    gt__unlock(&p->plock);
    if (rc)
        free(e);
    gt__proc_unref(p);
    return rc;
}

/* Unlinks and frees the entry at link.  Write lock held. */
static void remove_at(name_entry **link)
{
    name_entry *e = *link;
    *link = e->next;
    gt__proc_ext_peek(e->proc)->reg_name = NULL; /* named: it has one */
    nnames--;
    free(e);
}

int gt_unregister(const char *name)
{
    if (gt__forked())
        return GT_EFORKED;
    size_t len;
    if (!valid_name(name, &len))
        return GT_EBADARG;
    gt__wrlock(&table_lock, GT__LK_NAMES);
    name_entry **link = find_link(name, len);
    bool found = link && *link;
    if (found)
        remove_at(link);
    gt__rwunlock(&table_lock);
    return found ? 0 : GT_EBADARG;
}

gt_pid gt_whereis(const char *name)
{
    if (gt__forked())
        return (gt_pid){0};
    size_t len;
    gt_pid pid = {0};
    if (!valid_name(name, &len))
        return pid;
    gt__rdlock(&table_lock, GT__LK_NAMES);
    name_entry **link = find_link(name, len);
    if (link && *link)
        pid = (*link)->pid;
    gt__rwunlock(&table_lock);
    return pid;
}

void gt__names_drop(gt__proc *p)
{
    /* Set under plock, never cleared: the many processes that never had a
     * name exit without touching the table's lock. */
    gt__lock(&p->plock, GT__LK_PLOCK);
    gt__proc_ext *x = gt__proc_ext_peek(p);
    bool named = x && x->ever_named;
    gt__unlock(&p->plock);
    if (!named)
        return;
    gt__wrlock(&table_lock, GT__LK_NAMES);
    if (x->reg_name) {
        name_entry **link = find_link(x->reg_name, strlen(x->reg_name));
        if (link && *link)
            remove_at(link);
    }
    gt__rwunlock(&table_lock);
}
