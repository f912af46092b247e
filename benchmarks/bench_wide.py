"""Benchmark: ``transferability divergences`` on a wide pair (500 x 8,000 per domain), with the
d-heavy measures projected (the default, ``--max-features 1024``) and without (``--max-features 0``,
what the command did before it bounded wide inputs).

Each run is its own ``transferability`` process (wall time includes start-up and loading), with
peak memory from ``ru_maxrss`` of a wrapper child. Without projection the Fréchet and Grassmann
distances take minutes on d = 8,000; every run is cut at ``--timeout`` seconds and reported as
"> T s".

    python benchmarks/bench_wide.py                # both, prints a markdown table
    python benchmarks/bench_wide.py --after-only   # only the projected command

The table goes to docs/benchmarks.md ("Wide inputs") by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _docs import machine_line  # noqa: E402

MEASURES = ("mmd", "linear_mmd", "rbf_mmd", "coral", "frechet", "grassmann", "proxy_a_distance", "h_divergence",
            "knn_overlap")

WRAPPER = r"""
import json, resource, subprocess, sys, time
t = time.perf_counter()
try:
    p = subprocess.run(sys.argv[2:], capture_output=True, text=True, timeout=float(sys.argv[1]))
    rc, out = p.returncode, p.stdout
except subprocess.TimeoutExpired:
    rc, out = None, ""
wall = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"rc": rc, "wall_s": wall, "rss_mb": rss / 1024, "stdout": out}))
"""


def _run(args, timeout):
    exe = shutil.which("transferability") or sys.exit("transferability is not installed")
    p = subprocess.run([sys.executable, "-c", WRAPPER, str(timeout), exe, *args], capture_output=True, text=True,
                       check=True)
    return json.loads(p.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=float, default=170.0)
    ap.add_argument("--after-only", action="store_true")
    a = ap.parse_args()
    import numpy as np

    d = tempfile.mkdtemp(prefix="bench-wide-")
    try:
        rng = np.random.RandomState(0)
        s, t = f"{d}/s.npz", f"{d}/t.npz"
        np.savez(s, X=rng.randn(500, 8000))
        np.savez(t, X=rng.randn(500, 8000) * 1.2 + 0.3)
        print(f"machine: {machine_line()}\n")
        after = _run(["divergences", s, t, "--json"], a.timeout)
        out = json.loads(after["stdout"])
        p = out["projection"]
        print(f"all 9 measures, projected: {after['wall_s']:.1f} s wall, {after['rss_mb']:.0f} MB; projection "
              f"{p['method']} ({'exact' if p['exact'] else 'approximate'}) to {p['n_components']} of "
              f"{p['n_features']} columns in {p['runtime_s']:.2f} s\n")
        print("| measure | projected: in-process s | unprojected (`--max-features 0`): own process, wall s |")
        print("|---|---|---|")
        for m in MEASURES:
            before = "" if a.after_only else _run(["divergences", s, t, "--json", "--measures", m,
                                                   "--max-features", "0"], a.timeout)
            b = "" if a.after_only else (f"> {a.timeout:.0f}" if before["rc"] is None else f"{before['wall_s']:.1f}")
            print(f"| `{m}` | {out['runtime_s'][m]:.2f} | {b} |")
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
