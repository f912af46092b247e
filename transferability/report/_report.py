"""``report()``: one self-contained, offline HTML page about a (source, target) pair.

It renders what the library's public entry points return, nothing of its own judgement:
:func:`transferability.recommend` (the ranking, the verdict and its flags, the embedded score
object), the shipped store's records (:func:`transferability.meta.learners.load_records`: the
stored divergences and the measured outcomes of the nearest stored pairs) and the MetaTrans
model's kNN reference (which stored pairs are nearest). Beside them it computes what a person
wants to look at: per-feature shift and a 2-D view of both domains
(:mod:`transferability.report._content`).

The page is one file: the template ships in the package (``templates/report.html.j2``), the
figures are inline SVG (:mod:`transferability.report._figures`), the stylesheet is inline, and
there is no script and no reference to anything outside the file.
"""

from __future__ import annotations

import os

import numpy as np

from transferability.utils.validation import InputError

__all__ = ["report", "render", "page_sections"]

TEMPLATE = "report.html.j2"
#: The sections of every page, in order (element ids).
SECTIONS = ("verdict", "ranking", "divergences", "feature-shift", "embedding", "neighbours")
#: The section a page has when target labels were given (``target_labels=``), after the verdict.
VERIFIED_SECTION = "verified"


def page_sections(verified: bool) -> tuple:
    """The sections of a page in order: :data:`SECTIONS`, with :data:`VERIFIED_SECTION` after
    the verdict when the page was made with target labels."""
    return SECTIONS[:1] + ((VERIFIED_SECTION,) if verified else ()) + SECTIONS[1:]


_STEPS = ("recommend", "store", "feature shift", "embedding", "neighbours", "figures", "page")


def _require_extras():
    missing = []
    for mod in ("jinja2", "matplotlib"):
        try:
            __import__(mod)
        except ImportError:
            missing.append(mod)
    if missing:
        raise InputError(f"the report needs {' and '.join(missing)}: pip install 'transferability[report]'")


def _check_int(name, value, minimum):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
        raise InputError(f"{name} must be an integer >= {minimum}, got {value!r}")


def _check_output(output):
    if output is None:
        return None
    path = os.fspath(output)
    if os.path.isdir(path):
        raise InputError(f"output {path} is a directory")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise InputError(f"output folder {parent} does not exist")
    return path


def _describe(name: str) -> str:
    from transferability.divergence import MEASURES

    base = name[len("shared_"):] if name.startswith("shared_") else name
    text = MEASURES[base][2] if base in MEASURES else (
        "sliced Wasserstein distance (mean over random 1-D projections)" if base == "sliced_wasserstein" else base)
    if name.startswith("shared_"):
        text += "; on the raw domains standardised with pooled statistics"
    return text


