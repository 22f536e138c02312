#!/usr/bin/env python3
"""chat.py -- examples/chat.c with three clients: two send LINES lines each
while reading, one never reads.  Checks that each fast client receives every
line of the other, in order; that the server's VmRSS stays within BOUND_MB of
where it started (the slow client is disconnected, not buffered for); that
the one that never reads is disconnected; SIGTERM ends the server with exit
status 0.  Prints "ok ..." or "FAIL ...".
Usage: chat.py PATH_TO_CHAT"""
import os, signal, socket, subprocess, sys, threading, time

LINES = 20000
PAD = b"x" * 1000
BOUND_MB = 32  # growth allowed; the slow client alone is sent ~40 MB

def fail(why, proc=None):
    if proc and proc.poll() is None:
        proc.kill()
    print("FAIL examples:chat: " + why)
    sys.exit(1)

def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0

def connect(port, rcvbuf=None):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(("127.0.0.1", port))
    s.settimeout(30)
    f = s.makefile("rb")
    if f.readline() != b"welcome\n":
        raise RuntimeError("no welcome")
    return s, f

def main():
    proc = subprocess.Popen([sys.argv[1], "0", "64"], stdout=subprocess.PIPE)
    first = proc.stdout.readline().decode()
    if not first.startswith("chat: port "):
        fail("no port line: %r" % first, proc)
    port = int(first.split()[2].rstrip(","))
    try:
        a, fa = connect(port)
        b, fb = connect(port)
        slow, _ = connect(port, rcvbuf=4096)
    except (OSError, RuntimeError) as e:
        fail("connect: %s" % e, proc)
    rss0 = rss_kb(proc.pid)
    peak = [rss0]
    done = threading.Event()
    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss_kb(proc.pid))
            time.sleep(0.02)
    def send(sock, name):
        try:
            for i in range(LINES):
                sock.sendall(b"%s %06d %s\n" % (name, i, PAD))
        except OSError as e:
            errors.append("%s send: %s" % (name, e))
    def recv(f, other, got):
        try:
            for i in range(LINES):
                line = f.readline()
                want = b"%s %06d %s\n" % (other, i, PAD)
                if line != want:
                    errors.append("line %d from %s: got %r" % (i, other, line[:30]))
                    return
                got[0] += 1
        except OSError as e:
            errors.append("recv from %s: %s" % (other, e))
    errors, ga, gb = [], [0], [0]
    ts = [threading.Thread(target=sample)]
    ts += [threading.Thread(target=send, args=(a, b"A")), threading.Thread(target=send, args=(b, b"B"))]
    rs = [threading.Thread(target=recv, args=(fa, b"B", ga)), threading.Thread(target=recv, args=(fb, b"A", gb))]
    for t in ts + rs:
        t.start()
    for t in ts[1:] + rs:
        t.join(120)
    done.set()
    ts[0].join()
    if errors:
        fail("; ".join(errors[:3]), proc)
    if ga[0] != LINES or gb[0] != LINES:
        fail("fast clients got %d and %d of %d lines" % (ga[0], gb[0], LINES), proc)
    grown = (peak[0] - rss0) // 1024
    if rss0 == 0 or grown > BOUND_MB:
        fail("VmRSS grew from %d kB by %d MB (bound %d)" % (rss0, grown, BOUND_MB), proc)
    # the slow client was disconnected: after what the kernels hold, its end
    slow.settimeout(20)
    try:
        while slow.recv(1 << 16):
            pass
    except socket.timeout:
        fail("the client that does not read is still connected", proc)
    except OSError:
        pass  # reset: disconnected too
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(20)
    except subprocess.TimeoutExpired:
        fail("no exit 20 s after SIGTERM", proc)
    if rc != 0:
        fail("exit status %d after SIGTERM" % rc)
    for s in (a, b, slow):
        s.close()
    print("ok examples:chat: 2 x %d lines delivered, the non-reader disconnected, VmRSS %d kB -> peak %d kB (+%d MB), exit 0 on SIGTERM"
          % (LINES, rss0, peak[0], grown))

main()
