"""Per-item checkpoints so a killed run resumes without redoing finished work.

distilabel's own resume hangs after an interrupt (distilabel issue #1065), so each expensive step saves one
JSON file per finished item (a problem's search, a sample's queries) under the run folder. A
file is written to a temporary name and renamed, so a kill never leaves half a checkpoint. Each
file records the hash of the settings that produced it; a rerun with other settings redoes it.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from rader_hub.files import write_json_atomic
from rader_hub.fingerprints import settings_hash


class CheckpointStore:
    def __init__(self, directory: str | Path, settings: dict[str, Any]) -> None:
        self.directory = Path(directory)
        self.settings_hash = settings_hash(settings)

    def _path(self, key: str) -> Path:
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", key)[:80]
        digest = hashlib.sha256(key.encode()).hexdigest()[:10]
        return self.directory / f"{slug}-{digest}.json"

    def load(self, key: str) -> Any | None:
        """The saved payload, or None if missing, unreadable or made with other settings."""
        path = self._path(key)
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return None
        if record.get("settings_hash") != self.settings_hash or record.get("key") != key:
            return None
        return record["payload"]

    def save(self, key: str, payload: Any) -> None:
        record = {"key": key, "settings_hash": self.settings_hash, "payload": payload}
        write_json_atomic(self._path(key), record, indent=None)

    def all_payloads(self) -> list[Any]:
        """Every payload made with the current settings."""
        payloads = []
        for path in sorted(self.directory.glob("*.json")):
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                continue
            if record.get("settings_hash") == self.settings_hash:
                payloads.append(record["payload"])
        return payloads
