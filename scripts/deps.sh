#!/usr/bin/env bash
# Installs what the build, the tests and the benchmarks need, on Debian 12.
# Idempotent: does nothing when everything is present.
#   deps.sh --check   only lists what is missing (exit 1 if anything is);
#                     installs nothing (scripts/test.sh, make test)
set -eu
check_only=0
[ "${1:-}" = --check ] && check_only=1
need=()
command -v cc >/dev/null       || need+=(gcc)
command -v make >/dev/null     || need+=(make)
command -v clang >/dev/null    || need+=(clang)
command -v escript >/dev/null  || need+=(erlang-base)
command -v valgrind >/dev/null || need+=(valgrind)
command -v curl >/dev/null     || need+=(curl)
command -v g++ >/dev/null      || need+=(g++)        # tests/cxx: the header from C++
command -v cmake >/dev/null    || need+=(cmake)      # tests/install: find_package(gentcp)
command -v pkg-config >/dev/null || need+=(pkgconf)  # tests/install: gentcp.pc
command -v groff >/dev/null    || need+=(groff)      # tests/install: man pages
command -v python3 >/dev/null  || need+=(python3)    # tests/interop: idle and graceful stop clients
[ -d /usr/lib/erlang/lib ] && ls /usr/lib/erlang/lib | grep -q '^inets-' || need+=(erlang-inets)
[ -d /usr/lib/erlang/lib ] && ls /usr/lib/erlang/lib | grep -q '^ssl-' || need+=(erlang-ssl) # tests/interop/tls.sh
[ -f /usr/include/openssl/ssl.h ] || need+=(libssl-dev)   # src/tls/
command -v openssl >/dev/null  || need+=(openssl)         # tests/interop/tls.sh
if [ -z "$(ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a 2>/dev/null)" ] &&
   [ "$(uname -m)" = x86_64 ]; then
    need+=(libclang-rt-14-dev)
fi
if [ "$(uname -m)" = x86_64 ]; then # the AArch64 stack switch runs under qemu-user
    command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
    command -v qemu-aarch64 >/dev/null || need+=(qemu-user)
fi
[ ${#need[@]} -eq 0 ] && exit 0
if [ $check_only = 1 ]; then
    echo "deps: missing ${need[*]} (bash scripts/deps.sh installs them)"
    exit 1
fi
if [ "$(id -u)" != 0 ]; then
    echo "deps: missing ${need[*]}; run as root (or install them) first" >&2
    exit 1
fi
echo "deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${need[@]}" >/dev/null
