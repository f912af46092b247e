"""Write a benchmark's results into its own marked section of a docs page."""

from __future__ import annotations

import datetime
import os
import platform
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def machine_line() -> str:
    import numpy
    import scipy

    return (f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"numpy {numpy.__version__}, scipy {scipy.__version__}, "
            f"{datetime.date.today().isoformat()}")


def write_section(page: str, key: str, body: str) -> Path:
    """Replace the text between ``<!-- KEY:begin -->`` and ``<!-- KEY:end -->`` in ``docs/PAGE``.

    The markers are appended to the page when absent; nothing outside them is touched.
    """
    path = ROOT / "docs" / page
    begin, end = f"<!-- {key}:begin -->", f"<!-- {key}:end -->"
    text = path.read_text() if path.exists() else ""
    block = f"{begin}\n{body.rstrip()}\n{end}"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = head + block + tail
    else:
        text = text.rstrip() + ("\n\n" if text else "") + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
