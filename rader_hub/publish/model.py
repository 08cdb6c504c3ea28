"""A trained model folder as the files of a Hub model repo: the sentence-transformers folder as it
was saved (safetensors weights, prompts in config_sentence_transformers.json) with the training
record and charts the trainer wrote beside it, checked by loading it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rader_hub.errors import AssetError, DataError
from rader_hub.training.runtime import CHECKPOINT_DIR, SUMMARY_FILE

README = "README.md"
ST_CONFIG = "config_sentence_transformers.json"
# sentence-transformers' model_type for each kind of model rader-hub publishes.
MODEL_TYPES = {"retriever": "SentenceTransformer", "reranker": "CrossEncoder"}
_PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".ckpt")


@dataclass(frozen=True)
class ModelFolder:
    """A checked model folder, the model loaded from it, and what the trainer recorded."""

    root: Path
    kind: str
    model: Any  # SentenceTransformer or CrossEncoder
    training: dict[str, Any] | None  # rader_training.json
    saved_card: str | None  # the README.md sentence-transformers wrote on save

    def files_to_upload(self) -> list[Path]:
        """Everything saved, except the old card (a new one replaces it), training checkpoints and
        hidden files (editors' and tools' leftovers)."""
        return [
            path
            for path in sorted(self.root.rglob("*"))
            if path.is_file()
            and path != self.root / README
            and path.relative_to(self.root).parts[0] != CHECKPOINT_DIR
            and not path.name.startswith(".")
        ]


def load_model_folder(path: Path, kind: str) -> ModelFolder:
    """Check and load a saved model; AssetError says why it cannot be published."""
    if not path.is_dir():
        raise AssetError(f"model folder '{path}' does not exist" if not path.exists() else f"'{path}' is a file: pass the model folder")
    _check_model_type(path, kind)
    pickles = [file.name for file in path.iterdir() if file.suffix in _PICKLE_SUFFIXES]
    if pickles:
        names = ", ".join(sorted(pickles))
        raise AssetError(f"{path}: pickle weights ({names}) are not published; save the model with safetensors (model.save(path))")
    if not any(path.glob("*.safetensors")):
        raise AssetError(f"{path}: no .safetensors weights (is this the folder `rader train` wrote?)")
    return ModelFolder(path, kind, _load(path, kind), _read_training(path / SUMMARY_FILE), _read_saved_card(path / README))


def _check_model_type(path: Path, kind: str) -> None:
    config = path / ST_CONFIG
    if not config.is_file():
        raise AssetError(f"{path}: no {ST_CONFIG}: not a sentence-transformers model folder")
    try:
        model_type = json.loads(config.read_text(encoding="utf-8")).get("model_type", MODEL_TYPES["retriever"])
    except (ValueError, AttributeError) as exc:
        raise AssetError(f"{config}: does not parse ({exc})") from None
    if model_type != MODEL_TYPES[kind]:
        other = next((name for name, value in MODEL_TYPES.items() if value == model_type), None)
        hint = f": publish it with `rader publish {'model' if other == 'retriever' else other}`" if other else ""
        raise AssetError(f"{path} is a {model_type}, not a {MODEL_TYPES[kind]} ({kind}){hint}")


def _load(path: Path, kind: str) -> Any:
    from sentence_transformers import CrossEncoder, SentenceTransformer

    model_class = SentenceTransformer if kind == "retriever" else CrossEncoder
    try:
        return model_class(str(path), device="cpu", local_files_only=True)
    except Exception as exc:  # noqa: BLE001 - whatever stops it loading (bad JSON, truncated weights, missing module) refuses it
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise AssetError(f"{path}: does not load with sentence-transformers {model_class.__name__} ({first_line})") from None


def _read_training(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise DataError(f"{path}: does not parse ({exc})") from None


def _read_saved_card(path: Path) -> str | None:
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    return text if "library_name: sentence-transformers" in text else None  # someone else's README is not built on
