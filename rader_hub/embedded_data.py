"""Locations of the data that ships with rader-hub (see data/PROVENANCE.md)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rader_hub.assets import EMBEDDED
from rader_hub.errors import DataError
from rader_hub.records import DataSource

_RELATIVE_PATHS = {
    "theorems": "theoremqa/theorems.jsonl",
    "dev_queries": "theoremqa/dev_queries.jsonl",
    "math_problems": "math/math_train_1000.jsonl",
}


@dataclass(frozen=True)
class EmbeddedSource:
    """What an embedded dataset is, where it comes from and its licence (details: data/PROVENANCE.md)."""

    description: str
    url: str
    license: str  # a Hub licence identifier


_THEOREMQA = "https://github.com/wenhuchen/TheoremQA"
EMBEDDED_SOURCES = {
    "theorems": EmbeddedSource("354 theorem descriptions from TheoremQA (Chen et al., 2023)", _THEOREMQA, "mit"),
    "dev_queries": EmbeddedSource("399 TheoremQA test questions, each annotated with the theorem it needs", _THEOREMQA, "mit"),
    "math_problems": EmbeddedSource("1,000 MATH training problems (Hendrycks et al., 2021)", "https://github.com/hendrycks/math", "mit"),
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
    """Turn a user-given source, or ``embedded``, into a DataSource.

    Args:
        path: ``embedded`` for the data that ships with rader-hub, else a file, folder or Hub dataset id.
        kind: Which embedded dataset ``embedded`` means: ``theorems``, ``dev_queries`` or ``math_problems``.
        config: The Hub dataset's config (ignored for ``embedded``). Defaults to ``None``.
        split: The Hub dataset's split (ignored for ``embedded``). Defaults to ``None``.

    Returns:
        `DataSource`: what the loaders (`load_corpus`, `load_queries`, the trainers) read.

    Raises:
        DataError: ``embedded`` was asked for and the embedded data is missing from the installation.
    """
    if path == EMBEDDED:
        return DataSource(str(embedded_path(kind)))
    return DataSource(path, config, split)
