/*
 * resource_test.c -- the owned-resource list of a process
 * (src/runtime/resource.c): link/unlink, the exit's release, a move
 * between owners under the handover's say, and the resume after a
 * mailbox limit, on bare process records (no scheduler involved: the
 * list needs only the owner's plock and `exiting`).
 */
#include "runtime/runtime.h"
#include "../test.h"

typedef struct fake {
    gt__resource r; /* first: the list holds &r */
    int holds, released, resumed;
    gt__proc *released_by;
    int order; /* when it was released, from 1 */
} fake;

static int release_seq;

static void f_hold(gt__resource *r) { ((fake *)r)->holds++; }
static void f_release(gt__resource *r, gt__proc *owner)
{
    fake *f = (fake *)r;
    f->released++;
    f->released_by = owner;
    f->order = ++release_seq;
    f->holds--;
}
static void f_resume(gt__resource *r)
{
    fake *f = (fake *)r;
    f->resumed++;
    f->holds--;
}

static const gt__resource_ops with_resume = {.hold = f_hold, .release = f_release, .resume = f_resume};
static const gt__resource_ops without_resume = {.hold = f_hold, .release = f_release};

static void proc_init(gt__proc *p)
{
    memset(p, 0, sizeof *p);
    gt__mutex_init(&p->plock);
}

static int count(const gt__proc *p)
{
    int n = 0;
    for (const gt__resource *r = p->resources; r; r = r->next)
        n++;
    return n;
}

GT_TEST(resource_link_unlink)
{
    gt__proc p;
    proc_init(&p);
    fake f[3] = {{.r.ops = &with_resume}, {.r.ops = &with_resume}, {.r.ops = &with_resume}};
    for (int i = 0; i < 3; i++)
        gt__resource_link(&p, &f[i].r);
    ASSERT_EQ(count(&p), 3);
    gt__resource_unlink(&p, &f[1].r); /* the middle */
    ASSERT_EQ(count(&p), 2);
    ASSERT(f[1].r.next == NULL && f[1].r.prev == NULL);
    gt__resource_unlink(&p, &f[1].r); /* not in the list: a no-op */
    ASSERT_EQ(count(&p), 2);
    gt__resource_unlink(&p, &f[2].r); /* the head */
    gt__resource_unlink(&p, &f[0].r); /* the last */
    ASSERT(p.resources == NULL);
}

GT_TEST(resource_release_takes_each_once_with_a_hold)
{
    gt__proc p;
    proc_init(&p);
    fake f[4] = {{.r.ops = &with_resume}, {.r.ops = &without_resume},
                 {.r.ops = &with_resume}, {.r.ops = &without_resume}};
    for (int i = 0; i < 4; i++)
        gt__resource_link(&p, &f[i].r);
    p.exiting = true;
    release_seq = 0;
    gt__resources_release(&p);
    ASSERT(p.resources == NULL);
    for (int i = 0; i < 4; i++) {
        ASSERT_EQ(f[i].released, 1);
        ASSERT(f[i].released_by == &p);
        ASSERT_EQ(f[i].holds, 0); /* held, then dropped by release */
        ASSERT(f[i].r.next == NULL && f[i].r.prev == NULL);
    }
    ASSERT_EQ(f[3].order, 1); /* from the head: the newest first */
    gt__resources_release(&p); /* an empty list: nothing more */
    ASSERT_EQ(release_seq, 4);
}

static bool say_yes(void *arg)
{
    (*(int *)arg)++;
    return true;
}
static bool say_no(void *arg)
{
    (*(int *)arg)++;
    return false;
}

GT_TEST(resource_move_follows_the_handover)
{
    gt__proc a, b;
    proc_init(&a);
    proc_init(&b);
    fake f = {.r.ops = &with_resume};
    gt__resource_link(&a, &f.r);
    int calls = 0;
    ASSERT_EQ(gt__resource_move(&f.r, &a, &b, say_no, &calls), 0);
    ASSERT_EQ(calls, 1);
    ASSERT(a.resources == &f.r && b.resources == NULL); /* stays */
    ASSERT_EQ(gt__resource_move(&f.r, &a, &b, say_yes, &calls), 1);
    ASSERT_EQ(calls, 2);
    ASSERT(a.resources == NULL && b.resources == &f.r);
    ASSERT_EQ(gt__resource_move(&f.r, &b, &a, say_yes, &calls), 1);
    b.exiting = true; /* an exiting owner takes nothing: no handover asked */
    ASSERT_EQ(gt__resource_move(&f.r, &a, &b, say_yes, &calls), GT_ENOPROC);
    ASSERT_EQ(calls, 3);
    ASSERT(a.resources == &f.r && b.resources == NULL);
}

/* More than the 16 the resume copies on its stack: every resource with a
 * resume hook is resumed once, the others are left alone. */
GT_TEST(resource_resume_every_one_with_a_hook)
{
    enum { N = 40 };
    static fake f[N];
    gt__proc p;
    proc_init(&p);
    for (int i = 0; i < N; i++) {
        f[i] = (fake){.r.ops = i % 4 == 3 ? &without_resume : &with_resume};
        gt__resource_link(&p, &f[i].r);
    }
    gt__resources_resume(&p);
    for (int i = 0; i < N; i++) {
        ASSERT_EQ(f[i].resumed, i % 4 == 3 ? 0 : 1);
        ASSERT_EQ(f[i].holds, 0);
    }
    ASSERT_EQ(count(&p), N); /* resuming takes nothing out */
}
