"""Repair of a store's k-shot rows: values recorded for a ``k`` the target cannot support.

A k-shot baseline is defined only when every target class keeps at least one sample to test on
after ``k`` of it are drawn (:func:`~transferability.methods.kshot_unsupported`). ``evaluate``
before it reported null for such a ``k``, and schema-1 builds, recorded a value measured on
``n_c - 1`` samples of the small class instead; the store cannot tell those values from real
ones without the target labels, which it does not keep. :func:`repair_kshot` draws the targets
of a pair list again (labels only are read; no preprocessing) and sets such values to NULL
with their reason (``store build --refresh``).
"""

from __future__ import annotations

from transferability.meta_store import MetaStore
from transferability.utils.identity import pair_key
from transferability.utils.io import one_line

__all__ = ["repair_kshot"]


def repair_kshot(store: MetaStore, specs, data_dir=None) -> dict:
    """Set to NULL every stored k-shot value of the list's pairs whose ``k`` the target cannot
    support; returns ``{"kshot_repaired": values replaced, "pairs_repaired": pairs touched,
    "pairs_failed": [{"name", "error"}]}`` (a spec that cannot be drawn is listed, not fatal).
    Pairs the store does not hold are skipped; nothing else is changed."""
    from transferability.methods import kshot_unsupported

    from ._build import _spec_preprocess_key, draw

    repaired, pairs, failed = 0, 0, []
    for spec in specs:
        try:
            *_, yt, prov_s, prov_t = draw(spec, data_dir)
        except Exception as exc:  # noqa: BLE001 - one bad spec must not stop the repair
            failed.append({"name": spec.get("name", "?"), "error": one_line(exc)})
            continue
        key = pair_key(prov_s["fingerprint"], prov_t["fingerprint"], _spec_preprocess_key(spec))
        rows = []
        for base, k, seed in store.kshot_values(key):
            why = kshot_unsupported(yt, k)
            if why is not None:
                rows.append({"base_estimator": base, "k": k, "seed": seed, "reason": why})
        n = store.repair_kshot(key, rows)
        repaired += n
        pairs += int(n > 0)
    return {"kshot_repaired": repaired, "pairs_repaired": pairs, "pairs_failed": failed}
