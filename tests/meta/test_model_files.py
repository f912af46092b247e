"""Model files that cannot hurt (issue 20, part 2): a model directory is user input.

The hostile-user matrix: truncated, edited, oversized files; a FIFO, /dev/zero, a directory; an
absolute path, ``..``, a link out; every kind of bad manifest field; deep JSON; two trainings
side by side; models fitted in memory; model format 1 and its migration; ``meta train
--output`` checked first and the directory written whole. None may abort, hang, traceback or
exit 0; the command line exits 2 with one line naming the file and the field.
"""

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from transferability.meta.learners import _files
from transferability.meta.learners._distance import TrainingDistance
from transferability.meta.learners._easytrans import load_easytrans
from transferability.meta.learners._files import file_entry, models_dir
from transferability.meta.learners._modelfiles import ModelSet, load_models
from transferability.utils.validation import InputError

MT, ET = "metatrans.json", "easytrans.json"


def _runner():
    try:
        return CliRunner(mix_stderr=False)
    except TypeError:  # click >= 8.2 keeps stderr apart by default
        return CliRunner()


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    """A copy of the shipped model directory (both learners, LightGBM files included)."""
    d = tmp_path_factory.mktemp("shipped") / "models"
    shutil.copytree(models_dir(), d)
    return d


@pytest.fixture
def models(shipped, tmp_path):
    d = tmp_path / "models"
    shutil.copytree(shipped, d)
    return d


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    from transferability.datasets import make_demo_pair

    d = tmp_path_factory.mktemp("pair")
    src, tgt = make_demo_pair(n_source=150, n_target=120, random_state=0)
    np.savez(d / "s.npz", X=src.X, y=src.y)
    np.savez(d / "t.npz", X=tgt.X)
    return d


def _read(d, name):
    return json.loads((d / name).read_text())


def _write(d, name, man):
    (d / name).write_text(json.dumps(man))


def _lgbm_file(d, name):
    return sorted(_read(d, name)["files"])[0]


def _one_line(result, *needles):
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    for n in needles:
        assert n in result.stderr, (n, result.stderr)


def _cli(cmd, pair, d):
    from transferability.cli._recommend import recommend_cmd
    from transferability.cli._score import score_cmd

    command = {"recommend": recommend_cmd, "score": score_cmd}[cmd]
    return _runner().invoke(command, [str(pair / "s.npz"), str(pair / "t.npz"), "--models", str(d)])


# -- the shipped files ----------------------------------------------------------------------------------
def test_shipped_manifests_are_format_2_and_their_files_match():
    for name, load in ((MT, load_models), (ET, load_easytrans)):
        man = _read(models_dir(), name)
        assert man["format_version"] == _files.FORMAT_VERSION == 2
        for f, e in man["files"].items():
            assert file_entry((models_dir() / f).read_text()) == e
        load()  # every field passes the schema


def test_the_schema_vocabularies_are_the_learners_own():
    from transferability.meta.learners import _easytrans, _modelfiles

    assert _files.EASYTRANS_LEARNERS == _easytrans.LEARNER_CHOICES
    assert _files.EASYTRANS_SCORERS == tuple(_easytrans.SCORERS)
    assert _files.CALIBRATION_KINDS == tuple(_easytrans.CALIBRATIONS)
    assert _easytrans.FORMAT_VERSION == _modelfiles.FORMAT_VERSION == _files.FORMAT_VERSION
    assert _files.MANIFESTS == (_modelfiles.MANIFEST, _easytrans.MANIFEST)
    assert (_easytrans.FORMAT, _modelfiles.FORMAT) == (_files.EASYTRANS_FORMAT, _files.METATRANS_FORMAT)


