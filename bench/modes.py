#!/usr/bin/env python3
"""bench/modes.py -- which regime each round of a pipe workload ran in.

    python3 bench/modes.py [ROUNDS=10] [SECS=2] [WARM=0.5] [PERF=1]
        [WL="pipe size=100 batch=64"] [only=gentcp,epoll-2t]
        [old=PATH/gtcat]            (a contender "gentcp-old" from another build)
        [NAME.cmd="SERVER ARGS..."] (any other contender; list it in only=)

A pipelined echo (bench/peers.sh's `echo`: `load pipe size=100 batch=64`)
runs in one of two regimes, round to round, for every server of the peer
benchmark (issue 11, echo8):

  - the server keeps up: the client's writes go straight into the server's
    receive queue, the client's send queue stays near empty;
  - the server fell behind (a moment without its core is enough): its
    receive window closes, the client's send queue fills to its limit
    (tcp_wmem's 4 MiB here), and from then on each read of the server sends
    the window update over loopback whose processing transmits the client's
    queued data -- in the server's system call, on the server's CPU time.
    The client's writes become cheap copies, so it stays ahead: the regime
    lasts the round.  (gtcat listen --echo fixes its receive buffer at
    4 MiB since, so that its window stays open: docs/BENCHMARKS.md.)

This script records, per round and contender (alternating, a fresh server
each time), what tells the two apart and what the server did, over a 1 s
window inside the load's measured window:

  rate, cpu/op      the load's result line (whole window)
  usr, sys          server user / system CPU per message, us (the window;
                    messages counted from the server's rchar: servers that
                    read with read(2); else from the load's rate)
  rd, snd, ep, fx   server read, send (write/writev/sendto/sendmsg),
                    epoll_wait and futex calls per 1000 messages (perf
                    stat tracepoints; PERF=0 skips them, they cost the
                    server a little)
  busy, cs, mg, pf  the busiest server thread's CPU ms, and all server
                    threads' context switches, migrations, page faults
                    over the window
  srvRQ, cliSQ      medians (KiB) of the server's receive queue and the
                    client's send queue, from ss every 50 ms: cliSQ at its
                    limit is the fallen-behind regime

Needs build/peers/load and build/peers/epoll_echo (bash bench/peers.sh
builds them), build/gtcat, ss (iproute2) and, for PERF=1, perf.  Every
process it starts it ends by pid; every wait is bounded.  It measures and
prints; it judges nothing.
"""
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
B = os.environ.get("B", os.path.join(ROOT, "build"))
ARGS = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
ROUNDS = int(ARGS.get("ROUNDS", 10))
SECS = float(ARGS.get("SECS", 2))
WARM = float(ARGS.get("WARM", 0.5))
PERF = ARGS.get("PERF", "1") == "1"
WL = ARGS.get("WL", "pipe size=100 batch=64").split()
FRAME = 4 + int(dict(w.split("=") for w in WL[1:] if "=" in w).get("size", 100))
WINDOW = 1.0 if SECS > 1.2 else SECS / 2

CONTENDERS = {
    "gentcp": [os.path.join(B, "gtcat"), "listen", "0", "--packet", "4", "--echo"],
    "epoll-1t": [os.path.join(B, "peers", "epoll_echo"), "threads=1"],
    "epoll-2t": [os.path.join(B, "peers", "epoll_echo"), "threads=2"],
}
if "old" in ARGS:
    CONTENDERS["gentcp-old"] = [ARGS["old"], "listen", "0", "--packet", "4", "--echo"]
for k, v in ARGS.items():  # NAME.cmd="server command": one more contender
    if k.endswith(".cmd"):
        CONTENDERS[k[:-4]] = v.split()
ONLY = ARGS.get("only", "gentcp,epoll-2t" + (",gentcp-old" if "old" in ARGS else "")).split(",")
EVENTS = ["task-clock", "context-switches", "cpu-migrations", "page-faults"]
CALLS = {"rd": ["read", "readv", "recvfrom", "recvmsg"],
         "snd": ["write", "writev", "sendto", "sendmsg"],
         "ep": ["epoll_wait", "epoll_pwait"], "fx": ["futex"]}
if PERF:
    EVENTS += ["syscalls:sys_enter_" + c for cs in CALLS.values() for c in cs]


def proc_stat(pid):
    """utime, stime (ticks) of the whole process."""
    with open("/proc/%d/stat" % pid) as fh:
        s = fh.read()
    f = s[s.rindex(")") + 2:].split()
    return int(f[11]), int(f[12])


def rchar(pid):
    with open("/proc/%d/io" % pid) as f:
        for line in f:
            if line.startswith("rchar:"):
                return int(line.split()[1])
    return 0


def start_server(cmd):
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True)
    port = None
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and port is None:
        line = p.stdout.readline()
        m = re.match(r"listening on (\d+)$", line.strip())
        if m:
            port = int(m.group(1))
        elif not line and p.poll() is not None:
            break
    return p, port


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(2)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)


