"""The HTML report: its sections, that it is self-contained and escaped, the numbers it computes
beside the result objects, atomic writes and interruption, and every error path."""

import os
import re
import sys
from html.parser import HTMLParser

import numpy as np
import pytest
from numpy.testing import assert_allclose

from transferability.report import SECTIONS, divergence_standing, embed, feature_shift, nearest_stored_pairs, report, verdict_flags
from transferability.report._figures import ranking_figure, to_svg
from transferability.utils.validation import InputError

from report_helpers import EVIL_CLASS, EVIL_FEATURE, runner


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.tags, self.refs, self.flags = [], [], [], {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if "id" in a:
            self.ids.append(a["id"])
        for k, v in attrs:
            if k in ("src", "href", "xlink:href", "action", "poster", "srcset", "data"):
                self.refs.append(v)
        if "data-flag" in a:
            self.flags[a["data-flag"]] = a["data-raised"]


def parse(page):
    p = _Tags()
    p.feed(page)
    return p


# -- the page ------------------------------------------------------------------------------------
def test_cli_report_has_every_section_in_order(cli_report):
    _, page = cli_report
    p = parse(page)
    assert [i for i in p.ids if i in SECTIONS] == list(SECTIONS)
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<svg ") == 3  # ranking, divergences, embedding
    assert {"fallback", "out_of_distribution"} <= set(p.flags)


def test_report_is_self_contained(cli_report):
    _, page = cli_report
    p = parse(page)
    assert "script" not in p.tags and "link" not in p.tags and "iframe" not in p.tags
    # every reference is inside the page: a fragment or inline data
    assert p.refs and all(r.startswith("#") or r.startswith("data:") for r in p.refs), \
        sorted({r[:40] for r in p.refs if not r.startswith(("#", "data:"))})
    assert not re.search(r"url\(\s*['\"]?(https?:|//)", page)
    assert "@import" not in page and "<!DOCTYPE svg" not in page


def test_names_and_labels_are_escaped(cli_report):
    _, page = cli_report
    assert EVIL_FEATURE not in page and "<b>f0</b>" not in page
    from markupsafe import escape

    assert str(escape(EVIL_FEATURE)) in page
    assert "<script" not in page  # the class label is drawn as paths and its comment is dropped
    assert "alert(1)" not in page


def test_feature_names_come_from_the_csv_columns(cli_report):
    _, page = cli_report
    assert "sensor_" in page and "column 3" not in page
    assert "features are named by their 0-based column" not in page


def test_nearest_distance_agrees_between_verdict_and_neighbours(cli_report):
    _, page = cli_report
    verdict = re.search(r"nearest stored pair at distance ([0-9.]+)", page).group(1)
    section = page[page.index('id="neighbours"'):]
    first = re.search(r'<td class="n">([0-9.]+)</td>', section).group(1)
    assert verdict == first


def test_python_report_writes_what_it_returns_and_is_deterministic(tmp_path, capsys):
    from transferability.datasets import make_demo_pair

    src, tgt = make_demo_pair(n_source=120, n_target=100, random_state=1)
    out = tmp_path / "r.html"
    out.write_text("old")
    page = report(src.X, src.y, tgt.X, output=out, max_points=50, random_state=1)
    assert out.read_text(encoding="utf-8") == page
    assert "features are named by their 0-based column" in page  # arrays carry no names
    assert capsys.readouterr().err == ""  # no bar unless asked
    assert report(src.X, src.y, tgt.X, max_points=50, random_state=1, progress=True) == page
    assert "report" in capsys.readouterr().err  # the bar, on stderr
    assert os.listdir(tmp_path) == ["r.html"]


# -- interruption and atomic writes ----------------------------------------------------------------
def _interrupt(*args, **kwargs):
    raise KeyboardInterrupt


def test_cli_ctrl_c_leaves_the_old_file_and_no_temporary(csv_pair, tmp_path, monkeypatch):
    import transferability.meta.learners as learners
    from transferability.cli.main import cli

    monkeypatch.setattr(learners, "recommend", _interrupt)
    out = tmp_path / "r.html"
    out.write_text("old report")
    r = runner().invoke(cli, ["report", str(csv_pair / "source.csv"), str(csv_pair / "target.csv"), "-o", str(out)])
    assert r.exit_code == 130
    assert r.stderr.strip().count("\n") == 0 and r.stderr.startswith("error: interrupted")
    assert out.read_text() == "old report" and os.listdir(tmp_path) == ["r.html"]


def test_interrupted_write_leaves_the_old_file(tmp_path, monkeypatch):
    import transferability.utils.io as io
    from transferability.datasets import make_demo_pair

    src, tgt = make_demo_pair(n_source=120, n_target=100, random_state=0)
    out = tmp_path / "r.html"
    out.write_text("old report")
    monkeypatch.setattr(io.os, "replace", _interrupt)
    with pytest.raises(KeyboardInterrupt):
        report(src.X, src.y, tgt.X, output=out, max_points=20)
    assert out.read_text() == "old report" and os.listdir(tmp_path) == ["r.html"]


# -- error paths (each fails before any work) ----------------------------------------------------------
@pytest.fixture
def no_recommend(monkeypatch):
    import transferability.meta.learners as learners

    def boom(*a, **k):
        raise AssertionError("recommend ran before the input was checked")

    monkeypatch.setattr(learners, "recommend", boom)


@pytest.mark.parametrize("kwargs, match", [
    ({"embedding": "umap"}, "unknown embedding 'umap'"),
    ({"max_points": 1}, "max_points must be an integer >= 2"),
    ({"max_points": True}, "max_points must be an integer >= 2"),
    ({"top_features": 0}, "top_features must be an integer >= 1"),
    ({"n_neighbors": 2.5}, "n_neighbors must be an integer >= 1"),
    ({"base_estimator": "svm"}, "no MetaTrans model for base estimator 'svm'"),
    ({"models": "/nonexistent/models"}, "no MetaTrans models in /nonexistent/models"),
])
def test_bad_options(kwargs, match, no_recommend):
    rng = np.random.RandomState(0)
    with pytest.raises(InputError, match=match):
        report(rng.randn(20, 3), np.arange(20) % 2, rng.randn(20, 3), **kwargs)


def test_bad_output_paths(tmp_path, no_recommend):
    rng = np.random.RandomState(0)
    Xs, ys, Xt = rng.randn(20, 3), np.arange(20) % 2, rng.randn(20, 3)
    with pytest.raises(InputError, match="is a directory"):
        report(Xs, ys, Xt, output=tmp_path)
    with pytest.raises(InputError, match="does not exist"):
        report(Xs, ys, Xt, output=tmp_path / "missing" / "r.html")


def test_unlabelled_source_and_mismatched_pair(no_recommend):
    rng = np.random.RandomState(0)
    with pytest.raises(InputError, match="needs source labels"):
        report(rng.randn(20, 3), None, rng.randn(20, 3))
    with pytest.raises(InputError, match="source has 3 features but target has 4"):
        report(rng.randn(20, 3), np.arange(20) % 2, rng.randn(20, 4))


def test_missing_extras_name_the_install(monkeypatch, no_recommend):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    rng = np.random.RandomState(0)
    with pytest.raises(InputError, match=r"needs matplotlib: pip install 'transferability\[report\]'"):
        report(rng.randn(20, 3), np.arange(20) % 2, rng.randn(20, 3))


@pytest.mark.parametrize("args, match", [
    ([], "Missing option '-o' / '--output'"),
    (["-o", "{d}/r.html", "--preprocess", "bogus"], "'--preprocess': 'bogus' is not one of 'none', 'zscore'"),
    (["-o", "{d}/r.html", "--embedding", "umap"], "'umap' is not one of"),
    (["-o", "{d}/r.html", "--max-points", "1"], "1 is not in the range x>=2"),
    (["-o", "{d}/nowhere/r.html"], "does not exist"),
    (["-o", "{d}/r.html", "--base-estimator", "svm"], "unknown base estimator 'svm'; choose one of 1nn, logreg"),
    (["-o", "{d}/r.html", "--base-estimator", "linear_svm"], "no MetaTrans model for base estimator 'linear_svm'"),
])
def test_cli_bad_usage_is_one_line_exit_2(csv_pair, tmp_path, args, match, no_recommend):
    from transferability.cli.main import cli

    args = [a.replace("{d}", str(tmp_path)) for a in args]
    r = runner().invoke(cli, ["report", str(csv_pair / "source.csv"), str(csv_pair / "target.csv"), *args])
    assert r.exit_code == 2, r.output
    assert r.stderr.startswith("error: ") and r.stderr.strip().count("\n") == 0
    assert match in r.stderr
    assert os.listdir(tmp_path) == []


def test_cli_unlabelled_source_is_one_line(csv_pair, tmp_path, no_recommend):
    from transferability.cli.main import cli

    r = runner().invoke(cli, ["report", str(csv_pair / "target.csv"), str(csv_pair / "target.csv"),
                              "-o", str(tmp_path / "r.html")])
    assert r.exit_code == 2 and "has no labels" in r.stderr and r.stderr.strip().count("\n") == 0


def test_cli_help_lists_the_options():
    from transferability.cli.main import cli

    r = runner().invoke(cli, ["report", "--help"])
    assert r.exit_code == 0
    for opt in ("--output", "--preprocess", "--base-estimator", "--label-column", "--seed", "--models",
                "--embedding", "--max-points", "--target-labels", "--quiet"):
        assert opt in r.stdout
    # the shared option types of score/recommend: their choices are listed
    assert "sum-zscore" in r.stdout and "1nn|logreg|linear_svm" in r.stdout


# -- divergences against the store ---------------------------------------------------------------
def _records(key, values):
    return [{"meta_features": {key: v}} for v in values]


def test_divergence_standing_counts_smaller_shifts():
    recs = _records("div_mmd", [1.0, 2.0, 3.0, 4.0, None, float("nan")]) + [{"name": "no features"}]
    (s,) = divergence_standing({"mmd": 3.5}, recs)
    assert s["n_stored"] == 4 and s["shift_percentile"] == 75.0 and not s["similarity"]
    assert_allclose(s["stored"], [1, 2, 3, 4])
    (tie,) = divergence_standing({"mmd": 3.0}, recs)
    assert tie["shift_percentile"] == 50.0  # "larger than": ties do not count


def test_divergence_standing_reverses_overlap():
    # knn_overlap: 1 = mixed, 0 = disjoint; a lower overlap is a larger shift
    (s,) = divergence_standing({"knn_overlap": 0.4}, _records("div_knn_overlap", [0.1, 0.5, 0.9]))
    assert s["similarity"] and s["shift_percentile"] == pytest.approx(200 / 3)


def test_divergence_standing_without_stored_values_and_non_finite():
    out = divergence_standing({"coral": 0.3, "mmd": float("nan"), "frechet": None}, _records("div_mmd", [1.0]))
    assert [s["name"] for s in out] == ["coral"]
    assert out[0]["shift_percentile"] is None and out[0]["n_stored"] == 0


# -- per-feature shift ---------------------------------------------------------------------------------
def test_feature_shift_matches_its_formula():
    rng = np.random.RandomState(0)
    Xs = rng.randn(300, 4) * [1, 2, 1, 1]
    Xt = rng.randn(200, 4) * [1, 2, 3, 1] + [0.5, 0, 0, -2]
    s = feature_shift(Xs, Xt, list("abcd"), top=4)
    pooled = np.vstack([Xs, Xt])
    smd = (Xt.mean(0) - Xs.mean(0)) / pooled.std(0)
    ratio = Xt.var(0) / Xs.var(0)
    got = {r["name"]: r for r in s["by_mean"]}
    for j, n in enumerate("abcd"):
        assert_allclose(got[n]["smd"], smd[j], rtol=1e-10)
        assert_allclose(got[n]["variance_ratio"], ratio[j], rtol=1e-10)
    assert [r["name"] for r in s["by_mean"]][:2] == ["d", "a"]
    assert s["by_variance"][0]["name"] == "c"
    assert s["named"] and s["n_features"] == 4 and s["n_large_smd"] == int(np.sum(np.abs(smd) > 0.5))
    assert_allclose(s["mean_abs_smd"], np.abs(smd).mean(), rtol=1e-10)


def test_feature_shift_constant_features_and_default_names():
    Xs = np.array([[1.0, 5.0, 0.0], [1.0, 5.0, 1.0], [1.0, 5.0, 2.0]])
    Xt = np.array([[1.0, 4.0, 0.0], [1.0, 6.0, 0.0], [1.0, 8.0, 0.0]])
    s = feature_shift(Xs, Xt, top=3)
    by_index = {r["index"]: r for r in s["by_variance"]}
    assert by_index[0]["variance_ratio"] == 1.0  # constant in both
    assert by_index[1]["variance_ratio"] == np.inf  # constant in the source only
    assert by_index[2]["variance_ratio"] == 0.0  # constant in the target only
    assert [r["index"] for r in s["by_variance"]][:2] == [1, 2]  # both infinitely changed, column order
    assert not s["named"] and by_index[0]["name"] == "column 0"
    assert all(np.isfinite(r["smd"]) for r in s["by_mean"])


def test_feature_shift_errors():
    X = np.zeros((5, 3))
    with pytest.raises(InputError, match="2 feature names for 3 features"):
        feature_shift(X, X, ["a", "b"])
    with pytest.raises(InputError, match="top must be a positive integer"):
        feature_shift(X, X, top=0)
    with pytest.raises(InputError, match="source has 3 features but target has 2"):
        feature_shift(X, np.zeros((5, 2)))


# -- 2-D view ------------------------------------------------------------------------------------------
def test_embed_subsamples_and_keeps_labels_aligned():
    rng = np.random.RandomState(0)
    ys = np.arange(500) % 5
    Xs = np.column_stack([ys * 10.0, rng.randn(500, 3) * 0.01])  # PC1 is the label
    Xt = rng.randn(80, 4)
    e = embed(Xs, ys, Xt, max_per_domain=100, random_state=0)
    assert e["source"].shape == (100, 2) and e["target"].shape == (80, 2)
    assert (e["n_source"], e["n_target"]) == (500, 80)
    # the subsampled labels are those of the subsampled rows: PC1 is monotone in the label
    order = np.argsort(e["source"][:, 0])
    labels = e["source_labels"][order]
    assert np.all(np.diff(labels) >= 0) or np.all(np.diff(labels) <= 0)
    assert e["explained_variance"][0] > 0.9
    again = embed(Xs, ys, Xt, max_per_domain=100, random_state=0)
    assert_allclose(again["source"], e["source"])


def test_embed_tsne_and_one_feature():
    rng = np.random.RandomState(0)
    e = embed(rng.randn(30, 5), np.arange(30) % 2, rng.randn(25, 5), method="tsne", random_state=0)
    assert e["source"].shape == (30, 2) and e["explained_variance"] is None
    one = embed(rng.randn(10, 1), None, rng.randn(8, 1))
    assert one["source"].shape == (10, 2) and one["source_labels"] is None


def test_embed_errors():
    X = np.zeros((5, 2))
    with pytest.raises(InputError, match="unknown embedding 'umap'"):
        embed(X, None, X, method="umap")
    with pytest.raises(InputError, match="max_per_domain must be an integer >= 2"):
        embed(X, None, X, max_per_domain=1)


# -- nearest stored pairs ------------------------------------------------------------------------------
def test_a_stored_pair_is_its_own_nearest_neighbour():
    from transferability.meta.learners import load_models, load_records

    model = load_models().model("1nn")
    records = load_records()
    rec = next(r for r in records if r["name"] == model.knn.names_[0])
    (first, second) = nearest_stored_pairs(rec["meta_features"], model, records, "1nn", n=2)
    assert first["name"] == rec["name"] and first["distance"] == pytest.approx(0.0, abs=1e-9)
    assert second["distance"] >= first["distance"]
    assert first["family"] == rec["family"] and first["preprocess"] == rec["preprocess"]
    na = [o["target_accuracy"] for o in rec["outcomes"] if o["method"] == "no_adapt" and o["base_estimator"] == "1nn"]
    assert_allclose(first["accuracy"]["no_adapt"], np.mean(na))
    assert first["effect"]["no_adapt"] == pytest.approx(1.0)
    assert set(first["effect"]) == set(model.methods)


def test_nearest_stored_pairs_errors():
    from transferability.meta.learners import load_models

    model = load_models().model("1nn")
    with pytest.raises(InputError, match="meta-features lack"):
        nearest_stored_pairs({}, model, [], "1nn")
    with pytest.raises(InputError, match="n must be a positive integer"):
        nearest_stored_pairs({}, model, [], "1nn", n=0)


def test_nearest_stored_pairs_without_records_has_effects_only():
    from transferability.meta.learners import load_models, load_records

    model = load_models().model("1nn")
    feats = load_records()[0]["meta_features"]
    (nb,) = nearest_stored_pairs(feats, model, [], "1nn", n=1)
    assert nb["accuracy"] == {} and nb["family"] is None and len(nb["effect"]) == len(model.methods)


# -- verdict flags ---------------------------------------------------------------------------------------
def test_flags_fallback_and_out_of_distribution():
    flags = verdict_flags({"fallback": True, "candidate": "fixed", "best": "meda", "default": "meda",
                           "in_distribution": False, "nearest_distance": 7.5, "ood_threshold": 5.0,
                           "transferability": {"in_distribution": False}})
    by = {f["flag"]: f for f in flags}
    assert by["fallback"]["raised"] and "no learner beat it" in by["fallback"]["text"]
    assert by["out_of_distribution"]["raised"] and "7.50" in by["out_of_distribution"]["text"]
    assert by["score_out_of_distribution"]["raised"]


def test_flags_absent_fields_give_no_flags():
    assert verdict_flags({}) == []
    by = {f["flag"]: f for f in verdict_flags({"fallback": False, "in_distribution": True})}
    assert not by["fallback"]["raised"] and not by["out_of_distribution"]["raised"]


@pytest.mark.parametrize("rec, flag, raised, text", [
    ({"abstained": True, "abstention_reason": "a target class has 2 samples"}, "abstained", True, "2 samples"),
    ({"abstention": {"abstained": False, "reason": "enough samples"}}, "abstention", False, "enough samples"),
    ({"abstain": "pair far outside the store"}, "abstain", True, "far outside"),
    ({"transferability": {"abstained": True, "reason": "too small"}}, "score_abstained", True, "too small"),
])
def test_flags_show_abstention_when_present(rec, flag, raised, text):
    by = {f["flag"]: f for f in verdict_flags(rec)}
    assert by[flag]["raised"] is raised and text in by[flag]["text"]
    assert not any(f.endswith("_reason") for f in by)


def test_flags_show_a_rule_and_notes():
    flags = verdict_flags({"abstained": False, "rule": "no_signal", "reason": "source labels carry no signal",
                           "notes": ["one note"]})
    by = {f["flag"]: f for f in flags}
    assert not by["abstained"]["raised"]
    assert by["rule"]["raised"] and by["rule"]["text"] == "no_signal: source labels carry no signal"
    assert by["note"]["text"] == "one note" and not by["note"]["raised"]
    ab = {f["flag"]: f for f in verdict_flags({"abstained": True, "rule": "tiny_target", "reason": "2 samples"})}
    assert ab["abstained"]["text"] == "2 samples (rule: tiny_target)" and "rule" not in ab


def minimal_context(**over):
    """The smallest context the template renders: no ranking, no store, no figures."""
    ctx = {"rec": {"n_source": 1, "n_target": 1, "n_features": 1, "base_estimator": "1nn",
                   "preprocess": "none", "ranking": [], "interval_coverage": 0.8, "candidate": "fixed",
                   "default": "meda", "best": None, "excluded_by_budget": [], "ood_threshold": None},
           "score": None, "flags": [], "best": None, "standing": [], "n_records": 0,
           "shift": {"n_features": 1, "named": False, "by_mean": [], "by_variance": [], "mean_abs_smd": 0.0,
                     "n_large_smd": 0},
           "embedding": {"method": "pca"}, "n_source_classes": None, "neighbours": [], "methods": [],
           "figures": {"ranking": "", "divergences": "", "embedding": ""}, "source_name": "s",
           "target_name": "t", "command": None, "version": "0", "seed": 0, "max_points": 2,
           "models_dir": "shipped", "sections": SECTIONS}
    return {**ctx, **over}


def test_abstention_is_rendered_in_the_page():
    from transferability.report._report import render

    page = render(minimal_context(flags=verdict_flags({"abstained": True, "abstention_reason": "tiny <target>"})))
    assert 'data-flag="abstained" data-raised="true"' in page and "tiny &lt;target&gt;" in page
    assert "no score" in page


# -- figures -------------------------------------------------------------------------------------------------
def test_svg_is_inline_ready_and_escapes_text():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 2))
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], label=EVIL_CLASS)
    ax.legend()
    svg = to_svg(fig, "test")
    assert svg.startswith('<svg role="img" aria-label="test" ')
    assert "<!--" not in svg and "<metadata" not in svg and "DOCTYPE" not in svg and "<script" not in svg


