#!/usr/bin/env bash
# replay.sh GTCAT CORPUS [MAXFAIL] [once|stream]
# Runs every case of a decode corpus (see gen.escript for the format) through
# `GTCAT decode TYPE OPTS --once` (stream: without --once, output lines
# joined by "|") and prints, per type, "TYPE AGREED TOTAL",
# then a first few disagreements as "DIFF TYPE OPTS HEX: want X got Y".
set -u
gtcat=$1 corpus=$2 maxfail=${3:-5} mode=${4:-once}
once=--once
[[ $mode == stream ]] && once=
declare -A total agreed
order=()
fails=0
while IFS=$'\t' read -r type opts hex want; do
    [[ -z ${total[$type]+x} ]] && { order+=("$type"); total[$type]=0; agreed[$type]=0; }
    args=()
    if [[ $opts != - ]]; then
        IFS=, read -ra kv <<<"$opts"
        for o in "${kv[@]}"; do
            case ${o%%=*} in
                ps) args+=(--packet-size "${o#*=}") ;;
                ll) args+=(--line-length "${o#*=}") ;;
                ld) args+=(--line-delimiter "${o#*=}") ;;
            esac
        done
    fi
    [[ $hex == - ]] && hex=""
    esc=""
    for ((i = 0; i < ${#hex}; i += 2)); do esc+="\\x${hex:i:2}"; done
    got=$(printf "$esc" | "$gtcat" decode "$type" "${args[@]}" $once 2>&1)
    [[ $mode == stream ]] && got=${got//$'\n'/|}
    total[$type]=$((total[$type] + 1))
    if [[ $got == "$want" ]]; then
        agreed[$type]=$((agreed[$type] + 1))
    elif ((fails++ < maxfail)); then
        echo "DIFF $type $opts $hex: want $want got $got" >&2
    fi
done <"$corpus"
for t in "${order[@]}"; do echo "$t ${agreed[$t]} ${total[$t]}"; done
