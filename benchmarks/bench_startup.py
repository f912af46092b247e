"""Benchmark: how long the command line takes to start, and how much of a command is imports.

Side by side in one run, each in fresh child processes (median of ``--repeat`` runs):

1. wall time of ``transferability --help``, ``transferability score --help`` and
   ``transferability recommend --help`` (the console script's own code,
   ``from transferability.cli.main import main; main()``, without a shell wrapper such as a
   pyenv shim), next to ``python -c pass`` (the interpreter alone);
2. the **import share** of ``score`` and ``recommend`` on Office-Caltech Caltech -> Amazon
   (SURF, ``--preprocess sum-zscore``): the command runs once under ``python -X importtime``,
   which lists the modules it imports at top level (those the interpreter imports at start-up
   left out); then fresh processes import exactly those modules, in the same order, under a
   plain ``time.perf_counter`` (no profiler overhead). The command's whole wall time, and the
   share that numpy + scipy + scikit-learn alone take (the floor while the meta-features use
   scikit-learn), are given beside it.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_startup.py [--repeat 5] [--write]

``--write`` puts the results into the ``startup`` section of ``docs/benchmarks.md``; otherwise
the section is printed. Goals (issue 20, part 5): ``--help`` <= 0.3 s; the import share of
``recommend`` on Caltech -> Amazon <= 0.5 s.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("TRANSFERABILITY_DATA", ROOT.parent / "shared" / "data"))
SURF = DATA / "office_caltech10_surf"
PAIR = [str(SURF / "Caltech10_SURF_L10.mat"), str(SURF / "amazon_SURF_L10.mat"), "--preprocess", "sum-zscore"]
ENTRY = "from transferability.cli.main import main; main()"
HELP_GOAL_S, RECOMMEND_IMPORT_GOAL_S = 0.3, 0.5
# what the meta-features need from the scientific stack (DESIGN.md: scikit-learn over hand-written code)
FLOOR = ("numpy", "scipy.linalg", "sklearn.linear_model", "sklearn.model_selection", "sklearn.neighbors",
         "sklearn.pipeline", "sklearn.preprocessing")
_IMPORT_LINE = re.compile(r"import time:\s+\d+ \|\s+(\d+) \| (\s*)(\S+)")
_REPLAY = ("import importlib, sys, time\n"
           "t = time.perf_counter()\n"
           "for m in sys.argv[1:]:\n"
           "    importlib.import_module(m)\n"
           "print(time.perf_counter() - t)\n")


def _env():
    return dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))


def _wall(argv) -> float:
    t0 = time.perf_counter()
    res = subprocess.run(argv, capture_output=True, text=True, env=_env())
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:4])} ...: exit {res.returncode}: {res.stderr.strip()[-300:]}")
    return wall


def _median_wall(argv, repeat) -> float:
    return statistics.median(_wall(argv) for _ in range(repeat))


def top_level_imports(stderr: str) -> list:
    """The modules imported at top level (indent 0) in a ``-X importtime`` listing, in order."""
    return [m.group(3) for m in map(_IMPORT_LINE.match, stderr.splitlines()) if m and not m.group(2)]


def _importtime(argv) -> tuple:
    """Run ``argv`` (after ``python``) under ``-X importtime``; return (top-level modules,
    the sum of their cumulative import times in s as the profiler counts them, wall s)."""
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-X", "importtime", *argv], capture_output=True, text=True, env=_env())
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:4])} ...: exit {res.returncode}: {res.stderr.strip()[-300:]}")
    rows = [m for m in map(_IMPORT_LINE.match, res.stderr.splitlines()) if m and not m.group(2)]
    return [m.group(3) for m in rows], {m.group(3): int(m.group(1)) / 1e6 for m in rows}, wall


def _replay(modules, repeat) -> float:
    """Median seconds a fresh process takes to import ``modules`` in order (no profiler)."""
    runs = []
    for _ in range(repeat):
        res = subprocess.run([sys.executable, "-c", _REPLAY, *modules], capture_output=True, text=True,
                             env=_env())
        if res.returncode != 0:
            raise SystemExit(f"importing {len(modules)} modules failed: {res.stderr.strip()[-300:]}")
        runs.append(float(res.stdout.strip().splitlines()[-1]))
    return statistics.median(runs)


def import_share(command, repeat) -> dict:
    startup, _, _ = _importtime(["-c", "pass"])
    mods, cumulative, _ = _importtime(["-c", ENTRY, command, *PAIR])
    mods = [m for m in mods if m not in set(startup)]
    heavy = sorted(((cumulative[m], m) for m in mods), reverse=True)[:4]
    walls = [_wall([sys.executable, "-c", ENTRY, command, *PAIR]) for _ in range(max(1, repeat // 2))]
    return {"modules": len(mods), "import_s": _replay(mods, repeat), "wall_s": statistics.median(walls),
            "profiled_s": sum(cumulative[m] for m in mods), "heaviest": heavy,
            "sklearn": any(m.split(".")[0] == "sklearn" for m in mods)}


def run(repeat) -> dict:
    py = sys.executable
    out = {"python": _median_wall([py, "-c", "pass"], repeat)}
    for name, args in (("--help", ["--help"]), ("score --help", ["score", "--help"]),
                       ("recommend --help", ["recommend", "--help"])):
        out[name] = _median_wall([py, "-c", ENTRY, *args], repeat)
    out["floor"] = _replay(list(FLOOR), repeat)
    for command in ("score", "recommend"):
        out[command] = import_share(command, repeat)
    return out


def _met(value, goal) -> str:
    return "met" if value <= goal else "NOT met"


def render(res, repeat) -> str:
    from _docs import machine_line

    rec = res["recommend"]
    lines = [
        "## Start-up: `--help` and the import share of `score` / `recommend`",
        "",
        f"Machine: {machine_line()}; OMP_NUM_THREADS=1; median of {repeat} fresh processes each. Produced by "
        "`python benchmarks/bench_startup.py --write`. The commands run as the console script does "
        "(`from transferability.cli.main import main; main()`); a shell wrapper in front of it (a pyenv "
        "shim adds about 0.1 s) is not counted.",
        "",
        "| command | wall (s) |",
        "|---|---|",
        f"| `python -c pass` (the interpreter alone) | {res['python']:.3f} |",
        f"| `transferability --help` | {res['--help']:.3f} |",
        f"| `transferability score --help` | {res['score --help']:.3f} |",
        f"| `transferability recommend --help` | {res['recommend --help']:.3f} |",
        "",
        f"`--help` {res['--help']:.3f} s (goal <= {HELP_GOAL_S} s: {_met(res['--help'], HELP_GOAL_S)}); "
        "`--help` imports neither numpy, scipy, scikit-learn, LightGBM nor the learners "
        "(tests/cli/test_cli_startup.py).",
        "",
        "Import share on Office-Caltech Caltech -> Amazon (SURF, `--preprocess sum-zscore`): the modules the "
        "command imports, replayed in a fresh process without the profiler:",
        "",
        "| command | modules | imports (s) | `-X importtime` sum (s) | whole command (s) | heaviest (importtime, s) |",
        "|---|---|---|---|---|---|",
    ]
    for command in ("score", "recommend"):
        r = res[command]
        heavy = ", ".join(f"`{m}` {s:.2f}" for s, m in r["heaviest"][:3])
        lines.append(f"| `{command}` | {r['modules']} | {r['import_s']:.2f} | {r['profiled_s']:.2f} | "
                     f"{r['wall_s']:.2f} | {heavy} |")
    lines += [
        "",
        f"`recommend` imports {rec['import_s']:.2f} s (goal <= {RECOMMEND_IMPORT_GOAL_S} s: "
        f"{_met(rec['import_s'], RECOMMEND_IMPORT_GOAL_S)}). numpy + scipy.linalg + the scikit-learn modules "
        f"the meta-features use ({', '.join(FLOOR[2:])}) take {res['floor']:.2f} s on their own: the "
        "floor while the meta-features' classifiers and neighbour searches come from scikit-learn "
        "(`sklearn.base` imports `scipy.stats` through `sklearn.utils.fixes`)"
        + (", so no import order meets the goal." if res["floor"] > RECOMMEND_IMPORT_GOAL_S else "."),
    ]
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5, help="Fresh processes per figure (median).")
    ap.add_argument("--write", action="store_true", help="Write the section into docs/benchmarks.md.")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _docs import write_section

    if not SURF.is_dir():
        raise SystemExit(f"no Office-Caltech SURF data at {SURF} (set TRANSFERABILITY_DATA)")
    res = run(args.repeat)
    body = render(res, args.repeat)
    if args.write:
        print(f"wrote {write_section('benchmarks.md', 'startup', body)}")
    else:
        print(body)


if __name__ == "__main__":
    main()
