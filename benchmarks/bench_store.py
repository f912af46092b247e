"""Benchmark the meta store build: throughput with 1 and 2 local workers, and the time of the
meta-features against the time of the whole method library, per pair size.

    python benchmarks/bench_store.py [--pairs 16] [--data-dir ../shared/data] [--quick]

Both throughput runs build the same pairs of the default recipe (a quarter real when the data
is there, the rest generated; --quick: 4 pairs, one of them real; all registered methods, base
estimators 1nn and logreg, k-shot 1/3/5/10) into fresh stores, one after the other in one run.
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


def throughput_specs(n_pairs, data_dir):
    """``n_pairs`` specs of the default recipe: a quarter real pairs (when the data is there),
    the rest generated, spread over families and bases."""
    from transferability.meta import default_recipe

    recipe = default_recipe()
    gen = [s for s in recipe if "generator" in s]
    real = [s for s in recipe if "generator" not in s] if data_dir and os.path.isdir(data_dir) else []
    n_real = min(len(real), n_pairs // 4)
    picked = real[:: max(1, len(real) // max(n_real, 1))][:n_real]
    return picked + gen[:: max(1, len(gen) // (n_pairs - n_real))][: n_pairs - n_real]


def throughput(specs, n_jobs, data_dir):
    from transferability.meta.build import BuildConfig, build
    from transferability.meta_store import MetaStore

    cfg = BuildConfig.make()
    with tempfile.TemporaryDirectory() as tmp:
        with MetaStore(os.path.join(tmp, "bench.sqlite")) as st:
            t0 = time.perf_counter()
            summary = build(st, specs, cfg, data_dir=data_dir, n_jobs=n_jobs, progress=False)
            sec = time.perf_counter() - t0
            stats = st.stats()
    return {"n_jobs": n_jobs, "pairs": len(specs), "real": [s["name"] for s in specs if "generator" not in s],
            "outcomes": summary["outcomes_added"], "seconds": sec,
            "per_minute": summary["outcomes_added"] / sec * 60, "failed": stats["n_failed"]}


REAL_CASES = [  # names in the default recipe: the pairs exactly as the shipped store has them
    ("SURF D->W (d=800)", "office_caltech_surf/D->W"),
    ("SURF C->A (d=800)", "office_caltech_surf/C->A"),
    ("DeCAF D->W (256 PCA axes)", "office_caltech_decaf/D->W"),
    ("USPS->MNIST (d=256)", "usps_mnist/USPS->MNIST"),
    ("COIL1->COIL2 (d=1024)", "coil20/COIL1->COIL2"),
]


def feature_vs_methods(data_dir):
    """Per pair: meta-features against the method library with each base estimator the build
    records (1nn and logreg; k-shot baselines not counted)."""
    from transferability.meta import compute_meta_features, default_recipe, materialize
    from transferability.methods import evaluate_methods

    def generated(kind, base, n_max=None):
        gen = {"kind": kind, "base": base, "level": 0.6, "seed": 0}
        if n_max:
            gen["n_max"] = n_max
        return {"name": "g", "family": "f", "preprocess": "none", "generator": gen}

    cases = [
        ("generated wine (label shift)", generated("label_shift", "wine")),
        ("generated digits, 200 rows", generated("covariate_shift", "digits", 200)),
        ("generated digits, 400 rows", generated("covariate_shift", "digits", 400)),
    ]
    if data_dir and os.path.isdir(data_dir):
        recipe = {s["name"]: s for s in default_recipe()}
        cases += [(label, recipe[name]) for label, name in REAL_CASES]
    rows = []
    for label, spec in cases:
        Xs, ys, Xt, yt, _, _ = materialize(spec, data_dir)
        t0 = time.perf_counter()
        compute_meta_features(Xs, ys, Xt)
        row = {"pair": label, "shape": f"{Xs.shape[0]}/{Xt.shape[0]} x {Xs.shape[1]}",
               "features_s": time.perf_counter() - t0}
        for base in ("1nn", "logreg"):
            t0 = time.perf_counter()
            rep = evaluate_methods(Xs, ys, Xt, yt, methods="all", base_estimator=base, kshot=())
            row[f"{base}_s"] = time.perf_counter() - t0
            row["n_methods"] = len(rep.results)
        rows.append(row)
        print(rows[-1], flush=True)
    return rows


def render(tp, fm):
    lines = ["## Meta store build", "", f"`python benchmarks/bench_store.py` — {machine_line()}.", "",
             "Throughput: the same pairs of the default recipe (real and generated, see the table), every "
             "registered method × {1nn, logreg} + k-shot baselines 1/3/5/10, one fresh store per run, runs back "
             "to back:", "",
             "| local workers | pairs (real) | outcomes | time (s) | outcomes / minute | failed |",
             "|---:|---:|---:|---:|---:|---:|"]
    for r in tp:
        lines.append(f"| {r['n_jobs']} | {r['pairs']} ({len(r['real'])}) | {r['outcomes']} | {r['seconds']:.1f} | "
                     f"{r['per_minute']:.0f} | {r['failed']} |")
    if len(tp) == 2:
        lines += ["", f"Speed-up with 2 workers: {tp[0]['seconds'] / tp[1]['seconds']:.2f}x."]
    if tp and tp[0]["real"]:
        lines += ["", "Real pairs in the mix (an even spread over the recipe's list): "
                  + ", ".join(f"`{n}`" for n in tp[0]["real"]) + ". Sub-sampled and class-subset variants "
                  "are lighter than the full real pairs, so a mix's rate is not the whole default build's "
                  "(see docs/meta_store.md for that)."]
    lines += ["", "Meta-features versus the whole method library, per pair (real pairs exactly as the default "
              "recipe draws them; one process, one after the other). The build runs the library once per base "
              "estimator, so the last column is the share that matters for build time:", "",
              "| pair | rows (s/t) x d | meta-features (s) | library, 1nn (s) | library, logreg (s) | "
              "features / 1nn | features / (1nn + logreg) |",
              "|---|---|---:|---:|---:|---:|---:|"]
    for r in fm:
        lines.append(f"| {r['pair']} | {r['shape']} | {r['features_s']:.2f} | {r['1nn_s']:.2f} | {r['logreg_s']:.2f} | "
                     f"{r['features_s'] / r['1nn_s']:.2f} | {r['features_s'] / (r['1nn_s'] + r['logreg_s']):.2f} |")
    if fm:
        n = fm[0]["n_methods"]
        lines += ["", f"Each library run is the {n} registered methods; k-shot baselines are not counted."]
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=16)
    ap.add_argument("--data-dir", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))
    ap.add_argument("--quick", action="store_true", help="4 pairs, print only")
    args = ap.parse_args(argv)
    if args.pairs < 1:
        ap.error("--pairs must be at least 1")
    n = 4 if args.quick else args.pairs
    specs = throughput_specs(n, args.data_dir)
    print("throughput pairs:", [sp["name"] for sp in specs], flush=True)
    tp = [throughput(specs, 1, args.data_dir), throughput(specs, 2, args.data_dir)]
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
