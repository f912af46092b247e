"""Sphinx extension of the docs site: the concepts page's generated sections, and one skip.

Directives (each text has one home, which these read; nothing is copied into ``docs/``):

- ``transferability-methods``: one section per method of the registry
  (:data:`transferability.methods.METHOD_NAMES` order), from its class docstring: the summary,
  the extended summary (the formula) and the References section (the paper);
- ``transferability-divergences``: one table row per measure of
  :data:`transferability.divergence._report.REGISTRY`: its report key, its function, its formula
  and paper from the table of ``docs/divergences.md`` (a measure missing there is an error), and
  the rows it uses by default from the registry row itself;
- ``transferability-module-doc MODULE``: a module's docstring (where a definition lives in the
  code: the rules of abstention, the label k*), parsed as reStructuredText.

And an ``autodoc-skip-member`` hook that leaves out the ``set_{method}_request`` methods that
scikit-learn's metadata routing adds to every estimator class: they are scikit-learn's API
(their docstrings point into scikit-learn's own glossary), not ours.
"""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

_SKLEARN_REQUEST = re.compile(r"set_\w+_request")
_DOCS = Path(__file__).resolve().parents[1]


def _skip_member(app, what, name, obj, skip, options):
    if what == "class" and _SKLEARN_REQUEST.fullmatch(name):
        return True
    return None


class _Generated(SphinxDirective):
    """A directive whose output is reStructuredText made at build time."""

    def lines(self) -> list[str]:  # pragma: no cover - overridden
        raise NotImplementedError

    def run(self):
        node = nodes.container()
        source = self.get_source_info()[0]
        text = StringList()
        for i, line in enumerate(self.lines()):
            text.append(line, source, i)
        nested_parse_with_titles(self.state, text, node)
        return node.children


class MethodsDirective(_Generated):
    """One section per registered method: summary, formula, paper."""

    def lines(self):
        from numpydoc.docscrape import NumpyDocString

        from transferability.methods import METHOD_NAMES, METHODS

        out = []
        for name in METHOD_NAMES:
            cls = METHODS[name]
            doc = NumpyDocString(inspect.getdoc(cls) or "")
            title = f"``{name}``: {cls.__name__}"
            out += [title, "~" * len(title), ""]
            base = ("runs with the base estimator" if cls.uses_base_estimator
                    else "learns its own classifier (the base estimator is ignored)")
            out += [" ".join(doc["Summary"]), "",
                    f"Class :class:`~transferability.methods.{cls.__name__}`; {base}.", ""]
            out += list(doc["Extended Summary"]) + [""]
            refs = " ".join(line.strip() for line in doc["References"] if line.strip())
            refs = re.sub(r"^\.\. \[\w+\]\s*", "", refs)
            out += [f"**Paper.** {refs}" if refs else "**Paper.** none: the baseline every effect score divides by.",
                    ""]
        return out


def _rst_from_markdown_cell(cell: str) -> str:
    """A Markdown table cell as reStructuredText: code spans become literals, the rest is escaped."""
    parts = re.split(r"(`[^`]+`)", cell.strip())
    out = []
    for part in parts:
        if part.startswith("`") and part.endswith("`") and len(part) > 1:
            out.append(f"\\ ``{part[1:-1]}``\\ ")
        else:
            out.append(re.sub(r"([\\*_|`<>\[\]])", r"\\\1", part))
    return "".join(out)


def _divergence_definitions(page: Path) -> dict[str, str]:
    """report key -> the 'definition' cell (formula and paper) of the measures table of ``page``."""
    rows = {}
    for line in page.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\| `([a-z_]+)` \| `[a-z_0-9]+` \| (.*) \| (.*) \|$", line)
        if m:
            rows[m.group(1)] = m.group(2)
    return rows


def _rows_used(measure) -> str:
    if measure.max_samples is None:
        used = "every row" + (" (streamed: means and covariances)" if measure.needs == "moments" else "")
    elif measure.equal_sizes:
        used = f"{measure.max_samples:,} per domain, as many from each"
    else:
        used = f"exact up to {measure.max_samples:,} per domain, subsampled beyond"
    if measure.wide:
        used += "; projected above ``max_features`` columns"
    return used


class DivergencesDirective(_Generated):
    """A table of every measure of the registry."""

    def lines(self):
        from transferability.divergence._report import REGISTRY

        page = _DOCS / "divergences.md"
        self.env.note_dependency(str(page))
        definitions = _divergence_definitions(page)
        missing = [m.name for m in REGISTRY if m.name not in definitions]
        if missing:
            raise self.error(f"docs/divergences.md has no table row for {', '.join(missing)}")
        out = [".. list-table::", "   :header-rows: 1", "   :widths: 22 56 22", "",
               "   * - report key, function", "     - formula and paper", "     - rows used by default"]
        for m in REGISTRY:
            out += [f"   * - ``{m.name}``", "",
                    f"       :func:`~transferability.divergence.{m.function.__name__}`",
                    f"     - {_rst_from_markdown_cell(definitions[m.name])}", f"     - {_rows_used(m)}"]
        return out + [""]


class ModuleDocDirective(_Generated):
    """The docstring of the module named by the argument."""

    required_arguments = 1

    def lines(self):
        name = self.arguments[0]
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise self.error(f"cannot import {name}: {exc}") from None
        doc = inspect.getdoc(module)
        if not doc:
            raise self.error(f"module {name} has no docstring")
        return doc.splitlines() + [""]


def setup(app):
    app.connect("autodoc-skip-member", _skip_member)
    app.add_directive("transferability-methods", MethodsDirective)
    app.add_directive("transferability-divergences", DivergencesDirective)
    app.add_directive("transferability-module-doc", ModuleDocDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
