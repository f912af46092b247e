"""Shared pieces of the command line: one-line errors, shared options and option types, JSON output.

Every error a user can cause ends as exit code 2 and one line ``error: ...`` on stderr:

- :class:`OneLineGroup` / :class:`OneLineCommand` print click's usage errors (missing argument,
  bad option, bad choice, unknown command) as that one line instead of click's three;
- :func:`handle_errors` does the same for :class:`~transferability.utils.validation.InputError`
  raised by the library (and prints one line, exit 1, on ``MemoryError``).
"""

from __future__ import annotations

import functools
import json
import sys

import click

from transferability._vocabulary import BASE_ESTIMATORS, KSHOT_LADDER, METHOD_NAMES, PREPROCESSING

LABEL_COLUMN_HELP = "Label column of .csv/.parquet inputs (default: 'label'; unlabelled if absent)."
# the recipes' names, from the module that imports nothing (so --help stays light)
PREPROCESS_CHOICES = PREPROCESSING
PREPROCESS_HELP = ("Preprocessing. Per domain, on its own statistics: none, zscore (per-feature, ddof=0), "
                   "l2 (unit-norm rows), sum-zscore (rows divided by their sum, then zscore: the "
                   "Office-Caltech recipe). Per pair: zscore-source (both domains with the source's "
                   "mean/std: keeps a mean shift visible), zscore-pooled (pooled mean/std), tfidf-svd100 "
                   "(TF-IDF + 100-axis truncated SVD fitted on the pooled unlabelled rows; sparse text).")
# the method vocabulary and the base estimators: the registry's own tuples, from the module that
# imports nothing (transferability._vocabulary), so --help lists them without importing the library
METHOD_CHOICES = METHOD_NAMES
BASE_ESTIMATOR_CHOICES = BASE_ESTIMATORS
SEED_MAX = 2**32 - 1  # numpy's RandomState accepts seeds in [0, 2**32 - 1]

_GENERIC_OOM = ("out of memory: the inputs are too large for this machine (a d x d covariance needs "
                "8*d^2 bytes, a kernel block 8*n^2); use fewer features or samples")


def fail(message: str, code: int = 2):
    """Print one line ``error: message`` on stderr and exit with ``code``."""
    click.echo(f"error: {_flatten(message)}", err=True)
    sys.exit(code)


def _flatten(text: str) -> str:
    lines = [line.strip() for line in str(text).strip().splitlines() if line.strip()]
    return " ".join(lines)


