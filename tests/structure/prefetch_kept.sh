#!/bin/bash
# prefetch_kept.sh -- the scheduler's cache hints (src/util/prefetch.h,
# issue 11 rr1k) are in the compiled loop.  A hint is a no-op to the
# compiler's mind: GCC 12 -O2 silently deleted a loop of them over a length
# it could not see, and "if (write) hint(c, 1) else hint(c, 0)" entirely,
# and nothing else would notice (no test can see a missing prefetch).
# Each gt__prefetch_r/_w call in sched.c covers at least 152 bytes and
# unrolls into one prefetch per line and one for the last byte, so sched.o
# holds at least four prefetch instructions per call (a loop of them cost
# 4 instructions a line, ~100 per echo).
#
# Usage: prefetch_kept.sh [SCHED-OBJECT]   (default: build/src/runtime/sched.o)
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
obj=${1:-$root/build/src/runtime/sched.o}
if [ ! -f "$obj" ]; then
    echo "skip prefetch_kept: $obj not built (make first)"
    exit 0
fi
if ! command -v objdump >/dev/null; then
    echo "skip prefetch_kept: no objdump"
    exit 0
fi
case $(uname -m) in
x86_64) insn='prefetch' ;;
aarch64) insn='prfm' ;;
*) echo "skip prefetch_kept: no prefetch mnemonic known for $(uname -m)"; exit 0 ;;
esac
calls=$(sed 's://.*$::' "$root/src/runtime/sched.c" | grep -c 'gt__prefetch_[rw](')
found=$(objdump -d --no-show-raw-insn "$obj" | grep -cw "$insn[a-z0-9]*")
if [ "$calls" -lt 1 ] || [ "$found" -lt $((4 * calls)) ]; then
    echo "FAIL prefetch_kept: $obj has $found prefetch instructions for $calls hint calls in sched.c (at least $((4 * calls)) expected)"
    exit 1
fi
echo "ok prefetch_kept: $found prefetch instructions for $calls hint calls in sched.c"
