#!/usr/bin/env bash
# `semharness slurm` and `semharness merge` on a real one-node Slurm: starts munged, slurmctld and slurmd of
# its own (configuration, key, sockets, state and logs in a temporary folder, non-default ports) and stops them
# on exit. Submits a tiny 6-run grid as a job array, cancels one task while it runs and one while it is
# pending, lets the merge job fold the shards, resubmits (only the two unfinished runs), and checks that the
# main database holds every run of the grid exactly once, all finished.
# Usage: slurm_array_test.sh path/to/semharness. Exit 77 (skipped) without root or without Slurm and munge.
set -euo pipefail

SEMHARNESS=$(realpath "${1:?usage: slurm_array_test.sh path/to/semharness}")
export PATH="$PATH:/usr/sbin:/sbin"
STARTED=$SECONDS

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root to start slurmctld, slurmd and munged"
for tool in munged munge slurmctld slurmd sbatch squeue scancel sinfo sqlite3 flock; do
  command -v "$tool" >/dev/null || skip "$tool is not installed (apt-get install slurm-wlm munge sqlite3)"
done

# One instance at a time: the daemons listen on fixed ports.
exec 9>/tmp/semharness-slurm-test.lock
flock -w 600 9

WORK=$(mktemp -d /tmp/semharness-slurm-test.XXXXXX)
SLURM_DIR=$WORK/slurm
MUNGE_DIR=$WORK/munge
# A space in the path checks the quoting of the generated scripts end to end.
EXPERIMENT="$WORK/experiment dir"
mkdir -p "$SLURM_DIR/spool/slurmd" "$SLURM_DIR/spool/slurmctld" "$MUNGE_DIR" "$EXPERIMENT"
chmod 700 "$MUNGE_DIR"
# The jobs run a copy: a rebuild of the tree while they run must not pull the binary from under them.
mkdir "$WORK/bin"
cp "$SEMHARNESS" "$WORK/bin/semharness"
SEMHARNESS=$WORK/bin/semharness
export SLURM_CONF=$SLURM_DIR/slurm.conf
SUBMITTED=()
STATUS=1

log() { echo "[$((SECONDS - STARTED))s] $*"; }

stop_pid_file() {
  local file=$1 pid
  [ -s "$file" ] || return 0
  pid=$(cat "$file")
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}

