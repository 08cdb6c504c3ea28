"""Content hashes that decide whether work is redone: of settings (checkpoints, the run ledger, the
recipe hash every row records) and of files (a stage's outputs, the inputs a recipe names, a GGUF
generator). Checkpoints and ledgers written earlier record these values, so they must not change.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rader_hub.portable import portable

_BLOCK = 1 << 20  # files are read in blocks: model weights do not fit in memory twice


def settings_hash(settings: Any) -> str:
    """A short, stable hash of JSON-able settings: mapping order does not matter, a tuple hashes as
    a list, and a value JSON has no form for (a path, an enum) counts by its ``str()``."""
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:16]


def recipe_hash(recipe: dict[str, Any]) -> str:
    """The hash every row records: of the recipe as run (what recipe.yaml holds), without where it
    ran (paths, server URLs), so the published copy of recipe.yaml hashes to the same value."""
    return settings_hash(portable(recipe))


def file_sha256(path: Path) -> str:
    """The sha256 of one file's content, in full (the form model hubs publish)."""
    digest = hashlib.sha256()
    for block in _blocks(path):
        digest.update(block)
    return digest.hexdigest()


def files_fingerprint(*paths: Path) -> str:
    """A short content hash of files and folders: a folder counts every file below it with its
    relative path (a renamed file changes it), a file its name and content."""
    digest = hashlib.sha256()
    for path in paths:
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(path) if path.is_dir() else file.name).encode() + b"\0")
            for block in _blocks(file):
                digest.update(block)
    return digest.hexdigest()[:16]


def _blocks(file: Path) -> Iterator[bytes]:
    with file.open("rb") as stream:
        yield from iter(lambda: stream.read(_BLOCK), b"")
