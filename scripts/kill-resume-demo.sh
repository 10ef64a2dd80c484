#!/usr/bin/env bash
# Fault drill: runs a 12-run grid and SIGKILLs its worker KILLS times, the k-th time once 3k-2 runs are
# finished and the run in flight has written a checkpoint (plus a random 0-4 s, so mid-epoch); then runs the
# grid to the end and prints how many runs went on from a checkpoint. Usage:
#   scripts/kill-resume-demo.sh [DB] [KILLS] [extra `run` options...]
set -euo pipefail
cd "$(dirname "$0")/.."
db=${1:-/tmp/semharness-kill-drill.db}
kills=${2:-3}
shift $(( $# > 2 ? 2 : $# ))
binary=${SEMHARNESS_BINARY:-build/semharness}
grid=experiments/kill_drill.ini
rm -rf "$db" "$db"-wal "$db"-shm "$db".checkpoints
for ((k = 1; k <= kills; k++)); do
  "$binary" run "$grid" --db "$db" "$@" > "$db.kill$k.log" 2>&1 &
  pid=$!
  finished() { sqlite3 "$db" "SELECT count(*) FROM runs WHERE status = 'finished'" 2>/dev/null || echo 0; }
  while kill -0 "$pid" 2>/dev/null; do
    if (( $(finished) >= 3 * k - 2 )) && ls "$db".checkpoints/*.pt >/dev/null 2>&1; then break; fi
    sleep 1
  done
  sleep $(( RANDOM % 5 ))
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null || true
    echo "kill $k: SIGKILL; $(sqlite3 "$db" "SELECT count(*) FROM runs WHERE status = 'finished'") runs finished, in flight: $(sqlite3 "$db" "SELECT group_concat(run_id, ' ') FROM runs WHERE status = 'running'"), checkpoints on disk: $(ls "$db".checkpoints 2>/dev/null | grep -c '\.pt$' || true)"
  else
    wait "$pid" || true
    echo "kill $k: the grid finished before the kill"
  fi
done
"$binary" run "$grid" --db "$db" "$@" > "$db.final.log" 2>&1
grep -E "^grid " "$db.final.log"
sqlite3 -header -column "$db" \
  "SELECT status, count(*) AS runs, sum(attempts > 1) AS restarted, sum(resumed_from_epoch IS NOT NULL) AS from_checkpoint, sum(attempts) AS attempts FROM runs GROUP BY status"
