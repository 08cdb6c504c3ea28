"""A generation run folder (``outputs/<recipe>/``, or a ``rader review pull`` folder) as the files
of a Hub dataset repo: its Parquet shards, checked against the output schema, and the recipe,
summary and human-review files beside them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from rader_hub.errors import DataError
from rader_hub.schema import DATA, RunFolder, arrow_schema

if TYPE_CHECKING:
    import pyarrow as pa

SHARD_PATTERN = "train-*.parquet"  # how `datasets` names the shards of a train split
REVIEW_FILE = "review.json"  # written by `rader review pull` beside the data (human-review agreement)
_REVIEW_KEYS = {"reviewed": int, "agreement": (int, float), "labels": list, "confusion_matrix": list}


@dataclass(frozen=True)
class DatasetFolder:
    """A checked dataset folder: its shards and rows, and the optional files that travel with them."""

    root: Path
    shards: list[Path]
    table: pa.Table
    summary: dict[str, Any] | None
    recipe: dict[str, Any] | None
    review: dict[str, Any] | None

    @property
    def side_files(self) -> list[Path]:
        """summary.json, recipe.yaml and review.json, those that exist (uploaded beside the data)."""
        run = RunFolder(self.root)
        return [path for path in (run.summary_file, run.recipe_file, self.root / REVIEW_FILE) if path.is_file()]


def read_filters(value: str | dict[str, Any] | None) -> dict[str, Any]:
    """A row's ``filters``: a JSON string in older outputs, a struct (dict) in newer ones."""
    if isinstance(value, dict):
        return value
    return json.loads(value) if value else {}


def load_dataset_folder(path: Path) -> DatasetFolder:
    """Read and check a run folder; DataError names the file and what is wrong."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not path.exists():
        raise DataError(f"dataset folder '{path}' does not exist")
    if not path.is_dir():
        raise DataError(f"'{path}' is a file: pass the run folder (e.g. outputs/math)")
    run = RunFolder(path)
    shards = sorted(run.data_dir.glob(SHARD_PATTERN))
    if not shards:
        hint = f"pass its parent, '{path.parent}'" if path.name == DATA else "pass the run folder `rader generate` wrote, e.g. outputs/math"
        raise DataError(f"{path}: no {DATA}/{SHARD_PATTERN} found ({hint})")
    tables = []
    for shard in shards:
        check_output_schema(shard)
        tables.append(pq.read_table(shard))
    table = pa.concat_tables(tables)
    if table.num_rows == 0:
        raise DataError(f"{path}: the dataset has no rows (summary.json says why samples were dropped); nothing to publish")
    summary, recipe = _read_mapping(run.summary_file, json.loads), _read_mapping(run.recipe_file, yaml.safe_load)
    return DatasetFolder(path, shards, table, summary, recipe, _read_review(path / REVIEW_FILE))


def check_output_schema(shard: Path) -> None:
    """Every column of the output schema (rader_hub.schema) with its type."""
    import pyarrow.parquet as pq

    try:
        found = pq.read_schema(shard)
    except (OSError, ValueError) as exc:  # pyarrow's ArrowIOError / ArrowInvalid
        raise DataError(f"{shard}: not a readable Parquet file ({str(exc).splitlines()[0]})") from None
    expected = arrow_schema()
    missing = [name for name in expected.names if name not in found.names]
    if missing:
        raise DataError(f"{shard}: not the generation output schema, missing column(s) {', '.join(missing)}")
    for field in expected:
        actual = found.field(field.name).type
        if actual != field.type:
            raise DataError(f"{shard}: column '{field.name}' is {actual}, the generation output schema says {field.type}")


def _read_mapping(path: Path, parse) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        data = parse(path.read_text(encoding="utf-8"))
    except (ValueError, yaml.YAMLError) as exc:
        raise DataError(f"{path}: does not parse ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise DataError(f"{path}: expected a mapping at the top level")
    return data


def _read_review(path: Path) -> dict[str, Any] | None:
    """review.json as `rader review pull` writes it; absent is fine, malformed is an error."""
    review = _read_mapping(path, json.loads)
    if review is None:
        return None
    for key, kind in _REVIEW_KEYS.items():
        if not isinstance(review.get(key), kind):
            raise DataError(f"{path}: '{key}' missing or not a {kind.__name__ if isinstance(kind, type) else 'number'}")
    return review
