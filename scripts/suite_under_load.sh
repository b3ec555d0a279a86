#!/usr/bin/env bash
# The whole test suite, N times in a row (default 3), from a fresh clone of HEAD, while two
# CPU-bound processes run beside it: the proof that the suite holds on a busy 2-core box
# (see docs/testing.md).  The burners are started and stopped here, never by CI.
#
#   scripts/suite_under_load.sh [RUNS]
#
# Prints each run's summary line and wall time; exits non-zero if any run failed.
set -uo pipefail
runs=${1:-3}
repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
work=$(mktemp -d "${TMPDIR:-/tmp}/wt-load.XXXXXX")
burners=()
cleanup() {
  for pid in "${burners[@]}"; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

git clone --quiet "$repo" "$work/watchtower"
cd "$work/watchtower" || exit 1
echo "clone of $(git rev-parse --short HEAD) in $work/watchtower"
python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' > "$work/install.log" 2>&1 \
  || { grep -v '^WARNING: Location' "$work/install.log"; echo "install failed"; exit 1; }

for _ in 1 2; do
  python3 -c 'while True: pass' &
  burners+=($!)
done
echo "burners: ${burners[*]} (2 CPU-bound processes)"

failed=0
for i in $(seq 1 "$runs"); do
  start=$(date +%s)
  # A hang is a failure too: a run that has not ended in an hour is stopped and reported.
  timeout --kill-after=60 3600 .venv/bin/python -m pytest -q -p no:cacheprovider > "$work/run$i.log" 2>&1
  rc=$?
  [ "$rc" -eq 124 ] && echo "run $i hung: stopped after 3600 s" >> "$work/run$i.log"
  end=$(date +%s)
  summary=$(tail -n 1 "$work/run$i.log")
  echo "run $i: exit $rc in $((end - start)) s: $summary"
  if [ "$rc" -ne 0 ]; then
    failed=1
    grep -E "^(FAILED|ERROR) " "$work/run$i.log" | head -20
    cp "$work/run$i.log" "${TMPDIR:-/tmp}/wt-load-run$i.log" && echo "  log kept in ${TMPDIR:-/tmp}/wt-load-run$i.log"
  fi
done
exit "$failed"
