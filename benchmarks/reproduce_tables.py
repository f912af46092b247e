"""Reproduce the published result tables in ``../shared/data/tables`` and write ``docs/reproduction.md``.

For every published table whose data is available here, every (task, method) is run with the
table's protocol (full protocol: all source samples labelled, all target samples unlabelled and
used for testing), and our target accuracy is shown beside the published one, task by task.
Per method row: the mean absolute deviation over tasks (MAD) and the difference of the averages;
the goal is MAD <= 2 points and |difference of averages| <= 1.5 points.

    python benchmarks/reproduce_tables.py                 # every table, writes docs/reproduction.md
    python benchmarks/reproduce_tables.py --quick         # four tasks, a smoke test (also writes)
    python benchmarks/reproduce_tables.py --data-dir ../shared/data --jobs 2 --raw-json out.json

Methods are taken from the registry (``transferability.methods``): a method that is not
registered, or that fails on a task, is shown as such (never dropped). The ``PCA`` rows use a
script-local baseline (pooled PCA, see :func:`_pca_baseline`), not a library method.

The section "What was tried where a row is not met" at the end of the page is regenerated from
:data:`NOTES` below: edit the notes here, not in the page.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import functools
import json
import math
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from transferability.methods._gfk import GFK_PAPER_DIMS

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data"
DEFAULT_OUTPUT = ROOT / "docs" / "reproduction.md"

GOAL_MAD = 2.0
GOAL_AVG = 1.5

# --------------------------------------------------------------------------------------------
# Tasks: key -> (family, source spec, target spec), specs relative to the data folder
# --------------------------------------------------------------------------------------------
_SURF = {"C": "Caltech10_SURF_L10.mat", "A": "amazon_SURF_L10.mat",
         "W": "webcam_SURF_L10.mat", "D": "dslr_SURF_L10.mat"}
OFFICE_TASKS = ["C->A", "C->W", "C->D", "A->C", "A->W", "A->D",
                "W->C", "W->A", "W->D", "D->C", "D->A", "D->W"]

TASKS: dict = {}
for _t in OFFICE_TASKS:
    _s, _g = _t.split("->")
    TASKS[_t] = ("office", f"office_caltech10_surf/{_SURF[_s]}", f"office_caltech10_surf/{_SURF[_g]}")
TASKS["USPS->MNIST"] = ("digits", "mnist_usps/USPS_vs_MNIST.mat:src", "mnist_usps/USPS_vs_MNIST.mat:tar")
TASKS["MNIST->USPS"] = ("digits", "mnist_usps/MNIST_vs_USPS.mat:src", "mnist_usps/MNIST_vs_USPS.mat:tar")
TASKS["COIL1->COIL2"] = ("coil", "coil20/COIL_1.mat:src", "coil20/COIL_1.mat:tar")
TASKS["COIL2->COIL1"] = ("coil", "coil20/COIL_2.mat:src", "coil20/COIL_2.mat:tar")
TASKS["DeCAF D->W"] = ("decaf", "office_caltech10_decaf6/dslr_decaf.mat",
                       "office_caltech10_decaf6/webcam_decaf.mat")
TASKS["DeCAF W->D"] = ("decaf", "office_caltech10_decaf6/webcam_decaf.mat",
                       "office_caltech10_decaf6/dslr_decaf.mat")

#: preprocessing per family (reproduces the published 1-NN baselines exactly; data README)
PREPROCESS = {"office": "sum-zscore", "decaf": "sum-zscore", "digits": "l2", "coil": "l2"}

QUICK_TASKS = ("C->A", "D->W", "COIL1->COIL2", "DeCAF D->W")

# --------------------------------------------------------------------------------------------
# Base estimators
# --------------------------------------------------------------------------------------------
#: "linear_svm": libsvm's linear SVM, one-vs-one, C = 1 -- the classifier
#: of the CORAL/SA/GFK code (``svmtrain -t 4 -c 1`` on a precomputed linear kernel); see NOTES.
BASE_DESCRIPTIONS = {
    "1nn": "1-NN (Euclidean), the library's `\"1nn\"`",
    "linear_svm": "linear SVM, the library's `\"linear_svm\"`: `sklearn.svm.SVC(kernel=\"linear\", C=1.0)` "
           "(libsvm, one-vs-one; the classifier of the CORAL/SA/GFK code)",
}


def make_base(name):
    return name


def _group_by_value(keys, value_of) -> dict:
    """``{value: [key, ...]}`` over the distinct ``keys``, in first-seen order."""
    groups: dict = {}
    for k in dict.fromkeys(keys):
        groups.setdefault(value_of(k), []).append(k)
    return groups


class ByFamily(dict):
    """A parameter value that depends on the task family (``{"office": 1.0, "digits": 0.1}``)."""

    def pick(self, family, task):
        return self[family]

    def describe(self, tasks):
        """The values used on ``tasks`` (our task keys), naming the families only when they differ."""
        groups = _group_by_value((TASKS[t][0] for t in tasks), self.__getitem__)
        if len(groups) == 1:
            return str(next(iter(groups)))
        return ", ".join(f"{x} ({', '.join(fs)})" for x, fs in groups.items())


class ByTask(dict):
    """A parameter value that depends on the task (``{"C->D": 10}``), ``default`` elsewhere."""

    def __init__(self, values, default):
        super().__init__(values)
        self.default = default

    def pick(self, family, task):
        return self.get(task, self.default)

    def describe(self, tasks):
        """The values used on ``tasks`` (our task keys): the plain value when all use one, otherwise
        each value with the tasks that use it."""
        groups = _group_by_value(tasks, lambda t: self.get(t, self.default))
        if len(groups) == 1:
            return str(next(iter(groups)))
        special = [f"{x} ({' '.join(ts)})" for x, ts in groups.items() if x != self.default]
        if self.default in groups:
            special.append(f"{self.default} elsewhere")
        return ", ".join(special)


VARIES = (ByFamily, ByTask)


@dataclass
class Row:
    """One method row of a published table."""

    column: str          # column name in the CSV
    method: str          # registry name, or "pca" (script-local baseline)
    base: str = "1nn"    # key of BASE_DESCRIPTIONS
    params: dict = field(default_factory=dict)
    setting_note: str = ""

    def params_for(self, family, task):
        return {k: (v.pick(family, task) if isinstance(v, VARIES) else v) for k, v in self.params.items()}


@dataclass
class Table:
    id: str
    title: str
    csv: str
    tasks: dict          # CSV task label -> our task key
    rows: list
    protocol: str
    not_in_library: tuple = ()
    no_data: str = ""
    task_column: str = "task"


JDA_LAM = ByFamily(office=1.0, decaf=1.0, digits=0.1, coil=0.1)
JDA_PARAMS = {"n_components": 100, "lam": JDA_LAM, "kernel": "primal"}
_OFFICE_MAP = {t: t for t in OFFICE_TASKS}
#: Gong et al.'s per-pair subspace dimensions on Office-Caltech (their Ex_GFK.m), 20 elsewhere.
GFK_DIMS = ByTask({t: GFK_PAPER_DIMS[frozenset(t.replace("->", ""))] for t in OFFICE_TASKS}, default=20)
GFK_PAPER_NOTE = ("the table does not state the subspace dimension: on Office-Caltech pairs Gong et "
                  "al.'s per-pair value (their Ex_GFK.m, `GFK_PAPER_DIMS`), on other data the "
                  "library default 20")


def _meda_rows(tca_note="", jda_note="", coral_note=""):
    """The method rows shared by the MEDA paper's tables (same order in each); only the notes on
    how a column's settings were chosen differ between tables."""
    return [
        Row("1NN", "no_adapt"),
        Row("SVM", "no_adapt", "linear_svm"),
        Row("PCA", "pca", params={"n_components": 100}),
        Row("TCA", "tca", params={**JDA_PARAMS}, setting_note=tca_note),
        Row("GFK", "gfk", params={"n_components": GFK_DIMS}, setting_note=GFK_PAPER_NOTE),
        Row("JDA", "jda", params={**JDA_PARAMS, "n_iter": 10}, setting_note=jda_note),
        Row("CORAL", "coral", "linear_svm", setting_note=coral_note),
        Row("MEDA", "meda", setting_note="MEDA defaults (the paper's settings)"),
    ]


