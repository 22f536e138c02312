#!/usr/bin/env bash
# fuzz.sh SECONDS [FAMILY...] -- build the libFuzzer targets (fuzz/fuzz_packet.c,
# one binary per decoder family) into build-fuzz/ and fuzz each for SECONDS.
#   SECONDS = 0 only builds and replays the seed corpus (no fuzzing).
# Prints one line per family: ok / FAIL / skip.  Logs and crash artifacts go
# to build-fuzz/logs and build-fuzz/artifacts; the growing corpus lives in
# build-fuzz/corpus/FAMILY (seeded from fuzz/corpus/FAMILY; copy interesting
# finds back by hand).  Exit status 1 if any family failed.
set -u
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
all=(len line http asn1 sunrm cdr fcgi tpkt tls)
fams=("$@")
((${#fams[@]})) || fams=("${all[@]}")
out=build-fuzz
CC=${FUZZ_CC:-clang}
mkdir -p "$out/logs" "$out/artifacts"

if ! command -v "$CC" >/dev/null 2>&1; then
    for f in "${fams[@]}"; do echo "skip fuzz_$f: $CC not installed"; done
    exit 0
fi
probe=$out/probe
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' >"$probe.c"
if ! "$CC" -fsanitize=fuzzer "$probe.c" -o "$probe" 2>/dev/null; then
    for f in "${fams[@]}"; do echo "skip fuzz_$f: $CC has no libFuzzer"; done
    exit 0
fi

rc=0
for f in "${fams[@]}"; do
    idx=-1
    for i in "${!all[@]}"; do [[ ${all[$i]} == "$f" ]] && idx=$i; done
    if ((idx < 0)); then
        echo "FAIL fuzz_$f: unknown family (one of: ${all[*]})"
        rc=1
        continue
    fi
    bin=$out/fuzz_$f log=$out/logs/$f.log
    # tls: the TLS record path (fuzz/fuzz_tls.c), its seeds made by the
    # target itself (a real ClientHello and a server's answer)
    srcs=(-DGT_FUZZ_FAMILY="$idx" fuzz/fuzz_packet.c src/packet/*.c)
    [[ $f == tls ]] && srcs=(fuzz/fuzz_tls.c src/tls/ctx.c src/tls/conn.c src/util/lock.c src/forked.c -lssl -lcrypto)
    # (random each time, so in the build directory, not checked in)
    if [[ $f == tls ]] && ! { mkdir -p "$out/seeds/tls" &&
        "$CC" -std=c17 -g -O1 -D_GNU_SOURCE -Iinclude -Isrc -DGT_FUZZ_MAKE_SEEDS "${srcs[@]}" \
            -o "$out/seeds/make-tls" 2>"$log" && "$out/seeds/make-tls" "$out/seeds/tls" 2>>"$log"; }; then
        echo "FAIL fuzz_$f: making the seeds failed, see $log"
        rc=1
        continue
    fi
    if ! "$CC" -std=c17 -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE -Iinclude -Isrc \
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        "${srcs[@]}" -o "$bin" 2>"$log"; then
        echo "FAIL fuzz_$f: build failed, see $log"
        rc=1
        continue
    fi
    work=$out/corpus/$f
    mkdir -p "$work"
    seeds=()
    [[ -d fuzz/corpus/$f ]] && seeds=(fuzz/corpus/"$f")
    [[ $f == tls ]] && seeds=("$out/seeds/tls")
    dict=(-dict=fuzz/packet.dict)
    [[ $f == tls ]] && dict=()
    # replay the seeds (and fuzz/regress/FAMILY, crash inputs kept forever)
    replay=("${seeds[@]}")
    [[ -d fuzz/regress/$f ]] && replay+=(fuzz/regress/"$f")
    if ((${#replay[@]})); then
        if ! timeout 300 "$bin" -runs=0 -timeout=10 "${replay[@]}" >"$log" 2>&1; then
            echo "FAIL fuzz_$f: replaying the seed corpus crashed, see $log"
            rc=1
            continue
        fi
    fi
    if ((secs == 0)); then
        echo "ok fuzz_$f: seed corpus replayed, no crash"
        continue
    fi
    if timeout $((secs + 120)) "$bin" "$work" "${seeds[@]}" -max_total_time="$secs" \
        "${dict[@]}" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$out/artifacts/$f-" -print_final_stats=1 >"$log" 2>&1; then
        runs=$(grep -ao 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
        echo "ok fuzz_$f: ${runs:-?} inputs in ${secs}s, no crash, leak or timeout"
    else
        echo "FAIL fuzz_$f: see $log and $out/artifacts/$f-*"
        rc=1
    fi
done
exit $rc
