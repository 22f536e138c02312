#!/usr/bin/env bash
# bench/peers.sh -- every {packet,4} echo server of the project's benchmark,
# gentcp and its peers, on every workload, alternating round by round.
#
#   bash bench/peers.sh                full sizes (about 25 min with REPS=3)
#   QUICK=1 bash bench/peers.sh        smoke sizes (< 3 min): checks that every
#                                      contender works, measures nothing
#   REPS=5 PEER_WORKLOADS="rr1k accept" CONTENDERS="gentcp go tokio" ...
#                                      (PEER_WORKLOADS: bench/run.sh has its own WORKLOADS)
#   LABEL="..."                        a note printed at the top of the report
#
# Contenders (servers; each prints "listening on PORT", echoes every complete
# frame, serves until killed):
#   gentcp gentcp-hib  build/gtcat listen 0 --packet 4 --echo [--hibernate]
#   rawc               bench/rawc.c echo-server (epoll, 1 thread)
#   epoll-1t epoll-2t  bench/peers/epoll (edge-triggered; 2t: SO_REUSEPORT)
#   libuv-1loop libuv-Nloop  bench/peers/libuv (N = nproc loops, SO_REUSEPORT)
#   go                 bench/peers/go (goroutine per connection)
#   tokio              bench/peers/tokio (task per connection, built offline)
#   inet socket inet-hib  bench/erl_peer.escript echo_server (process per
#                      connection, {active,once}; -hib: erlang:hibernate/3)
# The -hib variants run the rr1k and idle workloads only.
#
# Workloads (the client is build/bench/load, bench/load.c):
#   pingpong  rr, 1 connection, 64 B          round trips/s, RTT p50/p99
#   rr1k      rr, 1000 connections, 64 B each  round trips/s, RTT p50/p99
#   accept    50 connectors: connect+echo+close  conns/s
#   stream    pipe, 100 B frames, 1 per write()  echoed msgs/s
#   echo      pipe, 100 B frames, 64 per write() echoed msgs/s
#   bulk      pipe, 64 KiB frames                echoed MB/s (aux)
#   idle      10,000 idle connections            server VmRSS B/conn
#   burst     10,000 connects at once            conns/s, ListenOverflows
# Every row carries the server's CPU per operation (utime+stime of its pid
# over the measured window, a spinning scheduler included).
#
# Rounds: REPS rounds; in each, every workload runs every contender once, in
# an order rotated by one per round, each against a freshly started server.
# Output: bench/results/peers-STAMP.csv and .meta; `bash bench/report.sh`
# turns the newest into docs/PERFORMANCE.md.  A contender whose toolchain is
# missing or that fails gets rows with status n/a and the reason.
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
B=${B:-$ROOT/build}
P=$B/peers
QUICK=${QUICK:-0}
NPROC=$(nproc)
if [ "$QUICK" = 1 ]; then
    REPS=${REPS:-1} SECS=${SECS:-0.2} WARM=${WARM:-0.05}
    RR_CONNS=${RR_CONNS:-200} IDLE_N=${IDLE_N:-1000} BURST_N=${BURST_N:-1000} SETTLE_MS=${SETTLE_MS:-100}
    LABEL=${LABEL:-smoke run (QUICK=1): small sizes, checks every contender works; not a measurement}
else
    REPS=${REPS:-3} SECS=${SECS:-3} WARM=${WARM:-1}
    RR_CONNS=${RR_CONNS:-1000} IDLE_N=${IDLE_N:-10000} BURST_N=${BURST_N:-10000} SETTLE_MS=${SETTLE_MS:-500}
    LABEL=${LABEL:-}
fi
WORKLOADS=${PEER_WORKLOADS:-pingpong rr1k accept stream echo bulk idle burst}
ALL_CONTENDERS="gentcp gentcp-hib rawc epoll-1t epoll-2t libuv-1loop libuv-Nloop go tokio inet socket inet-hib"
CONTENDERS=${CONTENDERS:-$ALL_CONTENDERS}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${OUT:-$ROOT/bench/results/peers-$STAMP}
TMP=$(mktemp -d /tmp/gentcp-peers.XXXXXX)
LOG=$TMP/log
SPID=

ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"

