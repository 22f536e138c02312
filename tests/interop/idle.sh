#!/usr/bin/env bash
# Idle means idle, for gtcat (issue 7): once the schedulers' spin window has
# passed, `gtcat listen` uses (almost) no CPU -- after echoing a packet,
# with --hibernate after the echo woke the connection process, in passive
# mode, and at the fd limit (accept fails with emfile and gtcat retries
# every 100 ms with gt_sleep on its main thread).  CPU is read from
# /proc/PID/stat over 1 s; more than 5 ticks (5% of a core) fails.
. "$(dirname "$0")/common.bash"
if [ ! -x "$GTCAT" ]; then skip interop/idle "gtcat not built ($GTCAT)"; exit 0; fi
command -v python3 >/dev/null || { skip interop/idle "python3 not installed"; exit 0; }

timeout 60 python3 - "$GTCAT" <<'PY'
import re, resource, socket, struct, subprocess, sys, time

GTCAT = sys.argv[1]
HZ = 100  # USER_HZ: /proc/PID/stat counts CPU time in 1/100 s

def ticks(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])

def start(args, nofile=None):
    def limit():
        if nofile:
            soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, hard))
    p = subprocess.Popen([GTCAT, "listen", "0"] + args, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, preexec_fn=limit)
    line = p.stdout.readline()
    m = re.match(r"listening on (\d+)", line)
    if not m:
        p.kill(); p.wait()
        raise RuntimeError("no 'listening on PORT' line: %r" % line)
    return p, int(m.group(1))

def echo(c, payload, framed):
    c.sendall(struct.pack(">I", len(payload)) + payload if framed else payload)
    want = len(payload) + (4 if framed else 0)
    got = b""
    c.settimeout(5)
    while len(got) < want:
        b = c.recv(want - len(got))
        if not b:
            raise RuntimeError("connection closed before the echo")
        got += b

def measure(p):
    time.sleep(0.5)  # far past the spin window
    t = ticks(p.pid)
    time.sleep(1.0)
    return ticks(p.pid) - t

def case(name, args, framed=True, nofile=None, conns=1):
    p = None
    cs = []
    try:
        p, port = start(args, nofile)
        for _ in range(conns):
            cs.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        time.sleep(0.3)
        if nofile:
            # the connections beyond the limit wait in the backlog; gtcat
            # must be retrying, not serving them
            time.sleep(0.5)
        else:
            echo(cs[0], b"hello", framed)
        busy = measure(p)
        if busy > 5:
            print("FAIL interop/idle/%s: gtcat listen %s used %d%% of a core while idle"
                  % (name, " ".join(args), busy * 100 // HZ))
        else:
            print("ok interop/idle/%s" % name)
    except Exception as e:
        print("FAIL interop/idle/%s: %s" % (name, e))
    finally:
        for c in cs:
            c.close()
        if p:
            p.kill()
            err = p.communicate()[1]
            if nofile and "system_limit" not in err and "emfile" not in err:
                print("FAIL interop/idle/%s-reached: gtcat never hit the fd limit: %r"
                      % (name, err[:200]))
    sys.stdout.flush()

case("echo", ["--packet", "4", "--echo"])
case("echo-hibernate", ["--packet", "4", "--echo", "--hibernate"])
case("echo-passive", ["--packet", "4", "--active", "false", "--echo"])
case("fd-limit", ["--echo"], nofile=48, conns=64)
PY
rc=$?
[ $rc -eq 0 ] || fail interop/idle "the python check exited $rc (124 = timeout)"
