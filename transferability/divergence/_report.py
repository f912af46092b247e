"""The divergence report: every measure on one pair, with the sample sizes each one used."""

from __future__ import annotations

import time
from collections.abc import Callable
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
from ._width import DEFAULT_MAX_FEATURES, project_pair

__all__ = ["DivergenceReport", "compute_divergences", "Measure", "REGISTRY", "MEASURES", "DEFAULT_MAX_SAMPLES",
           "DEFAULT_MAX_FEATURES"]


@dataclass(frozen=True)
class Measure:
    """One divergence measure: everything :func:`compute_divergences`, the command line and the
    docs need to know about it. Adding a measure is adding one row to :data:`REGISTRY` (and
    its line in ``docs/divergences.md``, which a test keeps complete).

    Attributes
    ----------
    name : str
        Report key (``--measures`` name).
    function : callable
        The public plain function ``f(X_source, X_target, **kw) -> float``.
    core : callable
        The same on a pair already validated and magnitude-checked: ``core(Xs, Xt, **kw)``; for
        ``needs="moments"``, ``core(moments_source, moments_target, n_features=d)``.
    label : str
        One line for the table output and the docs.
    needs : {"rows", "moments"}
        ``"moments"``: means and covariances of both domains, computed once for every such
        measure of a report (one pass over every row); ``"rows"``: the rows themselves.
    degree : int
        Degree of homogeneity in the features (``value(c X) = c^degree value(X)``; 0:
        scale-invariant), used to scale back a pair rescaled by a power of two.
    max_samples : int or None
        Rows per domain above which the measure subsamples by default (uniform, seeded);
        ``None``: every row, always. A subsampled measure takes ``random_state``.
    equal_sizes : bool
        Draws the same number of rows from each domain (the domain classifiers).
    kernel : bool
        Takes the kernel backend (``backend``/``n_jobs``: numpy or torch).
    wide : bool
        Costs more than linearly in the number of features: above the report's
        ``max_features`` it runs on the pair projected to that many columns
        (:func:`~transferability.divergence._width.project_pair`).
    """

    name: str
    function: Callable
    core: Callable
    label: str
    needs: str = "rows"
    degree: int = 0
    max_samples: int | None = None
    equal_sizes: bool = False
    kernel: bool = False
    wide: bool = False

    @property
    def subsampled(self) -> bool:
        return self.max_samples is not None


#: Every measure, in report order: one row each.
REGISTRY = (
    Measure("mmd", mmd2, _mmd2, "multi-kernel MMD² (5 Gaussian kernels, bandwidth ratio 2)",
            degree=_MMD_DEGREE["mmd"], max_samples=10_000, kernel=True),
    Measure("linear_mmd", linear_mmd2, _linear_mmd2, "linear MMD² = |mean_s - mean_t|²",
            degree=_MMD_DEGREE["linear_mmd"]),
    Measure("rbf_mmd", rbf_mmd2, _rbf_mmd2, "RBF MMD², gamma = 1 / mean pairwise squared distance",
            degree=_MMD_DEGREE["rbf_mmd"], max_samples=10_000, kernel=True),
    Measure("coral", coral_gap, coral_from_moments, "CORAL gap |C_s - C_t|²_F / 4d²", needs="moments",
            degree=_MOMENT_DEGREE["coral"], wide=True),
    Measure("frechet", frechet_distance, frechet_from_moments, "Fréchet distance of Gaussian fits",
            needs="moments", degree=_MOMENT_DEGREE["frechet"], wide=True),
    Measure("grassmann", grassmann_distance, grassmann_from_moments, "geodesic distance between PCA subspaces",
            needs="moments", degree=_MOMENT_DEGREE["grassmann"], wide=True),
    Measure("proxy_a_distance", proxy_a_distance, _proxy_a_distance, "proxy A-distance, linear domain classifier",
            max_samples=2_000, equal_sizes=True),
    Measure("h_divergence", h_divergence, _h_divergence, "H-divergence proxy, boosted-tree domain classifier",
            max_samples=2_000, equal_sizes=True, wide=True),
    Measure("knn_overlap", knn_overlap, _knn_overlap, "1-NN support overlap (1 = mixed, 0 = disjoint)",
            max_samples=2_000),
)
_BY_NAME = {m.name: m for m in REGISTRY}

