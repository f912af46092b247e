"""``transferability store build|stats|export|import|path``."""

from __future__ import annotations

import click

from ._common import (
    KSHOT, KSHOT_DEFAULT, CommaList, OneLineGroup, echo_json, handle_errors, json_option, progress_wanted, quiet_option,
    seed_option,
)

STORE_HELP = ("Store file (default: $TRANSFERABILITY_STORE, else "
              "~/.local/share/transferability/store.sqlite).")


@click.group("store", cls=OneLineGroup)
def store_group():
    """The meta store: past transfer outcomes in SQLite."""


@store_group.command("path")
@click.option("--store", "store_path", default=None, help=STORE_HELP)
@click.option("--json", "as_json", is_flag=True)
def path_cmd(store_path, as_json):
    """Print where the user's store and the shipped default store live."""
    from transferability.meta_store import default_store_path, records_dir, user_store_path

    out = {"store": store_path or user_store_path(), "default_store": default_store_path(),
           "default_records": str(records_dir())}
    if as_json:
        echo_json(out)
    else:
        click.echo(out["store"])


_WHICH = {"given": "the store given with --store", "user": "your store",
          "default": "the shipped default store, read-only; you have no store of your own yet"}


@store_group.command("stats")
@click.option("--store", "store_path", default=None,
              help="Store file (default: your store when it exists, else the shipped default store).")
@json_option()
@handle_errors
def stats_cmd(store_path, as_json):
    """Counts of pairs, tasks, bases, outcomes, ceilings; per family the label base rates."""
    from transferability.meta.build._store_stats import family_table, store_stats
    from transferability.meta_store import open_readable_store

    st, which = open_readable_store(store_path)
    with st:
        s = store_stats(st)
    s["which"] = which
    if as_json:
        echo_json(s)
        return
    click.echo(f"store {s['path']} ({_WHICH[which]}; schema {s['schema_version']})")
    click.echo(f"  pairs {s['n_pairs']}, outcomes {s['n_outcomes']} ({s['n_failed']} failed, "
               f"{100 * s['failed_fraction']:.2f}%), k-shot rows {s['n_kshot']}")
    click.echo(f"  methods: {', '.join(s['methods'])}")
    click.echo(f"  base estimators: {', '.join(s['base_estimators'])}")
    click.echo(f"  feature schemas: {', '.join(str(v) for v in s['feature_schemas']) or '-'}")
    click.echo(f"  tasks {s['n_tasks']}, bases {s['n_bases']}, families {s['n_families']}, ceilings "
               f"{s['n_ceilings']}, k-shot k: {', '.join(map(str, s['kshot_k'])) or '-'}")
    click.echo("  per family: share of (pair, base estimator) whose best outcome reaches the k-shot baseline "
               "(>=k), beats no_adapt by 1 point (beat), k*, oracle method")
    for line in family_table(s):
        click.echo("  " + line)


@store_group.command("build")
@click.option("--recipe", type=click.Choice(["default", "full", "generated", "real", "semi-real"]), default=None,
              help="Built-in pair list (default: real tasks + generated and semi-real shift families).")
@click.option("--spec", "spec_file", default=None, help="Your own pairs: a JSON or TOML list (see docs/meta_store.md).")
@click.option("--data-dir", default=None, help="Where the benchmark data lives (needed by the real pairs).")
@click.option("--store", "store_path", default=None, help=STORE_HELP)
@click.option("--methods", type=CommaList(keyword="all", what="method names"), default="all", show_default=True,
              help="'all' or a comma-separated list.")
@click.option("--base-estimators", type=CommaList(what="base estimator names"), default="1nn,logreg",
              show_default=True)
@click.option("--kshot", type=KSHOT, default=None,
              help=f"Comma-separated k values of the k-shot baselines ('' for none; default: {KSHOT_DEFAULT}).")
@seed_option()
@click.option("--n-jobs", type=int, default=1, show_default=True,
              help="Local worker processes (-1: all cores); they exit when the build does.")
@click.option("--backend", type=click.Choice(["local", "dask"]), default="local", show_default=True)
@click.option("--scheduler", default=None, help="dask.distributed scheduler address (with --backend dask).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the first N pairs of the list (smoke tests).")
@click.option("--export", "export_path", default=None, help="Afterwards, export the store's records to this .jsonl/.parquet.")
@click.option("--refresh-features", is_flag=True,
              help="Recompute the meta-features of the list's pairs that the store holds with another feature "
                   "schema (their outcomes are kept).")
@click.option("--refresh", is_flag=True,
              help="Bring the list's pairs in the store up to date: --refresh-features, and k-shot values "
                   "recorded for a k the target cannot support (a class with <= k samples) set to null.")
