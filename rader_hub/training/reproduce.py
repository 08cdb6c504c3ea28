"""What reproduces a trained model, recorded in rader_training.json and shown on its card from the
same functions: the revision of the dataset it was trained on, and the `rader train` / `rader eval`
commands that train and evaluate it again. Nothing here names a place on this machine: a local
dataset is named by the last parts of its path and identified by its content."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rader_hub import __version__
from rader_hub.assets import hub_commit
from rader_hub.fingerprints import files_fingerprint
from rader_hub.records import DataSource

# Training settings that `rader train` takes under another flag name, and those it does not take.
_FLAG_NAMES = {"learning_rate": "--lr", "query_types": "--query-type"}
_NOT_FLAGS = {"out_dir", "base", "show_progress", "logging_steps", "resume", "keep_checkpoints", "save_steps"}
_RECIPE_HASH = "recipe_hash"  # the column every generated row carries


def dataset_revision(source: DataSource | None) -> dict[str, Any] | None:
    """Which version of the training data a run read: a Hub dataset's id and the commit it was loaded
    at (None when the local Hub cache does not say), or a local dataset's content fingerprint and the
    recipe hashes of its rows (a generation output's; none for other data). None for in-memory triples."""
    if source is None:
        return None
    path = Path(source.path)
    if not path.exists():  # read from the Hub (rader_hub.records reads local paths first)
        return {"hub_id": source.path, "commit": hub_commit(source.path, repo_type="dataset")}
    return {"name": local_data_name(source.path), "fingerprint": files_fingerprint(path), "recipe_hashes": _recipe_hashes(path)}


def data_argument(source: DataSource | None) -> str:
    """The training data as `rader train --data` is given it again: a Hub id as it is, a local path by
    :func:`local_data_name`, ``DATA`` for triples passed in memory."""
    if source is None:
        return "DATA"
    return local_data_name(source.path) if Path(source.path).exists() else source.path


def local_data_name(path: str) -> str:
    """A local dataset as a command or card names it: the last two parts of its path (``math/data``)."""
    return "/".join(Path(path).parts[-2:])


def reproduce_commands(kind: str, config: dict[str, Any], data: str) -> dict[str, str]:
    """``install`` this version, ``train`` with every recorded setting (``config`` as rader_training.json
    holds it) that differs from its default, and for a retriever ``eval`` on the TheoremQA dev set."""
    from rader_hub.training.config import RerankerTrainingConfig, RetrieverTrainingConfig

    defaults = (RetrieverTrainingConfig if kind == "retriever" else RerankerTrainingConfig)(out_dir="model")
    parts = [f"rader train {kind} --data {data} --out model --base {config.get('base')}"]
    for name, value in config.items():
        if name == "mini_batch_size" and value is None:  # records from before 0 named the plain loss
            value = 0
        if name in _NOT_FLAGS or getattr(defaults, name, value) == value:
            continue
        flag = _FLAG_NAMES.get(name, "--" + name.replace("_", "-"))
        if isinstance(value, bool):
            parts.append(flag if value else "--no-" + flag[2:])
        elif isinstance(value, list):
            parts += [f"{flag} {item}" for item in value]
        else:
            parts.append(f"{flag} {json.dumps(value) if isinstance(value, str) else value}")
    commands = {"install": f"pip install rader-hub=={__version__}", "train": " ".join(parts)}
    if kind == "retriever":
        commands["eval"] = "rader eval --retriever dense --model model --json > eval-model.json"
    return commands


def _recipe_hashes(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path, columns=[_RECIPE_HASH])
    except (OSError, ValueError, KeyError):  # not Parquet, or not a generation output's columns
        return []
    return sorted({value for value in table.column(_RECIPE_HASH).to_pylist() if value})
