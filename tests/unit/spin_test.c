/*
 * spin_test.c -- the adaptive spin budget of an idle scheduler
 * (src/runtime/spin.c, issue 11 item 3): it spins only while recent waits
 * were short, in proportion to how many were, and not at all after a long
 * idle or when spinning is off.
 */
#include "runtime/spin.h"
#include "../test.h"

#define US 1000
#define MS 1000000

/* One idle period of `waited` ns starting at *t; returns its budget. */
static int64_t wait_once(gt__spin *sp, int64_t *t, int64_t waited)
{
    int64_t b = gt__spin_budget(sp, *t);
    *t += waited;
    gt__spin_woke(sp, *t);
    *t += 5 * US; /* the work that the wake-up brought */
    return b;
}

/* Short waits caught by the spin: a full history and budget. */
static void warm_up_short(gt__spin *sp, int64_t *t)
{
    for (int i = 0; i < GT__SPIN_HISTORY; i++)
        wait_once(sp, t, 20 * US);
}

GT_TEST(i11_3_spin_none_until_short_waits_seen)
{
    gt__spin sp;
    gt__spin_init(&sp, 50 * US, NULL);
    int64_t t = 1 * MS;
    ASSERT_EQ(gt__spin_budget(&sp, t), 0); /* a fresh scheduler does not spin */
}

GT_TEST(i11_3_spin_grows_with_short_waits)
{
    gt__spin sp;
    gt__spin_init(&sp, 50 * US, NULL);
    int64_t t = 1 * MS, last = -1;
    for (int i = 0; i < GT__SPIN_HISTORY; i++) {
        int64_t b = wait_once(&sp, &t, 20 * US);
        ASSERT(b > last || (i == 0 && b == 0));
        last = b;
    }
    ASSERT_EQ(gt__spin_budget(&sp, t), 50 * US); /* every recent wait short: full */
    gt__spin_woke(&sp, t + 10 * US);
    ASSERT_EQ(gt__spin_budget(&sp, t + 20 * US), 50 * US); /* stays full */
}

GT_TEST(i11_3_spin_short_includes_a_wake_up)
{
    /* A conversation whose scheduler slept sees the vCPU wake-up in its
     * waits: 120 us for a 50 us budget still counts as short (no spin
     * caught those waits, so the full budget is a probe now and then, see
     * below). */
    gt__spin sp;
    gt__spin_init(&sp, 50 * US, NULL);
    int64_t t = 1 * MS;
    for (int i = 0; i < GT__SPIN_HISTORY; i++)
        wait_once(&sp, &t, 120 * US);
    ASSERT_EQ(__builtin_popcount(sp.history), GT__SPIN_HISTORY);
    bool full = false;
    for (int i = 0; i < GT__SPIN_PROBE && !full; i++)
        full = gt__spin_budget(&sp, t) == 50 * US;
    ASSERT(full);
}

/* Short waits that spins do not catch (an accept load: a connection every
 * 50-150 us): a spin that mostly runs out and sleeps anyway costs more CPU
 * than the wake-ups it saves.  Once fewer than GT__SPIN_PAYS of the last
 * spins caught their work, only one idle period in GT__SPIN_PROBE spins
 * (issue 11: 4.3 epoll_wait per accepted connection, most of them polls of
 * spins that found nothing) ... */
GT_TEST(i11_spin_pauses_while_spins_miss)
{
    gt__spin sp;
    gt__spin_init(&sp, 50 * US, NULL);
    int64_t t = 1 * MS;
    for (int i = 0; i < GT__SPIN_HISTORY; i++)
        wait_once(&sp, &t, 100 * US); /* short, never caught */
    int spun = 0, full = 0;
    for (int i = 0; i < GT__SPIN_PROBE; i++) {
        int64_t b = wait_once(&sp, &t, 100 * US);
        spun += b > 0;
        full += b == 50 * US;
    }
    ASSERT_EQ(spun, 1); /* the probe, one in GT__SPIN_PROBE */
    ASSERT_EQ(full, 1);
}

