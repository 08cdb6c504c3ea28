"""Publishing as a Python API: render the folder that would be uploaded (the dry run), and upload it.
The same rendering serves both, so what a user reviews is what goes up. The CLI (`rader publish`)
and later commands call these."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from rader_hub import __version__
from rader_hub.errors import ConfigError
from rader_hub.files import write_text_atomic
from rader_hub.publish.cards import CardOptions
from rader_hub.publish.folder import place, relative_files, staging_folder
from rader_hub.publish.hub import PublishResult, check_repo_id, upload_folder
from rader_hub.publish.metadata import check_card
from rader_hub.publish.portable_files import PortableCopy, annotator_names
from rader_hub.redaction import SECRET_VARIABLES, files_with_secrets

if TYPE_CHECKING:
    from rader_hub.publish.dataset import DatasetFolder

CARD_FILE = "README.md"


class ArtifactKind(str, Enum):
    dataset = "dataset"
    model = "model"  # a retriever (sentence-transformers bi-encoder)
    reranker = "reranker"  # a cross-encoder

    @property
    def repo_type(self) -> str:
        return "dataset" if self is ArtifactKind.dataset else "model"


@dataclass(frozen=True)
class RenderedFolder:
    """A folder holding exactly what a publish uploads, card included."""

    kind: ArtifactKind
    repo_id: str
    path: Path
    files: list[str]
    commit_message: str


def render_publish_folder(
    kind: ArtifactKind, source: Path, repo_id: str, out: Path, options: CardOptions | None = None, *, include_annotators: bool = False
) -> RenderedFolder:
    """Check ``source``, render its card for ``repo_id`` and write the upload folder to ``out``
    (which must not exist, or be empty). No network. The folder holds no path or server URL of
    this machine, and annotators' user names only with ``include_annotators``."""
    check_repo_id(repo_id)
    options = options or CardOptions()
    with staging_folder(out) as staging:
        message = _assemble(kind, source, repo_id, staging, options, include_annotators)
        leaked = files_with_secrets(staging)
        if leaked:
            secrets = f"{', '.join(SECRET_VARIABLES)} or the Hub login"
            raise ConfigError(f"refusing to publish: {', '.join(leaked)} contain(s) the value of a secret ({secrets})")
        files = relative_files(staging)
    return RenderedFolder(kind, repo_id, out, files, message)


def publish_rendered(
    folder: RenderedFolder, *, private: bool = False, revision: str | None = None, message: str | None = None, token: str | None = None
) -> PublishResult:
    """Upload a rendered folder as one commit on ``revision`` (a branch, created if needed)."""
    return upload_folder(
        folder.path,
        folder.repo_id,
        folder.kind.repo_type,
        message=message or folder.commit_message,
        description=f"Published with rader-hub {__version__}: {len(folder.files)} files.",
        private=private,
        revision=revision,
        token=token,
    )


def publish(
    kind: ArtifactKind,
    source: Path,
    repo_id: str,
    options: CardOptions | None = None,
    *,
    private: bool = False,
    revision: str | None = None,
    message: str | None = None,
    token: str | None = None,
    out: Path | None = None,
    include_annotators: bool = False,
) -> PublishResult:
    """Render ``source`` (into ``out`` if given, to keep a copy) and publish it to ``repo_id``."""
    upload = {"private": private, "revision": revision, "message": message, "token": token}
    render = {"options": options, "include_annotators": include_annotators}
    if out is not None:
        return publish_rendered(render_publish_folder(kind, source, repo_id, out, **render), **upload)
    with tempfile.TemporaryDirectory(prefix="rader-publish-") as temporary:
        return publish_rendered(render_publish_folder(kind, source, repo_id, Path(temporary) / "upload", **render), **upload)


def _assemble(kind: ArtifactKind, source: Path, repo_id: str, staging: Path, options: CardOptions, include_annotators: bool) -> str:
    """Place the files (their published copies) and the card in ``staging``; return the default commit message."""
    if kind is ArtifactKind.dataset:
        from rader_hub.publish.dataset import load_dataset_folder
        from rader_hub.publish.dataset_card import dataset_card

        dataset = load_dataset_folder(source)
        copy = PortableCopy(annotator_names(dataset.table, dataset.review), include_annotators)
        dataset = _copy_dataset(dataset, staging, copy)
        card = dataset_card(dataset, repo_id, options)  # from the copies: the card says what is published
        recipes = ", ".join(sorted(set(dataset.table.column("recipe_name").to_pylist())))
        message = f"Publish {dataset.table.num_rows} rows of RaDeR training data (recipe {recipes})"
    else:
        from rader_hub.publish.model import load_model_folder
        from rader_hub.publish.model_card import EVAL_RESULTS_FILE, eval_results_yaml, model_card
        from rader_hub.training.runtime import SUMMARY_FILE

        model = load_model_folder(source, "retriever" if kind is ArtifactKind.model else "reranker")
        copy = PortableCopy()
        local_training = model.training  # its paths still lead to the training data, for the card's facts
        for path in model.files_to_upload():
            if path == source / SUMMARY_FILE and model.training is not None:
                model = replace(model, training=copy.json_file(model.training, staging / SUMMARY_FILE))
            else:
                place(path, staging / path.relative_to(source))
        results = eval_results_yaml(model, repo_id, options)  # the Hub's evaluation-results format, beside model-index
        if results:
            (staging / EVAL_RESULTS_FILE).parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(staging / EVAL_RESULTS_FILE, results)
        card = model_card(model, repo_id, options, local_training)
        steps = (model.training or {}).get("steps")
        message = f"Publish the {model.kind}" + (f" ({steps} training steps)" if steps is not None else "")
    card.save(staging / CARD_FILE)
    check_card(card, staging)
    copy.check(staging)
    return message


def _copy_dataset(dataset: DatasetFolder, staging: Path, copy: PortableCopy) -> DatasetFolder:
    """The published copy of a run folder in ``staging``, as a DatasetFolder for the card."""
    import pyarrow as pa

    from rader_hub.publish.dataset import REVIEW_FILE, DatasetFolder
    from rader_hub.schema import RunFolder

    shards = [staging / "data" / shard.name for shard in dataset.shards]
    tables = [copy.shard(shard, target) for shard, target in zip(dataset.shards, shards)]
    run = RunFolder(staging)
    summary = copy.json_file(dataset.summary, run.summary_file) if dataset.summary is not None else None
    recipe = copy.yaml_file(dataset.recipe, run.recipe_file) if dataset.recipe is not None else None
    review = copy.json_file(dataset.review, staging / REVIEW_FILE) if dataset.review is not None else None
    return DatasetFolder(staging, shards, pa.concat_tables(tables), summary, recipe, review)
