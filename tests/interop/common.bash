# common.bash -- sourced by the tests/interop/*.sh suites (not a suite itself).
# Env: B (build dir), GTCAT (gtcat binary).  Every process a suite starts is
# recorded in PIDS and killed by pid on exit; every wait is bounded.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
B=${B:-$ROOT/build}
GTCAT=${GTCAT:-$B/gtcat}
PEER=$HERE/peer.escript
TMP=$(mktemp -d /tmp/gentcp-interop.XXXXXX)
PIDS=()

cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    sleep 0.1
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
    [ -n "${KEEP_TMP:-}" ] && echo "kept $TMP" >&2 || rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ok() { printf 'ok %s\n' "$1"; }
fail() { printf 'FAIL %s: %s\n' "$1" "$2"; }
skip() { printf 'skip %s: %s\n' "$1" "$2"; }

# gtcat_sanitized: true when GTCAT is an ASan or TSan build (their runtimes
# are linked in: their allocator replaces malloc, keeps what is freed in a
# quarantine and does not give pages back to the kernel).
gtcat_sanitized() { nm "$GTCAT" 2>/dev/null | grep -q -e '__asan_init' -e '__tsan_init'; }

# peer ARGS...: the Erlang peer (escript), bounded by PEER_TIMEOUT seconds.
peer() { timeout "${PEER_TIMEOUT:-120}" escript "$PEER" "$@"; }

# need_gtcat SUITE: exits the suite with one skip line when gtcat is missing.
need_gtcat() {
    if [ ! -x "$GTCAT" ]; then
        skip "$1" "gtcat not built ($GTCAT)"
        exit 0
    fi
    command -v escript >/dev/null || { skip "$1" "escript (Erlang/OTP) not installed"; exit 0; }
}

# start_bg NAME CMD...: starts a listening program in the background, waits
# up to 10 s for its first stdout line "listening on PORT".  Sets BGPID,
# BGPORT, BGOUT (stdout file), BGERR (stderr file).  Returns 1 on failure.
start_bg() {
    local name=${1//\//_} i; shift
    BGOUT=$TMP/$name.out BGERR=$TMP/$name.err
    : >"$BGOUT"
    "$@" </dev/null >"$BGOUT" 2>"$BGERR" &
    BGPID=$!
    PIDS+=("$BGPID")
    BGPORT=
    for i in $(seq 100); do
        BGPORT=$(sed -n '1s/^listening on \([0-9][0-9]*\)$/\1/p' "$BGOUT")
        [ -n "$BGPORT" ] && return 0
        kill -0 "$BGPID" 2>/dev/null || break
        sleep 0.1
    done
    return 1
}

# stop_bg PID: kills it and reaps it (bounded).
stop_bg() {
    kill "$1" 2>/dev/null
    local i
    for i in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    return 0
}

# wait_bg PID SECONDS: waits for PID to exit by itself; sets BGRC (124 on timeout).
wait_bg() {
    local i
    for i in $(seq $(($2 * 10))); do
        kill -0 "$1" 2>/dev/null || { wait "$1"; BGRC=$?; return 0; }
        sleep 0.1
    done
    BGRC=124
    return 1
}

# run_peer_tests NAME-PREFIX PORT PACKET [TEST...]: runs the Erlang client
# tests and passes their ok/FAIL/skip lines through with the prefix; a crash
# or timeout of the escript itself is one more FAIL.
run_peer_tests() {
    local pre=$1 port=$2 pk=$3; shift 3
    local out=$TMP/peer-$$-$RANDOM.out rc
    peer echo_client "$port" "$pk" "$@" >"$out" 2>&1
    rc=$?
    grep -E "^(ok|FAIL|skip) " "$out" | sed -E "s#^(ok|FAIL|skip) #\1 $pre/#"
    if [ $rc -ne 0 ] && ! grep -q '^FAIL ' "$out"; then
        fail "$pre" "Erlang peer exited $rc: $(grep -v '^ok \|^skip ' "$out" | head -3 | tr '\n' ' ')"
    fi
}
