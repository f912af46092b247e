"""Loading domains and pairs from files, and generated pairs."""

from ._demo import make_demo_pair, make_seed_pair
from ._loaders import SUPPORTED_SUFFIXES, Domain, load_domain
from ._pair import LoadedPair, load_pair
from ._preprocess import PREPROCESSING, preprocess, preprocess_pair

__all__ = ["Domain", "load_domain", "LoadedPair", "load_pair", "SUPPORTED_SUFFIXES", "make_demo_pair",
           "make_seed_pair", "PREPROCESSING", "preprocess", "preprocess_pair"]
