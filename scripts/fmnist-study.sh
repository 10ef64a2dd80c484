#!/usr/bin/env bash
# The Fashion-MNIST reproduction (README "The reproduction on Fashion-MNIST"): every run, cross-check and table
# of reports/fmnist/ from the grid files, into results/fmnist.db. Each stage skips the runs the database has
# finished, so an interrupted study resumes where it stopped (a killed run from its last checkpoint).
#   scripts/fmnist-study.sh                 every stage in order
#   scripts/fmnist-study.sh STAGE...        only these: search comparison controls floor ablation crosscheck report
#                                           repro (SimCLR's baseline cell again into a scratch database: its
#                                           results and curves must equal the stored ones bit for bit)
# Needs a built build/semharness and .venv with scikit-learn (scripts/setup.sh). CPU, 2 LibTorch threads: CPU
# runs repeat bit for bit with the same thread count on the same kind of processor.
set -euo pipefail
cd "$(dirname "$0")/.."
db=results/fmnist.db
run=(build/semharness run --db "$db" --device cpu --threads 2)
stages=("$@")
((${#stages[@]})) || stages=(search comparison controls floor ablation crosscheck report)

for stage in "${stages[@]}"; do
  echo "== $stage"
  case "$stage" in
    # L, V and tau_online on the validation split: SimCLR + SEM, one seed, half the study's epochs.
    search) "${run[@]}" experiments/fmnist_search.ini ;;
    # Seven methods x {baseline, +SEM} x 3 seeds: the comparison table's two columns, first.
    comparison) "${run[@]}" experiments/fmnist_paper.ini --set sem=off,on ;;
    # The same grid's sem=linear control (the embedder without its softmax); the runs above are skipped.
    controls) "${run[@]}" experiments/fmnist_paper.ini ;;
    # The floor: the same probes on an untrained backbone (and untrained embedder), 3 seeds.
    floor) "${run[@]}" experiments/fmnist_paper.ini --set epochs=0 --set method=simclr --set sem=off,on ;;
    # L, V and tau_online one at a time around the study's setting, tau_d at probe time, for the method where
    # SEM gained most; 3 seeds.
    ablation) "${run[@]}" experiments/fmnist_ablation.ini ;;
    # scikit-learn on every run's exported features at the penalty the harness selected, against the harness's
    # converged probe: within 1 point. One file per run in reports/fmnist/crosscheck/ (a run checked before is
    # not checked again: the features of runs stored on another machine may be gone), then the summary.
    crosscheck)
      mkdir -p reports/fmnist/crosscheck
      for id in $(sqlite3 "$db" "SELECT run_id FROM runs WHERE status = 'finished' ORDER BY rowid"); do
        out=reports/fmnist/crosscheck/$id.txt
        [ -f "$db.artifacts/$id/meta.json" ] && [ ! -f "$out" ] || continue
        # Exit 1 (a difference beyond 1 point) keeps the file, counted as failed below; 2 (bad input) stops here.
        status=0
        .venv/bin/python tests/crosscheck/sklearn_probe.py --db "$db" --runs "$id" --tolerance 1.0 \
          --harness-l2-only --jobs 2 >"$out.partial" || status=$?
        ((status <= 1)) || exit "$status"
        mv "$out.partial" "$out"
        grep '^crosscheck:' "$out"
      done
      echo "runs checked: $(ls reports/fmnist/crosscheck/*.txt | wc -l); failed: $(grep -L '; passed$' \
        reports/fmnist/crosscheck/*.txt | wc -l); largest |difference|: $(grep -ho 'max |difference| [0-9.]*' \
        reports/fmnist/crosscheck/*.txt | awk '{print $3}' | sort -g | tail -1)" ;;
    # Re-runs one cell of the study (SimCLR's baseline, 3 seeds) into a scratch database and compares every
    # results and metrics row of its runs with the stored ones at 17 significant digits.
    repro)
      scratch=$(mktemp -d)
      build/semharness run --db "$scratch/repro.db" --device cpu --threads 2 experiments/fmnist_paper.ini \
        --set method=simclr --set sem=off
      ids=$(sqlite3 "$scratch/repro.db" "SELECT group_concat(quote(run_id)) FROM runs WHERE status = 'finished'")
      differing=0
      compare() {  # TABLE QUERY: the query's rows in the scratch database against the study's
        local rerun stored
        rerun=$(sqlite3 "$scratch/repro.db" "$2")
        stored=$(sqlite3 "$db" "$2")
        if [ "$rerun" = "$stored" ]; then echo "repro: $1: $(wc -l <<<"$rerun") rows, identical"
        else echo "repro: $1: $(wc -l <<<"$rerun") rows, DIFFERENT"; differing=1; fi
      }
      compare results "SELECT run_id, protocol, feature, IFNULL(tau_d, ''), split, metric, printf('%.17g', value)
        FROM results WHERE run_id IN ($ids) ORDER BY 1, 2, 3, 4, 5, 6"
      compare metrics "SELECT run_id, epoch, name, printf('%.17g', value) FROM metrics WHERE run_id IN ($ids)
        ORDER BY 1, 2, 3"
      rm -rf "$scratch"
      ((differing == 0)) || { echo "repro: the re-run differs from $db" >&2; exit 1; }
      echo "repro: identical to $db" ;;
    report) build/semharness report --db "$db" --out reports/fmnist --format md,html,csv ;;
    *) echo "unknown stage '$stage' (expected search, comparison, controls, floor, ablation, crosscheck, report," \
         "repro)" >&2
       exit 2 ;;
  esac
done