def test_ranking_figure_tolerates_missing_runtimes():
    ranking = [{"method": "meda", "predicted_effect": 1.2, "interval": [0.9, 1.5], "effective": True,
                "predicted_runtime_s": float("nan")},
               {"method": "no_adapt", "predicted_effect": 1.0, "interval": [1.0, 1.0], "effective": False}]
    assert "<svg" in ranking_figure(ranking, 0.8)


# -- with a few labelled target rows: the verified table --------------------------------------------
def _verified(**over):
    """A ``verified`` object as ``recommend(..., target_labels=...)`` returns it (see docs/cli.md)."""
    v = {"n_labelled": 20, "labels": "label file /home/someone/private/labels.csv",
         "rule": {"start": "zero_label", "start_method": "meda", "c": 1.0, "chosen_by": "default"},
         "methods": [
             {"method": "meda", "runtime_s": 0.5, "error": None, "correct": 12, "accuracy": 0.6,
              "interval": [0.39, 0.78]},
             {"method": "jda", "runtime_s": 0.2, "error": None, "correct": 18, "accuracy": 0.9,
              "interval": [0.7, 0.97]},
             {"method": "kmm", "runtime_s": 0.1, "error": "ValueError: singular", "correct": None,
              "accuracy": None, "interval": None},
             {"method": "tca", "runtime_s": 0.3, "error": None, "correct": 18, "accuracy": 0.9,
              "interval": [0.7, 0.97]}],
         "not_run": [{"method": "msda", "reason": "predicted 9.00 s, 1.00 s of the budget left"}],
         "complete": False, "pick": "tca", "zero_label_pick": "meda", "changed": True,
         "why": "tca leads meda by 30.0 points on the 20 labelled rows, 3.1 paired standard errors",
         "lead": 0.3, "lead_se": 0.097,
         "kshot": {"accuracy": 0.75, "correct": 15, "interval": [0.53, 0.89], "protocol": "leave-one-out"},
         "worth_transferring": True, "worth_lead": 0.15, "worth_lead_se": 0.1, "worth_settled": False,
         "elapsed_s": 1.0}
    return {**v, **over}