MEDA_NOT_IN_LIBRARY = ("TJM", "SCA", "ARTL", "JGSA")

TABLES = [
    Table(
        id="jda",
        title="JDA (Long et al., ICCV 2013), Table 2: 1-NN on Office-Caltech SURF, USPS+MNIST, COIL20",
        csv="jda_iccv13_table_36tasks.csv",
        tasks={**_OFFICE_MAP, "USPS->MNIST": "USPS->MNIST", "MNIST->USPS": "MNIST->USPS",
               "COIL1->COIL2": "COIL1->COIL2", "COIL2->COIL1": "COIL2->COIL1"},
        rows=[
            Row("NN", "no_adapt"),
            Row("PCA", "pca", params={"n_components": 100}),
            Row("GFK", "gfk", params={"n_components": GFK_DIMS}, setting_note=GFK_PAPER_NOTE),
            Row("TCA", "tca", params={**JDA_PARAMS}),
            Row("JDA", "jda", params={**JDA_PARAMS, "n_iter": 10}),
        ],
        protocol="full protocol; 1-NN; k = 100; lambda = 1.0 (Office-Caltech), 0.1 (digits, COIL); "
                 "JDA T = 10; primal (linear) projection. The paper reports the baselines (PCA, "
                 "GFK, TCA, TSL) at the best of a parameter search whose values it does not give; "
                 "we run them at the fixed settings listed",
        not_in_library=("TSL",),
        no_data="PIE rows (20 tasks): PIE data not available here.",
    ),
    Table(
        id="coral3",
        title="CORAL (Sun et al., AAAI 2016), Table 3: linear SVM, Office-Caltech SURF, full protocol",
        csv="coral_aaai16_table3_officecaltech_surf_full_protocol.csv",
        tasks=dict(_OFFICE_MAP),
        rows=[
            Row("NA", "no_adapt", "linear_svm"),
            Row("SA", "sa", "linear_svm"),
            Row("GFK", "gfk", "linear_svm", params={"n_components": GFK_DIMS}, setting_note=GFK_PAPER_NOTE),
            Row("TCA", "tca", "linear_svm"),
            Row("CORAL", "coral", "linear_svm"),
        ],
        protocol="full protocol; linear SVM (C = 1); every method at its library defaults "
                 "(the paper uses each method's published settings)",
    ),
    Table(
        id="meda2",
        title="MEDA (Wang et al., ACM MM 2018), Table 2: Office-Caltech SURF",
        csv="meda_mm18_table2_officecaltech_surf.csv",
        tasks=dict(_OFFICE_MAP),
        rows=_meda_rows(tca_note="settings not stated in the MEDA table: JDA-paper settings",
                        jda_note="settings not stated in the MEDA table: JDA-paper settings",
                        coral_note="the CORAL paper's numbers (linear SVM)"),
        protocol="full protocol; the best numbers reported by each method's paper, so the "
                 "settings differ per column (see each row)",
        not_in_library=MEDA_NOT_IN_LIBRARY,
    ),
    Table(
        id="meda3",
        title="MEDA (Wang et al., ACM MM 2018), Table 3: USPS+MNIST",
        csv="meda_mm18_table3_usps_mnist_imagenet_voc.csv",
        tasks={"U->M": "USPS->MNIST", "M->U": "MNIST->USPS"},
        rows=_meda_rows(coral_note="settings not stated: linear SVM as in the CORAL paper"),
        protocol="full protocol; TCA/JDA/PCA numbers are the JDA paper's (same settings)",
        not_in_library=MEDA_NOT_IN_LIBRARY,
        no_data="I->V, V->I (ImageNet/VOC): data not available here.",
    ),
    Table(
        id="meda4",
        title="MEDA (Wang et al., ACM MM 2018), Table 4: Office-Caltech DeCAF6, D<->W",
        csv="meda_mm18_table4_officecaltech_decaf6.csv",
        tasks={"D->W": "DeCAF D->W", "W->D": "DeCAF W->D"},
        rows=_meda_rows(tca_note="settings not stated: JDA-paper settings",
                        jda_note="settings not stated: JDA-paper settings"),
        protocol="full protocol; DeCAF6 features (4096-d), same preprocessing as SURF",
        not_in_library=MEDA_NOT_IN_LIBRARY + ("DMM", "AlexNet", "DDC", "DAN", "DCORAL", "DUCDA"),
        no_data="Tasks involving amazon or Caltech: no DeCAF features for them here.",
    ),
    Table(
        id="jdw",
        title="jdw benchmark (collected rows), Office-Caltech SURF: SA (JGSA paper) and KMM (TKL paper)",
        csv="jdw_benchmark_officecaltech_surf_by_dim.csv",
        tasks=dict(_OFFICE_MAP),
        rows=[
            Row("SA+1NN@30", "sa", params={"n_components": 30},
                setting_note="Zhang et al., JGSA CVPR 2017: SA, subspace dimension 30, 1-NN"),
            Row("KMM@no", "kmm", "linear_svm",
                setting_note="Long et al., TKL TKDE 2015: KMM with an SVM (other KMM settings "
                             "not stated: library defaults)"),
        ],
        protocol="full protocol; rows collected from several papers (each names its source)",
        task_column="method",
    ),
]

