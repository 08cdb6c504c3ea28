"""Locations of the data that ships with rader-hub (see data/PROVENANCE.md)."""

from __future__ import annotations

from pathlib import Path

from rader_hub.assets import EMBEDDED
from rader_hub.errors import DataError
from rader_hub.records import DataSource


_RELATIVE_PATHS = {
    "theorems": "theoremqa/theorems.jsonl",
    "dev_queries": "theoremqa/dev_queries.jsonl",
    "math_problems": "math/math_train_1000.jsonl",
}


def data_dir() -> Path:
    """The embedded data folder: the repo's data/ (editable install) or the copy inside the wheel."""
    package_dir = Path(__file__).resolve().parent
    for candidate in (package_dir.parent / "data", package_dir / "_embedded_data"):
        if (candidate / "PROVENANCE.md").is_file():
            return candidate
    raise DataError(f"embedded data not found next to {package_dir}; reinstall rader-hub")


def embedded_path(kind: str) -> Path:
    """Path of one embedded dataset: 'theorems', 'dev_queries' or 'math_problems'."""
    return data_dir() / _RELATIVE_PATHS[kind]


def resolve_source(path: str, kind: str, config: str | None = None, split: str | None = None) -> DataSource:
    """Turn a user-given source (or 'embedded') into a DataSource."""
    if path == EMBEDDED:
        return DataSource(str(embedded_path(kind)))
    return DataSource(path, config, split)
