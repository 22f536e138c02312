#!/usr/bin/env bash
# The gtcat CLI contract: `gtcat listen PORT [--packet P] [--active MODE]
# [--echo] [--bind ADDR]` prints "listening on PORT" first (PORT 0 =
# ephemeral), every --packet (raw|0|1|2|4|line) and --active (true|false|
# once|N) value echoes correctly for Erlang clients; usage errors (bad
# values, --active 0 or negative, unknown commands or decode types) exit 2
# with a message on stderr, a port in use exits 1; --help prints the usage
# on stdout and exits 0.  `gtcat connect` (issue 7 item 18): --timeout,
# exit 0 when the peer closes while stdin is still open, exit 1 on a reset.
. "$(dirname "$0")/common.bash"
need_gtcat interop/cli

# listen_ok NAME ARGS...: starts `gtcat listen ARGS`, or prints FAIL and returns 1.
listen_ok() {
    local name=$1; shift
    if start_bg "$name-$RANDOM" "$GTCAT" listen "$@"; then
        return 0
    fi
    fail "$name" "gtcat listen $* printed no 'listening on PORT' in 10 s: $(head -2 "$BGERR" | tr '\n' ' ')"
    stop_bg "$BGPID"
    return 1
}

# 1. port 0: an ephemeral port in the first line, and it serves
name=interop/cli/listen-port-0
if listen_ok "$name" 0 --echo; then
    if [ "$BGPORT" -ge 1 ] && [ "$BGPORT" -le 65535 ] && [ "$BGPORT" != 0 ]; then
        ok "$name"
    else
        fail "$name" "bad port '$BGPORT'"
    fi
    run_peer_tests "interop/cli/default-packet-is-raw" "$BGPORT" raw sizes pipeline
    stop_bg "$BGPID"
fi

# 2. a fixed free port: the line names that port; a second listen on it fails
name=interop/cli/listen-fixed-port
port=$(peer free_port)
if listen_ok "$name" "$port" --packet 4 --echo; then
    first=$BGPID
    if [ "$BGPORT" = "$port" ]; then ok "$name"; else fail "$name" "listening on $BGPORT, asked for $port"; fi
    name=interop/cli/listen-port-in-use
    timeout 10 "$GTCAT" listen "$port" --packet 4 --echo </dev/null >"$TMP/busy.out" 2>"$TMP/busy.err"
    rc=$?
    if [ $rc -ne 1 ]; then
        fail "$name" "exit $rc (124 = still running after 10 s), want 1 (a network error)"
    elif [ ! -s "$TMP/busy.err" ]; then
        fail "$name" "exit $rc but nothing on stderr"
    else
        ok "$name"
    fi
    stop_bg "$first"
fi

# 3. every --packet spelling
for pk in raw 0 1 2 4 line; do
    name=interop/cli/packet-$pk
    listen_ok "$name" 0 --packet "$pk" --echo || continue
    run_peer_tests "$name" "$BGPORT" "$pk" sizes pipeline half_close
    stop_bg "$BGPID"
done

# 4. every --active mode echoes everything, with every packet type it matters for
for act in true false once 1 5 100; do
    for pk in 4 raw; do
        name=interop/cli/active-$act
        listen_ok "$name" 0 --packet "$pk" --active "$act" --echo || continue
        run_peer_tests "$name" "$BGPORT" "$pk" sizes pipeline concurrent
        stop_bg "$BGPID"
    done
done

# 5. without --echo, every packet received is printed followed by a newline
for pk in 4 2 1; do
    name=interop/cli/listen-prints-packets-$pk
    listen_ok "$name" 0 --packet "$pk" || continue
    gpid=$BGPID gout=$BGOUT
    res=$(peer send "$BGPORT" "$pk" alpha "" "beta gamma" 2>&1 | tail -1)
    for i in $(seq 50); do [ "$(wc -l <"$gout")" -ge 4 ] && break; sleep 0.1; done
    printf 'alpha\n\nbeta gamma\n' >"$TMP/want-print"
    if [ "${res%% *}" != ok ]; then
        fail "$name" "Erlang client: $res"
    elif ! tail -n +2 "$gout" | cmp -s - "$TMP/want-print"; then
        fail "$name" "stdout after the first line: $(tail -n +2 "$gout" | head -c 80 | od -An -c | tr -s ' \n' ' ')"
    else
        ok "$name"
    fi
    stop_bg "$gpid"
