"""The hardware and wall time of a generation: recorded in summary.json, said in the dataset card."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from rader_hub.generation import hardware
from rader_hub.publish.dataset_card import run_facts


def test_the_run_records_this_machine_and_its_wall_time_in_the_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hardware, "_gpu_names", lambda: ["NVIDIA H100 80GB HBM3", "NVIDIA H100 80GB HBM3"])
    summary = tmp_path / "summary.json"
    summary.write_text(json.dumps({"rows": 3, "provenance": {"seed": 0}}))
    hardware.record_run(summary, time.time() - 90, earlier_checkpoints=False)
    provenance = json.loads(summary.read_text())["provenance"]
    assert provenance["seed"] == 0 and 90 <= provenance["wall_seconds"] < 120 and provenance["earlier_checkpoints"] is False
    assert provenance["hardware"]["cpu_count"] == os.cpu_count() and provenance["hardware"]["gpus"] == ["NVIDIA H100 80GB HBM3"] * 2
    hardware.record_run(tmp_path / "missing.json", time.time(), earlier_checkpoints=False)  # no dataset: nothing written
    assert not (tmp_path / "missing.json").exists()


def test_without_cuda_no_gpu_is_recorded() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    assert hardware.machine()["gpus"] == []


def test_the_dataset_card_says_the_hardware_and_time() -> None:
    provenance = {"hardware": {"cpu": "AMD EPYC 9654", "cpu_count": 16, "gpus": ["NVIDIA H200"]}, "wall_seconds": 3725.4}
    assert run_facts({**provenance, "earlier_checkpoints": False}, served=False) == (
        "The generation ran on 16 logical CPU cores (AMD EPYC 9654) and 1 x NVIDIA H200 in 1 h 02 min of wall time."
    )
    cpu_only = {"hardware": {"cpu": None, "cpu_count": 2, "gpus": []}, "wall_seconds": 75, "earlier_checkpoints": True}
    text = run_facts(cpu_only, served=True)
    assert text.startswith("The generation ran on 2 logical CPU cores and no GPU in 1 min 15 s of wall time (with an earlier run's")
    assert text.endswith("Its LLMs ran behind a server, on hardware not recorded here.")
    assert run_facts({"seed": 0}, served=False) is None  # a run made before they were recorded