class _Progress:
    """A bar over the report's steps on stderr (``enabled``), or nothing."""

    def __init__(self, enabled: bool):
        self.bar = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=len(_STEPS), desc="report", unit="step", leave=False)

    def step(self, name):
        if self.bar is not None:
            self.bar.set_postfix_str(name)
            self.bar.update(1)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def render(context: dict) -> str:
    """The page for a context (what :func:`report` assembles), from the shipped template."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("transferability.report", "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    env.filters["pct"] = lambda v, nd=1: "n/a" if v is None else f"{100 * float(v):.{nd}f}"
    env.filters["num"] = _num
    env.filters["lead"] = _lead
    env.filters["ticks"] = _ticks
    optional = {"verified": None, "label_value": None}  # fields a page has only with labels, or with label_value.json
    return env.get_template(TEMPLATE).render(**{**optional, **context})


def _lead(v, other) -> str:
    """A lead in accuracy (a fraction) over ``other``, in words: "leads OTHER by 3.5 points",
    "trails OTHER by ...", or a tie."""
    pts = 100 * float(v)
    if pts == 0:
        return f"scores the same as {other}"
    if round(abs(pts), 1) == 0:
        return f"is within 0.1 point of {other}"
    return f"{'leads' if pts > 0 else 'trails'} {other} by {abs(pts):.1f} points"


def _ticks(text):
    """Text with its `quoted` commands set as code, escaped."""
    import re

    from markupsafe import Markup, escape

    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(text))))


def _num(v, digits=3):
    if v is None:
        return "n/a"
    v = float(v)
    if not np.isfinite(v):
        return "∞" if v > 0 else ("−∞" if v < 0 else "n/a")
    if v != 0 and (abs(v) >= 1e4 or abs(v) < 1e-3):
        return f"{v:.{max(digits - 1, 1)}e}"
    return f"{v:.{digits}g}"


def _models_label(ms) -> str:
    from pathlib import Path

    from transferability.meta.learners import models_dir

    where = getattr(ms, "directory", None)
    if where is None or Path(where).resolve() == models_dir().resolve():
        return "shipped"
    return str(where)


def _stored_summary(standing):
    rows = []
    for s in standing:
        st = s["stored"]
        q = np.percentile(st, [10, 50, 90]) if st.size else [None, None, None]
        rows.append({**{k: v for k, v in s.items() if k != "stored"}, "description": _describe(s["name"]),
                     "p10": q[0], "median": q[1], "p90": q[2]})
    return rows


def report(X_source, y_source, X_target, *, output=None, base_estimator="1nn", preprocess="none", models=None,
           random_state=0, embedding="pca", feature_names=None, max_points=1000, top_features=10,
           n_neighbors=5, source_name="source", target_name="target", command=None, target_labels=None,
           progress=False, budget=None) -> str:
    """An HTML report on a pair: the verdict, the ranking, the shift, and the evidence.

    Parameters
    ----------
    X_source : array-like of shape (n_source, n_features)
        The labelled source, before preprocessing (as :func:`transferability.recommend` takes it).
    y_source : array-like of shape (n_source,)
    X_target : array-like of shape (n_target, n_features)
        The unlabelled target, before preprocessing.
    output : str or path, default=None
        Write the page here (atomically: the old file or the new one, never half of one).
    base_estimator, preprocess, models, random_state
        As for :func:`transferability.recommend`.
    embedding : {"pca", "tsne"}, default="pca"
        The 2-D view of both domains (of the preprocessed pair, what the methods see).
    feature_names : list of str, default=None
        Column names for the per-feature shift (CSV/parquet inputs have them).
    max_points : int, default=1000
        Rows per domain drawn in the 2-D view (a seeded subsample).
    top_features : int, default=10
        Rows of each per-feature shift table.
    n_neighbors : int, default=5
        Nearest stored pairs shown (at most the model's 10).
    source_name, target_name : str
        How the page names the two domains (the command line passes the file names).
    command : str, default=None
        The command line that made the page, shown at its foot.
    target_labels : str, path, dict or (rows, labels), default=None
        A few labelled target rows, as for :func:`transferability.recommend` (a CSV file with
        header ``row,label``, ``row`` the 0-based position in ``X_target``; a ``{row: label}``
        dict; a ``(rows, labels)`` pair). Every candidate method runs on the pair and is scored
        on these rows only; the page gets the section ``verified`` (each method's accuracy on
        them with its 95 % Wilson interval, the verified pick against the zero-label pick and
        why, the k-shot baseline on the same rows), and the verdict names the verified pick.
        The labels are used only to score.
    budget : float, default=None
        Seconds, as for :func:`transferability.recommend`: rank only the methods predicted to
        fit, and with ``target_labels`` run the candidates in a worker stopped at the end of
        the budget.
    progress : bool, default=False
        Draw a progress bar over the steps on stderr.

    Returns
    -------
    str
        The page (also written to ``output`` when given).

    Raises
    ------
    InputError
        Bad input (as :func:`transferability.recommend`), a bad option, an output path that is a
        folder or lies in a missing one, or jinja2/matplotlib not installed.

    Examples
    --------
    >>> from transferability.datasets import make_demo_pair
    >>> from transferability.report import report
    >>> source, target = make_demo_pair(n_source=120, n_target=100, random_state=0)
    >>> html = report(source.X, source.y, target.X)
    >>> html.startswith("<!DOCTYPE html>") and 'id="verdict"' in html
    True
    """
    _require_extras()
    if embedding not in ("pca", "tsne"):
        raise InputError(f"unknown embedding '{embedding}'; choose one of pca, tsne")
    _check_int("max_points", max_points, 2)
    _check_int("top_features", top_features, 1)
    _check_int("n_neighbors", n_neighbors, 1)
    path = _check_output(output)
    from transferability.datasets import preprocess_pair
    from transferability.meta.learners import load_models, load_records, recommend
    from transferability.utils.validation import check_pair

    from . import _content, _figures

    ms = load_models(models) if not hasattr(models, "model") else models
    model = ms.model(base_estimator)
    if y_source is None:
        raise InputError("the report needs source labels (the methods train on them)")
    Xs, Xt = check_pair(X_source, X_target)
    bar = _Progress(progress)
    try:
        rec = recommend(Xs, y_source, Xt, base_estimator=base_estimator, preprocess=preprocess, models=ms,
                        random_state=random_state, target_labels=target_labels, progress=progress, budget=budget)
        d = rec.to_dict()
        bar.step("recommend")
        records = load_records()
        t = d.get("transferability") or {}
        divs = t.get("divergences") or {k[4:]: v for k, v in d["meta_features"].items() if k.startswith("div_")}
        standing = _content.divergence_standing(divs, records)
        bar.step("store")
        shift = _content.feature_shift(Xs, Xt, feature_names, top=top_features)
        bar.step("feature shift")
        Ps, Pt = preprocess_pair(Xs, Xt, preprocess)
        emb = _content.embed(Ps, y_source, Pt, method=embedding, max_per_domain=max_points,
                             random_state=random_state)
        bar.step("embedding")
        neighbours = _content.nearest_stored_pairs(d["meta_features"], model, records, base_estimator,
                                                   n=n_neighbors)
        bar.step("neighbours")
        figures = {"ranking": _figures.ranking_figure(d["ranking"], d.get("interval_coverage", 0.8)),
                   "divergences": _figures.divergence_figure(standing),
                   "embedding": _figures.embedding_figure(emb)}
        verified = None if d.get("verified") is None else _content.verified_table(d["verified"])
        if verified is not None and verified["verified"]:
            figures["verified"] = _figures.verified_figure(verified)
        bar.step("figures")
        from transferability import __version__

        context = {
            "rec": d, "score": t or None, "flags": _content.verdict_flags(d),
            "best": next((p for p in d["ranking"] if p["method"] == d.get("best")), None),
            "standing": _stored_summary(standing), "n_records": len(records), "shift": shift,
            "embedding": {k: v for k, v in emb.items() if k not in ("source", "target", "source_labels")},
            "n_source_classes": None if emb["source_labels"] is None else len(set(np.asarray(y_source).tolist())),
            "neighbours": neighbours, "methods": list(model.methods), "figures": figures,
            "source_name": str(source_name), "target_name": str(target_name), "command": command,
            "version": __version__, "seed": int(random_state), "max_points": int(max_points),
            "models_dir": _models_label(ms), "verified": verified, "label_value": d.get("label_value"),
            "sections": page_sections(verified is not None),
        }
        html = render(context)
        bar.step("page")
    finally:
        bar.close()
    if path is not None:
        from transferability.utils.io import atomic_write_text

        atomic_write_text(path, html)
    return html
