"""Benchmark: time and accuracy of every registered method, against a dense reference and skada.

On two pairs, USPS->MNIST (3,800 samples, d = 256, preprocess ``l2``) and Office-Caltech SURF
C->A (2,081 samples, d = 800, ``sum-zscore``), with a 1-NN base estimator:

1. every registered method (defaults; TCA/JDA/BDA with the JDA paper's settings: k = 100,
   primal projection, lambda = 1.0 on Office-Caltech and 0.1 on digits, T = 10, BDA mu = 0.5):
   target accuracy and time of fit + predict;
2. TCA/JDA/BDA against the dense reference formulation of
   :mod:`transferability.methods._reference` (dense ``n x n`` H and M, ``scipy.linalg.eig`` on
   the general problem), same settings; goal: ours >= 3x faster at the same accuracy +- 0.5 points;
3. the same methods in skada (scikit-adaptation) where it has them (TCA, SA, CORAL, KMM,
   KLIEP), same base estimator and preprocessing: accuracy and time;
4. ``evaluate_methods(..., methods="all")`` on C->A (every method + the 1/3/5/10-shot
   baselines); goal: <= 2 minutes;
5. BLAS thread policy: the same ``evaluate_methods(..., methods="all")`` on C->A with BLAS held
   at 1 thread and at one thread per core (the BLAS default here), alternately in one run, with
   the load average seen; the library's default (``n_threads``) must never be the slower one;
6. low-dimensional pairs (Elec2 time blocks, d = 7, and a Gaussian pair, d = 3; 1,000 rows per
   domain): every method, and KMM with its ridge (default) against the paper's ridge-free QP.

Times are the median of ``--repeats`` runs (one run only when the first takes more than
20 s), measured one after the other in one process (no parallel jobs) with ``--threads`` BLAS
threads (default 1), on a machine that may be shared. Results go into ``docs/benchmarks.md`` between ``<!-- methods-bench:begin -->`` and
``<!-- methods-bench:end -->`` only (the markers are appended when absent).

    python benchmarks/bench_methods.py                 # full run, writes docs/benchmarks.md
    python benchmarks/bench_methods.py --quick         # C->A only, 1 repeat, prints only

bench note: skada is **not** a project dependency; install it only to run this benchmark:
``pip install skada==0.6.0`` (it pulls POT and pandas, and sets scikit-learn's
``enable_metadata_routing`` globally at import, so it is imported only after our own
measurements). Without it, part 3 says so and the rest still runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _docs import machine_line, write_section  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data"

PAIRS = {
    "USPS->MNIST": ("mnist_usps/USPS_vs_MNIST.mat:src", "mnist_usps/USPS_vs_MNIST.mat:tar", "l2", 0.1),
    "C->A": ("office_caltech10_surf/Caltech10_SURF_L10.mat", "office_caltech10_surf/amazon_SURF_L10.mat",
             "sum-zscore", 1.0),
}
SUBSPACE_MMD = ("tca", "jda", "bda")
SLOW_S = 20.0
GOAL_SPEEDUP = 3.0
GOAL_ACC = 0.5
GOAL_ALL_S = 120.0


def load_pair(data_dir, name):
    from transferability.datasets import load_domain, preprocess_pair

    s, t, pp, _ = PAIRS[name]
    src = load_domain(os.path.join(data_dir, s))
    tgt = load_domain(os.path.join(data_dir, t))
    Xs, Xt = preprocess_pair(src.X, tgt.X, pp)
    return Xs, src.y, Xt, tgt.y


def paper_params(method, lam):
    """The JDA paper's settings for the MMD-subspace methods (k = 100, primal, lambda, T = 10)."""
    p = {"n_components": 100, "lam": lam, "kernel": "primal"}
    if method in ("jda", "bda"):
        p["n_iter"] = 10
    if method == "bda":
        p["mu"] = 0.5
    return p


LOW_D_ROWS = 1000


