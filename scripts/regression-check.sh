#!/usr/bin/env bash
# The regression gate (README "Regression gate"): runs experiments/quick.ini into a fresh temporary database
# and compares it with the committed results/baseline-quick.db. Exit status: 0 no cell worse than the
# baseline, 1 a run failed or a cell is worse, 2 unusable input. Needs a built build/semharness
# (scripts/setup.sh).
#   scripts/regression-check.sh             check
#   scripts/regression-check.sh --refresh   make the fresh run the new baseline (a change meant to move accuracy)
set -euo pipefail
cd "$(dirname "$0")/.."
refresh=false
case "${1:-}" in
  "") ;;
  --refresh) refresh=true ;;
  *) echo "usage: $0 [--refresh]" >&2; exit 2 ;;
esac
# The baseline is a CPU run with 2 LibTorch threads; CPU runs repeat bit for bit only with the same thread
# count, so the fresh run uses it too (a difference is then the code's, not the machine's core count).
threads=2
baseline=results/baseline-quick.db
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
build/semharness run experiments/quick.ini --db "$work/quick.db" --device cpu --threads "$threads"
if $refresh; then
  # Reported before the conversion: every command but check opens a database in WAL mode.
  build/semharness report --db "$work/quick.db" --sections comparison
  # One self-contained file to commit: the WAL folded back in, rollback journal mode, free pages dropped.
  sqlite3 "$work/quick.db" "PRAGMA journal_mode = DELETE; VACUUM;" >/dev/null
  cp "$work/quick.db" "$baseline"
  echo "new baseline: $baseline (commit it, saying why the numbers moved)"
else
  build/semharness check --db "$work/quick.db" --baseline "$baseline"
fi