/* A spin whose work came late in it (an accept load on a fast box: a
 * connection every 40-70 us) saved a wake-up for more CPU than the wake-up
 * costs: it is no catch (GT__SPIN_PAY_NS), so such spins pause as misses
 * do, while catches within a round trip (20 us) keep spinning. */
GT_TEST(spin15_late_catches_do_not_pay)
{
    gt__spin sp;
    gt__spin_init(&sp, 50 * US, NULL);
    int64_t t = 1 * MS;
    for (int i = 0; i < 2 * GT__SPIN_HISTORY; i++)
        wait_once(&sp, &t, 20 * US); /* caught early */
    ASSERT_EQ(gt__spin_budget(&sp, t), 50 * US); /* those pay: full spins */
    gt__spin_woke(&sp, t + 20 * US);
    t += 25 * US;
    for (int i = 0; i < GT__SPIN_HISTORY; i++)
        wait_once(&sp, &t, 40 * US); /* caught, late */
    int spun = 0;
    for (int i = 0; i < GT__SPIN_PROBE; i++)
        spun += wait_once(&sp, &t, 40 * US) > 0;
    ASSERT_EQ(spun, 1); /* the probe only */
}

/* One idle period whose spin catches, after `waited` ns, work of another
 * watcher than those the scheduler handled last (sched.c, answers()). */
static int64_t other_once(gt__spin *sp, int64_t *t, int64_t waited)
{
    int64_t b = gt__spin_budget(sp, *t);
    *t += waited;
    if (b > 0)
        gt__spin_caught_other(sp);
    gt__spin_woke(sp, *t);
    *t += 5 * US;
    return b;
}

/* Work of no conversation (a new connection, another connection's
 * data) caught early by the spin does not pay: a wake-up serves it for
 * less CPU.  Under accept nearly every catch was such, most within 5 us,
 * and kept full spins on: 13-14 us of server CPU per event in the seconds
 * with spins, 9.4-10.2 without (acc16).  A conversation's catches, as
 * early or later, keep the full spin. */
GT_TEST(acc16_catches_of_other_work_do_not_pay)
{
    gt__spin sp;
    gt__spin_init(&sp, 50 * US, NULL);
    int64_t t = 1 * MS;
    warm_up_short(&sp, &t); /* a conversation: full spins */
    ASSERT_EQ(gt__spin_budget(&sp, t), 50 * US);
    gt__spin_woke(&sp, t + 3 * US);
    t += 10 * US;
    for (int i = 0; i < GT__SPIN_HISTORY; i++)
        other_once(&sp, &t, 3 * US); /* caught at once, but another's */
    int spun = 0;
    for (int i = 0; i < GT__SPIN_PROBE; i++)
        spun += other_once(&sp, &t, 3 * US) > 0;
    ASSERT_EQ(spun, 1); /* the probe only */
    /* the conversation again: probes catch its answers, full spins return */
    for (int i = 0; i < GT__SPIN_PROBE_MAX + (GT__SPIN_PAYS + 1) * GT__SPIN_PROBE; i++)
        wait_once(&sp, &t, 15 * US);
    for (int i = 0; i < GT__SPIN_HISTORY; i++)
        ASSERT_EQ(wait_once(&sp, &t, 15 * US), 50 * US);
}

/* ... and each probe that misses doubles the gap to the next, up to
 * GT__SPIN_PROBE_MAX: on a loaded box nearly no spin caught its work and
 * probing one idle period in 8 cost 0.5-2.7 us per request (sched5). */
