import json

import numpy as np
import pytest
from click.testing import CliRunner

from transferability.cli.main import cli
from transferability.datasets._shifts import make_shift_pair


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def spec_files(tmp_path):
    for i in range(2):
        Xs, ys, Xt, yt = make_shift_pair("label_shift", "wine", 0.5, i, n_max=60)
        np.savez(tmp_path / f"s{i}.npz", X=Xs, y=ys)
        np.savez(tmp_path / f"t{i}.npz", X=Xt, y=yt)
    pairs = [{"name": f"mine-{i}", "family": "mine", "preprocess": "zscore",
              "source": {"path": f"s{i}.npz"}, "target": {"path": f"t{i}.npz"}} for i in range(2)]
    js = tmp_path / "pairs.json"
    js.write_text(json.dumps({"pairs": pairs}))
    toml = tmp_path / "pairs.toml"
    toml.write_text("".join(
        f'[[pairs]]\nname = "{p["name"]}"\nfamily = "mine"\npreprocess = "zscore"\n'
        f'source = {{ path = "{p["source"]["path"]}" }}\ntarget = {{ path = "{p["target"]["path"]}" }}\n\n'
        for p in pairs))
    return js, toml


@pytest.mark.parametrize("which", [0, 1])
def test_build_from_spec_file(runner, tmp_path, spec_files, which):
    store = tmp_path / f"u{which}.sqlite"
    res = runner.invoke(cli, ["store", "build", "--spec", str(spec_files[which]), "--store", str(store),
                              "--methods", "no_adapt,sa", "--quiet", "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["pairs_with_work"] == 2 and summary["outcomes_added"] == 2 * 2 * 2
    res = runner.invoke(cli, ["store", "stats", "--store", str(store), "--json"])
    stats = json.loads(res.stdout)
    for key in ("n_pairs", "n_outcomes", "n_families", "methods", "base_estimators", "n_failed", "schema_version"):
        assert key in stats
    assert stats["n_pairs"] == 2 and stats["families"] == {"mine": 2} and stats["kshot_k"][:4] == [1, 3, 5, 10]
    assert stats["n_tasks"] == 2 and stats["n_bases"] == 1 and stats["n_ceilings"] == 2 * 2
    assert set(stats["per_family"]) == {"mine"} and stats["per_family"]["mine"]["tasks"] == 2


def test_export_import_cli(runner, tmp_path, spec_files):
    a, b = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    assert runner.invoke(cli, ["store", "build", "--spec", str(spec_files[0]), "--store", str(a),
                               "--methods", "no_adapt", "--quiet"]).exit_code == 0
    for ext in (".jsonl", ".parquet"):
        out = tmp_path / f"r{ext}"
        assert runner.invoke(cli, ["store", "export", "--store", str(a), "-o", str(out)]).exit_code == 0
        res = runner.invoke(cli, ["store", "import", str(out), "--store", str(b)])
        assert res.exit_code == 0, res.output
    res = runner.invoke(cli, ["store", "stats", "--store", str(b), "--json"])
    assert json.loads(res.stdout)["n_pairs"] == 2  # the second import added nothing


def test_resumed_build_reports_pairs_of_another_feature_schema(runner, tmp_path, spec_files):
    import sqlite3

    from transferability.meta import FEATURE_SCHEMA_VERSION

    store = tmp_path / "old.sqlite"
    args = ["store", "build", "--spec", str(spec_files[0]), "--store", str(store), "--quiet"]
    res = runner.invoke(cli, args + ["--methods", "no_adapt"])
    assert res.exit_code == 0 and "note:" not in res.stderr
    with sqlite3.connect(store) as con:  # as if recorded by an older release
        con.execute("UPDATE pairs SET feature_schema = ? WHERE name = 'mine-0'", (FEATURE_SCHEMA_VERSION - 1,))
    con.close()
    res = runner.invoke(cli, args + ["--methods", "no_adapt,sa"])
    assert res.exit_code == 0, res.output
    assert f"note: 1 pairs in the store keep meta-features of another feature schema than this build's " \
           f"({FEATURE_SCHEMA_VERSION})" in res.stderr
    res = runner.invoke(cli, args + ["--methods", "no_adapt,sa", "--json"])
    assert json.loads(res.stdout)["pairs_other_feature_schema"] == 1
    res = runner.invoke(cli, ["store", "stats", "--store", str(store)])
    assert f"feature schemas: {FEATURE_SCHEMA_VERSION - 1}, {FEATURE_SCHEMA_VERSION}" in res.stdout


def test_store_path_uses_environment(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("TRANSFERABILITY_STORE", str(tmp_path / "env.sqlite"))
    res = runner.invoke(cli, ["store", "path"])
    assert res.exit_code == 0 and res.stdout.strip() == str(tmp_path / "env.sqlite")


@pytest.mark.parametrize("args, match", [
    (["store", "build", "--store", "{tmp}/x.sqlite"], "exactly one of --recipe or --spec"),
    (["store", "build", "--recipe", "default", "--store", "{tmp}/x.sqlite"], "--data-dir"),
    (["store", "build", "--recipe", "real", "--data-dir", "{tmp}/nope", "--store", "{tmp}/x.sqlite"], "not a directory"),
    (["store", "build", "--spec", "{tmp}/missing.json", "--store", "{tmp}/x.sqlite"], "spec file not found"),
    (["store", "build", "--spec", "{tmp}/broken.json", "--store", "{tmp}/x.sqlite"], "cannot parse spec file"),
    (["store", "build", "--recipe", "generated", "--methods", "nope", "--store", "{tmp}/x.sqlite"], "unknown method"),
    (["store", "build", "--recipe", "generated", "--store", "{tmp}/no/dir/x.sqlite"], "no such directory"),
    (["store", "stats", "--store", "{tmp}/missing.sqlite"], "no meta store"),
    (["store", "import", "{tmp}/missing.jsonl", "--store", "{tmp}/x.sqlite"], "file not found"),
    (["store", "import", "{tmp}/broken.json", "--store", "{tmp}/x.sqlite"], "not a JSON record"),
    (["store", "export", "--store", "{tmp}/missing.sqlite", "-o", "{tmp}/o.jsonl"], "no meta store"),
])
def test_store_cli_errors(runner, tmp_path, args, match):
    (tmp_path / "broken.json").write_text("{not json")
    res = runner.invoke(cli, [a.format(tmp=tmp_path) for a in args])
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and match in lines[0], res.stderr


def test_stats_table_prints_the_per_family_rows(runner, tmp_path, spec_files):
    store = tmp_path / "t.sqlite"
    res = runner.invoke(cli, ["store", "build", "--spec", str(spec_files[0]), "--store", str(store),
                              "--methods", "no_adapt,meda", "--kshot", "1,3", "--quiet"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli, ["store", "stats", "--store", str(store)])
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert "tasks 2, bases 1, families 1, ceilings 4, k-shot k: 1, 3" in res.stdout
    head = next(i for i, line in enumerate(lines) if line.strip().startswith("family"))
    assert ">=1" in lines[head] and ">=3" in lines[head] and "beat" in lines[head]
    rows = [line.split() for line in lines[head + 1:]]
    assert [r[:4] for r in rows] == [["mine", "1nn", "2", "2"], ["mine", "logreg", "2", "2"]]
    js = json.loads(runner.invoke(cli, ["store", "stats", "--store", str(store), "--json"]).stdout)
    # meda ignores the base estimator: recorded once per pair, counted for both base estimators
    assert js["n_outcomes"] == 2 * (2 + 1) and js["base_estimators"] == ["-", "1nn", "logreg"]
    for b in ("1nn", "logreg"):
        assert js["per_family"]["mine"]["by_base_estimator"][b]["units"] == 2
