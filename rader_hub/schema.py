"""The layout of a run's output folder (``outputs/<recipe name>/`` by default)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rader_hub.files import read_json

DATA = "data"
CHECKPOINTS = "checkpoints"
RUN = "run"


class RunFolder:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    @property
    def problems_file(self) -> Path:
        """Which problems this run selected and which it skipped (written by the loader)."""
        return self.root / RUN / "problems.json"

    @property
    def search_provenance_file(self) -> Path:
        """Generator, its revision, seed, retriever and filters of the search (written at load)."""
        return self.root / RUN / "search_provenance.json"

    def stats_file(self, stage: str, key: str) -> Path:
        safe = "".join(char if char.isalnum() or char in "._-" else "_" for char in key)
        return self.root / RUN / stage / f"{safe}.json"

    def stats(self, stage: str) -> list[dict[str, Any]]:
        folder = self.root / RUN / stage
        return [read_json(path, {}) for path in sorted(folder.glob("*.json"))] if folder.is_dir() else []

    def checkpoints(self, stage: str) -> Path:
        return self.root / CHECKPOINTS / stage

    @property
    def data_dir(self) -> Path:
        return self.root / DATA

    @property
    def summary_file(self) -> Path:
        return self.root / "summary.json"

    @property
    def recipe_file(self) -> Path:
        """The recipe the run used, as YAML (written with the dataset)."""
        return self.root / "recipe.yaml"
