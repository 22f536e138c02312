#!/usr/bin/env bash
# gtcat listen --echo keeps no pipelining batch while idle (issue 11): a
# peer that pipelines makes a connection allocate its 24 KiB heap batch
# (1,024 message pointers and iovecs), which must be freed once the
# connection has gone idle, not kept until it closes.  What gtcat keeps is
# read from outside with an LD_PRELOAD probe (malloc_probe.c) that counts
# the live allocations of the batch's size.
. "$(dirname "$0")/common.bash"
NAME=interop/echo_batch
[ -x "$GTCAT" ] || { skip $NAME "gtcat not built ($GTCAT)"; exit 0; }
command -v python3 >/dev/null || { skip $NAME "python3 not installed"; exit 0; }
# (the sanitizer's malloc is gtcat's own: an LD_PRELOAD probe never sees it)
gtcat_sanitized && { skip $NAME "gtcat is a sanitizer build: its allocator hides malloc from the probe"; exit 0; }
CC=${CC:-cc}
command -v "$CC" >/dev/null || { skip $NAME "no C compiler ($CC) for the malloc probe"; exit 0; }
"$CC" -shared -fPIC -O1 -o "$TMP/probe.so" "$HERE/malloc_probe.c" -lpthread 2>"$TMP/cc.log" ||
    { fail $NAME "cannot build the probe: $(head -c 300 "$TMP/cc.log")"; exit 0; }

# the batch: ECHO_BATCH (1,024) message pointers and struct iovecs
BATCH=$((1024 * (8 + 16)))
timeout 60 env LD_PRELOAD="$TMP/probe.so" PROBE_SIZE=$BATCH PROBE_OUT="$TMP/probe.out" \
    PYTHONPATH="$HERE" python3 - "$GTCAT" "$TMP/probe.out" <<'PY'
import struct, sys, time
from gtcat_py import Gtcat, check, recv_exactly

GTCAT, OUT = sys.argv[1], sys.argv[2]
CONNS, FRAMES, SIZE = 4, 4000, 100

def probe():
    try:
        live, peak = open(OUT).read().split()
        return int(live), int(peak)
    except (OSError, ValueError):
        return 0, 0

def echo_all(c, n):
    frame = struct.pack(">I", SIZE) + b"p" * SIZE
    c.sendall(frame * n)  # pipelined: the server's mailbox fills
    c.settimeout(10)
    recv_exactly(c, n * len(frame))

def body():
    with Gtcat(GTCAT, "--packet", "4", "--echo") as g:
        cs = [g.connect(timeout=5) for _ in range(CONNS)]
        for c in cs:
            echo_all(c, FRAMES)
        live, peak = probe()
        if peak == 0:
            raise RuntimeError("no connection made a heap batch: the pipelined run never "
                               "filled the small one, the test proves nothing")
        deadline = time.monotonic() + 10  # generous: the box is loaded
        while probe()[0] and time.monotonic() < deadline:
            time.sleep(0.05)
        live, peak = probe()
        if live:
            raise RuntimeError("%d of %d idle connections still hold their %d B batch after 10 s"
                               % (live, CONNS, 24 * 1024))
        echo_all(cs[0], FRAMES)  # and the connection still pipelines
        return " (%d batches made, none kept while idle)" % peak

check("interop/echo_batch", body)
PY
rc=$?
[ $rc -eq 0 ] || fail $NAME "the python check exited $rc (124 = timeout)"
