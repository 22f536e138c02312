#!/usr/bin/env python3
"""bench/report.py -- docs/PERFORMANCE.md from a bench/peers.sh run.

    python3 bench/report.py [bench/results/peers-STAMP.csv]   (default: newest)

Reads the CSV and its .meta, writes docs/PERFORMANCE.md (tables: median of the
rounds, [min-max], server CPU per operation beside every rate) and one PNG per
workload under docs/perf/ (python3-matplotlib; without it, tables only).
Nothing is hard-coded but the workload descriptions and what limits them.
"""
import csv
import glob
import os
import statistics
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "PERFORMANCE.md")
PLOTS = os.path.join(ROOT, "docs", "perf")

# workload: (title, what the headline figure is, higher is better, what limits it)
WORKLOADS = {
    "pingpong": (
        "pingpong: one connection, one 64 B request in flight",
        "round trips/s", True,
        "Waking a sleeping vCPU for every message (≈50 µs here, docs/spec/PERF-BASELINES.md); a server "
        "that spins (the Erlang schedulers' busy-wait) trades CPU for latency, which is why its CPU per "
        "round trip is beside it. The client is one thread blocked in epoll_wait."),
    "rr1k": (
        "rr1k (issue 11 a): many connections, one 64 B request in flight on each",
        "round trips/s", True,
        "The client is a single epoll thread on the same 2 vCPUs, so above ≈1 vCPU of server work the "
        "client and the server share the machine; RTT percentiles include the client's own queueing "
        "over all connections. CPU per message is the most comparable column."),
    "accept": (
        "accept (issue 11 b): 50 connectors, each looping connect + one 64 B echo + close",
        "conns/s", True,
        "Kernel connection setup/teardown on loopback dominates (SYN, accept, FIN, TIME_WAIT on the "
        "client); the client closes first, so its ephemeral ports recycle through tcp_tw_reuse. "
        "Server CPU per connection includes accept, the per-connection task/process and its exit."),
    "stream": (
        "stream: one connection, 100 B frames, one write() per frame, echoed",
        "echoed msgs/s", True,
        "The client's one write() per frame (a syscall per message) is usually the ceiling; it shows "
        "the server's cost per small read more than its throughput. A read costs a server ~20 us of CPU "
        "here whichever it is (read, echo write with the loopback delivery to the client, epoll), so "
        "CPU per message is that over the 8-30 frames a read finds, set by how soon the server comes "
        "back to the socket: every server has rounds at 2-3x its usual CPU per message and 0.5-0.7x "
        "its rate (issue 11, echo6). Differs from bench/run.sh's stream "
        "(count-and-ack protocol): here every frame is echoed."),
    "echo": (
        "echo: one connection, 100 B frames, 64 per write(), echoed",
        "echoed msgs/s", True,
        "Framing and copying in the server: big reads carry many frames. The client's receiver "
        "checks every header byte and can be the limit for the fastest servers; on a loaded "
        "machine the three busy threads share the cores and the rate follows the server's CPU "
        "per message."),
    "bulk": (
        "bulk (issue 11 c): one connection, 64 KiB frames echoed (aux = MB/s of frames, 10^6 B)",
        "echoed msgs/s", True,
        "Memory bandwidth and loopback copies (each byte is copied four times by the kernel and at "
        "least once by the server); servers that read into small buffers pay more syscalls per frame."),
    "idle": (
        "idle (issue 11 d; bench/run.sh's conns): connections opened one by one, one echo each, then held idle",
        "server VmRSS B/conn", False,
        "VmRSS grows in 4 KiB pages and allocators keep freed memory, so small deltas are noise; "
        "kernel socket memory is the same for all and not counted. A process/task/goroutine per "
        "connection is what is measured (aux = setup conns/s; CPU per op = per connection set up)."),
    "burst": (
        "burst (issue 11 e): connections opened all at once (non-blocking connects back to back), one echo each",
        "conns/s", True,
        "The listen queue: a SYN that finds it full is dropped and retried after 1 s, so one overflow "
        "costs a second. aux = TcpExtListenOverflows delta of the whole network namespace (other "
        "programs on loopback count too). Backlogs: 4096 everywhere (net.core.somaxconn caps gtcat's "
        "65535, tools/gtcat/listen.c). The client issues every connect before it reads any echo, so "
        "p50/p99 (connect to echo) mostly measure how long the burst itself took to issue."),
}

