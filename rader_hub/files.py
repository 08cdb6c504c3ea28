"""Writing files so that a crash or kill never leaves half of one: the one place for that rule.

Content goes to a temporary file in the target's folder, is flushed to disk, then renamed over
the target (an atomic step on POSIX file systems). Files are created readable by others (0644,
as ``open`` would under the usual umask; ``tempfile.mkstemp`` alone gives 0600), because
datasets, models and summaries are made to be shared.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

FILE_MODE = 0o644
# The names the writers here give work in progress (atomic_path, atomic_directory, remove_tree).
LEFTOVER_PREFIXES = (".tmp-", ".staging-")
_PROBE_BYTES = 64 << 10  # what check_writable_folder writes: a full disk refuses it


def cache_dir(*parts: str) -> Path:
    """rader-hub's cache folder (``$RADER_CACHE_DIR``, default ``~/.cache/rader-hub``), or a
    sub-folder of it: embeddings, dequantised generators, the Argilla server's environment."""
    root = Path(os.environ.get("RADER_CACHE_DIR") or Path.home() / ".cache" / "rader-hub")
    return root.joinpath(*parts)


@contextmanager
def atomic_path(path: str | Path, mode: int = FILE_MODE) -> Iterator[Path]:
    """A temporary path next to ``path`` to write to; on success it replaces ``path`` (with
    permissions ``mode``), on error it is removed and ``path`` keeps its previous content."""
    target = Path(path)
    with _naming(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f"{LEFTOVER_PREFIXES[0]}{target.name}-")
    os.close(handle)
    try:
        with _naming(target):
            yield Path(temporary)
            os.chmod(temporary, mode)
            _fsync(temporary)  # whoever wrote it (pyarrow, matplotlib) closed it; its bytes reach the disk before its name
            os.replace(temporary, target)
            _fsync(target.parent)  # and the rename itself
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _fsync(path: str | Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@contextmanager
def _naming(target: Path) -> Iterator[None]:
    """An OSError about the temporary file or staging folder, or about no file at all (a write that hit
    a full disk), is re-raised naming ``target``: the path the user asked for is the one to report."""
    try:
        yield
    except OSError as exc:
        temporary = exc.filename is not None and Path(exc.filename).name.startswith(
            tuple(f"{prefix}{target.name}-" for prefix in LEFTOVER_PREFIXES)
        )
        if exc.errno is None or not (exc.filename is None or temporary):
            raise
        raise OSError(exc.errno, exc.strerror or os.strerror(exc.errno), str(target)) from exc


@contextmanager
def atomic_directory(path: str | Path) -> Iterator[Path | None]:
    """A staging folder next to ``path`` to fill; on success it is renamed to ``path``. Yields
    None when ``path`` already exists (nothing to do). If another process renames its own copy
    first, that copy is kept and this one is dropped."""
    target = Path(path)
    if target.exists():
        yield None
        return
    with _naming(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f"{LEFTOVER_PREFIXES[1]}{target.name}-", dir=target.parent))
    try:
        yield staging
        os.chmod(staging, 0o755)
        staging.rename(target)
    except OSError:
        if not target.exists():
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def check_writable_folder(folder: str | Path) -> None:
    """Create ``folder`` if needed and write (and drop) a small file in it: an OSError naming the folder
    now (read-only file system, no permission, a full disk), before a run spends minutes and fails in a worker."""
    target = Path(folder)
    with _naming(target):
        target.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(dir=target, prefix=f"{LEFTOVER_PREFIXES[0]}{target.name}-")
        try:
            os.write(handle, bytes(_PROBE_BYTES))
            os.fsync(handle)
        finally:
            os.close(handle)
            os.unlink(probe)


def write_atomic(path: str | Path, write: Callable[[BinaryIO], Any], mode: int = FILE_MODE) -> None:
    """Write ``path`` atomically with ``write(stream)`` on a binary stream."""
    with atomic_path(path, mode) as temporary, open(temporary, "wb") as stream:
        write(stream)


def write_text_atomic(path: str | Path, text: str, mode: int = FILE_MODE) -> None:
    write_atomic(path, lambda stream: stream.write(text.encode("utf-8")), mode)


def write_json_atomic(path: str | Path, payload: Any, indent: int | None = 1, mode: int = FILE_MODE) -> None:
    """``mode`` 0o600 for files that hold secrets (readable by their owner only)."""
    write_text_atomic(path, json.dumps(payload, ensure_ascii=False, indent=indent), mode)


def append_line_atomic(path: str | Path, line: str) -> None:
    """Add one line to a text file: the file is rewritten whole, so a full disk or a kill leaves
    it as it was, never with half a line."""
    target = Path(path)
    before = target.read_text(encoding="utf-8") if target.exists() else ""
    if before and not before.endswith("\n"):
        before += "\n"
    write_text_atomic(target, before + line.rstrip("\n") + "\n")


def remove_tree(path: str | Path) -> None:
    """Delete a folder so that a kill part-way never leaves part of it under its own name: it is
    renamed aside first (to a ``.tmp-`` name :func:`remove_leftovers` clears), then deleted."""
    folder = Path(path)
    if not folder.exists():
        return
    aside = folder.with_name(f"{LEFTOVER_PREFIXES[0]}{folder.name}-removing-{os.getpid()}-{time.monotonic_ns()}")
    folder.rename(aside)
    shutil.rmtree(aside, ignore_errors=True)


def remove_leftovers(folder: str | Path) -> list[Path]:
    """Delete what killed writers left below ``folder``: temporary files and staging or removal
    folders (``.tmp-*``, ``.staging-*``). Only for a folder no other process writes (one held with
    :func:`rader_hub.folder_lock.hold_folder`): another writer's file in flight has such a name too.
    Returns what was removed."""
    root = Path(folder)
    found = [path for prefix in LEFTOVER_PREFIXES for path in root.rglob(f"{prefix}*")] if root.is_dir() else []
    removed = []
    for path in sorted(found, key=lambda p: len(p.parts)):  # a leftover folder before what lies in it
        if not path.exists() and not path.is_symlink():
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def read_json(path: str | Path, default: Any = None) -> Any:
    """The parsed file, or ``default`` when it is missing or not valid JSON."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return default
