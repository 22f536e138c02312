#!/bin/bash
# fork_guard.sh -- every public gentcp function of runtime/, socket/ and
# tls/ checks for a forked child first (issue 10 item 5): its first statement is
# `if (gt__forked())` (or uses gt__forked() in its first lines), so that in
# a child of fork() it fails with GT_EFORKED before taking any lock a
# vanished thread may hold (src/runtime/fork.c).  tls/ too: its calls take
# socket locks, and its contexts share OpenSSL's state (and locks) with the
# parent's schedulers; none.c answers the same in a child.  Functions that
# touch no runtime state are listed in PURE.
#
# Usage: fork_guard.sh [SOURCE-ROOT]   (default: this repository)
set -u
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
# (NAME, or FILE:NAME for one file's definition only)
PURE=" gt_msg_free gt_match_socket gt_reason_name gt_opt_name gt_addr_str gt_exit gt_local_sockaddr "
PURE+=" none.c:gt_tls_last_error "
bad=0
n=0
while IFS=: read -r verdict file name; do
    n=$((n + 1))
    [ "$verdict" = bad ] || continue
    case "$PURE" in *" $name "* | *" ${file##*/}:$name "*) continue;; esac
    echo "FAIL fork_guard: $file: $name does not check gt__forked() first"
    bad=1
done < <(find "$root/src/runtime" "$root/src/socket" "$root/src/tls" -name '*.c' | sort | xargs awk '
    FNR == 1 { want = "" }
    # a definition: starts at column 0, names gt_xxx (not gt__), not a prototype
    /^[A-Za-z]/ && !/^static/ && match($0, /[ *]gt_[a-z0-9_]+\(/) && !/;[ \t]*$/ {
        name = substr($0, RSTART + 1, RLENGTH - 2)
        if (name !~ /^gt__/) { want = name; body = -1 }
        next
    }
    want != "" && /^\{/ { body = 0; next }
    want != "" && body >= 0 {
        body++
        if ($0 ~ /gt__forked\(\)/) { print "ok:" FILENAME ":" want; want = ""; next }
        if (body >= 3 || /^\}/) { print "bad:" FILENAME ":" want; want = "" }
    }')
if [ $bad = 0 ]; then
    echo "ok fork_guard: every public function of runtime/, socket/ and tls/ checks gt__forked() first ($n checked)"
fi
exit $bad
