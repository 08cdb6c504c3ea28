"""Helpers the test modules share (fixtures live in conftest.py)."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import TINY_DOCUMENTS

RADER = [sys.executable, "-m", "rader_hub"]
# `rader train` options that keep CPU cost tiny: short sequences, small batches.
FAST_TRAINING = ["--max-seq-length", "32", "--batch-size", "2", "--temperature", "0.05", "--lr", "1e-4"]


def run_rader(
    *args: str, timeout: float = 900, env: dict[str, str] | None = None, cwd: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the `rader` CLI in a subprocess (its own imports, exit code and stderr are what users see)."""
    return subprocess.run([*RADER, *args], capture_output=True, text=True, env=env or os.environ.copy(), timeout=timeout, cwd=cwd)


def run_in_fresh_process(target: Callable[..., None], *args: Any, timeout: float = 900) -> None:
    """Run `target(*args)` in a spawned interpreter and fail if it fails.

    distilabel forks its step workers. Once the pytest process has run torch (its OpenMP thread pool
    exists), a forked worker's first torch call can deadlock; a spawned process has no such pool,
    as a user's `rader generate` has none. `target` must be importable (module level)."""
    process = multiprocessing.get_context("spawn").Process(target=_with_fork_start_method, args=(target, *args))
    process.start()
    process.join(timeout)
    if process.is_alive():
        process.kill()
        raise AssertionError(f"{target.__name__} still running after {timeout} s")
    assert process.exitcode == 0, f"{target.__name__} exited with {process.exitcode}"


def _with_fork_start_method(target: Callable[..., None], *args: Any) -> None:
    # A spawned child inherits "spawn" as its start method; distilabel's pool must fork, as under the CLI.
    multiprocessing.set_start_method("fork", force=True)
    target(*args)


def tiny_triples() -> list[dict]:
    """One training row per tiny-corpus theorem: a question that needs it, and two other theorems as negatives."""
    questions = {
        "pigeonhole": "Ten socks go into nine drawers; show a drawer holds two.",
        "pythagoras": "A ladder of length 5 leans on a wall 3 metres from its foot; how high does it reach?",
        "bayes": "A test is 99% accurate and the disease is rare; what is the chance a positive is real?",
        "fermat-little": "What is 2^100 modulo 101?",
    }
    docs = {doc.id: doc.full_text for doc in TINY_DOCUMENTS}
    return [
        {
            "query": question,
            "positive": docs[doc_id],
            "negatives": [text for other, text in docs.items() if other != doc_id][:2],
            "query_type": "question",
            "problem_id": doc_id,
        }
        for doc_id, question in questions.items()
    ]


def find_pair(pairs, query_type: str, theorem_id: str, problem_id: str = "math-train-0000"):
    """The judged pair of the review fixture with this query type, theorem and problem."""
    matches = [p for p in pairs if p.query_type == query_type and p.theorem_id == theorem_id and p.problem_id == problem_id]
    assert len(matches) == 1, [(p.query_type, p.theorem_id, p.problem_id) for p in matches]
    return matches[0]


def smollm2_gguf() -> Path:
    """The embedded SmolLM2 GGUF: a tiny decoder LLM to test the decoder paths on CPU."""
    from rader_hub.assets import resolve_generator
    from rader_hub.errors import AssetError

    try:
        resolved = resolve_generator()
    except AssetError as exc:
        pytest.skip(str(exc))
    return Path(resolved.location) / resolved.gguf_file
