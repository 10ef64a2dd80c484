#!/usr/bin/env bash
# ctest probe_crosscheck: the harness's converged linear probe (protocol lbfgs_probe) against an independent
# scikit-learn fit on the same exported rows (tests/crosscheck/sklearn_probe.py, which shares no code with the
# harness). Runs a tiny grid -- SimCLR on the ConvNet, Fashion-MNIST, without and with SEM (L 16, V 8),
# untrained (epochs 0) and after one epoch -- that exports the whole probe-training split and the whole test
# set, then compares h, e and the SEM feature at each tau_d within 1 point of top-1.
# Usage: probe_crosscheck.sh path/to/semharness. Fails (does not skip) when .venv lacks scikit-learn.
set -euo pipefail

SEMHARNESS=$(realpath "${1:?usage: probe_crosscheck.sh path/to/semharness}")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PYTHON=$ROOT/.venv/bin/python
STARTED=$SECONDS

fail() { echo "FAIL: $*"; exit 1; }
log() { echo "[$((SECONDS - STARTED))s] $*"; }

[ -x "$PYTHON" ] || fail "no $PYTHON: run scripts/setup.sh (it creates .venv with torch and scikit-learn)"
"$PYTHON" -c "import sklearn" 2>/dev/null ||
  fail "scikit-learn is not installed in $ROOT/.venv: run scripts/setup.sh (it installs it)"

WORK=$(mktemp -d /tmp/semharness-crosscheck.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# probe.train_subset 3000 is the whole probe-training split (the rest of the 60,000 images after the 10%
# validation hold-out is larger), and analysis.samples 10000 exports all 3000 of it and all 10,000 test images.
# The penalties: probe.l2 1e-5..1e-2 (the harness selected 1e-5..1e-3 on these runs with the default 1e-6..0.1),
# and for scikit-learn C 0.01..10, the same span as l2 = 1 / (2 C n) at its 2700 selection rows (1.9e-5..1.9e-2):
# the default C grid's weakest penalty (C 100) alone would take as long as the other three.
cat >"$WORK/crosscheck.ini" <<'EOF'
name = crosscheck
dataset = fashion_mnist
backbone = convnet
method = simclr
epochs = 0, 1
batch_size = 256
train_subset = 2000
seeds = 0
sem = off, on

[sem]
L = 16
V = 8

[probe]
protocols = lbfgs
standardize = on
tau_d = 0.1, 1
train_subset = 3000
l2 = 1e-5, 1e-4, 1e-3, 1e-2

[analysis]
samples = 10000
EOF

log "semharness run (4 runs)"
status=0
"$SEMHARNESS" run "$WORK/crosscheck.ini" --db "$WORK/x.db" >"$WORK/run.log" 2>&1 || status=$?
[ "$status" -eq 0 ] || { cat "$WORK/run.log"; fail "semharness run exited $status"; }
grep -E "^(\[|grid )" "$WORK/run.log"

log "scikit-learn cross-check"
"$PYTHON" "$ROOT/tests/crosscheck/sklearn_probe.py" --db "$WORK/x.db" --grid crosscheck --tolerance 1.0 \
  --c-grid 0.01 0.1 1 10 >"$WORK/check.txt" || status=$?
cat "$WORK/check.txt"
log "done"
[ "$status" -eq 0 ] || fail "sklearn_probe.py exited $status (1: a difference beyond 1 point; 2: bad input)"
grep -q '^crosscheck: .*; passed$' "$WORK/check.txt" || fail "no passing summary line"
# sem=off: h; sem=on: h, e, SEM at tau_d 0.1 and 1; each untrained and trained.
grep -q '^crosscheck: 10 features compared in 4 runs' "$WORK/check.txt" ||
  fail "expected 10 features compared in 4 runs"
! grep -q '^warning:' "$WORK/check.txt" || fail "the cross-check warned (see above)"
echo "PASS"
