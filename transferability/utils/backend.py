"""A minimal array backend so that the kernel-heavy measures run on numpy or torch (CPU/GPU).

Only the operations the divergence kernels need are wrapped (POT-style: code asks
``nx = get_backend(...)`` and then calls ``nx.*``). torch is imported lazily and is optional.
"""

from __future__ import annotations

import numpy as np

from . import numerics
from .validation import InputError

__all__ = ["get_backend", "NumpyBackend", "TorchBackend", "BACKENDS", "torch_available"]

BACKENDS = ("numpy", "torch", "auto")


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


class NumpyBackend:
    """float64 numpy, through :mod:`transferability.utils.numerics` (GEMM on explicit
    operands: numpy's ``Z @ Z.T`` dispatches to OpenBLAS SYRK, seen to segfault here)."""

    name = "numpy"
    device = "cpu"

    def asarray(self, X):
        return np.ascontiguousarray(X, dtype=np.float64)

    def cross(self, A, B):
        """``A @ B.T`` as a GEMM."""
        return numerics.cross(A, B)

    def sqnorms(self, A):
        return numerics.sq_norms(A)

    def sq_distances(self, A, sa, B, sb, *, zero_diagonal=False):
        """Squared distances between the rows of ``A`` and ``B`` given their squared norms."""
        D = numerics.sq_distances(A, B, A_sqnorms=sa, B_sqnorms=sb)
        if zero_diagonal:
            np.fill_diagonal(D, 0.0)
        return D

    def exp_(self, A):
        return np.exp(A, out=A)

    def square_(self, A):
        return np.multiply(A, A, out=A)

    def to_float(self, x) -> float:
        return float(x)


class TorchBackend:
    """float64 torch on ``device`` (``"cpu"``, ``"cuda"``...); same results as numpy."""

    name = "torch"

    def __init__(self, device=None):
        import torch

        self._torch = torch
        if device in (None, "auto"):
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = str(device)

    def asarray(self, X):
        return self._torch.as_tensor(np.ascontiguousarray(X, dtype=np.float64), device=self.device)

    def cross(self, A, B):
        return A @ B.T

    def sqnorms(self, A):
        return (A * A).sum(dim=1)

    def sq_distances(self, A, sa, B, sb, *, zero_diagonal=False):
        """The same operations as :func:`transferability.utils.numerics.sq_distances`, in torch."""
        D = A @ B.T
        D *= -2.0
        D += sa[:, None]
        D += sb[None, :]
        D = D.clip(min=0.0)
        if zero_diagonal:
            D.fill_diagonal_(0.0)
        return D

    def exp_(self, A):
        return A.exp_()

    def square_(self, A):
        return A.mul_(A)

    def to_float(self, x) -> float:
        return float(x.item()) if hasattr(x, "item") else float(x)


def get_backend(backend="numpy", device=None):
    """Return a backend object.

    Parameters
    ----------
    backend : {"numpy", "torch", "auto"} or backend object, default="numpy"
        ``"auto"`` picks torch when it is installed and a GPU is present, numpy otherwise. A
        backend object (one this function returned) is returned as it is, so a caller can
        resolve ``"auto"`` once and report what ran (``nx.name``, ``nx.device``).
    device : str or None
        torch device; ``None`` means CUDA when available, else CPU.
    """
    if isinstance(backend, (NumpyBackend, TorchBackend)):
        return backend
    if backend not in BACKENDS:
        raise InputError(f"unknown backend '{backend}'; choose one of {', '.join(BACKENDS)}")
    if backend == "auto":
        if torch_available():
            import torch

            if torch.cuda.is_available():
                return TorchBackend(device)
        return NumpyBackend()
    if backend == "torch":
        if not torch_available():
            raise InputError("backend 'torch' needs PyTorch: pip install 'transferability[torch]'")
        return TorchBackend(device)
    return NumpyBackend()