@click.option("--json", "as_json", is_flag=True, help="Print the build summary as JSON.")
@quiet_option()
@handle_errors
def build_cmd(recipe, spec_file, data_dir, store_path, methods, base_estimators, kshot, seed, n_jobs, backend,
              scheduler, limit, export_path, refresh_features, refresh, as_json, quiet):
    """Run the method library on a list of pairs and record everything (resumable)."""
    import os

    from transferability.meta.build import RECIPES, BuildConfig, build, check_run_settings, load_spec_file
    from transferability.meta_store import export_records, open_store
    from transferability.utils.validation import InputError

    if (recipe is None) == (spec_file is None):
        raise InputError("give exactly one of --recipe or --spec")
    check_run_settings(n_jobs, backend, scheduler)
    grid = {} if kshot is None else {"kshot": kshot}  # None: the library's default k values
    cfg = BuildConfig.make(methods=methods, base_estimators=base_estimators, seed=seed, **grid)
    specs = RECIPES[recipe]() if recipe else load_spec_file(spec_file)
    needs_data = any("generator" not in s for s in specs) and recipe is not None
    if needs_data:
        if data_dir is None:
            raise InputError(f"recipe '{recipe}' uses the benchmark data: pass --data-dir (e.g. ../shared/data)")
        if not os.path.isdir(data_dir):
            raise InputError(f"--data-dir {data_dir} is not a directory")
    if limit is not None:
        specs = specs[:limit]
    refresh_features = refresh_features or refresh
    with open_store(store_path) as st:
        repair = None
        if refresh:
            from transferability.meta.build._repair import repair_kshot

            repair = repair_kshot(st, specs, data_dir=data_dir)
        summary = build(st, specs, cfg, data_dir=data_dir, n_jobs=n_jobs, backend=backend, scheduler=scheduler,
                        progress=progress_wanted(quiet), refresh_features=refresh_features)
        if repair is not None:
            summary["kshot_repaired"], summary["pairs_kshot_repaired"] = repair["kshot_repaired"], repair["pairs_repaired"]
        summary["store"] = st.path
        if export_path:
            summary["exported"] = export_records(st, export_path)
    if as_json:
        echo_json(summary)
    else:
        refreshed = (f"; meta-features of {summary['pairs_refreshed']} pairs recomputed"
                     if refresh_features else "")
        if refresh:
            refreshed += (f"; {summary['kshot_repaired']} k-shot values of {summary['pairs_kshot_repaired']} pairs "
                          "set to null (k not supported by the target)")
        click.echo(f"{summary['pairs_with_work']} of {summary['pairs_in_spec']} pairs had work; "
                   f"{summary['outcomes_added']} outcomes added{refreshed} in {summary['seconds']:.1f} s "
                   f"-> {summary['store']}")
        for f in summary["pairs_failed"]:
            click.echo(f"  failed pair {f['name']}: {f['error']}", err=True)
    other, orphans = summary["pairs_other_feature_schema"], summary["pairs_not_refreshed"]
    if other:
        hint = "" if refresh_features or other == orphans else (
            f"; --refresh-features recomputes the {other - orphans} of them this list produces")
        click.echo(f"note: {other} pairs in the store keep meta-features of another feature schema than this "
                   f"build's ({summary['feature_schema']}){hint}; see `store stats`", err=True)
    if orphans:
        names = ", ".join(summary["pairs_not_refreshed_names"][:5]) + (", ..." if orphans > 5 else "")
        click.echo(f"note: {orphans} pairs of another feature schema come from no pair of this list and cannot "
                   f"be refreshed by it (e.g. recorded with `evaluate --record`): {names}", err=True)


@store_group.command("export")
@click.option("--output", "-o", required=True, help="A .jsonl or .parquet file.")
@click.option("--store", "store_path", default=None, help=STORE_HELP)
@click.option("--family", default=None, help="Only this family.")
@handle_errors
def export_cmd(output, store_path, family):
    """Write the store's records (one per pair) to JSON lines or Parquet."""
    from transferability.meta_store import MetaStore, export_records, user_store_path

    with MetaStore(store_path or user_store_path(), create=False, readonly=True) as st:
        n = export_records(st, output, family=family)
    click.echo(f"exported {n} pair records to {output}", err=True)


@store_group.command("import")
@click.argument("records")
@click.option("--store", "store_path", default=None, help=STORE_HELP)
@handle_errors
def import_cmd(records, store_path):
    """Add exported records (.jsonl/.parquet) to a store; records already there are skipped."""
    from transferability.meta_store import import_records, open_store, read_records, validate_records

    recs = validate_records(read_records(records))  # every record checked before the store is touched
    with open_store(store_path) as st:
        added = import_records(st, recs)
    click.echo(f"added {added['pairs_added']} pairs and {added['outcomes_added']} outcomes to {st.path}", err=True)
