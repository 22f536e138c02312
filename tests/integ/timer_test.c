/*
 * timer_test.c -- timers that end in a message: gt_send_after,
 * gt_start_timer, gt_cancel_timer, gt_read_timer (erlang:send_after/3,
 * start_timer/3, cancel_timer/1, read_timer/1), from scheduler processes
 * and from OS threads, cancelled on the home scheduler and from afar, and
 * many thousands at once.
 */
#include "helpers.h"

#include "runtime/runtime.h" /* gt__msgtimer_count: timers allocated */

#define TAG_T 4242

static bool match_timer_kind(const gt_msg *m, void *arg)
{
    (void)arg;
    return m->kind == GT_MSG_TIMEOUT || (m->kind == GT_MSG_USER && m->tag == TAG_T);
}

/* The next timer message within t ms, or NULL. */
static gt_msg *next_timer_msg(int64_t t)
{
    gt_msg *m = NULL;
    return gt_receive_match(match_timer_kind, NULL, t, &m) == 0 ? m : NULL;
}

GT_TEST(timer_send_after_delivers_user_message)
{
    gt_timer ref;
    ASSERT_OK(gt_send_after(100, gt_self(), TAG_T, "tick", 4, &ref));
    ASSERT(ref.id != 0);
    int64_t left = gt_read_timer(ref);
    ASSERT(left > 0 && left <= 100);
    ASSERT(next_timer_msg(0) == NULL); /* not before its time */
    gt_msg *m = next_timer_msg(H_WAIT);
    ASSERT(m != NULL);
    ASSERT_EQ(m->kind, GT_MSG_USER);
    ASSERT_EQ(m->tag, TAG_T);
    ASSERT_STR(m, "tick");
    ASSERT_EQ(m->from.id, 0);
    gt_msg_free(m);
    ASSERT_EQ(gt_read_timer(ref), -1);   /* fired: false */
    ASSERT_EQ(gt_cancel_timer(ref), -1);
}

GT_TEST(timer_start_timer_carries_its_ref)
{
    gt_timer ref;
    ASSERT_OK(gt_start_timer(20, gt_self(), 9, NULL, 0, &ref));
    gt_msg *m = next_timer_msg(H_WAIT);
    ASSERT(m != NULL);
    ASSERT_EQ(m->kind, GT_MSG_TIMEOUT);
    ASSERT_EQ(m->timer.id, ref.id);
    ASSERT_EQ(m->tag, 9);
    ASSERT_EQ(m->len, 0);
    gt_msg_free(m);
}

/* A timer whose handle the caller does not want (NULL ref_out) still
 * fires; gt_start_timer's message carries its handle all the same (it was
 * GT_EBADARG: a caller who ignored the result lost the timer; audit16). */
GT_TEST(timer_without_ref_out_fires)
{
    ASSERT_OK(gt_send_after(5, gt_self(), TAG_T, "a", 1, NULL));
    gt_msg *m = next_timer_msg(H_WAIT);
    ASSERT(m != NULL);
    ASSERT_EQ(m->kind, GT_MSG_USER);
    ASSERT_STR(m, "a");
    gt_msg_free(m);
    ASSERT_OK(gt_start_timer(5, gt_self(), 7, NULL, 0, NULL));
    m = next_timer_msg(H_WAIT);
    ASSERT(m != NULL);
    ASSERT_EQ(m->kind, GT_MSG_TIMEOUT);
    ASSERT(m->timer.id != 0);
    ASSERT_EQ(gt_read_timer(m->timer), -1); /* fired */
    gt_msg_free(m);
}

/* cancel_timer returns the time left, and nothing arrives afterwards; a
 * second cancel is false. */
static void cancel_then_silence(void)
{
    gt_timer ref;
    ASSERT_OK(gt_send_after(150, gt_self(), TAG_T, "x", 1, &ref));
    int64_t left = gt_cancel_timer(ref);
    ASSERT(left > 0 && left <= 150);
    ASSERT_EQ(gt_cancel_timer(ref), -1);
    ASSERT_EQ(gt_read_timer(ref), -1);
    ASSERT(next_timer_msg(400) == NULL);
}

GT_TEST(timer_cancel_from_main_thread) { cancel_then_silence(); }

