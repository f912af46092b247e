"""Benchmark the meta store build: throughput with 1 and 2 local workers, and the time of the
meta-features against the time of the whole method library, per pair size.

    python benchmarks/bench_store.py [--pairs 16] [--data-dir ../shared/data] [--quick]

Both throughput runs build the same generated pairs (all registered methods, base estimators
1nn and logreg, k-shot 1/3/5/10) into fresh stores, one after the other in one run.
Results go to docs/benchmarks.md between the store-bench markers.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _docs import machine_line, write_section  # noqa: E402


def throughput(n_pairs, n_jobs):
    from transferability.meta_store import BuildConfig, MetaStore, build, default_recipe

    gen = [s for s in default_recipe() if "generator" in s]
    specs = gen[:: max(1, len(gen) // n_pairs)][:n_pairs]  # spread over families and bases
    cfg = BuildConfig.make()
    with tempfile.TemporaryDirectory() as tmp:
        with MetaStore(os.path.join(tmp, "bench.sqlite")) as st:
            t0 = time.perf_counter()
            summary = build(st, specs, cfg, n_jobs=n_jobs, progress=False)
            sec = time.perf_counter() - t0
            stats = st.stats()
    return {"n_jobs": n_jobs, "pairs": len(specs), "outcomes": summary["outcomes_added"], "seconds": sec,
            "per_minute": summary["outcomes_added"] / sec * 60, "failed": stats["n_failed"]}


def feature_vs_methods(data_dir):
    from transferability.meta import compute_meta_features
    from transferability.meta_store import materialize
    from transferability.methods import evaluate_methods

    cases = [
        ("generated wine (label shift)", {"name": "w", "family": "f", "preprocess": "none",
                                          "generator": {"kind": "label_shift", "base": "wine", "level": 0.6,
                                                        "seed": 0}}),
        ("generated digits, 200 rows", {"name": "d2", "family": "f", "preprocess": "none",
                                        "generator": {"kind": "covariate_shift", "base": "digits", "level": 0.6,
                                                      "seed": 0, "n_max": 200}}),
        ("generated digits, 400 rows", {"name": "d4", "family": "f", "preprocess": "none",
                                        "generator": {"kind": "covariate_shift", "base": "digits", "level": 0.6,
                                                      "seed": 0, "n_max": 400}}),
    ]
    if data_dir and os.path.isdir(data_dir):
        cases += [
            ("SURF D->W (157/295, d=800)", {"name": "dw", "family": "f", "preprocess": "sum-zscore",
                                            "source": {"path": "office_caltech10_surf/dslr_SURF_L10.mat"},
                                            "target": {"path": "office_caltech10_surf/webcam_SURF_L10.mat"}}),
            ("SURF C->A at 500 rows (d=800)", {"name": "ca", "family": "f", "preprocess": "sum-zscore",
                                               "source": {"path": "office_caltech10_surf/Caltech10_SURF_L10.mat",
                                                          "max_rows": 500},
                                               "target": {"path": "office_caltech10_surf/amazon_SURF_L10.mat",
                                                          "max_rows": 500}}),
            ("USPS->MNIST at 500 rows (d=256)", {"name": "um", "family": "f", "preprocess": "l2",
                                                 "source": {"path": "mnist_usps/USPS_vs_MNIST.mat:src", "max_rows": 500},
                                                 "target": {"path": "mnist_usps/USPS_vs_MNIST.mat:tar", "max_rows": 500}}),
        ]
    rows = []
    for label, spec in cases:
        Xs, ys, Xt, yt, _, _ = materialize(spec, data_dir)
        t0 = time.perf_counter()
        compute_meta_features(Xs, ys, Xt)
        tf = time.perf_counter() - t0
        t0 = time.perf_counter()
        rep = evaluate_methods(Xs, ys, Xt, yt, methods="all", base_estimator="1nn", kshot=())
        tm = time.perf_counter() - t0
        rows.append({"pair": label, "shape": f"{Xs.shape[0]}/{Xt.shape[0]} x {Xs.shape[1]}", "features_s": tf,
                     "methods_s": tm, "n_methods": len(rep.results)})
        print(rows[-1], flush=True)
    return rows


def render(tp, fm):
    lines = ["## Meta store build", "", f"`python benchmarks/bench_store.py` — {machine_line()}.", "",
             "Throughput: the same generated pairs, every registered method × {1nn, logreg} + k-shot "
             "baselines, one fresh store per run, runs back to back:", "",
             "| local workers | pairs | outcomes | time (s) | outcomes / minute | failed |",
             "|---:|---:|---:|---:|---:|---:|"]
    for r in tp:
        lines.append(f"| {r['n_jobs']} | {r['pairs']} | {r['outcomes']} | {r['seconds']:.1f} | "
                     f"{r['per_minute']:.0f} | {r['failed']} |")
    if len(tp) == 2:
        lines += ["", f"Speed-up with 2 workers: {tp[0]['seconds'] / tp[1]['seconds']:.2f}x."]
    lines += ["", "Meta-features versus the whole method library (1nn, one base estimator), per pair:", "",
              "| pair | rows (s/t) x d | meta-features (s) | method library (s) | ratio |",
              "|---|---|---:|---:|---:|"]
    for r in fm:
        lines.append(f"| {r['pair']} | {r['shape']} | {r['features_s']:.2f} | {r['methods_s']:.2f} "
                     f"({r['n_methods']} methods) | {r['features_s'] / r['methods_s']:.2f} |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=16)
    ap.add_argument("--data-dir", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))
    ap.add_argument("--quick", action="store_true", help="4 pairs, print only")
    args = ap.parse_args(argv)
    n = 4 if args.quick else args.pairs
    tp = [throughput(n, 1), throughput(n, 2)]
    for r in tp:
        print(r, flush=True)
    fm = feature_vs_methods(args.data_dir)
    body = render(tp, fm)
    if args.quick:
        print(body)
    else:
        print("wrote", write_section("benchmarks.md", "store-bench", body))


if __name__ == "__main__":
    main()
