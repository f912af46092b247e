"""The evaluation room: leave-one-group-out protocols for both learners, training with the
candidate chosen on held-out groups (:func:`train_models`, :func:`train_easytrans`), post-hoc
selection, and the generated ``docs/evaluation.md``.

Imports the learners (and the build, to materialise real tasks for post-hoc selection); the
learners never import this room.
"""

from transferability.utils.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "._training": ["choose_candidate", "train_models", "train_easytrans"],
    "._protocols": ["evaluate_protocol", "summarize", "learning_curve", "pair_metrics"],
    "._easytrans_eval": ["evaluate_table", "easytrans_section"],
    "._posthoc": ["posthoc_selection"],
    "._page": ["write_evaluation"],
})