done

# 6. bad arguments: exit 2 (a usage error), a message on stderr, no hang
bad() { # NAME ARGS...
    local name=$1 rc; shift
    timeout 10 "$GTCAT" "$@" </dev/null >"$TMP/bad.out" 2>"$TMP/bad.err"
    rc=$?
    if [ $rc -ne 2 ]; then
        fail "$name" "gtcat $* exited $rc (124 = timeout), want 2 (a usage error)"
    elif [ ! -s "$TMP/bad.err" ]; then
        fail "$name" "gtcat $* exited $rc without a message on stderr"
    elif grep -q '^listening on' "$TMP/bad.out"; then
        fail "$name" "gtcat $* printed 'listening on' before failing"
    else
        ok "$name"
    fi
}
bad interop/cli/bad-packet listen 0 --packet 3 --echo
bad interop/cli/bad-packet-word listen 0 --packet bogus --echo
bad interop/cli/bad-active listen 0 --active maybe --echo
bad interop/cli/missing-packet-value listen 0 --packet
bad interop/cli/bad-port listen notaport --echo
bad interop/cli/port-out-of-range listen 70000 --echo
bad interop/cli/unknown-option listen 0 --frobnicate
bad interop/cli/unknown-command frobnicate
bad interop/cli/no-command
bad interop/cli/connect-missing-port connect 127.0.0.1
bad interop/cli/active-zero listen 0 --active 0 --echo
bad interop/cli/active-negative listen 0 --active -1 --echo
bad interop/cli/active-too-big listen 0 --active 32768 --echo
bad interop/cli/bad-bind listen 0 --bind 1.2.3.4.5 --echo
bad interop/cli/listen-two-ports listen 0 1 --echo
bad interop/cli/decode-unknown-type decode foo
bad interop/cli/decode-no-type decode
bad interop/cli/decode-not-an-integer decode raw --packet-size x
bad interop/cli/connect-bad-timeout connect 127.0.0.1 1 --timeout -5
bad interop/cli/connect-unknown-option connect 127.0.0.1 1 --frobnicate

# 7. --help: the usage on stdout, nothing on stderr, exit 0
for args in "--help" "-h" "listen --help" "connect --help" "decode --help" "listen 0 --echo --help"; do
    name="interop/cli/help/${args// /_}"
    timeout 10 "$GTCAT" $args </dev/null >"$TMP/help.out" 2>"$TMP/help.err"
    rc=$?
    if [ $rc -ne 0 ]; then
        fail "$name" "gtcat $args exited $rc, want 0"
    elif ! grep -q '^usage: gtcat listen' "$TMP/help.out"; then
        fail "$name" "no usage on stdout: $(head -c 80 "$TMP/help.out")"
    elif [ -s "$TMP/help.err" ]; then
        fail "$name" "stderr: $(head -c 80 "$TMP/help.err")"
    else
        ok "$name"
    fi
done

# 8. --bind: the listen socket is on that address, and serves
name=interop/cli/bind-loopback
if listen_ok "$name" 0 --bind 127.0.0.1 --echo; then
    if ss -ltn 2>/dev/null | grep -q "127.0.0.1:$BGPORT "; then
        ok "$name"
    elif ! command -v ss >/dev/null; then
        skip "$name" "ss (iproute2) is not installed to see the bound address"
    else
        fail "$name" "no listener on 127.0.0.1:$BGPORT: $(ss -ltn | grep ":$BGPORT " | head -1)"
    fi
    run_peer_tests "interop/cli/bind-loopback" "$BGPORT" raw sizes
    stop_bg "$BGPID"
fi

# 9. connect: how it ends.  gtcat_connect NAME MODE STDIN-SECONDS EXTRA-ARGS...
#    runs `gtcat connect --packet 4` against an Erlang server in MODE with
#    stdin open for STDIN-SECONDS; sets RC, OUT, ERR, SECS.
gtcat_connect() {
    local name=$1 mode=$2 secs=$3; shift 3
    RC= OUT=$TMP/conn-$RANDOM.out ERR=$TMP/conn-$RANDOM.err
    if [ "$mode" = fullbacklog ]; then
        start_bg "srv-$RANDOM" escript "$PEER" fullbacklog
    else
        start_bg "srv-$RANDOM" escript "$PEER" server 4 "$mode"
    fi || { fail "$name" "Erlang server did not start: $(head -2 "$BGERR" | tr '\n' ' ')"; return 1; }
    local spid=$BGPID t0=$SECONDS
    timeout 20 "$GTCAT" connect 127.0.0.1 "$BGPORT" --packet 4 "$@" >"$OUT" 2>"$ERR" < <(sleep "$secs")
    RC=$? SECS=$((SECONDS - t0))
    stop_bg "$spid"
}
printf 'reply one\n\n3rd\n' >"$TMP/replies"

