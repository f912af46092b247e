"""``transferability recommend`` (rank the method library for a pair before running it) and
``transferability demo`` (both questions answered on a bundled, generated pair)."""

from __future__ import annotations

import click

from ._common import LABEL_COLUMN_HELP, OneLineCommand, check_preprocess, echo_json, handle_errors, seed_option


@click.command("recommend", cls=OneLineCommand)
@click.argument("source")
@click.argument("target")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--top", type=int, default=None, help="Show the first K methods (default: all).")
@click.option("--base-estimator", default="1nn", show_default=True,
              help="Base estimator the methods would run with (a model per base estimator ships).")
@click.option("--preprocess", default="none", show_default=True,
              help="Preprocessing applied before the meta-features (a recipe of transferability.datasets."
                   "PREPROCESSING: none, zscore, l2, sum-zscore, ...), as the store build applies it.")
@click.option("--budget", type=float, default=None, help="Seconds: rank only methods predicted to fit.")
@click.option("--models", "models_dir", default=None, help="Model directory from `meta train` (default: shipped).")
@click.option("--label-column", default=None, help=LABEL_COLUMN_HELP)
@seed_option("Seed of the meta-features' subsampling (0 .. 2**32-1).")
@handle_errors
def recommend_cmd(source, target, as_json, top, base_estimator, preprocess, budget, models_dir, label_column, seed):
    """Which shallow DA method will work best on SOURCE -> TARGET, and will it beat no adaptation?"""
    from transferability.meta.learners._modelfiles import load_models
    from transferability.meta.learners._recommend import recommend
    from transferability.utils.validation import InputError

    from transferability.datasets import load_pair

    check_preprocess(preprocess)
    if top is not None and top < 1:
        raise InputError(f"--top must be at least 1, got {top}")
    if budget is not None and not budget > 0:
        raise InputError(f"--budget must be a positive number of seconds, got {budget}")
    models = load_models(models_dir)  # bad model files fail before any data is read
    models.model(base_estimator)
    pair = load_pair(source, target, label_column=label_column)  # raw: recommend() applies --preprocess
    pair.require_labels("source", "a source domain must be labelled")
    rec = recommend(pair.X_source, pair.y_source, pair.X_target, base_estimator=base_estimator,
                    preprocess=preprocess, models=models, top=top, budget=budget, random_state=seed)
    if not rec.in_distribution:
        click.echo(f"warning: this pair is unlike the training store (nearest past pair at distance "
                   f"{rec.nearest_distance:.2f} > {rec.ood_threshold:.2f}, the 99th percentile); "
                   "treat the ranking with caution", err=True)
    if as_json:
        echo_json(rec.to_dict())
        return
    click.echo(render_table(rec))


def render_table(rec) -> str:
    """The readable form of a :class:`Recommendation`."""
    pct = int(round(100 * rec.coverage))
    lines = [f"{rec.n_source} -> {rec.n_target} samples, {rec.n_features} features, base estimator "
             f"{rec.base_estimator}, preprocess {rec.preprocess}",
             f"model: {rec.candidate} (fixed default {rec.default})"
             + ("" if rec.in_distribution else "  [OUT OF DISTRIBUTION]"), ""]
    lines.append(f"{'#':>2} {'method':<10} {'effect':>7} {f'{pct}% interval':>15} {'effective':>10} {'time (s)':>9}  reasons")
    for i, p in enumerate(rec.ranking, 1):
        eff = "yes (sure)" if p.confidently_effective else ("yes" if p.effective else "no")
        reasons = "; ".join(
            (f"{r['feature']}={r['value']:.3g} ({'+' if r['contribution'] >= 0 else ''}{r['contribution']:.3f})"
             if "feature" in r else f"like {r['pair']} ({r['effect']:.2f})") for r in p.reasons)
        lines.append(f"{i:>2} {p.method:<10} {p.predicted_effect:>7.3f} "
                     f"{f'[{p.interval[0]:.2f}, {p.interval[1]:.2f}]':>15} {eff:>10} {p.predicted_runtime_s:>9.2f}  {reasons}")
    if rec.excluded_by_budget:
        lines.append(f"\nover the {rec.budget_s:g} s budget: {', '.join(rec.excluded_by_budget)}")
    if rec.best is None:
        lines.append("\nno method is predicted to fit the budget")
    else:
        why = ("the shipped model is the fixed default: no learner beat it in the group-held-out evaluation"
               if rec.candidate == "fixed" else "the fixed default was kept: no learner's predicted gain cleared "
               "the margin")
        lines.append(f"\nbest: {rec.best}" + (f" ({why})" if rec.fallback else ""))
    t = rec.transferability
    if t:
        le = t["label_equivalent"]
        lines.append(f"transferability (k = {t['k']} labelled target samples per class): score {t['score']:.3f}, "
                     f"{'worth transferring' if t['worth_transferring'] else 'not worth transferring'}; "
                     f"{le['text']}")
    return "\n".join(lines)


@click.command("demo", cls=OneLineCommand)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (the recommend object).")
@click.option("--base-estimator", default="1nn", show_default=True,
              help="Base estimator the methods would run with.")
@click.option("--top", type=int, default=None, help="Show the first K methods (default: all).")
@seed_option("Seed of the demo pair and of the meta-features' subsampling (0 .. 2**32-1).")
@handle_errors
def demo_cmd(as_json, base_estimator, top, seed):
    """The main job on a bundled, generated pair (no data needed): is the source worth
    transferring, and which method should run? The same answer as `recommend`."""
    from transferability.datasets import make_demo_pair
    from transferability.meta.learners._recommend import recommend
    from transferability.utils.validation import InputError

    if top is not None and top < 1:
        raise InputError(f"--top must be at least 1, got {top}")
    src, tgt = make_demo_pair(random_state=seed)
    rec = recommend(src.X, src.y, tgt.X, base_estimator=base_estimator, top=top, random_state=seed)
    pair = ("demo (make_demo_pair: 4 Gaussian classes, 16 features; the target is rotated, shifted and "
            "rescaled)")
    if as_json:
        echo_json({**rec.to_dict(), "pair": pair})
        return
    click.echo(f"Demo pair: {pair}, random_state={seed}.")
    if not rec.in_distribution:
        click.echo("note: this generated pair is unlike the store's past pairs (in_distribution: false), "
                   "so treat the ranking with caution; on your own pairs, run `transferability recommend`.")
    click.echo("")
    click.echo(render_table(rec))
