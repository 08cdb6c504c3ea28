"""Crashes and failed steps lose nothing: bench/fault_injection.py kills `rader run` (SIGKILL, seeded
points) or fails a step (LLM server errors, a full disk) and re-runs it; every check of every trial
must pass (the full 20-trial record is in BENCHMARKS.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def two_trials(work: Path, *options: str, timeout: float) -> dict:
    """Two trials of the benchmark with ``options``; its JSON report, once every check passed."""
    command = [sys.executable, str(ROOT / "bench" / "fault_injection.py"), "--trials", "2", "--seed", "0", "--workdir", str(work)]
    result = subprocess.run([*command, *options], capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["trials"] == 2 and report["passed"] == 2, result.stdout
    return report


@pytest.mark.slow
@pytest.mark.hub  # the benchmark publishes to its own loopback Hub
def test_two_killed_runs_resume_to_the_reference_result(tmp_path: Path) -> None:
    # A generation kill (the costly, most telling one) and a publish kill mid-upload.
    report = two_trials(tmp_path / "work", "--kinds", "sigkill", "--stages", "generate,publish", timeout=1500)
    assert sorted(report["per_stage"]) == ["generate", "publish"]
    assert report["reference_rows"] > 0


@pytest.mark.slow
@pytest.mark.hub
@pytest.mark.openai_server  # the benchmark starts transformers serve behind its fault proxy
def test_a_server_error_and_a_full_disk_fail_the_run_and_the_rerun_gives_the_reference(tmp_path: Path) -> None:
    # An HTTP 500 from the LLM server (through the proxy, in front of the real transformers serve)
    # and ENOSPC while a search checkpoint is written: each a clear failure, then the reference dataset.
    report = two_trials(tmp_path / "work", "--kinds", "llm-5xx,enospc", timeout=2400)
    assert sorted(report["per_stage"]) == ["enospc", "llm-5xx"]


@pytest.mark.hub
def test_a_held_commit_is_in_flight_until_released_and_never_lands() -> None:
    """The loopback Hub's hold, which the benchmark kills clients in: the request has arrived, nothing
    of it is applied, and once released it fails and the branch stays where it was."""
    import base64
    import threading
    import urllib.error
    import urllib.request

    from devtools.hub_server import LoopbackHub

    with LoopbackHub() as hub:
        hub.state.create_repo("model", "org/held", private=False)
        before = hub.state.repo("model", "org/held").branches["main"]
        hold = hub.state.hold_next("commit", ("model", "org/held"))
        lines = [
            {"key": "header", "value": {"summary": "held"}},
            {"key": "file", "value": {"path": "README.md", "content": base64.b64encode(b"hello").decode(), "encoding": "base64"}},
        ]
        body = "\n".join(json.dumps(line) for line in lines).encode()
        request = urllib.request.Request(f"{hub.url}/api/models/org/held/commit/main", data=body, method="POST")
        answers: list[int] = []

        def send() -> None:
            try:
                urllib.request.urlopen(request, timeout=30)
            except urllib.error.HTTPError as exc:
                answers.append(exc.code)

        client = threading.Thread(target=send)
        client.start()
        assert hold.arrived.wait(10)
        assert hub.state.repo("model", "org/held").branches["main"] == before and not answers
        hold.release()
        client.join(10)
        assert answers == [503]
        assert hub.state.repo("model", "org/held").branches["main"] == before