#: Published columns are "COLUMN" except for the jdw table, whose rows are "METHOD@DIM".
#: Notes for the "What was tried where a row is not met" section: (table id, column) -> text,
#: or (None, None) for general notes. Filled from the method helpers' reports and our runs.
NOTES: dict = {
    (None, None): (
        "Linear SVM baseline: liblinear's `LinearSVC` (one-vs-rest, C = 1, max_iter 10,000; the "
        "library's first `\"linear_svm\"`) was tried first for the CORAL table: on z-scored SURF "
        "it took ~160-190 s per fit on A->C, A->D, C->A (no convergence) and gave NA = 35.8, "
        "36.3, 42.7 against the published 41.7, 44.6, 53.1. libsvm's one-vs-one "
        "`SVC(kernel=\"linear\", C=1)` (the classifier of the CORAL/SA/GFK code) takes < 1 s and "
        "gave 44.1, 40.8, 52.4; `\"linear_svm\"` is now that SVC. A C chosen by 2-fold "
        "cross-validation on the source (grid 1e-3..1e4, as in the SA code) gave 45.6, 38.9, "
        "51.1: no closer, not used."
    ),
    ("coral3", "NA"): (
        "The published NA row is not reproducible with any preprocessing we tried for a linear "
        "SVM (C = 1): none, l2, z-score, sum, sum + z-score. D->W stays at 67.8-75.6 "
        "(published 52.5) and W->C at 29.9-31.3 (published 21.2), i.e. far above the paper, "
        "while the 1-NN rows of the same data reproduce exactly; the paper's NA protocol is "
        "likely different from what its text states."
    ),
    ("meda2", "SVM"): "Same numbers as the CORAL paper's NA row: see coral3 / NA.",
    ("meda3", "SVM"): (
        "A linear SVM does not reach the published 62.2 (USPS->MNIST) / 68.2 (MNIST->USPS) with "
        "any setting we tried: libsvm linear SVC with C in {1, 10, 100} on l2-normalised, "
        "z-scored or raw features gives 22.4-31.8 and 42.8-50.0. The published SVM numbers "
        "must come from another classifier or protocol (the table does not state it)."
    ),
    ("jda", "TCA"): (
        "skada 0.6.0's `TransferComponentAnalysis` (the `(I + mu K L K)^-1 K H K` form, linear "
        "kernel, 100 components, mu = 1, no embedding normalisation) + 1-NN gives exactly the "
        "published TCA values on C->A 38.20, C->W 38.64, D->W 86.10, W->D 87.26: the JDA "
        "paper's TCA column (Office) was produced with that formulation, not the published "
        "generalized eigenproblem that `tca` solves. On USPS->MNIST (31.8-32.0) and COIL1->COIL2 "
        "(84.2-84.3) the same skada setting is far from the paper (51.05, 88.47), consistent "
        "with the paper's 'best of a parameter search' for its baselines."
    ),
    ("jda", "GFK"): (
        "With Gong et al.'s per-pair subspace dimensions (10 or 20, `GFK_PAPER_DIMS`) all 12 "
        "Office tasks match the published value to 0.1 point; with the default 20 everywhere "
        "only 7 did (C->D +2.6, A->W +1.0, W->A +2.1, W->D +7.0, D->W +8.8). The row misses "
        "the goal on the tasks where the dimension is not known: USPS->MNIST (48.9 vs 46.5) "
        "and both COIL tasks (85.0 vs 72.5, 84.7 vs 74.2), run at 20. Dimension 100 (the "
        "paper's k for its own method) was tried first: C->A 36.1, D->W 71.5, COIL1->COIL2 "
        "84.4, further from the paper."
    ),
    ("jda", "JDA"): (
        "C->A (44.78), USPS->MNIST (59.65), MNIST->USPS (67.28), COIL1->COIL2 (89.31) and "
        "COIL2->COIL1 (88.47) match exactly. The Office tasks A->D (28.66 vs 39.49), D->W "
        "(84.75 vs 89.49), W->D (85.35 vs 89.17), C->W (37.29 vs 41.69) do not, and the dense "
        "reference formulation (`transferability.methods._reference.reference_jda`, same "
        "settings) gives exactly the same four numbers as `jda`: the gap is in the paper's "
        "protocol for those tasks (not found), not in the solver."
    ),
    ("coral3", "CORAL"): (
        "Same linear SVM (C = 1) and preprocessing as the NA row; CORAL with the paper's "
        "`cov + I` regulariser. Ours is lower on the Caltech-source tasks (C->A 48.1 vs 52.1, "
        "C->W 39.3 vs 46.4, C->D 38.2 vs 45.9) and within ~1.5 points on 8 of 12 tasks. Since "
        "the NA row of the same table cannot be reproduced either (see coral3 / NA), the "
        "paper's SVM protocol probably differs from the one run here."
    ),
    ("coral3", "SA"): (
        "Run at the library defaults (d = 20) with the linear SVM; the CORAL paper does not give "
        "SA's dimension. Same SVM-protocol caveat as coral3 / NA."
    ),
    ("coral3", "GFK"): (
        "Gong et al.'s per-pair subspace dimensions with the linear SVM: W->A 31.9, D->C 36.5 and "
        "D->W 74.6 now match exactly (at d = 20 everywhere they were 36.6, 35.0, 80.7; MAD 3.97 "
        "then, 2.29 now). Same SVM-protocol caveat as coral3 / NA."
    ),
    ("coral3", "TCA"): (
        "Run at the library defaults (primal, k = 100, lambda = 1) with the linear SVM; the "
        "CORAL paper does not give TCA's settings. Same SVM-protocol caveat as coral3 / NA."
    ),
    ("meda2", "PCA"): (
        "The MEDA table's PCA/TCA/JDA Office numbers are not the JDA paper's (e.g. JDA C->A 43.1 "
        "vs 44.78, PCA C->A 39.5 vs 36.95) and their settings are not stated; we run the JDA "
        "paper's settings, which reproduce the JDA paper's PCA column exactly (see jda / PCA)."
    ),
    ("meda2", "TCA"): "Settings of this column are not stated; see meda2 / PCA and jda / TCA.",
    ("meda2", "JDA"): "Settings of this column are not stated; see meda2 / PCA and jda / JDA.",
    ("meda2", "GFK"): (
        "Settings of this column are not stated and it is not the JDA paper's GFK column (it "
        "differs on every task); run as jda / GFK. At d = 20 everywhere: average +1.58, MAD 3.12; "
        "with the per-pair dimensions: -0.19, 3.20."
    ),
    ("meda2", "CORAL"): "The CORAL paper's Table 3 numbers: see coral3 / CORAL.",
    ("meda3", "GFK"): (
        "USPS->MNIST 48.9 vs 46.5, MNIST->USPS 66.7 vs 61.2 (the JDA paper has 67.22 for the "
        "latter); settings not stated."
    ),
    ("jdw", "SA+1NN@30"): (
        "The average matches (+0.7) but single tasks differ by up to 8 points (C->A 41.3 vs "
        "49.3, A->W 41.0 vs 33.2); the JGSA paper's SA preprocessing is not stated (its SA "
        "numbers on W->D 75.16 and D->W 76.95 are below our 1-NN+PCA level)."
    ),
    ("jdw", "KMM@no"): (
        "Run with the linear SVM and KMM's library defaults (B = 1000, gamma by the median "
        "heuristic); the TKL paper does not state KMM's kernel width or B. Average matches "
        "(+0.3), single tasks differ by up to 16 points (W->D 87.9 vs 72.0, C->D 40.1 vs 53.5)."
    ),
}

