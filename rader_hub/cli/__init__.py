"""The `rader` command line. Each sub-command lives in its own module and registers here."""

from __future__ import annotations

import logging
import sys
import warnings
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

import typer

from rader_hub.cli.eval import eval_command
from rader_hub.cli.failures import report
from rader_hub.cli.generate import generate_command
from rader_hub.cli.publish import publish_app
from rader_hub.cli.review import review_app
from rader_hub.cli.run import run_command
from rader_hub.cli.train import train_app
from rader_hub.redaction import redact_logs

app = typer.Typer(
    name="rader",
    help="RaDeR: reasoning-aware dense retrieval data generation, training, evaluation and publishing.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("eval")(eval_command)
app.command("generate")(generate_command)
app.add_typer(train_app, name="train")
app.add_typer(review_app, name="review")
app.add_typer(publish_app, name="publish")
app.command("run")(run_command)


def _print_version(requested: bool) -> None:
    if requested:
        try:
            typer.echo(f"rader-hub {version('rader-hub')}")
        except PackageNotFoundError:  # a source tree on sys.path without `pip install`
            typer.echo("rader-hub (not installed: no package metadata)")
        raise typer.Exit()


@app.callback()
def _root(
    show_version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Print the installed rader-hub version and exit.")
    ] = False,
) -> None:
    """Options of `rader` itself (--version), before any sub-command."""


def _silence_third_party_noise() -> None:
    """pydantic's UnsupportedFieldAttributeWarning, raised once per distilabel step class at import (distilabel's
    RuntimeParameter alias): nothing a user can act on. Matched by its message, so other warnings of its class still show;
    distilabel's worker processes are forked and inherit the filter."""
    warnings.filterwarnings("ignore", message=r"The 'default' attribute with value None was provided to the `Field\(\)` function")


def main() -> None:
    """Entry point: a failure becomes one redacted line on stderr (rader_hub.cli.failures), never a traceback."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    _silence_third_party_noise()
    redact_logs()
    try:
        app()
    except Exception as exc:
        sys.exit(report(exc))
