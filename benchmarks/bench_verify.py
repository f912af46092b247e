"""Benchmark: ``recommend --target-labels`` (20 labelled target rows) against running every
method and against the zero-label ``recommend``, on three real pairs of different sizes, side by
side in one run; and ``--budget B`` with the labels against B.

For each pair, in one process, in this order: the zero-label ``recommend``; ``recommend`` with 20
labelled target rows (drawn uniformly, seed 0) and no budget; ``predict_methods`` (every method,
fit + predict, what "run them all and look" costs before any scoring); then ``recommend`` with the
labels and ``budget`` B for each B of ``--budgets``. Wall-clock seconds of each call (the pair is
loaded once, before). The verified pick and whether it changed are reported beside.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_verify.py [--budgets 5,20] [--write]

``--write`` puts the results into the ``verify`` section of ``docs/benchmarks.md``; otherwise the
section is printed. Goal (issue 18): with ``--budget B`` the call finishes within 1.2 x B.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

LOAD = float("nan")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
DATA = Path(os.environ.get("TRANSFERABILITY_DATA", ROOT.parent / "shared" / "data"))
OC = DATA / "office_caltech10_surf"
PAIRS = {
    "Office-Caltech D -> W (SURF, zscore)": (str(OC / "dslr_SURF_L10.mat"), str(OC / "webcam_SURF_L10.mat"), "zscore"),
    "Office-Caltech C -> A (SURF, zscore)": (str(OC / "Caltech10_SURF_L10.mat"), str(OC / "amazon_SURF_L10.mat"),
                                             "zscore"),
    "USPS -> MNIST (l2)": (str(DATA / "mnist_usps" / "USPS_vs_MNIST.mat") + ":src",
                           str(DATA / "mnist_usps" / "USPS_vs_MNIST.mat") + ":tar", "l2"),
}


def _timed(f):
    t0 = time.perf_counter()
    out = f()
    return out, time.perf_counter() - t0


def run(budgets):
    global LOAD
    LOAD = os.getloadavg()[0]
    from transferability.datasets import load_pair, preprocess_pair
    from transferability.meta.learners._recommend import recommend
    from transferability.methods import predict_methods

    rows = []
    for name, (s, t, prep) in PAIRS.items():
        pair = load_pair(s, t)
        yt = pair.y_target
        idx = np.random.default_rng(0).choice(len(yt), 20, replace=False)
        labels = (idx, yt[idx])
        rec0, t_zero = _timed(lambda: recommend(pair.X_source, pair.y_source, pair.X_target, preprocess=prep))
        rec1, t_ver = _timed(lambda: recommend(pair.X_source, pair.y_source, pair.X_target, preprocess=prep,
                                               target_labels=labels))
        Xs, Xt = preprocess_pair(pair.X_source, pair.X_target, prep)
        _, t_all = _timed(lambda: predict_methods(Xs, pair.y_source, Xt, methods="all"))
        by_budget = []
        for b in budgets:
            rb, tb = _timed(lambda b=b: recommend(pair.X_source, pair.y_source, pair.X_target, preprocess=prep,
                                                  target_labels=labels, budget=b))
            by_budget.append((b, tb, len(rb.verified["methods"]), rb.verified["pick"]))
        rows.append({"pair": name, "size": f"{len(pair.y_source)} -> {len(yt)} x {pair.X_source.shape[1]}",
                     "zero": t_zero, "verified": t_ver, "all": t_all, "pick0": rec0.best,
                     "pick": rec1.verified["pick"], "budgets": by_budget})
        print(rows[-1], flush=True)
    return rows


def render(rows, budgets) -> str:
    from _docs import machine_line

    L = ["## `recommend --target-labels` (20 labelled target rows)", "",
         f"Run with `OMP_NUM_THREADS=1 python benchmarks/bench_verify.py --write` on {machine_line()} "
         f"(load average {LOAD:.1f} at the start). Wall-clock seconds of one call each, in one process, side by "
         "side; the pair is loaded before. With a budget, each method runs in a worker process stopped at the end "
         "of the budget (the worker's start-up is inside the figures).", "",
         "| pair | size | zero-label recommend | with 20 labels | every method (fit + predict) | "
         "zero-label pick → verified pick |", "|---|---|---|---|---|---|"]
    for r in rows:
        L.append(f"| {r['pair']} | {r['size']} | {r['zero']:.1f} | {r['verified']:.1f} | {r['all']:.1f} | "
                 f"{r['pick0']} → {r['pick']} |")
    L += ["", "With a budget (goal: the call finishes within 1.2 × B):", "",
          "| pair | B (s) | wall (s) | wall / B | methods run | verified pick |", "|---|---|---|---|---|---|"]
    worst = 0.0
    for r in rows:
        for b, tb, k, pick in r["budgets"]:
            worst = max(worst, tb / b)
            L.append(f"| {r['pair']} | {b:g} | {tb:.1f} | {tb / b:.2f} | {k} | {pick} |")
    L += ["", f"Largest wall / B: {worst:.2f} (goal ≤ 1.2: {'**met**' if worst <= 1.2 else '**NOT met**'})."]
    return "\n".join(L)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--budgets", default="5,20")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    budgets = [float(b) for b in args.budgets.split(",")]
    text = render(run(budgets), budgets)
    if args.write:
        from _docs import write_section

        print(write_section("benchmarks.md", "verify", text))
    else:
        print(text)


if __name__ == "__main__":
    main()
