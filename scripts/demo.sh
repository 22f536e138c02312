#!/usr/bin/env bash
# The demo: the gen_tcp man page's worker pool (3 acceptor processes on one
# listening socket, {active, once}, {packet, 2}) serving 5 clients.
set -eu
cd "$(dirname "$0")/.."
bash scripts/deps.sh
make -s -j"$(nproc)" build/examples/acceptor_pool build/gtcat
exec build/examples/acceptor_pool 3 5
