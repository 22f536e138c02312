#!/usr/bin/env bash
# bench/skew.sh -- balance under a skewed load (issue 10 item 7): stealing on
# against off, same binary, same invocation.
#
#   bash bench/skew.sh            conns=1000 secs=3, 3 runs each, medians
#   CONNS=200 SECS=2 REPS=1 ...   smaller
#   WORK_US=50 ...                each request also costs 50 us of server CPU
#
# Server: build/bench/gt_skew (2 schedulers; every connection's process and
# socket start on scheduler 1).  Client: build/bench/load rr (one {packet,4}
# 64-byte request in flight per connection).  Reports round trips/s and
# the CPU seconds each server thread used during the load's whole run (the
# two busiest threads are the schedulers; the rest are idle helpers).
set -u
cd "$(dirname "$0")/.."
B=${B:-build}
CONNS=${CONNS:-1000} SECS=${SECS:-3} REPS=${REPS:-3} SIZE=${SIZE:-64} WORK_US=${WORK_US:-0}
make -s -j2 "$B/bench/gt_skew" "$B/bench/load" >/dev/null || exit 1
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)"
TMP=$(mktemp -d /tmp/gentcp-skew.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
HZ=$(getconf CLK_TCK)

# utime+stime ticks of each thread of pid $1, "tid ticks" per line
ticks() { for f in /proc/"$1"/task/*/stat; do
    awk -v t="${f%/stat}" '{sub(/.*\) /, ""); print t, $12 + $13}' "$f" 2>/dev/null; done; }

run() { # $1 = steal value; prints "rate s1_cpu s2_cpu"
    exec 3> >(exec "$B/bench/gt_skew" steal="$1" work_us="$WORK_US" >"$TMP/srv.out" 2>"$TMP/srv.err")
    local spid=$! port="" i
    for i in $(seq 100); do
        port=$(awk '/listening on/ {print $3}' "$TMP/srv.out" 2>/dev/null)
        [ -n "$port" ] && break
        sleep 0.05
    done
    [ -z "$port" ] && { echo "gt_skew did not start" >&2; kill "$spid"; return 1; }
    local spid2
    spid2=$(pgrep -P "$spid" -x gt_skew 2>/dev/null || echo "$spid")
    ticks "$spid2" >"$TMP/t0"
    "$B/bench/load" rr port="$port" pid="$spid2" conns="$CONNS" size="$SIZE" secs="$SECS" \
        warm=1 >"$TMP/c.out" 2>"$TMP/c.err" </dev/null
    ticks "$spid2" >"$TMP/t1"
    exec 3>&-
    wait "$spid" 2>/dev/null
    local rate
    rate=$(sed -n 's/.*rate=\([0-9.]*\).*/\1/p' "$TMP/c.out")
    [ -z "$rate" ] && { cat "$TMP/c.err" >&2; return 1; }
    # per-thread CPU seconds during the run, the two busiest, in thread order
    local cpu
    cpu=$(join "$TMP/t0" "$TMP/t1" | awk -v hz="$HZ" '{print $1, ($3 - $2) / hz}' |
          sort -k2 -g -r | head -2 | sort -k1,1 | awk '{printf "%s ", $2}')
    echo "$rate $cpu"
}

median() { sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

printf '%-10s %12s %10s %10s   (runs: rate sched1_cpu_s sched2_cpu_s)\n' steal rate/s s1_cpu s2_cpu
for s in -1 1; do : >"$TMP/r$s"; done
for r in $(seq "$REPS"); do
    for s in -1 1; do
        line=$(run "$s") || exit 1
        echo "$line" >>"$TMP/r$s"
    done
done
for s in -1 1; do
    name=$([ "$s" = 1 ] && echo on || echo off)
    printf '%-10s %12.0f %10s %10s   (%s)\n' "$name" "$(cut -d' ' -f1 "$TMP/r$s" | median)" \
        "$(cut -d' ' -f2 "$TMP/r$s" | median)" "$(cut -d' ' -f3 "$TMP/r$s" | median)" \
        "$(paste -sd';' "$TMP/r$s")"
done
