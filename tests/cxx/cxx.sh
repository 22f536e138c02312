#!/usr/bin/env bash
# gentcp.h from C++: builds options_test.cpp with g++ -Wall -Wextra -Werror
# (C++11 and C++17) against the static library and runs it.
set -u
B=${B:-build}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
CXX=${CXX:-g++}
if ! command -v "$CXX" >/dev/null; then
    echo "skip cxx: $CXX not installed"
    exit 0
fi
mkdir -p "$B/tests/cxx"
for std in c++11 c++17; do
    exe=$B/tests/cxx/options_test-$std
    if ! out=$("$CXX" -std=$std -Wall -Wextra -Werror -I"$root/include" \
            "$here/options_test.cpp" -o "$exe" "$B/libgentcp.a" -pthread 2>&1); then
        echo "FAIL cxx:compile-$std: $(head -c 600 <<<"$out" | tr '\n' '|')"
        continue
    fi
    echo "ok cxx:compile-$std: $CXX -std=$std -Wall -Wextra -Werror"
    timeout 60 "$exe" | sed "s/^\(ok\|FAIL\) cxx:/\1 cxx-$std:/"
    rc=${PIPESTATUS[0]}
    [ "$rc" -eq 0 ] || echo "FAIL cxx-$std:run: exit $rc"
done
