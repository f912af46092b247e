"""``transferability recommend`` (rank the method library for a pair before running it) and
``transferability demo`` (both questions answered on a bundled, generated pair)."""

from __future__ import annotations

import math
import textwrap

import click

from ._common import (
    BASE_ESTIMATOR_CHOICES, LABEL_COLUMN_HELP, NameChoice, OneLineCommand, echo_json, handle_errors,
    preprocess_option, seed_option,
)

BASE_ESTIMATOR_HELP = ("Base estimator the methods would run with; a model directory knows the base estimators "
                       "its store recorded (others are refused with the list it knows).")
TOP_HELP = "Show the recommended method and the next K-1 by predicted effect (default: all)."

# what each shipped MetaTrans candidate is, in words (the names of _modelfiles.SHIPPABLE, plus the
# ranker; tests/cli/test_cli_recommend.py keeps the keys equal to SHIPPABLE)
GUARD = ("its top method replaces the fixed default only when the predicted gain over the default clears a "
         "margin chosen on held-out training pairs")
CANDIDATES = {
    "fixed": "one method for every pair, the best on the training pairs; the effects shown are estimated from "
             "the nearest past pairs (by meta-features), for information",
    "knn": "each method's effect is the distance-weighted mean of its measured effect on the nearest past "
           "pairs (by meta-features); the top method is recommended",
    "lgbm": "a LightGBM regressor predicts each method's effect from the pair's meta-features; the top method "
            "is recommended",
    "guarded_knn": "each method's effect is the distance-weighted mean of its measured effect on the nearest "
                   f"past pairs (by meta-features); {GUARD}",
    "guarded_lgbm": f"a LightGBM regressor predicts each method's effect from the pair's meta-features; {GUARD}",
}


@click.command("recommend", cls=OneLineCommand)
@click.argument("source")
@click.argument("target")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--top", type=int, default=None, help=TOP_HELP)
@click.option("--base-estimator", type=NameChoice(BASE_ESTIMATOR_CHOICES, what="base estimator"), default="1nn",
              show_default=True, help=BASE_ESTIMATOR_HELP)
@preprocess_option()
@click.option("--budget", type=float, default=None,
              help="Seconds: rank only methods predicted to run within them ('inf': no budget).")
@click.option("--models", "models_dir", default=None, help="Model directory from `meta train` (default: shipped).")
@click.option("--label-column", default=None, help=LABEL_COLUMN_HELP)
@click.option("--target-labels", "target_labels", default=None, metavar="FILE",
              help="CSV with header 'row,label': a few labelled target rows (row = 0-based position in TARGET). "
                   "Every candidate runs (--budget: those that fit), is scored on these rows only, and the "
                   "recommendation is kept unless another method clearly leads it; adds 'verified' to --json.")
@seed_option("Seed of the meta-features' subsampling (0 .. 2**32-1).")
@handle_errors
def recommend_cmd(source, target, as_json, top, base_estimator, preprocess, budget, models_dir, label_column,
                  target_labels, seed):
    """Which shallow DA method will work best on SOURCE -> TARGET, and will it beat no adaptation?"""
    from transferability.meta.learners._modelfiles import load_models
    from transferability.meta.learners._recommend import recommend
    from transferability.utils.validation import InputError

    from transferability.datasets import load_pair

    if top is not None and top < 1:
        raise InputError(f"--top must be at least 1, got {top}")
    if budget is not None and not budget > 0:  # NaN, 0 and negatives; inf is "no budget" (recommend())
        raise InputError(f"--budget must be a positive number of seconds, got {budget}")
    models = load_models(models_dir)  # bad model files fail before any data is read
    models.model(base_estimator)
    pair = load_pair(source, target, label_column=label_column)  # raw: recommend() applies --preprocess
    pair.require_labels("source", "a source domain must be labelled")
    rec = recommend(pair.X_source, pair.y_source, pair.X_target, base_estimator=base_estimator,
                    preprocess=preprocess, models=models, top=top, budget=budget, random_state=seed,
                    target_labels=target_labels, progress=target_labels is not None)
    if not rec.in_distribution:
        click.echo(f"warning: this pair is unlike the training store (nearest past pair at distance "
                   f"{rec.nearest_distance:.2f} > {rec.ood_threshold:.2f}, the 99th percentile); "
                   "treat the ranking with caution", err=True)
    if as_json:
        echo_json(rec.to_dict())
        return
    click.echo(render_table(rec))