# --------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _load_task(data_dir: str, task: str):
    from transferability.datasets import load_domain, preprocess_pair

    family, s, t = TASKS[task]
    src = load_domain(os.path.join(data_dir, s), name="source")
    tgt = load_domain(os.path.join(data_dir, t), name="target")
    Xs, Xt = preprocess_pair(src.X, tgt.X, PREPROCESS[family])
    return Xs, src.y, Xt, tgt.y


def _pca_baseline(Xs, ys, Xt, *, n_components=100):
    """PCA of the pooled (preprocessed) source and target, then 1-NN on the embedded source.

    The JDA paper's PCA baseline; with the family's preprocessing and no further normalisation
    it reproduces that paper's PCA column (checked on C->A, W->D, USPS<->MNIST, COIL1->COIL2).
    """
    from sklearn.neighbors import KNeighborsClassifier

    X = np.vstack([Xs, Xt])
    X = X - X.mean(axis=0)
    _, _, Vt = np.linalg.svd(X, full_matrices=False)
    A = Vt[:n_components].T
    Zs, Zt = X[: len(Xs)] @ A, X[len(Xs):] @ A
    return KNeighborsClassifier(n_neighbors=1, algorithm="brute").fit(Zs, ys).predict(Zt)


def run_job(data_dir: str, task: str, method: str, base: str, params: dict) -> dict:
    """Run one (task, method, base, params); never raises. Accuracy in points (0-100)."""
    out = {"task": task, "method": method, "base": base, "params_requested": params,
           "accuracy": None, "runtime_s": None, "status": "ok", "error": None, "params": params}
    try:
        Xs, ys, Xt, yt = _load_task(data_dir, task)
    except Exception as exc:  # data problem: reported, not raised
        out.update(status="failed", error=f"data: {type(exc).__name__}: {exc}")
        return out
    if method == "pca":
        start = time.perf_counter()
        try:
            pred = _pca_baseline(Xs, ys, Xt, **params)
            out.update(accuracy=100.0 * float(np.mean(pred == yt)))
        except Exception as exc:
            out.update(status="failed", error=f"{type(exc).__name__}: {exc}")
        out["runtime_s"] = time.perf_counter() - start
        return out
    from transferability.methods import available_methods, evaluate_methods

    if method not in available_methods():
        out.update(status="missing", error="not in the method registry")
        return out
    report = evaluate_methods(Xs, ys, Xt, yt, methods=[method], base_estimator=make_base(base),
                              method_params={method: dict(params)}, kshot=(), random_state=0)
    r = report.results[0]
    out.update(accuracy=None if r.target_accuracy is None else 100.0 * r.target_accuracy,
               runtime_s=r.runtime_s, status=r.status, error=r.error, params=r.params)
    return out


