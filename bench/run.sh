#!/usr/bin/env bash
# bench/run.sh -- gentcp against plain C and Erlang gen_tcp, side by side.
#
# Builds the bench programs (make -s bench-bin, plus gtcat), then runs every
# workload of docs/spec/PERF-BASELINES.md that the acceptance lines name,
# for every contender, in this one invocation, and prints a table with the
# absolute figures and the ratios.  The table also goes to bench/RESULTS.md.
#
#   bash bench/run.sh                 full sizes (a few minutes)
#   QUICK=1 bash bench/run.sh         small sizes, < 60 s
#   WORKLOADS="pingpong stream" ...   a subset (pingpong stream stream64 echo conns)
#   REPS=5 ...                        repetitions of pingpong/stream/echo
#
# Sizes can be overridden: PP_N STREAM_N ECHO_N CONNS_N ECHO_BATCH.
# GT_ARGS="schedulers=1 spin_us=-1 proc=thread" is passed to gt_pingpong and
# gt_stream (see bench/gt_bench.h).
# Each figure is the median of REPS runs (range in brackets); a contender that
# did not build or failed shows "n/a" and the reason goes to the log.
# The other echo servers (Go, tokio, libuv, epoll) on the issue 11 workloads
# are bench/peers.sh's (CSV, then bench/report.sh -> docs/PERFORMANCE.md);
# `make bench` runs this script, then those two.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
B=${B:-$ROOT/build}
QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
    PP_N=${PP_N:-2000} STREAM_N=${STREAM_N:-100000} ECHO_N=${ECHO_N:-200000}
    CONNS_N=${CONNS_N:-1000} REPS=${REPS:-1}
else
    PP_N=${PP_N:-20000} STREAM_N=${STREAM_N:-1000000} ECHO_N=${ECHO_N:-1000000}
    CONNS_N=${CONNS_N:-10000} REPS=${REPS:-3}
fi
ECHO_BATCH=${ECHO_BATCH:-64}
WORKLOADS=${WORKLOADS:-pingpong stream stream64 echo conns}
ESCRIPT="escript $ROOT/bench/erl_peer.escript"
RAWC=$B/bench/rawc
GTCAT=${GTCAT:-$B/gtcat}
TMP=$(mktemp -d /tmp/gentcp-bench.XXXXXX)
LOG=$TMP/log
PIDS=()

ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"

cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null
    done
    sleep 0.2
    for p in "${PIDS[@]}"; do
        kill -9 "$p" 2>/dev/null
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '%s\n' "$*" >>"$LOG"; }
note() { printf '%s\n' "$*" >&2; log "$*"; }

# ---------------------------------------------------------------- build
note "building (make -s -k bench-bin gtcat) ..."
make -s -k -j2 bench-bin >"$TMP/make.log" 2>&1 || note "make bench-bin: some targets failed (see below)"
[ "$B" = "$ROOT/build" ] && { make -s -k build/gtcat >>"$TMP/make.log" 2>&1 || true; }
grep -E 'error|warning' "$TMP/make.log" | head -5 >&2
if [ ! -x "$RAWC" ]; then # rawc needs nothing from the library: build it alone
    mkdir -p "$B/bench"
    ${CC:-cc} -std=c17 -D_GNU_SOURCE -O2 -Wall -Wextra -pthread -o "$RAWC" bench/rawc.c >>"$TMP/make.log" 2>&1 ||
        { echo "run.sh: $RAWC did not build" >&2; cat "$TMP/make.log" >&2; exit 1; }
fi
have() { [ -x "$1" ]; }

# ---------------------------------------------------------------- processes
# start_server NAME CMD...: starts a server in the background (not wrapped,
# so that SPID is the server itself), waits for "listening on PORT".
# Sets SPID and SPORT; returns 1 if the server did not come up in 15 s.
start_server() {
    local name=$1; shift
    SOUT=$TMP/$name.out
    : >"$SOUT"
    "$@" </dev/null >"$SOUT" 2>"$TMP/$name.err" 3<&- &
    SPID=$!
    PIDS+=("$SPID")
    SPORT=
    local i
    for i in $(seq 150); do
        SPORT=$(sed -n '1s/^listening on \([0-9][0-9]*\)$/\1/p' "$SOUT")
        [ -n "$SPORT" ] && return 0
        kill -0 "$SPID" 2>/dev/null || break
        sleep 0.1
    done
    note "$name: server did not start: $(head -3 "$TMP/$name.err")"
    stop_server
    return 1
}

# stop_server [wait-seconds]: waits for the server to exit by itself (up to
# the given time), then kills it by pid.
stop_server() {
    local t=${1:-0} i
    for i in $(seq $((t * 10))); do
        kill -0 "$SPID" 2>/dev/null || break
        sleep 0.1
    done
    kill "$SPID" 2>/dev/null
    wait "$SPID" 2>/dev/null
}

