#!/usr/bin/env bash
# diff.sh -- differential tests: the same scenario run with gen_tcp on a live
# Erlang/OTP node (inet backend, diff.escript) and with gentcp (diff_gt),
# compared step by step.  Scenarios combine options (a pairwise covering
# array over 14 option groups and 13 events, fixed seed) -- see diff.escript.
# Prints one line per scenario: ok / FAIL (with the first differing step).
#
# A difference listed in diff-expected.txt is not a failure when it is a
# deliberate deviation ("dev", docs/DEVIATIONS.md row given); a "known" one
# (being fixed) still prints FAIL, marked as known.
#
# diff-cases.txt holds hand-written minimal reproductions of the differences
# found so far, and the socket backend's cases (sockbk/..., inet_backend=socket
# first: docs/spec/semantics.md section 10); they run too.
#
# Env: B (build dir), DIFF_SEED (default 1), DIFF_N (extra random scenarios,
# default 0), DIFF_JOBS (parallel shards per side, default 2), DIFF_ONLY
# (ERE: run only scenarios whose name matches), DIFF_BACKEND=socket (run the
# scenarios on the socket backend instead: the tos, low_watermark and header
# options still differ there, see docs/TESTING.md), DIFF_VERBOSE=1 (print every
# step of a differing scenario), KEEP_TMP=1 keeps the outputs.
#   bash diff.sh FILE   runs FILE's scenarios instead (verbose): for
#                       minimal reproductions.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
B=${B:-$ROOT/build}
GT=$B/tests/interop/diff_gt
ESC=$HERE/diff.escript
EXPECT=$HERE/diff-expected.txt
TMP=$(mktemp -d /tmp/gentcp-diff.XXXXXX)
trap '[ -n "${KEEP_TMP:-}" ] && echo "kept $TMP" >&2 || rm -rf "$TMP"' EXIT

if ! command -v escript >/dev/null; then
    echo "skip diff: escript (Erlang/OTP) not installed"; exit 0
fi
if [ ! -x "$GT" ]; then
    echo "skip diff: $GT not built (make tests)"; exit 0
fi

seed=${DIFF_SEED:-1} extra=${DIFF_N:-0} jobs=${DIFF_JOBS:-2}
if [ $# -ge 1 ]; then # hand-written scenarios (a reproduction): shown in full
    cp "$1" "$TMP/all.txt"; DIFF_VERBOSE=1
elif ! escript "$ESC" gen "$seed" "$extra" >"$TMP/all.txt" 2>"$TMP/gen.err"; then
    echo "FAIL diff/generate: $(head -3 "$TMP/gen.err" | tr '\n' ' ')"; exit 0
fi
[ $# -ge 1 ] || cat "$HERE/diff-cases.txt" >>"$TMP/all.txt" # the reproductions
if [ "${DIFF_BACKEND:-inet}" = socket ]; then
    # every generated scenario again on the socket backend, named sock:...
    # (open steps get inet_backend=socket first; the sockbk/ cases have it)
    grep -v '^sockbk/' "$TMP/all.txt" | sed -E \
        's/\t(listen|connect) -( |\|)/\t\1 inet_backend=socket\2/;
         s/\t(listen|connect) ([^ -][^ ]*)/\t\1 inet_backend=socket,\2/; s/^/sock:/' \
        >"$TMP/sock.txt"
    cp "$TMP/sock.txt" "$TMP/all.txt"
fi
if [ -n "${DIFF_ONLY:-}" ]; then
    awk -F'\t' -v re="$DIFF_ONLY" '$1 ~ re' "$TMP/all.txt" >"$TMP/scen.txt"
else
    cp "$TMP/all.txt" "$TMP/scen.txt"
fi

# run FILE TAG: both sides over FILE in JOBS shards each, all at once;
# outputs TAG.erl and TAG.gt (one line per scenario, any order).
run() {
    local file=$1 tag=$2 i pids=()
    for i in $(seq 0 $((jobs - 1))); do
        awk -v n="$jobs" -v i="$i" '(NR - 1) % n == i' "$file" >"$TMP/$tag.shard$i"
        timeout 600 escript "$ESC" run "$TMP/$tag.shard$i" >"$TMP/$tag.erl$i" 2>"$TMP/$tag.erl$i.err" &
        pids+=($!)
        timeout 600 "$GT" "$TMP/$tag.shard$i" >"$TMP/$tag.gt$i" 2>"$TMP/$tag.gt$i.err" &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i"; done
    cat "$TMP/$tag".erl[0-9]* >"$TMP/$tag.erl"
    cat "$TMP/$tag".gt[0-9]* >"$TMP/$tag.gt"
}

# compare SCEN ERL GT: for each scenario, "same NAME" or "differ NAME", then
# for every differing step "<TAB>K<TAB>STEP<TAB>ERL-RESULT<TAB>GT-RESULT".
# Every step is compared: one known difference must not hide a new one.
compare() {
    awk -F'\t' '
        FILENAME == ARGV[1] { order[++n] = $1; steps[$1] = $2; next }
        FILENAME == ARGV[2] { erl[$1] = $2; next }
        { gt[$1] = $2 }
        END {
            for (i = 1; i <= n; i++) {
                k = order[i]
                if (!(k in erl)) { print "differ " k "\t0\t-\tno result (escript died)\t" gt[k]; continue }
                if (!(k in gt)) { print "differ " k "\t0\t-\t" erl[k] "\tno result (diff_gt died)"; continue }
                if (erl[k] == gt[k]) { print "same " k; continue }
                split(steps[k], st, "|")
                ne = split(erl[k], e, " ; "); ng = split(gt[k], g, " ; ")
                line = "differ " k
                for (j = 1; j <= ne || j <= ng; j++)
                    if (e[j] != g[j]) line = line "\t" j "\t" st[j] "\t" e[j] "\t" g[j]
                print line
            }
        }' "$1" "$2" "$3"
}

# expected NAME STEP ERL GT: "KIND<TAB>WHY" of the first diff-expected.txt
# row whose ERE matches "NAME | STEP | ERL | GT", else nothing.
expected() {
    awk -F'\t' -v s="$1 | $2 | $3 | $4" '/^#/ || NF < 3 { next } s ~ $2 { print $1 "\t" $3; exit }' "$EXPECT"
}

# classify LINE: "dev<TAB>WHYS", "known<TAB>WHYS" or "new<TAB>WHAT" for a
# differ line (all its steps): new if any step is unexplained.
classify() {
    local name rest k stepname erlr gtr exp kind=dev whys= new=
    name=${1#differ }; name=${name%%$'\t'*}
    rest=${1#*$'\t'}
    while [ -n "$rest" ]; do
        IFS=$'\t' read -r k stepname erlr gtr _ <<<"$rest"
        for _ in 1 2 3 4; do
            case $rest in *$'\t'*) rest=${rest#*$'\t'} ;; *) rest= ;; esac
        done
        exp=$(expected "$name" "$stepname" "$erlr" "$gtr")
        case ${exp%%$'\t'*} in
        dev) ;;
        known) kind=known ;;
        *) [ -z "$new" ] && new="step $k '$stepname': erlang $erlr, gentcp $gtr" ;;
        esac
        [ -n "$exp" ] && case "; $whys;" in *"; ${exp#*$'\t'};"*) ;; *) whys="${whys:+$whys; }${exp#*$'\t'}" ;; esac
    done
    if [ -n "$new" ]; then printf 'new\t%s\n' "$new"
    else printf '%s\t%s\n' "$kind" "$whys"; fi
}

