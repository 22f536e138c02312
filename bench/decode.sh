#!/usr/bin/env bash
# decode.sh -- gt_decode_packet vs erlang:decode_packet/3, same inputs, same
# run (bench/decode_bench.escript alternates the two sides case by case).
# Prints a table: case, C ns, Erlang ns, speed-up (Erlang / C), and a last
# line "ok decode_bench: ..." or "FAIL ..." against the target (2x, or
# DECODE_TARGET).  Env: B = build dir (default build); needs `make bench-bin`.
set -u
cd "$(dirname "$0")/.."
B=${B:-build}
bin=$B/bench/decode_bench
if [[ ! -x $bin ]]; then
    echo "skip decode_bench: $bin missing (make bench-bin)"
    exit 0
fi
if ! command -v escript >/dev/null 2>&1; then
    echo "skip decode_bench: escript (Erlang) not installed"
    exit 0
fi
out=$(escript bench/decode_bench.escript "$bin" "${DECODE_ROUNDS:-5}") || {
    echo "FAIL decode_bench: escript failed"
    exit 0
}
printf '%-22s %10s %10s %8s\n' case "C ns" "Erlang ns" speedup
awk -v tgt="${DECODE_TARGET:-2}" '
    { r = $3 / $2; printf "%-22s %10.1f %10.1f %7.1fx\n", $1, $2, $3, r
      if (min == "" || r < min) { min = r; worst = $1 } }
    END { if (min == "") print "FAIL decode_bench: no results"
          else if (min >= tgt) printf "ok decode_bench: every type >= %sx faster than Erlang (slowest %s %.1fx)\n", tgt, worst, min
          else printf "FAIL decode_bench: %s only %.1fx faster than Erlang (target %sx)\n", worst, min, tgt }' <<<"$out"
