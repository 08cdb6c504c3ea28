"""The machine a generation ran on and how long it took, added to the run's summary.json (and shown
in the dataset card's reproduction block): what a reader needs to plan a rerun. An LLM behind a
server runs elsewhere: only this machine is seen from here."""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path
from typing import Any

from rader_hub.files import read_json, write_json_atomic


def machine() -> dict[str, Any]:
    """This machine's CPU (model, logical cores) and GPUs (names, as torch sees them)."""
    return {"cpu": _cpu_model(), "cpu_count": os.cpu_count(), "gpus": _gpu_names()}


def record_run(summary_file: Path, started: float, earlier_checkpoints: bool) -> None:
    """Add the machine, the wall seconds since ``started`` and whether an earlier run's checkpoints were
    in the folder (finished work read back: the seconds may be the last part of the run only) to the
    summary's provenance."""
    summary = read_json(summary_file)
    if not isinstance(summary, dict):  # no dataset was written: nothing to describe
        return
    provenance = summary.setdefault("provenance", {})
    provenance.update(hardware=machine(), wall_seconds=round(time.time() - started, 1), earlier_checkpoints=earlier_checkpoints)
    write_json_atomic(summary_file, summary)


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:  # not Linux
        pass
    return platform.processor() or None


def _gpu_names() -> list[str]:
    import torch

    # Called once the pipeline has finished, so a CUDA context here takes no memory from its LLMs.
    if not torch.cuda.is_available():
        return []
    return [torch.cuda.get_device_name(index) for index in range(torch.cuda.device_count())]
