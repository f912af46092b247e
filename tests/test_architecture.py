"""The direction of imports (DESIGN.md, Layout).

- ``meta_store/`` is persistence only: it imports nothing from the library but
  ``transferability.utils`` (and the version string);
- ``transferability.meta`` has three rooms that import downwards only: the learners never
  import the build or the evaluation; the build never imports the evaluation; the evaluation
  may import both (it materialises real tasks for post-hoc selection);
- the package has no import cycle between its modules (function-level imports included).
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ALLOWED = ("transferability.utils", "transferability._version")
# top-level source folders mapped into the transferability namespace (pyproject package-dir)
MAPPED = {"cli": "transferability.cli", "meta_store": "transferability.meta_store"}


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[0] in MAPPED:
        parts = MAPPED[parts[0]].split(".") + parts[1:]
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _library_imports(path: Path, package: str | None = None):
    """``(line, module)`` of every import of the ``transferability`` package in ``path``,
    anywhere in the module (function-level imports included). Relative imports are resolved
    against ``package`` (the module's package; by default ``transferability.meta_store``)."""
    package = package or "transferability.meta_store"
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                yield node.lineno, node.module or ""
                continue
            parts = package.split(".")
            base = ".".join(parts[: len(parts) - (node.level - 1)])
            if node.module:
                yield node.lineno, f"{base}.{node.module}"
            else:
                for alias in node.names:
                    yield node.lineno, f"{base}.{alias.name}"


def _package_of(path: Path) -> str:
    name = module_name(path)
    return name if path.name == "__init__.py" else name.rsplit(".", 1)[0]


def _allowed(module: str) -> bool:
    if module != "transferability" and not module.startswith("transferability."):
        return True  # numpy, sqlite3, ...
    return any(module == a or module.startswith(a + ".") for a in ALLOWED)


MODULES = sorted((ROOT / "meta_store").rglob("*.py"))
ALL_MODULES = sorted([*(ROOT / "transferability").rglob("*.py"), *(ROOT / "cli").rglob("*.py"), *MODULES])


def test_meta_store_has_modules():
    assert {p.name for p in MODULES} >= {"__init__.py", "_store.py", "_records.py", "_paths.py", "_schema.py"}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_meta_store_imports_only_utils(path):
    bad = [f"{path.relative_to(ROOT)}:{line}: {mod}" for line, mod in _library_imports(path)
           if not _allowed(mod) and not _within(mod, "transferability.meta_store")]
    assert bad == []


def _within(module, prefix):
    return module == prefix or module.startswith(prefix + ".")


ROOMS = ROOT / "transferability" / "meta"
FORBIDDEN = {  # room -> rooms it must not import
    "learners": ("transferability.meta.build", "transferability.meta.evaluation"),
    "build": ("transferability.meta.evaluation",),
}


def test_the_three_rooms_exist():
    assert {p.name for p in ROOMS.iterdir() if (p / "__init__.py").is_file()} >= {"build", "learners", "evaluation"}
    assert sorted(p.name for p in ROOMS.glob("*.py")) == ["__init__.py"]  # nothing left outside the rooms


@pytest.mark.parametrize("room", sorted(FORBIDDEN))
def test_rooms_import_downwards_only(room):
    bad = []
    for path in sorted((ROOMS / room).rglob("*.py")):
        for line, mod in _library_imports(path, _package_of(path)):
            # the bare package re-exports every room lazily: a room must name its source
            if mod == "transferability.meta" or any(_within(mod, f) for f in FORBIDDEN[room]):
                bad.append(f"{path.relative_to(ROOT)}:{line}: {mod}")
    assert bad == []


def _graph():
    """module -> set of library modules it imports (an import of ``a.b.c`` depends on ``a.b.c``
    only, not on its parents' ``__init__``, which re-export lazily)."""
    names = {module_name(p): p for p in ALL_MODULES}
    graph = {}
    for name, path in names.items():
        deps = set()
        for _, mod in _library_imports(path, _package_of(path)):
            while mod and mod not in names:  # 'from pkg.mod import name' names a module or a name in it
                mod = mod.rpartition(".")[0]
            if mod and mod != name and not names[mod].name == "__init__.py":
                deps.add(mod)
        graph[name] = deps
    return graph


def find_cycles(graph: dict) -> list:
    """Every cycle a depth-first search meets, as ``"a -> b -> a"`` strings."""
    state, cycles = {}, []

    def visit(node, stack):
        state[node] = "open"
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == "open":
                cycles.append(" -> ".join(stack[stack.index(dep):] + [dep]))
            elif dep not in state:
                visit(dep, stack)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    return cycles


def test_no_import_cycles():
    assert find_cycles(_graph()) == []


def test_the_cycle_check_sees_a_cycle():
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a -> b -> c -> a"]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize("source, package, expected", [
    ("from transferability.meta import build", None, ["transferability.meta"]),
    ("import transferability.methods", None, ["transferability.methods"]),
    ("def f():\n    from transferability.datasets import load_domain", None, ["transferability.datasets"]),
    ("from .. import methods", None, ["transferability.methods"]),
    ("from ..meta.build._build import plan", None, ["transferability.meta.build._build"]),
    ("from transferability.utils.io import one_line\nimport numpy", None, []),
    ("from ._store import MetaStore", None, ["transferability.meta_store._store"]),
    ("from transferability._version import __version__\nfrom ..utils import identity", None, []),
    ("import transferability", None, ["transferability"]),
    ("from ..evaluation._page import x", "transferability.meta.learners", ["transferability.meta.evaluation._page"]),
])
def test_the_check_sees_what_it_must(tmp_path, source, package, expected):
    path = tmp_path / "m.py"
    path.write_text(source + "\n")
    assert [m for _, m in _library_imports(path, package) if not _allowed(m)] == expected


@pytest.mark.parametrize("package", ["transferability.meta", "transferability.meta.build",
                                     "transferability.meta.learners", "transferability.meta.evaluation"])
def test_lazy_exports_resolve_to_what_they_name(package):
    """Every lazily re-exported name resolves, and to an object, not to a room of the same name
    (``transferability.meta.build`` is the room; the runner is ``transferability.meta.build.build``)."""
    import importlib
    import types

    mod = importlib.import_module(package)
    importlib.import_module("transferability.meta.build._build")  # loading the room must not shadow a name
    for name in mod.__all__:
        assert not isinstance(getattr(mod, name), types.ModuleType), f"{package}.{name} is a module"
