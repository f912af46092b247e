"""The docs site's sources stay whole: every Markdown page of docs/ is in a toctree, the README
regions the site includes are marked once each, and the concepts page finds a formula for every
divergence of the registry. The site itself is built by .ci/run (``sphinx-build -W``), not here."""

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
TOCTREE = re.compile(r"^```\{toctree\}\n(.*?)^```", re.M | re.S)


def _toctree_entries():
    entries = []
    for block in TOCTREE.findall((DOCS / "index.md").read_text(encoding="utf-8")):
        entries += [line.strip() for line in block.splitlines() if line.strip() and not line.startswith(":")]
    return entries


def test_every_page_is_in_a_toctree_and_every_entry_is_a_page():
    entries = _toctree_entries()
    pages = {p.stem for p in DOCS.glob("*.md") if p.stem != "index"} | {p.stem for p in DOCS.glob("*.rst")}
    assert len(entries) == len(set(entries))
    assert pages == set(entries), (sorted(pages - set(entries)), sorted(set(entries) - pages))


def test_the_readme_regions_the_site_includes_are_marked_once_each():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    used = set()
    for page in [*DOCS.glob("*.md"), *DOCS.glob("*.rst")]:
        used |= set(re.findall(r":start-after: <!-- ([a-z-]+):begin -->", page.read_text(encoding="utf-8")))
    assert {"intro", "quickstart-setup", "quickstart-python", "quickstart-cli"} <= used
    for key in used:
        begin, end = f"<!-- {key}:begin -->", f"<!-- {key}:end -->"
        assert readme.count(begin) == 1 and readme.count(end) == 1, key
        assert readme.index(begin) < readme.index(end), key


def test_the_concepts_page_has_a_formula_for_every_divergence():
    pytest.importorskip("sphinx")
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        import transferability_docs
    finally:
        sys.path.remove(str(DOCS / "_ext"))
    from transferability.divergence._report import REGISTRY

    definitions = transferability_docs._divergence_definitions(DOCS / "divergences.md")
    assert set(definitions) == {m.name for m in REGISTRY}
    assert all(len(text) > 10 for text in definitions.values())
    # Markdown code spans become literals, reStructuredText's markup characters are escaped
    assert transferability_docs._rst_from_markdown_cell("a_b *c* `x_y`") == r"a\_b \*c\* \ ``x_y``\ "
