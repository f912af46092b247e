"""docs/meta_features.md stays in step with the feature table of
transferability/meta/learners/_features.py: every feature has its row, under the heading of its
group (label-free or source-label), no row names a feature that is not computed, and the page's
schema number is FEATURE_SCHEMA_VERSION (docs/contributing.md, "Adding a meta-feature")."""

import re
from pathlib import Path

from transferability.meta.learners._features import (FEATURE_NAMES, FEATURE_SCHEMA_VERSION, LABEL_FEATURES,
                                                     LABEL_FREE_FEATURES)

PAGE = Path(__file__).resolve().parents[2] / "docs" / "meta_features.md"


def _feature_rows():
    """``{heading: [feature names]}`` from the first cells of the tables under "## Features"."""
    text = PAGE.read_text(encoding="utf-8")
    section = text.split("\n## Features\n", 1)[1].split("\n## ", 1)[0]
    rows, heading = {}, None
    for line in section.splitlines():
        if line.startswith("### "):
            heading = line[4:].strip()
            rows[heading] = []
        elif line.startswith("| `") and heading is not None:
            rows[heading] += re.findall(r"`([a-z_0-9]+)`", line.split("|")[1])
    return rows


def test_every_feature_has_one_row_in_its_group_and_no_row_is_unknown():
    rows = _feature_rows()
    label_free = [f for h, names in rows.items() if "(label-free)" in h for f in names]
    labelled = [f for h, names in rows.items() if "LABEL_FEATURES" in h for f in names]
    assert sorted(label_free) == sorted(LABEL_FREE_FEATURES)
    assert sorted(labelled) == sorted(LABEL_FEATURES)
    named = [f for names in rows.values() for f in names]
    assert len(named) == len(set(named)) and set(named) == set(FEATURE_NAMES)


def test_the_page_names_the_current_schema():
    text = PAGE.read_text(encoding="utf-8")
    assert text.splitlines()[0] == f"# Meta-features (schema {FEATURE_SCHEMA_VERSION})"
    assert f"`FEATURE_SCHEMA_VERSION` ({FEATURE_SCHEMA_VERSION})" in text