static void cancel_in_process(void *arg)
{
    cancel_then_silence();
    h_post_int(*(gt_pid *)arg, H_TAG_DONE, 1);
}

GT_TEST(timer_cancel_on_home_scheduler)
{
    gt_pid me = gt_self();
    h_spawn(cancel_in_process, &me);
    ASSERT_EQ(h_wait_int(H_TAG_DONE, H_WAIT), 1);
}

/* A process starts a timer to the main thread; main (another thread)
 * cancels it: the lazy path, where the home frees it at its deadline. */
static void start_for(void *arg)
{
    gt_pid *parent = arg;
    gt_timer ref;
    int rc = gt_send_after(120, *parent, TAG_T, "late", 4, &ref);
    gt_post(*parent, H_TAG_DONE, &ref, sizeof ref);
    (void)rc;
}

GT_TEST(timer_cancel_from_another_thread)
{
    gt_pid me = gt_self();
    h_spawn(start_for, &me);
    gt_msg *m = NULL;
    int tag = H_TAG_DONE;
    ASSERT_OK(gt_receive_match(h_match_tag, &tag, H_WAIT, &m));
    gt_timer ref;
    ASSERT_EQ(m->len, sizeof ref);
    memcpy(&ref, m->data, sizeof ref);
    gt_msg_free(m);
    ASSERT(ref.id != 0);
    int64_t left = gt_cancel_timer(ref);
    ASSERT(left >= 0 && left <= 120);
    ASSERT(next_timer_msg(400) == NULL);
}

/* A message already sent stays in the mailbox; cancel says false. */
GT_TEST(timer_cancel_after_fire_keeps_message)
{
    gt_timer ref;
    ASSERT_OK(gt_send_after(0, gt_self(), TAG_T, "now", 3, &ref));
    gt_msg *m = next_timer_msg(H_WAIT);
    ASSERT(m != NULL);
    gt_msg_free(m);
    ASSERT_OK(gt_send_after(10, gt_self(), TAG_T, "kept", 4, &ref));
    h_wait_mbox(1); /* it fired */
    ASSERT_EQ(gt_cancel_timer(ref), -1);
    m = next_timer_msg(0);
    ASSERT(m != NULL);
    ASSERT_STR(m, "kept");
    gt_msg_free(m);
}

/* A timer to a dead process sends nothing and reads as false. */
static void quick_fn(void *arg) { (void)arg; }

GT_TEST(timer_to_dead_process)
{
    gt_pid dead = h_spawn(quick_fn, NULL);
    h_wait_dead(dead);
    gt_timer ref;
    ASSERT_OK(gt_send_after(30, dead, TAG_T, "x", 1, &ref));
    ASSERT_EQ(gt_read_timer(ref), -1);
    ASSERT_EQ(gt_cancel_timer(ref), -1);
    ASSERT_OK(gt_send_after(10, dead, TAG_T, "x", 1, &ref));
    H_WAIT_UNTIL(gt_read_timer(ref) == -1); /* fires into nothing */
}

GT_TEST(timer_bad_arguments)
{
    gt_timer ref = {0};
    ASSERT_ERR(gt_send_after(-1, gt_self(), 0, NULL, 0, &ref), GT_EBADARG);
    ASSERT_ERR(gt_send_after(GT_INFINITY, gt_self(), 0, NULL, 0, &ref), GT_EBADARG);
    ASSERT_ERR(gt_send_after(GT_TIMER_MAX_MS + 1, gt_self(), 0, NULL, 0, &ref), GT_EBADARG);
    ASSERT_ERR(gt_send_after(INT64_MAX, gt_self(), 0, NULL, 0, &ref), GT_EBADARG);
    ASSERT_ERR(gt_start_timer(10, gt_self(), 0, NULL, 5, &ref), GT_EBADARG);
    ASSERT_EQ(gt_cancel_timer((gt_timer){0}), -1);
    ASSERT_EQ(gt_read_timer((gt_timer){12345}), -1);
    /* the longest timer is accepted and reads back about its length */
    ASSERT_OK(gt_send_after(GT_TIMER_MAX_MS, gt_self(), 0, NULL, 0, &ref));
    ASSERT(gt_read_timer(ref) > GT_TIMER_MAX_MS - 10000);
    ASSERT(gt_cancel_timer(ref) > 0);
}

