import numpy as np
import pytest
import scipy.io
import scipy.sparse
from numpy.testing import assert_allclose, assert_array_equal

from transferability import InputError
from transferability.datasets import (
    LoadedPair, load_domain, load_pair, make_demo_pair, make_seed_pair, preprocess, preprocess_pair,
)
from transferability.utils.identity import fingerprint, pair_key, preprocess_key

# every domain file in ../shared/data: (relative spec, n, d, n_classes)
BENCHMARK_DOMAINS = [
    ("office_caltech10_surf/amazon_SURF_L10.mat", 958, 800, 10),
    ("office_caltech10_surf/Caltech10_SURF_L10.mat", 1123, 800, 10),
    ("office_caltech10_surf/dslr_SURF_L10.mat", 157, 800, 10),
    ("office_caltech10_surf/webcam_SURF_L10.mat", 295, 800, 10),
    ("office_caltech10_decaf6/dslr_decaf.mat", 157, 4096, 10),
    ("office_caltech10_decaf6/webcam_decaf.mat", 295, 4096, 10),
    ("mnist_usps/MNIST_vs_USPS.mat:src", 2000, 256, 10),
    ("mnist_usps/MNIST_vs_USPS.mat:tar", 1800, 256, 10),
    ("mnist_usps/USPS_vs_MNIST.mat:src", 1800, 256, 10),
    ("mnist_usps/USPS_vs_MNIST.mat:tar", 2000, 256, 10),
    ("coil20/COIL_1.mat:src", 720, 1024, 20),
    ("coil20/COIL_1.mat:tar", 720, 1024, 20),
    ("coil20/COIL_2.mat:src", 720, 1024, 20),
    ("coil20/COIL_2.mat:tar", 720, 1024, 20),
]


@pytest.mark.parametrize("spec, n, d, n_classes", BENCHMARK_DOMAINS)
def test_every_benchmark_domain_loads(shared_data, spec, n, d, n_classes):
    dom = load_domain(str(shared_data / spec))
    assert dom.X.shape == (n, d)
    assert dom.y.shape == (n,)
    assert_array_equal(np.unique(dom.y), np.arange(1, n_classes + 1))
    assert np.isfinite(dom.X).all()


def test_every_mat_file_is_either_a_domain_or_a_clear_error(shared_data):
    """No .mat file under ../shared/data is left out of the list above or crashes the loader."""
    listed = {s.split(":")[0] for s, *_ in BENCHMARK_DOMAINS}
    for path in sorted(shared_data.rglob("*.mat")):
        rel = str(path.relative_to(shared_data))
        if rel in listed:
            continue
        # image-name lists and split-index files hold no domain
        with pytest.raises(InputError, match="none of the known keys"):
            load_domain(str(path))


def test_two_domain_file_needs_a_selector(shared_data):
    with pytest.raises(InputError, match="holds two domains"):
        load_domain(str(shared_data / "coil20/COIL_1.mat"))
    with pytest.raises(InputError, match="no domain 'foo'"):
        load_domain(str(shared_data / "coil20/COIL_1.mat:foo"))
    a = load_domain(str(shared_data / "mnist_usps/MNIST_vs_USPS.mat:source"))
    b = load_domain(str(shared_data / "mnist_usps/USPS_vs_MNIST.mat:target"))
    assert_array_equal(a.X, b.X)  # same MNIST data, swapped roles
    assert a.meta["transposed"] is True


def test_columns_are_samples_layout_is_transposed(shared_data):
    raw = scipy.io.loadmat(str(shared_data / "coil20/COIL_2.mat"))
    dom = load_domain(str(shared_data / "coil20/COIL_2.mat:tar"))
    assert_array_equal(dom.X, raw["X_tar"].T)
    assert_array_equal(dom.y, raw["Y_tar"].ravel())


def test_npz_npy_csv_parquet_roundtrip(tmp_path):
    rng = np.random.RandomState(0)
    X = rng.randn(20, 3)
    y = np.array(["a", "b"] * 10)
    np.savez(tmp_path / "d.npz", X=X, y=y)
    np.save(tmp_path / "d.npy", X)
    dom = load_domain(str(tmp_path / "d.npz"))
    assert_allclose(dom.X, X)
    assert_array_equal(dom.y, y)
    dom = load_domain(str(tmp_path / "d.npy"))
    assert_allclose(dom.X, X) and dom.y is None

    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    table = pa.table({"f0": X[:, 0], "f1": X[:, 1], "f2": X[:, 2], "label": y})
    pq.write_table(table, tmp_path / "d.parquet")
    pacsv.write_csv(table, tmp_path / "d.csv")
    for name in ("d.parquet", "d.csv"):
        dom = load_domain(str(tmp_path / name))
        assert_allclose(dom.X, X, rtol=1e-12)
        assert_array_equal(dom.y, y)
    # a different label column, named explicitly
    table2 = pa.table({"f0": X[:, 0], "cls": y})
    pacsv.write_csv(table2, tmp_path / "e.csv")
    assert_array_equal(load_domain(str(tmp_path / "e.csv"), label_column="cls").y, y)
    with pytest.raises(InputError, match="label column 'nope' not found"):
        load_domain(str(tmp_path / "e.csv"), label_column="nope", require_label_column=True)