GT_TEST(i11_sched5_probes_back_off_while_they_miss)
{
    gt__spin sp;
    gt__spin_init(&sp, 50 * US, NULL);
    int64_t t = 1 * MS;
    for (int i = 0; i < 4 * GT__SPIN_HISTORY; i++)
        wait_once(&sp, &t, 100 * US); /* short, never caught */
    int last = -1, gaps[16], ngaps = 0;
    for (int i = 0; i < 8 * GT__SPIN_PROBE_MAX && ngaps < 16; i++) {
        int64_t b = wait_once(&sp, &t, 100 * US);
        if (b == 0)
            continue;
        ASSERT_EQ(b, 50 * US);
        if (last >= 0)
            gaps[ngaps++] = i - last;
        last = i;
    }
    ASSERT(ngaps >= 4);
    for (int g = 1; g < ngaps; g++) /* widening, doubling, up to the cap */
        ASSERT(gaps[g] == gaps[g - 1] * 2 || gaps[g] == GT__SPIN_PROBE_MAX);
    ASSERT_EQ(gaps[ngaps - 1], GT__SPIN_PROBE_MAX);
    /* a probe that catches: the next probe comes GT__SPIN_PROBE later */
    int64_t b;
    while ((b = gt__spin_budget(&sp, t)) == 0) {
        t += 100 * US;
        gt__spin_woke(&sp, t);
        t += 5 * US;
    }
    t += 20 * US; /* caught */
    gt__spin_woke(&sp, t);
    int next = 0;
    while (wait_once(&sp, &t, 100 * US) == 0)
        next++;
    ASSERT_EQ(next + 1, GT__SPIN_PROBE);
}

/* ... and spins again in full once the probes catch the work: a
 * request/response conversation loses its spin for a few probes at most. */
GT_TEST(i11_spin_resumes_when_probes_catch)
{
    gt__spin sp;
    gt__spin_init(&sp, 50 * US, NULL);
    int64_t t = 1 * MS;
    for (int i = 0; i < 4 * GT__SPIN_HISTORY; i++)
        wait_once(&sp, &t, 100 * US);
    ASSERT_EQ(wait_once(&sp, &t, 20 * US), 0); /* paused */
    /* enough idle periods for GT__SPIN_PAYS probes to catch the work */
    for (int i = 0; i < GT__SPIN_PROBE_MAX + (GT__SPIN_PAYS + 1) * GT__SPIN_PROBE; i++)
        wait_once(&sp, &t, 20 * US);
    for (int i = 0; i < GT__SPIN_HISTORY; i++) /* every idle period spins again */
        ASSERT_EQ(wait_once(&sp, &t, 20 * US), 50 * US);
}

/* A spin whose first poll finds work pending was not put to the test (a
 * blocking wait would return that work as soon): it counts neither as a
 * catch nor as a miss.  Under accept those finds came in 12-44% of the
 * idle periods while the spins' own polls caught under 3% of their waits, and counted as
 * catches they kept the full spin on (acc14). */
GT_TEST(acc14_first_poll_finds_are_no_catches)
{
    gt__spin sp;
    gt__spin_init(&sp, 50 * US, NULL);
    int64_t t = 1 * MS;
    warm_up_short(&sp, &t);
    int tested = 0;
    for (int i = 0; i < 128; i++) {
        int64_t b = gt__spin_budget(&sp, t);
        if (b > 0 && i % 2 == 0) {
            gt__spin_untested(&sp); /* the first poll found work */
            t += 1 * US;
        } else {
            tested += b > 0;
            t += 100 * US; /* short, and no spin catches it */
        }
        gt__spin_woke(&sp, t);
        t += 5 * US;
    }
    /* only probes: a few, not one idle period in two */
    ASSERT(tested <= 16);
    ASSERT(tested >= 2);
}

/* A probe whose first poll found work is owed: the next idle period
 * probes. */
GT_TEST(acc14_untested_probe_probes_next)
{
    gt__spin sp;
    gt__spin_init(&sp, 50 * US, NULL);
    int64_t t = 1 * MS;
    for (int i = 0; i < 4 * GT__SPIN_HISTORY; i++)
        wait_once(&sp, &t, 100 * US); /* short, never caught: probing */
    int64_t b;
    int n = 0;
    while ((b = gt__spin_budget(&sp, t)) == 0 && n++ < 4 * GT__SPIN_PROBE_MAX) {
        t += 100 * US;
        gt__spin_woke(&sp, t);
        t += 5 * US;
    }
    ASSERT_EQ(b, 50 * US);
    gt__spin_untested(&sp);
    t += 1 * US;
    gt__spin_woke(&sp, t);
    t += 5 * US;
    ASSERT_EQ(gt__spin_budget(&sp, t), 50 * US);
}