/* Timers of one process fire in deadline order, whatever the order they
 * were started in. */
static void order_fn(void *arg)
{
    gt_pid parent = *(gt_pid *)arg;
    /* 100 ms apart: only a stall that long between two starts could swap them */
    static const int delays[] = {300, 100, 200, 0, 400};
    gt_timer ref;
    for (int i = 0; i < 5; i++)
        gt_send_after(delays[i], gt_self(), TAG_T, &delays[i], sizeof delays[i], &ref);
    int got = 0, last = -1, ok = 1;
    for (gt_msg *m; got < 5 && (m = next_timer_msg(H_WAIT)); got++) {
        int d;
        memcpy(&d, m->data, sizeof d);
        ok &= d > last;
        last = d;
        gt_msg_free(m);
    }
    h_post_int(parent, H_TAG_DONE, ok && got == 5);
}

GT_TEST(timer_deadline_order)
{
    gt_pid me = gt_self();
    h_spawn(order_fn, &me);
    ASSERT_EQ(h_wait_int(H_TAG_DONE, 10 * H_WAIT), 1);
}

/* 100,000 pending timers at once: every one fires exactly once, and the
 * half that is cancelled sends nothing. */
struct many { gt_pid parent; int n; };

static void many_fn(void *arg)
{
    struct many *mt = arg;
    gt_timer *refs = malloc((size_t)mt->n * sizeof *refs);
    unsigned char *seen = calloc((size_t)mt->n, 1);
    int bad = refs == NULL || seen == NULL;
    for (int i = 0; !bad && i < mt->n; i++)
        bad |= gt_send_after(50 + i % 200, gt_self(), TAG_T, &i, sizeof i, &refs[i]) != 0;
    int cancelled = 0;
    for (int i = 0; !bad && i < mt->n; i += 2)
        cancelled += gt_cancel_timer(refs[i]) >= 0;
    int got = 0;
    gt_msg *m;
    while (!bad && (m = next_timer_msg(got < mt->n - cancelled ? H_WAIT : 300))) {
        int i;
        memcpy(&i, m->data, sizeof i);
        bad |= i < 0 || i >= mt->n || seen[i]++ || i % 2 == 0;
        got++;
        gt_msg_free(m);
    }
    bad |= cancelled != mt->n / 2 || got != mt->n - cancelled;
    free(refs);
    free(seen);
    h_post_int(mt->parent, H_TAG_DONE, !bad);
}

GT_TEST(timer_hundred_thousand)
{
    struct many mt = {gt_self(), 100000};
    h_spawn(many_fn, &mt);
    ASSERT_EQ(h_wait_int(H_TAG_DONE, 20 * H_WAIT), 1);
}

/* Issue 10: a timer to a pid is cancelled when that process exits (Erlang:
 * "automatically canceled if the process referred to by the pid is not
 * alive, or if the process exits"), so 100,000 hour-long timers to a
 * process that ends hold no memory once it has ended, whether they were
 * started by the process itself (homed on its scheduler) or by another
 * thread (homed round robin); and one started to a dead pid is freed at
 * once. */
struct self_timers { gt_pid parent; int n; };

static void self_timers_fn(void *arg)
{
    struct self_timers *st = arg;
    gt_timer ref;
    int bad = 0;
    for (int i = 0; i < st->n; i++)
        bad |= gt_send_after(3600 * 1000, gt_self(), TAG_T, &i, sizeof i, &ref) != 0;
    h_post_int(st->parent, H_TAG_DONE, !bad);
    int tag = H_TAG_GO;
    gt_msg *m = NULL;
    if (gt_receive_match(h_match_tag, &tag, 20 * H_WAIT, &m) == 0)
        gt_msg_free(m);
}

static bool timers_back_to(size_t base)
{
    for (int i = 0; i < 10 * H_WAIT && gt__msgtimer_count() != base; i++)
        h_msleep(1);
    return gt__msgtimer_count() == base;
}