def test_sparse_mat(tmp_path):
    X = scipy.sparse.random(30, 8, density=0.3, random_state=0, format="csc")
    scipy.io.savemat(tmp_path / "s.mat", {"fts": X, "labels": np.arange(30)[:, None] % 3})
    dom = load_domain(str(tmp_path / "s.mat"))
    assert_allclose(dom.X, X.toarray())
    assert_array_equal(dom.y, np.arange(30) % 3)


@pytest.mark.parametrize("case, match", [
    ("missing", "file not found"),
    ("unknown_format", "unknown format"),
    ("nan", "NaN or infinite"),
    ("inf", "NaN or infinite"),
    ("empty", "empty"),
    ("non_numeric_csv", "non-numeric feature column"),
    ("label_length", "labels for .* samples"),
    ("mat_no_keys", "none of the known keys"),
    ("corrupt_npz", "cannot read"),
    ("corrupt_mat", "cannot read"),
    ("three_d", "2-D matrix"),
    ("directory", "directory"),
    ("selector_on_npz", "only applies to .mat"),
])
def test_bad_files(tmp_path, case, match):
    p = tmp_path / "x.npz"
    if case == "missing":
        p = tmp_path / "nope.npz"
    elif case == "unknown_format":
        p = tmp_path / "x.txt"
        p.write_text("1,2,3\n")
    elif case == "nan":
        np.savez(p, X=np.array([[1.0, np.nan], [0.0, 1.0]]))
    elif case == "inf":
        np.savez(p, X=np.array([[1.0, np.inf], [0.0, 1.0]]))
    elif case == "empty":
        np.savez(p, X=np.zeros((0, 3)))
    elif case == "non_numeric_csv":
        p = tmp_path / "x.csv"
        p.write_text("a,b,label\n1,x,0\n2,y,1\n")
    elif case == "label_length":
        np.savez(p, X=np.zeros((4, 2)), y=np.arange(3))
    elif case == "mat_no_keys":
        p = tmp_path / "x.mat"
        scipy.io.savemat(p, {"foo": np.zeros((3, 3))})
    elif case == "corrupt_npz":
        p.write_bytes(b"not a zip file at all")
    elif case == "corrupt_mat":
        p = tmp_path / "x.mat"
        p.write_bytes(b"MATLAB garbage" * 20)
    elif case == "three_d":
        np.savez(p, X=np.zeros((2, 2, 2)))
    elif case == "directory":
        p = tmp_path / "dir.npz"
        p.mkdir()
    elif case == "selector_on_npz":
        np.savez(p, X=np.zeros((3, 2)))
        p = str(p) + ":src"
    with pytest.raises(InputError, match=match):
        load_domain(str(p))


def test_preprocessing_recipes():
    rng = np.random.RandomState(0)
    X = rng.rand(50, 6) * 10
    Z = preprocess(X, "zscore")
    assert_allclose(Z.mean(axis=0), 0, atol=1e-12)
    assert_allclose(Z.std(axis=0), 1, rtol=1e-12)
    assert_allclose(np.linalg.norm(preprocess(X, "l2"), axis=1), 1, rtol=1e-12)
    S = preprocess(X, "sum-zscore")
    assert_allclose(S, preprocess(X / X.sum(axis=1, keepdims=True), "zscore"))
    assert preprocess(X, "none") is X
    # each domain on its own statistics
    A, B = preprocess_pair(X, X * 3 + 1, "zscore")
    assert_allclose(A, B, atol=1e-12)
    with pytest.raises(InputError, match="unknown preprocessing"):
        preprocess(X, "pca")