/* Spins that miss and then sleep long (a busy box: the client the server
 * waits for waits for a CPU itself, and many waits pass 2 ms): the long
 * idle clears the short waits, not the record of spins that did not pay,
 * which had given every burst after it full spins again (acc14: under
 * accept on the busy box, 193-391 spins a second that missed). */
GT_TEST(acc14_long_idle_keeps_the_record_of_misses)
{
    gt__spin sp;
    gt__spin_init(&sp, 50 * US, NULL);
    int64_t t = 1 * MS;
    warm_up_short(&sp, &t);
    int spun = 0;
    for (int round = 0; round < 16; round++) {
        for (int i = 0; i < 6; i++)
            spun += round >= 4 && wait_once(&sp, &t, 100 * US) > 0; /* short, missed */
        wait_once(&sp, &t, 3 * MS); /* long */
    }
    /* 72 idle periods after the first rounds: probes only */
    ASSERT(spun <= 12);
}

GT_TEST(i11_3_spin_proportional_to_short_share)
{
    gt__spin sp;
    gt__spin_init(&sp, 80 * US, NULL);
    int64_t t = 1 * MS;
    for (int i = 0; i < GT__SPIN_HISTORY; i++) /* alternating: 1 ms, 10 us */
        wait_once(&sp, &t, i % 2 ? 10 * US : 1 * MS);
    ASSERT_EQ(gt__spin_budget(&sp, t), 40 * US);
}

GT_TEST(i11_3_spin_stops_at_low_request_rates)
{
    /* 1000, 100, 10 requests a second: every wait 1 ms or longer */
    int64_t gaps[] = {1 * MS, 10 * MS, 100 * MS};
    for (int g = 0; g < 3; g++) {
        gt__spin sp;
        gt__spin_init(&sp, 50 * US, NULL);
        int64_t t = 1 * MS;
        for (int i = 0; i < GT__SPIN_HISTORY; i++)
            wait_once(&sp, &t, 20 * US); /* a busy past */
        for (int i = 0; i < GT__SPIN_HISTORY; i++)
            wait_once(&sp, &t, gaps[g]);
        ASSERT_EQ(gt__spin_budget(&sp, t), 0);
    }
}

GT_TEST(i11_3_spin_none_after_a_long_idle)
{
    gt__spin sp;
    gt__spin_init(&sp, 50 * US, NULL);
    int64_t t = 1 * MS;
    for (int i = 0; i < GT__SPIN_HISTORY; i++)
        wait_once(&sp, &t, 20 * US);
    wait_once(&sp, &t, 5 * MS); /* one long idle clears it at once */
    ASSERT_EQ(gt__spin_budget(&sp, t), 0);
}

GT_TEST(i11_3_spin_off_stays_off)
{
    gt__spin sp;
    gt__spin_init(&sp, -1, NULL);
    int64_t t = 1 * MS;
    for (int i = 0; i < 2 * GT__SPIN_HISTORY; i++)
        ASSERT_EQ(wait_once(&sp, &t, 10 * US), 0);
}

GT_TEST(i11_3_spin_busy_loop_records_no_wait)
{
    /* woke without a budget call before it (work found without idling):
     * not a wait, nothing recorded */
    gt__spin sp;
    gt__spin_init(&sp, 50 * US, NULL);
    for (int i = 0; i < 20; i++)
        gt__spin_woke(&sp, (int64_t)i * MS);
    ASSERT_EQ(gt__spin_budget(&sp, 100 * MS), 0);
}

/* Polls while spinning: the first comes promptly, later ones spread out in
 * proportion to the idle time (a wait costs at most a quarter more), never
 * more than the maximum apart, and the spin never overruns its budget. */
