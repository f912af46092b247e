"""Verification with a few labelled target rows: the guarded rule that settles the choice.

Zero-label selection has a ceiling (no unsupervised validator beats one fixed method, in the
literature and on this store); a handful of labelled target rows does better, if it is not
trusted blindly: on 5-20 rows the best-scoring method is often best by luck. The rule here keeps
a *start* method (the zero-label pick) unless another method leads it, on the labelled rows, by
more than ``c`` standard errors of the **paired** difference (both methods are scored on the same
rows, so the difference's spread is that of the rows where they disagree). ``c`` and the start are
chosen by inner group cross-validation on simulated draws of the store
(:mod:`transferability.meta.evaluation._labels`), never on the pairs they are judged on.

The labels are used only to score the methods' predictions: no method and no meta-feature sees
them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from transferability.utils.validation import InputError

__all__ = ["guarded_choice", "challenger", "argmax_choice", "paired_lead", "wilson_interval", "TargetLabels", "check_target_labels",
           "read_label_file", "kshot_on_labels", "verify", "DEFAULT_RULE"]


def paired_lead(correct_a, correct_b) -> tuple[float, float]:
    """Mean and standard error of the paired difference ``a - b`` of two methods' 0/1
    correctness on the same rows (SE ``sd(d) / sqrt(n)``, ``ddof=1``; 0 with one row)."""
    d = np.asarray(correct_a, dtype=np.float64) - np.asarray(correct_b, dtype=np.float64)
    n = d.size
    if n == 0:
        return 0.0, math.inf
    se = float(np.std(d, ddof=1) / math.sqrt(n)) if n > 1 else 0.0
    return float(d.mean()), se


def _order(n_methods, preference):
    """Tie-break order: ``preference`` (method indices) first, then the rest in index order."""
    pref = [int(j) for j in (preference or ())]
    return pref + [j for j in range(n_methods) if j not in set(pref)]


def argmax_choice(correct, available=None, preference=None) -> int:
    """The method with the most correct labelled rows (ties: the first in ``preference``, then
    index order). ``correct``: (n_methods, n_rows) 0/1."""
    correct = np.asarray(correct, dtype=np.float64)
    avail = np.ones(len(correct), bool) if available is None else np.asarray(available, bool)
    score = correct.sum(axis=1)
    best, best_score = None, -math.inf
    for j in _order(len(correct), preference):
        if avail[j] and score[j] > best_score:
            best, best_score = j, score[j]
    return best


def guarded_choice(correct, start: int, c: float, available=None, preference=None) -> tuple[int, float, float]:
    """The guarded rule: keep ``start`` unless the best-scoring other method leads it by more
    than ``c`` paired standard errors on the labelled rows.

    Parameters
    ----------
    correct : array of shape (n_methods, n_rows)
        1 where a method's prediction of a labelled row is right.
    start : int
        The method kept by default (the zero-label pick, or the fixed default).
    c : float
        Margin in paired standard errors (0: any strict lead switches).
    available : array of bool, optional
        Methods that ran (a failed or unrun method is never chosen).
    preference : list of int, optional
        Tie-break order among challengers with equal scores (default: index order).

    Returns
    -------
    (choice, lead, se)
        The chosen index, and the challenger's mean lead and its SE (0, 0 without a challenger).
    """
    correct = np.asarray(correct, dtype=np.float64)
    avail = np.ones(len(correct), bool) if available is None else np.asarray(available, bool)
    if not avail[start]:  # the start did not run: the best-scoring method that did
        j = argmax_choice(correct, avail, preference)
        return (start if j is None else j), 0.0, 0.0
    ch, lead, se = challenger(correct, start, avail, preference)
    if ch is not None and lead > 0 and lead > c * se:
        return ch, lead, se
    return start, lead, se


def challenger(correct, start: int, available=None, preference=None) -> tuple[int | None, float, float]:
    """The method the guarded rule weighs against ``start``: the best-scoring other available
    method (ties as :func:`argmax_choice`), with its paired lead over ``start`` and that lead's
    SE; ``(None, 0, 0)`` when there is none. The store simulation
    (:mod:`transferability.meta.evaluation._labels`) uses it too, so the rule it evaluates is
    the rule ``recommend --target-labels`` applies."""
    correct = np.asarray(correct, dtype=np.float64)
    others = np.ones(len(correct), bool) if available is None else np.asarray(available, bool).copy()
    others[start] = False
    ch = argmax_choice(correct, others, preference)
    if ch is None:
        return None, 0.0, 0.0
    lead, se = paired_lead(correct[ch], correct[start])
    return ch, lead, se


def wilson_interval(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval of a proportion ``k / n`` (95 % by default); ``(0, 1)`` for n = 0."""
    if n <= 0:
        return 0.0, 1.0
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, mid - half), min(1.0, mid + half)


