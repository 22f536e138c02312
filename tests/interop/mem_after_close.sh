#!/usr/bin/env bash
# gtcat listen --echo gives memory back once a burst of connections has
# closed and it is idle (issue 11): after 10,000 connections closed, its
# VmRSS stayed 5-7 MB above its start for ever (glibc's arena kept the
# freed chunks' pages, the stack caches their touched pages).  N
# connections each echo one frame, all close, and the server's VmRSS must
# come back within BOUND_KB of its start (generous: what stays by design is
# the handle tables' high-water segments, ~80 B per connection, and one
# slab of stacks per scheduler); printed either way.
. "$(dirname "$0")/common.bash"
NAME=interop/mem_after_close
[ -x "$GTCAT" ] || { skip $NAME "gtcat not built ($GTCAT)"; exit 0; }
command -v python3 >/dev/null || { skip $NAME "python3 not installed"; exit 0; }
[ -r /proc/self/status ] || { skip $NAME "no /proc to read VmRSS from"; exit 0; }
gtcat_sanitized && { skip $NAME "gtcat is a sanitizer build: its allocator keeps freed memory by design"; exit 0; }
timeout 120 env PYTHONPATH="$HERE" python3 - "$GTCAT" <<'PY'
import resource, struct, sys, time
from gtcat_py import Gtcat, check, recv_exactly, rss_kb

GTCAT, N, BOUND_KB = sys.argv[1], 4000, 2560

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if hard != resource.RLIM_INFINITY and hard < N + 100:
    print("skip interop/mem_after_close: fd limit %d < %d" % (hard, N + 100)); sys.exit(0)
resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, N + 100), hard))

def body():
    with Gtcat(GTCAT, "--packet", "4", "--echo") as g:
        pid = g.proc.pid
        g.connect()  # warm up
        g.close_all()
        time.sleep(0.5)
        start = rss_kb(pid)
        frame = struct.pack(">I", 16) + b"x" * 16
        for _ in range(N):
            g.connect().sendall(frame)
        for c in g.conns:  # every connection's process is up and has echoed
            recv_exactly(c, len(frame))
        peak = rss_kb(pid)
        g.close_all()
        deadline = time.monotonic() + 20  # generous: the box is loaded
        now = rss_kb(pid)
        while now > start + BOUND_KB and time.monotonic() < deadline:
            time.sleep(0.1)
            now = rss_kb(pid)
        msg = ("VmRSS %d kB at start, %d kB with %d connections, %d kB after they closed "
               "(+%d kB, bound +%d kB)" % (start, peak, N, now, now - start, BOUND_KB))
        if peak - start < 2 * BOUND_KB:
            raise RuntimeError("the connections cost too little to show anything: " + msg)
        if now > start + BOUND_KB:
            raise RuntimeError("still held after 20 s: " + msg)
        return ": " + msg

check("interop/mem_after_close", body)
PY
rc=$?
[ $rc -eq 0 ] || fail $NAME "the python check exited $rc (124 = timeout)"