GT_TEST(i11_3_spin_polls_spread_out_as_idle_grows)
{
    ASSERT_EQ(gt__spin_pause(0, 50 * US), GT__SPIN_POLL_NS);
    ASSERT_EQ(gt__spin_pause(4 * US, 50 * US), GT__SPIN_POLL_NS);
    ASSERT_EQ(gt__spin_pause(20 * US, 50 * US), 5 * US);
    ASSERT_EQ(gt__spin_pause(200 * US, 1 * MS), GT__SPIN_POLL_MAX_NS);
    ASSERT_EQ(gt__spin_pause(40 * US, 3 * US), 3 * US); /* ends on time */
    ASSERT_EQ(gt__spin_pause(60 * US, -1 * US), 0);
    int polls = 0; /* a full 50 us spin that finds nothing */
    for (int64_t idle = 0; idle < 50 * US; idle += gt__spin_pause(idle, 50 * US - idle))
        polls++;
    ASSERT(polls <= 13);
    ASSERT(polls >= 8);
}

/* The poll without waiting before an idle period: while such polls find
 * work (a busy server) it stays; once one comes back empty (a stream or a
 * conversation whose run drained its sockets) the scheduler goes straight
 * to its spin or blocking wait, which find pending events as soon -- one
 * epoll_wait per read instead of two (issue 11, stream) -- and polls first
 * again once an idle period ends at once (work was waiting). */
GT_TEST(i11_strm_poll_first_only_while_it_finds_work)
{
    int64_t maxes[] = {50 * US, 0}; /* spinning, and spin off */
    for (int m = 0; m < 2; m++) {
        gt__spin sp;
        gt__spin_init(&sp, maxes[m], NULL);
        ASSERT(gt__spin_poll_first(&sp)); /* fresh: as busy */
        gt__spin_polled(&sp, true);
        ASSERT(gt__spin_poll_first(&sp));
        gt__spin_polled(&sp, false); /* the run drained everything */
        ASSERT(!gt__spin_poll_first(&sp));
        int64_t t = 1 * MS;
        wait_once(&sp, &t, 20 * US); /* a spin's poll or a sleep found it */
        ASSERT(!gt__spin_poll_first(&sp));
        wait_once(&sp, &t, GT__SPIN_POLL_NS + 1); /* the spin's first poll */
        ASSERT(!gt__spin_poll_first(&sp));
        wait_once(&sp, &t, 300); /* the wait returned at once: busy again */
        ASSERT(gt__spin_poll_first(&sp));
    }
}

/* A scheduler whose recent waits were all short: the next budget is full. */
static void warm_up(gt__spin *sp, int64_t *t)
{
    for (int i = 0; i < GT__SPIN_HISTORY; i++) {
        wait_once(sp, t, 20 * US);
        gt__spin_stop(sp);
    }
}

/* Two schedulers' spins, 50 us each, sharing one gate. */
static void two_schedulers(gt__spin_gate *gate, gt__spin *a, gt__spin *b)
{
    gt__spin_gate_init(gate, 2);
    gt__spin_init(a, 50 * US, gate);
    gt__spin_init(b, 50 * US, gate);
}

GT_TEST(i11_sched5_one_of_two_schedulers_spins_at_a_time)
{
    gt__spin_gate gate;
    gt__spin a, b;
    two_schedulers(&gate, &a, &b);
    int64_t t = 1 * MS;
    warm_up(&a, &t);
    warm_up(&b, &t);
    ASSERT_EQ(gt__spin_budget(&a, t), 50 * US);
    ASSERT_EQ(gt__spin_budget(&b, t), 0); /* a spins: b sleeps at once */
    gt__spin_woke(&b, t + 30 * US);
    gt__spin_stop(&b); /* holds no place: frees none */
    ASSERT_EQ(gt__spin_budget(&b, t + 40 * US), 0);
    gt__spin_woke(&b, t + 45 * US);
    gt__spin_stop(&b);
    gt__spin_woke(&a, t + 50 * US);
    gt__spin_stop(&a); /* a's spin ended: b may spin */
    ASSERT_EQ(gt__spin_budget(&b, t + 60 * US), 50 * US);
    ASSERT_EQ(gt__spin_budget(&a, t + 60 * US), 0);
    gt__spin_stop(&a);
    gt__spin_stop(&b);
    ASSERT_EQ(atomic_load(&gate.spinning), 0);
}

