"""Issue 9's bad-input cases, tried against the installed command line as separate processes.

Each case is refused with exit code 2 and exactly one ``error:`` line on stderr, no traceback and
nothing on stdout, unless it names another outcome (a value that must come out right).

A script, not a test module (one process per case takes a minute or more on a loaded machine;
each case also has an in-process test next to the code it exercises)::

    python tests/cli/bad_input_matrix.py     # prints each case, then "tried N, passed M"
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

import numpy as np

EXE = shutil.which("transferability")
TIMEOUT_S = 120  # a case that hangs (a FIFO read) fails instead of blocking the run


# -- the files the cases use (a 60 x 5 pair) ---------------------------------------------------
def _make_files(d: str) -> None:
    rng = np.random.RandomState(0)
    Xs, Xt = rng.randn(60, 5), rng.randn(60, 5) * 1.5 + 0.5
    y = np.arange(60) % 3
    np.savez(f"{d}/s.npz", X=Xs, y=y)
    np.savez(f"{d}/t.npz", X=Xt, y=y)
    np.savez(f"{d}/u.npz", X=Xt)
    np.savez(f"{d}/one_class.npz", X=Xs, y=np.zeros(60, dtype=int))
    np.savez(f"{d}/huge.npz", X=Xs * 1e200, y=y)
    names = [f"f{i}" for i in range(5)]
    perm = [3, 0, 4, 2, 1]
    np.savetxt(f"{d}/s.csv", Xs, fmt="%.17g", delimiter=",", header=",".join(names), comments="")
    np.savetxt(f"{d}/s_perm.csv", Xs[:, perm], fmt="%.17g", delimiter=",",
               header=",".join(names[i] for i in perm), comments="")
    import scipy.io
    import scipy.sparse

    lab = scipy.sparse.csc_matrix(y.reshape(-1, 1).astype(float))
    scipy.io.savemat(f"{d}/sparse_labels.mat", {"X_src": Xs, "Y_src": lab, "X_tar": Xt, "Y_tar": lab})
    for ext in ("npz", "npy", "csv", "mat", "sqlite"):
        os.mkfifo(f"{d}/fifo.{ext}")
    os.mkdir(f"{d}/outdir.npy")
    with open(f"{d}/afile", "w") as fh:
        fh.write("x")
    _run(["evaluate", f"{d}/s.npz", f"{d}/t.npz", "--methods", "no_adapt", "--kshot", "1", "--quiet",
          "--record", "--store", f"{d}/rec.sqlite"], check=True)
    _run(["store", "export", "-o", f"{d}/rec.jsonl", "--store", f"{d}/rec.sqlite"], check=True)
    record = json.loads(open(f"{d}/rec.jsonl").readline())

    def write_record(name, rec=None, raw=None):
        with open(f"{d}/{name}.jsonl", "w") as fh:
            fh.write(raw if raw is not None else json.dumps(rec) + "\n")

    for name, value in [("acc_nan", float("nan")), ("acc_7", 7.5), ("acc_neg", -1), ("acc_1e308", 1e308),
                        ("acc_inf", float("inf")), ("acc_str", "high")]:
        rec = json.loads(json.dumps(record))
        rec["outcomes"][0]["target_accuracy"] = value
        write_record(name, rec)
    rec = json.loads(json.dumps(record))
    rec["source"]["n_samples"] = -5
    write_record("n_neg", rec)
    rec = json.loads(json.dumps(record))
    rec["outcomes"][0]["status"] = "maybe"
    write_record("status", rec)
    rec = json.loads(json.dumps(record))
    rec["outcomes"][0]["runtime_s"] = "fast"
    write_record("runtime_str", rec)
    rec = json.loads(json.dumps(record))
    del rec["source"]["fingerprint"]
    write_record("no_fp", rec)
    rec = json.loads(json.dumps(record))
    rec["outcomes"] = 5
    write_record("outcomes5", rec)
    write_record("line42", raw="42\n")
    write_record("linenull", raw="null\n")
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"key": [record["key"]], "family": [record["family"]], "name": [record["name"]],
                             "record": ["{not json"]}), f"{d}/badjson.parquet")
    shutil.copy(f"{d}/rec.sqlite", f"{d}/badschema.sqlite")
    con = sqlite3.connect(f"{d}/badschema.sqlite")
    con.execute("UPDATE store_info SET value='two' WHERE key='schema_version'")
    con.commit()
    con.close()
    with open(f"{d}/spec.json", "w") as fh:
        json.dump([{"name": "p", "family": "f", "source": {"path": "s.npz"}, "target": {"path": "t.npz"}}], fh)


def _run(args, *, check=False, env=None):
    proc = subprocess.run([EXE, *args], capture_output=True, text=True, timeout=TIMEOUT_S,
                          stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})})
    if check and proc.returncode != 0:
        raise RuntimeError(f"setup step failed: {args}: {proc.stderr[-500:]}")
    return proc


def _one_line(proc) -> str | None:
    """None when ``proc`` is a proper refusal, else what is wrong with it."""
    lines = proc.stderr.strip().splitlines()
    if proc.returncode != 2:
        return f"exit {proc.returncode}"
    if "Traceback" in proc.stderr:
        return "traceback"
    if len(lines) != 1 or not lines[0].startswith("error: "):
        return f"{len(lines)} stderr lines"
    if proc.stdout.strip():
        return "output on stdout"
    return None


def _zero_divergences(proc):
    if proc.returncode == 2:
        return _one_line(proc)  # refusing is right too
    if proc.returncode != 0:
        return f"exit {proc.returncode}"
    div = json.loads(proc.stdout)["divergences"]
    bad = {k: v for k, v in div.items() if k in ("mmd", "linear_mmd", "coral", "frechet") and abs(v) > 1e-9}
    return f"nonzero for a reordered copy: {bad}" if bad else None


def _finite_json_or_refusal(proc):
    if proc.returncode == 2:
        return _one_line(proc)
    if proc.returncode != 0:
        return f"exit {proc.returncode}"
    try:
        json.loads(proc.stdout, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    except ValueError as exc:
        return f"invalid JSON: {exc}"
    return None


def _loads_rows_as_samples(proc):
    if proc.returncode != 0:
        return f"exit {proc.returncode}: {proc.stderr.strip()[-200:]}"
    out = json.loads(proc.stdout)
    return None if (out["n_source"], out["n_target"], out["n_features"]) == (60, 60, 5) else f"shape {out}"


def _backend_is_what_ran(proc):
    if proc.returncode != 0:
        return f"exit {proc.returncode}"
    backend = json.loads(proc.stdout).get("backend")
    return None if backend in ("numpy", "torch") else f"backend reported as {backend!r}"


def _no_bar_off_a_terminal(proc):
    if proc.returncode != 0:
        return f"exit {proc.returncode}"
    return f"stderr not empty: {proc.stderr[:80]!r}" if proc.stderr.strip() else None


def _says_where_records_went(proc):
    if proc.returncode != 0:
        return f"exit {proc.returncode}"
    return None if "store.sqlite" in proc.stderr else f"stderr does not name the store: {proc.stderr!r}"


S, T, U = "{d}/s.npz", "{d}/t.npz", "{d}/u.npz"
EV = ["evaluate", S, T, "--quiet", "--kshot", ""]
SPEC = ["store", "build", "--spec", "{d}/spec.json", "--store", "{d}/b.sqlite", "--methods", "no_adapt",
        "--quiet"]

# (id, args, check or None for "refused in one line", environment changes: None removes a variable)
CASES = [
    # silent wrong numbers
    ("csv columns in another order", ["divergences", "{d}/s.csv", "{d}/s_perm.csv", "--json"], _zero_divergences, None),
    ("values near 1e200", ["divergences", "{d}/huge.npz", T, "--json"], _finite_json_or_refusal, None),
    *[(f"store import target_accuracy {n}", ["store", "import", f"{{d}}/{n}.jsonl", "--store", "{d}/imp.sqlite"],
       None, None) for n in ("acc_nan", "acc_7", "acc_neg", "acc_1e308", "acc_inf", "acc_str")],
    ("store import n_samples -5", ["store", "import", "{d}/n_neg.jsonl", "--store", "{d}/imp.sqlite"], None, None),
    ("store import unknown status", ["store", "import", "{d}/status.jsonl", "--store", "{d}/imp.sqlite"], None, None),
    # contract breaks
    ("evaluate --param tca.bogus=1", [*EV, "--methods", "tca", "--param", "tca.bogus=1"], None, None),
    ("evaluate --param tca.n_components=-3", [*EV, "--methods", "tca", "--param", "tca.n_components=-3"], None, None),
    ("evaluate --param jda.lam=1e400", [*EV, "--methods", "jda", "--param", "jda.lam=1e400"], None, None),
    ("adapt --param n_components=-3", ["adapt", S, U, "--method", "tca", "--param", "n_components=-3"], None, None),
    ("evaluate single-class source", ["evaluate", "{d}/one_class.npz", T, "--quiet", "--kshot", "",
                                      "--methods", "no_adapt"], None, None),
    ("evaluate --methods ,", [*EV, "--methods", ","], None, None),
    ("divergences --measures ,", ["divergences", S, T, "--measures", ","], None, None),
    ("store build --base-estimators rf", [*SPEC, "--base-estimators", "rf"], None, None),
    ("store build --kshot 0", [*SPEC, "--kshot", "0"], None, None),
    ("store build --limit -1", [*SPEC, "--limit", "-1"], None, None),
    # tracebacks
    *[(f"{cmd} --seed {v}", [*args, "--seed", v], None, None)
      for cmd, args in [("divergences", ["divergences", S, T]), ("evaluate", EV),
                        ("adapt", ["adapt", S, U, "--method", "sa"])]
      for v in ("-1", str(2**40))],
    ("store build --kshot a", [*SPEC, "--kshot", "a"], None, None),
    ("store build --n-jobs 0", [*SPEC, "--n-jobs", "0"], None, None),
    ("adapt --output into a directory", ["adapt", S, U, "--method", "sa", "--output", "{d}/outdir.npy"], None, None),
    ("adapt --output under a file", ["adapt", S, U, "--method", "sa", "--output", "{d}/afile/p.npy"], None, None),
    ("store export -o /nonexistent/x.jsonl", ["store", "export", "-o", "/nonexistent/x.jsonl", "--store",
                                              "{d}/rec.sqlite"], None, None),
    ("store with a non-numeric schema_version", ["store", "stats", "--store", "{d}/badschema.sqlite"], None, None),
    *[(f"store import {n}", ["store", "import", f"{{d}}/{n}", "--store", "{d}/imp.sqlite"], None, None)
      for n in ("runtime_str.jsonl", "no_fp.jsonl", "outcomes5.jsonl", "line42.jsonl", "linenull.jsonl",
                "badjson.parquet")],
    ("evaluate --record into a store under a file", [*EV, "--methods", "no_adapt", "--record", "--store",
                                                     "{d}/afile/s.sqlite"], None, None),
    # wrong orientation
    ("two-domain .mat, rows-as-samples, sparse labels",
     ["divergences", "{d}/sparse_labels.mat:src", "{d}/sparse_labels.mat:tar", "--json", "--measures", "coral"],
     _loads_rows_as_samples, None),
    # hangs
    *[(f"FIFO as .{ext}", ["divergences", S, f"{{d}}/fifo.{ext}"], None, None) for ext in ("npz", "npy", "csv", "mat")],
    ("FIFO as --store", [*EV, "--methods", "no_adapt", "--record", "--store", "{d}/fifo.sqlite"], None, None),
    # usage errors
    ("missing argument", ["divergences", S], None, None),
    ("unknown option", ["divergences", S, T, "--bogus"], None, None),
    ("bad choice", ["evaluate", S, T, "--preprocess", "pca"], None, None),
    ("unknown command", ["nope"], None, None),
    # the rest
    ("--backend auto reports what ran", ["divergences", S, T, "--json", "--backend", "auto", "--measures", "mmd"],
     _backend_is_what_ran, None),
    ("evaluate draws no bar off a terminal", ["evaluate", S, T, "--methods", "no_adapt", "--kshot", "1", "--json"],
     _no_bar_off_a_terminal, None),
    ("evaluate --record without --store says where", ["evaluate", S, T, "--methods", "no_adapt", "--kshot", "",
                                                      "--quiet", "--record"],
     _says_where_records_went, {"XDG_DATA_HOME": "{d}/xdg", "TRANSFERABILITY_STORE": None}),
]


def _try(case, d):
    """``(problem or None, process)`` for one case; a hung process is killed at ``TIMEOUT_S``."""
    _, args, check, env_changes = case
    full_env = dict(os.environ)
    for key, value in (env_changes or {}).items():
        if value is None:
            full_env.pop(key, None)
        else:
            full_env[key] = value.format(d=d)
    try:
        proc = subprocess.run([EXE, *[a.format(d=d) for a in args]], capture_output=True, text=True,
                              timeout=TIMEOUT_S, stdin=subprocess.DEVNULL, env=full_env)
    except subprocess.TimeoutExpired:
        return f"hung for {TIMEOUT_S} s", None
    try:
        return (check or _one_line)(proc), proc
    except (ValueError, KeyError) as exc:  # stdout that is not the expected JSON
        return f"unexpected output ({type(exc).__name__}: {exc})", proc


def _try_all(d, workers=4):
    """Every case, a few processes at a time (each is mostly interpreter start-up)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(workers) as pool:
        return dict(zip([c[0] for c in CASES], pool.map(lambda c: _try(c, d), CASES)))


if __name__ == "__main__":  # pragma: no cover
    d = tempfile.mkdtemp(prefix="bad-input-")
    passed = 0
    try:
        _make_files(d)
        results = _try_all(d)
        for case in CASES:
            problem, proc = results[case[0]]
            passed += problem is None
            print(f"{'ok  ' if problem is None else 'FAIL'} {case[0]}"
                  + ("" if problem is None else f": {problem} | {(proc.stderr.strip()[-160:] if proc else '')!r}"))
        print(f"tried {len(CASES)}, passed {passed}")
    finally:
        shutil.rmtree(d, ignore_errors=True)
    sys.exit(0 if passed == len(CASES) else 1)
