#!/usr/bin/env bash
# Erlang gen_tcp clients ({packet,4|2|1}, raw) against `gtcat listen 0
# --packet P --echo`: sizes up to the header's limit (16 MiB for 4), empty
# packets, 20,000 pipelined messages, an {active,once} reader, 50 concurrent
# clients, half-close, 300 short-lived connections.  Each test gets a fresh
# gtcat, so that one crash does not hide the other results; a gtcat that
# died during a test is a FAIL of its own.  See peer.escript.
. "$(dirname "$0")/common.bash"
need_gtcat interop/echo

for pk in 4 2 1 raw; do
    for t in sizes empty pipeline active_once concurrent half_close short_lived; do
        name=interop/echo/$pk/$t
        if ! start_bg "echo-$pk-$t" "$GTCAT" listen 0 --packet "$pk" --echo; then
            fail "$name" "gtcat listen did not print 'listening on PORT' in 10 s: $(head -2 "$BGERR" | tr '\n' ' ')"
            stop_bg "$BGPID"
            continue
        fi
        run_peer_tests interop/echo "$BGPORT" "$pk" "$t"
        if ! kill -0 "$BGPID" 2>/dev/null; then
            wait "$BGPID"
            fail "$name/gtcat-alive" "gtcat died (rc $?) during the test: $(tail -2 "$BGERR" | tr '\n' ' ')"
        fi
        stop_bg "$BGPID"
    done
done
