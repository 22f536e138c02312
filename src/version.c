/*
 * version.c -- gt_version(): the version compiled into the library, so a
 * program can tell it from the header's GT_VERSION it was built with.
 */
#include "gentcp.h"

const char *gt_version(void) { return GT_VERSION; }
