"""Loading domains and pairs from files, and generated pairs."""

from ._demo import make_demo_pair, make_seed_pair
from ._loaders import SUPPORTED_SUFFIXES, Domain, load_domain
from ._pair import LoadedPair, load_pair
from ._preprocess import PAIR_PREPROCESSING, PREPROCESSING, preprocess, preprocess_pair
from ._real import DATA_ENV, load_real_domain, ng_task_pairs, real_bases, real_catalog, resolve_data_dir

__all__ = ["Domain", "load_domain", "LoadedPair", "load_pair", "SUPPORTED_SUFFIXES", "make_demo_pair",
           "make_seed_pair", "PREPROCESSING", "PAIR_PREPROCESSING", "preprocess", "preprocess_pair",
           "load_real_domain", "real_catalog", "real_bases", "resolve_data_dir", "DATA_ENV", "ng_task_pairs"]
