#!/usr/bin/env bash
# Addresses beyond host and port (issue 9 items 3-5) between gtcat and a
# real Erlang node: an Erlang {local, Path} client against
# `gtcat listen local:PATH --echo` (a path and an abstract name, both
# backends), gtcat connecting to an Erlang {ifaddr, {local, Path}} listener,
# a listen socket handed to `gtcat listen --fd 3` by a launcher (systemd
# socket activation), and the socket list gtcat prints at SIGUSR1.
. "$(dirname "$0")/common.bash"
need_gtcat interop/local
command -v python3 >/dev/null || { skip interop/local "python3 not installed"; exit 0; }
LPEER=$HERE/local_peer.escript
lpeer() { timeout 60 escript "$LPEER" "$@"; }

# start_local NAME ADDR ARGS...: gtcat listen ADDR ARGS... in the background,
# waiting (10 s) for "listening on local:...".  Sets BGPID, BGOUT, BGERR.
start_local() {
    local name=$1 addr=$2 i; shift 2
    BGOUT=$TMP/$name.out BGERR=$TMP/$name.err
    "$GTCAT" listen "$addr" "$@" </dev/null >"$BGOUT" 2>"$BGERR" &
    BGPID=$!
    PIDS+=("$BGPID")
    for i in $(seq 100); do
        grep -q '^listening on local:' "$BGOUT" && return 0
        kill -0 "$BGPID" 2>/dev/null || break
        sleep 0.1
    done
    return 1
}

# Erlang connects to gtcat's local echo server.
for backend in inet socket; do
    for kind in path abstract; do
        t=interop/local/erlang-connects-to-gtcat-$kind-$backend
        if [ $kind = path ]; then addr=$TMP/echo-$backend.sock; else addr=@gt-interop-$$-$backend; fi
        if ! start_local "echo-$kind-$backend" "local:$addr" --echo --backend $backend; then
            fail $t "gtcat did not start: $(head -3 "$BGERR" | tr '\n' ' ')"
            continue
        fi
        want="listening on local:$addr"
        out=$(lpeer connect "$addr" "hello over local")
        if [ "$(head -1 "$BGOUT")" != "$want" ]; then
            fail $t "gtcat said '$(head -1 "$BGOUT")', want '$want'"
        elif ! grep -qx ok <<<"$out"; then
            fail $t "$(tr '\n' ' ' <<<"$out")"
        elif ! grep -qxF "peername=local:$addr" <<<"$out"; then
            fail $t "Erlang's peername: $(grep peername <<<"$out")"
        else
            ok $t
        fi
        stop_bg "$BGPID"
    done
done

# gtcat connects to an Erlang {local, Path} listener (a path and an abstract name).
for kind in path abstract; do
    t=interop/local/gtcat-connects-to-erlang-$kind
    if [ $kind = path ]; then addr=$TMP/erl.sock; else addr=@gt-interop-erl-$$; fi
    lpeer listen "$addr" >"$TMP/erl-$kind.out" 2>&1 &
    epid=$!
    PIDS+=("$epid")
    for i in $(seq 100); do grep -q listening "$TMP/erl-$kind.out" && break; sleep 0.1; done
    got=$(printf 'hello from gtcat\n' | timeout 20 "$GTCAT" connect "local:$addr" 2>"$TMP/c-$kind.err")
    rc=$?
    wait_bg "$epid" 15
    if [ $rc -ne 0 ]; then
        fail $t "gtcat exited $rc: $(head -3 "$TMP/c-$kind.err" | tr '\n' ' ')"
    elif [ "$got" != "erlang got: hello from gtcat" ]; then
        fail $t "gtcat printed '$got'"
    elif ! grep -qx ok "$TMP/erl-$kind.out"; then
        fail $t "Erlang: $(tr '\n' ' ' <"$TMP/erl-$kind.out")"
    else
        ok $t
    fi
done

# A listen socket passed as fd 3 (socket activation) serves; SIGUSR1 lists
# the sockets on stderr while a client is connected.
timeout 60 python3 - "$GTCAT" <<'PY'
import os, re, signal, socket, subprocess, sys, time

GTCAT = sys.argv[1]
T = "interop/local/listen-fd-3-serves"
T2 = "interop/local/sigusr1-lists-sockets"

ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.bind(("127.0.0.1", 0))
ls.listen(8)
port = ls.getsockname()[1]
def as_fd3():
    os.dup2(ls.fileno(), 3)
p = subprocess.Popen([GTCAT, "listen", "--fd", "3", "--echo"], stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE, text=True, preexec_fn=as_fd3, pass_fds=(ls.fileno(),))
ls.close()  # gtcat holds the only listening descriptor now (its fd 3)
try:
    line = p.stdout.readline().strip()
    c = socket.create_connection(("127.0.0.1", port), timeout=10)
    c.sendall(b"through fd 3")
    got = b""
    while len(got) < 12:
        b = c.recv(64)
        if not b:
            break
        got += b
    if line != "listening on %d" % port:
        print("FAIL %s: gtcat said %r, want 'listening on %d'" % (T, line, port))
    elif got != b"through fd 3":
        print("FAIL %s: echo %r" % (T, got))
    else:
        print("ok " + T)
    # the list: the listen socket and the connection with its 12 bytes each way
    os.kill(p.pid, signal.SIGUSR1)
    err, deadline = "", time.time() + 10
    os.set_blocking(p.stderr.fileno(), False)
    while time.time() < deadline and "CONNECTED" not in err:
        time.sleep(0.05)
        err += p.stderr.read() or ""
    conn = [l for l in err.splitlines() if "CONNECTED" in l]
    lst = [l for l in err.splitlines() if "LISTEN" in l and "127.0.0.1:%d" % port in l]
    if not conn or not lst:
        print("FAIL %s: no LISTEN and CONNECTED lines in %r" % (T2, err[:400]))
    elif not re.search(r"inet\s+12\s+12\s", conn[0]):
        print("FAIL %s: counters in %r" % (T2, conn[0]))
    elif "127.0.0.1:%d" % c.getsockname()[1] not in conn[0]:
        print("FAIL %s: the peer address not in %r" % (T2, conn[0]))
    else:
        print("ok " + T2)
    c.close()
finally:
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
PY
