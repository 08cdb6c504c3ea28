"""The upload folder: files placed (hard-linked where possible: model weights are large) into a
staging folder that becomes the output folder only once complete."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rader_hub.errors import ConfigError
from rader_hub.files import atomic_directory


def place(source: Path, target: Path) -> None:
    """Put ``source`` at ``target``: a hard link (no copy of gigabytes of weights), else a copy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:  # another file system, or links not allowed
        shutil.copy2(source, target)


def relative_files(folder: Path) -> list[str]:
    return sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file())


@contextmanager
def staging_folder(out: Path) -> Iterator[Path]:
    """A folder to render into that becomes ``out`` when the block succeeds (never half written)."""
    if out.exists():
        if not out.is_dir() or any(out.iterdir()):
            raise ConfigError(f"out={out}: already exists and is not an empty folder (choose a new folder)", field="out")
        out.rmdir()
    with atomic_directory(out) as staging:
        if staging is None:  # another process created it meanwhile
            raise ConfigError(f"out={out}: already exists (choose a new folder)", field="out")
        yield staging
