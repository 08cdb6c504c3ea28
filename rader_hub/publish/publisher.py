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
    """What is published: a dataset (a generation run folder), a retriever or a reranker."""

    dataset = "dataset"
    model = "model"  # a retriever (sentence-transformers bi-encoder)
    reranker = "reranker"  # a cross-encoder

    @property
    def repo_type(self) -> str:
        """The Hub's repo type: ``dataset`` or ``model`` (rerankers are models)."""
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
    """Check ``source``, render its card for ``repo_id`` and write the upload folder to ``out``.

    No network: this is the dry run, and what it writes is exactly what `publish_rendered` uploads.
    The folder holds no path or server URL of this machine, and annotators' user names only with
    ``include_annotators``. It appears whole or not at all (rendered in a staging folder first).

    Args:
        kind: What ``source`` is: a generation run folder (``dataset``), a retriever (``model``) or
            a reranker (``reranker``) folder as `rader train` writes it.
        source: The run folder (e.g. ``outputs/math``, or the ``reviewed/`` folder of `rader review
            pull`) or the model folder.
        repo_id: The Hub repo the card is written for, ``ORG/NAME``.
        out: Where the upload folder is written; must not exist, or be an empty folder.
        options: What the card adds beyond what the artifact records (licence, `rader eval --json`
            files, the dataset repo, a template). Defaults to ``CardOptions()``.
        include_annotators: Keep the reviewers' Argilla user names in the published review files;
            by default they become pseudonyms (``annotator-1``, ...).

    Returns:
        `RenderedFolder`: the folder, its files (relative POSIX paths) and the default commit message.

    Raises:
        ConfigError: ``repo_id`` is not ``ORG/NAME``, ``out`` is not a new or empty folder, a
            rendered file contains the value of a secret (``HF_TOKEN``, the Argilla key, ...), or
            a card template is missing.
        DataError: The run folder, one of its files or an eval file is malformed.
        AssetError: The model folder is not a loadable sentence-transformers model of ``kind``.
        CardError: The card's metadata does not validate (e.g. no licence known: pass one in ``options``).
    """
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
    """Upload a rendered folder as one commit on ``revision`` (a branch, created if needed).

    The commit replaces the revision's files with the folder's (stale files are deleted in it) and
    has the head read before it as parent, so a concurrent change fails the publish instead of
    being overwritten. The Hub is ``HF_ENDPOINT`` when set, else huggingface.co.

    Args:
        folder: What `render_publish_folder` returned.
        private: Make the repo private; a public repo is made private before anything is uploaded.
            Defaults to ``False`` (a new repo gets the Hub's default, an existing one is left as it is).
        revision: The branch to commit to, created from ``main`` if missing. Defaults to ``main``.
        message: The commit message. Defaults to the folder's (rows or training steps).
        token: A Hub token with write access. Defaults to ``HF_TOKEN`` or the saved login.

    Returns:
        `PublishResult`: the repo and commit URLs, the new and previous commit ids, the files
        removed, and whether the repo was made private.

    Raises:
        ConfigError: The folder's repo id is not ``ORG/NAME``.
        HubError: No token, the Hub cannot be reached, refuses the token or the repo, or the
            revision changed meanwhile; the message names the endpoint.
        CardError: The Hub rejected the card's metadata.
    """
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
    """Render ``source`` and publish it to ``repo_id``: `render_publish_folder` then `publish_rendered`.

    Args:
        kind: What ``source`` is (a dataset run folder, a retriever or a reranker folder).
        source: The run folder or model folder to publish.
        repo_id: The Hub repo, ``ORG/NAME``; created if it does not exist.
        options: What the card adds beyond what the artifact records. Defaults to ``CardOptions()``.
        private: Make the repo private (see `publish_rendered`). Defaults to ``False``.
        revision: The branch to commit to. Defaults to ``main``.
        message: The commit message. Defaults to one naming the rows or training steps.
        token: A Hub token with write access. Defaults to ``HF_TOKEN`` or the saved login.
        out: Keep the rendered folder here (must not exist, or be empty). Defaults to a temporary
            folder, removed afterwards.
        include_annotators: Keep the reviewers' Argilla user names. Defaults to ``False`` (pseudonyms).

    Returns:
        `PublishResult`: the repo and commit URLs and what the commit changed.

    Raises:
        ConfigError: A bad repo id or ``out``, a secret's value in a rendered file, a missing template.
        DataError: The run folder or an eval file is malformed.
        AssetError: The model folder is not a loadable model of ``kind``.
        CardError: The card's metadata does not validate, here or on the Hub.
        HubError: The Hub cannot be reached or refuses the upload.
    """
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
