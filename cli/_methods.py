"""``transferability adapt`` and ``transferability evaluate``."""

from __future__ import annotations

import json
import os

import click

from ._common import (
    METHOD_CHOICES, CommaList, NameChoice, OneLineCommand, echo_json, handle_errors, json_option, kshot_option,
    label_column_option,
    preprocess_option, progress_wanted, quiet_option, seed_option,
)

BASE_HELP = "Base estimator: 1nn, logreg or linear_svm."
_OUTPUT_FORMATS = (".npy", ".npz", ".csv", ".txt")


def _parse_params(items, *, per_method: bool):
    """``key=value`` (adapt) or ``method.key=value`` (evaluate); values are JSON when they parse."""
    from transferability.utils.validation import InputError

    out: dict = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise InputError(f"--param expects KEY=VALUE, got '{item}'")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        if per_method:
            method, dot, name = key.partition(".")
            if not dot or not method or not name:
                raise InputError(f"--param for evaluate expects METHOD.KEY=VALUE, got '{item}'")
            out.setdefault(method, {})[name] = value
        else:
            out[key] = value
    return out


def _absolute_spec(spec: str) -> str:
    """``FILE[:KEY]`` with FILE made absolute (provenance of a recorded pair)."""
    from transferability.datasets._loaders import _split_spec

    path, key = _split_spec(spec)
    return os.path.abspath(path) + (f":{key}" if key else "")


def _check_output(path: str) -> str:
    """Refuse an output path that cannot be written, before any work is done; returns its format."""
    from transferability.utils.validation import InputError

    ext = os.path.splitext(path)[1].lower()
    if ext not in _OUTPUT_FORMATS:
        raise InputError(f"unknown output format '{ext}'; use .npy, .npz, .csv or .txt")
    if os.path.isdir(path):
        raise InputError(f"--output {path} is a directory; give a file name")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise InputError(f"output directory does not exist: {directory}")
    return ext


def _write_predictions(path, y_pred):
    """Write the predictions atomically (a temporary file in the same directory, then a rename):
    a refused write leaves nothing behind and never a half-written file under the final name."""
    import io

    import numpy as np

    from transferability.utils.io import atomic_write_bytes, atomic_write_text
    from transferability.utils.validation import InputError

    ext = _check_output(path)
    y_pred = np.asarray(y_pred)
    try:
        if ext in (".npy", ".npz"):
            buf = io.BytesIO()
            if ext == ".npy":
                np.save(buf, y_pred, allow_pickle=False)
            else:
                np.savez(buf, y_pred=y_pred)
            atomic_write_bytes(path, buf.getvalue())
        else:
            head = "prediction\n" if ext == ".csv" else ""
            atomic_write_text(path, head + "".join(f"{v}\n" for v in y_pred.tolist()))
    except OSError as exc:
        raise InputError(f"cannot write --output {path}: {exc.strerror or exc}") from None


@click.command("adapt", cls=OneLineCommand)
@click.argument("source")
@click.argument("target")
@click.option("--method", required=True, type=NameChoice(METHOD_CHOICES, what="method"),
              help="The domain-adaptation method to fit (no_adapt: the base estimator alone).")
@click.option("--base-estimator", default="1nn", show_default=True, help=BASE_HELP)
@preprocess_option()
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE",
              help="Method parameter (repeatable), e.g. --param n_components=50.")
@click.option("--output", default=None,
              help="Write target predictions to .npy/.npz/.csv/.txt (default: stdout, one per line).")
@label_column_option()
@seed_option()
@handle_errors
def adapt_cmd(source, target, method, base_estimator, preprocess, params, output, label_column, seed):
    """Fit METHOD on labelled SOURCE and unlabelled TARGET; write the target predictions."""
    from transferability.datasets import load_pair
    from transferability.methods import get_method

    if output is not None:
        _check_output(output)  # refuse a bad --output before fitting anything
    kwargs = {"base_estimator": base_estimator, "random_state": seed}
    kwargs.update(_parse_params(params, per_method=False))
    pair = load_pair(source, target, label_column=label_column, preprocess=preprocess)
    pair.require_labels("source", "a source domain must be labelled")
    est = get_method(method, **kwargs)
    from threadpoolctl import threadpool_limits

    from transferability.methods import resolve_n_threads

    with threadpool_limits(limits=resolve_n_threads()):  # the evaluate policy: 1 BLAS thread by default
        y_pred = est.fit_domains(pair.X_source, pair.y_source, pair.X_target).predict(pair.X_target)
    if output is None:
        click.echo("\n".join(str(v) for v in y_pred.tolist()))
    else:
        _write_predictions(output, y_pred)
        click.echo(f"wrote {len(y_pred)} predictions to {output}", err=True)