def handle_errors(func):
    """Turn :class:`InputError` (bad input) into one stderr line and exit code 2; a
    ``MemoryError`` into one line (its own message when it has one) and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from transferability.utils.validation import InputError

        from ._warnings import library_warnings

        try:
            with library_warnings():  # library warnings: one line of ours at the end, or none
                return func(*args, **kwargs)
        except InputError as exc:
            fail(str(exc).splitlines()[0] if str(exc).strip() else "bad input")
        except MemoryError as exc:
            msg = str(exc).strip()
            fail(f"out of memory: {msg.splitlines()[0]}" if msg else _GENERIC_OOM, code=1)

    return wrapper


# -- one-line usage errors -----------------------------------------------------------------------
class _OneLineUsageError(click.UsageError):
    """A click error shown as one line ``error: ...`` (exit code of the original error)."""

    def __init__(self, original: click.ClickException):
        ctx = getattr(original, "ctx", None)
        text = _flatten(original.format_message())
        if ctx is not None and isinstance(original, click.UsageError):
            text += f" (see '{ctx.command_path} --help')"
        super().__init__(text, ctx=ctx)
        self.exit_code = original.exit_code

    def show(self, file=None) -> None:
        click.echo(f"error: {self.message}", file=file, err=file is None)


def _one_line(exc: click.ClickException) -> click.ClickException:
    if isinstance(exc, (_OneLineUsageError, click.exceptions.NoArgsIsHelpError)):
        return exc  # already one line; a bare group invocation keeps click's help
    return _OneLineUsageError(exc)


class _OneLineMixin:
    def make_context(self, *args, **kwargs):
        try:
            return super().make_context(*args, **kwargs)
        except click.ClickException as exc:
            one = _one_line(exc)
            if one is exc:
                raise
            raise one from exc

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            one = _one_line(exc)
            if one is exc:
                raise
            raise one from exc


class OneLineCommand(_OneLineMixin, click.Command):
    """A :class:`click.Command` whose usage errors print one line ``error: ...`` (exit 2)."""


class OneLineGroup(_OneLineMixin, click.Group):
    """A :class:`click.Group` whose usage errors (unknown command, bad option, missing argument,
    bad choice, in it or any subcommand) print one line ``error: ...`` (exit 2). Its
    subcommands default to :class:`OneLineCommand` / :class:`OneLineGroup`."""

    command_class = OneLineCommand
    group_class = type  # subgroups made with @group.group() are OneLineGroups too


# -- option types --------------------------------------------------------------------------------
class CommaList(click.ParamType):
    """A comma-separated list option (``--methods a,b``), items stripped, empty items dropped.

    Parameters
    ----------
    item_type : click.ParamType, default=click.STRING
        Type each item is converted with (e.g. ``click.IntRange(min=1)``).
    keyword : str or None, default=None
        A value returned as is instead of a list (``"all"`` for ``--methods all``).
    allow_empty : bool, default=False
        Whether the empty string means the empty list (``--kshot ''``: no baselines). A list
        with no items otherwise (``''``, ``','``) is a usage error.
    """

    name = "list"

    def __init__(self, item_type=click.STRING, *, keyword: str | None = None, allow_empty: bool = False,
                 what: str = "names"):
        self.item_type = click.types.convert_type(item_type)
        self.keyword = keyword
        self.allow_empty = allow_empty
        self.what = what

    def get_metavar(self, param, ctx=None):
        return "LIST" if self.keyword is None else f"{self.keyword}|LIST"

    def convert(self, value, param, ctx):
        if isinstance(value, (list, tuple)):
            return list(value)
        text = str(value)
        if self.keyword is not None and text.strip() == self.keyword:
            return self.keyword
        if self.allow_empty and text.strip() == "":
            return []
        items = [item.strip() for item in text.split(",") if item.strip()]
        if not items:
            self.fail(f"expects a comma-separated list of {self.what}, got '{text}'", param, ctx)
        out = []
        for item in items:
            try:
                if isinstance(self.item_type, (click.types.IntParamType, click.IntRange)):
                    try:
                        int(item)
                    except ValueError:
                        self.fail(f"'{item}' is not an integer (expects a comma-separated list of "
                                  f"{self.what})", param, ctx)
                out.append(self.item_type.convert(item, param, ctx))
            except click.BadParameter as exc:
                if "expects a comma-separated list" in exc.message:
                    raise
                self.fail(f"{_flatten(exc.message).rstrip('.')} (expects a comma-separated list of "
                          f"{self.what})", param, ctx)
        return out


class NameChoice(click.Choice):
    """A :class:`click.Choice` (``--help`` lists the names) whose refusal reads as the library's
    own: ``unknown WHAT 'x'; choose one of a, b, c``."""

    def __init__(self, choices, *, what: str):
        super().__init__(tuple(choices))
        self.what = what

    def convert(self, value, param, ctx):
        if value in self.choices:
            return value
        self.fail(f"unknown {self.what} '{value}'; choose one of {', '.join(self.choices)}", param, ctx)


SEED = click.IntRange(0, SEED_MAX)
"""``--seed``: an integer numpy accepts as a seed, 0 .. 2**32 - 1."""

KSHOT = CommaList(click.IntRange(min=1), allow_empty=True, what="integers >= 1")
"""``--kshot 1,3,5``: positive integers; ``''`` for none."""
#: the default --kshot, from the one k-shot ladder (transferability._vocabulary imports nothing)
KSHOT_DEFAULT = ",".join(map(str, KSHOT_LADDER))


# -- shared options ------------------------------------------------------------------------------
def seed_option(help: str = "Random seed (0 .. 2**32-1).", default: int = 0):
    return click.option("--seed", type=SEED, default=default, show_default=True, help=help)


def label_column_option():
    return click.option("--label-column", default=None, help=LABEL_COLUMN_HELP)


def preprocess_option():
    return click.option("--preprocess", type=click.Choice(PREPROCESS_CHOICES), default="none",
                        show_default=True, help=PREPROCESS_HELP)


def json_option():
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")


def quiet_option():
    return click.option("--quiet", is_flag=True,
                        help="No progress bar (bars are drawn only when stderr is a terminal).")


def kshot_option():
    return click.option("--kshot", type=KSHOT, default=KSHOT_DEFAULT, show_default=True,
                        help="k values of the k-shot baselines ('' for none); a k the target cannot "
                             "support (a class with <= k samples) is reported as null.")


def progress_wanted(quiet: bool) -> bool:
    """Whether to ask for a progress bar: not ``--quiet`` and stderr is a terminal (off a
    terminal, e.g. in a pipe, a log or a test, no bar is drawn)."""
    if quiet:
        return False
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):
        return False


class StepProgress:
    """The progress of a long command whose steps are messages (``meta train|evaluate|labels``):
    on a terminal one status line redrawn in place (tqdm: the latest step, the steps done, the
    time elapsed); nothing under ``--quiet`` or ``--json``, or off a terminal. Call it with each
    message; :meth:`close` (or the ``with`` block) clears the line."""

    def __init__(self, quiet: bool, as_json: bool = False, desc: str = ""):
        self.bar = None
        if progress_wanted(quiet or as_json):
            from tqdm.auto import tqdm

            self.bar = tqdm(total=None, file=sys.stderr, leave=False, dynamic_ncols=True,
                            bar_format="{desc} [{n} steps, {elapsed}]")
            self.bar.set_description_str(desc)

    def __call__(self, message: str) -> None:
        if self.bar is not None:
            self.bar.set_description_str(str(message)[:120])
            self.bar.update(1)

    @property
    def callback(self):
        """The function to hand to the library (``None`` when nothing is shown)."""
        return self if self.bar is not None else None

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# -- output ----------------------------------------------------------------------------------------
def echo_json(obj) -> None:
    """Print exactly one strict JSON object on stdout (numpy values converted, NaN/inf -> null)."""
    from transferability.utils.io import json_safe

    click.echo(json.dumps(json_safe(obj), indent=2, sort_keys=False, allow_nan=False))
