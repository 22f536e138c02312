/*
 * backend.c -- the two backends' descriptors (backend.h) and the process's
 * default backend.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "socket/backend.h"

const gt__backend gt__inet_backend = {
    .id = GT_BACKEND_INET,
    .name = "inet",
    .close_drains = true,
    .close_drops_closed = true,
    .deferred_shutdown = true,
};

const gt__backend gt__socket_backend = {
    .id = GT_BACKEND_SOCKET,
    .name = "socket",
    .blocking_send = true,
    .closed_forever = true,
    .stale_closed = true,
    .queued_recv = true,
    .recv_length_any = true,
    .emsgsize_keeps = true,
    .line_cut_at_size = true,
    .activate_ended_einval = true,
    .passive_from_false = true,
    .ctl_dead_ok = true,
    .local_ip_opts_enotsup = true,
    .stat_counts_reads = true,
};


/* Erlang reads `-kernel inet_backend socket` (ERL_FLAGS) once, at boot;
 * gentcp reads its variable once, at the first socket. */
static pthread_once_t default_once = PTHREAD_ONCE_INIT;
static int default_backend = GT_BACKEND_INET;

static void read_default(void)
{
    const char *e = getenv("GENTCP_INET_BACKEND");
    if (e && strcmp(e, "socket") == 0)
        default_backend = GT_BACKEND_SOCKET;
}

int gt__backend_default(void)
{
    pthread_once(&default_once, read_default);
    return default_backend;
}
