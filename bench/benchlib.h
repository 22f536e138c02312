/*
 * benchlib.h -- plain POSIX helpers shared by the C load clients and
 * servers that do not link gentcp (bench/rawc.c, bench/load.c): dying with
 * a message, key=value arguments after the mode, the monotonic clock,
 * {packet,4} headers, blocking whole reads and writes, socket flags,
 * percentiles and /proc figures.
 *
 * Header-only (static inline) because bench/run.sh and bench/peers.sh build
 * each of those programs alone from its one .c file, and the Makefile makes
 * one program of every C file in bench/.  Call bl_init() first in main().
 */
#ifndef BENCHLIB_H
#define BENCHLIB_H

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *bl_name = "bench"; /* prefix of die()'s messages */
static int bl_argc;
static char **bl_argv;

/* name prefixes error messages; argv[1] is the mode, key=value pairs follow. */
static inline void bl_init(const char *name, int argc, char **argv)
{
    bl_name = name;
    bl_argc = argc;
    bl_argv = argv;
}

__attribute__((noreturn, format(printf, 1, 2))) static inline void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", bl_name);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* The value of key=value after the mode, or def when absent. */
static inline const char *sarg(const char *key, const char *def)
{
    size_t kl = strlen(key);
    for (int i = 2; i < bl_argc; i++)
        if (strncmp(bl_argv[i], key, kl) == 0 && bl_argv[i][kl] == '=')
            return bl_argv[i] + kl + 1;
    return def;
}

static inline long long arg(const char *key, long long def)
{
    const char *v = sarg(key, NULL);
    return v ? strtoll(v, NULL, 0) : def;
}

static inline double farg(const char *key, double def)
{
    const char *v = sarg(key, NULL);
    return v ? strtod(v, NULL) : def;
}

static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline struct timespec timespec_of(double s)
{
    return (struct timespec){(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
}

static inline void sleep_s(double s)
{
    struct timespec ts = timespec_of(s);
    nanosleep(&ts, NULL);
}

/* ---------------------------------------------------------------- frames */

static inline void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) << 32 | get32(p + 4); }

/* count {packet,4} frames back to back, each a header and size bytes of
 * fill; the caller owns (frees) the buffer. */
static inline uint8_t *frames_new(uint32_t size, long count, int fill)
{
    size_t fl = 4 + (size_t)size;
    uint8_t *buf = malloc(fl * (size_t)count);
    if (!buf)
        die("out of memory");
    for (long i = 0; i < count; i++) {
        put32(buf + (size_t)i * fl, size);
        memset(buf + (size_t)i * fl + 4, fill, size);
    }
    return buf;
}

/* ---------------------------------------------------------------- blocking I/O */

static inline void write_all(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            die("write: %s", strerror(errno));
        }
        p += w;
        len -= (size_t)w;
    }
}

/* Reads up to len bytes, fewer only at EOF; returns how many.  Dies on an
 * error. */
static inline size_t read_until_eof(int fd, void *buf, size_t len)
{
    uint8_t *p = buf;
    size_t got = 0;
    while (got < len) {
        ssize_t r = read(fd, p + got, len - got);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            die("read: %s", strerror(errno));
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return got;
}

/* Reads exactly len bytes: false on EOF before the first byte (the peer
 * ended cleanly between frames); dies on EOF after it. */
static inline int read_exact_or_eof(int fd, void *buf, size_t len)
{
    size_t got = read_until_eof(fd, buf, len);
    if (got == 0 && len > 0)
        return 0;
    if (got < len)
        die("read: EOF inside a frame");
    return 1;
}

/* Reads exactly len bytes; dies on any EOF (the peer must answer). */
static inline void read_exact(int fd, void *buf, size_t len)
{
    if (read_until_eof(fd, buf, len) < len)
        die("read: server closed");
}

/* ---------------------------------------------------------------- sockets */

static inline void set_nodelay(int fd)
{
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
        die("TCP_NODELAY: %s", strerror(errno));
}

static inline void set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        die("O_NONBLOCK: %s", strerror(errno));
}

/* ---------------------------------------------------------------- figures */

static inline int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile p (0..100) of sorted v[0..n), n > 0. */
static inline double pct(const double *v, long n, double p)
{
    long k = (long)((p / 100.0) * (double)n + 0.999999999);
    if (k < 1)
        k = 1;
    if (k > n)
        k = n;
    return v[k - 1];
}

/* VmRSS of process pid (0: this one) in KiB, -1 if unreadable. */
static inline long vmrss_kb(long pid)
{
    char path[64], line[256];
    if (pid > 0)
        snprintf(path, sizeof path, "/proc/%ld/status", pid);
    else
        snprintf(path, sizeof path, "/proc/self/status");
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    fclose(f);
    return kb;
}

#endif