# -- the labelled rows ---------------------------------------------------------------------------
MAX_LABEL_FILE_BYTES = 64 << 20
#: The shipped rule when a model directory has no ``label_value.json`` (what the store
#: simulation chose for the shipped models is in that file; these are its documented defaults).
DEFAULT_RULE = {"start": "zero_label", "c": 1.0}
LABEL_VALUE_FILE = "label_value.json"


@dataclass
class TargetLabels:
    """Labelled target rows: ``rows`` (0-based positions in the target), ``labels`` (values of
    the source's classes) and where they came from."""

    rows: np.ndarray
    labels: np.ndarray
    origin: str = "given"

    @property
    def n(self) -> int:
        return int(self.rows.size)


def _parse_rows(values, origin):
    rows = []
    for i, v in enumerate(values, 1):
        text = str(v).strip()
        if not re.fullmatch(r"[0-9]+", text):
            raise InputError(f"{origin}: row {i}: target row index {text!r} is not a non-negative integer "
                             "(0-based position in the target)")
        rows.append(int(text))
    return np.array(rows, dtype=np.int64)


def read_label_file(path) -> tuple[list, list]:
    """The ``row`` and ``label`` columns of a CSV label file (header ``row,label``; other
    columns are ignored). One :class:`InputError` line on any problem."""
    import csv
    import io

    from ._files import read_bounded

    data = read_bounded(path, max_bytes=MAX_LABEL_FILE_BYTES, what="label file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"label file {path}: not UTF-8 text (byte {exc.start})") from None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        raise InputError(f"label file {path} is empty; it needs a header 'row,label' and one line per labelled row")
    names = [h.strip() for h in header]
    if "row" not in names or "label" not in names:
        raise InputError(f"label file {path}: the header {','.join(names)!r} has no 'row' and 'label' columns "
                         "(expected CSV with header 'row,label')")
    ir, il = names.index("row"), names.index("label")
    rows, labels = [], []
    for line_no, rec in enumerate(reader, 2):
        if not rec or all(not f.strip() for f in rec):
            continue
        if len(rec) <= max(ir, il):
            raise InputError(f"label file {path}: line {line_no} has {len(rec)} field(s), the header {len(names)}")
        rows.append(rec[ir])
        labels.append(rec[il].strip())
    if not rows:
        raise InputError(f"label file {path} has a header but no labelled row")
    return rows, labels


def check_target_labels(target_labels, n_target: int, source_classes) -> TargetLabels:
    """Accept a path to a CSV label file, a ``{row: label}`` mapping, a ``(rows, labels)`` pair
    or a :class:`TargetLabels`; check rows (integers in ``[0, n_target)``, each once) and labels
    (classes the source knows: a method can only predict those). Labels are matched to the
    source classes by their text, so ``"3"`` in a file names the source class ``3``."""
    import os

    if isinstance(target_labels, TargetLabels):
        rows, labels, origin = target_labels.rows.tolist(), list(target_labels.labels), target_labels.origin
    elif isinstance(target_labels, (str, os.PathLike)):
        origin = f"label file {os.fspath(target_labels)}"
        rows, labels = read_label_file(target_labels)
    elif isinstance(target_labels, dict):
        origin, rows, labels = "target labels", list(target_labels.keys()), list(target_labels.values())
    elif isinstance(target_labels, (tuple, list)) and len(target_labels) == 2:
        origin = "target labels"
        rows, labels = list(np.asarray(target_labels[0]).ravel()), list(np.asarray(target_labels[1]).ravel())
        if len(rows) != len(labels):
            raise InputError(f"target labels: {len(rows)} rows but {len(labels)} labels")
    else:
        raise InputError("target_labels must be a CSV path, a {row: label} dict or a (rows, labels) pair, got "
                         f"{type(target_labels).__name__}")
    if not rows:
        raise InputError(f"{origin}: no labelled row")
    rows = _parse_rows(rows, origin)
    bad = rows[rows >= n_target]
    if bad.size:
        raise InputError(f"{origin}: row {int(bad[0])} is not a target row (the target has {n_target} rows, "
                         f"0 .. {n_target - 1})")
    uniq, counts = np.unique(rows, return_counts=True)
    if (counts > 1).any():
        raise InputError(f"{origin}: target row {int(uniq[counts > 1][0])} is labelled more than once")
    classes = list(np.unique(np.asarray(source_classes)))
    by_text = {str(c): c for c in classes}
    unseen = [str(v).strip() for v in labels if str(v).strip() not in by_text]
    if unseen:
        shown = ", ".join(repr(c) for c in list(by_text)[:8]) + (" ..." if len(by_text) > 8 else "")
        raise InputError(f"{origin}: label {unseen[0]!r} is not a source class (the methods can only predict the "
                         f"source's classes: {shown})")
    values = np.array([by_text[str(v).strip()] for v in labels], dtype=np.asarray(source_classes).dtype)
    return TargetLabels(rows=rows, labels=values, origin=origin)


# -- the k-shot baseline on the labelled rows ----------------------------------------------------
def kshot_on_labels(X, y, base_estimator, random_state=0) -> np.ndarray:
    """Cross-validated predictions of the base estimator trained on the labelled rows alone
    (leave-one-out up to 100 rows, else 10 folds): what labelling them would give without any
    source. A single labelled class is its own prediction."""
    from sklearn.base import clone
    from sklearn.model_selection import KFold, LeaveOneOut

    from transferability.methods._base import make_base_estimator

    y = np.asarray(y)
    if np.unique(y.astype(str)).size < 2 or len(y) < 2:
        return y.copy()
    cv = LeaveOneOut() if len(y) <= 100 else KFold(10, shuffle=True, random_state=random_state)
    est = clone(make_base_estimator(base_estimator, random_state=random_state))
    out = np.empty(len(y), dtype=y.dtype)
    for train, test in cv.split(X):
        if np.unique(y[train].astype(str)).size < 2:  # a fold with one class left: it predicts that class
            out[test] = y[train][0]
            continue
        out[test] = clone(est).fit(X[train], y[train]).predict(X[test])
    return out


# -- verification --------------------------------------------------------------------------------
def _kshot_protocol(n, base_estimator) -> str:
    return (("leave-one-out" if n <= 100 else "10-fold") + f" on the {n} labelled rows, "
            f"base estimator {base_estimator} alone (no source)")


def _methods_out(results, n) -> list:
    out = []
    for e in results:
        row = {"method": e["method"], "runtime_s": e["runtime_s"], "error": e["error"]}
        if "_correct" in e:
            k = int(e["_correct"].sum())
            row.update(correct=k, accuracy=k / n, interval=list(wilson_interval(k, n)))
        else:
            row.update(correct=None, accuracy=None, interval=None)
        out.append(row)
    return out


def _slower(factor, seconds, predicted) -> float:
    """The measured / predicted runtime ratio so far, with one more method's ``seconds``."""
    if predicted > 0 and math.isfinite(predicted):
        return max(factor, seconds / predicted)
    return factor


def _predict_one(X_source, y_source, X_target, method, base_estimator, random_state):
    from transferability.methods import predict_methods

    return predict_methods(X_source, y_source, X_target, methods=[method], base_estimator=base_estimator,
                           random_state=random_state)[method]


class _BoundedRunner:
    """Runs one method at a time in a worker process (loky: a fresh interpreter, no fork of this
    one's thread pools) and stops it when the time it was given runs out, so ``--budget`` bounds
    the wall time whatever the runtime model predicted. The worker starts at once, so its start-up
    overlaps nothing but is paid once."""

    def __init__(self, X_source, y_source, X_target, base_estimator, random_state, func=None):
        self.args = (X_source, y_source, X_target)
        self.base_estimator, self.random_state = base_estimator, random_state
        self.func = func or _predict_one
        self.executor = None

    def _executor(self):
        if self.executor is None:
            from joblib.externals.loky import get_reusable_executor

            self.executor = get_reusable_executor(max_workers=1, reuse=False)
        return self.executor

    def run(self, method, seconds):
        """The method's result dict, or None when it did not finish within ``seconds``."""
        from concurrent.futures import TimeoutError as FutureTimeout

        if seconds <= 0:
            return None
        fut = self._executor().submit(self.func, *self.args, method, self.base_estimator, self.random_state)
        try:
            return fut.result(timeout=seconds)
        except FutureTimeout:
            self.executor.shutdown(wait=False, kill_workers=True)
            self.executor = None
            return None

    def close(self):
        """Stop the worker (at once: after the last method nothing runs there; on Ctrl-C the
        running method is killed rather than waited for)."""
        if self.executor is not None:
            self.executor.shutdown(wait=False, kill_workers=True)
            self.executor = None
def _pts(x):
    return 100.0 * float(x)


def verify(X_source, y_source, X_target, labels: TargetLabels, *, candidates, start: str, c: float,
           base_estimator="1nn", budget=None, runtimes=None, started=None, random_state=0, progress=None,
           rule_origin="default", zero_label_pick=None, start_rule="zero_label") -> dict:
    """Run the candidate methods on the (preprocessed, validated) pair, score each on the
    labelled target rows, and apply the guarded rule from ``start`` with margin ``c``.

    ``candidates``: method names in preference order (the zero-label ranking); ``budget``
    (seconds, counted from ``started``, a :func:`time.perf_counter` value) keeps, in that order,
    the methods whose predicted runtime (``runtimes``) still fits in what is left; the
    predictions are scaled by the largest measured / predicted ratio of the methods run so far
    (at least 1: the runtime model is known to run low on some methods). The labels are read
    only to score predictions.

    Returns the ``verified`` object of ``recommend --json`` (see ``docs/cli.md``)."""
    import time

    started = time.perf_counter() if started is None else started
    runtimes = runtimes or {}
    cands = [start] + [m for m in candidates if m != start]
    lab = labels.labels.astype(object)
    rows = labels.rows
    results, not_run = [], []
    factor = 1.0  # measured / predicted runtime so far (>= 1): the runtime model is known to run low
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(cands), desc="verify", unit="method", leave=False, disable=None)
    runner = None if budget is None else _BoundedRunner(X_source, y_source, X_target, base_estimator, random_state)
    try:
        for m in cands:
            if budget is not None:
                left = budget - (time.perf_counter() - started)
                need = runtimes.get(m, math.nan) * factor
                if not need <= left:
                    not_run.append({"method": m, "reason": f"predicted {need:.2f} s, {max(left, 0):.2f} s of the "
                                                          "budget left"})
                    if bar is not None:
                        bar.update(1)
                    continue
            if bar is not None:
                bar.set_postfix_str(m)
            if budget is None:
                res = _predict_one(X_source, y_source, X_target, m, base_estimator, random_state)
            else:  # in a worker process stopped at the end of the budget
                left = budget - (time.perf_counter() - started)
                res = runner.run(m, left)
                if res is None:
                    not_run.append({"method": m, "reason": f"stopped at the end of the budget ({left:.2f} s left "
                                                          "when it started)"})
                    factor = _slower(factor, left, runtimes.get(m, math.nan))
                    if bar is not None:
                        bar.update(1)
                    continue
            entry = {"method": m, "runtime_s": res["runtime_s"], "error": res["error"]}
            factor = _slower(factor, res["runtime_s"], runtimes.get(m, math.nan))
            if res["error"] is None:
                correct = (np.asarray(res["predictions"])[rows].astype(object) == lab)
                entry["_correct"] = correct.astype(np.float64)
            results.append(entry)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
        if runner is not None:
            runner.close()
    ran = [e for e in results if "_correct" in e]
    if not ran and budget is None:
        raise InputError("no candidate method ran on this pair")
    names = [e["method"] for e in ran]
    C = np.array([e["_correct"] for e in ran])
    n = labels.n
    zero = zero_label_pick or start
    # the k-shot baseline on the same rows (the empirical verdict's reference)
    kpred = kshot_on_labels(np.asarray(X_target)[rows], labels.labels, base_estimator, random_state=random_state)
    kcorrect = (kpred.astype(object) == lab).astype(np.float64)
    kk = int(kcorrect.sum())
    common = {"n_labelled": n, "labels": labels.origin,
              "rule": {"start": start_rule, "start_method": start, "c": float(c), "chosen_by": rule_origin},
              "methods": _methods_out(results, n), "not_run": not_run, "zero_label_pick": zero,
              "kshot": {"accuracy": kk / n, "correct": kk, "interval": list(wilson_interval(kk, n)),
                        "protocol": _kshot_protocol(n, base_estimator)}}
    if not ran or start in {e["method"] for e in not_run}:
        # the budget ended before the start could be scored: nothing to compare it with, so the
        # zero-label answer stands, unverified (the methods that did run are still shown)
        why = ("no method finished within the budget" if not ran else
               f"{start} did not finish within the budget, so no method could be compared with it")
        return {**common, "complete": False, "pick": zero, "changed": False,
                "why": f"{why}: the zero-label pick stands, unverified", "lead": 0.0, "lead_se": 0.0,
                "pick_balanced_accuracy": None, "beats_chance": None,
                "worth_transferring": None, "worth_lead": None, "worth_lead_se": None, "worth_settled": False,
                "elapsed_s": time.perf_counter() - started}
    if start in names:
        j0 = names.index(start)
        pick, lead, se = guarded_choice(C, j0, c)
    else:  # the start failed (an error, not the budget): the best-scoring method that did run
        j0, lead, se = None, 0.0, 0.0
        pick = argmax_choice(C)
    chosen = names[pick]
    changed = chosen != start
    if j0 is None:
        why = f"{start} did not run ({next((e['error'] for e in results if e['method'] == start), 'not run')}); " \
              f"{chosen} scored best on the labelled rows"
    elif changed:
        why = (f"{chosen} leads {start} by {_pts(lead):.1f} points on the {n} labelled rows, "
               f"{lead / se if se > 0 else math.inf:.2f} paired standard errors (more than the margin {c:g})")
    elif lead > 0:
        why = (f"kept: the best other method, {names[challenger(C, j0)[0]]}, leads it by {_pts(lead):.1f} points, "
               f"{lead / se if se > 0 else math.inf:.2f} paired standard errors, not more than the margin {c:g}")
    else:
        why = "kept: no other method scores higher on the labelled rows"
    wl, wse = paired_lead(C[pick], kcorrect)
    # worth transferring: the pick beats the labels alone and beats chance, by the store's own
    # chance rule (balanced accuracy over the labelled classes above 1/C by z SEs), so that a
    # k-shot baseline below chance on a handful of rows does not make noise "worth it"; z is
    # the store's CHANCE_Z made one-sided at the same level for the best of the methods scored
    # (Bonferroni: the pick was chosen on these very rows)
    from scipy.stats import norm

    from ._guards import CHANCE_Z, beats_chance

    present = np.unique(labels.labels.astype(str))
    bal = float(np.mean([C[pick][labels.labels.astype(str) == k].mean() for k in present]))
    z = float(norm.isf(norm.sf(CHANCE_Z) / len(names)))
    above_chance = beats_chance(bal, present.size, n, z=z) if present.size > 1 else False
    return {
        **common, "complete": not not_run, "pick": chosen, "changed": chosen != zero, "why": why,
        "lead": float(lead), "lead_se": float(se),
        "pick_balanced_accuracy": bal, "beats_chance": bool(above_chance),
        "worth_transferring": bool(wl > 0 and above_chance), "worth_lead": float(wl), "worth_lead_se": float(wse),
        "worth_settled": bool(abs(wl) > 2 * wse) if wse > 0 else bool(wl != 0),
        "elapsed_s": time.perf_counter() - started,
    }


