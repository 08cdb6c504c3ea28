"""Publishing as a Python API: render the folder that would be uploaded (the dry run), and upload it.
The same rendering serves both, so what a user reviews is what goes up. The CLI (`rader publish`)
and later commands call these."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from rader_hub import __version__
from rader_hub.errors import ConfigError
from rader_hub.publish.cards import CardOptions
from rader_hub.publish.folder import place, relative_files, staging_folder
from rader_hub.publish.hub import PublishResult, check_repo_id, upload_folder
from rader_hub.publish.metadata import check_card
from rader_hub.redaction import SECRET_VARIABLES, files_with_secrets

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


def render_publish_folder(kind: ArtifactKind, source: Path, repo_id: str, out: Path, options: CardOptions | None = None) -> RenderedFolder:
    """Check ``source``, render its card for ``repo_id`` and write the upload folder to ``out``
    (which must not exist, or be empty). No network."""
    check_repo_id(repo_id)
    options = options or CardOptions()
    with staging_folder(out) as staging:
        message = _assemble(kind, source, repo_id, staging, options)
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
) -> PublishResult:
    """Render ``source`` (into ``out`` if given, to keep a copy) and publish it to ``repo_id``."""
    upload = {"private": private, "revision": revision, "message": message, "token": token}
    if out is not None:
        return publish_rendered(render_publish_folder(kind, source, repo_id, out, options), **upload)
    with tempfile.TemporaryDirectory(prefix="rader-publish-") as temporary:
        return publish_rendered(render_publish_folder(kind, source, repo_id, Path(temporary) / "upload", options), **upload)


def _assemble(kind: ArtifactKind, source: Path, repo_id: str, staging: Path, options: CardOptions) -> str:
    """Place the files and the card in ``staging``; return the default commit message."""
    if kind is ArtifactKind.dataset:
        from rader_hub.publish.dataset import load_dataset_folder
        from rader_hub.publish.dataset_card import dataset_card

        dataset = load_dataset_folder(source)
        card = dataset_card(dataset, repo_id, options)
        for shard in dataset.shards:
            place(shard, staging / "data" / shard.name)
        for path in dataset.side_files:
            place(path, staging / path.name)
        recipes = ", ".join(sorted(set(dataset.table.column("recipe_name").to_pylist())))
        message = f"Publish {dataset.table.num_rows} rows of RaDeR training data (recipe {recipes})"
    else:
        from rader_hub.publish.model import load_model_folder
        from rader_hub.publish.model_card import model_card

        model = load_model_folder(source, "retriever" if kind is ArtifactKind.model else "reranker")
        card = model_card(model, repo_id, options)
        for path in model.files_to_upload():
            place(path, staging / path.relative_to(source))
        steps = (model.training or {}).get("steps")
        message = f"Publish the {model.kind}" + (f" ({steps} training steps)" if steps is not None else "")
    card.save(staging / CARD_FILE)
    check_card(card, staging)
    return message
