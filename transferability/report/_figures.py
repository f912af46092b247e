"""The report's figures: matplotlib, drawn off-screen (no pyplot, no global state) and returned
as SVG text to inline in the page.

Text is drawn as paths (``svg.fonttype = "path"``), so a figure needs no font at display time;
the XML prolog, the DOCTYPE (which names a URL), the metadata block and the comments are
removed, and each figure's element ids are salted with its name so that several figures in one
page do not share an id.
"""

from __future__ import annotations

import io
import re

import numpy as np

__all__ = ["to_svg", "ranking_figure", "divergence_figure", "embedding_figure", "verified_figure"]

_SOURCE, _TARGET = "#1f77b4", "#d62728"
_GOOD, _BAD, _GREY = "#2ca02c", "#7f7f7f", "#bbbbbb"


def _figure(width, height):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=72, layout="constrained")


def to_svg(fig, name: str) -> str:
    """``fig`` as an inline ``<svg>`` element (no prolog, DOCTYPE, metadata or comments)."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": f"transferability-report-{name}", "svg.fonttype": "path",
                                "svg.image_inline": True}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    text = re.sub(r"<!--.*?-->\s*", "", text, flags=re.S)  # matplotlib escapes text inside comments
    return text.replace("<svg ", f'<svg role="img" aria-label="{name}" ', 1)


def ranking_figure(ranking: list, coverage: float) -> str:
    """Predicted effect with its interval (left) and predicted runtime (right), one row per
    method, the recommended method on top. ``ranking`` is ``Recommendation.to_dict()["ranking"]``."""
    n = len(ranking)
    fig = _figure(9.0, 0.9 + 0.32 * max(n, 1))
    ax, axr = fig.subplots(1, 2, sharey=True, gridspec_kw={"width_ratios": [3, 1.2]})
    y = np.arange(n)[::-1]
    eff = np.array([p["predicted_effect"] for p in ranking], dtype=float)
    lo = np.array([p["interval"][0] for p in ranking], dtype=float)
    hi = np.array([p["interval"][1] for p in ranking], dtype=float)
    colors = [_GOOD if p.get("effective") else _BAD for p in ranking]
    ax.hlines(y, lo, hi, colors=colors, linewidth=3, alpha=0.45)
    ax.scatter(eff, y, c=colors, s=36, zorder=3)
    ax.axvline(1.0, color="black", linestyle="--", linewidth=1)
    ax.set_yticks(y, [p["method"] + (" *" if i == 0 else "") for i, p in enumerate(ranking)])
    ax.set_xlabel(f"predicted effect (accuracy / no adaptation), {int(round(100 * coverage))} % interval")
    ax.set_title("effect > 1: predicted to beat no adaptation   (* recommended)", fontsize=10, loc="left")
    ax.grid(axis="x", alpha=0.3)
    rt = np.array([p.get("predicted_runtime_s", np.nan) for p in ranking], dtype=float)
    ok = np.isfinite(rt) & (rt > 0)
    axr.barh(y[ok], rt[ok], color=_GREY)
    for yi, r in zip(y[ok], rt[ok]):
        axr.text(r, yi, f" {r:.2g} s", va="center", fontsize=8)
    if ok.any():
        axr.set_xscale("log")
        axr.set_xlim(rt[ok].min() / 2, rt[ok].max() * 8)
    axr.set_xlabel("predicted runtime (s)")
    axr.tick_params(axis="y", left=False)
    return to_svg(fig, "ranking")


def divergence_figure(standing: list) -> str:
    """One percentile strip per divergence: where this pair's shift stands among the stored
    pairs (0 % = smaller shift than every stored pair, 100 % = larger than all)."""
    rows = [s for s in standing if s["shift_percentile"] is not None]
    n = len(rows)
    fig = _figure(9.0, 0.6 + 0.3 * max(n, 1))
    ax = fig.subplots()
    y = np.arange(n)[::-1]
    import matplotlib

    cmap = matplotlib.colormaps["RdYlGn_r"]
    grad = np.linspace(0, 1, 256)[None, :]
    for yi in y:
        ax.imshow(grad, extent=(0, 100, yi - 0.28, yi + 0.28), aspect="auto", cmap=cmap, alpha=0.35,
                  interpolation="bilinear")
    pct = np.array([s["shift_percentile"] for s in rows], dtype=float)
    ax.scatter(pct, y, marker="D", s=40, color="black", zorder=3)
    for yi, p in zip(y, pct):
        ax.text(101.5, yi, f"{p:.0f} %", va="center", fontsize=9)
    ax.set_yticks(y, [s["name"] + (" (overlap)" if s["similarity"] else "") for s in rows])
    ax.set_xlim(0, 100)
    ax.set_ylim(-0.6, n - 0.4)
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.set_xlabel("shift larger than this % of stored pairs")
    ax.grid(axis="x", alpha=0.3)
    return to_svg(fig, "divergences")


def _class_colors(labels):
    import matplotlib

    classes = list(dict.fromkeys(labels.tolist()))
    try:
        classes = sorted(classes)
    except TypeError:
        pass
    cmap = matplotlib.colormaps["tab10" if len(classes) <= 10 else "tab20"]
    return classes, {c: cmap(i % cmap.N) for i, c in enumerate(classes)}


def embedding_figure(emb: dict) -> str:
    """Both domains in 2-D: coloured by domain (left); source coloured by class, target grey
    (right). ``emb`` is :func:`transferability.report._content.embed`'s result."""
    fig = _figure(10.0, 4.6)
    left, right = fig.subplots(1, 2, sharex=True, sharey=True)
    S, T = emb["source"], emb["target"]
    kw = {"s": 7, "linewidths": 0, "rasterized": False}
    left.scatter(S[:, 0], S[:, 1], c=_SOURCE, alpha=0.55, label=f"source ({len(S)} of {emb['n_source']})", **kw)
    left.scatter(T[:, 0], T[:, 1], c=_TARGET, alpha=0.55, marker="^",
                 label=f"target ({len(T)} of {emb['n_target']})", **kw)
    left.legend(loc="best", fontsize=8, markerscale=2)
    left.set_title("by domain", fontsize=10)
    right.scatter(T[:, 0], T[:, 1], c=_GREY, alpha=0.5, marker="^", label="target (unlabelled)", **kw)
    labels = emb.get("source_labels")
    if labels is not None and len(labels):
        classes, colors = _class_colors(np.asarray(labels))
        for c in classes:
            m = np.asarray(labels) == c
            right.scatter(S[m, 0], S[m, 1], color=colors[c], alpha=0.75, label=str(c), **kw)
        handles, names = right.get_legend_handles_labels()
        many = len(classes) > 20  # a legend of more classes hides the plot: name the count instead
        if many:
            handles, names = handles[:1], names[:1]
        right.legend(handles, names, loc="best", fontsize=7, markerscale=2, ncol=2 if len(names) > 8 else 1,
                     title=f"source: {len(classes)} classes" if many else None)
    right.set_title("source by class", fontsize=10)
    if emb["method"] == "pca":
        ev = emb.get("explained_variance") or []
        names = [f"PC{i + 1}" + (f" ({100 * ev[i]:.1f} % of variance)" if i < len(ev) else "") for i in range(2)]
    else:
        names = ["t-SNE 1", "t-SNE 2"]
    for ax in (left, right):
        ax.set_xlabel(names[0], fontsize=9)
        ax.tick_params(labelsize=8)
    left.set_ylabel(names[1], fontsize=9)
    return to_svg(fig, "embedding")


