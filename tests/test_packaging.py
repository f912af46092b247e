"""The wheel ships every subpackage and every data file the package needs.

setuptools maps ``cli/`` and ``meta_store/`` into the ``transferability`` namespace with
``package-dir``, so packages are listed by hand in ``pyproject.toml``; these tests catch a new
subpackage or data folder that the list (or ``package-data``) forgets. ``.ci/run`` then builds the
wheel, installs it into a fresh virtual environment and runs the main job from it.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _config():
    with open(ROOT / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh)["tool"]["setuptools"]


def _discovered_packages(cfg):
    """Every folder with an ``__init__.py`` under a mapped source root, as a dotted name."""
    out = set()
    for name, folder in cfg["package-dir"].items():
        base = ROOT / folder
        for init in base.rglob("__init__.py"):
            rel = init.parent.relative_to(base)
            out.add(".".join((name, *rel.parts)))
    return out


def _folder(cfg, dotted):
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        head = ".".join(parts[:i])
        if head in cfg["package-dir"]:
            return ROOT / cfg["package-dir"][head] / Path(*parts[i:])
    return None


def test_every_subpackage_is_listed():
    cfg = _config()
    listed = set(cfg["packages"])
    missing = sorted(_discovered_packages(cfg) - listed)
    assert not missing, f"add to [tool.setuptools] packages in pyproject.toml: {missing}"
    for pkg in listed:
        folder = _folder(cfg, pkg)
        assert folder is not None and (folder / "__init__.py").exists(), f"{pkg} is listed but has no folder"


def test_every_data_file_is_shipped():
    """Every non-Python file inside a package folder must match a package-data glob."""
    import fnmatch

    cfg = _config()
    data = cfg.get("package-data", {})
    unshipped = []
    for pkg in cfg["packages"]:
        folder = _folder(cfg, pkg)
        for f in folder.rglob("*"):
            rel = f.relative_to(folder)
            if not f.is_file() or "__pycache__" in rel.parts or f.suffix in (".py", ".pyc"):
                continue
            if any((folder / Path(*rel.parts[:i]) / "__init__.py").exists() for i in range(1, len(rel.parts))):
                continue  # inside a subpackage: checked under that package
            if not any(fnmatch.fnmatch(rel.as_posix(), pat) for pat in data.get(pkg, [])):
                unshipped.append(f"{pkg}: {rel.as_posix()}")
    assert not unshipped, f"files the wheel would leave out (add a package-data glob): {unshipped[:10]}"
