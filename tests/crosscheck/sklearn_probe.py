#!/usr/bin/env python3
"""An independent cross-check of the harness's converged linear probe (protocol lbfgs_probe) with scikit-learn.

For every finished run of a semharness database that stored its features (`analysis.samples` > 0, files in
`<db>.artifacts/<run_id>/`), this script fits scikit-learn's multinomial LogisticRegression (solver lbfgs,
L2 penalty, bias unpenalised) on the exported training rows of each feature -- the backbone feature h, the
embedder output e when the run has one, and the SEM feature softmax(e_l / tau_d) over each simplex at every
stored tau_d -- and scores the exported test rows. It prints one aligned row per (run, feature) with two
comparisons against the harness's own `lbfgs_probe` test top-1 from the `results` table:
  - diff: scikit-learn with the C it selects itself, minus the harness with the l2 it selected;
  - diff@l2h: scikit-learn at the harness's selected l2 (its `probe_l2` row), minus the harness. Both solve
    the same strictly convex problem on the same rows there, so this isolates the solver, the features and
    the standardisation from the choice of penalty; it should be a few hundredths of a point.
It exits 1 when any |diff@l2h| exceeds --tolerance (points of top-1); |diff| beyond it is a note, and fails
only with --gate-selection (or where the database has no probe_l2 row, so diff is the only comparison).

What it shares with the harness: nothing but the files. The features are read from the .npy files and
meta.json, the harness's numbers from SQLite; standardisation (StandardScaler fitted on the training rows),
the choice of C (a decade grid, picked on a held-out tenth of the exported training rows drawn with a fixed
seed, then refitted on all of them) and the solver are scikit-learn's. Both sides minimise the same kind of
objective, mean cross-entropy + l2 * sum W^2, which is scikit-learn's 1/2 |W|^2 + C * sum CE with
l2 = 1 / (2 C n); the table shows both penalties in that form.

C is selected by the lowest validation log-loss, not top-1: the held-out tenth is small (300-400 rows),
where top-1 moves in steps of 0.25-0.33 points with a standard error near 2 points. Even so, the tenth cannot
always separate penalties a decade apart whose test top-1 differ by about one point, and the harness
selects on top-1 over a validation split of its own (10% of the whole training set, 6,000 Fashion-MNIST
images, not exported), so the two sides may pick different penalties. Measured on the SEM feature at
tau_d 0.1 of a 1-epoch SimCLR run (L 16, V 8): with 4000 training rows, top-1 on the tenth picked l2 1.3e-3
(79.75% there against 75.50% at 1.3e-4) and scored 74.50% on the test set against the harness's 75.96% at
l2 1e-4, log-loss picked 1.3e-4 (75.87%); with 3000 rows, log-loss picked 1.7e-3, 73.95% against the
harness's 74.97% at 1e-4. At the harness's l2 scikit-learn scored 75.97% and 74.99%. That is why diff@l2h is
the gated comparison: it does not depend on which validation rows each side has.

Agreement is only meaningful when the exported rows ARE the rows the harness probed: the whole
probe-training split (analysis.samples >= its size, i.e. >= min(probe.train_subset, (1 - probe.val_fraction)
* training set)) and the whole test set (analysis.samples >= the test set's size, 10,000 on Fashion-MNIST and
CIFAR). With a sample, scikit-learn trains on fewer rows and is scored on other rows than the harness. The
script checks this from meta.json and the run's configuration in the database and prints a warning for
every run where it does not hold (or cannot be told). The harness's validation split is not exported.

The C grid (--c-grid, decades 1e-3..1e2 by default) should span the same penalties as the run's probe.l2 in
the form above (at n = 3600 selection rows, C 1e-3..1e2 is l2 1.4e-1..1.4e-6, the default probe.l2). The
selection path is fitted from the strongest penalty down, each fit warm-started from the previous one; the
final fits start from the path's optimum at the nearest C. Each feature's line is printed as it finishes. Features are fitted --jobs at a time, in processes of one BLAS thread each.

Usage:
    sklearn_probe.py --db PATH [--grid NAME] [--runs RUN_ID ...] [--tolerance 1.0] [--c-grid C ...] [--jobs N]
                     [--tol T] [--gate-selection] [--harness-l2-only]
Exit codes: 0 every gated difference within tolerance, 1 some beyond it, 2 bad input (one line on
stderr naming what: a missing database, a missing or malformed file, no run to check, scikit-learn missing).
"""

