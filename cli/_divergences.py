"""``transferability divergences``."""

from __future__ import annotations

import click

from ._common import (
    CommaList, OneLineCommand, echo_json, handle_errors, json_option, label_column_option, progress_wanted,
    quiet_option, seed_option,
)

_PROGRESS_CELLS = 2_000_000  # rows x features above which a progress bar is shown (on a terminal)


def _format_table(report) -> str:
    d = report.to_dict()
    lines = [
        f"source: {d['n_source']} samples, target: {d['n_target']} samples, "
        f"{d['n_features']} features (transferability {d['version']})",
        "",
        f"{'measure':<18} {'value':>14}  {'rows used (s/t)':>17}  {'time':>8}  description",
    ]
    for name, value in d["divergences"].items():
        used = d["sample_sizes"][name]
        lines.append(
            f"{name:<18} {value:>14.6g}  {str(used['source']) + '/' + str(used['target']):>17}  "
            f"{d['runtime_s'][name]:>7.2f}s  {report.descriptions.get(name, '')}"
        )
    return "\n".join(lines)


def run_report(Xs, Xt, *, measures, max_samples, seed, backend, quiet):
    from transferability.divergence import compute_divergences

    cells = (Xs.shape[0] + Xt.shape[0]) * Xs.shape[1]
    return compute_divergences(
        Xs, Xt, measures=measures, max_samples=max_samples, random_state=seed, backend=backend,
        progress=progress_wanted(quiet) and cells >= _PROGRESS_CELLS,
    )


def _common_options(f):
    f = quiet_option()(f)
    f = click.option("--backend", type=click.Choice(["numpy", "torch", "auto"]), default="numpy",
                     show_default=True, help="Kernel backend for the MMDs (torch: GPU when present).")(f)
    f = seed_option(help="Seed for subsampling and the domain classifiers (0 .. 2**32-1).")(f)
    f = click.option("--max-samples", type=click.IntRange(min=2), default=None,
                     help="Rows per domain above which kernel/classifier measures subsample "
                          "(default: 10000 for the MMDs, 2000 for classifiers and kNN).")(f)
    f = click.option("--measures", type=CommaList(what="measures"), default=None,
                     help="Comma-separated subset of measures (default: all).")(f)
    f = json_option()(f)
    return f


@click.command("divergences", cls=OneLineCommand)
@click.argument("source")
@click.argument("target")
@label_column_option()
@_common_options
@handle_errors
def divergences_cmd(source, target, label_column, as_json, measures, max_samples, seed, backend, quiet):
    """Domain-divergence measures between SOURCE and TARGET (labels are not used).

    SOURCE/TARGET: .npz (X, optional y), .npy, .csv/.parquet, .mat (FILE.mat:src|tar picks one
    domain of a two-domain file).
    """
    from transferability.datasets import load_pair

    pair = load_pair(source, target, label_column=label_column)
    report = run_report(pair.X_source, pair.X_target, measures=measures, max_samples=max_samples,
                        seed=seed, backend=backend, quiet=quiet)
    if as_json:
        echo_json(report.to_dict())
    else:
        click.echo(_format_table(report))
