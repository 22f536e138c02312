/*
 * spin.c -- the adaptive spin budget of an idle scheduler (see spin.h).
 */
#include "runtime/spin.h"

#define HISTORY_MASK ((1u << GT__SPIN_HISTORY) - 1)

void gt__spin_gate_init(gt__spin_gate *g, int nscheds)
{
    atomic_init(&g->spinning, 0);
    g->max = nscheds > 2 ? nscheds / 2 : 1;
}

/* A place in the gate, if one is free. */
static bool gate_enter(gt__spin_gate *g)
{
    int n = atomic_load_explicit(&g->spinning, memory_order_relaxed);
    while (n < g->max)
        if (atomic_compare_exchange_weak_explicit(&g->spinning, &n, n + 1, memory_order_relaxed,
                                                  memory_order_relaxed))
            return true;
    return false;
}

void gt__spin_init(gt__spin *sp, int64_t max_ns, gt__spin_gate *gate)
{
    sp->gate = gate;
    sp->in_gate = false;
    sp->max_ns = max_ns > 0 ? max_ns : 0;
    sp->history = 0; /* a fresh scheduler has seen no conversation yet */
    sp->caught = HISTORY_MASK; /* ... nor a spin that did not pay */
    sp->unpaid = 0;
    sp->probe_gap = GT__SPIN_PROBE;
    sp->probing = false;
    sp->other = false;
    sp->budget = 0;
    sp->idle_since = 0;
    sp->poll_first = true; /* as busy until an empty poll says otherwise */
    sp->yield_skip = 0;
    sp->yield_gap = GT__SPIN_YIELD_GAP;
}

int64_t gt__spin_budget(gt__spin *sp, int64_t now)
{
    sp->idle_since = now;
    int shorts = __builtin_popcount(sp->history & HISTORY_MASK);
    int64_t b = sp->max_ns * shorts / GT__SPIN_HISTORY;
    sp->probing = false;
    sp->other = false;
    if (b > 0 && __builtin_popcount(sp->caught) < GT__SPIN_PAYS) {
        if (++sp->unpaid < sp->probe_gap)
            b = 0; /* spins have not been paying: probe now and then */
        else
            sp->unpaid = 0, sp->probing = true;
    }
    if (b > 0 && sp->gate && !sp->in_gate) {
        if (gate_enter(sp->gate))
            sp->in_gate = true;
        else
            b = 0, sp->probing = false; /* others spin already: leave the cores to the rest */
    }
    sp->budget = b;
    return b;
}

void gt__spin_woke(gt__spin *sp, int64_t now)
{
    if (!sp->idle_since)
        return;
    int64_t waited = now - sp->idle_since;
    sp->idle_since = 0;
    if (waited < GT__SPIN_AT_ONCE_NS)
        sp->poll_first = true; /* busy again: work was waiting */
    if (!sp->max_ns)
        return;
    if (sp->budget > 0) { /* it spun: did that catch the work? */
        bool caught = !sp->other && waited < (sp->budget < GT__SPIN_PAY_NS ? sp->budget : GT__SPIN_PAY_NS);
        sp->caught = ((sp->caught << 1) | caught) & HISTORY_MASK;
        if (sp->probing && !caught)
            sp->probe_gap = sp->probe_gap * 2 > GT__SPIN_PROBE_MAX ? GT__SPIN_PROBE_MAX : sp->probe_gap * 2;
        if (caught || __builtin_popcount(sp->caught) >= GT__SPIN_PAYS)
            sp->probe_gap = GT__SPIN_PROBE;
        if (__builtin_popcount(sp->caught) >= GT__SPIN_PAYS)
            sp->unpaid = 0;
        sp->probing = false;
    }
    int64_t short_ns = sp->max_ns + GT__SPIN_WAKE_NS;
    if (waited >= GT__SPIN_LONG_NS && waited > 4 * short_ns) {
        sp->history = 0; /* what comes next starts afresh; whether spins
                            paid is kept (spin.h) */
        return;
    }
    unsigned is_short = waited <= short_ns;
    sp->history = ((sp->history << 1) | is_short) & HISTORY_MASK;
}

void gt__spin_untested(gt__spin *sp)
{
    if (sp->probing)
        sp->unpaid = sp->probe_gap; /* the next idle period probes instead */
    sp->probing = false;
    sp->budget = 0; /* gt__spin_woke: no catch, no miss */
}

void gt__spin_caught_other(gt__spin *sp) { sp->other = true; }

void gt__spin_stop(gt__spin *sp)
{
    if (sp->in_gate) {
        atomic_fetch_sub_explicit(&sp->gate->spinning, 1, memory_order_relaxed);
        sp->in_gate = false;
    }
}

int64_t gt__spin_pause(int64_t idle_ns, int64_t left_ns)
{
    int64_t p = idle_ns / 4;
    p = p < GT__SPIN_POLL_NS ? GT__SPIN_POLL_NS : p > GT__SPIN_POLL_MAX_NS ? GT__SPIN_POLL_MAX_NS : p;
    return p < left_ns ? p : left_ns > 0 ? left_ns : 0;
}

bool gt__spin_poll_first(const gt__spin *sp) { return sp->poll_first; }

void gt__spin_polled(gt__spin *sp, bool found) { sp->poll_first = found; }

bool gt__spin_yield_now(gt__spin *sp)
{
    if (!sp->yield_skip)
        return true;
    sp->yield_skip--;
    return false;
}

void gt__spin_yielded(gt__spin *sp, int64_t took_ns, int n)
{
    if (took_ns <= GT__SPIN_YIELD_QUICK_NS || took_ns <= (int64_t)n * GT__SPIN_YIELD_PER_EVENT_NS) {
        sp->yield_gap = GT__SPIN_YIELD_GAP;
        return;
    }
    sp->yield_skip = sp->yield_gap;
    sp->yield_gap = sp->yield_gap * 2 > GT__SPIN_YIELD_GAP_MAX ? GT__SPIN_YIELD_GAP_MAX : sp->yield_gap * 2;
}
