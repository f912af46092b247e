"""Helpers of the report tests (a module of its own: ``conftest`` is not importable by name)."""

import csv

from click.testing import CliRunner

# a feature name and a class label that would break the page if they were not escaped
EVIL_FEATURE = "<b>f0</b>&\"x\""
EVIL_CLASS = "--><script>alert(1)</script>"


def runner():
    try:
        return CliRunner(mix_stderr=False)
    except TypeError:  # click >= 8.2 keeps stderr apart by default
        return CliRunner()


def write_csv(path, X, y, names):
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([*names, "label"] if y is not None else names)
        for i, row in enumerate(X):
            w.writerow([*(repr(float(v)) for v in row), *([y[i]] if y is not None else [])])
