"""Read rows from the data sources every loader accepts.

A source is a JSONL/JSON file, a Parquet file, a local folder (a ``datasets.save_to_disk`` folder
or a folder of JSONL/Parquet files), or a Hugging Face Hub dataset id with optional config and
split. Rows come back with a human-readable location so validation errors can name it.

Reading and validating a file is one pass that collects every row's problem: a file with several
problems is reported once, with the first row of each kind of problem and how many rows share it.
The field checks every loader shares (ids, texts, lists of strings) live here too.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from rader_hub.errors import DataError, RowError, not_utf8

T = TypeVar("T")


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


Identified = TypeVar("Identified", bound=_HasId)

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
    """Read every row of ``source``; raise DataError naming the source (and the first malformed
    line of each kind) if it cannot be read."""
    return parse_rows(source, lambda row: row)


def parse_rows(source: DataSource, parse: Callable[[Row], T]) -> list[T]:
    """``parse`` every row of ``source``. Malformed lines and the RowErrors ``parse`` raises are
    collected, and reported together at the end as one DataError; any other error stops at once."""
    problems = RowProblems(str(source))
    parsed: list[T] = []
    for item in _read_items(source):
        try:
            if isinstance(item, RowError):
                raise item
            parsed.append(parse(item))
        except RowError as problem:
            problems.add(problem)
    problems.raise_if_any()
    return parsed


def parse_unique_rows(source: DataSource, parse: Callable[[Row], Identified], what: str = "id") -> list[Identified]:
    """``parse_rows`` for records whose ``id`` must be unique: a repeat names both rows."""
    first_seen: dict[str, str] = {}

    def parse_unique(row: Row) -> Identified:
        record = parse(row)
        if record.id in first_seen:
            raise RowError(row.location, f"duplicate {what} '{record.id}' (first at {first_seen[record.id]})", kind=f"duplicate {what}")
        first_seen[record.id] = row.location
        return record

    return parse_rows(source, parse_unique)


class RowProblems:
    """The problems found in one source, kept as the first row of each kind and a count per kind."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.first: dict[str, RowError] = {}
        self.count: dict[str, int] = {}

    def add(self, problem: RowError) -> None:
        self.first.setdefault(problem.kind, problem)
        self.count[problem.kind] = self.count.get(problem.kind, 0) + 1

    def raise_if_any(self) -> None:
        if not self.first:
            return
        reports = [str(problem) + _more_like_it(self.count[kind] - 1) for kind, problem in self.first.items()]
        if len(reports) == 1:
            raise DataError(reports[0])
        raise DataError(f"{self.source}: {sum(self.count.values())} problems of {len(reports)} kinds; " + "; ".join(reports))


def _more_like_it(others: int) -> str:
    return f" (and {others} more row{'s' if others > 1 else ''} like it)" if others else ""


def _read_items(source: DataSource) -> Iterable[Row | RowError]:
    path = Path(source.path)
    if path.is_file():
        return _read_file(path)
    if path.is_dir():
        return _read_folder(path, source)
    if _looks_like_hub_id(source.path):
        return _read_hub(source)
    raise DataError(f"{source.path}: no such file or folder (and not a Hub dataset id like 'org/name')")


def row_id(row: Row) -> str:
    """The row's ``id`` as a string; missing or blank is an error."""
    value = row.data.get("id")
    if value is None or (isinstance(value, str) and not value.strip()):
        raise RowError(row.location, "missing 'id'")
    return str(value)


def text_field(row: Row, keys: Sequence[str], owner: str = "") -> str:
    """The first of ``keys`` present in the row, which must be a non-blank string. ``owner``
    (e.g. "query 'q1'") is added to the error so the user can find the record."""
    value = next((row.data[key] for key in keys if row.data.get(key) is not None), None)
    if not isinstance(value, str) or not value.strip():
        alternatives = "".join(f" (or '{key}')" for key in keys[1:])
        where = f" for {owner}" if owner else ""
        raise RowError(row.location, f"missing or empty '{keys[0]}'{alternatives}{where}", kind=f"missing or empty '{keys[0]}'")
    return value


def string_list(row: Row, key: str, required: bool = False) -> list[str]:
    """``row[key]`` as a list of non-blank strings; absent is ``[]`` unless ``required``."""
    value = row.data.get(key)
    if value is None:
        if required:
            raise RowError(row.location, f"missing '{key}'")
        return []
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) and item.strip() for item in value):
        raise RowError(row.location, f"'{key}' must be a list of non-empty strings")
    return list(value)


def _looks_like_hub_id(text: str) -> bool:
    parts = text.split("/")
    return len(parts) == 2 and all(parts) and not text.startswith((".", "/"))


def _read_file(path: Path) -> Iterator[Row | RowError]:
    try:
        yield from _read_by_suffix(path)
    except UnicodeDecodeError as exc:
        raise DataError(not_utf8(path, exc)) from None


def _read_by_suffix(path: Path) -> Iterator[Row | RowError]:
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


def _read_jsonl(path: Path) -> Iterator[Row | RowError]:
    with path.open(encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            location = f"{path} line {line_number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                yield RowError(location, f"invalid JSON at column {exc.colno}: {exc.msg}", kind="invalid JSON")
                continue
            yield _object_row(record, location)


def _read_json_array(path: Path) -> Iterator[Row | RowError]:
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
    for index, record in enumerate(records, start=1):
        yield _object_row(record, f"{path} item {index}")


def _object_row(record: Any, location: str) -> Row | RowError:
    if not isinstance(record, dict):
        return RowError(location, f"expected a JSON object, got {type(record).__name__}", kind="not a JSON object")
    return Row(record, location)


def _read_parquet(path: Path) -> Iterator[Row | RowError]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several unrelated types for corrupt files
        raise DataError(f"{path}: cannot read Parquet ({exc})") from exc
    for index, record in enumerate(table.to_pylist(), start=1):
        yield Row(record, f"{path} row {index}")


def _read_folder(path: Path, source: DataSource) -> list[Row | RowError]:
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
