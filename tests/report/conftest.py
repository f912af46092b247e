"""Shared fixtures of the report tests: a small named-column CSV pair, a label file of 20 of its
target rows, and its report without and with those labels, each made once through the command
line (each report runs ``recommend``, a few seconds; with labels every method runs too)."""

import csv

import numpy as np
import pytest

from report_helpers import EVIL_CLASS, EVIL_FEATURE, runner, write_csv


@pytest.fixture(scope="session")
def csv_pair(tmp_path_factory):
    from transferability.datasets import make_demo_pair

    d = tmp_path_factory.mktemp("report_pair")
    src, tgt = make_demo_pair(n_source=150, n_target=120, random_state=0)
    names = [EVIL_FEATURE] + [f"sensor_{j}" for j in range(1, src.X.shape[1])]
    labels = {0: "walk", 1: "run", 2: "sit", 3: EVIL_CLASS}
    write_csv(d / "source.csv", src.X, [labels[int(v)] for v in src.y], names)
    Xt = tgt.X.copy()
    Xt[:, 0] += 3.0 * src.X[:, 0].std()  # the named feature is the most shifted one
    write_csv(d / "target.csv", Xt, None, names)
    rows = np.arange(0, len(tgt.y), 6)  # 20 labelled target rows, every class
    with open(d / "target_labels.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["row", "label"])
        w.writerows([int(r), labels[int(tgt.y[r])]] for r in rows)
    return d


@pytest.fixture(scope="session")
def cli_report(csv_pair):
    """``transferability report source.csv target.csv -o report.html``: (path, page text)."""
    from transferability.cli.main import cli

    out = csv_pair / "report.html"
    r = runner().invoke(cli, ["report", str(csv_pair / "source.csv"), str(csv_pair / "target.csv"),
                              "-o", str(out), "--quiet"])
    assert r.exit_code == 0, r.stderr
    assert r.stdout.startswith(f"wrote {out} (")
    return out, out.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def cli_report_labelled(csv_pair):
    """The same report with ``--target-labels target_labels.csv``: (path, page text)."""
    from transferability.cli.main import cli

    out = csv_pair / "report_labelled.html"
    r = runner().invoke(cli, ["report", str(csv_pair / "source.csv"), str(csv_pair / "target.csv"),
                              "-o", str(out), "--target-labels", str(csv_pair / "target_labels.csv"), "--quiet"])
    assert r.exit_code == 0, r.stderr
    return out, out.read_text(encoding="utf-8")
