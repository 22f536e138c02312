#!/usr/bin/env bash
# fuzz.sh (suite) -- every packet decoder family: replay fuzz/corpus and
# fuzz/regress, then fuzz briefly (FUZZ_BRIEF seconds each, default 10; 0 =
# replay only).  One ok / FAIL / skip line per family (from scripts/fuzz.sh).
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
bash "$root/scripts/fuzz.sh" "${FUZZ_BRIEF:-10}"
exit 0
