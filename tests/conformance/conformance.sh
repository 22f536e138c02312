#!/usr/bin/env bash
# conformance.sh -- gtcat decode --once vs erlang:decode_packet/3.
#
# 1. Replays the checked-in corpus (corpus.tsv, made by gen.escript with
#    seed 1) and prints one line per packet type: ok / FAIL.
#    Then the stream corpus (corpus-stream.tsv, gtcat decode without --once:
#    packet after packet, http switching to header state as a socket does).
# 2. If escript is installed, generates a fresh corpus with a new seed
#    (CONFORMANCE_SEED to pin it) from the live Erlang node and replays it.
# Env: GTCAT = path to gtcat (default $B/gtcat, B default build).
# Regenerate the fixed corpora:
#   escript gen.escript 1 400 corpus.tsv
#   escript gen.escript 1 40 corpus-stream.tsv stream
set -u
here=$(cd "$(dirname "$0")" && pwd)
B=${B:-build}
GTCAT=${GTCAT:-$B/gtcat}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [[ ! -x $GTCAT ]]; then
    echo "skip conformance: no gtcat at $GTCAT"
    exit 0
fi
if ! "$GTCAT" decode raw --once </dev/null >/dev/null 2>&1; then
    echo "skip conformance: $GTCAT has no decode command"
    exit 0
fi

# report NAME REPLAY_OUTPUT DIFF_FILE: one line per type
report() {
    local name=$1 out=$2 diffs=$3 t a n
    while read -r t a n; do
        if [[ $a == "$n" ]]; then
            echo "ok ${name}_$t: $a/$n cases agree with erlang:decode_packet/3"
        else
            echo "FAIL ${name}_$t: $a/$n agree; first: $(grep -m1 "^DIFF $t " "$diffs" | cut -c1-300)"
        fi
    done <"$out"
}

bash "$here/replay.sh" "$GTCAT" "$here/corpus.tsv" 50 >"$tmp/fixed.out" 2>"$tmp/fixed.diff"
report conformance "$tmp/fixed.out" "$tmp/fixed.diff"

bash "$here/replay.sh" "$GTCAT" "$here/corpus-stream.tsv" 5 stream >"$tmp/stream.out" 2>"$tmp/stream.diff"
# sum: AGREED TOTAL over all types
sum() { awk '{a += $2; n += $3} END {print a + 0, n + 0}' "$1"; }
read -r a n < <(sum "$tmp/stream.out")
if [[ $a == "$n" && $n -gt 0 ]]; then
    echo "ok conformance_stream: $a/$n multi-packet streams decode as an Erlang loop does"
else
    echo "FAIL conformance_stream: $a/$n agree; first: $(head -n1 "$tmp/stream.diff" | cut -c1-300)"
fi

if ! command -v escript >/dev/null 2>&1; then
    echo "skip conformance_fresh: escript (Erlang) not installed"
    exit 0
fi
seed=${CONFORMANCE_SEED:-$(( $(date +%s) % 1000000 + 2 ))}
if ! escript "$here/gen.escript" "$seed" 40 "$tmp/fresh.tsv" 2>"$tmp/gen.err"; then
    echo "FAIL conformance_fresh: generator failed: $(head -c 300 "$tmp/gen.err")"
    exit 0
fi
escript "$here/gen.escript" "$seed" 8 "$tmp/fresh-stream.tsv" stream 2>>"$tmp/gen.err"
bash "$here/replay.sh" "$GTCAT" "$tmp/fresh.tsv" 5 >"$tmp/fresh.out" 2>"$tmp/fresh.diff"
bash "$here/replay.sh" "$GTCAT" "$tmp/fresh-stream.tsv" 5 stream >>"$tmp/fresh.out" 2>>"$tmp/fresh.diff"
read -r agreed total < <(sum "$tmp/fresh.out")
if [[ $agreed == "$total" && $total -gt 0 ]]; then
    echo "ok conformance_fresh: seed $seed, $agreed/$total new cases agree with live Erlang"
else
    echo "FAIL conformance_fresh: seed $seed, $agreed/$total agree; first: $(head -n1 "$tmp/fresh.diff" | cut -c1-300)"
fi
