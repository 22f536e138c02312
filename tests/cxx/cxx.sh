#!/usr/bin/env bash
# gentcp.h from C++: builds options_test.cpp with g++ -Wall -Wextra -Werror
# (C++11 and C++17) against the static library and runs it; clang++ too
# when it is installed (C++17).
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
builds=("$CXX c++11" "$CXX c++17")
command -v clang++ >/dev/null && builds+=("clang++ c++17")
for b in "${builds[@]}"; do
    read -r cxx std <<<"$b"
    tag=$std; [ "$cxx" = "$CXX" ] || tag=$cxx-$std
    exe=$B/tests/cxx/options_test-$tag
    if ! out=$("$cxx" -std=$std -Wall -Wextra -Werror -I"$root/include" \
            "$here/options_test.cpp" -o "$exe" "$B/libgentcp.a" -pthread 2>&1); then
        echo "FAIL cxx:compile-$tag: $(head -c 600 <<<"$out" | tr '\n' '|')"
        continue
    fi
    echo "ok cxx:compile-$tag: $cxx -std=$std -Wall -Wextra -Werror"
    timeout 60 "$exe" | sed "s/^\(ok\|FAIL\) cxx:/\1 cxx-$tag:/"
    rc=${PIPESTATUS[0]}
    [ "$rc" -eq 0 ] || echo "FAIL cxx-$tag:run: exit $rc"
done