def test_published_1nn_baselines(shared_data):
    """The data README's preprocessing reproduces the published 1-NN rows (JDA paper)."""
    from sklearn.neighbors import KNeighborsClassifier

    cases = [
        ("office_caltech10_surf/Caltech10_SURF_L10.mat", "office_caltech10_surf/amazon_SURF_L10.mat", "sum-zscore", 23.70),
        ("office_caltech10_surf/webcam_SURF_L10.mat", "office_caltech10_surf/dslr_SURF_L10.mat", "sum-zscore", 59.24),
        ("mnist_usps/USPS_vs_MNIST.mat:src", "mnist_usps/USPS_vs_MNIST.mat:tar", "l2", 44.70),
        ("coil20/COIL_1.mat:src", "coil20/COIL_1.mat:tar", "l2", 83.61),
    ]
    for s, t, mode, published in cases:
        src, tgt = load_domain(str(shared_data / s)), load_domain(str(shared_data / t))
        Xs, Xt = preprocess_pair(src.X, tgt.X, mode)
        acc = KNeighborsClassifier(1).fit(Xs, src.y).score(Xt, tgt.y) * 100
        assert abs(acc - published) <= 0.05, (s, t, acc, published)


def test_generated_pairs_are_deterministic():
    a, b = make_seed_pair(), make_seed_pair()
    assert_array_equal(a[0], b[0])
    assert_array_equal(a[1], b[1])
    rng = np.random.RandomState(0)  # DESIGN.md's draw order: source first, then target
    assert_array_equal(a[0], rng.randn(200, 5))
    assert_array_equal(a[1], rng.randn(200, 5) * 1.5 + 0.5)
    s1, t1 = make_demo_pair(random_state=3)
    s2, t2 = make_demo_pair(random_state=3)
    assert_array_equal(t1.X, t2.X)
    assert_array_equal(s1.y, s2.y)
    assert s1.X.shape == (600, 16) and t1.X.shape == (500, 16)


# --- only regular files are read ---------------------------------------------------------------
@pytest.fixture
def unblock_fifo():
    """Open the write end of any FIFO a reader blocks on, so that a regression fails instead of
    hanging: a reader blocked in ``open()`` then sees end-of-file."""
    import os
    import threading

    paths, stop = [], threading.Event()

    def watch():
        while not stop.is_set():
            for p in paths:
                try:
                    os.close(os.open(p, os.O_WRONLY | os.O_NONBLOCK))  # ENXIO while nobody reads
                except OSError:
                    pass
            stop.wait(0.05)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    yield paths
    stop.set()
    thread.join()


@pytest.mark.parametrize("suffix", [".npz", ".npy", ".csv", ".parquet", ".mat"])
def test_fifo_is_refused_without_opening_it(tmp_path, unblock_fifo, suffix):
    import os

    fifo = tmp_path / f"pipe{suffix}"
    os.mkfifo(fifo)
    unblock_fifo.append(str(fifo))
    with pytest.raises(InputError, match=r"source: .*pipe\.\w+ is not a regular file \(a FIFO\)"):
        load_domain(str(fifo), name="source")
    if suffix == ".mat":
        with pytest.raises(InputError, match="not a regular file"):
            load_domain(f"{fifo}:src")  # the two-domain selector too


def test_device_and_directory_are_refused(tmp_path):
    import os

    dev = tmp_path / "zeros.npy"
    os.symlink("/dev/zero", dev)  # a link is followed: what it points to must be a regular file
    with pytest.raises(InputError, match=r"is not a regular file \(a character device\)"):
        load_domain(str(dev))
    (tmp_path / "d.csv").mkdir()
    with pytest.raises(InputError, match="is a directory, not a data file"):
        load_domain(str(tmp_path / "d.csv"))


# --- two-domain .mat with sparse label vectors ------------------------------------------------
@pytest.mark.parametrize("columns_are_samples", [False, True])
@pytest.mark.parametrize("label_shape", ["column", "row"])
def test_two_domain_mat_with_sparse_labels(tmp_path, columns_are_samples, label_shape):
    """The label count of a sparse label vector decides the orientation, in both layouts."""
    rng = np.random.RandomState(0)
    Xs, Xt = rng.randn(30, 7), rng.randn(24, 7)
    ys, yt = np.arange(30) % 3 + 1, np.arange(24) % 3 + 1

    def lab(y):
        v = y.reshape(-1, 1) if label_shape == "column" else y.reshape(1, -1)
        return scipy.sparse.csc_matrix(v.astype(float))

    f = tmp_path / "two.mat"
    scipy.io.savemat(f, {"X_src": Xs.T if columns_are_samples else Xs, "Y_src": lab(ys),
                         "X_tar": Xt.T if columns_are_samples else Xt, "Y_tar": lab(yt)})
    src, tgt = load_domain(f"{f}:src"), load_domain(f"{f}:tar")
    assert_array_equal(src.X, Xs)
    assert_array_equal(tgt.X, Xt)
    assert_array_equal(src.y, ys)
    assert_array_equal(tgt.y, yt)
    assert src.meta["transposed"] is columns_are_samples