cleanup() {
  set +e
  if ((${#SUBMITTED[@]})) && [ -s "$SLURM_DIR/slurmctld.pid" ]; then
    scancel "${SUBMITTED[@]}" 2>/dev/null
    for _ in $(seq 30); do [ -z "$(squeue -h 2>/dev/null)" ] && break; sleep 0.5; done
  fi
  stop_pid_file "$SLURM_DIR/slurmd.pid"
  stop_pid_file "$SLURM_DIR/slurmctld.pid"
  stop_pid_file "$MUNGE_DIR/munged.pid"
  if [ "$STATUS" -ne 0 ]; then
    for file in "$SLURM_DIR"/*.log "$EXPERIMENT"/*.shards/*/*.log; do
      [ -f "$file" ] && { echo "--- $file (last 30 lines)"; tail -n 30 "$file"; }
    done
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; exit 1; }

# --- munged with its own key and socket
dd if=/dev/urandom of="$MUNGE_DIR/munge.key" bs=1024 count=1 status=none
chmod 400 "$MUNGE_DIR/munge.key"
munged --force --socket="$MUNGE_DIR/munge.socket" --key-file="$MUNGE_DIR/munge.key" \
  --pid-file="$MUNGE_DIR/munged.pid" --log-file="$MUNGE_DIR/munged.log" --seed-file="$MUNGE_DIR/munged.seed"
munge -n --socket="$MUNGE_DIR/munge.socket" | unmunge --socket="$MUNGE_DIR/munge.socket" >/dev/null ||
  fail "munged does not answer"

# --- slurmctld and slurmd: one node with this machine's CPUs
cat >"$SLURM_CONF" <<EOF
ClusterName=semharness-test
SlurmctldHost=localhost
SlurmctldPort=16817
SlurmdPort=16818
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_DIR/munge.socket
ProctrackType=proctrack/pgid
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
KillWait=5
StateSaveLocation=$SLURM_DIR/spool/slurmctld
SlurmdSpoolDir=$SLURM_DIR/spool/slurmd
SlurmctldPidFile=$SLURM_DIR/slurmctld.pid
SlurmdPidFile=$SLURM_DIR/slurmd.pid
SlurmctldLogFile=$SLURM_DIR/slurmctld.log
SlurmdLogFile=$SLURM_DIR/slurmd.log
MpiDefault=none
SchedulerType=sched/backfill
NodeName=localhost CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE
EOF
slurmctld
slurmd -N localhost
for i in $(seq 60); do
  sinfo -h -o %t 2>/dev/null | grep -qx idle && break
  [ "$i" -eq 60 ] && fail "the node did not become idle: $(sinfo 2>&1)"
  sleep 0.5
done
log "Slurm is up: $(sinfo -h -o '%P %D %c %t')"

# --- a tiny grid: 6 runs of a few seconds each
cd "$EXPERIMENT"
cat >tiny.ini <<'EOF'
name = slurmtiny
dataset = synthetic
epochs = 4
batch_size = 128
train_subset = 512
method = simclr
sem = off, on
seeds = 0, 1, 2

[sem]
L = 8
V = 4

[proj]
hidden = 64
out = 32

[probe]
epochs = 5
train_subset = 1000

[knn]
k = 20
EOF
MAIN="$EXPERIMENT/main.db"
SHARDS="$MAIN.shards/slurmtiny"

submit() {
  "$SEMHARNESS" slurm tiny.ini --db "$MAIN" --max-parallel 2 --submit | tee "$WORK/submit.txt"
  JOB=$(sed -n 's/^submitted array job \([0-9]*\) .*/\1/p' "$WORK/submit.txt")
  MERGE_JOB=$(sed -n 's/^submitted merge job \([0-9]*\) .*/\1/p' "$WORK/submit.txt")
  [ -n "$JOB" ] && [ -n "$MERGE_JOB" ] || fail "no job ids in the output of semharness slurm --submit"
  SUBMITTED+=("$JOB" "$MERGE_JOB")
}

wait_for_empty_queue() {
  for _ in $(seq 240); do
    [ -z "$(squeue -h 2>&1)" ] && return 0
    sleep 0.5
  done
  fail "the queue did not drain in 120 s: $(squeue)"
}

statuses() { sqlite3 "$MAIN" "SELECT group_concat(status, ',') FROM (SELECT status FROM runs WHERE grid = 'slurmtiny' ORDER BY rowid)"; }

# --- first submission; task 0 is cancelled while it runs, task 5 while it waits (at most 2 run at once)
submit
scancel "${JOB}_5"
for i in $(seq 120); do
  [ "$(squeue -h -j "${JOB}_0" -o %T 2>/dev/null)" = RUNNING ] && break
  [ "$i" -eq 120 ] && fail "task 0 did not start: $(squeue)"
  sleep 0.25
done
# Into its training (its first epoch checkpoint, or 3 s), well before its end.
for _ in $(seq 12); do
  [ -n "$(ls -A "$SHARDS/task-0.db.checkpoints" 2>/dev/null)" ] && break
  sleep 0.25
done
scancel "${JOB}_0"
log "cancelled tasks ${JOB}_0 (running) and ${JOB}_5 (pending)"
wait_for_empty_queue
log "first array and its merge job done: $(statuses)"
[ "$(statuses)" = "pending,finished,finished,finished,finished,pending" ] ||
  fail "after the first array expected runs 0 and 5 pending, the others finished; got $(statuses)"
grep -Eq '^total \(5 shards\) +4 merged  0 already present  1 unfinished  4 with stored features$' "$SHARDS/merge.log" ||
  fail "merge.log lacks the expected total: $(cat "$SHARDS/merge.log")"

# --- resubmission: only the two unfinished runs
submit
grep -q "2 of 6 runs not finished in $MAIN: array 0,5%2" "$WORK/submit.txt" ||
  fail "the resubmission is not the array 0,5%2"
wait_for_empty_queue
log "second array and its merge job done: $(statuses)"

[ "$(sqlite3 "$MAIN" "SELECT COUNT(*), COUNT(DISTINCT run_id) FROM runs WHERE grid = 'slurmtiny'")" = "6|6" ] ||
  fail "the main database does not hold 6 distinct runs"
[ "$(statuses)" = "finished,finished,finished,finished,finished,finished" ] || fail "not every run finished: $(statuses)"
[ "$(sqlite3 "$MAIN" "SELECT COUNT(DISTINCT run_id) FROM results")" = 6 ] || fail "results of some runs are missing"
[ "$(sqlite3 "$MAIN" "SELECT COUNT(*) FROM (SELECT run_id, name FROM metrics WHERE epoch = 0 GROUP BY run_id, name HAVING COUNT(*) > 1)")" = 0 ] ||
  fail "duplicated metric rows"
grep -q "simclr" "$SHARDS/merge.log" || fail "the merge job printed no report"
log "task 0 after resubmission: resumed_from_epoch = $(sqlite3 "$MAIN" "SELECT COALESCE(resumed_from_epoch, 'none') FROM runs WHERE grid = 'slurmtiny' ORDER BY rowid LIMIT 1")"

# --- merging again changes nothing, and with nothing left slurm submits nothing
before=$(sqlite3 "$MAIN" .dump | md5sum)
"$SEMHARNESS" merge "$SHARDS"/task-*.db --db "$MAIN" | tail -n 1 | grep -q "0 merged  6 already present  0 unfinished" ||
  fail "a second merge merged something"
[ "$(sqlite3 "$MAIN" .dump | md5sum)" = "$before" ] || fail "a second merge changed the main database"
"$SEMHARNESS" slurm tiny.ini --db "$MAIN" --submit | grep -q "nothing to submit" || fail "resubmitted a finished grid"

STATUS=0
log "PASS"
