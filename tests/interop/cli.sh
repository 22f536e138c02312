#!/usr/bin/env bash
# The gtcat CLI contract: `gtcat listen PORT [--packet P] [--active MODE]
# [--echo]` prints "listening on PORT" first (PORT 0 = ephemeral), every
# --packet (raw|0|1|2|4|line) and --active (true|false|once|N) value echoes
# correctly for Erlang clients; bad values, unknown commands and a port in
# use fail with a message on stderr and a non-zero exit.
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
    if [ $rc -eq 0 ] || [ $rc -eq 124 ]; then
        fail "$name" "exit $rc (124 = still running after 10 s), want a non-zero exit"
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

# 6. bad arguments: non-zero exit, a message on stderr, no hang
bad() { # NAME ARGS...
    local name=$1 rc; shift
    timeout 10 "$GTCAT" "$@" </dev/null >"$TMP/bad.out" 2>"$TMP/bad.err"
    rc=$?
    if [ $rc -eq 0 ] || [ $rc -eq 124 ]; then
        fail "$name" "gtcat $* exited $rc (124 = timeout), want a non-zero exit"
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
