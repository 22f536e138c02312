#!/usr/bin/env bash
# bench/tls.sh -- TLS (issue 12): gtcat listen --tls --echo against an
# Erlang ssl echo server (bench/tls_echo.escript) and a plain OpenSSL C
# echo server (bench/tls_echo_c.c), in one run, with one client
# (bench/tls_load.c, plain OpenSSL): new connections per second (TLS 1.3,
# ECDSA P-256, full handshakes), bulk echo MiB/s over one connection, and
# the server's memory per idle TLS connection (VmRSS growth / N).
#   HS_N=2000 HS_THREADS=4 BULK_MIB=256 IDLE_N=1000 bash bench/tls.sh
# Prints a markdown table.  The machine is shared: figures move by +-20 %.
set -u
cd "$(dirname "$0")/.."
B=${B:-build}
HS_N=${HS_N:-2000} HS_THREADS=${HS_THREADS:-4} BULK_MIB=${BULK_MIB:-256} IDLE_N=${IDLE_N:-1000}
make -s "$B/gtcat" "$B/bench/tls_load" "$B/bench/tls_echo_c" >/dev/null || exit 1
T=$(mktemp -d)
SP=
trap '[ -n "$SP" ] && kill $SP 2>/dev/null; rm -rf "$T"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null

# start NAME CMD...: SP, PORT
start() {
    shift
    "$@" >"$T/srv.out" 2>&1 &
    SP=$!
    PORT=
    for _ in $(seq 100); do
        PORT=$(sed -n 's/^listening on \([0-9]*\)$/\1/p' "$T/srv.out")
        [ -n "$PORT" ] && return 0
        sleep 0.1
    done
    return 1
}
rss_kb() { awk '/VmRSS/{print $2}' "/proc/$1/status"; }
# the process that serves: escript execs erl (beam.smp is its child or itself)
server_pid() { pgrep -n -P "$1" beam.smp 2>/dev/null || echo "$1"; }

echo "| server | handshakes/s | bulk MiB/s | KiB per idle TLS connection |"
echo "|---|---|---|---|"
for who in gentcp erlang openssl-c; do
    case $who in
    gentcp) start "$who" "$B/gtcat" listen 0 --echo --tls --cert "$T/cert.pem" --key "$T/key.pem" ;;
    erlang) start "$who" escript bench/tls_echo.escript "$T/cert.pem" "$T/key.pem" ;;
    openssl-c) start "$who" "$B/bench/tls_echo_c" "$T/cert.pem" "$T/key.pem" ;;
    esac || { echo "| $who | n/a (did not start) | | |"; continue; }
    hs=$(timeout 300 "$B/bench/tls_load" "$PORT" "$T/cert.pem" handshakes "$HS_N" "$HS_THREADS" |
        awk '{print $2}')
    bulk=$(timeout 300 "$B/bench/tls_load" "$PORT" "$T/cert.pem" bulk "$BULK_MIB" | awk '{print $2}')
    pid=$(server_pid "$SP")
    before=$(rss_kb "$pid")
    mkfifo "$T/hold"
    timeout 300 "$B/bench/tls_load" "$PORT" "$T/cert.pem" idle "$IDLE_N" <"$T/hold" >"$T/idle.out" &
    lp=$!
    exec 7>"$T/hold"
    for _ in $(seq 600); do grep -q held "$T/idle.out" && break; sleep 0.1; done
    sleep 1
    after=$(rss_kb "$pid")
    exec 7>&-
    wait $lp
    rm -f "$T/hold"
    per=$(awk -v a="$after" -v b="$before" -v n="$IDLE_N" 'BEGIN{printf "%.1f", (a-b)/n}')
    echo "| $who | ${hs:-n/a} | ${bulk:-n/a} | $per |"
    kill "$SP" 2>/dev/null
    wait "$SP" 2>/dev/null
    SP=
done