cleanup() {
    if [ -n "$SPID" ]; then
        kill "$SPID" 2>/dev/null
        sleep 0.2
        kill -9 "$SPID" 2>/dev/null
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
note() { printf 'peers: %s\n' "$*" >&2; printf '%s\n' "$*" >>"$LOG"; }

# ---------------------------------------------------------------- build
# Each peer builds into build/peers/; on failure NA[contender] holds why.
declare -A NA CMD
mkdir -p "$P"
CC=${CC:-cc}
CFLAGS_PEER="-std=c17 -D_GNU_SOURCE -O2 -Wall -Wextra -pthread"

newer() { # target sources... : true when target is missing or older
    local t=$1 s; shift
    [ -e "$t" ] || return 0
    for s in "$@"; do [ "$s" -nt "$t" ] && return 0; done
    return 1
}
first_err() { grep -m1 -iE 'error|cannot|not found|no such' "$1" | cut -c1-150; }

build_c() { # out src extra-libs...
    local out=$1 src=$2; shift 2
    newer "$out" "$src" bench/benchlib.h || return 0
    # shellcheck disable=SC2086
    $CC $CFLAGS_PEER -o "$out" "$src" "$@" >"$TMP/build.log" 2>&1
}

note "building the peers into $P ..."
build_c "$P/load" bench/load.c || { note "load generator did not build:"; cat "$TMP/build.log" >&2; exit 1; }
RAWC=$B/bench/rawc
build_c "$P/rawc" bench/rawc.c && RAWC=$P/rawc || NA[rawc]="rawc.c did not build: $(first_err "$TMP/build.log")"
want() { local c; for c in "$@"; do [[ " $CONTENDERS " == *" $c "* ]] && return 0; done; return 1; }
if ! want epoll-1t epoll-2t; then
    :
elif build_c "$P/epoll_echo" bench/peers/epoll/epoll_echo.c; then
    CMD[epoll-1t]="$P/epoll_echo threads=1"
    CMD[epoll-2t]="$P/epoll_echo threads=2"
else
    NA[epoll-1t]="epoll_echo did not build: $(first_err "$TMP/build.log")"; NA[epoll-2t]=${NA[epoll-1t]}
fi
if ! want libuv-1loop libuv-Nloop; then
    :
elif ! pkg-config --exists libuv 2>/dev/null && [ ! -e /usr/include/uv.h ]; then
    NA[libuv-1loop]="libuv1-dev not installed (bash bench/deps.sh)"
elif build_c "$P/uv_echo" bench/peers/libuv/uv_echo.c -luv; then
    CMD[libuv-1loop]="$P/uv_echo loops=1"
    CMD[libuv-Nloop]="$P/uv_echo loops=$NPROC"
else
    NA[libuv-1loop]="uv_echo did not build: $(first_err "$TMP/build.log")"
fi
[ -n "${NA[libuv-1loop]:-}" ] && NA[libuv-Nloop]=${NA[libuv-1loop]}
if ! want go; then
    :
elif ! command -v go >/dev/null; then
    NA[go]="go not installed (golang-go; bash bench/deps.sh)"
elif newer "$P/go_echo" bench/peers/go/main.go bench/peers/go/go.mod &&
     ! (cd bench/peers/go && GOPROXY=off GOFLAGS=-mod=mod GOCACHE=$P/go-cache GOPATH=$P/gopath \
        go build -o "$P/go_echo" . >"$TMP/build.log" 2>&1); then
    NA[go]="go build failed: $(first_err "$TMP/build.log")"
fi
[ -z "${NA[go]:-}" ] && CMD[go]="$P/go_echo"
# Debian's cargo and rustc (a rustup toolchain earlier in PATH is not what
# /usr/share/cargo/registry is packaged for); override with CARGO= RUSTC=.
CARGO=${CARGO:-$( [ -x /usr/bin/cargo ] && echo /usr/bin/cargo || echo cargo)}
RUSTC=${RUSTC:-$( [ -x /usr/bin/rustc ] && echo /usr/bin/rustc || echo rustc)}
if ! want tokio; then
    :
elif ! command -v "$CARGO" >/dev/null; then
    NA[tokio]="cargo not installed (cargo, librust-tokio-dev; bash bench/deps.sh)"
elif [ ! -d /usr/share/cargo/registry ] || ! ls -d /usr/share/cargo/registry/tokio-1* >/dev/null 2>&1; then
    NA[tokio]="Debian's tokio crate missing (librust-tokio-dev; bash bench/deps.sh)"
elif newer "$P/tokio_echo" bench/peers/tokio/src/main.rs bench/peers/tokio/Cargo.toml &&
     ! (cd bench/peers/tokio && CARGO_HOME=$P/cargo-home CARGO_TARGET_DIR=$P/tokio-target RUSTC=$RUSTC \
        "$CARGO" build --release --offline -q >"$TMP/build.log" 2>&1 &&
        cp "$P/tokio-target/release/tokio_echo" "$P/tokio_echo"); then
    NA[tokio]="cargo build failed: $(first_err "$TMP/build.log")"
fi
[ -z "${NA[tokio]:-}" ] && CMD[tokio]="$P/tokio_echo"
[ -z "${NA[rawc]:-}" ] && CMD[rawc]="$RAWC echo-server packet=4"

GTCAT=${GTCAT:-$B/gtcat}
[ "$B" = "$ROOT/build" ] && [ ! -x "$GTCAT" ] && make -s -j2 build/gtcat >"$TMP/build.log" 2>&1
if [ -x "$GTCAT" ]; then
    CMD[gentcp]="$GTCAT listen 0 --packet 4 --echo"
    CMD[gentcp-hib]="$GTCAT listen 0 --packet 4 --echo --hibernate"
else
    NA[gentcp]="$GTCAT not built: $(first_err "$TMP/build.log")"; NA[gentcp-hib]=${NA[gentcp]}
fi
if command -v escript >/dev/null; then
    CMD[inet]="escript $ROOT/bench/erl_peer.escript echo_server backend=inet packet=4"
    CMD[socket]="escript $ROOT/bench/erl_peer.escript echo_server backend=socket packet=4"
    CMD[inet-hib]="escript $ROOT/bench/erl_peer.escript echo_server backend=inet packet=4 hibernate=1"
else
    for c in inet socket inet-hib; do NA[$c]="escript not installed (erlang-base)"; done
fi
for c in $CONTENDERS; do
    [ -n "${CMD[$c]:-}${NA[$c]:-}" ] || NA[$c]="unknown contender"
    [ -n "${NA[$c]:-}" ] && note "$c: n/a: ${NA[$c]}"
done

# ---------------------------------------------------------------- runs
wl_args() { # workload -> load arguments
    case $1 in
    pingpong) echo "rr conns=1 size=64 secs=$SECS warm=$WARM" ;;
    rr1k) echo "rr conns=$RR_CONNS size=64 secs=$SECS warm=$WARM" ;;
    accept) echo "accept conc=50 size=64 secs=$SECS warm=$WARM" ;;
    stream) echo "pipe size=100 batch=1 secs=$SECS warm=$WARM" ;;
    echo) echo "pipe size=100 batch=64 secs=$SECS warm=$WARM" ;;
    bulk) echo "pipe size=65536 batch=1 secs=$SECS warm=$WARM" ;;
    idle) echo "idle n=$IDLE_N size=16 settle_ms=$SETTLE_MS" ;;
    burst) echo "burst n=$BURST_N size=16 timeout_s=60" ;;
    *) return 1 ;;
    esac
}
runs_on() { # contender workload: the -hib variants only where hibernation matters
    case $1 in *-hib) [ "$2" = rr1k ] || [ "$2" = idle ] ;; *) true ;; esac
}