def sample_queues(port, secs, out):
    """Medians (KiB) of the server's Recv-Q and the client's Send-Q."""
    srv, cli = [], []
    end = time.monotonic() + secs
    while time.monotonic() < end:
        r = subprocess.run(["ss", "-tnH", "state", "established",
                            "( sport = :%d or dport = :%d )" % (port, port)],
                           capture_output=True, text=True, timeout=5)
        for line in r.stdout.splitlines():
            f = line.split()
            if len(f) < 4:
                continue
            if f[2].endswith(":%d" % port):
                srv.append(int(f[0]))
            else:
                cli.append(int(f[1]))
        time.sleep(0.05)
    med = lambda a: int(statistics.median(a) / 1024) if a else -1
    out.update(srvRQ=med(srv), cliSQ=med(cli))


def perf_window(pid, secs, out):
    """perf stat on every thread of pid for secs; {thread: {event: n}}."""
    cmd = ["perf", "stat", "--per-thread", "-x,", "-e", ",".join(EVENTS), "-p", str(pid),
           "--", "sleep", str(secs)]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=secs + 30)
    except (OSError, subprocess.TimeoutExpired):
        out["threads"] = {}  # no perf: those columns read 0
        return
    per = {}
    for line in r.stderr.splitlines():
        f = line.split(",")
        if len(f) < 4 or not f[1].replace(".", "", 1).isdigit():
            continue
        per.setdefault(f[0], {})[f[3].replace("syscalls:sys_enter_", "")] = float(f[1])
    out["threads"] = per


def one(name, cmd, rnd):
    p, port = start_server(cmd)
    if port is None:
        stop(p)
        return "%-2d %-10s server did not start" % (rnd, name)
    load = subprocess.Popen([os.path.join(B, "peers", "load")] + WL +
                            ["secs=%g" % SECS, "warm=%g" % WARM, "port=%d" % port,
                             "pid=%d" % p.pid],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(WARM + 0.1)
    q, pf = {}, {}
    threads = [threading.Thread(target=sample_queues, args=(port, WINDOW, q)),
               threading.Thread(target=perf_window, args=(p.pid, WINDOW, pf))]
    try:
        c0, s0 = rchar(p.pid), proc_stat(p.pid)
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(WINDOW + 40)
        c1, s1 = rchar(p.pid), proc_stat(p.pid)
        dt = time.monotonic() - t0
    except OSError:
        c0 = c1 = 0
        s0 = s1 = (0, 0)
        dt = WINDOW
    try:
        lout, lerr = load.communicate(timeout=SECS + WARM + 120)
    except subprocess.TimeoutExpired:
        load.kill()
        lout, lerr = load.communicate()
    stop(p)
    res = dict(kv.split("=", 1) for kv in
               next((l for l in lout.splitlines() if l.startswith("result ")), "").split()[1:]
               if "=" in kv)
    if not res:
        return "%-2d %-10s load failed: %s" % (rnd, name, lerr.strip()[-150:])
    msgs = (c1 - c0) / FRAME if c1 > c0 else float(res["rate"]) * dt
    hz = os.sysconf("SC_CLK_TCK")
    per_k = lambda n: 1000.0 * n / msgs if msgs else 0
    th = pf.get("threads", {})
    tot = lambda ev: sum(v.get(ev, 0) for v in th.values())
    rate = float(res["rate"])
    line = "%-2d %-10s rate=%s cpu/op=%s usr=%.3f sys=%.3f" % (
        rnd, name, "%.2fM" % (rate / 1e6) if rate >= 1e6 else "%.1fk" % (rate / 1e3),
        res.get("cpu_us_per_op", "-"),
        (s1[0] - s0[0]) * 1e6 / hz / msgs if msgs else 0, (s1[1] - s0[1]) * 1e6 / hz / msgs if msgs else 0)
    if PERF:
        line += " |" + "".join(" %s=%.2f" % (k, per_k(sum(tot(c) for c in cs))) for k, cs in CALLS.items()) + " /kmsg"
    busy = max((v.get("task-clock", 0) for v in th.values()), default=0)
    line += " | busy=%.0fms cs=%d mg=%d pf=%d | srvRQ=%dK cliSQ=%dK" % (
        busy, tot("context-switches"), tot("cpu-migrations"), tot("page-faults"),
        q.get("srvRQ", -1), q.get("cliSQ", -1))
    return line


def main():
    names = [n for n in ONLY if n in CONTENDERS]
    missing = [CONTENDERS[n][0] for n in names if not shutil.which(CONTENDERS[n][0])]
    if not os.access(os.path.join(B, "peers", "load"), os.X_OK):
        missing.append(os.path.join(B, "peers", "load"))
    if missing:
        sys.exit("modes.py: not built: %s (make -s all; bash bench/peers.sh builds build/peers)"
                 % " ".join(missing))
    print("# %s secs=%g warm=%g window=%gs rounds=%d; loadavg %s" % (
        " ".join(WL), SECS, WARM, WINDOW, ROUNDS, open("/proc/loadavg").read().split()[0]))
    for r in range(1, ROUNDS + 1):
        for i in range(len(names)):
            n = names[(i + r - 1) % len(names)]  # order rotated by one per round
            print(one(n, CONTENDERS[n], r), flush=True)


if __name__ == "__main__":
    main()
