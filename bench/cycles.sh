#!/usr/bin/env bash
# bench/cycles.sh -- what a server does per read, for one workload (issue
# 11, stream15): per message its user and system CPU; per read(2) its
# messages, epoll waits, writes and context switches, and its CPU.
#
#   bash bench/cycles.sh [LABEL=CMD ...]
#   default contenders: gentcp=build/gtcat listen 0 --packet 4 --echo
#   e.g. uv="/path/uv_echo loops=1" nospin="GT_SPIN_US=0 build/gtcat ..."
#   ROUNDS=3 LOAD="pipe size=100 batch=1 secs=2 warm=0.5" (the stream)
# CMD is run with env, prints "listening on PORT" first (as gtcat and the
# peers of bench/peers.sh do), and is ended by its pid after each run.
#
# Why per read: on the stream workload (one connection, one write(2) per
# 100 B frame from the client, every frame echoed) each server's read,
# write and epoll wait cost about the same in the kernel, 12-15 us a read
# here, for gentcp, libuv and epoll alike; CPU per message is that divided
# by the messages one read finds, and those swing from 7 to 65 between runs
# of one server (how far the client got while the server worked or slept),
# which is why the workload's rate and CPU per message move +-50% from round
# to round.  The counts say which of the two moved.  System calls are
# counted with perf's syscall tracepoints (root); user and system CPU from
# /proc/PID/stat over the same 2 s inside the load's measured window (the
# kernel splits the two by tick samples: their sum is exact, the split is
# not -- callgrind counts user instructions firmly).
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
ROUNDS=${ROUNDS:-3}
LOAD=${LOAD:-"pipe size=100 batch=1 secs=2 warm=0.5"}
[ $# -gt 0 ] || set -- "gentcp=$ROOT/build/gtcat listen 0 --packet 4 --echo"
command -v perf >/dev/null || { echo "cycles.sh: needs perf" >&2; exit 1; }
TMP=$(mktemp -d /tmp/gentcp-cycles.XXXXXX)
SPID=
cleanup() { [ -n "$SPID" ] && kill "$SPID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
cc -std=c17 -D_GNU_SOURCE -O2 -Wall -Wextra -pthread -o "$TMP/load" bench/load.c || exit 1
HZ=$(getconf CLK_TCK)

ticks() { awk '{print $14, $15}' "/proc/$1/stat" 2>/dev/null || echo "0 0"; }

run() { # label cmd
    local label=$1 cmd=$2 port="" res rate
    : >"$TMP/s.out"
    # shellcheck disable=SC2086
    env $cmd </dev/null >"$TMP/s.out" 2>/dev/null &
    SPID=$!
    for _ in $(seq 100); do
        port=$(sed -n 's/^listening on \([0-9]*\).*/\1/p' "$TMP/s.out" | head -1)
        [ -n "$port" ] && break
        sleep 0.05
    done
    if [ -z "$port" ]; then
        echo "$label: no port"
        kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; SPID=
        return
    fi
    local ev=context-switches s
    for s in read recvfrom write writev sendto sendmsg epoll_wait epoll_pwait; do
        ev=$ev,syscalls:sys_enter_$s
    done
    # 2 s from 0.55 s in: inside the window of a load with warm=0.5 secs>=2
    (sleep 0.55; a=$(ticks "$SPID")
     perf stat -x, -e "$ev" -p "$SPID" -o "$TMP/perf" -- sleep 2 >/dev/null 2>&1
     echo "$a $(ticks "$SPID")" >"$TMP/ticks") &
    local mpid=$!
    # shellcheck disable=SC2086
    res=$(timeout 60 "$TMP/load" $LOAD port="$port" pid="$SPID" 2>/dev/null | grep '^result')
    wait "$mpid"
    kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; SPID=
    rate=$(echo "$res" | sed -n 's/.*rate=\([0-9.]*\).*/\1/p')
    [ -n "$rate" ] || { echo "$label: no result"; return; }
    awk -F, -v l="$label" -v r="$rate" -v hz="$HZ" -v t="$(cat "$TMP/ticks")" '
        $1 ~ /^[0-9]+$/ { k = $3; sub("syscalls:sys_enter_", "", k); v[k] = $1 }
        END {
            split(t, x, " "); m = r * 2
            usr = (x[3] - x[1]) / hz * 1e6; sys = (x[4] - x[2]) / hz * 1e6
            rd = v["read"] + v["recvfrom"]
            printf "%s rate=%.0f usr_us/msg=%.3f sys_us/msg=%.3f", l, r, usr / m, sys / m
            if (rd > 0)
                printf " msgs/read=%.1f per_read: epoll=%.2f writes=%.2f cs=%.2f cpu_us=%.1f",
                    m / rd, (v["epoll_wait"] + v["epoll_pwait"]) / rd,
                    (v["write"] + v["writev"] + v["sendto"] + v["sendmsg"]) / rd,
                    v["context-switches"] / rd, (usr + sys) / rd
            print ""
        }' "$TMP/perf"
}

for r in $(seq "$ROUNDS"); do
    for c in "$@"; do
        printf 'r%s ' "$r"
        run "${c%%=*}" "${c#*=}"
    done
done
