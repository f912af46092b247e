"""Per-method runtime model: predicted seconds of a method at a pair's size.

A log-log linear least-squares fit on the store's recorded runtimes,
``log t = a + b log(n_source + n_target) + c log(n_features)``, one per method and base
estimator. The store's pairs are small (up to a few thousand rows), so predictions far above
that range are extrapolations; ``docs/evaluation.md`` shows the fit's error.
"""

from __future__ import annotations

import numpy as np

__all__ = ["RuntimeModel"]


def _design(sizes):
    sizes = np.asarray(sizes, dtype=np.float64).reshape(-1, 3)
    n = np.maximum(sizes[:, 0] + sizes[:, 1], 2.0)
    d = np.maximum(sizes[:, 2], 1.0)
    return np.column_stack([np.ones(len(sizes)), np.log(n), np.log(d)])


class RuntimeModel:
    """Log-log runtime fit per method.

    Attributes
    ----------
    coef_ : dict
        method -> [a, b, c] of ``log t = a + b log(n_source + n_target) + c log(d)``.
    resid_sd_ : dict
        method -> standard deviation of the log residuals on the training pairs.
    """

    def fit(self, sizes, runtimes, methods):
        """``sizes`` (n_pairs, 3) = (n_source, n_target, d); ``runtimes`` (n_pairs, n_methods) seconds."""
        A = _design(sizes)
        self.coef_, self.resid_sd_ = {}, {}
        for j, m in enumerate(methods):
            t = np.asarray(runtimes, dtype=np.float64)[:, j]
            ok = np.isfinite(t) & (t > 0)
            if ok.sum() < 3:
                self.coef_[m] = [float(np.log(np.nanmedian(t[ok]) if ok.any() else 1.0)), 0.0, 0.0]
                self.resid_sd_[m] = 0.0
                continue
            coef, *_ = np.linalg.lstsq(A[ok], np.log(t[ok]), rcond=None)
            self.coef_[m] = [float(c) for c in coef]
            self.resid_sd_[m] = float(np.std(np.log(t[ok]) - A[ok] @ coef))
        return self

    def predict(self, n_source, n_target, n_features):
        """Predicted seconds per method at this size."""
        a = _design([[n_source, n_target, n_features]])[0]
        return {m: float(np.exp(a @ np.asarray(c))) for m, c in self.coef_.items()}

    def to_dict(self):
        return {m: {"coef": self.coef_[m], "resid_sd": self.resid_sd_[m]} for m in sorted(self.coef_)}

    @classmethod
    def from_dict(cls, d):
        self = cls()
        self.coef_ = {m: [float(x) for x in v["coef"]] for m, v in d.items()}
        self.resid_sd_ = {m: float(v["resid_sd"]) for m, v in d.items()}
        return self
