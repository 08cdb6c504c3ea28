"""One rader process per folder: a second `rader run` / `rader generate` on a run folder, or a second
`rader review serve` on a state folder, stops at once with one line naming the holder's PID."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
from helpers import RADER

from rader_hub.folder_lock import LOCK_FILE, FolderInUse, hold_folder

RECIPE = Path(__file__).resolve().parent.parent / "recipes" / "math.yaml"
HOLD = """import sys, time
from rader_hub.folder_lock import hold_folder
with hold_folder(sys.argv[1]):
    print("held", flush=True)
    time.sleep(600)
"""


@contextmanager
def started(command: list[str], cwd: Path) -> Iterator[subprocess.Popen[str]]:
    """A process in its own group, killed with all its children (distilabel's workers) at the end."""
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        yield process
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def finish(command: list[str], cwd: Path, timeout: float = 120) -> tuple[int, str]:
    """Run ``command`` to its end (killed with its children if it overruns); its exit code and stderr."""
    with started(command, cwd) as process:
        try:
            _, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{command[3:5]} did not stop at once: it ran on beside the folder's holder")
        return process.returncode, stderr


def wait_for_holder(folder: Path, pid: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (folder / LOCK_FILE).is_file() and (folder / LOCK_FILE).read_text().strip() == str(pid):
            return
        time.sleep(0.2)
    pytest.fail(f"process {pid} never took {folder}")


def test_a_held_folder_names_its_holder_and_is_free_once_the_holder_is_killed(tmp_path):
    folder = tmp_path / "outputs" / "math"
    with started([sys.executable, "-c", HOLD, str(folder)], tmp_path) as holder:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(FolderInUse, match=rf"^{folder} is in use by another rader process \(PID {holder.pid}\)"):
            with hold_folder(folder):
                pass
        holder.send_signal(signal.SIGKILL)  # no clean-up runs: the kernel drops the lock
        holder.wait()
    with hold_folder(folder), hold_folder(folder):  # free again, and re-entrant within one process
        assert (folder / LOCK_FILE).read_text().strip() == str(os.getpid())


@pytest.mark.slow
def test_a_second_run_or_generate_on_a_running_folder_stops_at_once(tmp_path):
    run = [*RADER, "run", str(RECIPE), "--param", "load_problems.num_problems=1", "--param", "mcts_search.rollouts=1"]
    with started(run, tmp_path) as first:
        wait_for_holder(tmp_path / "outputs" / "math", first.pid)
        for command in (run, [*RADER, "generate", str(RECIPE)]):
            code, stderr = finish(command, tmp_path)
            assert code == 2, stderr[-2000:]
            assert f"is in use by another rader process (PID {first.pid})" in stderr.strip().splitlines()[-1]
        assert first.poll() is None  # the first run goes on undisturbed


def test_a_second_review_serve_on_a_state_folder_stops_at_once(tmp_path):
    state = tmp_path / "argilla"
    # A busy port: were the folder not checked first, serve would stop on the port instead.
    with socket.socket() as busy, started([sys.executable, "-c", HOLD, str(state)], tmp_path) as holder:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        assert holder.stdout.readline().strip() == "held"
        code, stderr = finish([*RADER, "review", "serve", "--state-dir", str(state), "--port", str(busy.getsockname()[1])], tmp_path)
    assert code == 2, stderr[-2000:]
    assert stderr.strip().splitlines()[-1] == (
        f"error: {state} is in use by another rader process (PID {holder.pid}): wait for it to finish, or stop it"
    )