#: Views of :data:`REGISTRY` kept for callers of earlier releases.
#: name -> (function, uses the kernel backend?, description)
MEASURES = {m.name: (m.function, m.kernel, m.label) for m in REGISTRY}
#: Rows per domain above which a measure subsamples (``None``: always exact on every row).
DEFAULT_MAX_SAMPLES = {m.name: m.max_samples for m in REGISTRY}


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
    projection : dict or None
        ``None`` when every measure saw the pair's own columns. Above ``max_features``
        columns: ``{"method": "row_span" | "pca", "exact": bool, "n_features": d,
        "n_components": r, "width": max_features, "explained_variance": float, "runtime_s":
        seconds, "measures": [names]}``, the measures (:attr:`Measure.wide`) that ran on the pair
        projected to ``r`` columns (see :mod:`transferability.divergence._width`).
    preprocess : str or None
        The preprocessing recipe applied before (set by the caller that applied it, e.g.
        ``transferability divergences --preprocess``); ``None``: not said.
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
    projection: dict | None = None
    preprocess: str | None = None

    def to_dict(self) -> dict:
        """JSON-ready dict (DESIGN.md's ``divergences`` contract)."""
        d = asdict(self)
        d.pop("descriptions")
        return d


def compute_divergences(X_source, X_target, *, measures=None, max_samples=None, random_state=0,
                        backend="numpy", device=None, n_jobs=-1, progress=False,
                        max_features=DEFAULT_MAX_FEATURES) -> DivergenceReport:
    """Compute the divergence measures between two domains.

    Parameters
    ----------
    X_source, X_target : array-like of shape (n, n_features)
    measures : list of str or None, default=None
        Subset of :data:`REGISTRY` names; ``None`` computes all.
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
    max_features : int or None, default=1024
        Columns above which the measures whose cost grows faster than linearly with d
        (CORAL, Fréchet, Grassmann: d x d covariances; the H-divergence's trees) run on the pair
        projected to at most ``max_features`` columns: exactly (the rows' own span) when both
        domains have at most ``max_features`` rows together, else on the top principal axes of
        the pooled rows. ``report.projection`` says what was done. ``None``: never project.

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
    names = list(_BY_NAME) if measures is None else list(measures)
    unknown = [m for m in names if m not in _BY_NAME]
    if unknown:
        raise InputError(f"unknown measure(s): {', '.join(map(str, unknown))}; available: {', '.join(_BY_NAME)}")
    if not names:
        raise InputError(f"no measure asked for; available: {', '.join(_BY_NAME)}")
    if max_features is not None and (isinstance(max_features, bool) or not isinstance(max_features, (int, np.integer))
                                     or max_features < 2):
        raise InputError(f"max_features must be an integer >= 2 or None, got {max_features!r}")
    # validated once for every measure
    Xs, Xt, k = check_magnitude(*check_pair(X_source, X_target))
    limits = dict(DEFAULT_MAX_SAMPLES)
    if isinstance(max_samples, dict):
        limits.update(max_samples)
    elif max_samples is not None:
        limits.update({m.name: int(max_samples) for m in REGISTRY if m.subsampled})
    if not isinstance(random_state, (int, np.integer)) or isinstance(random_state, bool):
        raise InputError("random_state must be an integer for a reproducible report")
    rows = [_BY_NAME[m] for m in names]
    # "auto" resolved once, so that the report says what ran
    nx = get_backend(backend, device) if any(m.kernel for m in rows) else get_backend("numpy")
    wide = [m.name for m in rows if m.wide]
    projection, Ws, Wt = None, Xs, Xt
    if wide and max_features is not None and Xs.shape[1] > max_features:
        Ws, Wt, projection = project_pair(Xs, Xt, int(max_features), random_state=int(random_state))
        projection["measures"] = wide
    check_moment_memory(Ws.shape[1], [m.name for m in rows if m.needs == "moments"])

    values, sizes, times = {}, {}, {}
    moments = None
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(rows), desc="divergences", unit="measure", leave=False)
    try:
        for m in rows:
            if bar is not None:
                bar.set_postfix_str(m.name)
            A, B = (Ws, Wt) if m.wide else (Xs, Xt)
            kwargs = {}
            if m.subsampled:
                kwargs.update(max_samples=limits[m.name], random_state=int(random_state))
            if m.kernel:
                kwargs.update(backend=nx, n_jobs=n_jobs)
            t0 = time.perf_counter()
            if m.needs == "moments":
                if moments is None:  # timed with the first moment-based measure
                    moments = (_moments(A), _moments(B))
                value = m.core(*moments, n_features=Xs.shape[1])
            else:
                value = m.core(A, B, **kwargs)
            values[m.name] = finish(m.name, value, k, m.degree)
            times[m.name] = round(time.perf_counter() - t0, 6)
            ns, nt = samples_used(Xs.shape[0], limits[m.name]), samples_used(Xt.shape[0], limits[m.name])
            if m.equal_sizes:
                ns = nt = min(ns, nt)
            sizes[m.name] = {"source": ns, "target": nt}
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return DivergenceReport(
        divergences=values, sample_sizes=sizes, runtime_s=times, n_source=int(Xs.shape[0]),
        n_target=int(Xt.shape[0]), n_features=int(Xs.shape[1]), backend=nx.name,
        device=str(nx.device), random_state=int(random_state), descriptions={m.name: m.label for m in rows},
        projection=projection,
    )
