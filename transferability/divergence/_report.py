"""The divergence report: every measure on one pair, with the sample sizes each one used."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np

from .._version import __version__
from ..utils.backend import get_backend
from ..utils.validation import InputError, check_magnitude, check_pair
from ._classifier import _h_divergence, _proxy_a_distance, h_divergence, proxy_a_distance
from ._common import finish, samples_used
from ._mmd import DEGREE as _MMD_DEGREE
from ._mmd import _linear_mmd2, _mmd2, _rbf_mmd2, linear_mmd2, mmd2, rbf_mmd2
from ._moments import DEGREE as _MOMENT_DEGREE
from ._moments import (
    _moments, check_moment_memory, coral_from_moments, coral_gap, frechet_distance,
    frechet_from_moments, grassmann_distance, grassmann_from_moments,
)
from ._neighbors import _knn_overlap, knn_overlap

__all__ = ["DivergenceReport", "compute_divergences", "MEASURES", "DEFAULT_MAX_SAMPLES"]

#: Rows per domain above which a measure subsamples (``None``: always exact on every row).
DEFAULT_MAX_SAMPLES = {
    "mmd": 10_000,
    "rbf_mmd": 10_000,
    "linear_mmd": None,
    "coral": None,
    "frechet": None,
    "grassmann": None,
    "proxy_a_distance": 2_000,
    "h_divergence": 2_000,
    "knn_overlap": 2_000,
}

#: name -> (function, uses the kernel backend?, description)
MEASURES = {
    "mmd": (mmd2, True, "multi-kernel MMD² (5 Gaussian kernels, bandwidth ratio 2)"),
    "linear_mmd": (linear_mmd2, False, "linear MMD² = |mean_s - mean_t|²"),
    "rbf_mmd": (rbf_mmd2, True, "RBF MMD², gamma = 1 / mean pairwise squared distance"),
    "coral": (coral_gap, False, "CORAL gap |C_s - C_t|²_F / 4d²"),
    "frechet": (frechet_distance, False, "Fréchet distance of Gaussian fits"),
    "grassmann": (grassmann_distance, False, "geodesic distance between PCA subspaces"),
    "proxy_a_distance": (proxy_a_distance, False, "proxy A-distance, linear domain classifier"),
    "h_divergence": (h_divergence, False, "H-divergence proxy, boosted-tree domain classifier"),
    "knn_overlap": (knn_overlap, False, "1-NN support overlap (1 = mixed, 0 = disjoint)"),
}
# moment-based measures share one pass over the data (means and covariances of both domains)
_FROM_MOMENTS = {"coral": coral_from_moments, "frechet": frechet_from_moments,
                 "grassmann": grassmann_from_moments}
# the measures on an already validated (and magnitude-checked) pair, and their degree of
# homogeneity in the features (0: scale-invariant)
_CORES = {"mmd": _mmd2, "linear_mmd": _linear_mmd2, "rbf_mmd": _rbf_mmd2,
          "proxy_a_distance": _proxy_a_distance, "h_divergence": _h_divergence,
          "knn_overlap": _knn_overlap}
_DEGREE = {**_MMD_DEGREE, **_MOMENT_DEGREE, "proxy_a_distance": 0, "h_divergence": 0,
           "knn_overlap": 0}
_SUBSAMPLED = {"mmd", "rbf_mmd", "proxy_a_distance", "h_divergence", "knn_overlap"}
_EQUAL_SIZES = {"proxy_a_distance", "h_divergence"}


@dataclass
class DivergenceReport:
    """Result of :func:`compute_divergences`.

    Attributes
    ----------
    divergences : dict
        measure name -> value.
    sample_sizes : dict
        measure name -> ``{"source": rows used, "target": rows used}``.
    runtime_s : dict
        measure name -> seconds.
    n_source, n_target, n_features : int
        Sizes of the inputs.
    backend : str
        The kernel backend that ran: ``"numpy"`` or ``"torch"`` (``"auto"`` resolved).
    device : str
        Where it ran: ``"cpu"``, or the torch device (e.g. ``"cuda"``).
    random_state : int
    version : str
    """

    divergences: dict
    sample_sizes: dict
    runtime_s: dict
    n_source: int
    n_target: int
    n_features: int
    backend: str = "numpy"
    device: str = "cpu"
    random_state: int = 0
    version: str = __version__
    descriptions: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready dict (DESIGN.md's ``divergences`` contract)."""
        d = asdict(self)
        d.pop("descriptions")
        return d


