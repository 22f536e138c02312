#!/usr/bin/env bash
# A graceful stop (issue 10, item 8): `gtcat listen 0 --packet 4 --echo`
# with 10 clients in the middle of pipelined echoes gets SIGTERM (and
# SIGINT).  It must exit 0 within a few seconds, and every packet it says it
# echoed must reach its client, whole, before a clean end of stream (no
# reset, no torn frame): nothing it had received and answered is lost.  In
# the active modes (the default, --hibernate, --active once); passive
# connections end at once (documented in gtcat(1)) and are not checked here.
. "$(dirname "$0")/common.bash"
if [ ! -x "$GTCAT" ]; then skip interop/graceful "gtcat not built ($GTCAT)"; exit 0; fi
command -v python3 >/dev/null || { skip interop/graceful "python3 not installed"; exit 0; }

timeout 120 python3 - "$GTCAT" <<'PY'
import re, signal, socket, struct, subprocess, sys, threading, time

GTCAT = sys.argv[1]
CLIENTS, PACKETS, SIZE = 10, 200000, 100
CHUNK, WINDOW = 100, 40  # 400 KB in flight per client

def run(name, args, sig):
    p = subprocess.Popen([GTCAT, "listen", "0", "--packet", "4", "--echo"] + args,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = int(re.match(r"listening on (\d+)", p.stdout.readline()).group(1))
        got, bad = [0] * CLIENTS, [None] * CLIENTS
        echoing = threading.Barrier(CLIENTS + 1)  # every client has its first echo

        def client(i):
            c = socket.create_connection(("127.0.0.1", port))
            body = bytes([65 + i]) * SIZE
            frame = struct.pack(">I", SIZE) + body
            # at most WINDOW chunks of CHUNK frames ahead of the echoes: a
            # stop must first bring the client what is in flight, and with
            # the whole 20 MB sent at once that was up to 4 MB in the kernel
            # send queue of each gtcat socket (ss), which a Python client on
            # a loaded box could not read within the stop's 5 s (exit 1,
            # "some peers did not close in time")
            ahead = threading.Semaphore(WINDOW)

            def send():
                try:
                    for _ in range(PACKETS // CHUNK):
                        if not ahead.acquire(timeout=20):
                            return
                        c.sendall(frame * CHUNK)
                except OSError:
                    pass  # the server closed while we were still sending

            threading.Thread(target=send, daemon=True).start()
            buf, n = b"", 0
            c.settimeout(20)
            first = True
            while True:
                if first and n > 0:
                    first = False
                    echoing.wait()
                try:
                    d = c.recv(65536)
                except OSError as e:
                    bad[i] = "recv: %s after %d echoes" % (e, n)
                    break
                if not d:
                    break
                buf += d
                while len(buf) >= 4 + SIZE:
                    if buf[:4 + SIZE] != frame:
                        bad[i] = "a frame that is not ours"
                    buf, n = buf[4 + SIZE:], n + 1
                    if n % CHUNK == 0:
                        ahead.release()
            if first:
                echoing.abort()  # never got an echo: do not hold the others
            if buf and not bad[i]:
                bad[i] = "%d bytes of a torn frame at the end" % len(buf)
            got[i] = n
            c.close()

        ts = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
        for t in ts:
            t.start()
        echoing.wait(20)  # all ten are in the middle of their echoes
        t0 = time.time()
        p.send_signal(sig)
        rc = p.wait(timeout=30)
        dt = time.time() - t0
        for t in ts:
            t.join(30)
        err = p.stderr.read()
        m = re.search(r"(\d+) packets echoed", err)
        said = int(m.group(1)) if m else -1
        problems = []
        if rc != 0:
            problems.append("exit %d" % rc)
        if dt > 5:
            problems.append("took %.1f s" % dt)
        if said != sum(got):
            problems.append("gtcat says %d echoed, the clients got %d" % (said, sum(got)))
        problems += ["client %d: %s" % (i, b) for i, b in enumerate(bad) if b]
        if problems:
            print("FAIL interop/graceful_%s: %s; stderr: %s" % (name, "; ".join(problems), err.strip()[-300:].replace("\n", " | ")))
        else:
            print("ok interop/graceful_%s (%d echoes, stopped in %.2f s)" % (name, said, dt))
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()

run("sigterm_active", [], signal.SIGTERM)
run("sigint_active", [], signal.SIGINT)
run("sigterm_hibernate", ["--hibernate"], signal.SIGTERM)
run("sigterm_active_once", ["--active", "once"], signal.SIGTERM)
PY