HDR="workload,contender,round,rate,unit,server_cpu_us_per_op,p50_us,p99_us,aux,aux_unit,status,note"
mkdir -p "$(dirname "$OUT")"
echo "$HDR" >"$OUT.csv.part"
row() { # workload contender round status note [result-line]
    local w=$1 c=$2 r=$3 s=$4 n=${5//,/;} line=${6:-} k
    local -A f=()
    for k in $line; do [[ $k == *=* ]] && f[${k%%=*}]=${k#*=}; done
    fv() { local x=${f[$1]:-}; [ "$x" = - ] && x=; printf "%s" "$x"; }
    printf '%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n' "$w" "$c" "$r" "$(fv rate)" "$(fv unit)" \
        "$(fv cpu_us_per_op)" "$(fv p50_us)" "$(fv p99_us)" "$(fv aux)" "$(fv aux_unit)" "$s" "$n" >>"$OUT.csv.part"
}

# start_server CMD...: sets SPID/SPORT; 1 if not listening within 15 s.
start_server() {
    local i
    : >"$TMP/s.out"
    "$@" </dev/null >"$TMP/s.out" 2>"$TMP/s.err" &
    SPID=$!
    SPORT=
    for i in $(seq 150); do
        SPORT=$(sed -n '1s/^listening on \([0-9][0-9]*\)$/\1/p' "$TMP/s.out")
        [ -n "$SPORT" ] && return 0
        kill -0 "$SPID" 2>/dev/null || break
        sleep 0.1
    done
    return 1
}
stop_server() {
    local i
    kill "$SPID" 2>/dev/null
    for i in $(seq 20); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.05; done
    kill -9 "$SPID" 2>/dev/null
    wait "$SPID" 2>/dev/null
    SPID=
}

run_one() { # workload contender round
    local w=$1 c=$2 r=$3 res
    if [ -n "${NA[$c]:-}" ]; then row "$w" "$c" "$r" n/a "${NA[$c]}"; return; fi
    # shellcheck disable=SC2086
    if ! start_server ${CMD[$c]}; then
        row "$w" "$c" "$r" fail "server did not start: $(head -c 150 "$TMP/s.err" | tr '\n' ' ')"
        note "$w/$c: server did not start"; stop_server; return
    fi
    # shellcheck disable=SC2046
    if timeout 120 "$P/load" $(wl_args "$w") port="$SPORT" pid="$SPID" >"$TMP/c.out" 2>"$TMP/c.err" </dev/null; then
        res=$(grep '^result ' "$TMP/c.out" | tail -1)
        row "$w" "$c" "$r" ok "" "$res"
    else
        local why; why=$(tail -c 150 "$TMP/c.err" | tr '\n' ' ')
        [ -n "$why" ] || why="load timed out"
        row "$w" "$c" "$r" fail "$why"
        note "$w/$c round $r: $why; server: $(tail -c 150 "$TMP/s.err" | tr '\n' ' ')"
    fi
    stop_server
}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
T0=$(date +%s)
read -r -a CL <<<"$CONTENDERS"
for r in $(seq "$REPS"); do
    for w in $WORKLOADS; do
        wl_args "$w" >/dev/null || { note "unknown workload $w"; continue; }
        note "round $r/$REPS: $w"
        n=${#CL[@]}
        for i in $(seq 0 $((n - 1))); do # rotate the order by one per round
            c=${CL[$(((i + r - 1) % n))]}
            runs_on "$c" "$w" && run_one "$w" "$c" "$r"
        done
    done
done
mv "$OUT.csv.part" "$OUT.csv"

# ---------------------------------------------------------------- machine
ver() { "$@" 2>/dev/null | head -1; }
{
    echo "date=$(date -u -d @"$T0" '+%Y-%m-%d %H:%M UTC')"
    echo "duration_s=$(($(date +%s) - T0))"
    echo "label=$LABEL"
    echo "command=$([ "$QUICK" = 1 ] && echo 'QUICK=1 ')REPS=$REPS bash bench/peers.sh"
    echo "sizes=window ${SECS} s after ${WARM} s warm-up; rr1k ${RR_CONNS} connections; idle ${IDLE_N}; burst ${BURST_N}; accept 50 connectors"
    echo "nproc=$NPROC"
    echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
    echo "kernel=$(uname -sr)"
    echo "mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
    echo "loadavg=$LOAD0 / $(cut -d' ' -f1-3 /proc/loadavg) (before / after)"
    echo "limits=somaxconn=$(cat /proc/sys/net/core/somaxconn) tcp_max_syn_backlog=$(cat /proc/sys/net/ipv4/tcp_max_syn_backlog) clk_tck=$(getconf CLK_TCK)"
    echo "otp=$(erl -noshell -eval 'io:format("~s",[erlang:system_info(otp_release)]),halt().' 2>/dev/null)"
    echo "go=$(ver go version)"
    echo "rustc=$(ver "$RUSTC" --version); tokio $(ls -d /usr/share/cargo/registry/tokio-1* 2>/dev/null | sed 's/.*tokio-//' | head -1)"
    echo "libuv=$(pkg-config --modversion libuv 2>/dev/null)"
    echo "cc=$(ver $CC --version)"
    echo "gentcp=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)"
    for c in $CONTENDERS; do [ -n "${NA[$c]:-}" ] && echo "na_$c=${NA[$c]}"; done
    grep -v '^round \|^building' "$LOG" | head -20 | sed 's/^/note=/'
} >"$OUT.meta"
note "wrote $OUT.csv and $OUT.meta ($(($(date +%s) - T0)) s); bash bench/report.sh makes docs/PERFORMANCE.md"
