"""Read rows from the data sources every loader accepts.

A source is a JSONL/JSON file, a Parquet file, a local folder (a ``datasets.save_to_disk`` folder
or a folder of JSONL/Parquet files), or a Hugging Face Hub dataset id with optional config and
split. Rows come back with a human-readable location so validation errors can name it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rader_hub.errors import DataError

ROW_FILE_SUFFIXES = (".jsonl", ".json", ".parquet")


@dataclass(frozen=True)
class DataSource:
    """A path or Hub dataset id, with the config and split `datasets` needs for Hub/folder sources."""

    path: str
    config: str | None = None
    split: str | None = None

    def __str__(self) -> str:
        extra = ":".join(part for part in (self.config, self.split) if part)
        return f"{self.path} [{extra}]" if extra else self.path


@dataclass(frozen=True)
class Row:
    """One record and where it came from, e.g. ``theorems.jsonl line 12``."""

    data: dict[str, Any]
    location: str


def read_rows(source: DataSource) -> list[Row]:
    """Read every row of ``source``; raise DataError naming the source if it cannot be read."""
    path = Path(source.path)
    if path.is_file():
        return list(_read_file(path))
    if path.is_dir():
        return _read_folder(path, source)
    if _looks_like_hub_id(source.path):
        return _read_hub(source)
    raise DataError(f"{source.path}: no such file or folder (and not a Hub dataset id like 'org/name')")


def _looks_like_hub_id(text: str) -> bool:
    parts = text.split("/")
    return len(parts) == 2 and all(parts) and not text.startswith((".", "/"))


def _read_file(path: Path) -> Iterator[Row]:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        yield from _read_parquet(path)
    elif suffix == ".jsonl" or (suffix == ".json" and _first_char(path) != "["):
        yield from _read_jsonl(path)
    elif suffix == ".json":
        yield from _read_json_array(path)
    else:
        raise DataError(f"{path}: unsupported file type '{suffix}' (expected .jsonl, .json or .parquet)")


def _first_char(path: Path) -> str:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                return line.strip()[0]
    return ""


def _read_jsonl(path: Path) -> Iterator[Row]:
    with path.open(encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            location = f"{path} line {line_number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{location}: invalid JSON ({exc.msg})") from exc
            if not isinstance(record, dict):
                raise DataError(f"{location}: expected a JSON object, got {type(record).__name__}")
            yield Row(record, location)


def _read_json_array(path: Path) -> Iterator[Row]:
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: invalid JSON ({exc.msg} at line {exc.lineno})") from exc
    for index, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise DataError(f"{path} item {index}: expected a JSON object, got {type(record).__name__}")
        yield Row(record, f"{path} item {index}")


def _read_parquet(path: Path) -> Iterator[Row]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several unrelated types for corrupt files
        raise DataError(f"{path}: cannot read Parquet ({exc})") from exc
    for index, record in enumerate(table.to_pylist(), start=1):
        yield Row(record, f"{path} row {index}")


def _read_folder(path: Path, source: DataSource) -> list[Row]:
    if (path / "dataset_info.json").is_file() or (path / "dataset_dict.json").is_file():
        return _read_saved_dataset(path, source)
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in ROW_FILE_SUFFIXES)
    if not files:
        raise DataError(f"{path}: folder holds no .jsonl, .json or .parquet files and is not a saved dataset")
    return [row for file in files for row in _read_file(file)]


def _read_saved_dataset(path: Path, source: DataSource) -> list[Row]:
    from datasets import DatasetDict, load_from_disk

    dataset = load_from_disk(str(path))
    if isinstance(dataset, DatasetDict):
        if source.split is None:
            raise DataError(f"{path}: saved dataset has splits {sorted(dataset)}; choose one with a split option")
        if source.split not in dataset:
            raise DataError(f"{path}: no split '{source.split}' (has {sorted(dataset)})")
        dataset = dataset[source.split]
    return [Row(record, f"{path} row {index}") for index, record in enumerate(dataset, start=1)]


def _read_hub(source: DataSource) -> list[Row]:
    from datasets import load_dataset

    try:
        dataset = load_dataset(source.path, source.config, split=source.split or "train")
    except Exception as exc:  # network, auth and missing-config errors all end here
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{source}: cannot load Hub dataset ({first_line})") from exc
    return [Row(record, f"{source} row {index}") for index, record in enumerate(dataset, start=1)]