def _factor(contribution: float) -> str:
    return f"x{math.exp(contribution):.3f}"


def _reasons(p) -> str:
    if p.method == "no_adapt":
        return "the reference (effect 1 by definition)"
    return "; ".join((f"{r['feature']}={r['value']:.3g} ({_factor(r['contribution'])})" if "feature" in r
                      else f"like {r['pair']} ({r['effect']:.2f})") for r in p.reasons)


def _why(rec, top) -> str:
    """Why ``rec.best`` is the recommendation, in words."""
    if getattr(rec, "reason", None):  # a rule that holds by construction decided (an abstention, no signal)
        return rec.reason
    if rec.candidate == "fixed":
        return (f"the model recommends the fixed default, {rec.default}, for every pair (no learner beat it in the "
                "group-held-out evaluation)")
    if rec.fallback and top is not None and top.method == rec.best:
        return "it is the fixed default, and no method has a higher predicted effect"
    if rec.fallback:
        why = "it is the fixed default, kept because no method's predicted gain over it cleared the margin"
        if top is not None and top.method != rec.best:
            kept = next(p for p in rec.ranking if p.method == rec.best)
            gain = 100 * (top.predicted_effect / kept.predicted_effect - 1)
            why += f" (the highest predicted effect, {top.method}'s, is only {gain:.1f} % above it)"
        return why
    if top is not None and top.method == rec.best:
        return "it has the highest predicted effect" + (
            f" within the {rec.budget_s:g} s budget" if rec.excluded_by_budget else "")
    return "the model's pick"


def render_table(rec) -> str:
    """The readable form of a :class:`Recommendation`: the recommendation and why first, then
    every method in order of predicted effect (the recommended one marked ``*``), then a legend."""
    pct = int(round(100 * rec.coverage))
    rows = sorted(rec.ranking, key=lambda p: (-p.predicted_effect, p.method))  # stable on name, as recommend()
    top = rows[0] if rows else None
    lines = [f"{rec.n_source} -> {rec.n_target} samples, {rec.n_features} features, base estimator "
             f"{rec.base_estimator}, preprocess {rec.preprocess}"
             + ("" if rec.in_distribution else "  [OUT OF DISTRIBUTION]")]
    if rec.best is None:
        lines.append(f"recommended: none (no method is predicted to run within the {rec.budget_s:g} s budget)")
    else:
        lines.append(f"recommended: {rec.best}. Why: {_why(rec, top)}.")
    lines += [f"note: {note}" for note in getattr(rec, "notes", None) or []]
    lines.append(f"model: {rec.candidate} = {CANDIDATES.get(rec.candidate, 'a MetaTrans candidate')} "
                 f"(fixed default: {rec.default})")
    lines.append("")
    lines.append(f"  {'#':>2} {'method':<10} {'effect':>7} {f'{pct}% interval':>15} {'effective':>10} "
                 f"{'time (s)':>9}  reasons")
    for i, p in enumerate(rows, 1):
        eff = "yes (sure)" if p.confidently_effective else ("yes" if p.effective else "no")
        mark = "*" if p.method == rec.best else " "
        lines.append(f"{mark} {i:>2} {p.method:<10} {p.predicted_effect:>7.3f} "
                     f"{f'[{p.interval[0]:.2f}, {p.interval[1]:.2f}]':>15} {eff:>10} "
                     f"{p.predicted_runtime_s:>9.2f}  {_reasons(p)}")
    if rec.excluded_by_budget:
        lines.append(f"\nover the {rec.budget_s:g} s budget: {', '.join(rec.excluded_by_budget)}")
    legend = [f"* recommended. effect: predicted target accuracy with the method / without adaptation "
              f"(no_adapt); above 1 it helps. {pct}% interval: conformal interval of the effect. effective: yes = "
              "effect above 1, yes (sure) = the whole interval above 1. time (s): predicted runtime."]
    kinds = {"feature" in r for p in rows if p.method != "no_adapt" for r in p.reasons}
    if True in kinds:
        legend.append("reasons: the meta-features that move the method's predicted effect most, as "
                      "feature=value (xf: this value multiplies the predicted effect by f, against the training "
                      "pairs' average; LightGBM's contribution of the feature to the log effect, exponentiated).")
    if False in kinds:
        legend.append("reasons: like PAIR (e): one of the nearest past pairs of the store, and the method's "
                      "measured effect e on it.")
    lines.append("")
    lines += [textwrap.fill(text, width=100, subsequent_indent="  ") for text in legend]
    lv = getattr(rec, "label_value", None)
    if lv and lv.get("text") and not getattr(rec, "verified", None):
        lines.append(f"value of labels: {lv['text']}.")
    t = rec.transferability
    if t and t.get("score") is None:  # the score abstained: no number
        lines.append(f"transferability: none: {t.get('reason') or 'no score'}")
    elif t:
        le = t["label_equivalent"]
        lines.append(f"transferability (k = {t['k']} labelled target samples per class): score {t['score']:.3f}, "
                     f"{'worth transferring' if t['worth_transferring'] else 'not worth transferring'}; "
                     f"{le['text']}")
    if getattr(rec, "verified", None):
        lines += ["", render_verified(rec.verified)]
    return "\n".join(lines)