def test_verified_table_orders_marks_and_names_the_label_file_by_its_base_name():
    from transferability.report import verified_table

    t = verified_table(_verified())
    assert [(r["method"], r["status"]) for r in t["rows"]] == [
        ("tca", "ran"), ("jda", "ran"), ("meda", "ran"), ("kmm", "failed"), ("msda", "not run")]  # tie: pick first
    by = {r["method"]: r for r in t["rows"]}
    assert by["tca"]["notes"] == ["verified pick"] and by["meda"]["notes"] == ["zero-label pick"]
    assert by["kmm"]["notes"] == ["ValueError: singular"] and "budget left" in by["msda"]["notes"][0]
    assert_allclose(by["tca"]["vs_kshot"], 0.15) and by["kmm"]["vs_kshot"] is None
    assert t["labels"] == "label file labels.csv" and t["verified"] and t["changed"] and t["pick"] == "tca"
    fixed = verified_table(_verified(rule={"start": "fixed", "start_method": "jda", "c": 1.5, "chosen_by": "x"}))
    assert {r["method"]: r["notes"] for r in fixed["rows"]}["jda"] == ["the rule's start"]
    assert verified_table(_verified(labels="target labels"))["labels"] == "target labels"


def test_verified_section_renders_the_pick_the_change_and_the_kshot_verdict():
    from transferability.report import page_sections, verified_table
    from transferability.report._figures import verified_figure
    from transferability.report._report import render

    t = verified_table(_verified())
    fig = verified_figure(t)
    assert fig.startswith('<svg role="img" aria-label="verified" ')
    page = render(minimal_context(verified=t, sections=page_sections(True),
                                  figures={"ranking": "", "divergences": "", "embedding": "", "verified": fig}))
    p = parse(page)
    assert [i for i in p.ids if i in page_sections(True)] == ["verdict", "verified", "ranking", "divergences",
                                                               "feature-shift", "embedding", "neighbours"]
    assert "verified on 20 labelled target rows: changed from meda" in page
    assert "Verified pick: tca</b>\n  (changed from meda)" in page
    section = page[page.index('<section id="verified">'):page.index('<section id="ranking">')]
    assert section.count("<svg ") == 1 and section.count("data-method=") == 5
    assert 'data-method="kmm" data-status="failed"' in section and "ValueError: singular" in section
    assert "70.0–97.0" in section and "+15.0" in section  # the interval and the lead over k-shot, in %
    assert "tca leads it by 15.0 points on the same rows" in section
    assert "not settled by these rows" in section and "Not every candidate ran" in section
    assert "/home/someone" not in page and "label file labels.csv" in section