GT_TEST(i11_sched5_denied_spin_is_not_an_unpaid_one)
{
    /* A scheduler kept from spinning by the gate did not spin: its waits
     * must not count as spins that missed, or it would stop spinning when
     * the gate frees (a probe in GT__SPIN_PROBE). */
    gt__spin_gate gate;
    gt__spin a, b;
    two_schedulers(&gate, &a, &b);
    int64_t t = 1 * MS;
    warm_up(&b, &t);
    ASSERT_EQ(gt__spin_budget(&a, t), 0); /* a fresh a: no spin, no place */
    warm_up(&a, &t);
    ASSERT_EQ(gt__spin_budget(&a, t), 50 * US); /* a holds the place */
    for (int i = 0; i < 2 * GT__SPIN_HISTORY; i++) { /* b's waits: long for a spin */
        ASSERT_EQ(gt__spin_budget(&b, t), 0);
        t += 120 * US;
        gt__spin_woke(&b, t);
        gt__spin_stop(&b);
    }
    gt__spin_woke(&a, t);
    gt__spin_stop(&a);
    ASSERT_EQ(gt__spin_budget(&b, t + 10 * US), 50 * US);
    gt__spin_stop(&b);
}

GT_TEST(i11_sched5_half_of_many_schedulers_spin)
{
    gt__spin_gate gate;
    gt__spin_gate_init(&gate, 4);
    gt__spin sp[4];
    int64_t t = 1 * MS;
    for (int i = 0; i < 4; i++) {
        gt__spin_init(&sp[i], 50 * US, &gate);
        warm_up(&sp[i], &t);
    }
    int spinning = 0;
    for (int i = 0; i < 4; i++)
        spinning += gt__spin_budget(&sp[i], t) > 0;
    ASSERT_EQ(spinning, 2);
    for (int i = 0; i < 4; i++)
        gt__spin_stop(&sp[i]);
    gt__spin_gate gate1;
    gt__spin_gate_init(&gate1, 1);
    ASSERT_EQ(gate1.max, 1); /* one scheduler still spins */
}

/* A spin yields before each poll while its yields pay (spin.h, "Yield";
 * rr13): one that returned quickly, or whose poll found an event per
 * GT__SPIN_YIELD_PER_EVENT_NS it took (a peer on this CPU ran and sent),
 * keeps them; one that gave the CPU away for long and found nothing (a
 * CPU-bound neighbour ran its slice: pingpong beside one fell from 3,266
 * to 572 round trips a second) stops them for GT__SPIN_YIELD_GAP pauses,
 * doubling while they keep not paying, up to GT__SPIN_YIELD_GAP_MAX; one
 * that pays resets the gap. */
static int pauses_without_yield(gt__spin *sp)
{
    int n = 0;
    while (!gt__spin_yield_now(sp))
        n++;
    return n;
}

GT_TEST(i13_rr13_spin_yields_only_while_they_pay)
{
    gt__spin sp;
    gt__spin_init(&sp, 50 * US, NULL);
    for (int i = 0; i < 100; i++) { /* quick yields; long ones with many events */
        ASSERT(gt__spin_yield_now(&sp));
        gt__spin_yielded(&sp, i % 2 ? 3 * US : 2000 * US, i % 2 ? 0 : 200);
    }
    gt__spin_yielded(&sp, 1500 * US, 1); /* a neighbour's slice for one event */
    ASSERT_EQ(pauses_without_yield(&sp), GT__SPIN_YIELD_GAP);
    int gap = GT__SPIN_YIELD_GAP;
    for (int i = 0; i < 10; i++) {
        gt__spin_yielded(&sp, 1500 * US, 0);
        gap = gap * 2 > GT__SPIN_YIELD_GAP_MAX ? GT__SPIN_YIELD_GAP_MAX : gap * 2;
        ASSERT_EQ(pauses_without_yield(&sp), gap);
    }
    ASSERT_EQ(gap, GT__SPIN_YIELD_GAP_MAX);
    gt__spin_yielded(&sp, 10 * US, 0); /* pays: the gap starts over */
    ASSERT(gt__spin_yield_now(&sp));
    gt__spin_yielded(&sp, 1500 * US, 0);
    ASSERT_EQ(pauses_without_yield(&sp), GT__SPIN_YIELD_GAP);
}
