#!/usr/bin/env bash
# The folders of src/ form layers, each using only the layers below it:
#
#   util/ (0)  <  src/*.{c,h} and packet/ (1)  <  runtime/ (2)  <  socket/ (3)
#   <  tls/ (4: TLS on the socket layer's transport seam)
#
# (src/*.{c,h} is internal.h, the waist every layer above util/ includes,
# plus err.c and version.c.)  A strict order has no cycles.  Checked on the
# source, comments and strings removed:
#   - includes: a file includes only its own folder, lower ones and the
#     public gentcp.h;
#   - calls: a .c file names (calls, takes the address of) only functions
#     defined in its own folder or lower ones.  Declarations in headers are
#     not uses; the include check covers what headers bring in.
# So runtime/ knows nothing of sockets (issue 8 item 2) and util/ nothing
# above it.  Also: no bare pthread lock call outside util/lock.h (item 6).  A folder missing from rank() fails: a new folder needs a place.
# Usage: layers.sh [SOURCE-ROOT]   (default: this repository)
set -u
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
src=$root/src
CC=${CC:-cc}

rank() {
    case $1 in
    util) echo 0 ;;
    . | packet) echo 1 ;;
    runtime) echo 2 ;;
    socket) echo 3 ;;
    tls) echo 4 ;;
    *) echo -1 ;;
    esac
}

# folder of a path relative to src/: "runtime/x.c" -> runtime, "err.c" -> .
folder() { case $1 in */*) echo "${1%%/*}" ;; *) echo . ;; esac; }

# source without comments and string literals
strip() {
    "$CC" -fpreprocessed -dD -E -P "$1" 2>/dev/null | sed -E 's/"([^"\\]|\\.)*"/""/g'
}

if [ ! -d "$src" ]; then
    echo "FAIL layers: no $src"
    exit 0
fi
cd "$src" || exit 0
files=$(find . -name '*.[ch]' | sed 's|^\./||' | sort)
fails=0
fail() {
    echo "FAIL layers: $*"
    fails=$((fails + 1))
}

for f in $files; do
    d=$(folder "$f")
    [ "$(rank "$d")" -ge 0 ] || fail "$f: folder $d has no layer (tests/structure/layers.sh)"
done

# includes
for f in $files; do
    d=$(folder "$f")
    r=$(rank "$d")
    while read -r inc; do
        [ -n "$inc" ] || continue
        [ "$inc" = gentcp.h ] && continue
        id=$(folder "$inc")
        [ "$id" = "$d" ] && continue
        [ "$(rank "$id")" -lt "$r" ] || fail "$f includes \"$inc\" ($id/ is not below $d/)"
    done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
done

# "name folder" for each definition (non-static functions named gt_*) and
# "name folder file" for each name a .c file mentions
defs=$(mktemp)
uses=$(mktemp)
trap 'rm -f "$defs" "$uses"' EXIT
for f in $files; do
    case $f in *.c) ;; *) continue ;; esac
    d=$(folder "$f")
    code=$(strip "$f")
    grep -E '^[A-Za-z_]' <<<"$code" | grep -vE '^(static|extern|typedef)|;[[:space:]]*$' |
        sed -nE 's/^[^(]*[^A-Za-z0-9_](gt_[A-Za-z0-9_]*)[[:space:]]*\(.*/\1/p' |
        sed "s|\$| $d|" >>"$defs"
    grep -oE '\bgt_[A-Za-z0-9_]*' <<<"$code" | sort -u | sed "s|\$| $d $f|" >>"$uses"
done
if [ "$(grep -c ' runtime$' "$defs")" -lt 10 ] || [ "$(grep -c ' socket$' "$defs")" -lt 10 ]; then
    fail "found too few definitions to check calls ($(wc -l <"$defs") in all): is $CC working?"
fi
while read -r line; do
    fail "$line"
done < <(awk -v ranks="util=0 .=1 packet=1 runtime=2 socket=3 tls=4" '
    BEGIN { n = split(ranks, a, " "); for (i = 1; i <= n; i++) { split(a[i], kv, "="); r[kv[1]] = kv[2] } }
    FNR == NR { def[$1] = def[$1] " " $2; next }
    $1 in def {
        m = split(def[$1], ds, " ")
        for (i = 1; i <= m; i++)
            if (ds[i] != $2 && !(ds[i] in r && $2 in r && r[ds[i]] < r[$2]))
                printf "%s uses %s, defined in %s/ (not below %s/)\n", $3, $1, ds[i], $2
    }' "$defs" "$uses")

# Every lock and unlock goes through util/lock.h, which knows its place
# in the lock order (checked in GT_LOCK_DEBUG builds); a bare call is
# invisible to the checks, and half of a pair aborts them.
while read -r hit; do
    [ -n "$hit" ] && fail "$hit: a bare pthread lock call; use gt__lock/gt__unlock (util/lock.h)"
done < <(grep -nE 'pthread_(mutex_(lock|unlock|trylock)|rwlock_(rdlock|wrlock|unlock))[[:space:]]*\(' $files |
    grep -v '^util/lock\.h:')

if [ "$fails" -eq 0 ]; then
    echo "ok layers: util/ < src/ packet/ < runtime/ < socket/ < tls/: includes and calls go down only ($(wc -l <"$defs") functions); every lock through util/lock.h"
fi
exit 0
