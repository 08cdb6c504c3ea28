"""`rader publish dataset|model|reranker PATH --repo ORG/NAME`: upload with a rendered card, or
render it only (`--dry-run --out DIR`). The work is done by rader_hub.publish."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rader_hub.errors import ConfigError

publish_app = typer.Typer(
    help="Publish a dataset, retriever or reranker with its card to the Hugging Face Hub "
    "(HF_ENDPOINT; token from HF_TOKEN or `hf auth login`).",
    no_args_is_help=True,
)

RepoOption = Annotated[str, typer.Option("--repo", help="Target repo ORG/NAME (created if missing).")]
PrivateOption = Annotated[
    bool, typer.Option("--private", help="Make the repo private: created private, or an existing public one changed to private.")
]
IncludeAnnotatorsOption = Annotated[
    bool,
    typer.Option("--include-annotators", help="Publish the annotators' user names (default: pseudonyms annotator-1, annotator-2, ...)."),
]
MessageOption = Annotated[str | None, typer.Option("--message", "-m", help="Commit message (default: says what is published).")]
RevisionOption = Annotated[str | None, typer.Option("--revision", help="Branch to commit to (created from main if missing; default main).")]
LicenseOption = Annotated[
    str | None, typer.Option("--license", help="Hub licence id of the card (default: the sources' licence, or the base model's).")
]
TemplateOption = Annotated[Path | None, typer.Option("--template", help="Jinja card template instead of the one in cards/.")]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Render the upload folder into --out and stop: no network.")]
OutOption = Annotated[Path | None, typer.Option("--out", help="Folder to render into (new or empty); kept after a real publish too.")]
EvalOption = Annotated[
    list[Path] | None, typer.Option("--eval", help="A `rader eval --json` output for the card's evaluation table (repeatable).")
]
DatasetOption = Annotated[
    str | None,
    typer.Option("--dataset", help="Hub id of the training data, linked from the card (default: the recorded data if it is one)."),
]
BaseModelOption = Annotated[
    str | None, typer.Option("--base-model", help="Hub id of the base model (default: the one the trainer recorded).")
]
DatasetPathArgument = Annotated[
    Path, typer.Argument(help="Run folder with data/train-*.parquet (e.g. outputs/math, or a `rader review pull` folder).")
]
ModelPathArgument = Annotated[
    Path, typer.Argument(help="Folder `rader train retriever` (model) or `rader train reranker` (reranker) wrote.")
]


@publish_app.command("dataset")
def publish_dataset_command(
    path: DatasetPathArgument,
    repo: RepoOption,
    private: PrivateOption = False,
    message: MessageOption = None,
    revision: RevisionOption = None,
    license: LicenseOption = None,
    template: TemplateOption = None,
    dry_run: DryRunOption = False,
    out: OutOption = None,
    include_annotators: IncludeAnnotatorsOption = False,
) -> None:
    """Publish generated training data as Parquet shards, with its recipe, summary and card."""
    from rader_hub.publish import ArtifactKind, CardOptions

    options = CardOptions(license=license, template=template)
    _run(ArtifactKind.dataset, path, repo, options, private, message, revision, dry_run, out, include_annotators)


def _model_command(kind: str, summary: str):
    """`publish model` and `publish reranker` take the same options."""

    def command(
        path: ModelPathArgument,
        repo: RepoOption,
        eval_file: EvalOption = None,
        dataset: DatasetOption = None,
        base_model: BaseModelOption = None,
        private: PrivateOption = False,
        message: MessageOption = None,
        revision: RevisionOption = None,
        license: LicenseOption = None,
        template: TemplateOption = None,
        dry_run: DryRunOption = False,
        out: OutOption = None,
    ) -> None:
        from rader_hub.publish import ArtifactKind, CardOptions

        options = CardOptions(
            license=license, eval_files=tuple(eval_file or ()), dataset_repo=dataset, base_model=base_model, template=template
        )
        _run(ArtifactKind(kind), path, repo, options, private, message, revision, dry_run, out)

    command.__doc__ = summary
    return command


publish_app.command("model")(_model_command("model", "Publish a retriever (bi-encoder) with its training record, loss curve and card."))
publish_app.command("reranker")(_model_command("reranker", "Publish a cross-encoder reranker with its training record and card."))


def _run(
    kind,
    path: Path,
    repo: str,
    options,
    private: bool,
    message: str | None,
    revision: str | None,
    dry_run: bool,
    out: Path | None,
    include_annotators: bool = False,
) -> None:
    from rader_hub.publish import publish, render_publish_folder
    from rader_hub.publish.hub import endpoint

    if dry_run:
        if out is None:
            raise ConfigError("--dry-run needs --out DIR (the folder to render into)")
        rendered = render_publish_folder(kind, path, repo, out, options, include_annotators=include_annotators)
        typer.echo(f"rendered {len(rendered.files)} files for {repo} into {out} (nothing uploaded):")
        for name in rendered.files:
            typer.echo(f"  {name}")
        return
    result = publish(
        kind, path, repo, options, private=private, revision=revision, message=message, out=out, include_annotators=include_annotators
    )
    typer.echo(f"{kind.value} {repo} on {endpoint()} (revision {result.revision})", err=True)
    if result.made_private:
        typer.echo(f"{repo} was public: made it private (--private)", err=True)
    if result.removed_files:
        removed = ", ".join(result.removed_files)
        typer.echo(f"removed {len(result.removed_files)} file(s) the new version does not have: {removed}", err=True)
    if not result.changed:
        typer.echo(f"nothing changed since commit {result.previous_sha}: no new commit", err=True)
    typer.echo(result.commit_url)
