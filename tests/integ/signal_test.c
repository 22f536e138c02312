/*
 * signal_test.c -- Unix signals as messages (gt_signal_subscribe): the
 * subscribers get a GT_MSG_SIGNAL instead of the default action, the old
 * disposition comes back when the last one leaves, and faults cannot be
 * taken over (issue 10, item 4).
 */
#include "helpers.h"

#include <signal.h>

static bool is_signal(const gt_msg *m, void *arg)
{
    return m->kind == GT_MSG_SIGNAL && m->tag == *(int *)arg;
}

/* The next GT_MSG_SIGNAL for signo within t ms. */
static bool got_signal(int signo, int64_t t)
{
    gt_msg *m;
    if (gt_receive_match(is_signal, &signo, t, &m) != 0)
        return false;
    gt_msg_free(m);
    return true;
}

static bool disposition_is_default(int signo)
{
    struct sigaction sa;
    sigaction(signo, NULL, &sa);
    return sa.sa_handler == SIG_DFL;
}

/* SIGTERM would end the test program; subscribed, it is a message. */
GT_TEST(signal_sigterm_becomes_a_message)
{
    ASSERT(disposition_is_default(SIGTERM));
    ASSERT_OK(gt_signal_subscribe(SIGTERM));
    ASSERT_OK(gt_signal_subscribe(SIGTERM)); /* twice is once */
    ASSERT(!disposition_is_default(SIGTERM));
    ASSERT_OK(kill(getpid(), SIGTERM));
    ASSERT(got_signal(SIGTERM, H_WAIT));
    ASSERT(!got_signal(SIGTERM, 100)); /* one message for one signal */
    ASSERT_OK(raise(SIGTERM));
    ASSERT(got_signal(SIGTERM, H_WAIT));
    ASSERT_OK(gt_signal_unsubscribe(SIGTERM));
    ASSERT(disposition_is_default(SIGTERM));
    ASSERT_ERR(gt_signal_unsubscribe(SIGTERM), GT_EBADARG);
}

struct sub { gt_pid parent; int signo; };

static void subscriber_fn(void *arg)
{
    struct sub *s = arg;
    gt_signal_subscribe(s->signo);
    h_post_int(s->parent, H_TAG_DONE, 0);
    h_post_int(s->parent, H_TAG_DONE + 1, got_signal(s->signo, 5 * H_WAIT));
}

/* Every subscriber gets its message; one that exited is forgotten, and the
 * old disposition returns after the last. */
GT_TEST(signal_every_subscriber_then_restore)
{
    struct sub s = {gt_self(), SIGUSR1};
    gt_pid kids[3];
    for (int i = 0; i < 3; i++)
        kids[i] = h_spawn(subscriber_fn, &s);
    for (int i = 0; i < 3; i++)
        h_wait_int(H_TAG_DONE, H_WAIT);
    ASSERT_OK(raise(SIGUSR1));
    for (int i = 0; i < 3; i++)
        ASSERT_EQ(h_wait_int(H_TAG_DONE + 1, 5 * H_WAIT), 1);
    for (int i = 0; i < 3; i++)
        h_wait_dead(kids[i]);
    /* all three are gone: the next arrival finds nobody and restores the
     * default (SIGUSR1's default would end us, so subscribe ourselves to
     * see the pruning without dying) */
    ASSERT_OK(gt_signal_subscribe(SIGUSR1));
    ASSERT_OK(raise(SIGUSR1));
    ASSERT(got_signal(SIGUSR1, H_WAIT));
    ASSERT_OK(gt_signal_unsubscribe(SIGUSR1));
    ASSERT(disposition_is_default(SIGUSR1));
}

/* A handler installed before is what comes back. */
static volatile sig_atomic_t user_handler_ran;
static void user_handler(int signo) { (void)signo, user_handler_ran = 1; }

GT_TEST(signal_restores_the_previous_handler)
{
    struct sigaction sa = {.sa_handler = user_handler};
    sigemptyset(&sa.sa_mask);
    ASSERT_OK(sigaction(SIGUSR2, &sa, NULL));
    ASSERT_OK(gt_signal_subscribe(SIGUSR2));
    ASSERT_OK(raise(SIGUSR2));
    ASSERT(got_signal(SIGUSR2, H_WAIT));
    ASSERT_EQ(user_handler_ran, 0);
    ASSERT_OK(gt_signal_unsubscribe(SIGUSR2));
    ASSERT_OK(raise(SIGUSR2));
    ASSERT_EQ(user_handler_ran, 1);
}

GT_TEST(signal_faults_cannot_be_subscribed)
{
    int bad[] = {SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, 0, -1, 100000};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ASSERT_ERR(gt_signal_subscribe(bad[i]), GT_EBADARG);
    ASSERT_ERR(gt_signal_unsubscribe(SIGKILL), GT_EBADARG);
}
