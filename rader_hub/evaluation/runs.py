"""A file of evaluation runs (JSON lines) that `rader eval` appends to and charts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rader_hub.errors import DataError


def append_run(path: Path, label: str, metrics: dict[str, Any], settings: dict[str, Any]) -> None:
    """Add one run; one line per run, so an interrupted run never corrupts earlier ones."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"label": label, "metrics": metrics, "settings": settings}) + "\n")


def load_runs(path: Path) -> list[tuple[str, dict[str, float]]]:
    """(label, metrics) per run; a later run with the same label replaces the earlier one."""
    runs: dict[str, dict[str, float]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            runs[str(record["label"])] = dict(record["metrics"])
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise DataError(f"{path} line {number}: not a run record ({exc})") from exc
    return list(runs.items())
