#!/usr/bin/env bash
# examples/http_server ({packet, http_bin}, keep-alive) against curl and
# Erlang's httpc; then its defences: malformed or ambiguous framing, a slow
# head, its backlog, and its acceptor at the fd limit (http_abuse.escript,
# http_flood.escript).
set -u
B=${B:-build}
here=$(dirname "$0")
out=$(mktemp)
timeout 30 "$B/examples/http_server" --requests 5 >"$out" 2>&1 &
pid=$!
SPID=
trap 'kill $pid $SPID 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 100); do grep -q listening "$out" && break; sleep 0.05; done
port=$(awk '/listening/{print $3}' "$out")
if [ -z "$port" ]; then
    echo "FAIL http:start: the server did not start: $(cat "$out")"
    exit 0
fi
if ! command -v curl >/dev/null; then
    echo "skip http:curl: curl is not installed"
else
    v=$(curl -sv --max-time 5 "http://127.0.0.1:$port/a" "http://127.0.0.1:$port/b" 2>&1)
    if grep -q 'hello from gentcp: GET /a' <<<"$v" && grep -q 'hello from gentcp: GET /b' <<<"$v" &&
       grep -q 'Re-using existing connection' <<<"$v"; then
        echo "ok http:curl_keepalive"
    else
        echo "FAIL http:curl_keepalive: $(tr '\n' '|' <<<"$v" | head -c 400)"
    fi
    body=$(curl -s --max-time 5 -d 'posted bytes' "http://127.0.0.1:$port/post")
    if [ "$body" = "hello from gentcp: POST /post
posted bytes" ]; then
        echo "ok http:curl_post_body"
    else
        echo "FAIL http:curl_post_body: got '$body'"
    fi
fi
if ! command -v escript >/dev/null; then
    echo "skip http:httpc: Erlang is not installed"
else
    timeout 30 escript "$here/http_client.escript" "$port" 2>&1 | grep -E '^(ok|FAIL) '
fi
wait $pid 2>/dev/null

# The same server defending itself (issue 7 item 16): refusals, and the
# acceptor at the fd limit.
start_server() { # OUT-FILE CMD...: sets SPID, SPORT
    local f=$1; shift
    "$@" >"$f" 2>&1 &
    SPID=$!
    for _ in $(seq 100); do grep -q listening "$f" && break; sleep 0.05; done
    SPORT=$(awk '/listening/{print $3}' "$f")
}
if ! command -v escript >/dev/null; then
    echo "skip http:refusals: Erlang is not installed"
else
    out2=$(mktemp)
    start_server "$out2" timeout 120 "$B/examples/http_server" --header-timeout 1000
    if [ -z "$SPORT" ]; then
        echo "FAIL http:refusals: the server did not start: $(cat "$out2")"
    else
        # the backlog fit for a server: the listen socket's Send-Q is it
        bl=$(ss -ltnH "sport = :$SPORT" 2>/dev/null | awk '{print $3}')
        if [ -z "$bl" ]; then echo "skip http:backlog: ss cannot show the listen socket"
        elif [ "$bl" -ge 1024 ] || [ "$bl" -ge "$(cat /proc/sys/net/core/somaxconn)" ]; then
            echo "ok http:backlog"
        else echo "FAIL http:backlog: $bl"; fi
        timeout 120 escript "$here/http_abuse.escript" "$SPORT" 2>&1 | grep -E '^(ok|FAIL) '
    fi
    kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; rm -f "$out2"

    if ! command -v prlimit >/dev/null; then
        echo "skip http:emfile: prlimit is not installed"
    else
        out3=$(mktemp)
        start_server "$out3" prlimit --nofile=64 timeout 120 "$B/examples/http_server"
        if [ -z "$SPORT" ]; then
            echo "FAIL http:emfile: the server did not start: $(cat "$out3")"
        else
            spid=$(pgrep -P "$SPID" -n 2>/dev/null || echo "$SPID") # timeout's child
            timeout 120 escript "$here/http_flood.escript" "$SPORT" "$spid" 150 2>&1 |
                grep -E '^(ok|FAIL|cpu=)'
        fi
        kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; rm -f "$out3"
    fi
fi
