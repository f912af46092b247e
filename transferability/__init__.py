"""transferability: will a source dataset transfer to a target, and which shallow DA method wins?

The package is organised as in ``DESIGN.md``:

- :mod:`transferability.datasets` -- loaders for ``.npz``/``.npy``/``.csv``/``.parquet``/``.mat``
  and a generated demo pair;
- :mod:`transferability.divergence` -- domain-divergence measures (plain functions) and the
  :func:`~transferability.divergence.compute_divergences` report;
- :mod:`transferability.methods` -- the shallow domain-adaptation method library;
- :mod:`transferability.meta` -- meta-features, store builds and the learners;
- :mod:`transferability.utils` -- input validation, numerics and the numpy/torch backend.

The two questions, from Python (imported on first use, so ``import transferability`` stays light):

- :func:`assess` -- is this labelled source worth transferring to this target (EasyTransferability)?
- :func:`recommend` -- which shallow method will work best, and will it beat no adaptation (MetaTrans)?
"""

from ._version import __version__

__all__ = ["__version__", "InputError", "assess", "recommend", "Assessment", "Recommendation"]

# InputError too is imported on first use: its module imports numpy, which the command line's
# ``--help`` never needs
_LAZY = {"InputError": "transferability.utils.validation",
         "assess": "transferability.meta", "recommend": "transferability.meta",
         "Assessment": "transferability.meta", "Recommendation": "transferability.meta"}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'transferability' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