def _job_key(task, method, base, params):
    return json.dumps([task, method, base, params], sort_keys=True)


def collect_jobs(tables, tasks_filter):
    jobs = {}
    for table in tables:
        for label, task in table.tasks.items():
            if tasks_filter and task not in tasks_filter:
                continue
            family = TASKS[task][0]
            for row in table.rows:
                params = row.params_for(family, task)
                jobs.setdefault(_job_key(task, row.method, row.base, params),
                                (task, row.method, row.base, params))
    # group by task so each worker's data cache is reused
    return sorted(jobs.values(), key=lambda j: (list(TASKS).index(j[0]), j[1], j[2]))


def run_all(jobs, data_dir, n_jobs, progress=True):
    from joblib import Parallel, delayed

    n_jobs = max(1, min(int(n_jobs), 2))  # the machine has 2 shared cores
    if n_jobs == 1:
        results = []
        for i, j in enumerate(jobs):
            if progress:
                print(f"[{i + 1}/{len(jobs)}] {j[0]} {j[1]} ({j[2]})", file=sys.stderr, flush=True)
            results.append(run_job(data_dir, *j))
    else:
        # workers import this file as the module ``reproduce_tables`` (so that each keeps its
        # own data cache) instead of unpickling functions of ``__main__``
        here = os.path.dirname(os.path.abspath(__file__))
        os.environ["PYTHONPATH"] = os.pathsep.join(
            [here] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
        if here not in sys.path:
            sys.path.insert(0, here)
        import reproduce_tables as mod

        results = Parallel(n_jobs=n_jobs, backend="loky", verbose=10 if progress else 0)(
            delayed(mod.run_job)(data_dir, *j) for j in jobs)
    return {_job_key(j[0], j[1], j[2], j[3]): r for j, r in zip(jobs, results)}


# --------------------------------------------------------------------------------------------
# Published values and comparison
# --------------------------------------------------------------------------------------------


def read_published(data_dir, table):
    """{(csv task label, column): value or nan} from the table's CSV."""
    path = os.path.join(data_dir, "tables", table.csv)
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    pub = {}
    if table.task_column == "method":  # jdw layout: one row per (dim, method), tasks as columns
        for r in rows:
            col = f"{r['method']}@{r['dim']}"
            for label in table.tasks:
                pub[(label, col)] = _num(r.get(label))
    else:
        for r in rows:
            label = r[table.task_column]
            for col, v in r.items():
                pub[(label, col)] = _num(v)
    return pub


def _num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


@dataclass
class RowSummary:
    table: str
    column: str
    method: str
    n_tasks: int
    n_ok: int
    ours_avg: float
    pub_avg: float
    mad: float
    status: str          # "met", "not met", "missing", "failed"
    runtime_s: float


def summarise(table, row, cells):
    """cells: list of (label, ours or None, published, result dict)."""
    pairs = [(o, p) for _, o, p, _ in cells if o is not None and not math.isnan(p)]
    statuses = [r["status"] for *_, r in cells]
    runtime = sum(r["runtime_s"] or 0.0 for *_, r in cells)
    n = len([c for c in cells if not math.isnan(c[2])])
    if all(s == "missing" for s in statuses):
        return RowSummary(table.id, row.column, row.method, n, 0, math.nan, math.nan, math.nan,
                          "missing", runtime)
    if not pairs:
        return RowSummary(table.id, row.column, row.method, n, 0, math.nan, math.nan, math.nan,
                          "failed", runtime)
    ours = np.array([o for o, _ in pairs])
    pub = np.array([p for _, p in pairs])
    mad = float(np.mean(np.abs(ours - pub)))
    ours_avg, pub_avg = float(ours.mean()), float(pub.mean())
    met = mad <= GOAL_MAD and abs(ours_avg - pub_avg) <= GOAL_AVG and len(pairs) == n
    status = "met" if met else "not met"
    if len(pairs) < n:
        status = f"not met ({n - len(pairs)} task(s) failed)"
    return RowSummary(table.id, row.column, row.method, n, len(pairs), ours_avg, pub_avg, mad,
                      status, runtime)


# --------------------------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------------------------


def _f(v, nd=1):
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{nd}f}"


