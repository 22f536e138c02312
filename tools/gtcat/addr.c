/*
 * addr.c -- the address and backend arguments the gtcat commands share:
 * `local:PATH` wherever a port or a host and port is taken, `local:@NAME`
 * for an abstract name, and `--backend inet|socket`.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "gtcat.h"

bool parse_local(const char *arg, gtcat_local *out)
{
    if (strncmp(arg, "local:", 6) != 0)
        return false;
    const char *p = arg + 6;
    size_t n = strlen(p);
    if (n == 0)
        usage_error("'%s' needs a path after local:", arg);
    if (n >= sizeof out->path) /* inet's limit: 107 bytes */
        usage_error("local path '%s' is longer than %zu bytes", p, sizeof out->path - 1);
    memcpy(out->path, p, n);
    if (p[0] == '@') /* an abstract name: Erlang's <<0, Name/binary>> */
        out->path[0] = '\0';
    out->len = n;
    return true;
}

int parse_backend(const char *s)
{
    if (strcmp(s, "inet") == 0)
        return GT_BACKEND_INET;
    if (strcmp(s, "socket") == 0)
        return GT_BACKEND_SOCKET;
    usage_error("bad --backend '%s' (inet or socket)", s);
}

int parse_fd(const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < 0 || v > INT_MAX)
        usage_error("bad --fd '%s' (a descriptor number >= 0)", s);
    return (int)v;
}
