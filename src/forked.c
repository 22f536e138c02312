/*
 * forked.c -- the flag every public call checks first (internal.h,
 * gt__forked()).  runtime/fork.c sets it in a child of fork(); it lives
 * here, beside the declaration, so that code below the runtime (the TLS
 * fuzz target builds src/tls/ without it) links on its own.
 */
#include "internal.h"

atomic_int gt__forked_flag;