def _open_store_for_recording(store_path):
    """Open the store ``evaluate --record`` writes to, before any method runs."""
    from transferability.meta_store import open_store

    return open_store(store_path)


@click.command("evaluate", cls=OneLineCommand)
@click.argument("source")
@click.argument("target")
@click.option("--methods", type=CommaList(keyword="all", what="method names"), default="all",
              show_default=True, help=f"'all' or a comma-separated list of {', '.join(METHOD_CHOICES)}.")
@click.option("--base-estimator", default="1nn", show_default=True, help=BASE_HELP)
@preprocess_option()
@click.option("--param", "params", multiple=True, metavar="METHOD.KEY=VALUE",
              help="Method parameter (repeatable), e.g. --param jda.lam=0.1.")
@kshot_option()
@json_option()
@label_column_option()
@seed_option()
@quiet_option()
@click.option("--record", is_flag=True, help="Record the pair, its meta-features and every outcome in a store.")
@click.option("--family", default="user", show_default=True, help="Family of the recorded pair.")
@click.option("--store", "store_path", default=None,
              help="Store to record into (default: $TRANSFERABILITY_STORE, else the user's data directory).")
@handle_errors
def evaluate_cmd(source, target, methods, base_estimator, preprocess, params, kshot, as_json,
                 label_column, seed, quiet, record, family, store_path):
    """Run methods on SOURCE -> TARGET and report target accuracy (TARGET must be labelled)."""
    from transferability.datasets import load_pair
    from transferability.methods import evaluate_methods

    method_params = _parse_params(params, per_method=True)
    pair = load_pair(source, target, label_column=label_column, preprocess=preprocess)
    pair.require_labels("source", "a source domain must be labelled")
    pair.require_labels("target", "evaluate needs them to measure accuracy")
    store = _open_store_for_recording(store_path) if record else None
    try:
        report = evaluate_methods(pair.X_source, pair.y_source, pair.X_target, pair.y_target, methods=methods,
                                  base_estimator=base_estimator, method_params=method_params, kshot=kshot,
                                  random_state=seed, progress=progress_wanted(quiet))
        out = report.to_dict()
        if store is not None:
            from transferability.meta import record_evaluation

            rec = record_evaluation(
                store, report, X_source=pair.X_source, y_source=pair.y_source, X_target=pair.X_target,
                y_target=pair.y_target, name=f"{os.path.basename(source)}->{os.path.basename(target)}",
                family=family, preprocess=pair.preprocess_key, base_estimator=base_estimator, seed=seed,
                source_provenance={"path": _absolute_spec(source)},
                target_provenance={"path": _absolute_spec(target)},
                source_fingerprint=pair.source_fingerprint, target_fingerprint=pair.target_fingerprint,
                X_source_raw=pair.source.X, X_target_raw=pair.target.X)
            out["recorded"] = {"store": os.path.abspath(store.path), "pair_key": pair.key, **rec}
    finally:
        if store is not None:
            store.close()
    out.update(preprocess=preprocess, base_estimator=base_estimator)  # what this command was asked
    if out["target_only_classes"]:
        only = out["target_only_classes"]
        shown = ", ".join(map(repr, only[:5])) + (", ..." if len(only) > 5 else "")
        click.echo(f"warning: {len(only)} target classes are no source class ({shown}): their "
                   f"{out['n_target_only']} of {out['n_target']} target samples count as errors for every method",
                   err=True)
    if as_json:
        echo_json(out)
    else:
        _print_evaluation(out)
    if "recorded" in out and not as_json:
        click.echo(f"recorded pair {out['recorded']['pair_id']} ({out['recorded']['outcomes_added']} outcomes "
                   f"added) in {out['recorded']['store']}", err=True)


def _print_evaluation(out: dict) -> None:
    click.echo(f"{out['n_source']} -> {out['n_target']} samples, {out['n_features']} features, "
               f"base estimator {out['base_estimator']}, preprocess {out['preprocess']}\n")
    click.echo(f"{'method':<12} {'accuracy':>9} {'time (s)':>9}  status")
    for r in out["results"]:
        acc = "—" if r["target_accuracy"] is None else f"{100 * r['target_accuracy']:.2f}%"
        status = r["status"] if r["status"] == "ok" else f"failed: {r['error']}"
        click.echo(f"{r['method']:<12} {acc:>9} {r['runtime_s']:>9.2f}  {status}")
    if out["kshot"]:
        click.echo("\nk-shot baselines (k labelled target samples per class): " + ", ".join(
            f"k={k}: {'—' if v is None else f'{100 * v:.2f}%'}" for k, v in out["kshot"].items()))
        reasons = out.get("kshot_reasons") or {}
        if reasons:
            smallest = min(reasons, key=int)
            click.echo(f"  — from k={smallest}: not supported by the target ({reasons[smallest]})")
