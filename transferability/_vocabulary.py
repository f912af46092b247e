"""Names and number lists that the command line needs before anything heavy is imported.

Plain tuples, no imports: ``--help`` reads them without importing numpy or the library
(tests/cli/test_cli_startup.py), and the library modules take them from here, so each list has
one home.

- :data:`METHOD_NAMES`: the method vocabulary, the one list of the method registry
  (:mod:`transferability.methods._registry` re-exports it; ``--method``/``--methods`` offer it);
- :data:`BASE_ESTIMATORS`: the base estimators' names (``--base-estimator``);
- :data:`PREPROCESSING`: the preprocessing recipes' names (``--preprocess``;
  :mod:`transferability.datasets._preprocess` implements them);
- :data:`KSHOT_LADDER`: the k of the k-shot baselines (labelled target samples per class) that
  ``evaluate`` and the store build record by default, and the ladder of thresholds
  EasyTransferability predicts ``P(k* >= k)`` for.
"""

__all__ = ["METHOD_NAMES", "BASE_ESTIMATORS", "KSHOT_LADDER", "PER_DOMAIN_PREPROCESSING", "PAIR_PREPROCESSING",
           "PREPROCESSING"]

#: The method vocabulary, in its fixed order: no adaptation first, then instance reweighting,
#: feature alignment (MMD-based, subspace, correlation), and the methods that learn their own
#: classifier or representation. A method's module registers its class under one of these names
#: (``@register``); a test checks that every name is registered and every registered class named.
METHOD_NAMES = ("no_adapt", "kmm", "kliep", "tca", "jda", "bda", "gfk", "sa", "coral", "easytl",
                "meda", "msda")

#: The base estimators (:func:`transferability.methods.make_base_estimator`).
BASE_ESTIMATORS = ("1nn", "logreg", "linear_svm")

KSHOT_LADDER = (1, 3, 5, 10, 20, 50)

#: Preprocessing recipes applied to each domain on its own statistics, and to the pair together.
PER_DOMAIN_PREPROCESSING = ("none", "zscore", "l2", "sum-zscore")
PAIR_PREPROCESSING = ("zscore-source", "zscore-pooled", "tfidf-svd100")
PREPROCESSING = PER_DOMAIN_PREPROCESSING + PAIR_PREPROCESSING
