#!/usr/bin/env bash
# examples/http_server --tls (issue 12): the https keep-alive server answers
# curl, two requests on one TLS connection, and a POST body; the
# certificate (ECDSA P-256) is made here with the openssl CLI.
set -u
B=${B:-build}
if ! command -v curl >/dev/null || ! command -v openssl >/dev/null; then
    echo "skip https: curl or openssl is not installed"
    exit 0
fi
dir=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
    -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null; then
    echo "FAIL https:cert: openssl could not make a certificate"
    exit 0
fi
out=$dir/server.out
timeout 30 "$B/examples/http_server" --requests 3 --tls "$dir/cert.pem" "$dir/key.pem" >"$out" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q listening "$out" && break; sleep 0.05; done
port=$(awk '/listening/{print $3}' "$out")
if [ -z "$port" ]; then
    echo "FAIL https:start: the server did not start: $(cat "$out")"
    exit 0
fi
v=$(curl -sv --max-time 5 --cacert "$dir/cert.pem" "https://localhost:$port/a" \
    "https://localhost:$port/b" 2>&1)
if grep -q 'hello from gentcp: GET /a' <<<"$v" && grep -q 'hello from gentcp: GET /b' <<<"$v" &&
   grep -q 'Re-using existing connection' <<<"$v" && grep -q 'SSL connection using TLSv1.3' <<<"$v"; then
    echo "ok https:curl_keepalive"
else
    echo "FAIL https:curl_keepalive: $(tr '\n' '|' <<<"$v" | head -c 600)"
fi
body=$(curl -s --max-time 5 --cacert "$dir/cert.pem" -d 'posted bytes' "https://localhost:$port/post")
if grep -q 'posted bytes' <<<"$body"; then echo "ok https:curl_post"; else
    echo "FAIL https:curl_post: $body"; fi
# a client that does not trust the certificate is refused, the server goes on
if curl -s --max-time 5 "https://localhost:$port/x" >/dev/null 2>&1; then
    echo "FAIL https:untrusted: curl accepted a certificate it has no CA for"
else
    echo "ok https:untrusted"
fi