# -- the value of labels -------------------------------------------------------------------------
#: Labelled-row counts quoted in every zero-label answer.
LABEL_VALUE_N = (0, 10, 20, 50)
#: Stored pairs averaged for "pairs like this one" (nearest by the models' meta-feature distance).
LABEL_VALUE_NEIGHBOURS = 25
MAX_LABEL_VALUE_BYTES = 16 << 20


def load_label_rules(models) -> dict | None:
    """The ``label_value.json`` beside a model set (None when its directory has none, or the
    models were fitted in memory). Written by ``transferability meta labels``; it holds, per
    base estimator, the guarded rule chosen on the store simulation and each stored pair's
    simulated expected regret per labelled-row count. A file of another training (store hash)
    is refused, as mixed model files are."""
    import os

    directory = getattr(models, "directory", None)
    if directory is None:
        return None
    memo = getattr(models, "_label_rules", None)  # one recommend asks up to three times: read once
    if memo is not None and memo[0] == directory:
        return memo[1]
    path = os.path.join(directory, LABEL_VALUE_FILE)
    doc = _read_label_rules(path, models) if os.path.lexists(path) else None
    try:
        models._label_rules = (directory, doc)
    except AttributeError:  # an object that takes no attribute: read again next time
        pass
    return doc


def _read_label_rules(path, models) -> dict:
    from ._files import read_json

    doc = read_json(path, what="label-value file", max_bytes=MAX_LABEL_VALUE_BYTES)
    where = f"label-value file {path}"
    if not isinstance(doc, dict) or doc.get("format") != 1 or not isinstance(doc.get("bases"), dict):
        raise InputError(f"{where}: not a format-1 label-value file (from `transferability meta labels`)")
    if doc.get("store_hash") != models.manifest.get("store_hash"):
        raise InputError(f"{where} comes from another training (store {doc.get('store_hash')}) than the models "
                         f"(store {models.manifest.get('store_hash')}); run `transferability meta labels` again")
    ns = doc.get("n_labels")
    if not (isinstance(ns, list) and ns and all(isinstance(v, int) and v >= 0 for v in ns)):
        raise InputError(f"{where}: n_labels must be a list of non-negative integers")
    for be, entry in doc["bases"].items():
        rule = entry.get("rule") if isinstance(entry, dict) else None
        if not (isinstance(rule, dict) and rule.get("start") in ("zero_label", "fixed")
                and isinstance(rule.get("c"), (int, float)) and math.isfinite(rule["c"]) and rule["c"] >= 0):
            raise InputError(f"{where}: bases.{be}.rule must be {{'start': 'zero_label'|'fixed', 'c': number >= 0}}")
        pairs = entry.get("pairs")
        if not isinstance(pairs, dict) or not all(
                isinstance(v, list) and len(v) == len(ns)
                and all(x is None or (isinstance(x, (int, float)) and math.isfinite(x)) for x in v)
                for v in pairs.values()):
            raise InputError(f"{where}: bases.{be}.pairs must map pair names to {len(ns)} numbers or nulls")
    return doc


