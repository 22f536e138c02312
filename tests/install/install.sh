#!/usr/bin/env bash
# make install into a scratch DESTDIR (PREFIX=/usr), then check the copy as
# a user would meet it: the shared library exports only gt_ symbols and is
# named by its SONAME (the major version, major.minor while it is 0);
# programs build against it with pkg-config and with CMake's
# find_package(gentcp) and run; the CMake version file accepts only that
# ABI; the man pages format without warnings; the examples are in the doc dir; make uninstall removes it all.
# Prints one ok/FAIL/skip line per check.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
B=${B:-$root/build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
D=$tmp/dest
ok() { echo "ok install:$1"; }
fail() { echo "FAIL install:$1: $2"; }
check() { # NAME CONDITION-CMD... : ok if the command succeeds
    local name=$1; shift
    if "$@"; then ok "$name"; else fail "$name" "$*"; fi
}

# The build directory's library, as the acceptance criterion states it.
bad=$(nm -D --defined-only "$B/libgentcp.so" | awk '{print $3}' | grep -v '^gt_[a-z]' | head -5)
[ -z "$bad" ] && ok "exports_only_gt_symbols" ||
    fail "exports_only_gt_symbols" "$(echo $bad)"

if ! out=$(make -s -C "$root" install DESTDIR="$D" PREFIX=/usr 2>&1); then
    fail make_install "$(tail -5 <<<"$out" | tr '\n' '|')"
    exit 0
fi
ok make_install
lib=$D/usr/lib
ver=$(sed -n 's/^#define GT_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$/\2/p' "$root/include/gentcp.h" |
      paste -sd.)
major=${ver%%.*}
minor=${ver#*.}; minor=${minor%%.*}
# The ABI version the SONAME carries: the major, or major.minor while it is 0.
if [ "$major" = 0 ]; then abi=$major.$minor; else abi=$major; fi
soname=$(readelf -d "$lib/libgentcp.so.$ver" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
check soname test "$soname" = "libgentcp.so.$abi"
check symlinks test "$(readlink "$lib/libgentcp.so")" = "libgentcp.so.$abi" -a \
    "$(readlink "$lib/libgentcp.so.$abi")" = "libgentcp.so.$ver"
n=$(nm -D --defined-only "$lib/libgentcp.so.$ver" | awk '{print $3}' | grep -c '^gt__')
check installed_no_internal_symbols test "$n" -eq 0

# pkg-config: the sysroot variable points -I/-L into the DESTDIR copy.
export PKG_CONFIG_SYSROOT_DIR=$D PKG_CONFIG_LIBDIR=$lib/pkgconfig
if command -v pkg-config >/dev/null; then
    check pc_version test "$(pkg-config --modversion gentcp)" = "$ver"
    check pc_libs_private test -z "$(pkg-config --libs gentcp | grep -- -lpthread)" -a \
        -n "$(pkg-config --static --libs gentcp | grep -- -lpthread)"
    # shellcheck disable=SC2046
    if out=$(cc -Wall -Wextra -Werror "$here/app.c" -o "$tmp/app_pc" \
                 $(pkg-config --cflags --libs gentcp) 2>&1) &&
       out=$(LD_LIBRARY_PATH=$lib timeout 60 "$tmp/app_pc" 2>&1) &&
       [ "$out" = "gentcp $ver" ]; then
        ok pkg_config_build_and_run
    else
        fail pkg_config_build_and_run "$(head -c 400 <<<"$out" | tr '\n' '|')"
    fi
    if out=$(cc "$here/app.c" -o "$tmp/app_pc_static" \
                 $(pkg-config --cflags gentcp) "$lib/libgentcp.a" \
                 $(pkg-config --static --libs-only-l gentcp | sed 's/-lgentcp//') 2>&1) &&
       out=$(timeout 60 "$tmp/app_pc_static" 2>&1) && [ "$out" = "gentcp $ver" ]; then
        ok pkg_config_static_build_and_run
    else
        fail pkg_config_static_build_and_run "$(head -c 400 <<<"$out" | tr '\n' '|')"
    fi
else
    echo "skip install:pkg_config_build_and_run: pkg-config not installed"
fi
unset PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_LIBDIR

# CMake: find_package(gentcp) from the DESTDIR copy.
if command -v cmake >/dev/null; then
    if out=$(cmake -S "$here/cmake" -B "$tmp/cmake" -DCMAKE_PREFIX_PATH="$D/usr" \
                 -DCMAKE_C_FLAGS="-Wall -Wextra -Werror" 2>&1) &&
       out=$(cmake --build "$tmp/cmake" 2>&1); then
        for v in shared static; do
            if out=$(LD_LIBRARY_PATH=$lib timeout 60 "$tmp/cmake/app_$v" 2>&1) &&
               [ "$out" = "gentcp $ver" ]; then
                ok "cmake_find_package_$v"
            else
                fail "cmake_find_package_$v" "$(head -c 400 <<<"$out" | tr '\n' '|')"
            fi
        done
        # The shared build must really use the shared library.
        check cmake_shared_is_dynamic grep -q "NEEDED.*\\[libgentcp.so.$abi\\]" \
            <(readelf -d "$tmp/cmake/app_shared")
    else
        fail cmake_find_package "$(tail -c 600 <<<"$out" | tr '\n' '|')"
    fi
    # The version file's answer for other requests: the same ABI and not
    # newer is compatible; another 0.x minor (or major) is not.
    cvf() { # VERSION: prints the version file's PACKAGE_VERSION_COMPATIBLE
        local v=$1 mj=${1%%.*} mn=${1#*.}
        printf '%s\n' 'include(${F})' \
            'message(STATUS "compatible=${PACKAGE_VERSION_COMPATIBLE}")' >"$tmp/cvf.cmake"
        # (script mode: no compiler, so no pointer size to compare)
        cmake -DCMAKE_SIZEOF_VOID_P= -DPACKAGE_FIND_VERSION="$v" -DPACKAGE_FIND_VERSION_MAJOR="$mj" \
            -DPACKAGE_FIND_VERSION_MINOR="${mn%%.*}" \
            -DF="$lib/cmake/gentcp/gentcpConfigVersion.cmake" -P "$tmp/cvf.cmake" 2>&1 |
            sed -n 's/^-- compatible=//p'
    }
    if [ "$major" = 0 ]; then
        other=$major.$((minor + 1)); [ "$minor" -gt 0 ] && other=$major.$((minor - 1))
    else
        other=$((major - 1)).$minor
    fi
    check cmake_version_same_abi test "$(cvf "$major.$minor")" = TRUE
    check cmake_version_other_abi test "$(cvf "$other")" = FALSE
else
    echo "skip install:cmake_find_package: cmake not installed (scripts/deps.sh installs it)"
fi

# Man pages: present and warning-free.
for page in man3/gentcp.3 man1/gtcat.1; do
    f=$D/usr/share/man/$page
    if [ ! -f "$f" ]; then
        fail "man_${page##*/}" "not installed"
    elif ! command -v groff >/dev/null; then
        echo "skip install:man_${page##*/}: groff not installed"
    elif w=$(groff -man -Tutf8 -ww "$f" 2>&1 >/dev/null) && [ -z "$w" ]; then
        ok "man_${page##*/}"
    else
        fail "man_${page##*/}" "$(head -c 400 <<<"$w" | tr '\n' '|')"
    fi
done

missing=
for e in "$root"/examples/*.c; do
    [ -f "$D/usr/share/doc/gentcp/examples/${e##*/}" ] || missing+=" ${e##*/}"
done
[ -z "$missing" ] && ok examples_in_doc_dir || fail examples_in_doc_dir "missing$missing"

make -s -C "$root" uninstall DESTDIR="$D" PREFIX=/usr >/dev/null 2>&1
left=$(find "$D" -type f -o -type l | sed "s|^$D||" | head -5)
[ -z "$left" ] && ok make_uninstall || fail make_uninstall "left behind: $(echo $left)"
