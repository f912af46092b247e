"""``transferability divergences``."""

from __future__ import annotations

import click

from ._common import (
    CommaList, OneLineCommand, echo_json, handle_errors, json_option, label_column_option, preprocess_option,
    progress_wanted, quiet_option, seed_option,
)

_PROGRESS_CELLS = 2_000_000  # rows x features above which a progress bar is shown (on a terminal)


def _format_table(report) -> str:
    d = report.to_dict()
    lines = [
        f"source: {d['n_source']} samples, target: {d['n_target']} samples, "
        f"{d['n_features']} features, preprocess {d['preprocess'] or 'none'} (transferability {d['version']})",
    ]
    p = d.get("projection")
    if p:
        how = ("exactly, in an orthonormal basis of the rows' span" if p["exact"] else
               f"on the top principal axes of the pooled rows ({100 * p['explained_variance']:.1f} % of the variance)")
        lines.append(f"{', '.join(p['measures'])}: on {p['n_components']} of {p['n_features']} columns "
                     f"(wider than {p['width']}), projected {how}")
    lines += [
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


def run_report(Xs, Xt, *, measures, max_samples, seed, backend, quiet, max_features=None):
    """The report, with BLAS held at ``$TRANSFERABILITY_BLAS_THREADS`` threads (default 1), the
    policy of ``evaluate`` and ``adapt``: on a loaded 2-core machine the default two BLAS
    threads made one Fréchet distance of 1,000 x 1,000 covariances take 13 s instead of 0.4 s
    (docs/benchmarks.md, "Wide inputs"). The MMDs' block threads are not BLAS threads."""
    from threadpoolctl import threadpool_limits

    from transferability.divergence import DEFAULT_MAX_FEATURES, compute_divergences
    from transferability.methods import resolve_n_threads

    cells = (Xs.shape[0] + Xt.shape[0]) * Xs.shape[1]
    with threadpool_limits(limits=resolve_n_threads()):
        return compute_divergences(
            Xs, Xt, measures=measures, max_samples=max_samples, random_state=seed, backend=backend,
            progress=progress_wanted(quiet) and cells >= _PROGRESS_CELLS,
            max_features=DEFAULT_MAX_FEATURES if max_features is None else (None if max_features == 0 else max_features),
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
    f = click.option("--max-features", type=click.IntRange(min=0), default=None,
                     help="Columns above which CORAL, Fréchet, Grassmann and the H-divergence run on the pair "
                          "projected to that many columns (exact when both domains have that many rows or fewer "
                          "together); 0: never project (default: 1024).")(f)
    f = json_option()(f)
    return f


@click.command("divergences", cls=OneLineCommand)
@click.argument("source")
@click.argument("target")
@label_column_option()
@preprocess_option()
@_common_options
@handle_errors
def divergences_cmd(source, target, label_column, preprocess, as_json, measures, max_samples, seed, backend, quiet,
                    max_features):
    """Domain-divergence measures between SOURCE and TARGET (labels are not used).

    SOURCE/TARGET: .npz (X, optional y), .npy, .csv/.parquet, .mat (FILE.mat:src|tar picks one
    domain of a two-domain file). --preprocess is the recipe `score` and `recommend` apply, so the
    same options give the divergences `score --json` shows.
    """
    from transferability.datasets import load_pair

    pair = load_pair(source, target, label_column=label_column, preprocess=preprocess)
    report = run_report(pair.X_source, pair.X_target, measures=measures, max_samples=max_samples,
                        seed=seed, backend=backend, quiet=quiet, max_features=max_features)
    report.preprocess = preprocess
    if as_json:
        echo_json(report.to_dict())
    else:
        click.echo(_format_table(report))
