"""Pair meta-features (and, with later issues, the MetaTrans / EasyTransferability learners)."""

from ._features import FEATURE_NAMES, FEATURE_SCHEMA_VERSION, compute_meta_features

__all__ = ["FEATURE_NAMES", "FEATURE_SCHEMA_VERSION", "compute_meta_features"]