import argparse
import concurrent.futures
import json
import math
import multiprocessing
import os
import sqlite3
import sys
import time

PROTOCOL = "lbfgs_probe"
C_GRID = [10.0 ** k for k in range(-3, 3)]  # 1e-3 .. 1e2 by decades
SELECTION_SEED = 20240601
VAL_FRACTION = 0.1
MAX_ITER = 10000
# scipy's L-BFGS-B stops when no entry of the projected gradient of the mean loss + penalty exceeds this: ten
# times tighter than the harness's default probe.tolerance, on float64 features.
TOL = 1e-5
# (training images, test images) of the datasets whose sizes are fixed; others are told from the sample size.
DATASET_SIZES = {"fashion_mnist": (60000, 10000), "cifar10": (50000, 10000), "cifar100": (50000, 10000)}


class BadInput(Exception):
    pass


def bad(message):
    raise BadInput(message)


def load_npy(np, path, rows=None):
    if not os.path.isfile(path):
        bad(f"{path}: missing")
    try:
        array = np.load(path, allow_pickle=False)
    except Exception as error:  # noqa: BLE001 - any unreadable file is bad input
        bad(f"{path}: not a readable .npy file ({error})")
    if rows is not None and array.shape[0] != rows:
        bad(f"{path}: {array.shape[0]} rows, expected {rows}")
    return array


def sem_feature(np, e, L, V, tau_d):
    """softmax over each simplex of e / tau_d; column v*L + l of e is vertex v of simplex l (vertex-major)."""
    n = e.shape[0]
    blocks = e.astype(np.float64).reshape(n, V, L).transpose(0, 2, 1) / tau_d  # [n, L, V]
    blocks = blocks - blocks.max(axis=2, keepdims=True)
    np.exp(blocks, out=blocks)
    blocks /= blocks.sum(axis=2, keepdims=True)
    return blocks.transpose(0, 2, 1).reshape(n, L * V)


