"""Names and number lists that the command line needs before anything heavy is imported.

Plain tuples, no imports: ``--help`` reads them without importing numpy or the library
(tests/cli/test_cli_startup.py), and the library modules take them from here, so each list has
one home.

- :data:`KSHOT_LADDER`: the k of the k-shot baselines (labelled target samples per class) that
  ``evaluate`` and the store build record by default, and the ladder of thresholds
  EasyTransferability predicts ``P(k* >= k)`` for.
"""

__all__ = ["KSHOT_LADDER"]

KSHOT_LADDER = (1, 3, 5, 10, 20, 50)
