"""``transferability adapt`` and ``transferability evaluate``."""

from __future__ import annotations

import json
import os

import click

from ._common import LABEL_COLUMN_HELP, echo_json, handle_errors, load_pair

PREPROCESS_HELP = ("Preprocessing, applied to each domain on its own statistics: none, zscore "
                   "(per-feature, ddof=0), l2 (unit-norm rows), sum-zscore (rows divided by their sum, "
                   "then zscore: the Office-Caltech recipe).")
BASE_HELP = "Base estimator: 1nn, logreg or linear_svm."


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


def _prepared_pair(source, target, label_column, preprocess):
    from transferability.datasets import preprocess_pair
    from transferability.utils.validation import InputError, check_pair

    src, tgt = load_pair(source, target, label_column)
    if src.y is None:
        raise InputError(f"source: {source} has no labels (a source domain must be labelled)")
    Xs, Xt = check_pair(src.X, tgt.X)
    Xs, Xt = preprocess_pair(Xs, Xt, preprocess)
    return src, tgt, Xs, Xt


def _absolute_spec(spec: str) -> str:
    """``FILE[:KEY]`` with FILE made absolute (provenance of a recorded pair)."""
    from transferability.datasets._loaders import _split_spec

    path, key = _split_spec(spec)
    return os.path.abspath(path) + (f":{key}" if key else "")


def _write_predictions(path, y_pred):
    import numpy as np

    from transferability.utils.validation import InputError

    ext = os.path.splitext(path)[1].lower()
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise InputError(f"output directory does not exist: {directory}")
    tmp = path + ".tmp"
    if ext == ".npy":
        with open(tmp, "wb") as fh:
            np.save(fh, np.asarray(y_pred))
    elif ext == ".npz":
        with open(tmp, "wb") as fh:
            np.savez(fh, y_pred=np.asarray(y_pred))
    elif ext in (".csv", ".txt"):
        with open(tmp, "w") as fh:
            if ext == ".csv":
                fh.write("prediction\n")
            fh.writelines(f"{v}\n" for v in np.asarray(y_pred).tolist())
    else:
        raise InputError(f"unknown output format '{ext}'; use .npy, .npz, .csv or .txt")
    os.replace(tmp, path)  # never leave a half-written file under the final name


@click.command("adapt")
@click.argument("source")
@click.argument("target")
@click.option("--method", required=True, help="Method name (see `transferability evaluate --help`).")
@click.option("--base-estimator", default="1nn", show_default=True, help=BASE_HELP)
@click.option("--preprocess", type=click.Choice(["none", "zscore", "l2", "sum-zscore"]), default="none",
              show_default=True, help=PREPROCESS_HELP)
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE",
              help="Method parameter (repeatable), e.g. --param n_components=50.")
@click.option("--output", default=None, help="Write target predictions to .npy/.npz/.csv/.txt (default: stdout, one per line).")
@click.option("--label-column", default=None, help=LABEL_COLUMN_HELP)
@click.option("--seed", type=int, default=0, show_default=True)
@handle_errors
def adapt_cmd(source, target, method, base_estimator, preprocess, params, output, label_column, seed):
    """Fit METHOD on labelled SOURCE and unlabelled TARGET; write the target predictions."""
    from transferability.methods import get_method

    src, _, Xs, Xt = _prepared_pair(source, target, label_column, preprocess)
    kwargs = {"base_estimator": base_estimator, "random_state": seed}
    kwargs.update(_parse_params(params, per_method=False))
    est = get_method(method, **kwargs)
    y_pred = est.fit_domains(Xs, src.y, Xt).predict(Xt)
    if output is None:
        click.echo("\n".join(str(v) for v in y_pred.tolist()))
    else:
        _write_predictions(output, y_pred)
        click.echo(f"wrote {len(y_pred)} predictions to {output}", err=True)


