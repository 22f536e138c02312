#!/usr/bin/env bash
# The test runner itself (tests/runner.c): a program with 600 tests runs all
# 600 (the runner once kept 512 and dropped the rest without a word), and a
# name argument selects by substring.
set -u
B=${B:-build}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mkdir -p "$B/tests/runner"
exe=$B/tests/runner/many
if ! out=$(cc -std=c17 -Wall -Wextra -D_GNU_SOURCE -I"$root/include" "$here/many.c" \
               "$root/tests/runner.c" -o "$exe" 2>&1); then
    echo "FAIL runner:build: $(head -c 400 <<<"$out" | tr '\n' '|')"
    exit 0
fi
last=$("$exe" | tail -1)
if [ "$last" = "# 600 passed, 0 failed, 0 skipped" ]; then
    echo "ok runner:more_than_512_tests"
else
    echo "FAIL runner:more_than_512_tests: last line '$last'"
fi
last=$("$exe" t_59 | tail -1)
if [ "$last" = "# 10 passed, 0 failed, 0 skipped" ]; then
    echo "ok runner:select_by_name"
else
    echo "FAIL runner:select_by_name: last line '$last'"
fi
