"""The `rader` command line. Each sub-command lives in its own module and registers here."""

from __future__ import annotations

import logging
import sys

import typer

from rader_hub.cli.eval import eval_command
from rader_hub.cli.generate import generate_command
from rader_hub.cli.review import review_app
from rader_hub.cli.run import run_command
from rader_hub.cli.publish import publish_app
from rader_hub.cli.train import train_app
from rader_hub.errors import RaderError

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


@app.callback()
def _root() -> None:
    """Keep `rader` a command group even while it has a single sub-command."""


def main() -> None:
    """Entry point: user errors become one line on stderr and exit status 2."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except RaderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
