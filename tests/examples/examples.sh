#!/usr/bin/env bash
# Runs the spec's three examples, the supervisor and chat examples (examples/) and
# checks what they print.
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
# supervisor: a restart loses the worker's state; the 4th crash within 5 s
# ends the supervisor, which shuts its workers down first
want='restarted as a new process: yes; value 0'
check supervisor_restart "$B/examples/supervisor"
want='supervisor ended with reason 1000 \(shutdown\); counter gone, ticker gone'
check supervisor_gives_up "$B/examples/supervisor"
# chat: a client that never reads cannot grow the server (issue 10 items 3, 8)
if command -v python3 >/dev/null; then
    timeout 200 python3 "$(dirname "$0")/chat.py" "$B/examples/chat"
else
    echo "skip examples:chat: python3 is not installed"
fi
