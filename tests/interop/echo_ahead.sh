#!/usr/bin/env bash
# gtcat listen --echo reads only so far ahead of its echoes, from the first
# packet on (issue 11, var7): its listen sockets were born {active, 1024},
# so a connection of 64 KiB frames whose peer did not keep up read 1024
# frames, 64 MiB, into its mailbox before the first re-arm sized the read-
# ahead by the packets' length -- 16,000-30,000 fresh pages faulted in, in
# most bulk runs, and server VmRSS 70-135 MB.  A client sends 64 KiB frames
# and reads nothing until its sends stall (the kernel's buffers both ways
# full, the server's read-ahead taken); the server's VmRSS must stay within
# BOUND_KB of its start (what it may hold by design: ~1 MiB of frames, its
# output queue, a scratch buffer); then every frame must come back.
. "$(dirname "$0")/common.bash"
NAME=interop/echo_ahead
[ -x "$GTCAT" ] || { skip $NAME "gtcat not built ($GTCAT)"; exit 0; }
command -v python3 >/dev/null || { skip $NAME "python3 not installed"; exit 0; }
[ -r /proc/self/status ] || { skip $NAME "no /proc to read VmRSS from"; exit 0; }
timeout 120 env PYTHONPATH="$HERE" python3 - "$GTCAT" <<'PY'
import os, select, struct, sys, time
from gtcat_py import Gtcat, check, recv_exactly, rss_kb

# an ASan build's quarantine would hold every freed frame (up to 256 MB):
# VmRSS would measure it, not the read-ahead
os.environ["ASAN_OPTIONS"] = os.environ.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=1"

GTCAT, SIZE, BOUND_KB = sys.argv[1], 65536, 8192
MAX_FRAMES = 4096  # 256 MiB: more than any kernel buffers the sends could fill

def body():
    with Gtcat(GTCAT, "--packet", "4", "--echo") as g:
        pid = g.proc.pid
        start = rss_kb(pid)
        c = g.connect()
        frame = struct.pack(">I", SIZE) + bytes(range(256)) * (SIZE // 256)
        c.setblocking(False)
        sent, pos, stalled_since, stalled = 0, 0, None, False
        deadline = time.monotonic() + 30
        # send until the sends stall for 1 s: nothing more is read
        while sent < MAX_FRAMES and time.monotonic() < deadline:
            _, w, _ = select.select([], [c], [], 0.1)
            if not w:
                stalled_since = stalled_since or time.monotonic()
                if time.monotonic() - stalled_since > 1.0:
                    stalled = True
                    break
                continue
            stalled_since = None
            try:
                pos += c.send(frame[pos:])
            except BlockingIOError:
                continue
            if pos == len(frame):
                sent, pos = sent + 1, 0
        if pos:  # finish the frame begun, so that every echo is whole
            c.setblocking(True)
            c.sendall(frame[pos:])
            sent += 1
        held = rss_kb(pid)
        msg = ("%d frames of %d B sent unread; server VmRSS %d kB at start, %d kB then "
               "(+%d kB, bound +%d kB)" % (sent, SIZE, start, held, held - start, BOUND_KB))
        if not stalled:
            raise RuntimeError("the sends never stalled: " + msg)
        if held > start + BOUND_KB:
            raise RuntimeError("read too far ahead: " + msg)
        c.setblocking(True)
        c.settimeout(20)
        for i in range(sent):
            if recv_exactly(c, len(frame)) != frame:
                raise RuntimeError("echo %d differs" % i)
        return ": " + msg

check("interop/echo_ahead", body)
PY
rc=$?
[ $rc -eq 0 ] || fail $NAME "the python check exited $rc (124 = timeout)"