# field FILE KEY: KEY's value in the last "result" line of FILE.
field() {
    grep '^result ' "$1" 2>/dev/null | tail -1 | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# ---------------------------------------------------------------- figures
declare -A V  # V[workload/contender/metric] = "v1 v2 ..."
add() { V[$1]="${V[$1]:-} $2"; }

median() { # words -> median (n/a if none)
    local xs; xs=$(printf '%s\n' $1 | grep -E '^[0-9.]+$' | sort -g)
    local n; n=$(printf '%s\n' $xs | grep -c .)
    [ "$n" -eq 0 ] && { echo n/a; return; }
    printf '%s\n' $xs | sed -n "$(((n + 1) / 2))p"
}
range() {
    local xs; xs=$(printf '%s\n' $1 | grep -E '^[0-9.]+$' | sort -g)
    local n; n=$(printf '%s\n' $xs | grep -c .)
    [ "$n" -le 1 ] && return
    echo " [$(printf '%s\n' $xs | head -1)–$(printf '%s\n' $xs | tail -1)]"
}
get() { median "${V[$1]:-}"; }
ratio() { # a b -> a/b with 2 decimals, or n/a
    if [[ $1 =~ ^[0-9.]+$ && $2 =~ ^[0-9.]+$ ]] && [ "$(awk -v b="$2" 'BEGIN{print (b>0)}')" = 1 ]; then
        awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'
    else
        echo n/a
    fi
}
verdict() { # value op limit -> PASS/FAIL/n/a
    [[ $1 =~ ^[0-9.]+$ ]] || { echo "n/a"; return; }
    awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN{
        ok = (op == "<=") ? (v <= l) : (v >= l); print ok ? "PASS" : "FAIL"}'
}

# ---------------------------------------------------------------- workloads
# run_client WORKLOAD CONTENDER TIMEOUT CLIENT-ARGS...: rawc client against
# the server just started; records the client's and the server's fields.
run_client() {
    local w=$1 c=$2 t=$3; shift 3
    local out=$TMP/$w-$c.client
    if timeout "$t" "$RAWC" "$@" port="$SPORT" </dev/null >"$out" 2>>"$LOG" 3<&-; then
        return 0
    fi
    note "$w/$c: client failed (rc $?): $(tail -2 "$out" "$LOG" | tr '\n' ' ')"
    return 1
}

pp_contenders() {
    echo "rawc:$RAWC pp-server"
    echo "inet:$ESCRIPT pp_server backend=inet"
    echo "socket:$ESCRIPT pp_server backend=socket"
    have "$B/bench/gt_pingpong" && echo "gentcp:$B/bench/gt_pingpong ${GT_ARGS:-}"
}

wl_pingpong() {
    local rep line c cmd
    for rep in $(seq "$REPS"); do
        while IFS= read -r -u 3 line; do
            c=${line%%:*}; cmd=${line#*:}
            # shellcheck disable=SC2086
            start_server "pp-$c" $cmd || continue
            if run_client pingpong "$c" 120 pp-client n="$PP_N" warmup=1000 size=64; then
                add "pp/$c/p50" "$(field "$TMP/pingpong-$c.client" p50_us)"
                add "pp/$c/p99" "$(field "$TMP/pingpong-$c.client" p99_us)"
                add "pp/$c/rate" "$(field "$TMP/pingpong-$c.client" ops_per_s)"
            fi
            stop_server 5
        done 3< <(pp_contenders)
    done
    have "$B/bench/gt_pingpong" || note "pingpong/gentcp: build/bench/gt_pingpong not built"
}

stream_contenders() {
    echo "rawc:$RAWC stream-server"
    echo "inet:$ESCRIPT stream_server backend=inet active=100"
    echo "inet-buf64k:$ESCRIPT stream_server backend=inet active=100 buffer=65536"
    echo "socket:$ESCRIPT stream_server backend=socket active=100"
    have "$B/bench/gt_stream" && echo "gentcp:$B/bench/gt_stream active=100 ${GT_ARGS:-}"
}

wl_stream() { # [BATCH [KEY]]: frames per client write(); 1 = the harness
    local batch=${1:-1} key=${2:-st} rep line c cmd
    for rep in $(seq "$REPS"); do
        while IFS= read -r -u 3 line; do
            c=${line%%:*}; cmd=${line#*:}
            # shellcheck disable=SC2086
            start_server "st-$c" $cmd || continue
            if run_client stream "$c" 300 stream-client n="$STREAM_N" size=100 batch="$batch"; then
                stop_server 10
                add "$key/$c/rate" "$(field "$TMP/stream-$c.client" ops_per_s)"
                add "$key/$c/srate" "$(field "$SOUT" ops_per_s)"
            else
                stop_server 0
            fi
        done 3< <(stream_contenders)
    done
    have "$B/bench/gt_stream" || note "stream/gentcp: build/bench/gt_stream not built"
}

# Not in PERF-BASELINES: the same stream, but the client writes 64 frames per
# write(), so that the client is no longer the ceiling and the readers differ.
wl_stream64() { wl_stream 64 st64; }

echo_contenders() {
    echo "rawc:$RAWC echo-server packet=4"
    echo "inet:$ESCRIPT echo_server backend=inet packet=4"
    have "$GTCAT" && echo "gtcat:$GTCAT listen 0 --packet 4 --echo"
}

wl_echo() {
    local rep line c cmd
    for rep in $(seq "$REPS"); do
        while IFS= read -r -u 3 line; do
            c=${line%%:*}; cmd=${line#*:}
            # shellcheck disable=SC2086
            start_server "ec-$c" $cmd || continue
            if run_client echo "$c" 300 echo-client n="$ECHO_N" size=100 batch="$ECHO_BATCH"; then
                add "ec/$c/rate" "$(field "$TMP/echo-$c.client" ops_per_s)"
            fi
            stop_server 0
        done 3< <(echo_contenders)
    done
    have "$GTCAT" || note "echo/gtcat: $GTCAT not built"
}

conns_contenders() {
    echo "rawc:$RAWC echo-server packet=4"
    echo "inet:$ESCRIPT echo_server backend=inet packet=4 n=$CONNS_N"
    echo "inet-hib:$ESCRIPT echo_server backend=inet packet=4 n=$CONNS_N hibernate=1"
    if have "$GTCAT"; then
        echo "gtcat:$GTCAT listen 0 --packet 4 --echo"
        echo "gtcat-hib:$GTCAT listen 0 --packet 4 --echo --hibernate"
    fi
}

wl_conns() {
    local line c cmd
    while IFS= read -r -u 3 line; do
        c=${line%%:*}; cmd=${line#*:}
        # shellcheck disable=SC2086
        start_server "cn-$c" $cmd || continue
        # settle 1 s: the Erlang server GCs and measures itself within ~0.4 s
        if run_client conns "$c" 300 conns-client n="$CONNS_N" size=16 pid="$SPID" settle_ms=1000; then
            add "cn/$c/rss" "$(field "$TMP/conns-$c.client" server_rss_per_conn_b)"
            add "cn/$c/rate" "$(field "$TMP/conns-$c.client" ops_per_s)"
            sleep 0.3
            add "cn/$c/erlmem" "$(field "$SOUT" erl_mem_per_conn_b)"
        fi
        stop_server 0
    done 3< <(conns_contenders)
    have "$GTCAT" || note "conns/gtcat: $GTCAT not built"
}

START=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
for w in $WORKLOADS; do
    note "running $w ..."
    "wl_$w"
done

# ---------------------------------------------------------------- report
cell() { local m; m=$(get "$1"); printf '%s%s' "$m" "$(range "${V[$1]:-}")"; }
{
    echo "# gentcp benchmark results"
    echo
    echo "- date: $START"
    echo "- command: \`$([ "$QUICK" = 1 ] && echo "QUICK=1 ")REPS=$REPS bash bench/run.sh\` (WORKLOADS=\"$WORKLOADS\")"
    echo "- machine: $(nproc) vCPUs, $(uname -sr), OTP $(erl -noshell -eval 'io:format("~s",[erlang:system_info(otp_release)]),halt().' 2>/dev/null)"
    echo "- gentcp contender arguments (GT_ARGS): ${GT_ARGS:-none}"
    echo "- load average before / after: $LOAD0 / $(cut -d' ' -f1-3 /proc/loadavg) (other work on these 2 vCPUs skews every figure, pingpong most)"
    echo "- sizes: pingpong n=$PP_N (64 B), stream n=$STREAM_N (100 B), echo n=$ECHO_N (100 B, $ECHO_BATCH frames per client write), conns n=$CONNS_N"
    echo "- each cell: median of $REPS run(s), [min–max] when more than one; conns: one run"
    echo
    for w in $WORKLOADS; do
        case $w in
        pingpong)
            echo "## pingpong: 64-byte {packet,4}, plain blocking C client (rawc pp-client), TCP_NODELAY"
            echo
            echo "| server | RTT p50 us ↓ | RTT p99 us ↓ | round trips/s ↑ |"
            echo "|---|---:|---:|---:|"
            for c in rawc inet socket gentcp; do
                echo "| $c | $(cell pp/$c/p50) | $(cell pp/$c/p99) | $(cell pp/$c/rate) |"
            done
            r1=$(ratio "$(get pp/gentcp/p50)" "$(get pp/inet/p50)")
            r2=$(ratio "$(get pp/gentcp/p50)" "$(get pp/rawc/p50)")
            echo
            echo "- gentcp p50 / inet p50 = **$r1** (target <= 1.00: $(verdict "$r1" '<=' 1.00))"
            echo "- gentcp p50 / rawc p50 = **$r2** (target <= 1.15: $(verdict "$r2" '<=' 1.15))"
            echo
            ;;
        stream)
            echo "## stream: 100-byte {packet,4} frames, one write() per frame (rawc stream-client)"
            echo
            echo "| server | msgs/s end-to-end ↑ | msgs/s at server ↑ |"
            echo "|---|---:|---:|"
            for c in rawc inet inet-buf64k socket gentcp; do
                echo "| $c | $(cell st/$c/rate) | $(cell st/$c/srate) |"
            done
            r=$(ratio "$(get st/gentcp/rate)" "$(get st/inet/rate)")
            echo
            echo "- gentcp {active,100} / inet {active,100} (end-to-end) = **$r** (target >= 5: $(verdict "$r" '>=' 5))"
            echo "- gentcp / rawc (end-to-end) = $(ratio "$(get st/gentcp/rate)" "$(get st/rawc/rate)"); inet with buffer=65536: gentcp / inet-buf64k = $(ratio "$(get st/gentcp/rate)" "$(get st/inet-buf64k/rate)")"
            echo "- the client does one write() per frame, so rawc's figure is about the client's limit"
            echo
            ;;
        stream64)
            echo "## stream64 (informational, not the harness): the same frames, 64 per client write()"
            echo
            echo "| server | msgs/s end-to-end ↑ | msgs/s at server ↑ |"
            echo "|---|---:|---:|"
            for c in rawc inet inet-buf64k socket gentcp; do
                echo "| $c | $(cell st64/$c/rate) | $(cell st64/$c/srate) |"
            done
            echo
            echo "- gentcp / inet = **$(ratio "$(get st64/gentcp/rate)" "$(get st64/inet/rate)")**; gentcp / rawc = $(ratio "$(get st64/gentcp/rate)" "$(get st64/rawc/rate)"); gentcp / inet-buf64k = $(ratio "$(get st64/gentcp/rate)" "$(get st64/inet-buf64k/rate)")"
            echo "- with the client no longer the ceiling, this row shows what each reader can take"
            echo
            ;;
        echo)
            echo "## echo: pipelined 100-byte {packet,4} frames (rawc echo-client: sender thread, $ECHO_BATCH frames per write, receiver counts echoes)"
            echo
            echo "| server | echoed msgs/s ↑ |"
            echo "|---|---:|"
            for c in rawc inet gtcat; do
                echo "| $c | $(cell ec/$c/rate) |"
            done
            r=$(ratio "$(get ec/gtcat/rate)" "$(get ec/rawc/rate)")
            echo
            echo "- gtcat --echo / rawc echo-server = **$r** (target >= 0.7: $(verdict "$r" '>=' 0.7))"
            echo
            ;;
        conns)
            echo "## conns: $CONNS_N concurrent connections, each echoed once then held (client: rawc conns-client, separate process)"
            echo
            echo "| server | VmRSS B/conn ↓ | erlang:memory B/conn ↓ | setup conns/s |"
            echo "|---|---:|---:|---:|"
            for c in rawc inet inet-hib gtcat gtcat-hib; do
                echo "| $c | $(cell cn/$c/rss) | $(cell cn/$c/erlmem) | $(cell cn/$c/rate) |"
            done
            echo
            echo "- gtcat / inet (VmRSS) = **$(ratio "$(get cn/gtcat/rss)" "$(get cn/inet/rss)")**; gtcat --hibernate / inet = **$(ratio "$(get cn/gtcat-hib/rss)" "$(get cn/inet/rss)")**"
            echo "- inet: a process per connection, {active,once}; inet-hib: the same with erlang:hibernate/3 after each packet"
            echo "- VmRSS is read by the client from /proc/SERVERPID/status 1 s after the first and after the n-th echo; B/conn = delta / (n-1)"
            echo
            ;;
        esac
    done
} >"$TMP/report.md"

{
    echo "## decode: gt_decode_packet vs erlang:decode_packet/3 (bench/decode.sh)"
    echo
    echo '```'
    bash "$ROOT/bench/decode.sh"
    echo '```'
    echo
} >>"$TMP/report.md"

cat "$TMP/report.md"
if [ "${NO_RESULTS:-0}" != 1 ]; then
    cp "$TMP/report.md" "$ROOT/bench/RESULTS.md"
    {
        echo
        echo "## notes from this run"
        echo
        notes=$(grep -v '^running\|^building' "$LOG" | head -20)
        if [ -n "$notes" ]; then printf '%s\n' "$notes" | sed 's/^/    /'; else echo "none"; fi
    } >>"$ROOT/bench/RESULTS.md"
fi
