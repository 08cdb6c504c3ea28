"""One rader process per folder: a run folder (`rader run`, `rader generate`) or a review state folder
(`rader review serve`).

Two processes on one folder overwrite each other's ledger and checkpoints, or start two servers.
The first takes an exclusive ``flock`` on ``<folder>/.rader-lock`` and writes its PID there; the
second stops at once with one line naming that PID. The kernel releases the lock when the holder
exits, killed or not, so a crash never leaves the folder locked. The file itself stays (removing it
would let a third process lock a fresh file while the second still holds the removed one).
Re-entrant within a process: `rader run` holds its run folder and its generate stage takes it again.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rader_hub.errors import RaderError

LOCK_FILE = ".rader-lock"
_held: dict[Path, int] = {}  # folders this process holds -> how many nested holds


class FolderInUse(RaderError):
    """Another rader process works in this folder; the message names its PID."""


@contextmanager
def hold_folder(folder: str | Path) -> Iterator[None]:
    """Hold ``folder`` until the block ends; raises :class:`FolderInUse` at once when another
    process holds it."""
    root = Path(folder).resolve()
    if root in _held:
        _held[root] += 1
        try:
            yield
        finally:
            _held[root] -= 1
        return
    root.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(descriptor, 32, 0).decode(errors="replace").strip() or "unknown"
            raise FolderInUse(f"{root} is in use by another rader process (PID {holder}): wait for it to finish, or stop it") from None
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)
        _held[root] = 1
        try:
            yield
        finally:
            del _held[root]
    finally:
        os.close(descriptor)  # closing releases the lock