def _params_text(params):
    if not params:
        return "—"
    return ", ".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "random_state")


def render(tables, results, data_dir, tasks_filter, quick, wall_s, n_jobs):
    from transferability import __version__
    from transferability.methods import available_methods

    import scipy
    import sklearn

    lines = []
    w = lines.append
    w("# Reproduction of published results")
    w("")
    w("Generated by `python benchmarks/reproduce_tables.py"
      + (" --quick" if quick else "") + "` — do not edit by hand (the notes at the end come "
      "from the `NOTES` dict in that script).")
    w("")
    w(f"- date: {datetime.date.today().isoformat()}; transferability {__version__}; "
      f"numpy {np.__version__}, scipy {scipy.__version__}, scikit-learn {sklearn.__version__}; "
      f"{platform.machine()}, {os.cpu_count()} cores, {n_jobs} parallel job(s); "
      f"total wall time {wall_s / 60:.1f} min")
    w(f"- data: `{os.path.relpath(data_dir, ROOT)}` (full protocol: every source sample labelled, "
      "every target sample unlabelled and used for testing); accuracies in %")
    w(f"- registered methods: {', '.join(available_methods())}")
    if quick:
        w(f"- **quick run**: only the tasks {', '.join(tasks_filter)}; averages are over those tasks")
    w("- preprocessing (each domain on its own statistics): Office-Caltech SURF and DeCAF6 "
      "`sum-zscore` (row / row sum, then per-feature z-score, ddof = 0); USPS+MNIST and COIL20 "
      "`l2` (each sample to unit norm). These reproduce the published 1-NN baselines exactly.")
    w("- base estimators: " + "; ".join(f"`{k}` = {v}" for k, v in BASE_DESCRIPTIONS.items()))
    w("- `PCA` rows: a script-local baseline (PCA of the pooled preprocessed source and target, "
      "k = 100, 1-NN), not a library method.")
    w(f"- goal per method row: mean absolute deviation over tasks (MAD) <= {GOAL_MAD:g} points "
      f"and |our average − published average| <= {GOAL_AVG:g} points; the published average is "
      "the mean of the published values of the tasks compared (not the table's AVG column).")
    w("")

    summaries = []
    sections = []
    for table in tables:
        pub = read_published(data_dir, table)
        labels = [lb for lb, t in table.tasks.items() if not tasks_filter or t in tasks_filter]
        if not labels:
            continue
        sec = []
        s = sec.append
        s(f"## {table.title}")
        s("")
        s(f"Published: `tables/{table.csv}`. Protocol: {table.protocol}.")
        s("")
        s("| row | method | base estimator | parameters (as run) | note |")
        s("|---|---|---|---|---|")
        row_cells = {}
        for row in table.rows:
            cells = []
            params_seen = None
            for label in labels:
                task = table.tasks[label]
                family = TASKS[task][0]
                key = _job_key(task, row.method, row.base, row.params_for(family, task))
                r = results[key]
                cells.append((label, r["accuracy"], pub.get((label, row.column), math.nan), r))
                if r["status"] == "ok" and params_seen is None:
                    params_seen = r["params"]
            row_cells[row.column] = cells
            shown = params_seen if params_seen is not None else cells[0][3]["params_requested"]
            shown = {k: v for k, v in shown.items()
                     if not isinstance(row.params.get(k), VARIES)}
            varying = [f"{k} = {v.describe([table.tasks[x] for x in labels])}"
                       for k, v in row.params.items() if isinstance(v, VARIES)]
            fixed = _params_text(shown)
            text = "; ".join(([fixed] if fixed not in ("", "—") or not varying else []) + varying)
            s(f"| {row.column} | `{row.method}` | {row.base} | {text} | "
              f"{row.setting_note or ''} |")
        s("")
        if table.not_in_library:
            s("Published columns with no method in the library (not run): "
              f"{', '.join(table.not_in_library)}.")
        if table.no_data:
            s(f"Not run: {table.no_data}")
        s("")
        # task-by-task table: ours (published)
        s("| task | " + " | ".join(r.column for r in table.rows) + " |")
        s("|---|" + "---|" * len(table.rows))
        for i, label in enumerate(labels):
            cells = []
            for row in table.rows:
                _, o, p, r = row_cells[row.column][i]
                if r["status"] == "missing":
                    c = "missing"
                elif r["status"] != "ok":
                    c = "failed"
                else:
                    c = _f(o)
                cells.append(f"{c} ({_f(p)})")
            s(f"| {label} | " + " | ".join(cells) + " |")
        row_sums = [summarise(table, row, row_cells[row.column]) for row in table.rows]
        summaries.extend(row_sums)
        s("| **average** | " + " | ".join(f"**{_f(x.ours_avg)}** ({_f(x.pub_avg)})" for x in row_sums) + " |")
        s("| MAD | " + " | ".join(_f(x.mad, 2) for x in row_sums) + " |")
        s("| avg diff | " + " | ".join(_f(x.ours_avg - x.pub_avg, 2) for x in row_sums) + " |")
        s("| goal | " + " | ".join(x.status for x in row_sums) + " |")
        s("| runtime (s, all tasks) | " + " | ".join(_f(x.runtime_s, 1) for x in row_sums) + " |")
        s("")
        s("Cells: ours (published). ")
        errors = []
        for row in table.rows:
            for label, _, _, r in row_cells[row.column]:
                if r["status"] not in ("ok", "missing"):
                    errors.append(f"- {row.column} on {label}: {r['error']}")
        if errors:
            s("")
            s("Failures:")
            s("")
            sec.extend(errors)
        s("")
        sections.append(sec)

    w("## Summary")
    w("")
    w("| table | row | method | tasks | ours avg | published avg | avg diff | MAD | goal |")
    w("|---|---|---|---|---|---|---|---|---|")
    for x in summaries:
        w(f"| {x.table} | {x.column} | `{x.method}` | {x.n_ok}/{x.n_tasks} | {_f(x.ours_avg, 2)} | "
          f"{_f(x.pub_avg, 2)} | {_f(x.ours_avg - x.pub_avg, 2)} | {_f(x.mad, 2)} | {x.status} |")
    met = sum(x.status == "met" for x in summaries)
    w("")
    w(f"{met} of {len(summaries)} rows meet the goal.")
    w("")
    for sec in sections:
        lines.extend(sec)

    from transferability.methods import available_methods as _am

    compared = {row.method for t in tables for row in t.rows}
    uncovered = [m for m in _am() if m not in compared]
    w("## Registered methods without a published row here")
    w("")
    w((", ".join(f"`{m}`" for m in uncovered) or "none")
      + ": the tables in `../shared/data/tables` hold no row for them with data available "
        "here (BDA, EasyTL, KLIEP and mSDA papers' tables are not among them). The SKADA-Bench "
        "tables (`tables/skada_bench/`) use other datasets (Office31 DeCAF, OfficeHome, "
        "MNIST/USPS after PCA, ...) and hyper-parameter selection protocols, so they are not "
        "reproduced here.")
    w("")
    w("<!-- reproduction-notes:begin -->")
    w("## What was tried where a row is not met")
    w("")
    w("Regenerated from `NOTES` in `benchmarks/reproduce_tables.py`.")
    w("")
    general = NOTES.get((None, None))
    if general:
        w(f"- **general**: {general}")
    for x in summaries:
        note = NOTES.get((x.table, x.column))
        if x.status != "met" or note:
            w(f"- **{x.table} / {x.column}** (`{x.method}`, {x.status}): "
              + (note or "no note yet."))
    w("<!-- reproduction-notes:end -->")
    w("")
    return "\n".join(lines), summaries


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=str(DEFAULT_DATA),
                    help="benchmark data folder (default: ../shared/data from the repo root)")
    ap.add_argument("--quick", action="store_true", help=f"only the tasks {', '.join(QUICK_TASKS)}")
    ap.add_argument("--tables", nargs="*", default=None, help="table ids to run (default: all): "
                    + ", ".join(t.id for t in TABLES))
    ap.add_argument("--jobs", type=int, default=2, help="parallel processes (at most 2)")
    ap.add_argument("--output", default=str(DEFAULT_OUTPUT), help="markdown page to write")
    ap.add_argument("--raw-json", default=None, help="also write every run as JSON here")
    args = ap.parse_args(argv)

    data_dir = os.path.abspath(args.data_dir)
    if not os.path.isdir(data_dir):
        print(f"error: data folder not found: {data_dir}", file=sys.stderr)
        return 2
    tables = [t for t in TABLES if args.tables is None or t.id in args.tables]
    tasks_filter = QUICK_TASKS if args.quick else ()
    jobs = collect_jobs(tables, tasks_filter)
    print(f"{len(jobs)} runs", file=sys.stderr)
    start = time.perf_counter()
    results = run_all(jobs, data_dir, args.jobs)
    wall = time.perf_counter() - start
    page, summaries = render(tables, results, data_dir, tasks_filter, args.quick, wall,
                             max(1, min(args.jobs, 2)))
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page)
    if args.raw_json:
        Path(args.raw_json).write_text(json.dumps(list(results.values()), indent=1, default=str))
    for x in summaries:
        print(f"{x.table:7s} {x.column:10s} {x.method:9s} ours {_f(x.ours_avg, 2):>6s} "
              f"pub {_f(x.pub_avg, 2):>6s} MAD {_f(x.mad, 2):>5s}  {x.status}")
    print(f"wrote {out} ({wall / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
