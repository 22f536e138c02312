#!/usr/bin/env bash
# bench/deps.sh -- installs what the peer benchmarks (bench/peers.sh) need, on
# Debian 12, with apt.  Idempotent: installs only what is missing, does nothing
# when everything is there.  The build and test dependencies are
# scripts/deps.sh's business; this script is for the benchmarks only.
#
#   golang-go            the Go peer (stdlib only, no module download)
#   cargo + librust-tokio-dev
#                        the tokio peer, built offline against Debian's crate
#                        registry /usr/share/cargo/registry (the -dev package
#                        provides every tokio feature: net, rt-multi-thread,
#                        io-util, macros)
#   libuv1-dev           the libuv peer
#   python3-matplotlib   the plots of docs/PERFORMANCE.md (bench/report.sh)
#   erlang-base          the Erlang contenders (escript)
#
# A contender whose toolchain is missing shows "n/a" with the reason in the
# results; the other contenders still run.
set -eu
pkgs=(golang-go cargo librust-tokio-dev libuv1-dev python3-matplotlib erlang-base)
need=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || need+=("$p")
done
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "bench/deps.sh: missing ${need[*]}; run as root (or install them) first" >&2
    exit 1
fi
echo "bench/deps.sh: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
# another apt may be running on a shared machine: wait for its lock
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null ||
    { apt-get update -qq && apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null; }
