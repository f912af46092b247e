"""``transferability recommend --target-labels``: the verified object, its readable form, and one
line for every bad label file (exit 2)."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from transferability.cli._recommend import recommend_cmd
from transferability.cli.main import cli


def _runner():
    try:
        return CliRunner(mix_stderr=False)
    except TypeError:  # click >= 8.2 keeps stderr apart by default
        return CliRunner()


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    from transferability.datasets import make_demo_pair

    d = tmp_path_factory.mktemp("pair")
    src, tgt = make_demo_pair(n_source=150, n_target=120, random_state=1)
    np.savez(d / "s.npz", X=src.X, y=src.y)
    np.savez(d / "t.npz", X=tgt.X)
    rows = np.arange(0, 120, 6)
    (d / "labels.csv").write_text("row,label\n" + "".join(f"{r},{tgt.y[r]}\n" for r in rows))
    return d


def test_json_has_the_verified_object(pair):
    r = _runner().invoke(recommend_cmd, [str(pair / "s.npz"), str(pair / "t.npz"), "--target-labels",
                                         str(pair / "labels.csv"), "--json"])
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    v = out["verified"]
    assert v["n_labelled"] == 20 and v["pick"] == out["best"] == out["ranking"][0]["method"]
    assert len(v["methods"]) + len(v["not_run"]) == 12
    assert set(v["kshot"]) >= {"accuracy", "interval", "protocol"} and "worth_transferring" in v
    assert v["labels"].startswith("label file ")


def test_readable_output_ends_with_the_verified_table(pair):
    r = _runner().invoke(recommend_cmd, [str(pair / "s.npz"), str(pair / "t.npz"), "--target-labels",
                                         str(pair / "labels.csv"), "--top", "3"])
    assert r.exit_code == 0, r.stderr
    text = r.stdout
    assert "verified on 20 labelled target rows" in text and "verified pick:" in text
    assert "k-shot baseline (leave-one-out on the 20 labelled rows" in text
    # --top shortens the ranking, not the verification
    assert text.count("/20 ") == 12


@pytest.mark.parametrize("content,needle", [
    ("row,label\n500,0\n", "row 500 is not a target row (the target has 120 rows, 0 .. 119)"),
    ("row,label\n1,7\n", "label '7' is not a source class"),
    ("row,label\n1,0\n1,1\n", "target row 1 is labelled more than once"),
    ("row,label\nx1,0\n", "'x1' is not a non-negative integer"),
])
def test_bad_label_files_exit_2_with_one_line(pair, tmp_path, content, needle):
    bad = tmp_path / "bad.csv"
    bad.write_text(content)
    r = _runner().invoke(cli, ["recommend", str(pair / "s.npz"), str(pair / "t.npz"), "--target-labels", str(bad)])
    assert r.exit_code == 2
    assert needle in r.stderr and len(r.stderr.strip().splitlines()) == 1 and r.stdout == ""


def test_a_missing_label_file_exits_2(pair, tmp_path):
    r = _runner().invoke(cli, ["recommend", str(pair / "s.npz"), str(pair / "t.npz"), "--target-labels",
                               str(tmp_path / "none.csv")])
    assert r.exit_code == 2 and "label file" in r.stderr and "is missing" in r.stderr


def test_caltech_to_amazon_with_20_labelled_rows(shared_data, tmp_path):
    """Issue 18's 'done when': the verified object on a real pair, exit 0."""
    from transferability.datasets import load_domain

    d = shared_data / "office_caltech10_surf"
    amazon = load_domain(str(d / "amazon_SURF_L10.mat"))
    rows = np.random.default_rng(0).choice(len(amazon.y), 20, replace=False)
    labels = tmp_path / "labels.csv"
    labels.write_text("row,label\n" + "".join(f"{r},{amazon.y[r]}\n" for r in rows))
    r = _runner().invoke(cli, ["recommend", str(d / "Caltech10_SURF_L10.mat"), str(d / "amazon_SURF_L10.mat"),
                               "--preprocess", "zscore", "--target-labels", str(labels), "--json"])
    assert r.exit_code == 0, r.stderr
    v = json.loads(r.stdout)["verified"]
    assert v["n_labelled"] == 20 and len(v["methods"]) == 12
    assert all(m["accuracy"] is not None for m in v["methods"])
    assert v["pick"] in {m["method"] for m in v["methods"]}


def test_meta_labels_refuses_bad_inputs_in_one_line(tmp_path):
    from transferability.cli._meta import meta_group
    from transferability.meta.learners._modelfiles import models_dir

    r = _runner().invoke(meta_group, ["labels", "--models", str(models_dir()), "--data-dir", str(tmp_path / "none")])
    assert r.exit_code == 2 and "--data-dir: not a directory" in r.stderr
    r = _runner().invoke(meta_group, ["labels", "--models", str(tmp_path / "none"), "--data-dir", str(tmp_path)])
    assert r.exit_code == 2 and len(r.stderr.strip().splitlines()) == 1
    r = _runner().invoke(meta_group, ["labels", "--models", str(models_dir()), "--data-dir", str(tmp_path),
                                      "--n-jobs", "0"])
    assert r.exit_code == 2 and "n_jobs" in r.stderr


def test_meta_labels_refuses_models_of_another_store(tmp_path):
    """The shipped models with a user's store on top: another store hash, refused before any work."""
    from transferability.cli._meta import meta_group
    from transferability.meta.learners._table import load_records
    from transferability.meta_store import MetaStore, import_records

    store = tmp_path / "mine.sqlite"
    from transferability.meta_store import pair_key

    recs = [dict(r) for r in load_records()[:1]]
    recs[0]["preprocess"] = "l2" if recs[0]["preprocess"] != "l2" else "zscore"  # not a shipped pair
    recs[0]["key"] = pair_key(recs[0]["source"]["fingerprint"], recs[0]["target"]["fingerprint"], recs[0]["preprocess"])
    recs[0]["name"] = "mine/pair"
    with MetaStore(str(store)) as st:
        import_records(st, recs)
    from transferability.meta.learners._modelfiles import models_dir

    r = _runner().invoke(meta_group, ["labels", "--models", str(models_dir()), "--data-dir", str(tmp_path),
                                      "--store", str(store)])
    assert r.exit_code == 2 and "trained on another store" in r.stderr, r.stderr
