#!/usr/bin/env bash
# gtcat getopts against a live OTP 25 node (issue 9 item 5): the options of
# a listen, connected and accepted socket on 127.0.0.1, both backends, as
# inet:getopts/2 reports them (getopts.escript) and as gentcp does.  The two
# outputs must be equal line for line: nothing is normalised.  The values
# the OS chooses (recbuf, sndbuf, ttl) come from the same kernel on both
# sides, so they agree too.
. "$(dirname "$0")/common.bash"
need_gtcat interop/getopts
for b in inet socket; do
    if ! timeout 60 escript "$HERE/getopts.escript" "$b" >"$TMP/erl.$b" 2>"$TMP/erl.$b.err"; then
        fail "interop/getopts/$b" "the Erlang node failed: $(head -3 "$TMP/erl.$b.err" | tr '\n' '|')"
        continue
    fi
    if ! timeout 30 "$GTCAT" getopts --backend "$b" >"$TMP/gt.$b" 2>"$TMP/gt.$b.err"; then
        fail "interop/getopts/$b" "gtcat failed: $(head -3 "$TMP/gt.$b.err" | tr '\n' '|')"
        continue
    fi
    if diff -u "$TMP/erl.$b" "$TMP/gt.$b" >"$TMP/diff.$b"; then
        ok "interop/getopts/$b ($(wc -l <"$TMP/gt.$b") options)"
    else
        fail "interop/getopts/$b" "differs from OTP (-erlang +gentcp):"
        sed "s/^/  /" "$TMP/diff.$b"
    fi
done
