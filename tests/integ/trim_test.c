/*
 * trim_test.c -- memory comes back once a burst of processes has ended and
 * the schedulers are idle (issue 11, "what a user feels after load";
 * runtime/trim.c): the stack caches shrink to one slab per scheduler and
 * the shared spare set empties, instead of keeping the pages a burst
 * touched for ever.
 */
#include "helpers.h"

#include <stdatomic.h>
#include <time.h>

#include "runtime/sched.h"

#define BURST 600 /* more than every scheduler's pool and the spare set hold */

/* Alive together (so that their stacks leave the pools at once), then
 * ended together by a message. */
static void wait_fn(void *arg)
{
    atomic_fetch_add((atomic_int *)arg, 1);
    gt_msg *m = NULL;
    if (gt_receive(10 * H_WAIT, &m) == 0)
        gt_msg_free(m);
}

static void nap_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

GT_TEST(i11_mem5_idle_after_a_burst_gives_the_stack_caches_back)
{
    static gt_pid pids[BURST];
    atomic_int ran = 0;
    for (int i = 0; i < BURST; i++)
        pids[i] = h_spawn(wait_fn, &ran);
    for (int i = 0; i < 10 * H_WAIT / 10 && atomic_load(&ran) < BURST; i++)
        nap_ms(10);
    ASSERT_EQ(atomic_load(&ran), BURST);
    for (int i = 0; i < BURST; i++)
        ASSERT_OK(gt_post(pids[i], 1, NULL, 0));
    for (int i = 0; i < BURST; i++)
        h_wait_dead(pids[i]);
    /* 600 stacks freed at once overflow the pools (64 a scheduler) into
     * the spare set (64); idle, the schedulers must give them back. */
    int spare = gt__stack_spare_count(), waited = 0;
    for (; spare > 0 && waited < 10 * H_WAIT; waited += 10) {
        nap_ms(10);
        spare = gt__stack_spare_count();
    }
    fprintf(stderr, "# spare stacks: %d after %d ms idle (%d processes ended)\n", spare, waited, BURST);
    ASSERT_EQ(spare, 0);
}
