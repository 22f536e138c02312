#!/usr/bin/env bash
# examples/http_server ({packet, http_bin}, keep-alive) against curl and
# Erlang's httpc.
set -u
B=${B:-build}
here=$(dirname "$0")
out=$(mktemp)
timeout 30 "$B/examples/http_server" --requests 5 >"$out" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -f "$out"' EXIT
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
