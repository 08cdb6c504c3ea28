"""The main job's publish stage: render the dataset and model folders with their cards (what a
user reviews), and upload them to the Hub when a repo is given."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rader_hub.publish.cards import CardOptions
from rader_hub.publish.publisher import ArtifactKind, publish_rendered, render_publish_folder


def publish_both(
    dataset: Path,
    model: Path,
    eval_files: Sequence[Path],
    out_root: Path,
    dataset_repo: str,
    model_repo: str,
    upload: bool,
    private: bool = False,
) -> dict[str, Any]:
    """Render the dataset and the model with their cards and, with ``upload``, publish each as one commit.

    The dataset is published first, so the model card's link to it resolves. A folder rendered by
    an earlier run is replaced whole.

    Args:
        dataset: The run folder to publish as the dataset (the generation's, or the reviewed one).
        model: The trained retriever's folder.
        eval_files: `rader eval --json` files the model card reports.
        out_root: Where ``dataset/`` and ``model/`` are rendered.
        dataset_repo: The dataset's Hub repo, ``ORG/NAME``.
        model_repo: The model's Hub repo, ``ORG/NAME``.
        upload: Publish the rendered folders; ``False`` renders only (a dry run).
        private: Make the repos private. Defaults to ``False``.

    Returns:
        `dict`: the rendered ``folders`` and their ``repos`` by kind, ``uploaded``, and after an
        upload the ``commits`` (URLs) and the kinds ``made_private``.

    Raises:
        ConfigError: A repo id is not ``ORG/NAME``, or a rendered file contains a secret's value.
        DataError: The run folder or an eval file is malformed.
        AssetError: The model folder is not a loadable retriever.
        CardError: A card's metadata does not validate (e.g. no licence known).
        HubError: The Hub cannot be reached or refuses the upload.
    """
    rendered = []
    for kind, source, repo, options in (
        (ArtifactKind.dataset, dataset, dataset_repo, CardOptions()),
        (ArtifactKind.model, model, model_repo, CardOptions(eval_files=tuple(eval_files), dataset_repo=dataset_repo)),
    ):
        out = out_root / kind.value
        shutil.rmtree(out, ignore_errors=True)  # a render of an earlier run: replaced whole
        rendered.append(render_publish_folder(kind, source, repo, out, options))
    outputs: dict[str, Any] = {
        "folders": {folder.kind.value: str(folder.path) for folder in rendered},
        "repos": {folder.kind.value: folder.repo_id for folder in rendered},
        "uploaded": upload,
    }
    if upload:
        results = {folder.kind.value: publish_rendered(folder, private=private) for folder in rendered}
        outputs["commits"] = {kind: result.commit_url for kind, result in results.items()}
        outputs["made_private"] = [kind for kind, result in results.items() if result.made_private]  # were public
    return outputs