def low_d_pairs(data_dir):
    """(name, Xs, ys, Xt, yt, note) of the low-dimensional pairs, 1,000 rows per domain."""
    from transferability.datasets import preprocess_pair

    rng = np.random.RandomState(0)
    out = []
    try:
        from transferability.datasets._real import load_real_domain

        s = load_real_domain("elec2", "block0", data_dir=data_dir)
        t = load_real_domain("elec2", "block5", data_dir=data_dir)
        i = np.sort(rng.choice(len(s.y), LOW_D_ROWS, replace=False))
        j = np.sort(rng.choice(len(t.y), LOW_D_ROWS, replace=False))
        Xs, Xt = preprocess_pair(s.X[i], t.X[j], "zscore-source")
        out.append(("Elec2 block0->block5", Xs, s.y[i], Xt, t.y[j],
                    f"d = {Xs.shape[1]}, {LOW_D_ROWS} random rows of each block, zscore-source"))
    except Exception as exc:  # reported, the synthetic pair still runs
        print(f"Elec2 pair unavailable: {type(exc).__name__}: {exc}", file=sys.stderr)
    Xs = rng.randn(LOW_D_ROWS, 3)
    ys = (Xs[:, 0] + 0.5 * Xs[:, 1] > 0).astype(int)
    Xt = rng.randn(LOW_D_ROWS, 3) * 0.8 + [0.8, -0.3, 0.0]
    yt = (Xt[:, 0] + 0.5 * Xt[:, 1] > 0).astype(int)
    out.append(("Gaussian d=3", Xs, ys, Xt, yt,
                "d = 3, source N(0, I), target N((0.8, -0.3, 0), 0.64 I), linear concept"))
    return out


def timed(fn, repeats):
    """Run ``fn`` (returns target predictions) up to ``repeats`` times.

    Returns (predictions, median wall s, median process CPU s (all threads), runs).
    """
    times, cpus, pred = [], [], None
    for i in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        pred = fn()
        times.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        if times[0] > SLOW_S:
            break
    return pred, statistics.median(times), statistics.median(cpus), len(times)


def run_ours(method, params, Xs, ys, Xt, yt, repeats, base="1nn"):
    from transferability.methods import get_method

    def fn():
        return get_method(method, base_estimator=base, random_state=0, **params) \
            .fit_domains(Xs, ys, Xt).predict(Xt)

    return run_fn(fn, yt, repeats)


def run_fn(fn, yt, repeats):
    try:
        pred, sec, cpu, n = timed(fn, repeats)
        return {"acc": 100.0 * float(np.mean(np.asarray(pred) == yt)), "s": sec, "cpu": cpu,
                "runs": n, "error": None}
    except Exception as exc:  # reported, never raised
        msg = str(exc).splitlines()[0] if str(exc) else ""
        return {"acc": None, "s": None, "cpu": None, "runs": 0,
                "error": f"{type(exc).__name__}: {msg}".rstrip(": ")}


def _merge(runs):
    """Median wall/CPU time over single runs (accuracy of the first; they are deterministic)."""
    ok = [r for r in runs if r["error"] is None]
    if not ok:
        return runs[0]
    return {"acc": ok[0]["acc"], "s": statistics.median(r["s"] for r in ok),
            "cpu": statistics.median(r["cpu"] for r in ok), "runs": len(ok), "error": None}


def _f(v, nd=2):
    return "–" if v is None else f"{v:.{nd}f}"


# --- skada -----------------------------------------------------------------------------------

