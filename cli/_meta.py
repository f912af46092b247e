"""``transferability meta train|evaluate|labels|migrate``: retrain the learners from a store, write
the evaluation page, simulate labelled target rows (the verification rule and the value of labels),
convert a model directory of the first model format."""

from __future__ import annotations

import click

from ._common import OneLineGroup, StepProgress, echo_json, handle_errors

QUIET_HELP = "No progress line (it is drawn only on a terminal, and never with --json)."

STORE_HELP = "A store to train on together with the shipped records (default: the shipped records only)."


@click.group("meta", cls=OneLineGroup)
def meta_group():
    """The learners: retrain them from a store, evaluate them honestly."""


def _records(store_path, without_default):
    from transferability.meta.learners._table import load_records
    from transferability.utils.validation import InputError

    if without_default and store_path is None:
        raise InputError("--without-default needs --store PATH (there would be nothing to train on)")
    return load_records(store_path, with_default=not without_default)


@meta_group.command("train")
@click.option("--store", "store_path", default=None, help=STORE_HELP)
@click.option("--output", default=None,
              help="Model directory to write, replaced whole (default: the user's data directory); it must be new, "
                   "empty or a model directory.")
@click.option("--without-default", is_flag=True, help="Leave the shipped records out.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--n-jobs", type=int, default=1, show_default=True,
              help="Worker processes for the held-out folds that choose the candidate (-1: all cores); "
                   "the files are the same for any number.")
@click.option("--quiet", is_flag=True, help=QUIET_HELP)
@handle_errors
def train_cmd(store_path, output, without_default, as_json, n_jobs, quiet):
    """Retrain the MetaTrans and EasyTransferability models (deterministic: the same records give
    identical files)."""
    import os

    from transferability.meta.evaluation import train_easytrans, train_models
    from transferability.meta.learners import save_easytrans, save_models
    from transferability.meta.learners._files import check_output_directory, write_model_directory
    from transferability.utils.parallel import check_n_jobs

    if output is None:
        base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
        output = os.path.join(base, "transferability", "models")
    check_n_jobs(n_jobs)  # before loading anything
    check_output_directory(output)  # a file, a path under a file, a directory of other files: refused now
    records = _records(store_path, without_default)
    with StepProgress(quiet, as_json, "meta train") as bar:
        progress = bar.callback
        models = train_models(records, includes_default=not without_default, progress=progress, n_jobs=n_jobs)
        # the learner per threshold is chosen inside the training groups ("auto"); the held-out
        # evaluation of EasyTransferability is `meta evaluate`'s (it takes far longer than training)
        easy = train_easytrans(records, includes_default=not without_default, evaluate=False, progress=progress,
                               metatrans=models, n_jobs=n_jobs)  # labels: k* of the method these models pick
        # both learners' files go into a fresh sibling directory that then replaces the output whole
        paths = write_model_directory(output, lambda d: save_models(models, d) + save_easytrans(easy, d))
    out = {"output": output, "files": paths, "store_hash": models.manifest["store_hash"],
           "n_records": models.manifest["n_records"],
           "models": {be: {"candidate": e["candidate"], "fallback": e["fallback"], "default": e["default"],
                           "margin": e["margin"], "n_pairs": e["n_pairs"], "selection": e["selection"]}
                      for be, e in models.manifest["models"].items()}}
    if as_json:
        echo_json(out)
        return
    click.echo(f"trained on {out['n_records']} records (store hash {out['store_hash']}); wrote {output}")
    for be, e in out["models"].items():
        click.echo(f"  {be}: {e['candidate']} over {e['n_pairs']} pairs, default {e['default']}"
                   + (" (fallback: the fixed default is shipped)" if e["fallback"] else "") + f"; {e['selection']}")
    click.echo(f"use them with: transferability recommend SOURCE TARGET --models {output}")


@meta_group.command("evaluate")
@click.option("--store", "store_path", default=None, help=STORE_HELP)
@click.option("--without-default", is_flag=True, help="Leave the shipped records out.")
@click.option("--output", default="docs/evaluation.md", show_default=True, help="Page to write.")
@click.option("--figures", default=None, help="Directory of the PNG figures (default: figures/ beside the page).")
@click.option("--posthoc-data", "posthoc_data", default=None,
              help="Benchmark data directory: also run every method on the real tasks and select post hoc "
                   "(minutes).")
@click.option("--n-jobs", type=int, default=1, show_default=True,
              help="Worker processes for the held-out folds (-1: all cores); the page is the same for any number.")
@click.option("--quiet", is_flag=True, help=QUIET_HELP)
@click.option("--sanity/--no-sanity", default=True, show_default=True,
              help="Run the sanity suite (generated pairs with a known answer) on --models and add its table.")
@click.option("--models", "models_dir", default=None,
              help="Model directory the sanity suite asks (default: the shipped models).")
