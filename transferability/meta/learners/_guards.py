"""Answers that hold by construction, around the learned models (DESIGN.md, "abstention").

The learners are trained on past pairs; some answers do not need them, and no store can teach
them reliably, because the right answer follows from the pair itself:

- **the target is too small to judge** (:data:`MIN_TARGET_PER_CLASS`): with fewer than 4 target
  rows per source class on average, no k-shot comparison of the store exists for such a target
  (a k-shot baseline needs more than k rows in every class), and the adaptation methods estimate
  target statistics from a handful of rows. ``score`` abstains ("cannot judge: target too
  small") instead of giving a number; ``recommend`` abstains too and names ``no_adapt`` as the
  safe action (it uses no target statistic);
- **the source labels carry no signal** (:func:`source_label_signal`): when the source's own
  labels cannot be predicted from its features better than by chance, no classifier trained on
  it can beat chance on the target, so every method's k* is 0 (DESIGN.md: k* needs ``acc(m)``
  above chance). ``score`` is then 0 ("not worth transferring: the source labels carry no
  signal") and ``recommend`` names ``no_adapt`` (no adaptation can put information back);
- **the target is (almost all) source rows** (:data:`OVERLAP_SHARE`): when at least 90 % of the
  target rows, as given (before preprocessing), are rows of the source, there is no shift to
  adapt to: the source classifier already saw those very rows. ``recommend`` names ``no_adapt``
  (an adaptation method can only move the domains apart); ``score`` is left to the learners.

The signal test is a permutation test on the source alone (never the target labels): the
leave-one-out 1-NN accuracy of the source (on at most :data:`SIGNAL_MAX_ROWS` rows) against the
same statistic with the labels permuted (:data:`PERMUTATIONS` draws; the nearest neighbours do
not change under a permutation, so each draw costs O(n)). A 1-NN statistic sees non-linear
structure that a linear probe misses (the meta-feature ``source_cv_accuracy``, a 3-fold
logistic regression, is at chance on 4 of the shipped store's Office-Caltech DeCAF pairs whose
1-NN accuracy is above 0.9, and on many 10–30-row sources). The rule fires only when the test
has the power to see a signal (at least :data:`SIGNAL_MIN_ROWS` source rows) and the observed
accuracy is not above the permutation 95th percentile (p > :data:`SIGNAL_P`); a smaller source
is left to the learners (the rule says nothing).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["MIN_TARGET_PER_CLASS", "SIGNAL_MIN_ROWS", "SIGNAL_P", "OVERLAP_SHARE", "PairFacts", "pair_facts",
           "source_label_signal", "target_in_source", "Verdict", "judge", "CHANCE_Z", "CHANCE_MIN_MARGIN",
           "chance_margin", "beats_chance"]

MIN_TARGET_PER_CLASS = 4   # fewer target rows per source class (on average): cannot judge
SIGNAL_MAX_ROWS = 1000     # source rows of the permutation test
SIGNAL_MIN_ROWS = 40       # fewer source rows: the test has no power, the rule says nothing
PERMUTATIONS = 199
SIGNAL_P = 0.05
OVERLAP_SHARE = 0.9
_STREAM = 11               # seeded stream of the test (independent of the meta-features' streams)


def source_label_signal(X_source, codes, *, random_state=0) -> dict:
    """Permutation test of "the source labels can be predicted from the source features".

    Parameters
    ----------
    X_source : ndarray of shape (n, d)
    codes : ndarray of shape (n,)
        Integer-coded source labels.
    random_state : int

    Returns
    -------
    dict
        ``accuracy`` (leave-one-out 1-NN), ``null_mean`` and ``null_q95`` (its permutation
        distribution), ``p_value`` (``(1 + #null >= observed) / (1 + PERMUTATIONS)``) and
        ``n_rows`` (rows used).

    Examples
    --------
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(200, 5); y = (X[:, 0] > 0).astype(int)
    >>> source_label_signal(X, y)["p_value"] < 0.01
    True
    >>> source_label_signal(X, rng.randint(0, 2, 200))["p_value"] > 0.05
    True
    """
    from transferability.utils.numerics import sq_distances

    rng = np.random.RandomState(np.random.SeedSequence([int(random_state), _STREAM]).generate_state(1)[0])
    X = np.asarray(X_source, dtype=np.float64)
    codes = np.asarray(codes)
    n = X.shape[0]
    if n > SIGNAL_MAX_ROWS:
        idx = np.sort(rng.choice(n, SIGNAL_MAX_ROWS, replace=False))
        X, codes = X[idx], codes[idx]
        n = SIGNAL_MAX_ROWS
    D = sq_distances(X, X)
    np.fill_diagonal(D, np.inf)
    nn = np.argmin(D, axis=1)  # ties: the first row (deterministic)
    observed = float(np.mean(codes[nn] == codes))
    null = np.empty(PERMUTATIONS)
    for b in range(PERMUTATIONS):
        perm = codes[rng.permutation(n)]
        null[b] = np.mean(perm[nn] == perm)
    return {"accuracy": observed, "null_mean": float(null.mean()), "null_q95": float(np.quantile(null, 0.95)),
            "p_value": float((1 + np.sum(null >= observed)) / (1 + PERMUTATIONS)), "n_rows": int(n)}


@dataclass
class PairFacts:
    """What the rules read of a pair: sizes, the source classes and the source-label test (no
    target label is ever read)."""

    n_source: int
    n_target: int
    n_features: int
    n_classes: int | None = None
    source_majority: float | None = None
    signal: dict | None = None
    target_in_source: float | None = None

    def to_dict(self) -> dict:
        return {"n_source": self.n_source, "n_target": self.n_target, "n_features": self.n_features,
                "n_classes": self.n_classes, "source_majority": self.source_majority,
                "source_label_signal": self.signal, "target_in_source": self.target_in_source}


def target_in_source(X_source, X_target) -> float:
    """Share of the target rows that are, exactly, rows of the source (row bytes compared)."""
    Xs = np.ascontiguousarray(np.asarray(X_source, dtype=np.float64))
    Xt = np.ascontiguousarray(np.asarray(X_target, dtype=np.float64))
    if Xs.shape[1] != Xt.shape[1] or not len(Xt):
        return 0.0
    seen = {row.tobytes() for row in Xs}
    return float(np.mean([row.tobytes() in seen for row in Xt]))


def pair_facts(X_source, codes, X_target, *, random_state=0, X_source_raw=None, X_target_raw=None) -> PairFacts:
    """:class:`PairFacts` of a validated, preprocessed pair (``codes``: integer source labels or
    None); the row overlap is measured on the raw domains when given (before preprocessing)."""
    ns, nt, d = int(X_source.shape[0]), int(X_target.shape[0]), int(X_source.shape[1])
    overlap = target_in_source(X_source if X_source_raw is None else X_source_raw,
                               X_target if X_target_raw is None else X_target_raw)
    if codes is None:
        return PairFacts(ns, nt, d, target_in_source=overlap)
    counts = np.bincount(np.asarray(codes))
    counts = counts[counts > 0]
    signal = source_label_signal(X_source, codes, random_state=random_state) if ns >= SIGNAL_MIN_ROWS else None
    return PairFacts(ns, nt, d, n_classes=int(len(counts)), source_majority=float(counts.max() / counts.sum()),
                     signal=signal, target_in_source=overlap)


@dataclass
class Verdict:
    """What the rules say of a pair: ``abstain`` (the learners cannot judge: why) and
    ``no_signal`` (nothing to transfer: why); both None when the rules leave it to the learners."""

    abstain: str | None = None
    no_signal: str | None = None
    no_shift: str | None = None
    notes: list = field(default_factory=list)

    @property
    def rule(self) -> str | None:
        return ("target_too_small" if self.abstain else "no_source_signal" if self.no_signal
                else "target_is_source" if self.no_shift else None)

    @property
    def reason(self) -> str | None:
        return self.abstain or self.no_signal or self.no_shift

    def to_dict(self) -> dict:
        return {"rule": self.rule, "abstain": self.abstain, "no_signal": self.no_signal, "no_shift": self.no_shift,
                "notes": list(self.notes)}


def judge(facts: PairFacts | None, features: dict | None = None) -> Verdict:
    """Apply the rules to a pair's facts (and, without facts, its meta-features' sizes)."""
    v = Verdict()
    if facts is None:
        if not features or features.get("n_classes") is None:
            return v
        facts = PairFacts(int(features["n_source"]), int(features["n_target"]), int(features["n_features"]),
                          n_classes=int(features["n_classes"]))
    if facts.n_classes:
        per_class = facts.n_target / facts.n_classes
        if per_class < MIN_TARGET_PER_CLASS:
            v.abstain = (f"cannot judge: target too small ({facts.n_target} rows for {facts.n_classes} source "
                         f"classes, {per_class:.1f} per class; at least {MIN_TARGET_PER_CLASS} per class are needed)")
    s = facts.signal
    if s is not None and s["p_value"] > SIGNAL_P:
        v.no_signal = (f"the source labels carry no signal: leave-one-out 1-NN accuracy on the source "
                       f"{s['accuracy']:.3f} is within chance (permuted labels: mean {s['null_mean']:.3f}, "
                       f"95th percentile {s['null_q95']:.3f}; p = {s['p_value']:.2f})")
    if facts.target_in_source is not None and facts.target_in_source >= OVERLAP_SHARE:
        v.no_shift = (f"no shift to adapt to: {100 * facts.target_in_source:.0f} % of the target rows are source "
                      "rows")
    if facts.n_classes and s is None:
        v.notes.append(f"source too small ({facts.n_source} rows < {SIGNAL_MIN_ROWS}) to test its labels' signal")
    return v


# -- chance -------------------------------------------------------------------------------------
CHANCE_Z = 2.0            # "beats chance": this many standard errors above a chance-level score
CHANCE_MIN_MARGIN = 0.02  # and at least this much


def chance_margin(n_classes: int, n_target: int, z: float = CHANCE_Z) -> float:
    """How far above chance ``1 / n_classes`` a balanced accuracy must be to beat it:
    ``max(CHANCE_MIN_MARGIN, z * sqrt(p (1 - p) / n_target))`` with ``p = 1 / n_classes``
    (``z = CHANCE_Z``: two standard errors of a chance-level score on ``n_target`` rows; a
    larger ``z`` for the best of several methods scored on the same rows)."""
    p = 1.0 / max(int(n_classes), 1)
    return float(max(CHANCE_MIN_MARGIN, z * math.sqrt(p * (1 - p) / max(int(n_target), 1))))


def beats_chance(balanced_accuracy, n_classes, n_target, z: float = CHANCE_Z) -> bool:
    """Whether a method's target balanced accuracy is above chance (``1 / n_classes``, what any
    classifier that ignores its input scores, whatever the class balance) by
    :func:`chance_margin`. Balanced accuracy, not accuracy against the majority-class rate:
    the store keeps the target's class count and every outcome's balanced accuracy, not the
    target's class proportions, and the two criteria agree for a balanced target."""
    if balanced_accuracy is None or not n_classes or not n_target:
        return True  # unknown: the k-shot comparison alone decides
    return bool(balanced_accuracy > 1.0 / n_classes + chance_margin(n_classes, n_target, z))
