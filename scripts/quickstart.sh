#!/usr/bin/env bash
# Set-up, then the embedded default grid (experiments/quick.ini) on CPU, then its table.
# Extra arguments go to `semharness run`, e.g. --db /tmp/quick.db or --set epochs=1.
set -euo pipefail
cd "$(dirname "$0")/.."
# Only the binary: the tests and benchmarks are not built (scripts/test.sh builds them).
scripts/setup.sh semharness
exec build/semharness run experiments/quick.ini "$@"