def rule_for(doc, base_estimator) -> tuple[dict, str]:
    """``(rule, origin)``: the chosen rule of ``base_estimator`` from a label-value file, else
    :data:`DEFAULT_RULE`."""
    entry = (doc or {}).get("bases", {}).get(base_estimator)
    if entry is None:
        return dict(DEFAULT_RULE), "default (no label-value file for these models)"
    return dict(entry["rule"]), "inner group cross-validation on the store simulation (label_value.json)"


def label_value(doc, base_estimator, model, features, *, neighbours=LABEL_VALUE_NEIGHBOURS) -> dict | None:
    """Expected regret at ``LABEL_VALUE_N`` labelled target rows for pairs like this one: the
    mean over the ``neighbours`` nearest stored pairs (the models' meta-feature distance) of each
    pair's simulated regret (zero-label pick at 0; the guarded rule above). None without a
    label-value file for this base estimator."""
    entry = (doc or {}).get("bases", {}).get(base_estimator)
    if entry is None:
        return None
    ns = list(doc["n_labels"])
    x = np.array([[float(features[f]) for f in model.feature_names]])
    dist = model.knn.distance_.distances(x)[0]
    names = model.knn.names_
    known = [i for i in np.argsort(dist, kind="stable") if names[i] in entry["pairs"]][:neighbours]
    if not known:
        return None
    values = np.array([[np.nan if v is None else v for v in entry["pairs"][names[i]]] for i in known], dtype=float)
    out_n, out_r, out_k = [], [], []
    for n in LABEL_VALUE_N:
        if n not in ns:
            continue
        col = values[:, ns.index(n)]
        ok = np.isfinite(col)
        out_n.append(n)
        out_r.append(float(col[ok].mean()) if ok.any() else None)
        out_k.append(int(ok.sum()))
    text = None
    if 0 in out_n and 20 in out_n and out_r[out_n.index(0)] is not None and out_r[out_n.index(20)] is not None:
        r0, r20 = out_r[out_n.index(0)], out_r[out_n.index(20)]
        where = f"on the {out_k[out_n.index(20)]} most similar stored pairs"
        if r20 < r0:
            text = (f"labelling 20 target rows cuts the expected regret from {r0:.1f} to {r20:.1f} points ({where}; "
                    "`--target-labels FILE` runs the check)")
        else:
            text = (f"labelling 20 target rows is not expected to help here: expected regret {r0:.1f} points "
                    f"without labels, {r20:.1f} with 20 ({where})")
    return {"n": out_n, "expected_regret": out_r, "pairs": out_k, "rule": dict(entry["rule"]), "text": text}
