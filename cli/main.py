"""Entry point of the ``transferability`` command line.

Commands only parse arguments, call library functions and print; heavy imports happen inside
the commands. Exit codes: 0 success, 2 bad usage or input (one line on stderr), 1 other failure.
"""

from __future__ import annotations

import click

from transferability._version import __version__

from ._common import OneLineGroup
from ._divergences import divergences_cmd
from ._meta import meta_group
from ._methods import adapt_cmd, evaluate_cmd
from ._recommend import demo_cmd, recommend_cmd
from ._report import report_cmd
from ._score import score_cmd
from ._store import store_group


@click.group(cls=OneLineGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="transferability")
def cli():
    """Will a labelled source dataset transfer to an unlabelled target, and how?"""


cli.add_command(divergences_cmd)
cli.add_command(demo_cmd)
cli.add_command(adapt_cmd)
cli.add_command(evaluate_cmd)
cli.add_command(store_group)
cli.add_command(score_cmd)
cli.add_command(recommend_cmd)
cli.add_command(report_cmd)
cli.add_command(meta_group)


def main(argv=None):
    """Console-script entry point."""
    cli.main(args=argv, prog_name="transferability")


if __name__ == "__main__":  # pragma: no cover
    main()