def test_verified_section_when_no_method_finished_has_no_figure():
    from transferability.report import page_sections, verified_table
    from transferability.report._report import render

    v = _verified(methods=[], complete=False, pick="meda", changed=False, worth_transferring=None,
                  worth_lead=None, worth_lead_se=None, worth_settled=False,
                  why="no method finished within the budget: the zero-label pick stands, unverified")
    page = render(minimal_context(verified=verified_table(v), sections=page_sections(True)))
    section = page[page.index('<section id="verified">'):page.index('<section id="ranking">')]
    assert "<svg" not in section and "Nothing verified:</b> no method finished within the budget" in section
    assert "no empirical verdict" in section and 'id="verdict-kshot"' not in page
    assert "not verified: no method finished" in page  # the verdict says so too


def test_lead_in_words():
    from transferability.report._report import _lead

    assert _lead(0.035, "it") == "leads it by 3.5 points" and _lead(-0.1, "it") == "trails it by 10.0 points"
    assert _lead(0.0, "it") == "scores the same as it" and _lead(1e-5, "it") == "is within 0.1 point of it"


def test_label_value_is_shown_in_the_verdict_when_present():
    from transferability.report._report import render

    lv = {"n": [0, 10, 20, 50], "expected_regret": [2.1, 1.5, 1.4, None], "pairs": [25, 25, 25, 0],
          "text": "labelling 20 target rows cuts the expected regret from 2.1 to 1.4 points (`recommend "
                  "--target-labels FILE` runs <the check>)"}
    page = render(minimal_context(label_value=lv))
    verdict = page[page.index('<section id="verdict">'):page.index("</section>")]
    assert 'id="label-value"' in verdict and "<code>recommend --target-labels FILE</code>" in verdict
    assert "&lt;the check&gt;" in verdict and "<td class=\"n\">n/a</td>" in verdict
    assert 'id="label-value"' not in render(minimal_context())
    assert 'id="label-value"' not in render(minimal_context(label_value={**lv, "text": None}))


