"""`rader ARGS`, killed with SIGKILL (the command and every step process it started) right after
the N-th search checkpoint is written: a crash at a known point, for the tests of resuming.

    python tests/kill_after_checkpoints.py N generate RECIPE [--param ...]

It runs in a process group of its own, which the kill takes whole (distilabel forks its step
processes, so they inherit both the group and the wrapped checkpoint writer)."""

from __future__ import annotations

import os
import signal
import sys

from rader_hub.cli import main
from rader_hub.generation.checkpoint import CheckpointStore


def kill_after(checkpoints: int) -> None:
    """Wrap the checkpoint writer: once it has written ``checkpoints`` search checkpoints in this
    process, SIGKILL the process group."""
    save = CheckpointStore.save
    written = 0

    def save_then_count(store: CheckpointStore, key: str, payload: object) -> None:
        nonlocal written
        save(store, key, payload)
        if store.directory.name == "search":  # the query synthesis checkpoints with the same writer
            written += 1
            if written == checkpoints:
                os.killpg(os.getpgrp(), signal.SIGKILL)

    CheckpointStore.save = save_then_count  # type: ignore[method-assign]


if __name__ == "__main__":
    os.setsid()  # the kill takes this group, never the test's
    kill_after(int(sys.argv[1]))
    sys.argv = ["rader", *sys.argv[2:]]
    main()
