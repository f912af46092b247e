"""Loading domains from files, and generated pairs."""

from ._demo import make_demo_pair, make_seed_pair
from ._loaders import SUPPORTED_SUFFIXES, Domain, load_domain
from ._preprocess import PREPROCESSING, preprocess, preprocess_pair

__all__ = ["Domain", "load_domain", "SUPPORTED_SUFFIXES", "make_demo_pair", "make_seed_pair",
           "PREPROCESSING", "preprocess", "preprocess_pair"]
