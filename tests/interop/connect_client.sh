#!/usr/bin/env bash
# `gtcat connect 127.0.0.1 PORT --packet P` against an Erlang gen_tcp server:
# every stdin line (newline stripped) is one packet, every packet received is
# written with a newline (raw: bytes unchanged), at stdin EOF gtcat shuts
# down its write side and exits 0 once the peer has closed.  Large raw
# transfers both ways are checked by sha256; connection refused is one
# stderr line and a non-zero exit.
. "$(dirname "$0")/common.bash"
need_gtcat interop/connect

GT_TIMEOUT=60

# a text file of lines for packet type P: short, empty, max-size and last lines
make_lines() { # P FILE
    local max
    case $1 in 1) max=255 ;; 2) max=65535 ;; 4) max=1048576 ;; esac
    {
        printf 'hello\n\nworld\n'
        head -c "$max" /dev/zero | tr '\0' 'x'; printf '\n'
        for i in $(seq 200); do printf 'line %d\n' "$i"; done
        printf '\n\n'
        printf 'last\n'
    } >"$2"
}

# connect_case NAME P MODE INPUT-FILE|"" EXPECTED-STDOUT-FILE [FEED [HOST]]
connect_case() {
    local name=$1 pk=$2 mode=$3 in=$4 want=$5 feed=${6:-} host=${7:-127.0.0.1}
    if ! start_bg "srv-$$-$RANDOM" escript "$PEER" server "$pk" "$mode" ${in:+"$in"}; then
        fail "$name" "Erlang server did not start: $(head -2 "$BGERR" | tr '\n' ' ')"
        return
    fi
    local spid=$BGPID sout=$BGOUT out=$TMP/$name.gt.out err=$TMP/$name.gt.err rc
    out=$TMP/gt-$RANDOM.out err=$TMP/gt-$RANDOM.err
    if [ "$feed" = sleep ]; then # stdin stays open for a while
        (sleep 1) | timeout "$GT_TIMEOUT" "$GTCAT" connect "$host" "$BGPORT" --packet "$pk" >"$out" 2>"$err"
        rc=${PIPESTATUS[1]}
    elif [ -n "$in" ]; then
        timeout "$GT_TIMEOUT" "$GTCAT" connect "$host" "$BGPORT" --packet "$pk" <"$in" >"$out" 2>"$err"
        rc=$?
    else
        timeout "$GT_TIMEOUT" "$GTCAT" connect "$host" "$BGPORT" --packet "$pk" </dev/null >"$out" 2>"$err"
        rc=$?
    fi
    wait_bg "$spid" 20
    local srv; srv=$(grep -E '^(ok|FAIL)' "$sout" | head -1)
    if [ "$rc" -ne 0 ]; then
        fail "$name" "gtcat exited $rc (124 = timeout): $(head -2 "$err" | tr '\n' ' ')"
    elif [ "$srv" != ok ]; then
        fail "$name" "server: ${srv:-no verdict (rc $BGRC)}"
    elif ! cmp -s "$out" "$want"; then
        fail "$name" "stdout differs: got $(head -c 60 "$out" | od -An -c | tr -s ' \n' ' ') want $(head -c 60 "$want" | od -An -c | tr -s ' \n' ' ')"
    else
        ok "$name"
    fi
    stop_bg "$spid"
}

printf 'reply one\n\n3rd\n' >"$TMP/replies.framed"
printf 'reply one3rd' >"$TMP/replies.raw"

for pk in 4 2 1; do
    make_lines "$pk" "$TMP/lines-$pk"
    connect_case "interop/connect/$pk/lines" "$pk" expect "$TMP/lines-$pk" "$TMP/replies.framed"
    connect_case "interop/connect/$pk/server-first" "$pk" sendfirst "" "$TMP/replies.framed"
    connect_case "interop/connect/$pk/server-first-stdin-open" "$pk" sendfirst "" "$TMP/replies.framed" sleep
    : >"$TMP/empty"
    connect_case "interop/connect/$pk/empty-stdin" "$pk" expect "$TMP/empty" "$TMP/replies.framed"
    printf 'no newline at the end' >"$TMP/nonl"
    connect_case "interop/connect/$pk/last-line-without-newline" "$pk" expect "$TMP/nonl" "$TMP/replies.framed"
done

# names and IPv6: "localhost" may resolve to ::1 first; every address is tried
connect_case "interop/connect/4/host-localhost" 4 expect "$TMP/lines-4" "$TMP/replies.framed" "" localhost
PEER_IPV6=1 connect_case "interop/connect/4/ipv6-literal" 4 expect "$TMP/lines-4" "$TMP/replies.framed" "" ::1

head -c 300000 /dev/urandom >"$TMP/rawbytes"
connect_case "interop/connect/raw/bytes" raw expect "$TMP/rawbytes" "$TMP/replies.raw"
connect_case "interop/connect/0/bytes" 0 expect "$TMP/rawbytes" "$TMP/replies.raw"
connect_case "interop/connect/raw/server-first" raw sendfirst "" "$TMP/replies.raw"

# large raw transfers both ways at once, checked by sha256
name=interop/connect/raw/sha256-32MiB
size=$((32 * 1024 * 1024))
head -c "$size" /dev/urandom >"$TMP/big"
if start_bg bigsrv escript "$PEER" server raw rawsink "$size" "$size"; then
    spid=$BGPID sout=$BGOUT
    timeout 120 "$GTCAT" connect 127.0.0.1 "$BGPORT" --packet raw <"$TMP/big" >"$TMP/big.out" 2>"$TMP/big.err"
    rc=$?
    wait_bg "$spid" 30
    want_in=$(sha256sum <"$TMP/big" | cut -d' ' -f1)
    got_in=$(sed -n 's/^recv_sha256=//p' "$sout")
    want_out=$(sed -n 's/^sent_sha256=//p' "$sout")
    got_out=$(sha256sum <"$TMP/big.out" | cut -d' ' -f1)
    if [ "$rc" -ne 0 ]; then
        fail "$name" "gtcat exited $rc: $(head -2 "$TMP/big.err" | tr '\n' ' ')"
    elif ! grep -q '^ok' "$sout"; then
        fail "$name" "server: $(grep -v '^listening' "$sout" | tr '\n' ' ' | head -c 300)"
    elif [ "$got_in" != "$want_in" ]; then
        fail "$name" "server received $(sed -n 's/^recv_bytes=//p' "$sout") bytes, sha256 ${got_in:-none} != stdin's"
    elif [ "$got_out" != "$want_out" ]; then
        fail "$name" "stdout has $(stat -c %s "$TMP/big.out") bytes, sha256 $got_out, server sent $(sed -n 's/^sent_sha256=//p' "$sout" | head -c 64)"
    else
        ok "$name"
    fi
    stop_bg "$spid"
else
    fail "$name" "Erlang server did not start"
fi

# connection refused: one line on stderr, non-zero exit, nothing on stdout
name=interop/connect/refused
port=$(peer free_port)
timeout 20 "$GTCAT" connect 127.0.0.1 "$port" --packet 4 </dev/null >"$TMP/ref.out" 2>"$TMP/ref.err"
rc=$?
lines=$(grep -c . "$TMP/ref.err")
if [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ]; then
    fail "$name" "exit code $rc, want non-zero (and not a timeout)"
elif [ "$lines" -ne 1 ]; then
    fail "$name" "stderr has $lines lines, want 1: $(head -3 "$TMP/ref.err" | tr '\n' '|')"
elif [ -s "$TMP/ref.out" ]; then
    fail "$name" "unexpected stdout: $(head -c 80 "$TMP/ref.out")"
else
    ok "$name"
fi