def test_cli_report_without_labels_has_no_verified_section(cli_report):
    _, page = cli_report
    assert 'id="verified"' not in page and 'id="verdict-verified"' not in page and "verified" not in parse(page).ids
    assert 'aria-label="verified"' not in page
    assert 'id="label-value"' in page  # the shipped models carry label_value.json


def test_cli_report_with_target_labels_has_the_verified_section(cli_report_labelled, csv_pair):
    from transferability.report import page_sections

    _, page = cli_report_labelled
    p = parse(page)
    assert [i for i in p.ids if i in page_sections(True)] == list(page_sections(True))
    assert page.count("<svg ") == 4  # ranking, divergences, embedding, verified
    section = page[page.index('<section id="verified">'):page.index('<section id="ranking">')]
    assert "Verified on 20 labelled target rows" in section and "label file target_labels.csv" in section
    assert section.count('data-status="ran"') == 12  # every method ran on this small pair
    pick = re.search(r"<b>Verified pick: (\w+)</b>", section).group(1)
    big = re.search(r'id="verdict-method">.*?<div class="big">(\w+)</div>', page, re.S).group(1)
    assert pick == big  # the verdict names the verified pick
    assert str(csv_pair) not in page  # the label file by its base name only
    assert "--target-labels target_labels.csv" in page  # the command at the foot
    # the same page from Python, with the labels as a (rows, labels) pair
    import csv

    from transferability.datasets import load_pair

    pair = load_pair(str(csv_pair / "source.csv"), str(csv_pair / "target.csv"))
    with open(csv_pair / "target_labels.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    html = report(pair.X_source, pair.y_source, pair.X_target, feature_names=pair.source.meta.get("feature_names"),
                  target_labels=([int(r["row"]) for r in rows], [r["label"] for r in rows]))
    py = html[html.index('<section id="verified">'):html.index('<section id="ranking">')]
    assert re.findall(r'data-method="(\w+)"', py) == re.findall(r'data-method="(\w+)"', section)
    assert re.search(r"<b>Verified pick: (\w+)</b>", py).group(1) == pick


