"""The HTML report (``transferability report SOURCE TARGET -o report.html``): one self-contained,
offline page with the verdict, the ranking, each divergence against the store, the per-feature
shift, a 2-D view of both domains and the most similar stored pairs; with a few labelled target
rows, the verified table.

:func:`report` renders the result objects of :func:`transferability.recommend` and the shipped
store; it needs the ``report`` extra (``pip install 'transferability[report]'``: jinja2 and
matplotlib), imported only when a report is made.
"""

from transferability.utils.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "._report": ["report", "render", "SECTIONS", "VERIFIED_SECTION", "page_sections"],
    "._content": ["divergence_standing", "feature_shift", "embed", "nearest_stored_pairs", "verdict_flags",
                   "verified_table"],
})
