#!/bin/bash
# prefetch_kept.sh -- the scheduler's cache hints (src/util/prefetch.h,
# issue 11 rr1k) are in the compiled loop.  A hint is a no-op to the
# compiler's mind: GCC 12 -O2 silently deleted __builtin_prefetch hints of
# the event loop (and a branch on read/write around them, and a loop of them
# over a length it could not see), and no behaviour test can see a missing
# prefetch.  Every gt__prefetch_r/_w call of sched.c covers at least 152
# bytes and unrolls into one prefetch per line plus one for the last byte:
# the debug line tables (addr2line -i) must put at least 3 prefetch
# instructions of sched.o under each such call.
#
# Usage: prefetch_kept.sh [SCHED-OBJECT [SCHED-SOURCE]]
#        (default: build/src/runtime/sched.o, src/runtime/sched.c)
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
obj=${1:-$root/build/src/runtime/sched.o}
src=${2:-$root/src/runtime/sched.c}
if [ ! -f "$obj" ]; then
    echo "skip prefetch_kept: $obj not built (make first)"
    exit 0
fi
for tool in objdump addr2line; do
    if ! command -v $tool >/dev/null; then
        echo "skip prefetch_kept: no $tool"
        exit 0
    fi
done
case $(uname -m) in
x86_64) insn='prefetch[a-z0-9]*' ;;
aarch64) insn='prfm' ;;
*) echo "skip prefetch_kept: no prefetch mnemonic known for $(uname -m)"; exit 0 ;;
esac
name=$(basename "$src")
# per source line of sched.c: how many prefetch instructions inline from it
counts=$(objdump -d --no-show-raw-insn "$obj" | awk -v re="^$insn\$" '$2 ~ re {sub(":", "", $1); print $1}' |
    xargs -r addr2line -i -e "$obj" | sed -n "s|.*/$name:\([0-9]*\).*|\1|p" | sort -n | uniq -c)
calls=0
bad=0
while IFS=: read -r line _; do
    calls=$((calls + 1))
    n=$(awk -v l="$line" '$2 == l {print $1}' <<<"$counts")
    if [ "${n:-0}" -lt 3 ]; then
        echo "FAIL prefetch_kept: $name:$line: ${n:-0} prefetch instructions in $obj (at least 3 expected)"
        bad=1
    fi
done < <(grep -n 'gt__prefetch_[rw](' "$src")
if [ "$calls" -eq 0 ]; then
    echo "FAIL prefetch_kept: no gt__prefetch_r/_w call in $src"
    exit 1
fi
[ $bad = 0 ] || exit 1
echo "ok prefetch_kept: each of the $calls hint calls of $name has its prefetches in $obj"