def verified_figure(table: dict) -> str:
    """Accuracy on the labelled target rows with its 95 % Wilson interval, one row per method
    that ran (best on top, the verified pick green, the zero-label pick ringed), beside the
    k-shot baseline trained on the same rows (dashed line, its interval shaded). ``table`` is
    :func:`transferability.report._content.verified_table`'s result."""
    rows = [r for r in table["rows"] if r["status"] == "ran"]
    n = len(rows)
    fig = _figure(9.0, 1.0 + 0.3 * max(n, 1))
    ax = fig.subplots()
    y = np.arange(n)[::-1]
    k = table.get("kshot") or {}
    if k.get("accuracy") is not None:
        lo, hi = k["interval"]
        ax.axvspan(100 * lo, 100 * hi, color=_GREY, alpha=0.3, linewidth=0)
        ax.axvline(100 * k["accuracy"], color="black", linestyle="--", linewidth=1,
                   label=f"k-shot baseline on the same rows ({100 * k['accuracy']:.0f} %)")
    acc = np.array([100 * r["accuracy"] for r in rows], dtype=float)
    lo = np.array([100 * r["interval"][0] for r in rows], dtype=float)
    hi = np.array([100 * r["interval"][1] for r in rows], dtype=float)
    colors = [_GOOD if r["pick"] else _SOURCE for r in rows]
    ax.hlines(y, lo, hi, colors=colors, linewidth=3, alpha=0.45)
    ax.scatter(acc, y, c=colors, s=36, zorder=3)
    zl = [i for i, r in enumerate(rows) if r["zero_label_pick"]]
    if zl:
        ax.scatter(acc[zl], y[zl], s=150, facecolors="none", edgecolors="black", linewidths=1.2, zorder=4,
                   label="zero-label pick")
    ax.set_yticks(y, [r["method"] + (" *" if r["pick"] else "") for r in rows])
    ax.set_xlim(0, 100)
    if n:
        ax.set_ylim(-0.6, n - 0.4)
    ax.set_xlabel(f"accuracy on the {table.get('n_labelled')} labelled target rows (%), 95 % Wilson interval")
    ax.set_title("* verified pick", fontsize=10, loc="left")
    ax.grid(axis="x", alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=2, fontsize=8, frameon=False)  # above the plot
    return to_svg(fig, "verified")