CONTENDERS = {
    "gentcp": "build/gtcat listen 0 --packet 4 --echo: a gentcp process per connection, {active,true}",
    "gentcp-hib": "the same with --hibernate (the process hibernates after each packet)",
    "rawc": "bench/rawc.c echo-server: plain C, one epoll thread, level-triggered",
    "epoll-1t": "bench/peers/epoll: plain C, edge-triggered epoll, one thread",
    "epoll-2t": "the same with two threads, each its own SO_REUSEPORT listener and epoll set",
    "libuv-1loop": "bench/peers/libuv: one uv_loop",
    "libuv-Nloop": "the same with one loop per CPU, SO_REUSEPORT listeners",
    "go": "bench/peers/go: a goroutine per connection, stdlib net + bufio (GOMAXPROCS = CPUs)",
    "tokio": "bench/peers/tokio: a task per connection, multi-threaded runtime (a worker per CPU)",
    "inet": "bench/erl_peer.escript echo_server: an Erlang process per connection, gen_tcp inet backend, {active,once}",
    "socket": "the same with the socket backend",
    "inet-hib": "inet with erlang:hibernate/3 after each packet",
}


def newest_csv():
    files = sorted(glob.glob(os.path.join(ROOT, "bench", "results", "peers-*.csv")))
    if not files:
        sys.exit("report: no bench/results/peers-*.csv; run bash bench/peers.sh first")
    return files[-1]


def read_meta(path):
    meta, notes = {}, []
    if os.path.exists(path):
        for line in open(path, encoding="utf-8"):
            k, _, v = line.rstrip("\n").partition("=")
            if k == "note":
                notes.append(v)
            else:
                meta[k] = v
    return meta, notes