GT_TEST(i10_timers_to_an_exited_process_are_freed)
{
    enum { N = 50000 };
    size_t base = gt__msgtimer_count();
    struct self_timers st = {gt_self(), N};
    gt_pid p = h_spawn(self_timers_fn, &st);
    ASSERT_EQ(h_wait_int(H_TAG_DONE, 20 * H_WAIT), 1);
    gt_timer refs[4];
    for (int i = 0; i < N; i++)
        ASSERT_OK(gt_start_timer(3600 * 1000, p, TAG_T, NULL, 0, &refs[i % 4]));
    ASSERT_EQ(gt__msgtimer_count(), base + 2 * N);
    ASSERT(gt_read_timer(refs[0]) > 0);
    h_post_int(p, H_TAG_GO, 0);
    h_wait_dead(p);
    ASSERT(timers_back_to(base));
    ASSERT_EQ(gt_read_timer(refs[0]), -1);
    ASSERT_EQ(gt_cancel_timer(refs[1]), -1);
    /* to a dead pid: nothing is kept */
    gt_timer r;
    ASSERT_OK(gt_send_after(3600 * 1000, p, TAG_T, "x", 1, &r));
    ASSERT(r.id != 0);
    ASSERT_EQ(gt__msgtimer_count(), base);
    ASSERT_EQ(gt_read_timer(r), -1);
}

/* A timer that fired or was cancelled leaves its destination's list: the
 * destination's exit afterwards finds nothing to cancel twice, and what is
 * cancelled from another thread while the destination exits is freed once
 * (ASan and valgrind check the "once"). */
GT_TEST(i10_timers_fired_and_cancelled_leave_the_destination)
{
    size_t base = gt__msgtimer_count();
    struct self_timers st = {gt_self(), 0};
    gt_pid p = h_spawn(self_timers_fn, &st);
    ASSERT_EQ(h_wait_int(H_TAG_DONE, 20 * H_WAIT), 1);
    gt_timer fired, cancelled, racing[100];
    ASSERT_OK(gt_send_after(0, p, TAG_T, NULL, 0, &fired));
    ASSERT_OK(gt_send_after(3600 * 1000, p, TAG_T, NULL, 0, &cancelled));
    for (int i = 0; i < 100; i++)
        ASSERT_OK(gt_send_after(3600 * 1000, p, TAG_T, NULL, 0, &racing[i]));
    ASSERT(gt_cancel_timer(cancelled) > 0);
    for (int i = 0; i < 10 * H_WAIT && gt_read_timer(fired) != -1; i++)
        h_msleep(1);
    ASSERT_EQ(gt_read_timer(fired), -1);
    h_post_int(p, H_TAG_GO, 0);
    for (int i = 0; i < 100; i++)
        gt_cancel_timer(racing[i]); /* races the exit's cancel */
    h_wait_dead(p);
    ASSERT(timers_back_to(base));
}

/* Timers started while their destination exits, from a process on a
 * scheduler (inserted at once) and from this OS thread (inserted by a
 * deferred call): each is either cancelled by the exit or, started after
 * it, at once; none outlives the destination (ASan and TSan check the
 * race between the listing and the exit's cancel). */
struct racer { gt_pid target, parent; };

static void racer_fn(void *arg)
{
    struct racer *r = arg;
    gt_timer ref;
    int bad = 0;
    for (int i = 0; i < 20000 && gt_is_alive(r->target); i++)
        bad |= gt_send_after(3600 * 1000, r->target, TAG_T, NULL, 0, &ref) != 0;
    h_post_int(r->parent, H_TAG_DONE, !bad);
}

GT_TEST(i10_timers_started_while_the_destination_exits)
{
    size_t base = gt__msgtimer_count();
    for (int round = 0; round < 5; round++) {
        struct self_timers st = {gt_self(), 0};
        gt_pid target = h_spawn(self_timers_fn, &st);
        ASSERT_EQ(h_wait_int(H_TAG_DONE, 20 * H_WAIT), 1);
        struct racer r = {target, gt_self()};
        h_spawn(racer_fn, &r);
        gt_timer ref;
        for (int i = 0; i < 2000; i++) {
            if (i == 1000)
                h_post_int(target, H_TAG_GO, 0);
            ASSERT_OK(gt_send_after(3600 * 1000, target, TAG_T, NULL, 0, &ref));
        }
        ASSERT_EQ(h_wait_int(H_TAG_DONE, 20 * H_WAIT), 1);
        h_wait_dead(target);
        ASSERT(timers_back_to(base));
    }
}
