"""The shallow domain-adaptation method library: one registry, one interface.

>>> from transferability.methods import available_methods, get_method
>>> "no_adapt" in available_methods()
True
"""

from ._base import BASE_ESTIMATORS, BaseAdapter, make_base_estimator, pack_domains, split_domains
from ._registry import METHODS, available_methods, get_method, register

# Importing each method module registers it.
from ._no_adapt import NoAdapt  # noqa: E402
# -- subspace / feature-alignment methods --
from ._tca import TCA  # noqa: E402
from ._jda import JDA  # noqa: E402
from ._bda import BDA  # noqa: E402
from ._gfk import GFK  # noqa: E402
from ._sa import SA  # noqa: E402
from ._coral import CORAL  # noqa: E402
# -- reweighting, classifier-adaptation and representation methods --
from ._kmm import KMM  # noqa: E402
from ._kliep import KLIEP  # noqa: E402
from ._easytl import EasyTL  # noqa: E402
from ._meda import MEDA  # noqa: E402
from ._msda import MSDA  # noqa: E402

__all__ = [
    "BaseAdapter", "BASE_ESTIMATORS", "make_base_estimator", "pack_domains", "split_domains",
    "METHODS", "available_methods", "get_method", "register", "NoAdapt",
    "TCA", "JDA", "BDA", "GFK", "SA", "CORAL",
    "KMM", "KLIEP", "EasyTL", "MEDA", "MSDA",
]

from ._evaluate import EvaluationReport, MethodResult, evaluate_methods, kshot_baseline  # noqa: E402

__all__ += ["MethodResult", "EvaluationReport", "evaluate_methods", "kshot_baseline"]
