#!/usr/bin/env bash
# gtcat listen --echo answers every packet of a peer that half-closes
# (shutdown(SHUT_WR)) while the echoes are still backed up.  inet's
# tcp_recv_closed answers a send waiting on the busy queue closed and drops
# the queue when the end of input is read meanwhile, even with
# exit_on_close=false (docs/spec/semantics.md rule 56); gentcp did the same
# until DEVIATIONS row 26: the echo connection lost the queue and the packets
# behind it, the peer saw part of a frame, then a clean FIN (issue 11: 1 bulk
# run in ~10, 1 in ~50 connections of 64 KiB frames).
#
# The condition, forced: {active, 32767} keeps the socket active through
# every echo; the client's receive window is tiny and it reads nothing, and
# its frames come apart (an echo each), so once the kernel's send buffer is
# full the next echo finds its queue over high_watermark and waits; then the
# client's FIN comes.  Every frame must come back, then the end.  (Before
# row 26: 3 of 3 runs FAIL "2990080 of 10486400 bytes echoed before the end".)
. "$(dirname "$0")/common.bash"
NAME=interop/echo_half_close
[ -x "$GTCAT" ] || { skip $NAME "gtcat not built ($GTCAT)"; exit 0; }
command -v python3 >/dev/null || { skip $NAME "python3 not installed"; exit 0; }
timeout 120 env PYTHONPATH="$HERE" python3 - "$GTCAT" <<'PY'
import socket, struct, sys, time
from gtcat_py import Gtcat, check

GTCAT, SIZE, FRAMES = sys.argv[1], 65536, 160  # 10 MiB: more than the kernel holds

def body():
    with Gtcat(GTCAT, "--packet", "4", "--echo", "--active", "32767") as g:
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        g.conns.append(c)
        # before the connect: the window offered in the handshake
        c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        c.settimeout(20)
        c.connect(("127.0.0.1", g.port))
        frame = struct.pack(">I", SIZE) + bytes(range(256)) * (SIZE // 256)
        for _ in range(FRAMES):  # an echo each
            c.sendall(frame)
            time.sleep(0.005)
        c.shutdown(socket.SHUT_WR)
        time.sleep(0.5)  # the server reads the end under its waiting echo
        got = bytearray()
        while True:
            b = c.recv(65536)
            if not b:
                break
            got += b
        want = frame * FRAMES
        if got != want:
            ok = len(got) // len(frame)
            raise RuntimeError("%d of %d bytes echoed before the end (%d whole frames of %d)%s"
                               % (len(got), len(want), ok, FRAMES,
                                  "" if want.startswith(bytes(got)) else ", and they differ"))
        return ": %d frames of %d B echoed in full after the half-close" % (FRAMES, SIZE)

check("interop/echo_half_close", body)
PY
rc=$?
[ $rc -eq 0 ] || fail $NAME "the python check exited $rc (124 = timeout)"