def num(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


def fmt(x):
    if x is None:
        return "n/a"
    if float(x).is_integer():
        return f"{x:,.0f}"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def summary(rows, key):
    vals = [v for v in (num(r[key]) for r in rows) if v is not None]
    if not vals:
        return None, ""
    med = statistics.median(vals)
    rng = f" [{fmt(min(vals))}–{fmt(max(vals))}]" if len(vals) > 1 else ""
    return med, rng


def is_peer(c):
    """The servers issue 11 measures gentcp against: not gentcp itself, and
    not rawc (the project's own plain-C baseline of bench/run.sh)."""
    return not c.startswith("gentcp") and c != "rawc"


def median_of(rows, contender, key):
    return summary([r for r in rows if r["contender"] == contender], key)[0]


def against_peers(rows):
    """Issue 11's measure, computed from the run: gentcp's median against the
    best peer's median, and the same ratio round by round."""
    ok = [r for r in rows if r["status"] == "ok"]
    out = ["| workload | gentcp | best peer | gentcp / best | by round | gentcp CPU µs/op | lowest peer CPU µs/op |",
           "|---|---:|---|---:|---|---:|---|"]
    for w in ("rr1k", "accept", "bulk", "echo", "stream", "pingpong"):
        wr = [r for r in ok if r["workload"] == w]
        peers = sorted({r["contender"] for r in wr if is_peer(r["contender"])})
        g = median_of(wr, "gentcp", "rate")
        if g is None or not peers:
            continue
        rate = {c: median_of(wr, c, "rate") for c in peers}
        best = max(peers, key=lambda c: rate[c])
        by_round = []
        for rd in sorted({r["round"] for r in wr}, key=int):
            rr = [r for r in wr if r["round"] == rd]
            gr = [num(r["rate"]) for r in rr if r["contender"] == "gentcp"]
            pr = [num(r["rate"]) for r in rr if is_peer(r["contender"])]
            if gr and pr:
                by_round.append(f"{gr[0] / max(pr):.2f}")
        cpu = {c: median_of(wr, c, "server_cpu_us_per_op") for c in peers}
        cpu = {c: v for c, v in cpu.items() if v is not None}
        low = min(cpu, key=lambda c: cpu[c]) if cpu else None
        out.append(f"| {w} | {fmt(g)} | {best} {fmt(rate[best])} | {g / rate[best]:.3f}x | "
                   f"{' / '.join(by_round)} | {fmt(median_of(wr, 'gentcp', 'server_cpu_us_per_op'))} | "
                   + (f"{low} {fmt(cpu[low])} |" if low else "n/a |"))
        if w == "pingpong":
            p50 = {c: median_of(wr, c, "p50_us") for c in peers}
            p50 = {c: v for c, v in p50.items() if v is not None}
            gp = median_of(wr, "gentcp", "p50_us")
            if p50 and gp:
                lowp = min(p50, key=lambda c: p50[c])
                out.append(f"| pingpong p50 µs ↓ | {fmt(gp)} | {lowp} {fmt(p50[lowp])} | {gp / p50[lowp]:.3f}x | | | |")
    idle = [r for r in ok if r["workload"] == "idle"]
    for c, against in (("gentcp", "inet"), ("gentcp-hib", None)):
        g = median_of(idle, c, "rate")
        if g is None:
            continue
        if against and median_of(idle, against, "rate") is not None:
            e = median_of(idle, against, "rate")
            out.append(f"| idle B/conn ↓ ({c}) | {fmt(g)} | {against} {fmt(e)} | {g / e:.3f}x | | | |")
        elif not against:
            out.append(f"| idle B/conn ↓ ({c}) | {fmt(g)} | the issue's bound 512 | {g / 512:.3f}x | | | |")
    burst = [num(r["aux"]) for r in ok if r["workload"] == "burst" and r["contender"] == "gentcp"]
    if burst:
        out.append(f"| burst: listen-queue overflows (gentcp) | {' / '.join(fmt(b) for b in burst)} by round | | | | | |")
    return out


def plot(w, title, unit, stats, path, label):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    names = [c for c, s in stats if s["rate"] is not None]
    if not names:
        return False
    val = {c: s for c, s in stats}
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 0.45 * len(names) + 1.6), sharey=True)
    y = range(len(names))
    colors = ["#d62728" if c.startswith("gentcp") else "#1f77b4" for c in names]
    a1.barh(y, [val[c]["rate"] for c in names], color=colors)
    a1.set_yticks(list(y))
    a1.set_yticklabels(names)
    a1.invert_yaxis()
    a1.set_xlabel(unit + (" (higher is better)" if WORKLOADS[w][2] else " (lower is better)"))
    cpu = [val[c]["cpu"] or 0 for c in names]
    a2.barh(y, cpu, color=colors)
    a2.set_xlabel("server CPU µs per op (lower is better)")
    for ax, vs in ((a1, [val[c]["rate"] for c in names]), (a2, cpu)):
        for i, v in enumerate(vs):
            ax.text(v, i, " " + fmt(v), va="center", fontsize=8)
        ax.margins(x=0.25)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(title, fontsize=10)
    if label:  # a plot seen out of context still says what it is
        fig.text(0.5, 0.005, label, ha="center", va="bottom", fontsize=8, color="#b00000")
    fig.tight_layout(rect=(0, 0.04 if label else 0, 1, 1))
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return True


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else newest_csv()
    meta, notes = read_meta(src[:-4] + ".meta")
    rows = list(csv.DictReader(open(src, encoding="utf-8")))
    known = list(CONTENDERS)
    order = sorted({r["contender"] for r in rows},
                   key=lambda c: (known.index(c) if c in known else len(known), c))
    wls = [w for w in WORKLOADS if any(r["workload"] == w for r in rows)]
    os.makedirs(PLOTS, exist_ok=True)
    out = []
    p = out.append
    p("# Performance: gentcp beside its peers")
    p("")
    p("<!-- generated by `bash bench/report.sh` from " + os.path.relpath(src, ROOT) + "; do not edit -->")
    p("")
    if meta.get("label"):
        p(f"> **{meta['label']}.** The figures below come from that run and say only that every")
        p("> contender builds, serves and is measured by the harness; do not quote them.")
        p("")
    p("Every contender is a `{packet,4}` echo server (docs/spec/PERF-BASELINES.md's framing: 4-byte "
      "big-endian length, then the payload, echoed unchanged) driven by the same C load generator "
      "(bench/load.c) over IPv4 loopback. All contenders alternate in one run: in each round every "
      "workload runs every contender once, against a freshly started server, in an order rotated "
      "by one per round. Each cell is the median of the rounds, [min–max] when there are several. "
      "Server CPU per operation is the server's utime+stime (/proc/PID/stat, all its threads, a "
      "spinning scheduler included) over the measured window divided by the operations in it.")
    p("")
    p("Reproduce: `bash bench/deps.sh` (as root, once), then `make bench` (bench/run.sh, then "
      "bench/peers.sh, then bench/report.sh), or `bash bench/peers.sh && bash bench/report.sh` "
      "for this page alone. `QUICK=1` is a smoke run; `REPS`, `PEER_WORKLOADS`, `CONTENDERS` select.")
    p("")
    p("## Machine and run")
    p("")
    for k, label in (("date", "date"), ("command", "command"), ("duration_s", "duration (s)"),
                     ("nproc", "vCPUs (nproc)"), ("cpu", "CPU model"), ("kernel", "kernel"),
                     ("mem", "memory"), ("loadavg", "load average"), ("limits", "kernel limits"),
                     ("sizes", "sizes"), ("otp", "Erlang/OTP"), ("go", "Go"), ("rustc", "Rust / tokio"),
                     ("libuv", "libuv"), ("cc", "C compiler"), ("gentcp", "gentcp commit")):
        if meta.get(k):
            p(f"- {label}: {meta[k]}")
    p("")
    p("## gentcp against the best peer")
    p("")
    p("Issue 11's measure, computed from this run: medians over the rounds, and the same ratio round by "
      "round (gentcp's figure over the best peer's of that round). The peers are every contender but "
      "gentcp's own and rawc; CPU is the server's per operation. For pingpong's p50 and idle's bytes "
      "lower is better.")
    p("")
    for line in against_peers(rows):
        p(line)
    p("")
    p("## Contenders")
    p("")
    p("| contender | what it is | status in this run |")
    p("|---|---|---|")
    for c in order:
        rs = [r for r in rows if r["contender"] == c]
        bad = [r for r in rs if r["status"] != "ok"]
        st = "ok" if not bad else "; ".join(sorted({f"{r['workload']}: {r['status']} ({r['note']})" for r in bad}))
        if bad and len(bad) == len(rs) and len({r["note"] for r in bad}) == 1:
            st = f"{bad[0]['status']}: {bad[0]['note']}"
        p(f"| {c} | {CONTENDERS.get(c, '')} | {st} |")
    p("")
    for w in wls:
        title, unit, higher, limits = WORKLOADS[w]
        wr = [r for r in rows if r["workload"] == w]
        p(f"## {title}")
        p("")
        aux_unit = next((r["aux_unit"] for r in wr if r["aux_unit"]), "")
        hdr = f"| contender | {unit} {'↑' if higher else '↓'} | server CPU µs/op ↓ |"
        lat = any(num(r["p50_us"]) is not None for r in wr)
        if lat:
            hdr += " p50 µs ↓ | p99 µs ↓ |"
        if aux_unit:
            hdr += f" {aux_unit} |"
        hdr += " rounds |"
        p(hdr)
        p("|---" + "|---:" * (hdr.count("|") - 2) + "|")
        stats = []
        for c in order:
            rs = [r for r in wr if r["contender"] == c]
            if not rs:
                continue
            ok = [r for r in rs if r["status"] == "ok"]
            rate, rr = summary(ok, "rate")
            cpu, cr = summary(ok, "server_cpu_us_per_op")
            stats.append((c, {"rate": rate, "cpu": cpu}))
            line = f"| {c} | {fmt(rate)}{rr} | {fmt(cpu)}{cr} |"
            if lat:
                a, ar = summary(ok, "p50_us")
                b, br = summary(ok, "p99_us")
                line += f" {fmt(a)}{ar} | {fmt(b)}{br} |"
            if aux_unit:
                a, ar = summary(ok, "aux")
                line += f" {fmt(a)}{ar} |"
            line += f" {len(ok)}/{len(rs)} |"
            p(line)
        p("")
        png = os.path.join(PLOTS, f"{w}.png")
        if plot(w, title, unit, stats, png, meta.get("label", "")):
            p(f"![{w}](perf/{w}.png)")
            p("")
        p(f"*What limits it:* {limits}")
        p("")
    p("## What limits every figure")
    p("")
    p(f"- **The machine.** {meta.get('nproc', '?')} vCPUs run the load generator, the server and "
      "everything else on the box; a server that uses both vCPUs takes them from the client. The "
      f"load average ({meta.get('loadavg', '?')}) says how much else ran.")
    tck = meta.get("limits", "").partition("clk_tck=")[2] or "100"
    p(f"- **CPU accounting.** utime+stime come in clock ticks (1/{tck} s), so each window's server CPU is "
      f"rounded to {1000 / float(tck):g} ms steps (coarse for QUICK=1's short windows). CPU per op includes "
      "everything the server process did in the window: its own spinning, garbage collection, timers.")
    p("- **One client.** The load generator is single-threaded C (bench/load.c; pipe workloads add a "
      "sender thread); for the fastest servers it is the ceiling, not the server.")
    p("- **Loopback.** No NIC, no interrupts, no latency: every figure is CPU and kernel cost only.")
    p("- **Fairness of the peers.** Every server echoes whole frames as they are completed by a read; "
      "none sets TCP_NODELAY (the clients of pingpong/rr1k/accept do); gentcp's gtcat --echo writes each "
      "batch with one gt_send_many (no delay_send), accepts with a pool of acceptor processes that serve "
      "what they accept, and on port 0 listens twice with reuseport, backlog 65535 (capped by somaxconn), "
      "as epoll-2t and libuv-Nloop do (issue 11); its echo sockets have a fixed 4 MiB receive buffer "
      "(recbuf; the kernel doubles it), where every peer keeps the kernel's autotuned one: a pipelining "
      "client that gets ahead otherwise has its sends made by the server's reads (docs/BENCHMARKS.md, "
      "pipelined echo's two regimes; any peer could set it with one setsockopt).")
    p("- **bench/run.sh** (gentcp against rawc and Erlang with the PERF-BASELINES harness: stream with a "
      "count-and-ack, gentcp's own pingpong/stream programs, decode) still writes bench/RESULTS.md; "
      "this page covers the peers.")
    if notes:
        p("")
        p("Notes from the run:")
        p("")
        for n in notes:
            p(f"    {n}")
    p("")
    with open(DOC, "w", encoding="utf-8") as f:
        f.write("\n".join(out))
    print(f"report: wrote {os.path.relpath(DOC, ROOT)} from {os.path.relpath(src, ROOT)}")


if __name__ == "__main__":
    main()
