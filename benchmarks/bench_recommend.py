"""Benchmark: ``recommend`` end to end against running every method (``evaluate --methods all``).

1. Office-Caltech C -> A (SURF, ``sum-zscore``) and USPS -> MNIST (``l2``), full size, side by side
   in one run: the time of
   ``recommend`` (load, preprocess, meta-features, predict) and of ``evaluate_methods(all)`` with
   the same base estimator; the recommended method's measured accuracy and regret come for free.
2. A generated 100,000 x 256 pair (where running the library is out of reach): ``recommend``'s
   wall time and peak resident memory, in a fresh child process.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_recommend.py [--skip-run-all] [--write]

``--write`` puts the results into the ``recommend`` section of ``docs/benchmarks.md``;
otherwise the section is printed. Goals (MetaTrans issue): recommend <= 5 % of run-all time;
100k x 256 within 60 s and 2 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("TRANSFERABILITY_DATA", ROOT.parent / "shared" / "data"))
PAIRS = {
    "Office-Caltech C -> A (SURF, sum-zscore)": (str(DATA / "office_caltech10_surf" / "Caltech10_SURF_L10.mat"),
                                                 str(DATA / "office_caltech10_surf" / "amazon_SURF_L10.mat"), "sum-zscore"),
    "USPS -> MNIST (l2)": (str(DATA / "mnist_usps" / "USPS_vs_MNIST.mat") + ":src",
                           str(DATA / "mnist_usps" / "USPS_vs_MNIST.mat") + ":tar", "l2"),
}

_CHILD = r"""
import json, resource, sys, time
import numpy as np
t0 = time.perf_counter()
from transferability.meta.learners._recommend import recommend
rng = np.random.RandomState(0)
n, d, c = {n}, {d}, 10
centers = rng.randn(c, d).astype(np.float32) * 2
ys = rng.randint(c, size=n); yt = rng.randint(c, size=n)
Xs = centers[ys] + rng.randn(n, d).astype(np.float32)
Xt = (centers[yt] + rng.randn(n, d).astype(np.float32)) * 1.3 + 0.5
t1 = time.perf_counter()
rec = recommend(Xs, ys, Xt, base_estimator="1nn")
t2 = time.perf_counter()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
print(json.dumps({{"data_s": t1 - t0, "recommend_s": t2 - t1, "peak_mb": peak, "best": rec.best,
                   "in_distribution": rec.in_distribution}}))
"""


def bench_pair(source, target, preprocess, base_estimator, run_all):
    from transferability.datasets import load_pair
    from transferability.meta.learners._recommend import recommend

    t0 = time.perf_counter()
    pair = load_pair(source, target)
    rec = recommend(pair.X_source, pair.y_source, pair.X_target, base_estimator=base_estimator,
                    preprocess=preprocess)
    t_rec = time.perf_counter() - t0
    out = {"recommend_s": t_rec, "best": rec.best, "fallback": rec.fallback,
           "ranking": [(p.method, p.predicted_effect) for p in rec.ranking]}
    if run_all:
        from transferability.methods import evaluate_methods

        t0 = time.perf_counter()
        pair = load_pair(source, target, preprocess=preprocess)
        report = evaluate_methods(pair.X_source, pair.y_source, pair.X_target, pair.y_target, methods="all",
                                  base_estimator=base_estimator, kshot=[], random_state=0, progress=False)
        out["run_all_s"] = time.perf_counter() - t0
        acc = {r["method"]: r["target_accuracy"] for r in report.to_dict()["results"]}
        out["accuracy"] = acc
        ok = {m: a for m, a in acc.items() if a is not None}
        out["oracle"] = max(ok, key=ok.get)
        out["regret_points"] = 100 * (max(ok.values()) - ok[rec.best])
        out["fixed_default_regret_points"] = 100 * (max(ok.values()) - ok.get("meda", float("nan")))
    return out


def bench_large(n=100_000, d=256):
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-c", _CHILD.format(n=n, d=d)], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        return {"error": res.stderr.strip().splitlines()[-1] if res.stderr.strip() else f"exit {res.returncode}",
                "wall_s": wall}
    out = json.loads(res.stdout.strip().splitlines()[-1])
    out["wall_s"] = wall
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-run-all", action="store_true", help="Only time recommend on the real pairs.")
    ap.add_argument("--skip-large", action="store_true", help="Skip the 100k x 256 pair.")
    ap.add_argument("--base-estimator", default="1nn")
    ap.add_argument("--write", action="store_true", help="Write the section into docs/benchmarks.md.")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from _docs import machine_line, write_section

    lines = ["## MetaTrans `recommend`", "", f"Machine: {machine_line()}; "
             f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}. "
             "Produced by `python benchmarks/bench_recommend.py`.", ""]
    for title, (source, target, prep) in PAIRS.items():
        ca = bench_pair(source, target, prep, args.base_estimator, not args.skip_run_all)
        lines += [f"{title}, full size, base estimator {args.base_estimator}:", "",
                  "| | seconds |", "|---|---|", f"| recommend (load, meta-features, predict) | {ca['recommend_s']:.1f} |"]
        if "run_all_s" in ca:
            share = 100 * ca["recommend_s"] / ca["run_all_s"]
            lines += [f"| evaluate --methods all | {ca['run_all_s']:.1f} |", "",
                      f"recommend = {share:.1f} % of run-all (goal <= 5 %: {'met' if share <= 5 else 'NOT met'}). "
                      f"Recommended `{ca['best']}`{' (fixed default kept)' if ca['fallback'] else ''}; measured best "
                      f"`{ca['oracle']}`; regret of the recommendation {ca['regret_points']:.2f} points "
                      f"(always-MEDA: {ca['fixed_default_regret_points']:.2f}).", ""]
        else:
            lines += ["", f"Recommended `{ca['best']}` (run-all skipped).", ""]
    if not args.skip_large:
        lg = bench_large()
        lines += ["", "Generated 100,000 x 256 pair (float32, 10 classes), fresh process:", ""]
        if "error" in lg:
            lines.append(f"failed: {lg['error']} after {lg['wall_s']:.1f} s")
        else:
            ok = lg["recommend_s"] <= 60 and lg["peak_mb"] <= 2048
            lines += [f"recommend {lg['recommend_s']:.1f} s, peak RSS of the process (data "
                      f"included) {lg['peak_mb']:.0f} MB (goal 60 s and 2 GB: {'met' if ok else 'NOT met'}); "
                      f"in_distribution = {lg['in_distribution']}."]
    body = "\n".join(lines)
    if args.write:
        print(f"wrote {write_section('benchmarks.md', 'recommend', body)}")
    print(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