@handle_errors
def evaluate_cmd(store_path, without_default, output, figures, posthoc_data, n_jobs, quiet, sanity, models_dir):
    """Group-held-out evaluation of every candidate; writes the evaluation page and its figures."""
    import os

    from transferability.meta.evaluation._page import write_evaluation

    from transferability.utils.parallel import check_n_jobs

    check_n_jobs(n_jobs)  # before loading anything
    records = _records(store_path, without_default)
    if posthoc_data is not None and not os.path.isdir(posthoc_data):
        from transferability.utils.validation import InputError

        raise InputError(f"--posthoc-data: not a directory: {posthoc_data}")
    with StepProgress(quiet, False, "meta evaluate") as bar:
        written = write_evaluation(records, output, figures_dir=figures, progress=bar.callback,
                                   posthoc_data_dir=posthoc_data, n_jobs=n_jobs, include_sanity=sanity,
                                   sanity_models=models_dir)
    click.echo(f"wrote {', '.join(written)}")


@meta_group.command("labels")
@click.option("--models", "models_dir", required=True,
              help="Model directory to add label_value.json to (the shipped one: transferability/meta/learners/models).")
@click.option("--data-dir", "data_dir", required=True, help="Benchmark data directory (the real pairs' domains).")
@click.option("--store", "store_path", default=None, help=STORE_HELP)
@click.option("--without-default", is_flag=True, help="Leave the shipped records out.")
@click.option("--cache", "cache_dir", default=None,
              help="Directory of the per-pair prediction files (default: the user's cache directory); kept "
                   "between runs, so a second run only simulates.")
@click.option("--draws", type=click.IntRange(1, 1000), default=40, show_default=True,
              help="Simulated label draws per pair and labelled-row count.")
@click.option("--page", default="docs/evaluation.md", show_default=True,
              help="Page whose labelled-rows section is replaced ('-': none).")
@click.option("--n-jobs", type=int, default=1, show_default=True, help="Worker processes (-1: all cores).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (the curves).")
@click.option("--quiet", is_flag=True, help=QUIET_HELP)
@handle_errors
def labels_cmd(models_dir, data_dir, store_path, without_default, cache_dir, draws, page, n_jobs, as_json, quiet):
    """Simulate a few labelled target rows on every stored pair: choose the verification rule of
    `recommend --target-labels` (leave-one-base-out), and write label_value.json (the expected
    regret at 0, 10, 20, 50 labelled rows that every answer quotes) and the page section."""
    import json
    import os

    from transferability.meta.build._recipes import default_recipe, real_recipe
    from transferability.meta.evaluation._labels import label_study, labels_section, write_section
    from transferability.meta.learners._modelfiles import load_models
    from transferability.meta.learners._table import records_hash
    from transferability.meta.learners._verify import LABEL_VALUE_FILE
    from transferability.utils.io import atomic_write_text
    from transferability.utils.parallel import check_n_jobs
    from transferability.utils.validation import InputError

    check_n_jobs(n_jobs)
    if not os.path.isdir(data_dir):
        raise InputError(f"--data-dir: not a directory: {data_dir}")
    models = load_models(models_dir)
    records = _records(store_path, without_default)
    if records_hash(records) != models.manifest["store_hash"]:
        raise InputError(f"the models in {models_dir} were trained on another store ({models.manifest['store_hash']}) "
                         f"than these records ({records_hash(records)}); pass the --store they were trained on")
    if cache_dir is None:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        cache_dir = os.path.join(base, "transferability", "predictions")
    specs = {s["name"]: s for s in default_recipe()}
    with StepProgress(quiet, as_json, "meta labels") as bar:
        res = label_study(records, cache_dir, specs=specs, models=models, data_dir=data_dir, draws=draws,
                          n_jobs=n_jobs, progress=bar.callback, real_names={s["name"] for s in real_recipe()})
    path = os.path.join(models_dir, LABEL_VALUE_FILE)
    atomic_write_text(path, json.dumps(res["doc"], sort_keys=True, allow_nan=False))
    written = [path]
    if page != "-":
        write_section(page, labels_section(res["doc"]))
        written.append(page)
    if as_json:
        echo_json({"written": written, "evaluation": res["doc"]["evaluation"], "cache": res["cache"],
                   "seconds": res["seconds"]})
        return
    click.echo(f"wrote {', '.join(written)} ({res['seconds']:.0f} s; predictions: {res['cache']['computed']} "
               f"computed, {res['cache']['cached']} cached in {cache_dir})")


@meta_group.command("migrate")
@click.argument("directory")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handle_errors
def migrate_cmd(directory, as_json):
    """Convert the model-format-1 manifests of DIRECTORY to format 2 in place (adds each model
    file's sha256 and size; moves numbers, never retrains: the models predict as before)."""
    from transferability.meta.learners._files import migrate_models

    done = migrate_models(directory)
    if as_json:
        echo_json({"directory": directory, "manifests": [{"path": p, "result": r} for p, r in done]})
        return
    for p, r in done:
        click.echo(f"{p}: {r}")