# -- model files: truncated, edited, not regular, outside the directory ------------------------------------
def test_a_truncated_lightgbm_file_is_refused_before_lightgbm_sees_it_in_a_real_process(models, pair):
    """The old code let LightGBM read it: a C++ fatal error aborted the process (exit -6)."""
    for name, cmd in ((MT, "recommend"), (ET, "score")):
        f = models / _lgbm_file(models, name)
        original = f.read_bytes()
        f.write_bytes(original[: len(original) // 3])
        run = subprocess.run([sys.executable, "-m", "transferability", cmd, str(pair / "s.npz"), str(pair / "t.npz"),
                              "--models", str(models)], capture_output=True, text=True, timeout=300)
        assert run.returncode == 2, (run.returncode, run.stderr[-2000:])
        assert run.stderr.count("\n") == 1 and "truncated or changed" in run.stderr and f.name in run.stderr
        assert "[LightGBM]" not in run.stderr and run.stdout == ""
        f.write_bytes(original)


@pytest.mark.parametrize("name, load", [(MT, load_models), (ET, load_easytrans)])
def test_an_edited_model_file_of_the_same_size_is_refused_by_its_hash(models, name, load):
    f = models / _lgbm_file(models, name)
    data = bytearray(f.read_bytes())
    i = data.index(b"leaf_value=") + len(b"leaf_value=")
    data[i] = ord("9") if data[i] != ord("9") else ord("8")
    f.write_bytes(bytes(data))
    with pytest.raises(InputError, match=rf"{name}: field files\.{f.name}: .*does not match its sha256"):
        load(models)


def test_a_model_file_vouched_for_by_its_manifest_must_still_be_a_whole_lightgbm_text(models):
    name = _lgbm_file(models, MT)
    text = (models / name).read_text()
    end = text.index("end of trees")
    for cut, message in ((text[: len(text) // 2], "no 'end of trees' line"),
                         (text[: end // 2] + text[end:], "bytes of trees, its header says"),
                         ("tree\nversion=v4\n\nTree=0\n", "no tree_sizes table"),
                         ("not a model at all\n", "does not start with LightGBM's 'tree' header")):
        (models / name).write_text(cut)
        man = _read(models, MT)
        man["files"][name] = file_entry(cut)  # the manifest agrees, as a hostile one would
        _write(models, MT, man)
        with pytest.raises(InputError, match=f"field files.{name}: model file .*{message}"):
            load_models(models)


_HANG_PROBE = r"""
import os, signal, sys
from transferability.meta.learners._modelfiles import load_models
signal.alarm(60)  # a read that blocks would end the probe here, not hang the test
try:
    load_models(sys.argv[1])
except Exception as exc:
    print(type(exc).__name__, str(exc).splitlines()[0])
else:
    print("loaded")
"""


def _probe(d):
    run = subprocess.run([sys.executable, "-c", _HANG_PROBE, str(d)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout.strip()


def test_a_fifo_a_device_or_a_directory_is_never_read(models, tmp_path):
    name = _lgbm_file(models, MT)
    f = models / name
    f.unlink()
    os.mkfifo(f)  # opening it for reading would block forever without a writer
    assert _probe(models).startswith("InputError") and "is not a regular file (a FIFO)" in _probe(models)
    f.unlink()
    f.mkdir()
    assert "is not a regular file (a directory)" in _probe(models)
    f.rmdir()
    (models / MT).rename(tmp_path / "saved.json")
    (models / MT).symlink_to("/dev/zero")  # the manifest itself: reading it would never end
    out = _probe(models)
    assert out.startswith("InputError") and "is not a regular file (a character device)" in out
    (models / MT).unlink()
    os.mkfifo(models / MT)
    assert "is not a regular file (a FIFO)" in _probe(models)


def test_a_model_file_linked_out_of_the_directory_is_refused_even_with_the_right_hash(models, tmp_path):
    name = _lgbm_file(models, MT)
    outside = tmp_path / "elsewhere.txt"
    shutil.move(models / name, outside)
    (models / name).symlink_to(outside)
    with pytest.raises(InputError, match="outside the model directory"):
        load_models(models)
    (models / name).unlink()
    (models / name).symlink_to("/dev/zero")
    with pytest.raises(InputError, match="is a link to /dev/zero, outside the model directory"):
        load_models(models)
    (models / name).unlink()
    shutil.move(outside, models / "kept.txt")
    (models / name).symlink_to("kept.txt")  # a link that stays inside is only a name
    load_models(models).model("1nn")


@pytest.mark.parametrize("bad", ["/etc/passwd", "../metatrans-1nn.txt", "sub/metatrans-1nn.txt", "..", ""])
def test_a_manifest_naming_a_file_outside_the_directory_is_refused_before_opening_it(models, bad):
    man = _read(models, MT)
    entry = next(e for e in man["models"].values() if e["lgbm_file"])
    man["files"][bad] = man["files"].pop(entry["lgbm_file"])
    entry["lgbm_file"] = bad
    _write(models, MT, man)
    with pytest.raises(InputError, match=r"metatrans\.json: field (files|models\.\w+\.lgbm_file)"):
        load_models(models)


def test_a_missing_or_oversized_model_file(models, monkeypatch):
    name = _lgbm_file(models, MT)
    monkeypatch.setattr(_files, "MAX_MODEL_FILE_BYTES", 1000)
    with pytest.raises(InputError, match=f"field files.{name}: model file .* above the"):
        load_models(models)
    monkeypatch.undo()
    (models / name).unlink()
    with pytest.raises(InputError, match=f"field files.{name}: model file .* is missing"):
        load_models(models)


# -- every bad field kind -----------------------------------------------------------------------------------
def _mt(path, value):
    def mutate(m):
        *head, last = path
        node = m
        for p in head:
            node = node[p]
        if value is DELETE:
            del node[last]
        else:
            node[last] = value(node[last]) if callable(value) else value
    return MT, mutate


def _et(path, value):
    return ET, _mt(path, value)[1]


DELETE = object()
K = ("models", "1nn", "knn")
C = ("models", "1nn", "conformal")
L = ("models", "1nn", "labelled")


def _swap_one(conformal):
    j = next(j for j, (a, b) in enumerate(zip(conformal["lower"], conformal["upper"])) if a < b)
    conformal["lower"][j], conformal["upper"][j] = conformal["upper"][j], conformal["lower"][j]
    return conformal


def _nested(depth):
    v = 1.0
    for _ in range(depth):
        v = {"x": v}
    return v


BAD_FIELDS = [
    # (id, (file, mutation), the field the message names, what it says)
    ("neighbour count 0", _mt((*K, "n_neighbors"), 0), "models.1nn.knn.n_neighbors", "integer >= 1"),
    ("neighbour count a string", _mt((*K, "n_neighbors"), "10"), "models.1nn.knn.n_neighbors", "the string '10'"),
    ("neighbour count 2.5", _mt((*K, "n_neighbors"), 2.5), "models.1nn.knn.n_neighbors", "integer"),
    ("an entry that is a string", _mt(("models", "1nn"), "a string"), "models.1nn", "must be an object"),
    ("models empty", _mt(("models",), {}), "models", "at least 1"),
    ("NaN interval end", _mt((*C, "lower", 0), math.nan), "models.1nn.conformal.lower[0]", "finite"),
    ("inverted interval", _mt(C, _swap_one), "models.1nn.conformal.lower", "must not exceed the upper end"),
    ("zero scale", _mt((*K, "distance", "scale", 3), 0.0), "models.1nn.knn.distance.scale[3]", "> 0"),
    ("negative scale", _mt((*K, "distance", "scale", 0), -1.0), "models.1nn.knn.distance.scale[0]", "> 0"),
    ("too-short mean", _mt((*K, "distance", "mean"), lambda v: v[:-1]), "models.1nn.knn.distance.mean", "a list of 35"),
    ("too-short reference row", _mt((*K, "distance", "reference", 7), lambda v: v[:3]),
     "models.1nn.knn.distance.reference[7]", "a list of 35"),
    ("reference rows missing", _mt((*K, "distance", "reference"), lambda v: v[:-1]), "models.1nn.knn.distance.reference",
     "rows"),
    ("a string in the reference", _mt((*K, "distance", "reference", 0, 0), "1.5"),
     "models.1nn.knn.distance.reference[0][0]", "the string '1.5'"),
    ("negative threshold", _mt((*K, "distance", "threshold"), -1.0), "models.1nn.knn.distance.threshold", ">= 0"),
    ("infinite threshold", _mt((*K, "distance", "threshold"), math.inf), "models.1nn.knn.distance.threshold", "finite"),
    ("names too short", _mt((*K, "names"), lambda v: v[:-1]), "models.1nn.knn.names", "a list of"),
    ("log effect row short", _mt((*K, "log_effect", 0), lambda v: v[:2]), "models.1nn.knn.log_effect[0]", "a list of"),
    ("coverage above 1", _mt((*C, "coverage"), 1.5), "models.1nn.conformal.coverage", "< 1"),
    ("accuracy above 1", _mt(("models", "1nn", "fixed", "mean_accuracy", 0), 2.0),
     "models.1nn.fixed.mean_accuracy[0]", "<= 1"),
    ("default not a method", _mt(("models", "1nn", "default"), "warp"), "models.1nn.default", "one of"),
    ("negative margin", _mt(("models", "1nn", "margin"), -0.5), "models.1nn.margin", ">= 0"),
    ("unknown candidate", _mt(("models", "1nn", "candidate"), "oracle"), "models.1nn.candidate", "one of"),
    ("a runtime missing", _mt(("models", "1nn", "runtime"), lambda v: {k: v[k] for k in list(v)[1:]}),
     "models.1nn.runtime", "one entry per method"),
    ("runtime coefficients short", _mt(("models", "1nn", "runtime", "meda", "coef"), [1.0]),
     "models.1nn.runtime.meda.coef", "a list of 3"),
    ("a field missing", _mt(("models", "1nn", "candidate"), DELETE), "models.1nn.candidate", "is missing"),
    ("an unknown field", _mt(("models", "1nn", "surprise"), 1), "models.1nn.surprise", "not a field"),
    ("n_records a boolean", _mt(("n_records",), True), "n_records", "got true"),
    ("a bad sha256", _mt(("files", "metatrans-1nn.txt", "sha256"), "zz"), "files.metatrans-1nn.txt.sha256", "matching"),
    ("a file not listed", _mt(("files",), {}), "files", "lacks metatrans-1nn.txt"),
    ("metrics nested too deep", _mt(("models", "1nn", "metrics"), _nested(40)), "models.1nn.metrics", "deeper than 32"),
    ("NaN in the metrics", _mt(("models", "1nn", "metrics"), {"x": math.nan}), "models.1nn.metrics.x", "finite"),
    # EasyTransferability
    ("level constant out of [0, 1]", _et((*L, "levels", 0), lambda e: {**e, "learner": None, "constant": 1.5,
                                                                      "calibration": None, "linear": None}),
     "models.1nn.labelled.levels[0].constant", "<= 1"),
    ("linear zero scale", _et((*L, "levels", 0, "linear", "scale", 0), 0.0),
     "models.1nn.labelled.levels[0].linear.scale[0]", "> 0"),
    ("linear coefficients short", _et((*L, "levels", 0, "linear", "coef"), lambda v: v[:5]),
     "models.1nn.labelled.levels[0].linear.coef", "a list of 35"),
    ("falling sigmoid", _et((*L, "levels", 0, "calibration", "a"), -1.0),
     "models.1nn.labelled.levels[0].calibration.a", ">= 0"),
    ("falling isotonic map", _et((*L, "levels", 0, "calibration"), {"kind": "isotonic", "x": [0.0, 1.0], "y": [0.9, 0.1]}),
     "models.1nn.labelled.levels[0].calibration.y[1]", "must not be below"),
    ("unknown map kind", _et((*L, "levels", 0, "calibration", "kind"), "magic"),
     "models.1nn.labelled.levels[0].calibration.kind", "one of"),
    ("a learner without its numbers", _et((*L, "levels", 0, "linear"), None), "models.1nn.labelled.levels[0].linear",
     "must be given"),
    ("more positives than known", _et((*L, "levels", 0, "n_positive"), 10**6), "models.1nn.labelled.levels[0].n_positive",
     "must not exceed n_known"),
    ("inverted thresholds", _et(("models", "1nn", "thresholds"), lambda t: t[::-1]), "models.1nn.thresholds",
     "increasing"),
    ("levels missing", _et((*L, "levels"), lambda v: v[:-1]), "models.1nn.labelled.levels", "a list of 6"),
    ("uses labels flipped", _et((*L, "uses_source_labels"), False), "models.1nn.labelled.uses_source_labels", "true"),
    ("ood reference short", _et((*L, "ood", "reference"), lambda v: v[:10]), "models.1nn.labelled.ood.reference", "rows"),
    ("ood zero scale", _et((*L, "ood", "scale", 1), 0.0), "models.1nn.labelled.ood.scale[1]", "> 0"),
    ("inverted interval levels", _et(("interval_levels",), [0.9, 0.1]), "interval_levels", "increasing"),
    ("threshold 0", _et(("threshold",), 0.0), "threshold", "> 0"),
    ("default k 0", _et(("default_k",), 0), "default_k", ">= 1"),
]


@pytest.mark.parametrize("mutation, field, says", [b[1:] for b in BAD_FIELDS], ids=[b[0] for b in BAD_FIELDS])
def test_every_bad_field_is_one_line_naming_the_file_and_the_field(models, mutation, field, says):
    name, mutate = mutation
    man = _read(models, name)
    mutate(man)
    _write(models, name, man)
    load = load_models if name == MT else load_easytrans
    with pytest.raises(InputError) as info:
        load(models)
    msg = str(info.value)
    assert "\n" not in msg and f"{name}: field {field}" in msg and says in msg, msg


@pytest.mark.parametrize("cmd, name, mutation", [
    ("recommend", MT, _mt((*K, "n_neighbors"), 0)[1]),
    ("recommend", MT, _mt(("models", "1nn"), "a string")[1]),
    ("score", ET, _et((*L, "levels", 0, "linear", "scale", 0), 0.0)[1]),
    ("score", ET, _et(("models", "1nn", "thresholds"), lambda t: t[::-1])[1]),
])
def test_the_command_line_exits_2_with_one_line_on_a_bad_field(models, pair, cmd, name, mutation):
    man = _read(models, name)
    mutation(man)
    _write(models, name, man)
    _one_line(_cli(cmd, pair, models), name, "field models.1nn")


def test_deeply_nested_json_is_one_line_not_a_recursion_error(models, pair):
    (models / MT).write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(InputError, match="nested deeper than 32 levels"):
        load_models(models)
    _one_line(_cli("recommend", pair, models), "nested deeper")


def test_an_oversized_or_non_utf8_manifest(models, monkeypatch):
    monkeypatch.setattr(_files, "MAX_MANIFEST_BYTES", 1000)
    with pytest.raises(InputError, match="above the"):
        load_models(models)
    monkeypatch.undo()
    (models / MT).write_bytes(b'{"format": "\xff"}')
    with pytest.raises(InputError, match="not UTF-8"):
        load_models(models)


# -- two trainings, models in memory -----------------------------------------------------------------------
def test_two_trainings_side_by_side_are_refused_by_score_and_recommend(models, pair):
    man = _read(models, ET)
    man["store_hash"] = "0123456789abcdef"
    _write(models, ET, man)
    for load in (load_models, load_easytrans):
        with pytest.raises(InputError, match="mixes two trainings"):
            load(models)
    for cmd in ("recommend", "score"):
        _one_line(_cli(cmd, pair, models), "mixes two trainings", "0123456789abcdef")


def test_a_model_set_fitted_in_memory_never_gets_the_shipped_easytrans_models():
    """The old code fell back to the shipped directory (``ms.directory or models_dir()``)."""
    from transferability.meta.learners._recommend import recommend_from_features

    shipped = load_models()
    in_memory = ModelSet(shipped.manifest, shipped.boosters)  # as fit_models returns it: no directory
    features = {f: 1.0 for f in shipped.manifest["feature_names"]}
    features.update(n_source=100.0, n_target=100.0, n_features=10.0, n_classes=2.0)
    assert recommend_from_features(features, models=shipped).transferability is not None  # the same directory
    assert recommend_from_features(features, models=in_memory).transferability is None
    easy = load_easytrans()
    assert recommend_from_features(features, models=in_memory, easytrans=easy).transferability is not None
    other = type(easy)({**easy.manifest, "store_hash": "0123456789abcdef"}, easy.texts)
    with pytest.raises(InputError, match="come from two trainings"):
        recommend_from_features(features, models=in_memory, easytrans=other)


# -- the one distance to the training pairs -----------------------------------------------------------------
def test_both_learners_use_the_one_training_distance(models):
    ms, easy = load_models(models), load_easytrans(models)
    knn = ms.model("1nn").knn
    _, ood, _ = easy.model("1nn")
    assert isinstance(knn.distance_, TrainingDistance) and isinstance(ood, TrainingDistance)
    rng = np.random.RandomState(0)
    X = np.abs(rng.randn(40, 4)) * 10
    d = TrainingDistance.fit(X)
    back = TrainingDistance.from_dict(json.loads(json.dumps(d.to_dict())))
    x = X[3] * 1.1
    assert back.nearest(x) == d.nearest(x) and back.threshold == d.threshold
    assert d.nearest(X[5]) < 1e-6 and d.in_distribution(0.0)
    assert d.threshold == pytest.approx(np.percentile(d.loo_distances(), 99))
    assert TrainingDistance.fit(X[:1]).threshold is None and TrainingDistance.fit(X[:1]).in_distribution(1e9)


# -- model format 1 and its migration ----------------------------------------------------------------------
def _to_format_1(d):
    """What a format-1 directory looked like: no file table, the kNN's distance numbers flat."""
    mt = _read(d, MT)
    mt["format_version"] = 1
    del mt["files"]
    for e in mt["models"].values():
        dist = e["knn"].pop("distance")
        e["knn"].update(mean=dist["mean"], scale=dist["scale"], reference=dist["reference"],
                        ood_threshold=dist["threshold"])
    _write(d, MT, mt)
    et = _read(d, ET)
    et["format_version"] = 1
    del et["files"]
    for e in et["models"].values():
        for kind in ("labelled", "label_free"):
            del e[kind]["ood"]["percentile"]
    _write(d, ET, et)


def test_format_1_is_refused_with_the_command_that_migrates_it_and_migration_moves_numbers_only(models, pair):
    from transferability.cli._meta import meta_group

    before = {n: (models / n).read_text() for n in (MT, ET)}
    _to_format_1(models)
    with pytest.raises(InputError, match=r"model format 1 .*transferability meta migrate"):
        load_models(models)
    _one_line(_cli("score", pair, models), "model format 1", "meta migrate")
    r = _runner().invoke(meta_group, ["migrate", str(models), "--json"])
    assert r.exit_code == 0, r.stderr
    assert [m["result"] for m in json.loads(r.stdout)["manifests"]] == ["migrated", "migrated"]
    for n in (MT, ET):  # the very manifests that were there, byte for byte
        assert (models / n).read_text() == before[n]
    r = _runner().invoke(meta_group, ["migrate", str(models)])
    assert r.exit_code == 0 and r.stdout.count("already format 2") == 2


def test_migration_refuses_what_it_cannot_vouch_for(models, tmp_path):
    from transferability.cli._meta import meta_group

    _to_format_1(models)
    name = sorted(
        lv["file"] for e in _read(models, ET)["models"].values() for k in ("labelled", "label_free")
        for lv in e[k]["levels"] if lv["file"])[0]
    text = (models / name).read_text()
    (models / name).write_text(text[: len(text) // 2])
    r = _runner().invoke(meta_group, ["migrate", str(models)])
    _one_line(r, name, "cut short")
    assert _read(models, ET)["format_version"] == 1  # left as it was
    for args, says in (([str(tmp_path / "none")], "no model directory"), ([str(tmp_path)], "no model manifests")):
        _one_line(_runner().invoke(meta_group, ["migrate", *args]), says)
    man = _read(models, MT)
    man["format_version"] = 7
    _write(models, MT, man)
    _one_line(_runner().invoke(meta_group, ["migrate", str(models)]), "model format 7")


def test_migration_loads_each_lightgbm_file_in_a_child_process(tmp_path):
    good = models_dir() / _lgbm_file(models_dir(), MT)
    _files._lightgbm_loads([good])
    bad = tmp_path / "bad.txt"
    bad.write_text("tree\nnot really\n")
    with pytest.raises(InputError, match=f"LightGBM cannot load model file {bad}"):
        _files._lightgbm_loads([good, bad])


# -- meta train: --output first, the directory whole --------------------------------------------------------
@pytest.fixture
def no_training(monkeypatch):
    import transferability.meta.evaluation as evaluation

    def refuse(*a, **k):
        raise AssertionError("training started before --output was checked")

    monkeypatch.setattr(evaluation, "train_models", refuse)
    monkeypatch.setattr(evaluation, "train_easytrans", refuse)


def test_meta_train_checks_output_before_training(tmp_path, no_training):
    from transferability.cli._meta import meta_group

    a_file = tmp_path / "file"
    a_file.write_text("x")
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.md").write_text("the user's")
    for output, says in ((a_file, "is a file, not a directory"), (a_file / "models", "which is a file"),
                         (other, "holds other files than model files (notes.md)")):
        _one_line(_runner().invoke(meta_group, ["train", "--output", str(output), "--quiet"]), says)
    assert (other / "notes.md").read_text() == "the user's"


def test_the_model_directory_is_replaced_whole_or_not_at_all(models, tmp_path):
    before = {p.name: p.read_bytes() for p in models.iterdir()}

    def killed(d):  # the MetaTrans files are written, then the process is killed
        (d / MT).write_text("{}")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _files.write_model_directory(models, killed)
    assert {p.name: p.read_bytes() for p in models.iterdir()} == before
    assert sorted(p.name for p in models.parent.iterdir()) == ["models"]  # no temporary directory left
    load_models(models), load_easytrans(models)

    def new(d):
        shutil.copy(models_dir() / MT, d / MT)
        shutil.copy(models_dir() / _lgbm_file(models_dir(), MT), d)
        return [str(d / MT)]

    paths = _files.write_model_directory(models, new)
    assert paths == [str(models / MT)]
    assert sorted(p.name for p in models.iterdir()) == sorted([MT, _lgbm_file(models_dir(), MT)])  # no EasyTrans left
    assert sorted(p.name for p in models.parent.iterdir()) == ["models"]
    fresh = tmp_path / "a" / "b" / "models"
    _files.write_model_directory(fresh, new)
    load_models(fresh)


def test_a_manifest_changed_after_its_sibling_check_is_read_again(models):
    load_models(models)  # parses easytrans.json beside it for its store hash, and keeps it for one reader
    man = _read(models, ET)
    man["default_k"] = 0
    _write(models, ET, man)  # another size and file: not the document the check parsed
    with pytest.raises(InputError, match="field default_k must be an integer >= 1"):
        load_easytrans(models)
