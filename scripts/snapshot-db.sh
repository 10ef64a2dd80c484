#!/usr/bin/env bash
# Stages a consistent copy of a database that runs may be writing to (SQLite's online backup, then one file in
# rollback journal mode with no free pages) at its own path in git's index, leaving the live file alone: a
# study's database can be committed as it grows while `semharness run` goes on writing to it.
#   scripts/snapshot-db.sh results/fmnist.db && git commit -m "..."
set -euo pipefail
db=${1:?usage: scripts/snapshot-db.sh DATABASE}
[ -f "$db" ] || { echo "snapshot-db: $db: no such database" >&2; exit 2; }
snapshot=$(mktemp)
trap 'rm -f "$snapshot" "$snapshot"-*' EXIT
sqlite3 "$db" ".backup '$snapshot'"
sqlite3 "$snapshot" "PRAGMA journal_mode = DELETE; VACUUM;" >/dev/null
blob=$(git hash-object -w "$snapshot")
git update-index --add --cacheinfo "100644,$blob,$db"
echo "snapshot-db: staged $db ($(stat -c %s "$snapshot") bytes, $(sqlite3 "$snapshot" \
  "SELECT count(*) FROM runs WHERE status = 'finished'") finished runs)"