def fit_sklearn(np, train_x, train_y, test_x, test_y, c_grid, harness_l2, tol, harness_l2_only=False):
    """C from c_grid on a held-out tenth of the training rows (lowest validation log-loss), then a refit on all
    of them with that C; and a fit at the harness's selected penalty (when known). With harness_l2_only and a
    known penalty, only the latter (top1 and C are then None). Returns a dict."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss
    from sklearn.preprocessing import StandardScaler

    def model(C, warm_start=False):
        # lbfgs on >= 3 classes is the multinomial (softmax) loss; the penalty is L2, the intercept is not
        # penalised.
        return LogisticRegression(C=C, solver="lbfgs", max_iter=MAX_ITER, tol=tol, warm_start=warm_start)

    n = train_x.shape[0]
    if harness_l2_only and harness_l2 is not None and harness_l2 > 0:
        scaler = StandardScaler().fit(train_x)
        classifier = model(1.0 / (2.0 * harness_l2 * n)).fit(scaler.transform(train_x), train_y)
        iterations = int(np.max(classifier.n_iter_))
        top1 = 100.0 * float((classifier.predict(scaler.transform(test_x)) == test_y).mean())
        return {"C": None, "rows": n, "top1": None, "iterations": iterations, "converged": iterations < MAX_ITER,
                "top1_at_harness_l2": top1}
    permutation = np.random.default_rng(SELECTION_SEED).permutation(n)
    n_val = int(round(n * VAL_FRACTION))
    val, fit = permutation[:n_val], permutation[n_val:]
    classes = np.unique(train_y)
    scaler = StandardScaler().fit(train_x[fit])
    fit_x, val_x = scaler.transform(train_x[fit]), scaler.transform(train_x[val])
    best = None
    path = model(c_grid[0], warm_start=True)
    optima = {}  # C -> (coef, intercept) on the selection rows: where the final fits start
    for C in sorted(c_grid):  # strongest penalty (smallest C) first: each fit starts from the last optimum
        path.set_params(C=C).fit(fit_x, train_y[fit])
        optima[C] = (path.coef_.copy(), path.intercept_.copy())
        loss = log_loss(train_y[val], path.predict_proba(val_x), labels=classes)
        if best is None or loss < best[0]:
            best = (loss, C)

    scaler = StandardScaler().fit(train_x)
    train_s, test_s = scaler.transform(train_x), scaler.transform(test_x)

    def final(C):
        # Started from the selection path's optimum at the nearest C: the objective is strictly convex, so the
        # start changes only how many iterations the fit takes, not where it ends (within the tolerance).
        classifier = model(C, warm_start=True)
        nearest = min(optima, key=lambda c: abs(math.log(c / C)))
        classifier.coef_, classifier.intercept_ = (array.copy() for array in optima[nearest])
        classifier.fit(train_s, train_y)
        iterations = int(np.max(classifier.n_iter_))
        return 100.0 * float((classifier.predict(test_s) == test_y).mean()), iterations

    result = {"C": best[1], "rows": n}
    result["top1"], result["iterations"] = final(best[1])
    result["converged"] = result["iterations"] < MAX_ITER
    if harness_l2 is not None and harness_l2 > 0:
        # mean CE + l2 * sum W^2 = (1 / (C n)) * (C * sum CE + 1/2 sum W^2) with C = 1 / (2 l2 n)
        result["top1_at_harness_l2"], iterations = final(1.0 / (2.0 * harness_l2 * n))
        result["converged"] = result["converged"] and iterations < MAX_ITER
    return result


def check_feature(task):
    """One (run, feature) in a worker process: loads the exported rows, makes the feature, fits. Returns
    fit_sklearn's dict with the seconds it took."""
    import numpy as np
    # Loaded before the BLAS limit below: threadpool_limits limits the BLAS libraries loaded when it starts, and
    # scipy brings an OpenBLAS of its own, whose threads would otherwise spin on L-BFGS-B's tiny vector ops.
    import sklearn.linear_model  # noqa: F401
    from threadpoolctl import threadpool_limits

    folder, feature, tau_d, L, V, c_grid, harness_l2, tol, harness_l2_only = task
    started = time.perf_counter()
    train_y = load_npy(np, os.path.join(folder, "train_labels.npy"))
    test_y = load_npy(np, os.path.join(folder, "test_labels.npy"))
    stem = "h" if feature == "backbone" else "e"
    train_x = load_npy(np, os.path.join(folder, f"train_{stem}.npy"), rows=train_y.shape[0])
    test_x = load_npy(np, os.path.join(folder, f"test_{stem}.npy"), rows=test_y.shape[0])
    if train_x.ndim != 2 or test_x.ndim != 2 or train_x.shape[1] != test_x.shape[1]:
        bad(f"{folder}: train_{stem}.npy {train_x.shape} and test_{stem}.npy {test_x.shape} do not match")
    if feature == "sem":
        if train_x.shape[1] != L * V:
            bad(f"{folder}/train_e.npy: {train_x.shape[1]} columns, meta.json says L*V = {L * V}")
        train_x, test_x = sem_feature(np, train_x, L, V, tau_d), sem_feature(np, test_x, L, V, tau_d)
    else:
        train_x, test_x = train_x.astype(np.float64), test_x.astype(np.float64)
    with threadpool_limits(1):
        result = fit_sklearn(np, train_x, train_y, test_x, test_y, c_grid, harness_l2, tol, harness_l2_only)
    result["seconds"] = time.perf_counter() - started
    return result


def harness_number(db, run_id, feature, tau_d, split, metric):
    rows = db.execute(
        "SELECT tau_d, value FROM results WHERE run_id = ? AND protocol = ? AND feature = ? AND split = ? "
        "AND metric = ?", (run_id, PROTOCOL, feature, split, metric)).fetchall()
    for row_tau, value in rows:
        if tau_d is None and row_tau is None:
            return value
        if tau_d is not None and row_tau is not None and math.isclose(row_tau, tau_d, rel_tol=1e-9):
            return value
    return None


def column(run, name, default=""):
    value = run.get(name)
    return default if value is None else str(value)


