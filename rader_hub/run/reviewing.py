"""The main job's review stage: push the judged pairs to Argilla and, in ``wait`` mode, wait until
people have answered every pushed record, then pull the reviewed dataset."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from rader_hub.review.connection import argilla_errors, connect, resolve_connection
from rader_hub.review.pairs import load_generation_dataset
from rader_hub.review.pull import PENDING, fetch_verdicts, pull
from rader_hub.review.push import DEFAULT_WORKSPACE, push


def push_for_review(run_folder: Path, sample: int | None, say: Callable[[str], None]) -> dict[str, Any]:
    """Push (again: records are updated, answers kept) the run's judged pairs to the Argilla that
    `rader review serve` started, or to ARGILLA_API_URL."""
    source = load_generation_dataset(run_folder)
    client = connect(resolve_connection())
    result = push(client, source.pairs(), source.default_name(), DEFAULT_WORKSPACE, sample)
    say(f"review: {result.pushed} of {result.candidates} judged pairs in Argilla dataset {result.dataset!r}: answer them at {result.url}")
    return {"argilla_dataset": result.dataset, "pushed": result.pushed, "review_url": result.url}


def pull_when_answered(run_folder: Path, out_dir: Path, name: str, poll_seconds: float, say: Callable[[str], None]) -> dict[str, Any]:
    """Poll until no pushed record is pending, then write the reviewed dataset to ``out_dir``;
    returns its review.json content. Interrupting the wait loses nothing: answers stay in Argilla."""
    source = load_generation_dataset(run_folder)
    client = connect(resolve_connection())
    with tqdm(desc="review: records answered", unit="record", dynamic_ncols=True) as bar:
        while True:
            with argilla_errors(client.api_url):
                verdicts = fetch_verdicts(client, name, DEFAULT_WORKSPACE)
            pending = sum(verdict.status == PENDING for verdict in verdicts.values())
            bar.total = len(verdicts)
            bar.n = len(verdicts) - pending
            bar.refresh()
            if not pending:
                break
            time.sleep(poll_seconds)
    result = pull(client, source, name, DEFAULT_WORKSPACE, out_dir)
    say(f"review: {result.rows_out} of {result.rows_in} rows kept after review; agreement with the judge {result.review['agreement']}")
    return result.review
