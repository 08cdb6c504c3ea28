"""`rader review serve|stop|push|pull`: human review of the judge's verdicts in Argilla."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rader_hub.review.pull import RejectedPositives
from rader_hub.review.push import DEFAULT_WORKSPACE
from rader_hub.review.server import DEFAULT_PORT, ServerState, serve, stop

review_app = typer.Typer(
    help="Human review of the LLM judge's relevance verdicts in Argilla: serve a local Argilla, push, answer in the web UI, pull.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # a traceback must never print a client holding the API key
)

StateDirOption = Annotated[
    Path | None,
    typer.Option(
        "--state-dir",
        help="State folder of the local server (database, credentials, PIDs, logs). Default: ~/.local/share/rader-hub/argilla.",
    ),
]


@review_app.command("serve")
def serve_command(
    port: Annotated[
        int | None,
        typer.Option(
            "--port",
            min=1,
            max=65535,
            help=f"Port of the Argilla API and web UI on 127.0.0.1. Default: the state folder's last port, else {DEFAULT_PORT}.",
        ),
    ] = None,
    state_dir: StateDirOption = None,
) -> None:
    """Start a local Argilla server (Redis, search engine, SQLite) in the background, or find it running.

    The first run installs the server into its own virtual environment (about 2 minutes).
    """
    info = serve(state_dir, port, say=lambda message: typer.echo(message, err=True))
    if info.already_running:
        typer.echo(f"Argilla is already running at {info.url} (state: {info.state_dir})")
        if port is not None and not info.url.endswith(f":{port}"):
            typer.echo(f"--port {port} ignored: it keeps its port; `rader review stop` first to change it")
    else:
        typer.echo(f"Argilla is running at {info.url} (state: {info.state_dir})")
        if info.rebuilt_index:
            typer.echo("The search index was missing and has been rebuilt from the database.")
    typer.echo(f"  URL:      {info.url}")
    typer.echo(f"  username: {info.credentials.username}")
    credentials_file = ServerState(info.state_dir).credentials_file
    if info.credentials_created:  # shown once: terminals are logged and shared; the file is yours only
        typer.echo(f"  password: {info.credentials.password}")
        typer.echo(f"  API key:  {info.credentials.api_key}")
        typer.echo(f"  (printed this once; kept in {credentials_file}, readable by you only)")
    else:
        typer.echo(f"  password and API key: in {credentials_file} (readable by you only)")
    typer.echo("Open the URL in a browser and sign in. `rader review push/pull` find this server through the state folder;")
    typer.echo("other clients use ARGILLA_API_URL and ARGILLA_API_KEY. Stop it with `rader review stop`.")


@review_app.command("stop")
def stop_command(state_dir: StateDirOption = None) -> None:
    """Stop the processes `rader review serve` started (and only those)."""
    stopped = stop(state_dir)
    root = ServerState(state_dir).root
    if stopped:
        typer.echo(f"stopped {', '.join(stopped)} (state kept in {root})")
    else:
        typer.echo(f"no Argilla server started from {root} is running; nothing to stop")


DatasetArgument = Annotated[Path, typer.Argument(help="Generation output folder (outputs/<recipe>) or one of its Parquet files.")]
NameOption = Annotated[str | None, typer.Option("--name", help="Argilla dataset name. Default: <recipe name>-<recipe hash> of the data.")]
WorkspaceOption = Annotated[str, typer.Option("--workspace", help="Argilla workspace.")]


@review_app.command("push")
def push_command(
    dataset: DatasetArgument,
    name: NameOption = None,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    sample: Annotated[
        int | None, typer.Option("--sample", help="Push N pairs, stratified by judge verdict and query type (default: all).")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the sample (the same seed gives the same records).")] = 0,
    annotators_per_record: Annotated[
        int, typer.Option("--annotators-per-record", min=1, help="Answers a record needs before it counts as done (new datasets).")
    ] = 1,
    state_dir: StateDirOption = None,
) -> None:
    """Push the judge's verdicts (positives and self-reflection negatives) as Argilla records.

    Pushing again updates the same records (stable ids) and keeps the answers already given.
    """
    from rader_hub.review.connection import connect, resolve_connection
    from rader_hub.review.pairs import load_generation_dataset
    from rader_hub.review.push import push

    source = load_generation_dataset(dataset)
    client = connect(resolve_connection(state_dir))
    result = push(client, source.pairs(), name or source.default_name(), workspace, sample, seed, annotators_per_record)
    action = "created" if result.created else "updated"
    typer.echo(
        f"pushed {result.pushed} of {result.candidates} judged pairs to Argilla dataset {result.dataset!r} ({action}) "
        f"in workspace {result.workspace!r}"
    )
    typer.echo(f"answer them at {result.url}")


@review_app.command("pull")
def pull_command(
    dataset: DatasetArgument,
    out: Annotated[Path, typer.Option("--out", help="Folder for the reviewed dataset (data/, summary.json, review.json).")],
    name: NameOption = None,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    rejected_positives: Annotated[
        RejectedPositives,
        typer.Option(
            "--rejected-positives", help="A positive humans reject: drop its row, or make it a negative of the other rows of its query."
        ),
    ] = RejectedPositives.drop,
    state_dir: StateDirOption = None,
) -> None:
    """Fetch submitted answers, merge them into a new version of DATASET in OUT, and measure agreement."""
    from rader_hub.review.connection import connect, resolve_connection
    from rader_hub.review.pairs import load_generation_dataset
    from rader_hub.review.pull import pull

    source = load_generation_dataset(dataset)
    client = connect(resolve_connection(state_dir))
    result = pull(client, source, name or source.default_name(), workspace, out, rejected_positives)
    review = result.review
    kappa = "undefined" if review["cohen_kappa"] is None else f"{review['cohen_kappa']:.3f}"
    agreement = "n/a" if review["agreement"] is None else f"{review['agreement']:.3f}"
    typer.echo(f"wrote {result.out_dir}: {result.rows_out} of {result.rows_in} rows kept")
    counts = f"ties {review['ties']}, pending {review['pending']}, judge unparsed {review['judge_unparsed']}"
    typer.echo(f"reviewed pairs: {review['reviewed']} ({counts}); agreement with the judge {agreement}, Cohen's kappa {kappa}")
    typer.echo(f"details: {result.out_dir / 'review.json'}")
