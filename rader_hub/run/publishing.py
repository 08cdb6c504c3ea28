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
    """Render ``dataset`` and ``model`` into ``out_root/dataset`` and ``out_root/model``; with
    ``upload``, publish each as one commit (the dataset first, so the model card's link resolves)."""
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