def skada_runs(Xs, ys, Xt, yt, lam, repeats):
    """skada 0.6.0 counterparts, 1-NN base (plus KMM/KLIEP with a weighted logistic regression)."""
    import skada
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.preprocessing import LabelEncoder

    enc = LabelEncoder().fit(ys)
    X = np.vstack([Xs, Xt])
    y = np.concatenate([enc.transform(ys), -np.ones(len(Xt), dtype=int)])  # masked target labels
    sd = np.concatenate([np.ones(len(Xs), dtype=int), -2 * np.ones(len(Xt), dtype=int)])
    sd_t = -2 * np.ones(len(Xt), dtype=int)

    def nn():
        return KNeighborsClassifier(n_neighbors=1, algorithm="brute")

    def lr():
        return LogisticRegression(C=1.0, max_iter=2000, random_state=0).set_fit_request(sample_weight=True)

    configs = {
        ("tca", "1nn"): ("TransferComponentAnalysis(kernel='linear', n_components=100, mu=lambda)",
                         lambda: skada.TransferComponentAnalysis(nn(), kernel="linear",
                                                                 n_components=100, mu=lam)),
        ("sa", "1nn"): ("SubspaceAlignment(n_components=20)",
                        lambda: skada.SubspaceAlignment(nn(), n_components=20, random_state=0)),
        ("coral", "1nn"): ("CORAL(reg=1.0)", lambda: skada.CORAL(nn(), reg=1.0)),
        ("kmm", "1nn"): ("KMMReweight() defaults", lambda: skada.KMMReweight(nn())),
        ("kliep", "1nn"): ("KLIEPReweight() defaults", lambda: skada.KLIEPReweight(nn(), random_state=0)),
        ("kmm", "logreg"): ("KMMReweight() defaults, weighted LogisticRegression(C=1)",
                            lambda: skada.KMMReweight(lr())),
        ("kliep", "logreg"): ("KLIEPReweight() defaults, weighted LogisticRegression(C=1)",
                              lambda: skada.KLIEPReweight(lr(), random_state=0)),
    }
    out = {}
    for key, (desc, make) in configs.items():
        def fn(make=make):
            pipe = make().fit(X, y, sample_domain=sd)
            return enc.inverse_transform(np.asarray(pipe.predict(Xt, sample_domain=sd_t), dtype=int))

        r = run_fn(fn, yt, repeats)
        r["desc"] = desc
        out[key] = r
    return out


# --- main ------------------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=str(DEFAULT_DATA))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="C->A only, 1 repeat, print only")
    ap.add_argument("--no-write", action="store_true", help="print only, do not write docs")
    ap.add_argument("--thread-rounds", type=int, default=1,
                    help="alternating rounds of part 5 (each: one run per thread policy)")
    ap.add_argument("--threads", type=int, default=1,
                    help="BLAS/OpenMP threads (default 1: on this shared, loaded 2-core machine "
                         "2 OpenBLAS threads made the methods 4-35x slower, e.g. TCA on C->A "
                         "8-13 s instead of 0.24 s)")
    args = ap.parse_args(argv)
    # load every BLAS/OpenMP library first (numpy's and scipy's OpenBLAS, scikit-learn's OpenMP):
    # threadpool_limits only limits the libraries already loaded
    import scipy.linalg  # noqa: F401
    import sklearn.neighbors  # noqa: F401
    from threadpoolctl import threadpool_info, threadpool_limits

    import transferability.methods  # noqa: F401

    # 5. the thread policy, measured first (before skada changes scikit-learn's configuration)
    # and outside the benchmark's own thread limit
    part5 = [] if args.quick else thread_policy_section(args)
    with threadpool_limits(limits=max(1, args.threads)):
        L, low_lines, total = _main(args, threadpool_info)
    L += part5 + low_lines
    body = "\n".join(L)
    print(body)
    if not (args.quick or args.no_write):
        path = write_section("benchmarks.md", "methods-bench", body)
        print(f"wrote {path}", file=sys.stderr)
    return 0