# --- load_pair --------------------------------------------------------------------------------
def _write_table(path, X, y, names, label_at=None):
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    cols = {n: X[:, i] for i, n in enumerate(names)}
    items = list(cols.items())
    if y is not None:
        items.insert(len(items) if label_at is None else label_at, ("label", y))
    table = pa.table(dict(items))
    (pacsv.write_csv if str(path).endswith(".csv") else pq.write_table)(table, str(path))
    return str(path)


def test_load_pair_identity_and_preprocessing(tmp_path):
    rng = np.random.RandomState(3)
    Xs, ys, Xt, yt = rng.randn(40, 4), np.arange(40) % 2, rng.randn(30, 4) * 2 + 1, np.arange(30) % 2
    np.savez(tmp_path / "s.npz", X=Xs, y=ys)
    np.savez(tmp_path / "t.npz", X=Xt, y=yt)
    pair = load_pair(str(tmp_path / "s.npz"), str(tmp_path / "t.npz"), preprocess="zscore")
    assert isinstance(pair, LoadedPair)
    assert_array_equal(pair.source.X, Xs)  # raw domains kept
    assert_array_equal(pair.target.y, yt)
    assert_allclose(pair.X_source, preprocess(Xs, "zscore"))
    assert_allclose(pair.X_target, preprocess(Xt, "zscore"))
    assert_allclose(pair.X_target.std(axis=0), 1.0)
    assert (pair.n_source, pair.n_target, pair.n_features, pair.preprocess) == (40, 30, 4, "zscore")
    # identity of the raw domains, keyed with the preprocessing: what the store indexes pairs by
    assert pair.source_fingerprint == fingerprint(Xs, ys)
    assert pair.target_fingerprint == fingerprint(Xt, yt)
    assert pair.key == pair_key(fingerprint(Xs, ys), fingerprint(Xt, yt), preprocess_key("zscore"))
    other = load_pair(str(tmp_path / "s.npz"), str(tmp_path / "t.npz"), preprocess="l2")
    assert other.source_fingerprint == pair.source_fingerprint and other.key != pair.key


def test_load_pair_errors(tmp_path):
    rng = np.random.RandomState(0)
    np.savez(tmp_path / "s.npz", X=rng.randn(10, 3))
    np.savez(tmp_path / "t.npz", X=rng.randn(10, 3))
    np.savez(tmp_path / "d4.npz", X=rng.randn(10, 4))
    np.savez(tmp_path / "one.npz", X=rng.randn(1, 3))
    s, t = str(tmp_path / "s.npz"), str(tmp_path / "t.npz")
    with pytest.raises(InputError, match="source has 3 features but target has 4"):
        load_pair(s, str(tmp_path / "d4.npz"))
    with pytest.raises(InputError, match="target: needs at least 2 samples"):
        load_pair(s, str(tmp_path / "one.npz"))
    with pytest.raises(InputError, match="unknown preprocessing 'pca'"):
        load_pair(s, t, preprocess="pca")
    pair = load_pair(s, t)
    with pytest.raises(InputError, match=r"target: .*t\.npz has no labels; evaluate needs them"):
        pair.require_labels("target", "evaluate needs them")


@pytest.mark.parametrize("ext", [".csv", ".parquet"])
def test_load_pair_matches_table_columns_by_name(tmp_path, ext):
    rng = np.random.RandomState(1)
    X, y = rng.randn(25, 4), np.arange(25) % 3
    names = ["a", "b", "c", "d"]
    s = _write_table(tmp_path / f"s{ext}", X, y, names)
    perm = [2, 0, 3, 1]
    t = _write_table(tmp_path / f"t{ext}", X[:, perm], y, [names[i] for i in perm], label_at=1)
    pair = load_pair(s, t)
    assert_array_equal(pair.X_target, X)  # the target's columns in the source's order
    assert_array_equal(pair.target.y, y)
    assert pair.target.meta["feature_names"] == names and pair.target.meta["columns_reordered"]
    same = load_pair(s, s)
    assert pair.key == same.key  # same named data, same pair
    assert "columns_reordered" not in same.target.meta


def test_load_pair_refuses_other_column_names(tmp_path):
    rng = np.random.RandomState(1)
    X = rng.randn(25, 3)
    s = _write_table(tmp_path / "s.csv", X, None, ["a", "b", "c"])
    t = _write_table(tmp_path / "t.csv", X, None, ["a", "b", "z"])
    with pytest.raises(InputError, match=r"feature columns differ by name \(not in target: c; not in source: z\)"):
        load_pair(s, t)
    # a table against an unnamed matrix is matched by position
    np.save(tmp_path / "t.npy", X)
    assert_array_equal(load_pair(s, str(tmp_path / "t.npy")).X_target, X)
