"""Domain-divergence measures: plain functions ``f(X_source, X_target, **kw) -> float``.

Each is deterministic given ``random_state`` and documents its formula and paper;
:func:`compute_divergences` runs them all and reports the sample sizes used; :data:`REGISTRY`
holds one :class:`Measure` row per measure (what it needs, how it samples, its label).
"""

from ._classifier import domain_classifier_error, h_divergence, proxy_a_distance
from ._mmd import linear_mmd2, mmd2, mmd2_dense, rbf_mmd2
from ._moments import coral_gap, frechet_distance, grassmann_distance, mean_and_covariance
from ._neighbors import knn_overlap
from ._report import (DEFAULT_MAX_FEATURES, DEFAULT_MAX_SAMPLES, MEASURES, REGISTRY, DivergenceReport, Measure,
                      compute_divergences)

__all__ = [
    "mmd2", "linear_mmd2", "rbf_mmd2", "mmd2_dense", "coral_gap", "frechet_distance",
    "grassmann_distance", "mean_and_covariance", "proxy_a_distance", "h_divergence",
    "domain_classifier_error", "knn_overlap", "compute_divergences", "DivergenceReport",
    "MEASURES", "DEFAULT_MAX_SAMPLES", "DEFAULT_MAX_FEATURES", "REGISTRY", "Measure",
]