def compute_divergences(X_source, X_target, *, measures=None, max_samples=None, random_state=0,
                        backend="numpy", device=None, n_jobs=-1, progress=False) -> DivergenceReport:
    """Compute the divergence measures between two domains.

    Parameters
    ----------
    X_source, X_target : array-like of shape (n, n_features)
    measures : list of str or None, default=None
        Subset of :data:`MEASURES`; ``None`` computes all.
    max_samples : dict or int or None, default=None
        Rows per domain above which the kernel and classifier measures subsample (uniform,
        without replacement, seeded by ``random_state``); an int applies to all of them, a dict
        overrides :data:`DEFAULT_MAX_SAMPLES` per measure. Moment-based measures always use
        every row. The sizes actually used are in ``report.sample_sizes``.
    random_state : int, default=0
        Seed for subsampling and the domain classifiers; each measure restarts from it, so a
        value does not depend on which other measures were asked for.
    backend, device : kernel backend for the MMDs (see :func:`transferability.utils.backend.get_backend`).
    n_jobs : int, default=-1
        Threads for the blockwise MMD on numpy.
    progress : bool, default=False
        Show a progress bar (stderr).

    Returns
    -------
    DivergenceReport
        Every value finite: features so large (or small) that squared quantities would
        overflow are divided by a common power of two first (exact; see
        :func:`~transferability.utils.validation.check_magnitude`), and a value that overflows
        float64 even so raises :class:`InputError`.

    Raises
    ------
    InputError
        Bad input, an unknown measure, or a value that cannot be represented.
    MemoryError
        The moment measures' ``d x d`` matrices would not fit (checked before allocating;
        the message names d and the GB needed).
    """
    names = list(MEASURES) if measures is None else list(measures)
    unknown = [m for m in names if m not in MEASURES]
    if unknown:
        raise InputError(f"unknown measure(s): {', '.join(unknown)}; available: {', '.join(MEASURES)}")
    if not names:
        raise InputError(f"no measure asked for; available: {', '.join(MEASURES)}")
    # validated once for every measure
    Xs, Xt, k = check_magnitude(*check_pair(X_source, X_target))
    limits = dict(DEFAULT_MAX_SAMPLES)
    if isinstance(max_samples, dict):
        limits.update(max_samples)
    elif max_samples is not None:
        limits.update({m: int(max_samples) for m in _SUBSAMPLED})
    if not isinstance(random_state, (int, np.integer)) or isinstance(random_state, bool):
        raise InputError("random_state must be an integer for a reproducible report")
    # "auto" resolved once, so that the report says what ran
    nx = get_backend(backend, device) if any(MEASURES[m][1] for m in names) else get_backend("numpy")
    check_moment_memory(Xs.shape[1], [m for m in names if m in _FROM_MOMENTS])

    values, sizes, times = {}, {}, {}
    moments = None
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(names), desc="divergences", unit="measure", leave=False)
    try:
        for name in names:
            if bar is not None:
                bar.set_postfix_str(name)
            kernel = MEASURES[name][1]
            kwargs = {}
            if name in _SUBSAMPLED:
                kwargs.update(max_samples=limits[name], random_state=int(random_state))
            if kernel:
                kwargs.update(backend=nx, n_jobs=n_jobs)
            t0 = time.perf_counter()
            if name in _FROM_MOMENTS:
                if moments is None:  # timed with the first moment-based measure
                    moments = (_moments(Xs), _moments(Xt))
                value = _FROM_MOMENTS[name](*moments)
            else:
                value = _CORES[name](Xs, Xt, **kwargs)
            values[name] = finish(name, value, k, _DEGREE[name])
            times[name] = round(time.perf_counter() - t0, 6)
            ns, nt = samples_used(Xs.shape[0], limits[name]), samples_used(Xt.shape[0], limits[name])
            if name in _EQUAL_SIZES:
                ns = nt = min(ns, nt)
            sizes[name] = {"source": ns, "target": nt}
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return DivergenceReport(
        divergences=values, sample_sizes=sizes, runtime_s=times, n_source=int(Xs.shape[0]),
        n_target=int(Xt.shape[0]), n_features=int(Xs.shape[1]), backend=nx.name,
        device=str(nx.device), random_state=int(random_state), descriptions={m: MEASURES[m][2] for m in names},
    )