name=interop/cli/connect-peer-closes-stdin-open
if gtcat_connect "$name" sendclose 30; then
    if [ "$RC" -ne 0 ]; then
        fail "$name" "exit $RC (124 = still running after 20 s: waits for stdin), want 0: $(head -1 "$ERR")"
    elif ! cmp -s "$OUT" "$TMP/replies"; then
        fail "$name" "stdout: $(head -c 60 "$OUT" | od -An -c | tr -s ' \n' ' ')"
    else
        ok "$name"
    fi
fi

name=interop/cli/connect-reset-exits-1
if gtcat_connect "$name" reset 30; then
    if [ "$RC" -ne 1 ]; then
        fail "$name" "exit $RC (124 = still running after 20 s), want 1"
    elif ! grep -q econnreset "$ERR"; then
        fail "$name" "stderr does not say econnreset: $(head -1 "$ERR")"
    elif ! cmp -s "$OUT" "$TMP/replies"; then
        fail "$name" "stdout (what came before the reset): $(head -c 60 "$OUT" | od -An -c | tr -s ' \n' ' ')"
    else
        ok "$name"
    fi
fi

name=interop/cli/connect-timeout
if gtcat_connect "$name" fullbacklog 30 --timeout 500; then
    if [ "$RC" -ne 1 ]; then
        fail "$name" "exit $RC (124 = no answer in 20 s: the timeout was not applied), want 1"
    elif ! grep -q ': timeout' "$ERR"; then
        fail "$name" "stderr does not say timeout: $(head -1 "$ERR")"
    else
        ok "$name"
    fi
fi

# 10. --packet line between two gtcats (audit16): a line packet carries its
#     newline both ways, so stdin's lines go out whole and each packet
#     prints as received.  gtcat framed them as the length types: connect
#     sent "one" "two" without newlines (the peer saw one line "onetwo"),
#     listen printed "one\n\n".  PRINTED: listen without --echo, the same
#     lines, each once.
printf 'one\ntwo\n' >"$TMP/lines"
name=interop/cli/connect-packet-line-echo
if listen_ok "$name" 0 --packet line --echo; then
    timeout 10 "$GTCAT" connect 127.0.0.1 "$BGPORT" --packet line <"$TMP/lines" >"$TMP/lines.out" 2>"$TMP/lines.err"
    rc=$?
    if [ $rc -ne 0 ]; then
        fail "$name" "exit $rc: $(head -1 "$TMP/lines.err")"
    elif ! cmp -s "$TMP/lines.out" "$TMP/lines"; then
        fail "$name" "sent one\\ntwo\\n, got back: $(head -c 60 "$TMP/lines.out" | od -An -c | tr -s ' \n' ' ')"
    else
        ok "$name"
    fi
    stop_bg "$BGPID"
fi
name=interop/cli/listen-packet-line-printed
if listen_ok "$name" 0 --packet line; then
    srv=$BGPID srvout=$BGOUT
    timeout 10 "$GTCAT" connect 127.0.0.1 "$BGPORT" --packet line <"$TMP/lines" >/dev/null 2>"$TMP/lines.err" &
    cpid=$!
    for i in $(seq 100); do [ "$(tail -n +2 "$srvout")" = "$(printf 'one\ntwo')" ] && break; sleep 0.1; done
    kill "$cpid" 2>/dev/null; wait "$cpid" 2>/dev/null
    stop_bg "$srv"
    if tail -n +2 "$srvout" | cmp -s - "$TMP/lines"; then
        ok "$name"
    else
        fail "$name" "peer sent one\\ntwo\\n, listen printed: $(tail -n +2 "$srvout" | head -c 60 | od -An -c | tr -s ' \n' ' ')"
    fi
fi
