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
CC=${CC:-cc}
command -v "$CC" >/dev/null || { skip $NAME "no C compiler ($CC) for the malloc probe"; exit 0; }
"$CC" -shared -fPIC -O1 -o "$TMP/probe.so" "$HERE/malloc_probe.c" -lpthread 2>"$TMP/cc.log" ||
    { fail $NAME "cannot build the probe: $(head -c 300 "$TMP/cc.log")"; exit 0; }

# the batch: ECHO_BATCH (1,024) message pointers and struct iovecs
BATCH=$((1024 * (8 + 16)))
timeout 60 env LD_PRELOAD="$TMP/probe.so" PROBE_SIZE=$BATCH PROBE_OUT="$TMP/probe.out" \
    python3 - "$GTCAT" "$TMP/probe.out" <<'PY'
import re, socket, struct, subprocess, sys, time

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
    want, got = n * len(frame), 0
    c.settimeout(10)
    while got < want:
        b = c.recv(65536)
        if not b:
            raise RuntimeError("connection closed before the echoes")
        got += len(b)

p = subprocess.Popen([GTCAT, "listen", "0", "--packet", "4", "--echo"],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
cs = []
try:
    m = re.match(r"listening on (\d+)", p.stdout.readline())
    if not m:
        raise RuntimeError("no 'listening on PORT' line")
    port = int(m.group(1))
    for _ in range(CONNS):
        cs.append(socket.create_connection(("127.0.0.1", port), timeout=5))
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
    print("ok interop/echo_batch (%d batches made, none kept while idle)" % peak)
except Exception as e:
    print("FAIL interop/echo_batch: %s" % e)
finally:
    for c in cs:
        c.close()
    p.kill()
    p.wait()
PY
rc=$?
[ $rc -eq 0 ] || fail $NAME "the python check exited $rc (124 = timeout)"
