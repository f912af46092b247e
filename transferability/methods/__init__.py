"""The shallow domain-adaptation method library: one registry, one interface.

>>> from transferability.methods import METHOD_NAMES, available_methods, uses_base_estimator
>>> available_methods() == list(METHOD_NAMES)
True
>>> uses_base_estimator("meda"), uses_base_estimator("jda")
(False, True)
"""

from ._base import (BASE_ESTIMATORS, MASKED_LABEL, BaseAdapter, make_base_estimator,
                    pack_domains, split_domains)
from ._registry import (METHOD_NAMES, METHODS, available_methods, get_method, register,
                        uses_base_estimator)

# Importing each method module registers it; the order of the vocabulary is METHOD_NAMES.
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
    "BaseAdapter", "BASE_ESTIMATORS", "MASKED_LABEL", "make_base_estimator", "pack_domains",
    "split_domains", "METHOD_NAMES", "METHODS", "available_methods", "get_method", "register",
    "uses_base_estimator", "NoAdapt",
    "TCA", "JDA", "BDA", "GFK", "SA", "CORAL",
    "KMM", "KLIEP", "EasyTL", "MEDA", "MSDA",
]

from ._evaluate import (DEFAULT_N_THREADS, N_THREADS_ENV, EvaluationReport,  # noqa: E402
                        MethodResult, evaluate_methods, kshot_baseline, kshot_unsupported, predict_methods,
                        resolve_n_threads)

__all__ += ["MethodResult", "EvaluationReport", "evaluate_methods", "predict_methods", "kshot_baseline", "kshot_unsupported",
            "DEFAULT_N_THREADS", "N_THREADS_ENV", "resolve_n_threads"]