def exported_everything(run, meta, meta_path):
    """Warnings when the exported rows are not the whole probe-training split and the whole test set."""
    warnings = []
    try:
        samples = int(column(run, "analysis_samples", "0"))
        n_train, n_test = int(meta["samples"]["train"]), int(meta["samples"]["test"])
    except (KeyError, TypeError, ValueError):
        bad(f"{meta_path}: no samples.train / samples.test, or the run has no analysis_samples")
    sizes = DATASET_SIZES.get(column(run, "dataset"))
    if sizes is not None and column(run, "data_dir") == "":
        total_train, total_test = sizes
        val_fraction = float(column(run, "probe_val_fraction", "0.1"))
        subset = int(column(run, "probe_train_subset", "0"))
        split = total_train - int(round(total_train * val_fraction))
        if subset > 0:
            split = min(split, subset)
        if n_train != split:
            warnings.append(f"exported {n_train} of the {split} probe-training rows (analysis.samples {samples})")
        if n_test != total_test:
            warnings.append(f"exported {n_test} of the {total_test} test rows (analysis.samples {samples})")
    else:
        # sample = min(split size, analysis.samples): fewer rows than asked for means the whole split.
        if n_train >= samples:
            warnings.append(f"cannot tell whether the {n_train} exported training rows are the whole probe-training "
                            f"split (analysis.samples {samples})")
        if n_test >= samples:
            warnings.append(f"cannot tell whether the {n_test} exported test rows are the whole test set "
                            f"(analysis.samples {samples})")
    return warnings


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="semharness database")
    parser.add_argument("--grid", help="only the runs of this grid")
    parser.add_argument("--runs", nargs="+", metavar="RUN_ID", help="only these runs")
    parser.add_argument("--tolerance", type=float, default=1.0, help="largest |difference| in top-1 points")
    parser.add_argument("--c-grid", type=float, nargs="+", default=C_GRID, metavar="C",
                        help="inverse penalties to choose from (default: 1e-3 .. 1e2 by decades)")
    parser.add_argument("--tol", type=float, default=TOL,
                        help=f"scikit-learn's gradient tolerance (default {TOL:g}; the harness's probe.tolerance "
                             "is the same criterion on float32 features)")
    parser.add_argument("--gate-selection", action="store_true",
                        help="also exit 1 when scikit-learn with its own C differs from the harness beyond tolerance")
    parser.add_argument("--harness-l2-only", action="store_true",
                        help="fit only at the harness's selected penalty (the gated comparison), not scikit-learn's own "
                             "C: about a fifth of the time, for checking every run of a study")
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)),
                        help="features fitted at once (default: the CPUs this process may use)")
    args = parser.parse_args()
    if not (args.tolerance >= 0):
        bad(f"--tolerance {args.tolerance}: must be >= 0")
    if not all(C > 0 for C in args.c_grid):
        bad(f"--c-grid {args.c_grid}: every C must be > 0")
    if not (args.tol > 0):
        bad(f"--tol {args.tol}: must be > 0")
    if args.jobs < 1:
        bad(f"--jobs {args.jobs}: must be >= 1")

    try:
        import numpy as np
        import sklearn
        import threadpoolctl  # noqa: F401 - a dependency of scikit-learn; the workers use it
    except ImportError as error:
        bad(f"{error.name or 'scikit-learn'} is not installed in {sys.executable}: run scripts/setup.sh")

    if not os.path.isfile(args.db):
        bad(f"{args.db}: no such database")
    try:
        db = sqlite3.connect(f"file:{os.path.abspath(args.db)}?mode=ro", uri=True)
        db.row_factory = sqlite3.Row
        runs = [dict(row) for row in db.execute("SELECT * FROM runs WHERE status = 'finished' ORDER BY rowid")]
        db.execute("SELECT run_id, protocol, feature, tau_d, split, metric, value FROM results LIMIT 1")
    except sqlite3.Error as error:
        bad(f"{args.db}: not a semharness database ({error})")
    if args.grid is not None:
        if not db.execute("SELECT 1 FROM runs WHERE grid = ? LIMIT 1", (args.grid,)).fetchone():
            bad(f"--grid {args.grid}: no such grid in {args.db}")
        runs = [run for run in runs if run["grid"] == args.grid]
    if args.runs:
        finished = {run["run_id"] for run in runs}
        for run_id in args.runs:
            if run_id not in finished:
                bad(f"--runs {run_id}: no finished run of that id in {args.db}"
                    + (f" (grid {args.grid})" if args.grid else ""))
        runs = [run for run in runs if run["run_id"] in set(args.runs)]
    artifacts = args.db + ".artifacts"
    runs = [run for run in runs if os.path.isfile(os.path.join(artifacts, run["run_id"], "meta.json"))]
    if not runs:
        bad(f"{args.db}: no finished run with stored features in {artifacts}/")

    # Every (run, feature) to fit, with the harness's numbers.
    checks, warnings, notes = [], [], []
    for run in runs:
        run_id = run["run_id"]
        folder = os.path.join(artifacts, run_id)
        meta_path = os.path.join(folder, "meta.json")
        try:
            with open(meta_path, encoding="utf-8") as file:
                meta = json.load(file)
        except (OSError, ValueError) as error:
            bad(f"{meta_path}: not readable JSON ({error})")
        label = (f"{column(run, 'method')} sem={column(run, 'sem')} epochs={column(run, 'epochs')} "
                 f"seed={column(run, 'seed')}")
        warnings += [f"{label} ({run_id}): {text}" for text in exported_everything(run, meta, meta_path)]
        features = [("backbone", None, "h")]
        L = V = None
        if os.path.isfile(os.path.join(folder, "train_e.npy")):
            features.append(("embedding", None, "e"))
            if column(run, "sem") in ("on", "gumbel"):
                try:
                    tau_ds = [float(t) for t in meta["tau_d"]]
                    L, V = int(meta["L"]), int(meta["V"])
                except (KeyError, TypeError, ValueError):
                    bad(f"{meta_path}: no tau_d list or L / V")
                features += [("sem", tau_d, f"sem tau_d={tau_d:g}") for tau_d in tau_ds]
        for feature, tau_d, name in features:
            harness_l2 = harness_number(db, run_id, feature, tau_d, "train", "probe_l2")
            checks.append({
                "label": label, "name": name, "harness_l2": harness_l2,
                "harness": harness_number(db, run_id, feature, tau_d, "test", "top1"),
                "task": (folder, feature, tau_d, L, V, sorted(args.c_grid), harness_l2, args.tol, args.harness_l2_only),
            })

    print(f"scikit-learn {sklearn.__version__}, numpy {np.__version__}: LogisticRegression(lbfgs, L2, tol {args.tol:g}, "
          f"max_iter {MAX_ITER}) after StandardScaler, C in {{{', '.join(f'{C:g}' for C in sorted(args.c_grid))}}} "
          f"chosen on a held-out tenth of the exported training rows (seed {SELECTION_SEED}); harness: protocol "
          f"{PROTOCOL}; {len(checks)} features, {args.jobs} at a time", flush=True)
    jobs = min(args.jobs, len(checks))
    results = [None] * len(checks)
    started = time.perf_counter()

    def finished(index, result):
        results[index] = result
        done = sum(r is not None for r in results)
        check = checks[index]
        harness = "-" if check["harness"] is None else f"{check['harness']:.2f}"
        at_l2 = result.get("top1_at_harness_l2")
        own = "" if result["top1"] is None else f", sklearn {result['top1']:.2f}"
        print(f"[{done}/{len(checks)} {time.perf_counter() - started:6.0f} s] {check['label']} {check['name']}: "
              f"harness {harness}{own}"
              + ("" if at_l2 is None else f", sklearn at the harness's l2 {at_l2:.2f}")
              + f" ({result['seconds']:.0f} s)", flush=True)

    if jobs == 1:
        for index, check in enumerate(checks):
            finished(index, check_feature(check["task"]))
    else:
        with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {pool.submit(check_feature, check["task"]): index for index, check in enumerate(checks)}
            for future in concurrent.futures.as_completed(futures):
                finished(futures[future], future.result())

    header = ["run", "feature", "harness", "sklearn", "diff", "l2 harness", "l2 sklearn", "sklearn@l2h", "diff@l2h",
              "iters", "fit s"]
    table = []
    # [max |difference|, how many beyond tolerance] at the harness's l2 and with scikit-learn's own C
    at_l2_stats, own_stats = [0.0, 0], [0.0, 0]
    failed = 0
    compared = 0

    def difference(ours, harness, stats):
        diff = ours - harness
        stats[0] = max(stats[0], abs(diff))
        stats[1] += abs(diff) > args.tolerance
        return diff, f"{diff:+.2f}" + (" !" if abs(diff) > args.tolerance else "")

    for check, result in zip(checks, results):
        label, name, harness, harness_l2 = check["label"], check["name"], check["harness"], check["harness_l2"]
        if not result["converged"]:
            warnings.append(f"{label} {name}: scikit-learn did not converge in {MAX_ITER} iterations")
        at_l2 = result.get("top1_at_harness_l2")
        if harness is None or harness_l2 is None:
            warnings.append(f"{label} {name}: the database has no {PROTOCOL} test top1 or probe_l2 row for it")
        diff_text = diff_at_l2_text = "-"
        if harness is not None:
            compared += 1
            if at_l2 is not None:
                at, diff_at_l2_text = difference(at_l2, harness, at_l2_stats)
                failed += abs(at) > args.tolerance
            own = 0.0
            if result["top1"] is not None:
                own, diff_text = difference(result["top1"], harness, own_stats)
            if abs(own) > args.tolerance:
                if at_l2 is None or args.gate_selection:
                    failed += 1
                else:
                    notes.append(f"{label} {name}: with its own C scikit-learn differs by {own:+.2f} points, at the "
                                 f"harness's l2 by {at_l2 - harness:+.2f}: the two selected different penalties "
                                 f"(l2 {harness_l2:.0e} and {1.0 / (2.0 * result['C'] * result['rows']):.1e}); "
                                 "not gated without --gate-selection")
        own_top1 = "-" if result["top1"] is None else f"{result['top1']:.2f}"
        own_l2 = "-" if result["C"] is None else f"{1.0 / (2.0 * result['C'] * result['rows']):.1e}"
        table.append([label, name, "-" if harness is None else f"{harness:.2f}", own_top1, diff_text,
                      "-" if harness_l2 is None else f"{harness_l2:.0e}", own_l2, "-" if at_l2 is None else f"{at_l2:.2f}",
                      diff_at_l2_text, str(result["iterations"]), f"{result['seconds']:.1f}"])

    widths = [max(len(header[i]), *(len(row[i]) for row in table)) for i in range(len(header))]
    left = {0, 1}
    for row in [header, ["-" * w for w in widths]] + table:
        print("  ".join(cell.ljust(widths[i]) if i in left else cell.rjust(widths[i]) for i, cell in enumerate(row)))
    print("harness, sklearn: test top-1 %, each with the penalty it selected on its own validation rows; diff = sklearn "
          "- harness;\nl2: the selected penalty as mean CE + l2 * sum W^2 (sklearn: 1 / (2 C n)); sklearn@l2h: "
          "sklearn at the harness's l2, diff@l2h its difference;\niters: L-BFGS iterations of sklearn's fit at its own "
          "C; fit s: sklearn's selection and fits")
    for text in notes:
        print(f"note: {text}")
    for text in warnings:
        print(f"warning: {text}")
    own_c = ("scikit-learn's own C not fitted (--harness-l2-only)" if args.harness_l2_only else
             f"with scikit-learn's own C: max |difference| {own_stats[0]:.2f}, {own_stats[1]} beyond"
             f"{'' if args.gate_selection else ' (gated only where the harness stored no probe_l2)'}")
    print(f"crosscheck: {compared} features compared in {len(runs)} runs, tolerance {args.tolerance:g} points; at the "
          f"harness's l2: max |difference| {at_l2_stats[0]:.2f}, {at_l2_stats[1]} beyond; {own_c}; "
          f"{'FAILED' if failed else 'passed'}")
    if compared == 0:
        bad(f"{args.db}: no {PROTOCOL} test top1 row for any stored feature (probe.protocols without lbfgs?)")
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BadInput as error:
        print(f"sklearn_probe.py: {error}", file=sys.stderr)
        sys.exit(2)