def render_verified(v) -> str:
    """The readable form of the ``verified`` object (``recommend --target-labels``)."""
    rule = v["rule"]
    lines = [f"verified on {v['n_labelled']} labelled target rows ({v['labels']}): keep "
             f"{rule['start_method']} unless another method leads it by more than {rule['c']:g} paired standard "
             f"errors (rule: {rule['chosen_by']})",
             f"  {'method':<10} {'accuracy':>8} {'95% interval':>15} {'correct':>8} {'time (s)':>9}"]
    for m in sorted(v["methods"], key=lambda m: (m["accuracy"] is None, -(m["accuracy"] or 0), m["method"])):
        mark = "*" if m["method"] == v["pick"] else " "
        if m["accuracy"] is None:
            lines.append(f"{mark} {m['method']:<10} {'failed':>8}  {m['error']}")
            continue
        iv = f"[{m['interval'][0]:.2f}, {m['interval'][1]:.2f}]"
        lines.append(f"{mark} {m['method']:<10} {m['accuracy']:>8.3f} {iv:>15} "
                     f"{m['correct']:>4}/{v['n_labelled']:<3} {m['runtime_s']:>9.2f}")
    for m in v["not_run"]:
        lines.append(f"  {m['method']:<10} not run: {m['reason']}")
    if v.get("complete") is False and v["worth_transferring"] is None:
        lines.append(f"nothing verified: {v['why']}.")
        return "\n".join(lines)
    change = (f"changed from {v['zero_label_pick']}" if v["changed"] else "the zero-label pick, kept")
    lines.append(f"verified pick: {v['pick']} ({change}). Why: {v['why']}.")
    k = v["kshot"]
    verdict = "worth transferring" if v["worth_transferring"] else "not worth transferring"
    if v["worth_lead"] > 0 and not v.get("beats_chance", True):
        verdict += f" ({v['pick']} does not beat chance on these rows)"
    sure = "" if v["worth_settled"] else " (within 2 standard errors: not settled by these rows)"
    lines.append(f"k-shot baseline ({k['protocol']}): {k['accuracy']:.3f} [{k['interval'][0]:.2f}, "
                 f"{k['interval'][1]:.2f}]; {v['pick']} {'leads' if v['worth_lead'] >= 0 else 'trails'} it by "
                 f"{100 * abs(v['worth_lead']):.1f} points: {verdict}{sure}.")
    return "\n".join(lines)


@click.command("demo", cls=OneLineCommand)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (the recommend object).")
@click.option("--base-estimator", type=NameChoice(BASE_ESTIMATOR_CHOICES, what="base estimator"), default="1nn",
              show_default=True, help=BASE_ESTIMATOR_HELP)
@click.option("--top", type=int, default=None, help=TOP_HELP)
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
