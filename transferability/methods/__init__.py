"""The shallow domain-adaptation method library: one registry, one interface.

>>> from transferability.methods import available_methods, get_method
>>> "no_adapt" in available_methods()
True
"""

from ._base import BASE_ESTIMATORS, BaseAdapter, make_base_estimator, pack_domains, split_domains
from ._registry import METHODS, available_methods, get_method, register

# Importing each method module registers it.
from ._no_adapt import NoAdapt  # noqa: E402

__all__ = [
    "BaseAdapter", "BASE_ESTIMATORS", "make_base_estimator", "pack_domains", "split_domains",
    "METHODS", "available_methods", "get_method", "register", "NoAdapt",
]
