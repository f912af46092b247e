"""A minimal array backend so that the kernel-heavy measures run on numpy or torch (CPU/GPU).

Only the operations the divergence kernels need are wrapped (POT-style: code asks
``nx = get_backend(...)`` and then calls ``nx.*``). torch is imported lazily and is optional.
"""

from __future__ import annotations

import numpy as np

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
    """float64 numpy. Gram blocks use GEMM on explicit contiguous operands: numpy's
    ``Z @ Z.T`` dispatches to OpenBLAS SYRK, seen to segfault on these machines."""

    name = "numpy"
    device = "cpu"

    def asarray(self, X):
        return np.ascontiguousarray(X, dtype=np.float64)

    def cross(self, A, B):
        """``A @ B.T`` as a GEMM."""
        return A @ np.ascontiguousarray(B.T)

    def sqnorms(self, A):
        return np.einsum("ij,ij->i", A, A)

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
    backend : {"numpy", "torch", "auto"}, default="numpy"
        ``"auto"`` picks torch when it is installed and a GPU is present, numpy otherwise.
    device : str or None
        torch device; ``None`` means CUDA when available, else CPU.
    """
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
