#!/usr/bin/env bash
# Runs the spec's three examples (examples/) and checks what they print.
set -u
B=${B:-build}
check() { # NAME CMD... : runs CMD with a timeout; ok when it exits 0 and the
          # output matches $want (a grep -E pattern)
    local name=$1; shift
    local out
    out=$(timeout 30 "$@" 2>&1); local rc=$?
    if [ $rc -eq 0 ] && grep -Eq "$want" <<<"$out"; then
        echo "ok examples:$name"
    else
        echo "FAIL examples:$name: exit $rc; output: $(head -c 300 <<<"$out" | tr '\n' '|')"
    fi
}
want='^server received: Some Data$'
check client_server "$B/examples/client_server"
want='client 8: sent "hello from client 8", got "HELLO FROM CLIENT 8"'
check acceptor_pool "$B/examples/acceptor_pool" 4 8
want='client: error_sending timeout after [0-9]+ blocks'
check send_timeout "$B/examples/send_timeout"
