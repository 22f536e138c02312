#!/usr/bin/env bash
# The AArch64 stack switch (src/runtime/context_aarch64.S) tested on this
# x86-64 machine: a static cross build whose process tests and examples run
# under qemu-user.  On an AArch64 machine the normal suite already covers it.
set -u
cd "$(dirname "$0")/../.."
if [ "$(uname -m)" = aarch64 ]; then
    echo "ok aarch64: native machine, covered by the normal suite"
    exit 0
fi
for tool in aarch64-linux-gnu-gcc qemu-aarch64; do
    if ! command -v $tool >/dev/null; then
        echo "skip aarch64: $tool is not installed (scripts/deps.sh installs it)"
        exit 0
    fi
done
B=build-aarch64
if ! make -s -j"$(nproc)" VARIANT=aarch64 $B/libgentcp.a $B/tests/integ/proc_test \
        $B/examples/acceptor_pool $B/examples/client_server >build/make-aarch64.log 2>&1; then
    echo "FAIL aarch64:build: see build/make-aarch64.log"
    exit 0
fi
echo "ok aarch64:build"
# the runner's lines, renamed so they do not collide with the native ones
GT_TEST_TIMEOUT=120 qemu-aarch64 $B/tests/integ/proc_test 2>&1 |
    sed -n -e 's/^ok /ok aarch64:/p' -e 's/^FAIL /FAIL aarch64:/p' -e 's/^skip /skip aarch64:/p' -e 's/^  /  /p'
out=$(timeout 60 qemu-aarch64 $B/examples/acceptor_pool 3 5 2>&1)
if [ $? -eq 0 ] && [ "$(grep -c 'got "HELLO FROM CLIENT' <<<"$out")" = 5 ]; then
    echo "ok aarch64:acceptor_pool"
else
    echo "FAIL aarch64:acceptor_pool: $(tr '\n' '|' <<<"$out" | head -c 300)"
fi
out=$(timeout 60 qemu-aarch64 $B/examples/client_server 2>&1)
if [ "$out" = "server received: Some Data" ]; then
    echo "ok aarch64:client_server"
else
    echo "FAIL aarch64:client_server: $out"
fi
