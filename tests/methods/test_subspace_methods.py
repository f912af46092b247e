"""Subspace / feature-alignment methods: TCA, JDA, BDA, GFK, SA, CORAL.

Three kinds of checks:

- mathematics: the TCA/JDA/BDA solution satisfies the published generalized eigen-equation
  (built here with dense ``M`` and ``H``), the factored MMD matrix equals the dense one, GFK's
  kernel equals a numerical integral over the geodesic, CORAL re-colours exactly, SA with the
  full dimension is a rotation;
- the library contract: any labels, determinism, out-of-sample prediction, parameter errors;
- reproduction of published rows on real data (``../shared/data``), with the tolerance each
  row can honestly be held to (see the comments at each test).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import scipy.integrate
import scipy.linalg
from numpy.testing import assert_allclose, assert_array_equal
from threadpoolctl import threadpool_limits

from transferability.methods import BDA, CORAL, GFK, JDA, SA, TCA, NoAdapt, get_method
from transferability.methods._gfk import GFK_PAPER_DIMS, gfk_embedding
from transferability.methods._reference import reference_bda, reference_jda, reference_tca
from transferability.methods._subspace_utils import (
    centering_matrix, kernel_matrix, l2_normalize_rows, mmd_embedding, mmd_factor, mmd_matrix,
    pca_basis,
)
from transferability.utils.validation import InputError

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
SURF = DATA / "office_caltech10_surf"
SURF_FILES = {"A": "amazon_SURF_L10.mat", "C": "Caltech10_SURF_L10.mat",
              "D": "dslr_SURF_L10.mat", "W": "webcam_SURF_L10.mat"}


@pytest.fixture(autouse=True)
def _one_blas_thread():
    # The eigen-solvers are small; on a loaded 2-core machine, 2 BLAS threads were measured
    # 5-20x slower than 1 (oversubscription). Results do not depend on it.
    with threadpool_limits(limits=1, user_api="blas"):
        yield


# -- helpers ----------------------------------------------------------------------------------
def _toy(seed=0, n_per=25, d=6, shift=0.4):
    """Three classes away from the origin; the target is shifted and scaled."""
    rng = np.random.RandomState(seed)
    centres = np.eye(3, d) * 4 + 2
    Xs = np.vstack([rng.randn(n_per, d) + c for c in centres])
    ys = np.repeat([0, 1, 2], n_per)
    Xt = np.vstack([rng.randn(n_per, d) + c for c in centres]) * 1.2 + shift
    yt = ys.copy()
    return Xs, ys, Xt, yt


def _need_data():
    if not DATA.is_dir():
        pytest.skip(f"benchmark data folder {DATA} is absent")


def _surf(task):
    _need_data()
    from transferability.datasets import load_domain, preprocess_pair

    a, b = task.split("->")
    s, t = load_domain(str(SURF / SURF_FILES[a])), load_domain(str(SURF / SURF_FILES[b]))
    Xs, Xt = preprocess_pair(s.X, t.X, "sum-zscore")
    return Xs, s.y, Xt, t.y


def _two_domain(path):
    _need_data()
    from transferability.datasets import load_domain, preprocess_pair

    s, t = load_domain(f"{path}:src"), load_domain(f"{path}:tar")
    Xs, Xt = preprocess_pair(s.X, t.X, "l2")
    return Xs, s.y, Xt, t.y


def _table(name):
    with open(DATA / "tables" / name, newline="") as fh:
        return list(csv.DictReader(fh))


def _published(name, task, column):
    for row in _table(name):
        if row["task"] == task:
            return float(row[column])
    raise KeyError(task)


def _acc(model, Xs, ys, Xt, yt):
    return 100.0 * float(np.mean(model.fit_domains(Xs, ys, Xt).predict(Xt) == yt))


JDA_TABLE = "jda_iccv13_table_36tasks.csv"
CORAL_TABLE = "coral_aaai16_table3_officecaltech_surf_full_protocol.csv"


# -- mathematics ------------------------------------------------------------------------------
def test_mmd_factor_equals_dense_matrix():
    rng = np.random.RandomState(1)
    ns, nt = 9, 7
    ys = rng.randint(0, 3, ns)
    yt = np.array([0, 0, 1, 1, 1, 0, 0])       # class 2 has no pseudo-labelled target sample
    E, w = mmd_factor(ns, nt, ys, yt, 3)
    assert E.shape == (ns + nt, 3)             # e0 + classes 0 and 1; class 2 skipped
    M = mmd_matrix(ns, nt, ys, yt, 3, normalize=False)
    e0 = np.r_[np.full(ns, 1 / ns), np.full(nt, -1 / nt)]
    expected = 3 * np.outer(e0, e0)
    for c in (0, 1):
        e = np.r_[(ys == c) / (ys == c).sum(), -1.0 * (yt == c) / (yt == c).sum()]
        expected += np.outer(e, e)
    assert_allclose(M, expected, atol=1e-14)
    # BDA with mu = 0.5 is JDA's matrix halved; W-BDA weights the target side
    M_bda = mmd_matrix(ns, nt, ys, yt, 3, mu=0.5, normalize=False)
    assert_allclose(M_bda, expected / 2, atol=1e-14)
    Ew, _ = mmd_factor(ns, nt, ys, yt, 3, mu=0.5, weighted=True)
    alpha0 = ((yt == 0).sum() / nt) / ((ys == 0).sum() / ns)
    assert_allclose(Ew[ns:, 1][yt == 0], -alpha0 / (yt == 0).sum())


@pytest.mark.parametrize("kernel", ["primal", "linear", "rbf"])
@pytest.mark.parametrize("d", [5, 40])         # d = 40 > n = 30: the primal path reduces by SVD
def test_embedding_solves_published_eigenproblem(kernel, d):
    rng = np.random.RandomState(0)
    ns, nt = 16, 14
    X = l2_normalize_rows(np.vstack([rng.randn(ns, d) + 1, 1.5 * rng.randn(nt, d) - 0.5]))
    ys = np.arange(ns) % 3
    yt = np.arange(nt) % 3
    E, w = mmd_factor(ns, nt, ys, yt, 3)
    lam, k = 0.7, 4
    emb = mmd_embedding(X, E, w, n_components=k, lam=lam, kernel=kernel, gamma=0.5)
    M = mmd_matrix(ns, nt, ys, yt, 3)           # unit Frobenius norm
    H = centering_matrix(ns + nt)
    K = X if kernel == "primal" else kernel_matrix(X, kernel=kernel, gamma=0.5)
    left = K.T @ M @ K + lam * np.eye(K.shape[1])
    right = K.T @ H @ K
    A, phi = emb.components, emb.eigenvalues
    assert A.shape == (K.shape[1], k)
    assert_allclose(np.linalg.norm(A, axis=0), 1.0)
    assert np.all(np.diff(phi) >= -1e-9)        # ascending: the k smallest
    scale = np.abs(left @ A).max()
    assert_allclose(left @ A, (right @ A) * phi, atol=1e-8 * scale)
    # and they are the k smallest finite eigenvalues of the dense general problem
    all_phi = scipy.linalg.eigvals(left, right)
    all_phi = np.sort(all_phi.real[np.isfinite(all_phi) & (all_phi.real > 0)])
    assert_allclose(phi, all_phi[:k], rtol=1e-6)


def test_tca_is_first_jda_iteration_and_bda_limits():
    Xs, ys, Xt, _ = _toy()
    tca = TCA(n_components=4).fit_domains(Xs, ys, Xt)
    jda1 = JDA(n_components=4, n_iter=1).fit_domains(Xs, ys, Xt)
    assert_allclose(tca.components_, jda1.components_)
    jda = JDA(n_components=4, n_iter=4).fit_domains(Xs, ys, Xt)
    bda = BDA(n_components=4, n_iter=4, mu=0.5).fit_domains(Xs, ys, Xt)
    assert_allclose(bda.components_, jda.components_, atol=1e-10)   # mu = 0.5: JDA's M / 2
    bda0 = BDA(n_components=4, n_iter=3, mu=0.0).fit_domains(Xs, ys, Xt)
    assert_allclose(bda0.components_, tca.components_, atol=1e-10)   # mu = 0: marginal only
    assert_array_equal(bda0.predict(Xt), tca.predict(Xt))
    BDA(n_components=4, n_iter=3, mu=1.0).fit_domains(Xs, ys, Xt)     # M = 0 at iteration 1


def test_bda_auto_mu_is_the_papers_estimate_each_iteration():
    """mu='auto': iteration 1 has no pseudo-labels (mu = 0, TCA); iteration t uses
    d_C / (d_M + d_C) on the embedding and pseudo-labels of iteration t - 1, in [0, 1]."""
    from transferability.methods._meda import meda_adaptive_factor

    Xs, ys, Xt, _ = _toy()
    m = BDA(n_components=3, n_iter=3, random_state=0).fit_domains(Xs, ys, Xt)
    assert m.mu == "auto" and len(m.mu_history_) == 3 and m.mu_history_[0] == 0.0
    assert all(0.0 <= v <= 1.0 for v in m.mu_history_)
    # replay iteration 2 from a 1-iteration fit (same seed draw): its mu is the estimate
    one = BDA(n_components=3, n_iter=1, random_state=0).fit_domains(Xs, ys, Xt)
    assert_allclose(one.components_, TCA(n_components=3).fit_domains(Xs, ys, Xt).components_, atol=1e-10)
    Z = one.transform(np.vstack([Xs, Xt]))
    seed = int(np.random.RandomState(0).randint(np.iinfo(np.int32).max))
    codes = np.unique(ys, return_inverse=True)[1]
    expected = meda_adaptive_factor(Z[:len(Xs)], codes, Z[len(Xs):], one.pseudo_labels_[0],
                                    codes.max() + 1, random_state=seed)
    assert_allclose(m.mu_history_[1], expected)
    # a fixed mu is used as given at every iteration
    fixed = BDA(n_components=3, n_iter=3, mu=0.3).fit_domains(Xs, ys, Xt)
    assert fixed.mu_history_ == [0.3, 0.3, 0.3]


def test_sa_gfk_auto_dimension_is_below_d():
    from transferability.methods._gfk import subspace_dim

    assert [subspace_dim("auto", d) for d in (1, 2, 3, 7, 39, 40, 41, 800)] == [1, 1, 1, 3, 19, 20, 20, 20]
    assert subspace_dim(50, 8) == 8 and subspace_dim(5, 8) == 5
    Xs, ys, Xt, _ = _toy(seed=5)
    d = Xs.shape[1]
    base = NoAdapt().fit_domains(Xs, ys, Xt).predict(Xt)
    for cls in (SA, GFK):
        m = cls().fit_domains(Xs, ys, Xt)
        assert m.n_components_ == d // 2 < d
        assert not np.array_equal(m.predict(Xt), base)  # a proper subspace: not no adaptation
    assert SA().fit_domains(Xs, ys, Xt).source_basis_.shape == (d, d // 2)
    assert GFK().fit_domains(Xs, ys, Xt).W_.shape == (d, 2 * (d // 2))


def test_jda_matches_reference_formulation():
    Xs, ys, Xt, _ = _toy(seed=3)
    for ours, ref in [
        (TCA(n_components=4, lam=0.5), reference_tca(Xs, ys, Xt, n_components=4, lam=0.5)),
        (JDA(n_components=4, lam=0.5, n_iter=5),
         reference_jda(Xs, ys, Xt, n_components=4, lam=0.5, n_iter=5)),
        (BDA(n_components=4, lam=0.5, n_iter=5, mu=0.3, weighted=True),
         reference_bda(Xs, ys, Xt, n_components=4, lam=0.5, n_iter=5, mu=0.3, weighted=True)),
        (JDA(n_components=5, kernel="rbf", gamma=0.5, n_iter=3),
         reference_jda(Xs, ys, Xt, n_components=5, kernel="rbf", gamma=0.5, n_iter=3)),
    ]:
        assert_array_equal(ours.fit_domains(Xs, ys, Xt).predict(Xt), ref)


def test_kernel_out_of_sample_and_transform():
    Xs, ys, Xt, _ = _toy(seed=4)
    m = TCA(n_components=4, kernel="rbf", gamma=0.3).fit_domains(Xs, ys, Xt)
    full = m.predict(Xt)
    assert_array_equal(np.concatenate([m.predict(Xt[:7]), m.predict(Xt[7:])]), full)
    Z = m.transform(np.vstack([Xs, Xt]))
    assert Z.shape == (len(Xs) + len(Xt), 4)
    assert_allclose(np.linalg.norm(Z, axis=1), 1.0)
    # a new point is embedded against the training samples
    assert m.predict(Xt[:1] + 0.01).shape == (1,)


def test_coral_recolours_exactly():
    rng = np.random.RandomState(0)
    Xs = rng.randn(80, 5) @ rng.randn(5, 5)
    Xt = rng.randn(70, 5) @ rng.randn(5, 5) + 1.0
    m = CORAL(reg=1.0).fit_domains(Xs, np.arange(80) % 2, Xt)
    A = m.transform_
    Cs = np.cov(Xs, rowvar=False) + np.eye(5)
    Ct = np.cov(Xt, rowvar=False) + np.eye(5)
    assert_allclose(A.T @ Cs @ A, Ct, atol=1e-10)
    # covariance of the transformed source = Ct - A'A (the "+ I" moved through A)
    assert_allclose(np.cov(m.transform_source(Xs), rowvar=False), Ct - A.T @ A, atol=1e-10)
    # identical covariances: A = I, CORAL is no adaptation
    m2 = CORAL().fit_domains(Xs, np.arange(80) % 2, Xs + 3.0)
    assert_allclose(m2.transform_, np.eye(5), atol=1e-10)


def test_sa_full_dimension_is_a_rotation():
    Xs, ys, Xt, _ = _toy(seed=5)
    d = Xs.shape[1]
    m = SA(n_components=d).fit_domains(Xs, ys, Xt)
    Ps, Pt = m.source_basis_, m.target_basis_
    assert_allclose(Ps @ Ps.T, np.eye(d), atol=1e-10)
    assert_allclose(Pt.T @ Pt, np.eye(d), atol=1e-10)
    # Xs Ps Ps' Pt = Xs Pt and Xt Pt: one rotation for both, so 1-NN = no adaptation
    assert_array_equal(m.predict(Xt), NoAdapt().fit_domains(Xs, ys, Xt).predict(Xt))
    # d < D: the source is aligned with M* = Ps' Pt
    m3 = SA(n_components=3).fit_domains(Xs, ys, Xt)
    assert_allclose(m3.alignment_, m3.source_basis_.T @ m3.target_basis_)


def test_gfk_kernel_equals_integral_along_geodesic():
    rng = np.random.RandomState(0)
    D, d = 9, 3
    Ps = np.linalg.qr(rng.randn(D, d))[0]
    Pt = np.linalg.qr(rng.randn(D, d))[0]
    W, theta = gfk_embedding(Ps, Pt)
    G = W @ W.T
    # independent construction: Rs = null(Ps'), CS decomposition by two SVDs
    Rs = scipy.linalg.null_space(Ps.T)
    U1, cos_t, Vt = np.linalg.svd(Ps.T @ Pt)
    th = np.arccos(np.clip(cos_t, -1, 1))
    U2 = -(Rs.T @ Pt @ Vt.T) / np.sin(th)       # Rs'Pt = -U2 sin(Theta) V'
    ts = np.linspace(0, 1, 2001)
    vals = []
    for t in ts:
        Phi = Ps @ U1 * np.cos(t * th) - Rs @ U2 * np.sin(t * th)
        vals.append(Phi @ Phi.T)
    G_num = scipy.integrate.simpson(np.array(vals), x=ts, axis=0)
    assert_allclose(G, G_num, atol=1e-8)
    assert_allclose(np.sort(theta), np.sort(th), atol=1e-10)
    # the geodesic ends in the target subspace
    Phi1 = Ps @ U1 * np.cos(th) - Rs @ U2 * np.sin(th)
    assert_allclose(Phi1 @ Phi1.T, Pt @ Pt.T, atol=1e-10)
    # identical subspaces: G is the projector
    W0, th0 = gfk_embedding(Ps, Ps)
    assert_allclose(W0 @ W0.T, Ps @ Ps.T, atol=1e-10)
    assert_allclose(th0, 0.0, atol=1e-7)


def test_pca_basis_is_orthonormal_and_completed():
    rng = np.random.RandomState(0)
    X = rng.randn(4, 7)                          # only 3 directions carry variance
    P = pca_basis(X, 6)
    assert P.shape == (7, 6)
    assert_allclose(P.T @ P, np.eye(6), atol=1e-10)


# -- library contract -------------------------------------------------------------------------
ALL = [
    ("tca", dict(n_components=3)),
    ("tca", dict(n_components=3, kernel="linear")),
    ("jda", dict(n_components=3, n_iter=3)),
    ("bda", dict(n_components=3, n_iter=3, weighted=True)),
    ("gfk", dict(n_components=2)),
    ("sa", dict(n_components=2)),
    ("coral", dict()),
]


@pytest.mark.parametrize("name,params", ALL)
def test_any_labels_and_determinism(name, params):
    Xs, ys, Xt, yt = _toy(seed=2)
    labels = np.array(["cat", "dog", "emu"])
    p1 = get_method(name, **params).fit_domains(Xs, labels[ys], Xt).predict(Xt)
    assert set(p1) <= set(labels)
    assert np.mean(p1 == labels[yt]) > 0.8
    p2 = get_method(name, **params).fit_domains(Xs, labels[ys], Xt).predict(Xt)
    assert_array_equal(p1, p2)
    odd = np.array([7, 42, -3])                  # never assume 0..C-1 or 1..C
    p3 = get_method(name, **params).fit_domains(Xs, odd[ys], Xt).predict(Xt)
    assert_array_equal(p3, odd[np.searchsorted(labels, p1)])
    for base in ("logreg", "linear_svm"):
        p = get_method(name, base_estimator=base, random_state=0, **params).fit_domains(
            Xs, ys, Xt).predict(Xt)
        assert np.mean(p == yt) > 0.7


def test_jda_class_without_pseudo_label_does_not_crash():
    rng = np.random.RandomState(0)
    Xs = np.vstack([rng.randn(20, 4) + [5, 0, 0, 0], rng.randn(20, 4) + [0, 5, 0, 0],
                    rng.randn(3, 4) + [0, 0, 5, 0]])
    ys = np.repeat(["a", "b", "c"], [20, 20, 3])
    Xt = np.vstack([rng.randn(20, 4) + [5, 0, 0, 0], rng.randn(20, 4) + [0, 5, 0, 0]])
    for m in (JDA(n_components=3, n_iter=4), BDA(n_components=3, n_iter=4, weighted=True)):
        m.fit_domains(Xs, ys, Xt)
        assert any(not np.any(h == 2) for h in m.pseudo_labels_)  # the path is exercised
        assert np.isfinite(m.components_).all()
        assert set(m.predict(Xt)) <= {"a", "b", "c"}


@pytest.mark.parametrize("cls,params,match", [
    (TCA, dict(lam=0.0), r"'lam' parameter of method 'tca' must be a float in the range \(0\.0, inf\)"),
    (TCA, dict(kernel="poly"), r"'kernel' parameter of method 'tca' must be a str among"),
    (JDA, dict(n_iter=0), r"'n_iter' parameter of method 'jda' must be an int in the range \[1, inf\)"),
    (JDA, dict(n_components=2.5), r"'n_components' parameter of method 'jda' must be an int"),
    (BDA, dict(mu=1.5), r"'mu' parameter of method 'bda' .*float in the range \[0\.0, 1\.0\]"),
    (BDA, dict(mu=-0.1), r"'mu' parameter of method 'bda'.*Got -0\.1 instead"),
    (GFK, dict(n_components=0), r"'n_components' parameter of method 'gfk'"),
    (SA, dict(n_components=-1), r"'n_components' parameter of method 'sa'"),
    (CORAL, dict(reg=0), r"'reg' parameter of method 'coral' must be a float in the range \(0\.0, inf\)"),
])
def test_parameter_errors(cls, params, match):
    Xs, ys, Xt, _ = _toy()
    with pytest.raises(InputError, match=match):
        cls(**params).fit_domains(Xs, ys, Xt)


# -- reproduction of published rows -----------------------------------------------------------
def test_jda_reproduces_paper_caltech_to_amazon():
    """JDA paper, Office-Caltech SURF C->A: 44.78 (k=100, T=10, lambda=1, primal, 1-NN).

    Measured: 44.78 exactly (429 / 958), equal to the reference formulation.
    """
    Xs, ys, Xt, yt = _surf("C->A")
    acc = _acc(JDA(n_components=100, lam=1.0, n_iter=10), Xs, ys, Xt, yt)
    assert_allclose(acc, _published(JDA_TABLE, "C->A", "JDA"), atol=0.01)


def test_jda_reproduces_paper_usps_to_mnist():
    """JDA paper, USPS->MNIST: 59.65 (lambda=0.1, L2-normalised samples). Measured: 59.65."""
    Xs, ys, Xt, yt = _two_domain(DATA / "mnist_usps" / "USPS_vs_MNIST.mat")
    acc = _acc(JDA(n_components=100, lam=0.1, n_iter=10), Xs, ys, Xt, yt)
    assert_allclose(acc, _published(JDA_TABLE, "USPS->MNIST", "JDA"), atol=0.01)


@pytest.mark.parametrize("task", ["D->W", "W->D"])
def test_jda_table_tca_gfk_small_tasks(task):
    """JDA paper's TCA and GFK columns (1-NN), the small Office-Caltech tasks.

    GFK with Gong et al.'s per-pair dimension reproduces the column exactly (75.59, 80.89).
    TCA (primal, k=100, lambda=1, i.e. JDA's first iteration) measured 84.75 (D->W, published
    86.10) and 85.35 (W->D, published 87.26): within the 2-point goal.
    """
    Xs, ys, Xt, yt = _surf(task)
    d = GFK_PAPER_DIMS[frozenset(task.replace("->", ""))]
    assert_allclose(_acc(GFK(n_components=d), Xs, ys, Xt, yt),
                    _published(JDA_TABLE, task, "GFK"), atol=0.01)
    assert_allclose(_acc(TCA(n_components=100, lam=1.0), Xs, ys, Xt, yt),
                    _published(JDA_TABLE, task, "TCA"), atol=2.0)


def _libsvm_linear():
    # The CORAL and SA authors' code trains libsvm (linear kernel); sklearn's SVC is libsvm.
    # (The library's "linear_svm" is liblinear's LinearSVC: on C->A SURF it did not converge
    # in 10,000 iterations, took ~170 s and gave 42.7 for no adaptation against 52.4 here.)
    from sklearn.svm import SVC

    return SVC(kernel="linear", C=1.0)


@pytest.mark.parametrize("task", ["D->W", "W->D"])
def test_coral_table3_full_protocol_small_tasks(task):
    """CORAL paper, table 3 (full protocol, linear SVM), the small Office-Caltech tasks.

    Measured with libsvm's linear SVM, C=1 (published in brackets):
    D->W  SA 74.58 (65.1)  GFK 74.58 (74.6)  TCA 78.98 (71.2)  CORAL 85.42 (84.7)
    W->D  SA 63.69 (62.4)  GFK 80.25 (79.6)  TCA 85.99 (74.5)  CORAL 85.35 (86.6)
    CORAL and GFK (Gong et al.'s per-pair dimension) are held to 2 points, as is SA on W->D.
    TCA here (JDA-paper settings: primal, k=100, lambda=1, L2-normalised embedding) and SA on
    D->W (d=20) are 8-12 points *above* the published rows, whose TCA/SA settings the CORAL
    paper does not give; for those only "not worse than published - 2" is asserted.
    """
    Xs, ys, Xt, yt = _surf(task)
    d = GFK_PAPER_DIMS[frozenset(task.replace("->", ""))]
    pub = {c: _published(CORAL_TABLE, task, c) for c in ("SA", "GFK", "TCA", "CORAL")}
    got = {
        "SA": _acc(SA(n_components=20, base_estimator=_libsvm_linear()), Xs, ys, Xt, yt),
        "GFK": _acc(GFK(n_components=d, base_estimator=_libsvm_linear()), Xs, ys, Xt, yt),
        "TCA": _acc(TCA(base_estimator=_libsvm_linear()), Xs, ys, Xt, yt),
        "CORAL": _acc(CORAL(base_estimator=_libsvm_linear()), Xs, ys, Xt, yt),
    }
    for name in ("GFK", "CORAL"):
        assert_allclose(got[name], pub[name], atol=2.0, err_msg=name)
    if task == "W->D":
        assert_allclose(got["SA"], pub["SA"], atol=2.0, err_msg="SA")
    for name in ("SA", "TCA"):
        assert got[name] >= pub[name] - 2.0, name
