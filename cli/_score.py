"""``transferability score``: is this source worth transferring to this target (EasyTransferability)?"""

from __future__ import annotations

import click

from ._common import (
    BASE_ESTIMATOR_CHOICES, LABEL_COLUMN_HELP, NameChoice, OneLineCommand, echo_json, handle_errors,
    preprocess_option, seed_option,
)


@click.command("score", cls=OneLineCommand)
@click.argument("source")
@click.argument("target")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--k", "k", type=int, default=10, show_default=True,
              help="Your labelling budget: target samples per class you could label instead. The score is "
                   "P(k* >= K), k* being the label-equivalent value of the transfer.")
@click.option("--fail-below", type=float, default=None,
              help="Exit 1 when the score is below P (a pipeline gate), 0 otherwise.")
@click.option("--base-estimator", type=NameChoice(BASE_ESTIMATOR_CHOICES, what="base estimator"), default="1nn",
              show_default=True,
              help="Base estimator the transfer would run with; a model directory knows the base estimators its "
                   "store recorded (others are refused with the list it knows).")
@preprocess_option()
@click.option("--models", "models_dir", default=None, help="Model directory from `meta train` (default: shipped).")
@click.option("--label-column", default=None, help=LABEL_COLUMN_HELP)
@seed_option("Seed of the meta-features' subsampling (0 .. 2**32-1).")
@handle_errors
def score_cmd(source, target, as_json, k, fail_below, base_estimator, preprocess, models_dir, label_column, seed):
    """Is the labelled SOURCE worth transferring to the unlabelled TARGET? (score > 0.5: yes)

    An unlabelled SOURCE is scored by the label-free model (`uses_source_labels: false`).
    """
    import math

    from transferability.datasets import load_pair
    from transferability.meta.learners._easytrans import assess, load_easytrans, threshold_index
    from transferability.utils.validation import InputError

    if fail_below is not None and not (math.isfinite(fail_below) and 0.0 <= fail_below <= 1.0):
        raise InputError(f"--fail-below must be a probability in [0, 1], got {fail_below}")
    models = load_easytrans(models_dir)  # bad model files and a bad --k fail before any data is read
    model, _, _ = models.model(base_estimator)
    try:
        threshold_index(k, model.thresholds)
    except InputError as exc:
        raise InputError(f"--k: {exc}") from None
    pair = load_pair(source, target, label_column=label_column)  # raw: assess() applies --preprocess
    result = assess(pair.X_source, pair.y_source, pair.X_target, k=k, base_estimator=base_estimator,
                    preprocess=preprocess, models=models, random_state=seed)
    if not result.in_distribution:
        click.echo(f"warning: this pair is unlike the training store (nearest past pair at distance "
                   f"{result.nearest_distance:.2f} > {result.ood_threshold:.2f}, the 99th percentile); "
                   "treat the score with caution", err=True)
    if as_json:
        echo_json(result.to_dict())
    else:
        click.echo(render_score(result))
    if fail_below is not None and (result.score is None or result.score < fail_below):
        click.get_current_context().exit(1)  # an abstention does not pass a gate


def _interval(le) -> str:
    lo, hi = le["interval"]
    top = "+" if le["open_ended"] else ""
    return f"{hi}{top}" if lo == hi else f"{lo}–{hi}{top}"


def render_score(result) -> str:
    """The readable form of an :class:`~transferability.meta.learners._easytrans.Assessment`."""
    le = result.label_equivalent
    head = (f"{result.n_source} -> {result.n_target} samples, {result.n_features} features, base estimator "
            f"{result.base_estimator}, preprocess {result.preprocess}")
    if result.score is None:  # an abstention: no number
        return "\n".join([head, f"score: none: {result.reason}"])
    verdict = "worth transferring" if result.worth_transferring else "not worth transferring"
    about = f" with {result.method} (the method recommend names)" if result.method else ""
    lines = [
        f"{result.n_source} -> {result.n_target} samples, {result.n_features} features, base estimator "
        f"{result.base_estimator}, preprocess {result.preprocess}"
        + ("" if result.uses_source_labels else " (unlabelled source: label-free model)"),
        f"score P(k* >= {result.k}) = {result.score:.3f}: {verdict}{about} for a budget of {result.k} labelled "
        f"target samples per class (threshold {result.threshold})"
        + ("" if result.in_distribution else "  [OUT OF DISTRIBUTION]"),
        f"label-equivalent: {le['text']} (k* = {le['point']}{'+' if le['point'] == le['ladder'][-1] else ''}, "
        f"{int(round(100 * (le['levels'][1] - le['levels'][0])))} % interval {_interval(le)})",
        *([f"rule: {result.rule}: {result.reason}"] if result.rule and result.reason else []),
        "P(k* >= k): " + ", ".join(f"k={t}: {p:.3f}" for t, p in result.probabilities.items()),
        "divergences: " + ", ".join(f"{n}={v:.4g}" for n, v in result.divergences.items()),
    ]
    lv = getattr(result, "label_value", None)
    if lv and lv.get("text"):
        lines.append(f"value of labels: {lv['text']}.")
    return "\n".join(lines)
