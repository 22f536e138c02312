"""What the python checks of tests/interop share: a gtcat server they start
and always end, and the one line each prints (ok/FAIL NAME ...), which
common.bash's callers count.  Imported with PYTHONPATH set to this folder."""
import re, socket, subprocess


class Gtcat:
    """`gtcat listen 0 ARGS...` as a context manager: the port from its first
    line, the connections made through it closed and the server killed (if it
    still runs) and reaped on the way out, whatever happened."""

    def __init__(self, gtcat, *args):
        self.proc = subprocess.Popen([gtcat, "listen", "0", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.conns = []
        m = re.match(r"listening on (\d+)", self.proc.stdout.readline())
        if not m:
            self.__exit__()
            raise RuntimeError("no 'listening on PORT' line")
        self.port = int(m.group(1))

    def connect(self, timeout=10):
        c = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        self.conns.append(c)
        return c

    def close_all(self):
        for c in self.conns:
            c.close()
        self.conns = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close_all()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def rss_kb(pid):
    """The resident set of process pid, in kB (its VmRSS)."""
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def recv_exactly(c, n):
    """n bytes from c, or an error if the peer closes first."""
    got = b""
    while len(got) < n:
        b = c.recv(min(65536, n - len(got)))
        if not b:
            raise RuntimeError("connection closed after %d of %d bytes" % (len(got), n))
        got += b
    return got


def check(name, body):
    """Runs body(); prints `ok NAME DETAIL` with what it returns, or
    `FAIL NAME: why` for any exception."""
    try:
        print("ok %s%s" % (name, body() or ""))
    except Exception as e:
        print("FAIL %s: %s" % (name, e))
