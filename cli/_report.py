"""``transferability report SOURCE TARGET -o report.html``: one self-contained HTML page about a
pair (the verdict, the ranking, the shift against the store, the evidence)."""

from __future__ import annotations

import click

from ._common import (BASE_ESTIMATOR_CHOICES, LABEL_COLUMN_HELP, NameChoice, OneLineCommand, fail, handle_errors,
                      preprocess_option, progress_wanted, quiet_option, seed_option)
from ._recommend import BASE_ESTIMATOR_HELP


@click.command("report", cls=OneLineCommand)
@click.argument("source")
@click.argument("target")
@click.option("-o", "--output", required=True, help="The HTML file to write (replaced atomically).")
@click.option("--base-estimator", type=NameChoice(BASE_ESTIMATOR_CHOICES, what="base estimator"), default="1nn",
              show_default=True, help=BASE_ESTIMATOR_HELP)
@preprocess_option()
@click.option("--models", "models_dir", default=None, help="Model directory from `meta train` (default: shipped).")
@click.option("--label-column", default=None, help=LABEL_COLUMN_HELP)
@click.option("--embedding", type=click.Choice(["pca", "tsne"]), default="pca", show_default=True,
              help="The 2-D view of both domains.")
@click.option("--max-points", type=click.IntRange(min=2), default=1000, show_default=True,
              help="Rows per domain drawn in the 2-D view (a seeded subsample).")
@click.option("--target-labels", "target_labels", default=None, metavar="FILE",
              help="CSV with header 'row,label': a few labelled target rows (row = 0-based position in TARGET), "
                   "as for `recommend --target-labels`. Every candidate runs, is scored on these rows only, and "
                   "the page gets the verified table (accuracies with intervals, the verified pick and why, the "
                   "k-shot baseline on the same rows).")
@click.option("--budget", type=float, default=None,
              help="Seconds, as for `recommend`: rank only methods predicted to run within them; with "
                   "--target-labels, the candidates that finish within them ('inf': no budget).")
@seed_option("Seed of the meta-features' subsampling and of the 2-D view (0 .. 2**32-1).")
@quiet_option()
@handle_errors
def report_cmd(source, target, output, base_estimator, preprocess, models_dir, label_column, embedding, max_points,
               target_labels, budget, seed, quiet):
    """Write an offline HTML report on SOURCE -> TARGET: is it worth transferring, which method,
    how the pair stands against the stored pairs, and the evidence behind the ranking."""
    import os
    import shlex

    from transferability.datasets import load_pair
    from transferability.meta.learners import load_models
    from transferability.report import report

    if budget is not None and not budget > 0:  # NaN, 0 and negatives; inf is "no budget" (recommend())
        from transferability.utils.validation import InputError

        raise InputError(f"--budget must be a positive number of seconds, got {budget}")
    models = load_models(models_dir)  # bad model files fail before any data is read
    models.model(base_estimator)
    pair = load_pair(source, target, label_column=label_column)  # raw: report() applies --preprocess
    pair.require_labels("source", "a source domain must be labelled")
    names = pair.source.meta.get("feature_names")
    command = "transferability report " + " ".join(
        shlex.quote(a) for a in [os.path.basename(source), os.path.basename(target), "--preprocess", preprocess,
                                 "--base-estimator", base_estimator, "--embedding", embedding, "--seed", str(seed),
                                 *(["--target-labels", os.path.basename(target_labels)] if target_labels else []),
                                 *(["--budget", f"{budget:g}"] if budget is not None else [])])
    try:
        html = report(pair.X_source, pair.y_source, pair.X_target, output=output, base_estimator=base_estimator,
                      preprocess=preprocess, models=models, random_state=seed, embedding=embedding,
                      feature_names=names, max_points=max_points, source_name=os.path.basename(source),
                      target_name=os.path.basename(target), command=command, target_labels=target_labels,
                      progress=progress_wanted(quiet), budget=budget)
    except KeyboardInterrupt:
        fail(f"interrupted; nothing written ({output} is as it was)", code=130)
    click.echo(f"wrote {output} ({len(html.encode('utf-8')) / 1e6:.2f} MB)")
