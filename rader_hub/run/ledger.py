"""Which stages of a main-job run are finished, and with what settings.

Each stage is recorded under a key: the hash of its own settings (with the content of the local
files they name) and of the fingerprints of what the stages before it produced. A re-run skips a
stage whose key is unchanged and whose outputs still have the fingerprint recorded for them; a
changed setting or input file changes that stage's key, outputs changed behind the ledger's back
(a dataset regenerated with `rader generate`, a replaced model) re-run the stage that made them,
and through its new outputs the keys of the stages after it change.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rader_hub.files import read_json, write_json_atomic
from rader_hub.fingerprints import files_fingerprint


def local_inputs(values: Iterable[Any], outside: Path) -> dict[str, str]:
    """The fingerprint of each local file named by a string among ``values`` (nested lists and
    mappings too), except files in ``outside`` (the run folder the run writes). Folders count by
    name only: a recipe names folders it writes (its output folder) and a folder can be huge."""
    found: dict[str, str] = {}
    pending = list(values)
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, list | tuple):
            pending.extend(value)
        elif isinstance(value, str) and value and "\n" not in value and _is_file(value):
            path = Path(value).expanduser()
            if not path.resolve().is_relative_to(outside.resolve()):
                found[value] = files_fingerprint(path)
    return found


def _is_file(value: str) -> bool:
    try:
        return Path(value).expanduser().is_file()
    except (OSError, ValueError):  # a description, not a path: too long a name, a NUL byte
        return False


def unchanged(record: StageRecord, paths: list[Path]) -> bool:
    """Whether ``paths`` still hold what ``record`` says the stage wrote."""
    return all(path.exists() for path in paths) and record.outputs.get("fingerprint") == files_fingerprint(*paths)


@dataclass
class StageRecord:
    key: str
    seconds: float
    finished_at: str
    outputs: dict[str, Any] = field(default_factory=dict)


class StageLedger:
    """The finished stages of one run folder, kept in a JSON file written atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.records = {name: StageRecord(**record) for name, record in (read_json(path, {}) or {}).items()}

    def finished(self, stage: str, key: str) -> StageRecord | None:
        """The record of ``stage`` if it finished under ``key``; None if it must run."""
        record = self.records.get(stage)
        return record if record is not None and record.key == key else None

    def record(self, stage: str, key: str, seconds: float, outputs: dict[str, Any]) -> StageRecord:
        record = StageRecord(key, round(seconds, 1), time.strftime("%Y-%m-%dT%H:%M:%S%z"), outputs)
        self.records[stage] = record
        write_json_atomic(self.path, {name: asdict(entry) for name, entry in self.records.items()})
        return record
