#!/usr/bin/env bash
# The whole test suite: unit and integration tests, examples, gtcat, Erlang
# interop, the decode_packet conformance corpus, fuzz replays and short fuzz
# runs, then the unit and integration tests again under ASan+UBSan, TSan and
# valgrind.  Every case prints one line: "ok ...", "FAIL ..." or
# "skip ...: why"; the last line counts them.  `make test` runs this.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
LOG=$ROOT/build/test-log.txt
mkdir -p build
: > "$LOG"

# Installs nothing (bash scripts/deps.sh does, first): a missing tool makes
# the tests that need it skip, each saying why.
bash scripts/deps.sh --check | tee -a "$LOG"

JOBS=${JOBS:-$(nproc)}
say() { printf '%s\n' "$*" | tee -a "$LOG"; }
section() { say "== $*"; }

# run CMD...: runs a test program whose stdout is ok/FAIL/skip lines.
run() {
    "$@" 2>&1 | grep -E '^(ok|FAIL|skip) |^  ' | tee -a "$LOG"
    return 0
}

build() { # VARIANT TARGETS...
    local v=$1; shift
    if ! make -s -j"$JOBS" VARIANT="$v" "$@" >build/make-"${v:-default}".log 2>&1; then
        say "FAIL build${v:+ ($v)}: make $* failed; see build/make-${v:-default}.log"
        tail -30 build/make-"${v:-default}".log
        return 1
    fi
    if grep -q 'warning:' build/make-"${v:-default}".log; then
        say "FAIL build${v:+ ($v)}: compiler warnings"
        grep 'warning:' build/make-"${v:-default}".log | head -20
    else
        say "ok build${v:+ ($v)}: warning-free"
    fi
}

unit_and_integ() { # BUILD-DIR PREFIX-CMD...
    local dir=$1; shift
    for t in "$dir"/tests/unit/* "$dir"/tests/integ/*; do
        [ -x "$t" ] && [ -f "$t" ] || continue
        case $t in *.o|*.d) continue;; esac
        run "$@" "$t"
    done
}

section "build (gcc -Wall -Wextra)"
if build "" all; then
    if make -q all >/dev/null 2>&1; then
        say "ok build: a second make has nothing to do"
    else
        say "FAIL build: a second make would rebuild: $(make -n all 2>&1 | head -3 | tr '\n' '|')"
    fi
    section "unit + integration"
    unit_and_integ build
    export B=$ROOT/build GTCAT=$ROOT/build/gtcat
    for s in tests/*/*.sh; do
        [ -f "$s" ] || continue
        section "$s"
        run bash "$s"
    done
fi

if [ "${GT_SKIP_SANITIZERS:-0}" = 1 ]; then
    say "skip sanitizers: GT_SKIP_SANITIZERS=1"
else
    # The runner's 60 s per-test limit is sized for the release build; it
    # is there to end a hang, not to time a test.  The sanitizers slow the
    # tests 5-15x (TSan maps and unmaps shadow for every process stack:
    # link_test's 10,000-process test takes 11 s of CPU under TSan and 25-48
    # s of wall time on a loaded box), so these stages get valgrind's 300 s.
    section "ASan + UBSan"
    if build asan lib tests; then
        GT_TEST_TIMEOUT=300 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
            UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 unit_and_integ build-asan
    fi
    section "TSan"
    if build tsan lib tests; then
        GT_TEST_TIMEOUT=300 TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
            unit_and_integ build-tsan
    fi
    section "valgrind (memcheck)"
    if command -v valgrind >/dev/null; then
        # The scheduler threads live as long as the process: their stacks
        # show as "possibly lost"; only definite leaks and errors count.
        for t in build/tests/unit/* build/tests/integ/*; do
            [ -x "$t" ] && [ -f "$t" ] || continue
            case $t in *.o|*.d) continue;; esac
            GT_TEST_TIMEOUT=300 run valgrind -q --error-exitcode=99 --leak-check=full \
                --suppressions=tests/valgrind.supp \
                --show-possibly-lost=no --errors-for-leak-kinds=definite "$t"
        done
    else
        say "skip valgrind: not installed"
    fi
fi

p=$(grep -c '^ok ' "$LOG"); f=$(grep -c '^FAIL ' "$LOG"); s=$(grep -c '^skip ' "$LOG")
echo
if [ "$f" -gt 0 ]; then echo "failures:"; grep '^FAIL ' "$LOG"; fi
if [ "$s" -gt 0 ]; then echo "skips:"; grep '^skip ' "$LOG"; fi
echo "$p passed, $f failed, $s skipped"
[ "$f" -eq 0 ]
