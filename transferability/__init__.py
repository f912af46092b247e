"""transferability: will a source dataset transfer to a target, and which shallow DA method wins?

The package is organised as in ``DESIGN.md``:

- :mod:`transferability.datasets` -- loaders for ``.npz``/``.npy``/``.csv``/``.parquet``/``.mat``
  and a generated demo pair;
- :mod:`transferability.divergence` -- domain-divergence measures (plain functions) and the
  :func:`~transferability.divergence.compute_divergences` report;
- :mod:`transferability.methods` -- the shallow domain-adaptation method library;
- :mod:`transferability.utils` -- input validation and the numpy/torch backend.
"""

from ._version import __version__
from .utils.validation import InputError

__all__ = ["__version__", "InputError"]