def test_cli_report_with_labels_is_self_contained(cli_report_labelled):
    _, page = cli_report_labelled
    p = parse(page)
    assert "script" not in p.tags and "link" not in p.tags
    assert all(r.startswith("#") or r.startswith("data:") for r in p.refs)


@pytest.mark.parametrize("content, match", [
    ("row,label\n999,walk\n", "row 999 is not a target row"),
    ("row,label\n3,fly\n", "label 'fly' is not a source class"),
    ("row,label\n3,walk\n3,run\n", "target row 3 is labelled more than once"),
    ("idx,label\n3,walk\n", "has no 'row' and 'label' columns"),
])
def test_cli_bad_label_file_is_one_line_exit_2_and_writes_nothing(csv_pair, tmp_path, content, match):
    from transferability.cli.main import cli

    labels = tmp_path / "labels.csv"
    labels.write_text(content)
    out = tmp_path / "r.html"
    r = runner().invoke(cli, ["report", str(csv_pair / "source.csv"), str(csv_pair / "target.csv"), "-o", str(out),
                              "--target-labels", str(labels)])
    assert r.exit_code == 2, r.output
    assert r.stderr.startswith("error: ") and r.stderr.strip().count("\n") == 0 and match in r.stderr
    assert not out.exists()


def test_python_report_passes_target_labels_to_recommend(monkeypatch):
    import transferability.meta.learners as learners

    seen = {}

    def stop(*args, **kwargs):
        seen.update(kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(learners, "recommend", stop)
    rng = np.random.RandomState(0)
    with pytest.raises(KeyboardInterrupt):
        report(rng.randn(20, 3), np.arange(20) % 2, rng.randn(20, 3), target_labels={0: 1, 3: 0}, progress=False)
    assert seen["target_labels"] == {0: 1, 3: 0} and seen["progress"] is False


def test_cli_budget_is_passed_on_and_checked(csv_pair, tmp_path):
    from report_helpers import runner

    from transferability.cli.main import cli

    out = tmp_path / "budget.html"
    r = runner().invoke(cli, ["report", str(csv_pair / "source.csv"), str(csv_pair / "target.csv"), "-o", str(out),
                              "--budget", "0", "--quiet"])
    assert r.exit_code == 2 and "--budget must be a positive number" in r.stderr and not out.exists()
    r = runner().invoke(cli, ["report", str(csv_pair / "source.csv"), str(csv_pair / "target.csv"), "-o", str(out),
                              "--budget", "600", "--target-labels", str(csv_pair / "target_labels.csv"), "--quiet"])
    assert r.exit_code == 0, r.stderr
    page = out.read_text()
    assert 'id="verified"' in page and "--budget 600" in page
