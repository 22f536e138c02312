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
timeout 120 python3 - "$GTCAT" <<'PY'
import re, resource, socket, struct, subprocess, sys, time

GTCAT, N, BOUND_KB = sys.argv[1], 4000, 2560

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if hard != resource.RLIM_INFINITY and hard < N + 100:
    print("skip interop/mem_after_close: fd limit %d < %d" % (hard, N + 100)); sys.exit(0)
resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, N + 100), hard))

def rss_kb(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")

p = subprocess.Popen([GTCAT, "listen", "0", "--packet", "4", "--echo"],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
cs = []
try:
    m = re.match(r"listening on (\d+)", p.stdout.readline())
    if not m:
        raise RuntimeError("no 'listening on PORT' line")
    port = int(m.group(1))
    c = socket.create_connection(("127.0.0.1", port), timeout=10)  # warm up
    c.close()
    time.sleep(0.5)
    start = rss_kb(p.pid)
    frame = struct.pack(">I", 16) + b"x" * 16
    for _ in range(N):
        c = socket.create_connection(("127.0.0.1", port), timeout=10)
        c.sendall(frame)
        cs.append(c)
    for c in cs:  # every connection's process is up and has echoed
        got = b""
        while len(got) < len(frame):
            b = c.recv(64)
            if not b:
                raise RuntimeError("connection closed before its echo")
            got += b
    peak = rss_kb(p.pid)
    for c in cs:
        c.close()
    cs = []
    deadline = time.monotonic() + 20  # generous: the box is loaded
    now = rss_kb(p.pid)
    while now > start + BOUND_KB and time.monotonic() < deadline:
        time.sleep(0.1)
        now = rss_kb(p.pid)
    msg = ("VmRSS %d kB at start, %d kB with %d connections, %d kB after they closed "
           "(+%d kB, bound +%d kB)" % (start, peak, N, now, now - start, BOUND_KB))
    if peak - start < 2 * BOUND_KB:
        raise RuntimeError("the connections cost too little to show anything: " + msg)
    print(("ok interop/mem_after_close: " if now <= start + BOUND_KB
           else "FAIL interop/mem_after_close: still held after 20 s: ") + msg)
except Exception as e:
    print("FAIL interop/mem_after_close: %s" % e)
finally:
    for c in cs:
        c.close()
    p.kill()
    p.wait()
PY
rc=$?
[ $rc -eq 0 ] || fail $NAME "the python check exited $rc (124 = timeout)"
