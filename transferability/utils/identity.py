"""Identity of domains, pairs and parameter sets: the keys the meta store is indexed by.

One home for them, so that the command line (``evaluate --record``), the store build and the
learners compute the same key for the same pair.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

__all__ = ["fingerprint", "pair_key", "canonical_params", "preprocess_key"]


def canonical_params(params) -> str:
    """Parameters as canonical JSON (sorted keys, no spaces): part of an outcome's unique key."""
    return json.dumps(params or {}, sort_keys=True, separators=(",", ":"), default=str)


def fingerprint(X, y=None) -> str:
    """Content fingerprint of a domain: sha256 of its shape, float64 features and labels."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    h = hashlib.sha256()
    h.update(repr(X.shape).encode())
    h.update(X.tobytes())
    if y is not None:
        h.update(b"labels")
        h.update("\x1f".join(map(str, np.asarray(y).tolist())).encode())
    return h.hexdigest()


def pair_key(source_fp: str, target_fp: str, preprocess: str) -> str:
    """Key of a pair: sha256 of (source fingerprint, target fingerprint, preprocessing key)."""
    return hashlib.sha256(f"{source_fp}|{target_fp}|{preprocess}".encode()).hexdigest()


def preprocess_key(preprocess: str | None = None, max_features: int | None = None) -> str:
    """The preprocessing pipeline as stored with a pair (part of its key): the recipe's name,
    plus ``+pca{k}`` when both domains are projected on ``k`` pooled principal axes."""
    key = preprocess or "none"
    if max_features is not None:
        key += f"+pca{int(max_features)}"
    return key