def thread_policy_section(args):
    """Part 5: evaluate_methods(all) on C->A at 1 BLAS thread and at one per core, alternately."""
    from transferability.methods import DEFAULT_N_THREADS, evaluate_methods

    Xs, ys, Xt, yt = load_pair(os.path.abspath(args.data_dir), "C->A")
    policies = [1, os.cpu_count() or 2]
    runs = {p: [] for p in policies}
    loads = [os.getloadavg()[0]]
    for _ in range(max(1, args.thread_rounds)):
        for p in policies:
            print(f"C->A: evaluate_methods(all), {p} BLAS thread(s) ...", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            rep = evaluate_methods(Xs, ys, Xt, yt, methods="all", n_threads=p)
            runs[p].append((time.perf_counter() - t0, rep))
            loads.append(os.getloadavg()[0])
    L = []
    w = L.append
    w("### 5. BLAS threads: `evaluate_methods(..., methods=\"all\")` on C->A")
    w("")
    w(f"The same call with BLAS/OpenMP held at 1 thread and at {policies[1]} threads (one per "
      f"core: what OpenBLAS uses by default here), alternately, {max(1, args.thread_rounds)} "
      f"round(s); 1-min load average {', '.join(f'{v:.1f}' for v in loads)} before and after each "
      f"run (2 = both cores busy; other jobs were running). Library default: "
      f"`n_threads={DEFAULT_N_THREADS}` (`$TRANSFERABILITY_BLAS_THREADS` or `n_threads` change it).")
    w("")
    w("| method | " + " | ".join(f"{p} thread(s): time (s)" for p in policies) + " | accuracy |")
    w("|---|" + "---|" * len(policies) + "---|")
    first = runs[policies[0]][0][1]
    for i, r in enumerate(first.results):
        cells = [_f(statistics.median(rr.results[i].runtime_s for _, rr in runs[p])) for p in policies]
        acc = _f(None if r.target_accuracy is None else 100 * r.target_accuracy)
        w(f"| `{r.method}` | " + " | ".join(cells) + f" | {acc} |")
    totals = {p: statistics.median(t for t, _ in runs[p]) for p in policies}
    w("| **whole call (k-shot included)** | " + " | ".join(f"**{totals[p]:.1f}**" for p in policies) + " | |")
    same = all(r.target_accuracy == rr.results[i].target_accuracy
               for p in policies for _, rr in runs[p] for i, r in enumerate(first.results))
    w("")
    w(f"Accuracies identical under both policies: {'yes' if same else 'NO'}. "
      f"1 thread {'was not slower' if totals[1] <= totals[policies[1]] else 'was SLOWER'} "
      f"({totals[1]:.1f} s against {totals[policies[1]]:.1f} s).")
    w("")
    return L


def _main(args, threadpool_info):

    from transferability.methods import available_methods, evaluate_methods
    from transferability.methods import _reference as ref

    data_dir = os.path.abspath(args.data_dir)
    pairs = ["C->A"] if args.quick else list(PAIRS)
    repeats = 1 if args.quick else max(1, args.repeats)
    methods = available_methods()
    ours, refs = {}, {}
    started = time.perf_counter()
    load_start = os.getloadavg()
    for pair in pairs:
        Xs, ys, Xt, yt = load_pair(data_dir, pair)
        lam = PAIRS[pair][3]
        for m in methods:
            if m in SUBSPACE_MMD:
                continue  # timed below, alternating with the reference
            print(f"{pair}: {m} ...", file=sys.stderr, flush=True)
            ours[(pair, m, "1nn")] = run_ours(m, {}, Xs, ys, Xt, yt, repeats)
        print(f"{pair}: bda (mu=auto) ...", file=sys.stderr, flush=True)
        p = {k: v for k, v in paper_params("bda", lam).items() if k != "mu"}
        ours[(pair, "bda_auto", "1nn")] = run_ours("bda", p, Xs, ys, Xt, yt, repeats)
        for m in ("kmm", "kliep"):
            if m in methods:
                print(f"{pair}: {m} (logreg) ...", file=sys.stderr, flush=True)
                ours[(pair, m, "logreg")] = run_ours(m, {}, Xs, ys, Xt, yt, repeats, base="logreg")
        for m in SUBSPACE_MMD:
            # one run of ours, one of the reference, alternately, so both see the same load
            fn = getattr(ref, f"reference_{m}")
            p = paper_params(m, lam)
            print(f"{pair}: {m} and reference {m} ...", file=sys.stderr, flush=True)
            o_runs, r_runs = [], []
            for _ in range(repeats):
                if m in methods:
                    o_runs.append(run_ours(m, p, Xs, ys, Xt, yt, 1))
                r_runs.append(run_fn(lambda fn=fn, p=p: fn(Xs, ys, Xt, base_estimator="1nn", **p), yt, 1))
                if (r_runs[-1]["s"] or 0) > SLOW_S and (not o_runs or (o_runs[-1]["s"] or 0) > SLOW_S):
                    break
            if o_runs:
                ours[(pair, m, "1nn")] = _merge(o_runs)
            refs[(pair, m)] = _merge(r_runs)

    # 6. low-dimensional pairs
    low = []
    if not args.quick:
        for name, lXs, lys, lXt, lyt, note in low_d_pairs(data_dir):
            rows = {}
            for m in methods:
                print(f"{name}: {m} ...", file=sys.stderr, flush=True)
                rows[(m, "1nn", "")] = run_ours(m, {}, lXs, lys, lXt, lyt, 1)
            for base in ("1nn", "logreg"):
                for ridge in (0.0, None):
                    print(f"{name}: kmm ({base}, ridge={ridge}) ...", file=sys.stderr, flush=True)
                    p = {} if ridge is None else {"ridge": ridge}
                    rows[("kmm", base, "ridge 0 (the paper's QP)" if ridge == 0 else "default ridge")] = \
                        run_ours("kmm", p, lXs, lys, lXt, lyt, 1, base=base)
            low.append((name, note, rows))

    # 4. evaluate_methods(all) on C->A (before skada is imported: it changes sklearn's config)
    Xs, ys, Xt, yt = load_pair(data_dir, "C->A")
    print("C->A: evaluate_methods(all) ...", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    report = evaluate_methods(Xs, ys, Xt, yt, methods="all")
    eval_all_s = time.perf_counter() - t0

    # 3. skada
    sk, sk_error = {}, None
    try:
        import skada

        sk_version = skada.__version__
    except Exception as exc:
        sk_error = f"skada not available ({type(exc).__name__}: {exc}); `pip install skada==0.6.0`"
        sk_version = None
    if sk_error is None:
        for pair in pairs:
            Xs, ys, Xt, yt = load_pair(data_dir, pair)
            print(f"{pair}: skada ...", file=sys.stderr, flush=True)
            for key, r in skada_runs(Xs, ys, Xt, yt, PAIRS[pair][3], repeats).items():
                sk[(pair,) + key] = r
    total = time.perf_counter() - started
    load_end = os.getloadavg()

    # --- render -----------------------------------------------------------------------------
    blas = ", ".join(sorted({f"{i.get('internal_api')} ({i.get('num_threads')} threads)"
                             for i in threadpool_info()}))
    L = []
    w = L.append
    w("## Method library: speed and accuracy")
    w("")
    w("Generated by `python benchmarks/bench_methods.py" + (" --quick" if args.quick else "")
      + "`; do not edit this section by hand.")
    w("")
    w(f"- machine: {machine_line()}; BLAS: {blas}; timings taken one after the other in one "
      f"process on a machine shared with other jobs; median of {repeats} run(s) "
      f"(1 run when the first takes > {SLOW_S:g} s); total benchmark time {total / 60:.1f} min; "
      f"1-min load average {load_start[0]:.1f} at the start, {load_end[0]:.1f} at the end "
      f"(2 = both cores busy); BLAS/OpenMP limited to {args.threads} thread(s) (`--threads`) in "
      "parts 1-4 and 6; part 5 compares thread policies")
    w("- pairs: " + "; ".join(f"{p} (preprocess `{PAIRS[p][2]}`)" for p in pairs)
      + "; base estimator 1-NN; accuracy in % on all target samples; time = fit + predict")
    w("- TCA/JDA/BDA (ours and reference): k = 100, primal projection, lambda = 1.0 (C->A) / "
      "0.1 (USPS->MNIST), T = 10, BDA mu = 0.5 — the JDA paper's settings (the extra `bda` row: "
      "the same with mu estimated, the default); every other method at its defaults.")
    w("")
    w("### 1. Every registered method")
    w("")
    w("| method | " + " | ".join(f"{p} acc | {p} time (s)" for p in pairs) + " |")
    w("|---|" + "---|---|" * len(pairs))
    for m in methods + ["bda_auto"]:
        cells = []
        for p in pairs:
            r = ours[(p, m, "1nn")]
            cells += ["failed" if r["error"] else _f(r["acc"]), _f(r["s"])]
        label = "`bda` (mu = \"auto\", the default)" if m == "bda_auto" else f"`{m}`"
        w(f"| {label} | " + " | ".join(cells) + " |")
    errs = [f"- `{m}` on {p}: {r['error']}" for (p, m, b), r in ours.items() if r["error"]]
    if errs:
        w("")
        L.extend(errs)
    w("")
    w("### 2. TCA / JDA / BDA against the dense reference formulation")
    w("")
    w("Reference: `transferability.methods._reference` (dense n x n H and M, `scipy.linalg.eig` on the "
      f"general problem). Goal: ours >= {GOAL_SPEEDUP:g}x faster, "
      f"|accuracy difference| <= {GOAL_ACC:g} points.")
    w("")
    w("Ours and the reference run alternately (one run each, repeated), so both see the same load; "
      "CPU = process CPU time over all threads.")
    w("")
    w("| pair | method | ours acc | reference acc | ours (s) | reference (s) | ours CPU (s) | "
      "reference CPU (s) | speed-up (wall) | goal |")
    w("|---|---|---|---|---|---|---|---|---|---|")
    for p in pairs:
        for m in SUBSPACE_MMD:
            o = ours.get((p, m, "1nn"), {"acc": None, "s": None, "error": "not registered"})
            r = refs[(p, m)]
            if o["error"] or r["error"]:
                w(f"| {p} | `{m}` | {o['error'] or _f(o['acc'])} | {r['error'] or _f(r['acc'])} | "
                  f"{_f(o['s'])} | {_f(r['s'])} | {_f(o.get('cpu'))} | {_f(r.get('cpu'))} | – | not met |")
                continue
            speed = r["s"] / o["s"]
            met = speed >= GOAL_SPEEDUP and abs(o["acc"] - r["acc"]) <= GOAL_ACC
            w(f"| {p} | `{m}` | {_f(o['acc'])} | {_f(r['acc'])} | {_f(o['s'])} | {_f(r['s'])} | "
              f"{_f(o['cpu'])} | {_f(r['cpu'])} | {speed:.1f}x | {'met' if met else 'not met'} |")
    w("")
    w("### 3. Against skada")
    w("")
    if sk_error:
        w(sk_error)
    else:
        w(f"skada {sk_version} (not a project dependency), same preprocessing and base estimator. "
          "skada's reweighting methods pass weights only to estimators that accept `sample_weight`: "
          "with 1-NN the weights are silently dropped (so skada KMM/KLIEP + 1-NN equal no "
          "adaptation); the `logreg` rows use a weighted `LogisticRegression(C=1)` on both sides. "
          "skada TCA is the kernel form `(I + mu K L K)^-1 K H K` (linear kernel, mu = lambda), "
          "ours the published generalized eigenproblem.")
        w("")
        w("| pair | method | base | ours acc | skada acc | ours (s) | skada (s) | skada setting |")
        w("|---|---|---|---|---|---|---|---|")
        for (p, m, b), r in sk.items():
            o = ours.get((p, m, b))
            oa = "not registered" if o is None else (o["error"] or _f(o["acc"]))
            os_ = "–" if o is None else _f(o["s"])
            w(f"| {p} | `{m}` | {b} | {oa} | {r['error'] or _f(r['acc'])} | {os_} | {_f(r['s'])} | "
              f"{r['desc']} |")
    w("")
    w("### 4. `evaluate_methods(..., methods=\"all\")` on C->A")
    w("")
    n_ok = sum(r.status == "ok" for r in report.results)
    w(f"{len(report.results)} methods ({n_ok} ok"
      + "".join(f"; `{r.method}` failed: {r.error}" for r in report.results if r.status != "ok")
      + f") plus the 1/3/5/10-shot baselines: **{eval_all_s:.1f} s** (goal <= {GOAL_ALL_S:g} s: "
      f"{'met' if eval_all_s <= GOAL_ALL_S else 'not met'}). k-shot (1-NN): "
      + ", ".join(f"{k}: {100 * v:.2f}" for k, v in report.kshot.items()) + ".")
    w("")
    return L, low_d_section(low), total


def low_d_section(low):
    """Part 6 table: every method on each low-dimensional pair, and KMM with / without ridge."""
    L = []
    w = L.append
    if not low:
        return L
    w("### 6. Low-dimensional pairs")
    w("")
    w("Every method at its defaults (1-NN), one run each, and KMM with its default ridge "
      "(`ridge=1e-3` on the kernel's diagonal) against `ridge=0`, the paper's QP as the library "
      "solved it before: on low-dimensional data the Gaussian Gram matrix is numerically "
      "singular, the ridge-free QP has a flat valley of minimisers and L-BFGS-B wandered along "
      "it, often up to its 5,000-iteration cap: the ridge bounds the iteration count (it is not "
      "faster on every pair). KMM also runs its QP on one BLAS thread now.")
    w("")
    for name, note, rows in low:
        w(f"**{name}** ({note})")
        w("")
        w("| method | base | setting | accuracy | time (s) |")
        w("|---|---|---|---|---|")
        for (m, base, setting), r in rows.items():
            w(f"| `{m}` | {base} | {setting or 'defaults'} | "
              f"{r['error'] or _f(r['acc'])} | {_f(r['s'])} |")
        w("")
    return L


if __name__ == "__main__":
    sys.exit(main())
