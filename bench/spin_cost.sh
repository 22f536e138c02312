#!/usr/bin/env bash
# bench/spin_cost.sh -- what an idle scheduler's spinning costs (issue 11
# item 3): gtcat's echo server's CPU (% of one core) holding N idle
# connections and at low request rates, and the pingpong latency it buys.
#
#   bash bench/spin_cost.sh [LABEL=GTCAT[:ENV] ...]
#   default contenders: adaptive=build/gtcat  nospin=build/gtcat:GT_SPIN_US=-1
#   e.g. fixed=/tmp/old/build/gtcat (a build before the adaptive spin)
#   REPS=3 SECS=5 IDLE_CONNS=1000
# Every workload runs every contender once per round, in an order rotated
# by one per round, each against a fresh server; prints one line per run
# and the medians.  The load generator is bench/load.c (rr, pace=, hold=1).
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
REPS=${REPS:-3} SECS=${SECS:-5} IDLE_CONNS=${IDLE_CONNS:-1000}
[ $# -gt 0 ] || set -- "adaptive=$ROOT/build/gtcat" "nospin=$ROOT/build/gtcat:GT_SPIN_US=-1"
TMP=$(mktemp -d /tmp/gentcp-spin.XXXXXX)
SPID=
cleanup() { [ -n "$SPID" ] && kill "$SPID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
cc -std=c17 -D_GNU_SOURCE -O2 -Wall -Wextra -pthread -o "$TMP/load" bench/load.c || exit 1

WLS=("pingpong:rr conns=1 size=64 secs=$SECS warm=1"
     "idle$IDLE_CONNS:rr conns=$IDLE_CONNS size=64 secs=$SECS warm=1 hold=1"
     "10/s:rr conns=10 size=64 secs=$SECS warm=1 pace=10"
     "100/s:rr conns=10 size=64 secs=$SECS warm=1 pace=100"
     "1000/s:rr conns=10 size=64 secs=$SECS warm=1 pace=1000")
run() { # label gtcat env args...
    local label=$1 g=$2 e=$3 port i; shift 3
    : >"$TMP/s.out"
    # shellcheck disable=SC2086
    env $e "$g" listen 0 --packet 4 --echo </dev/null >"$TMP/s.out" 2>/dev/null &
    SPID=$!
    for i in $(seq 100); do
        port=$(sed -n '1s/^listening on \([0-9]*\)$/\1/p' "$TMP/s.out")
        [ -n "$port" ] && break
        sleep 0.05
    done
    timeout 120 "$TMP/load" "$@" port="$port" pid="$SPID" | grep '^result' >"$TMP/r" || echo "result failed" >"$TMP/r"
    kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; SPID=
    cat "$TMP/r"
}
field() { tr ' ' '\n' <"$TMP/r" | sed -n "s/^$1=//p"; }
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
n=$#
for r in $(seq "$REPS"); do
    for wl in "${WLS[@]}"; do
        w=${wl%%:*}
        for i in $(seq 0 $((n - 1))); do
            k=$(( (i + r - 1) % n + 1 ))
            c=${!k}; label=${c%%=*}; spec=${c#*=}; g=${spec%%:*}; e=X=1
            [[ $spec == *:* ]] && e=${spec#*:}
            # shellcheck disable=SC2086
            run "$label" "$g" "$e" ${wl#*:} >/dev/null
            v="aux=$(field aux)"; [ "$w" = pingpong ] && v="p50=$(field p50_us) cpu=$(field cpu_us_per_op)"
            echo "round $r $w $label rate=$(field rate) $v" | tee -a "$TMP/all"
        done
    done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "medians (pingpong: p50 us and server CPU us per round trip; others: server CPU % of a core, achieved rate):"
for wl in "${WLS[@]}"; do
    w=${wl%%:*}
    for c in "$@"; do
        label=${c%%=*}
        awk -v w="$w" -v l="$label" '$3 == w && $4 == l' "$TMP/all" | python3 -c '
import sys, statistics as st
rows = [dict(kv.split("=", 1) for kv in l.split()[4:]) for l in sys.stdin]
def med(k):
    xs = [float(r[k]) for r in rows if k in r and r[k] not in ("", "-")]
    return "%.2f" % st.median(xs) if xs else "n/a"
if "p50" in (rows[0] if rows else {}):
    print("  %-10s %-10s p50 %s us, cpu %s us/rt, rate %s" % (sys.argv[1], sys.argv[2], med("p50"), med("cpu"), med("rate")))
else:
    print("  %-10s %-10s cpu %s %%, rate %s" % (sys.argv[1], sys.argv[2], med("aux"), med("rate")))
' "$w" "$label"
    done
done
