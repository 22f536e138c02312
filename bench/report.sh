#!/usr/bin/env bash
# bench/report.sh [CSV] -- regenerates docs/PERFORMANCE.md (and docs/perf/*.png)
# from a bench/peers.sh run, the newest bench/results/peers-*.csv by default.
set -eu
cd "$(dirname "$0")/.."
# Debian's python3-matplotlib belongs to /usr/bin/python3; a python3 earlier in
# PATH (pyenv, venv) may not see it.  The first one that has it draws plots.
PY=
for p in /usr/bin/python3 "$(command -v python3 || true)"; do
    [ -x "$p" ] || continue
    [ -n "$PY" ] || PY=$p
    if "$p" -c 'import matplotlib' 2>/dev/null; then PY=$p; break; fi
done
[ -n "$PY" ] || { echo "report: python3 is needed" >&2; exit 1; }
"$PY" -c 'import matplotlib' 2>/dev/null ||
    echo "report: python3-matplotlib missing (bash bench/deps.sh): tables only, no plots" >&2
# OUT (as given to bench/peers.sh) names the run when no CSV is given
if [ $# -eq 0 ] && [ -n "${OUT:-}" ]; then set -- "$OUT.csv"; fi
exec "$PY" bench/report.py "$@"