@click.command("evaluate")
@click.argument("source")
@click.argument("target")
@click.option("--methods", default="all", show_default=True, help="'all' or a comma-separated list.")
@click.option("--base-estimator", default="1nn", show_default=True, help=BASE_HELP)
@click.option("--preprocess", type=click.Choice(["none", "zscore", "l2", "sum-zscore"]), default="none",
              show_default=True, help=PREPROCESS_HELP)
@click.option("--param", "params", multiple=True, metavar="METHOD.KEY=VALUE",
              help="Method parameter (repeatable), e.g. --param jda.lam=0.1.")
@click.option("--kshot", default="1,3,5,10", show_default=True,
              help="k values of the k-shot baselines ('' for none).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--label-column", default=None, help=LABEL_COLUMN_HELP)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--record", is_flag=True, help="Record the pair, its meta-features and every outcome in a store.")
@click.option("--family", default="user", show_default=True, help="Family of the recorded pair.")
@click.option("--store", "store_path", default=None,
              help="Store to record into (default: $TRANSFERABILITY_STORE, else the user's data directory).")
@handle_errors
def evaluate_cmd(source, target, methods, base_estimator, preprocess, params, kshot, as_json,
                 label_column, seed, quiet, record, family, store_path):
    """Run methods on SOURCE -> TARGET and report target accuracy (TARGET must be labelled)."""
    from transferability.methods import evaluate_methods
    from transferability.utils.validation import InputError

    src, tgt, Xs, Xt = _prepared_pair(source, target, label_column, preprocess)
    if tgt.y is None:
        raise InputError(f"target: {target} has no labels; evaluate needs them to measure accuracy")
    names = "all" if methods.strip() == "all" else [m.strip() for m in methods.split(",") if m.strip()]
    try:
        ks = [int(k) for k in kshot.split(",") if k.strip()]
    except ValueError:
        raise InputError(f"--kshot expects comma-separated integers, got '{kshot}'") from None
    if any(k < 1 for k in ks):
        raise InputError("--kshot values must be positive")
    report = evaluate_methods(Xs, src.y, Xt, tgt.y, methods=names, base_estimator=base_estimator,
                              method_params=_parse_params(params, per_method=True), kshot=ks,
                              random_state=seed, progress=not quiet)
    out = report.to_dict()
    if record:
        from transferability.meta_store import fingerprint, open_store, record_evaluation

        with open_store(store_path) as st:
            rec = record_evaluation(
                st, report, X_source=Xs, y_source=src.y, X_target=Xt, y_target=tgt.y,
                name=f"{os.path.basename(source)}->{os.path.basename(target)}", family=family,
                preprocess=preprocess, base_estimator=base_estimator, seed=seed,
                source_provenance={"path": _absolute_spec(source)},
                target_provenance={"path": _absolute_spec(target)},
                source_fingerprint=fingerprint(src.X, src.y), target_fingerprint=fingerprint(tgt.X, tgt.y))
            out["recorded"] = {"store": st.path, **rec}
    out.update(n_source=int(Xs.shape[0]), n_target=int(Xt.shape[0]), n_features=int(Xs.shape[1]),
               preprocess=preprocess, base_estimator=base_estimator)
    if as_json:
        from transferability import __version__

        out["version"] = __version__
        echo_json(out)
        return
    click.echo(f"{out['n_source']} -> {out['n_target']} samples, {out['n_features']} features, "
               f"base estimator {base_estimator}, preprocess {preprocess}\n")
    click.echo(f"{'method':<12} {'accuracy':>9} {'time (s)':>9}  status")
    for r in out["results"]:
        acc = "—" if r["target_accuracy"] is None else f"{100 * r['target_accuracy']:.2f}%"
        status = r["status"] if r["status"] == "ok" else f"failed: {r['error']}"
        click.echo(f"{r['method']:<12} {acc:>9} {r['runtime_s']:>9.2f}  {status}")
    if out["kshot"]:
        click.echo("\nk-shot baselines (k labelled target samples per class): " + ", ".join(
            f"k={k}: {'—' if v is None else f'{100 * v:.2f}%'}" for k, v in out["kshot"].items()))
