"""Every ```python example of README.md and docs/*.md runs as written.

Each block runs in a fresh interpreter, in an empty temporary directory (what it writes stays
there), with the benchmark data path the pages use, ``../shared/data`` (beside the repository),
replaced by where the data really is. A block that reads the benchmark data is skipped when the
data is absent; every other block always runs.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
DATA_MARKS = ("../shared/data", "load_real_domain")  # what reads the benchmark data


def examples(pages=PAGES):
    """``(page, first line, code)`` of every python block of ``pages``."""
    out = []
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for m in FENCE.finditer(text):
            out.append((page, text.count("\n", 0, m.start()) + 1, m.group(1)))
    return out


EXAMPLES = examples()


def run_example(code, cwd, data=DATA):
    env = dict(os.environ, TRANSFERABILITY_DATA=str(data), TRANSFERABILITY_STORE=str(Path(cwd) / "store.sqlite"),
               XDG_DATA_HOME=str(Path(cwd) / "xdg"), OMP_NUM_THREADS="1", MPLBACKEND="Agg")
    return subprocess.run([sys.executable, "-c", code.replace("../shared/data", str(data))], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=900)


def test_the_pages_have_examples():
    names = {page.name for page, _, _ in EXAMPLES}
    assert "README.md" in names and len(EXAMPLES) >= 3


@pytest.mark.parametrize("page, line, code", EXAMPLES,
                         ids=[f"{p.relative_to(ROOT)}:{line}" for p, line, _ in EXAMPLES])
def test_example_runs(page, line, code, tmp_path):
    if any(mark in code for mark in DATA_MARKS) and not DATA.is_dir():
        pytest.skip(f"no benchmark data at {DATA}")
    res = run_example(code, tmp_path)
    assert res.returncode == 0, f"{page.name}:{line} failed:\n{res.stderr[-3000:]}"


def test_the_harness_finds_blocks_and_sees_a_failure(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("text\n```python\nprint('ok')\n```\n\n```bash\nexit 1\n```\n```python\nraise SystemExit(3)\n```\n")
    found = examples([page])
    assert [(line, code) for _, line, code in found] == [(2, "print('ok')\n"), (9, "raise SystemExit(3)\n")]
    ok, bad = (run_example(code, tmp_path) for _, _, code in found)
    assert ok.returncode == 0 and ok.stdout == "ok\n" and bad.returncode == 3


def test_the_data_path_is_substituted(tmp_path):
    res = run_example("import os; print(os.path.isdir('../shared/data'))", tmp_path, data=tmp_path)
    assert res.returncode == 0 and res.stdout.strip() == "True"
