#!/usr/bin/env bash
# gtcat listen --echo fixes its connections' receive buffer at 4 MiB
# (SO_RCVBUF on the listen socket, which the kernel copies at accept;
# issue 11, echo8): a pipelining peer that got ahead of the server filled
# the autotuned window (~1 MiB) and from then on the server's own reads
# transmitted the peer's queued data, ~40% more server CPU per message for
# the rest of the connection.  Checked from outside, with ss: the server's
# end of an echo connection reports the buffer Linux gives for SO_RCVBUF of
# 4 MiB (doubled, within net.core.rmem_max), and a listen without --echo
# keeps the kernel's own, autotuned one (smaller as it starts).
. "$(dirname "$0")/common.bash"
NAME=interop/echo_window
[ -x "$GTCAT" ] || { skip $NAME "gtcat not built ($GTCAT)"; exit 0; }
command -v python3 >/dev/null || { skip $NAME "python3 not installed"; exit 0; }
command -v ss >/dev/null || { skip $NAME "ss (iproute2) not installed"; exit 0; }
[ -r /proc/sys/net/core/rmem_max ] || { skip $NAME "no net.core.rmem_max to read"; exit 0; }
timeout 60 env PYTHONPATH="$HERE" python3 - "$GTCAT" <<'PY'
import re, subprocess, sys, time
from gtcat_py import Gtcat, check

GTCAT = sys.argv[1]
ASKED = 4 * 1024 * 1024
RMEM_MAX = int(open("/proc/sys/net/core/rmem_max").read())
WANT = 2 * min(ASKED, RMEM_MAX)  # what Linux keeps for SO_RCVBUF = ASKED


def server_rb(g, echo):
    """The receive buffer (skmem rb) of the server's end of one connection."""
    c = g.connect()
    c.sendall(b"\0\0\0\2hi")
    if echo and c.recv(6) == b"":  # the connection is accepted and served
        raise RuntimeError("no echo")
    for _ in range(50):  # ss sees it at once; bounded anyway
        out = subprocess.run(["ss", "-tmnH", "state", "established",
                              "( sport = :%d )" % g.port],
                             capture_output=True, text=True, timeout=10).stdout
        m = re.search(r"\brb(\d+)", out)
        if m:
            return int(m.group(1))
        time.sleep(0.1)
    raise RuntimeError("ss shows no server socket on port %d" % g.port)


def body():
    with Gtcat(GTCAT, "--packet", "4", "--echo") as g:
        echo = server_rb(g, True)
    with Gtcat(GTCAT, "--packet", "4") as g:
        plain = server_rb(g, False)
    msg = "rb %d with --echo (want %d), %d without" % (echo, WANT, plain)
    if echo != WANT:
        raise RuntimeError("echo connection's buffer: " + msg)
    if plain >= echo:
        raise RuntimeError("a listen without --echo fixed it too: " + msg)
    return ": " + msg

check("interop/echo_window", body)
PY
rc=$?
[ $rc -eq 0 ] || fail $NAME "the python check exited $rc (124 = timeout)"
