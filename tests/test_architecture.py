"""The direction of imports (DESIGN.md, Layout): ``meta_store/`` is persistence only and
imports nothing from the library but ``transferability.utils`` (and the version string)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ALLOWED = ("transferability.utils", "transferability._version")


def _library_imports(path: Path):
    """``(line, module)`` of every import of the ``transferability`` package in ``path``,
    anywhere in the module (function-level imports included); relative imports that leave
    ``meta_store`` (``from .. import x``) count as ``transferability.<x>``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                yield node.lineno, node.module or ""
            elif node.level >= 2:  # meta_store is transferability.meta_store: '..' is transferability
                base = "transferability" + ("." + node.module if node.module else "")
                if node.module:
                    yield node.lineno, base
                else:
                    for alias in node.names:
                        yield node.lineno, f"{base}.{alias.name}"


def _allowed(module: str) -> bool:
    if module != "transferability" and not module.startswith("transferability."):
        return True  # numpy, sqlite3, ...
    return any(module == a or module.startswith(a + ".") for a in ALLOWED)


MODULES = sorted((ROOT / "meta_store").rglob("*.py"))


def test_meta_store_has_modules():
    assert {p.name for p in MODULES} >= {"__init__.py", "_store.py", "_records.py", "_paths.py", "_schema.py"}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_meta_store_imports_only_utils(path):
    bad = [f"{path.relative_to(ROOT)}:{line}: {mod}" for line, mod in _library_imports(path) if not _allowed(mod)]
    assert bad == []


@pytest.mark.parametrize("source, expected", [
    ("from transferability.meta import build", ["transferability.meta"]),
    ("import transferability.methods", ["transferability.methods"]),
    ("def f():\n    from transferability.datasets import load_domain", ["transferability.datasets"]),
    ("from .. import methods", ["transferability.methods"]),
    ("from ..meta._build import plan", ["transferability.meta._build"]),
    ("from transferability.utils.io import one_line\nfrom ._store import MetaStore\nimport numpy", []),
    ("from transferability._version import __version__\nfrom ..utils import identity", []),
    ("import transferability", ["transferability"]),
])
def test_the_check_sees_what_it_must(tmp_path, source, expected):
    path = tmp_path / "m.py"
    path.write_text(source + "\n")
    assert [m for _, m in _library_imports(path) if not _allowed(m)] == expected