run "$TMP/scen.txt" first
compare "$TMP/scen.txt" "$TMP/first.erl" "$TMP/first.gt" >"$TMP/first.cmp"

# show NAME: every step of the scenario, both results, differences marked.
show() {
    local f
    for f in scen erl gt; do
        awk -F'\t' -v n="$1" '$1 == n { print $2 }' "$TMP/$( [ $f = scen ] && echo scen.txt || echo first.$f)" |
            sed 's/ ; /\n/g; s/|/\n/g' >"$TMP/show.$f"
    done
    paste -d'\t' "$TMP/show.scen" "$TMP/show.erl" "$TMP/show.gt" |
        awk -F'\t' '{ printf "  %-3s %-32.32s %-44s %s\n", ($2 != $3 ? "<>" : ""), $1, $2, $3 }'
}

# A new difference is run again once, both sides: one that does not come
# back was timing (the box is loaded), and is said so on the ok line.
: >"$TMP/retry.names"
while IFS= read -r line; do
    case $line in differ\ *) ;; *) continue ;; esac
    c=$(classify "$line")
    [ "${c%%$'\t'*}" = new ] && { n=${line#differ }; echo "${n%%$'\t'*}"; }
done <"$TMP/first.cmp" >"$TMP/retry.names"
: >"$TMP/again.cmp"
if [ -s "$TMP/retry.names" ]; then
    awk -F'\t' 'NR == FNR { want[$1] = 1; next } $1 in want' "$TMP/retry.names" "$TMP/scen.txt" >"$TMP/retry.txt"
    run "$TMP/retry.txt" again
    compare "$TMP/retry.txt" "$TMP/again.erl" "$TMP/again.gt" >"$TMP/again.cmp"
fi

while IFS= read -r line; do
    name=${line#* }; name=${name%%$'\t'*}
    case $line in
    same\ *) echo "ok diff/$name"; continue ;;
    esac
    c=$(classify "$line")
    if [ "${c%%$'\t'*}" = new ]; then
        again=$(awk -F'\t' -v n="$name" '{ k = $1; sub(/^[a-z]+ /, "", k); if (k == n) print }' "$TMP/again.cmp")
        case $again in
        same\ *) echo "ok diff/$name (differed in the first run only, timing: ${c#*$'\t'})"; continue ;;
        differ\ *) c=$(classify "$again") ;;
        esac
    fi
    case ${c%%$'\t'*} in
    dev) echo "ok diff/$name (expected deviation: ${c#*$'\t'})" ;;
    known) echo "FAIL diff/$name: known, being fixed: ${c#*$'\t'}" ;;
    *) echo "FAIL diff/$name: ${c#*$'\t'}" ;;
    esac
    [ "${DIFF_VERBOSE:-0}" = 1 ] && show "$name"
done <"$TMP/first.cmp"
