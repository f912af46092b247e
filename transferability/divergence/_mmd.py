"""Maximum mean discrepancy: multi-kernel (default), linear and single-RBF, computed blockwise.

All kernel MMDs here are the **biased** (V-statistic) estimate

    MMD² = mean(K_ss) + mean(K_tt) - 2 mean(K_st)

(Gretton et al., "A Kernel Two-Sample Test", JMLR 2012). The kernel matrices are never formed
whole: the pooled sample is cut into blocks of ``block_size`` rows, each block's squared distances
come from one GEMM (``|x|² + |y|² - 2 x·y``, on data centred on the pooled mean for accuracy), and
only the three block sums are kept, so memory is O(block_size²) whatever n is. Symmetric
within-domain blocks are computed once (upper triangle). This is exact: it equals the dense
(2n)² recipe to rounding (tested to 1e-10).
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from threadpoolctl import threadpool_limits

from ..utils.backend import get_backend
from ..utils.numerics import sq_distances
from ..utils.validation import InputError
from ._common import finish, subsample_pair, validated_pair

__all__ = ["mmd2", "linear_mmd2", "rbf_mmd2", "mmd2_dense", "mk_bandwidth"]

#: Degree of homogeneity of each measure in the features (value(c X) = c^degree value(X)).
DEGREE = {"mmd": 0, "rbf_mmd": 0, "linear_mmd": 2}


def mk_bandwidth(Z_sqnorm_centered_sum: float, n: int, kernel_mul: float, kernel_num: int) -> float:
    """Base bandwidth of the multi-kernel MMD (the seeds' recipe).

    ``sum(L2) / (n² - n) / kernel_mul ** (kernel_num // 2)``, where ``sum(L2)`` is the sum of all
    pairwise squared distances of the pooled sample, equal to ``2 n Σ|z_i - z̄|²``.
    """
    total = 2.0 * n * Z_sqnorm_centered_sum
    bw = total / (n * n - n)
    return bw / kernel_mul ** (kernel_num // 2)


def _mk_kernel_sum(kernel_mul, kernel_num, bandwidth, nx):
    """Return f(D) = Σ_i exp(-D / (bandwidth · kernel_mul^i)) for a block D of squared distances.

    With ``kernel_mul == 2`` one ``exp`` suffices: the kernel of bandwidth b·2^i is the square of
    the kernel of bandwidth b·2^(i+1), so the widest kernel is exponentiated and the rest follow
    by squaring (exp is the bottleneck on CPU).
    """
    widths = [bandwidth * kernel_mul ** i for i in range(kernel_num)]
    if bandwidth <= 0:
        raise InputError("all samples are identical: the multi-kernel bandwidth is 0")

    if kernel_mul == 2.0:
        def f(D):
            K = nx.exp_(D * (-1.0 / widths[-1]))
            total = K.sum()
            for _ in range(kernel_num - 1):
                K = nx.square_(K)
                total = total + K.sum()
            return total
    else:
        def f(D):
            total = 0.0
            for w in widths:
                total = total + nx.exp_(D * (-1.0 / w)).sum()
            return total
    return f


def _rbf_kernel_sum(gamma, nx):
    def f(D):
        return nx.exp_(D * (-gamma)).sum()
    return f


def _block_sums(Zs, Zt, kernel_sum, *, block_size, nx, n_jobs):
    """Σ k over (s,s), (t,t) and (s,t) pairs, blockwise. Zs, Zt are backend arrays (centred)."""
    sq_s, sq_t = nx.sqnorms(Zs), nx.sqnorms(Zt)

    def block(A, sa, B, sb, diagonal):
        # clipped at 0 (rounding can make tiny negatives); a self block's diagonal is exactly 0
        D = nx.sq_distances(A, sa, B, sb, zero_diagonal=diagonal)
        return nx.to_float(kernel_sum(D))

    def tasks(A, sa, B, sb, symmetric):
        na, nb = A.shape[0], B.shape[0]
        for i in range(0, na, block_size):
            j0 = i if symmetric else 0
            for j in range(j0, nb, block_size):
                weight = 2.0 if (symmetric and j != i) else 1.0
                yield (A[i:i + block_size], sa[i:i + block_size], B[j:j + block_size],
                       sb[j:j + block_size], symmetric and i == j, weight)

    groups = {
        "ss": list(tasks(Zs, sq_s, Zs, sq_s, True)),
        "tt": list(tasks(Zt, sq_t, Zt, sq_t, True)),
        "st": list(tasks(Zs, sq_s, Zt, sq_t, False)),
    }
    flat = [(g, t) for g, ts in groups.items() for t in ts]

    def run(item):
        g, (A, sa, B, sb, diag, w) = item
        return g, w * block(A, sa, B, sb, diag)

    sums = {"ss": 0.0, "tt": 0.0, "st": 0.0}
    if nx.name == "numpy" and n_jobs > 1 and len(flat) > 1:
        # numpy releases the GIL in GEMM and exp: one BLAS thread per worker, workers in parallel
        with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(n_jobs) as ex:
            results = list(ex.map(run, flat))
    else:
        results = [run(item) for item in flat]
    for g, v in results:  # summed in a fixed order: deterministic whatever the threads did
        sums[g] += v
    return sums["ss"], sums["tt"], sums["st"]


def _resolve_jobs(n_jobs):
    if n_jobs is None or n_jobs == -1:
        return os.cpu_count() or 1
    if n_jobs < 1:
        raise InputError(f"n_jobs must be a positive integer or -1, got {n_jobs}")
    return int(n_jobs)


def _centred(Xs, Xt, nx):
    mu = (Xs.sum(axis=0, dtype=np.float64) + Xt.sum(axis=0, dtype=np.float64)) / (Xs.shape[0] + Xt.shape[0])
    Zs = nx.asarray(np.asarray(Xs, dtype=np.float64) - mu)
    Zt = nx.asarray(np.asarray(Xt, dtype=np.float64) - mu)
    return Zs, Zt


def _combine(sss, stt, sst, ns, nt):
    return sss / (ns * ns) + stt / (nt * nt) - 2.0 * sst / (ns * nt)


def mmd2(X_source, X_target, *, kernel_mul=2.0, kernel_num=5, max_samples=None, block_size=2048,
         backend="numpy", device=None, n_jobs=-1, random_state=None):
    """Multi-kernel squared MMD with the seeds' bandwidth recipe (DAN-style), exact and blockwise.

    Pooled sample ``Z = [X_source; X_target]`` of n rows, ``L2[i, j] = |z_i - z_j|²``;
    base bandwidth ``b = sum(L2) / (n² - n) / kernel_mul ** (kernel_num // 2)``; kernel
    ``k = Σ_{i < kernel_num} exp(-L2 / (b · kernel_mul^i))``; biased estimate
    ``mean(K_ss) + mean(K_tt) - mean(K_st) - mean(K_ts)``.

    Reference: Long et al., "Learning Transferable Features with Deep Adaptation Networks",
    ICML 2015 (multi-kernel MMD); Gretton et al., JMLR 2012.

    Parameters
    ----------
    X_source : array-like of shape (n_source, n_features)
    X_target : array-like of shape (n_target, n_features)
    kernel_mul : float, default=2.0
        Ratio between consecutive bandwidths.
    kernel_num : int, default=5
        Number of kernels.
    max_samples : int or None, default=None
        Subsample each domain to at most this many rows (uniform, without replacement, drawn
        from ``random_state``); ``None`` is exact on all rows.
    block_size : int, default=2048
        Rows per block; memory is about ``3 · block_size² · 8`` bytes per worker.
    backend : {"numpy", "torch", "auto"}, default="numpy"
    device : str or None, default=None
        torch device (CUDA when available if ``None``).
    n_jobs : int, default=-1
        numpy backend: worker threads over blocks (``-1``: all cores).
    random_state : int, RandomState or None, default=None
        Only used when subsampling.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> a = np.arange(1, 10).reshape(3, 3); b = [[7, 6, 5], [4, 3, 2], [1, 1, 8], [0, 2, 5]]
    >>> round(mmd2(a, b), 12)
    0.976228315882
    """
    Xs, Xt, k = validated_pair(X_source, X_target)
    return finish("mmd", _mmd2(Xs, Xt, kernel_mul=kernel_mul, kernel_num=kernel_num,
                               max_samples=max_samples, block_size=block_size, backend=backend,
                               device=device, n_jobs=n_jobs, random_state=random_state), k)


def _mmd2(Xs, Xt, *, kernel_mul=2.0, kernel_num=5, max_samples=None, block_size=2048,
          backend="numpy", device=None, n_jobs=-1, random_state=None):
    """:func:`mmd2` on a validated pair (scale-invariant: any common factor gives the same value)."""
    if kernel_num < 1:
        raise InputError(f"kernel_num must be at least 1, got {kernel_num}")
    if kernel_mul <= 0:
        raise InputError(f"kernel_mul must be positive, got {kernel_mul}")
    Xs, Xt = subsample_pair(Xs, Xt, max_samples, random_state)
    nx = get_backend(backend, device)
    Zs, Zt = _centred(Xs, Xt, nx)
    n = Xs.shape[0] + Xt.shape[0]
    sq_total = nx.to_float(nx.sqnorms(Zs).sum()) + nx.to_float(nx.sqnorms(Zt).sum())
    bw = mk_bandwidth(sq_total, n, kernel_mul, kernel_num)
    f = _mk_kernel_sum(float(kernel_mul), int(kernel_num), bw, nx)
    sss, stt, sst = _block_sums(Zs, Zt, f, block_size=int(block_size), nx=nx, n_jobs=_resolve_jobs(n_jobs))
    return float(_combine(sss, stt, sst, Xs.shape[0], Xt.shape[0]))


def rbf_mmd2(X_source, X_target, *, gamma=None, max_samples=None, block_size=2048, backend="numpy",
             device=None, n_jobs=-1, random_state=None):
    """Squared MMD with one Gaussian kernel ``k(x, y) = exp(-gamma |x - y|²)``, biased, blockwise.

    Parameters
    ----------
    gamma : float or None, default=None
        ``None``: ``1 / mean pairwise squared distance`` of the pooled sample (over i ≠ j), a
        scale-free default computed exactly in closed form.
    max_samples, block_size, backend, device, n_jobs, random_state
        As in :func:`mmd2`.

    Returns
    -------
    float

    Examples
    --------
    >>> a = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]; b = [[7, 6, 5], [4, 3, 2], [1, 1, 8], [0, 2, 5]]
    >>> round(rbf_mmd2(a, b, gamma=1.0), 12)
    0.582206861959
    """
    if gamma is not None and not gamma > 0:
        raise InputError(f"gamma must be positive, got {gamma}")
    Xs, Xt, k = validated_pair(X_source, X_target)
    if gamma is not None and k:
        # exp(-gamma |x - y|²) = exp(-(gamma 4^k) |x/2^k - y/2^k|²)
        try:
            gamma = math.ldexp(float(gamma), 2 * k)
        except OverflowError:
            gamma = math.inf
        if not math.isfinite(gamma):
            raise InputError(
                "rbf_mmd: gamma * |x - y|^2 overflows float64 for features of this magnitude "
                f"(about 2^{k}); rescale the features or leave gamma unset")
    return finish("rbf_mmd", _rbf_mmd2(Xs, Xt, gamma=gamma, max_samples=max_samples,
                                       block_size=block_size, backend=backend, device=device,
                                       n_jobs=n_jobs, random_state=random_state))


def _rbf_mmd2(Xs, Xt, *, gamma=None, max_samples=None, block_size=2048, backend="numpy",
              device=None, n_jobs=-1, random_state=None):
    """:func:`rbf_mmd2` on a validated pair (``gamma`` in the pair's units)."""
    Xs, Xt = subsample_pair(Xs, Xt, max_samples, random_state)
    nx = get_backend(backend, device)
    Zs, Zt = _centred(Xs, Xt, nx)
    if gamma is None:
        n = Xs.shape[0] + Xt.shape[0]
        sq_total = nx.to_float(nx.sqnorms(Zs).sum()) + nx.to_float(nx.sqnorms(Zt).sum())
        mean_l2 = 2.0 * n * sq_total / (n * n - n)
        if mean_l2 <= 0:
            raise InputError("all samples are identical: cannot choose an RBF bandwidth")
        gamma = 1.0 / mean_l2
    if not gamma >= 0:
        raise InputError(f"gamma must be positive, got {gamma}")
    f = _rbf_kernel_sum(float(gamma), nx)
    sss, stt, sst = _block_sums(Zs, Zt, f, block_size=int(block_size), nx=nx, n_jobs=_resolve_jobs(n_jobs))
    return float(_combine(sss, stt, sst, Xs.shape[0], Xt.shape[0]))


def linear_mmd2(X_source, X_target):
    """Linear-kernel squared MMD: ``|mean(X_source) - mean(X_target)|²`` (exact, O(n d)).

    Examples
    --------
    >>> linear_mmd2([[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[7, 6, 5], [4, 3, 2], [1, 1, 8], [0, 2, 5]])
    6.0
    """
    Xs, Xt, k = validated_pair(X_source, X_target)
    return finish("linear_mmd", _linear_mmd2(Xs, Xt), k, 2)


def _linear_mmd2(Xs, Xt):
    diff = Xs.mean(axis=0, dtype=np.float64) - Xt.mean(axis=0, dtype=np.float64)
    return float(diff @ diff)


def mmd2_dense(X_source, X_target, *, kernel_mul=2.0, kernel_num=5, backend="numpy"):
    """The seeds' dense recipe: one (n_s + n_t)² matrix per kernel. Reference for tests and benchmarks.

    Memory grows as (2n)²: use :func:`mmd2` for real work. ``backend="torch"`` follows the
    seed's torch code (``expand`` of the pooled sample to compute L2).
    """
    Xs, Xt, k = validated_pair(X_source, X_target)
    ns = Xs.shape[0]
    if backend == "torch":
        import torch

        total = torch.cat([torch.as_tensor(Xs, dtype=torch.float64), torch.as_tensor(Xt, dtype=torch.float64)])
        n = total.shape[0]
        L2 = ((total.unsqueeze(0) - total.unsqueeze(1)) ** 2).sum(2)
        bw = L2.sum() / (n * n - n) / kernel_mul ** (kernel_num // 2)
        K = sum(torch.exp(-L2 / (bw * kernel_mul ** i)) for i in range(kernel_num))
        XX, YY = K[:ns, :ns].mean(), K[ns:, ns:].mean()
        XY, YX = K[:ns, ns:].mean(), K[ns:, :ns].mean()
        return finish("mmd", XX + YY - XY - YX)
    total = np.vstack([Xs, Xt]).astype(np.float64)
    n = total.shape[0]
    L2 = sq_distances(total)
    bw = L2.sum() / (n * n - n) / kernel_mul ** (kernel_num // 2)
    K = sum(np.exp(-L2 / (bw * kernel_mul ** i)) for i in range(kernel_num))
    XX, YY = K[:ns, :ns].mean(), K[ns:, ns:].mean()
    XY, YX = K[:ns, ns:].mean(), K[ns:, :ns].mean()
    return finish("mmd", XX + YY - XY - YX)
