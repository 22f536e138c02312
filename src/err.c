/*
 * err.c -- names for error codes.  POSIX codes are -errno and are named as
 * inet:posix() spells them ("econnreset"); gentcp's own reasons come from
 * GT_ERR_MAP in gentcp.h.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

/* errno -> atom for every errno Linux can return from socket calls and the
 * few more inet:posix() names. */
#define POSIX_MAP(XX)                                                          \
    XX(EPERM, "eperm") XX(ENOENT, "enoent") XX(EINTR, "eintr")                 \
    XX(EIO, "eio") XX(EBADF, "ebadf") XX(EAGAIN, "eagain")                     \
    XX(ENOMEM, "enomem") XX(EACCES, "eacces") XX(EFAULT, "efault")             \
    XX(EBUSY, "ebusy") XX(EEXIST, "eexist") XX(ENODEV, "enodev")               \
    XX(ENOTDIR, "enotdir") XX(EINVAL, "einval") XX(ENFILE, "enfile")           \
    XX(EMFILE, "emfile") XX(ENOSPC, "enospc") XX(EPIPE, "epipe")               \
    XX(ERANGE, "erange") XX(ENAMETOOLONG, "enametoolong")                      \
    XX(ENOSYS, "enosys") XX(ENOTSOCK, "enotsock")                              \
    XX(EDESTADDRREQ, "edestaddrreq") XX(EMSGSIZE, "emsgsize")                  \
    XX(EPROTOTYPE, "eprototype") XX(ENOPROTOOPT, "enoprotoopt")                \
    XX(EPROTONOSUPPORT, "eprotonosupport") XX(EOPNOTSUPP, "enotsup")           \
    XX(EAFNOSUPPORT, "eafnosupport") XX(EADDRINUSE, "eaddrinuse")              \
    XX(EADDRNOTAVAIL, "eaddrnotavail") XX(ENETDOWN, "enetdown")                \
    XX(ENETUNREACH, "enetunreach") XX(ENETRESET, "enetreset")                  \
    XX(ECONNABORTED, "econnaborted") XX(ECONNRESET, "econnreset")              \
    XX(ENOBUFS, "enobufs") XX(EISCONN, "eisconn") XX(ENOTCONN, "enotconn")     \
    XX(ESHUTDOWN, "eshutdown") XX(ETIMEDOUT, "etimedout")                      \
    XX(ECONNREFUSED, "econnrefused") XX(EHOSTDOWN, "ehostdown")                \
    XX(EHOSTUNREACH, "ehostunreach") XX(EALREADY, "ealready")                  \
    XX(EINPROGRESS, "einprogress") XX(EOVERFLOW, "eoverflow")

const char *gt_err_name(int err)
{
    if (err == 0)
        return "ok";
    switch (err) {
#define GT__NAME(name, atom, text) case GT_E##name: return atom;
        GT_ERR_MAP(GT__NAME)
#undef GT__NAME
#define GT__POSIX(e, atom) case -(e): return atom;
        POSIX_MAP(GT__POSIX)
#undef GT__POSIX
    }
    return "unknown";
}

const char *gt_strerror(int err)
{
    if (err == 0)
        return "success";
    switch (err) {
#define GT__TEXT(name, atom, text) case GT_E##name: return text;
        GT_ERR_MAP(GT__TEXT)
#undef GT__TEXT
    }
    if (err < 0 && err > -4096)
        return strerror(-err); /* glibc: static strings for known codes */
    return "unknown error";
}

int gt__errno(void) { return errno ? -errno : -EIO; }
