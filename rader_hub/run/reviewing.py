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
    """Push the run's judged pairs to the Argilla that `rader review serve` started, or to ``ARGILLA_API_URL``.

    Pushing again updates the records and keeps the answers already given.

    Args:
        run_folder: The generation run folder.
        sample: Push this many pairs, stratified by judge verdict and query type; ``None``: all.
        say: Called with where to answer them.

    Returns:
        `dict`: ``argilla_dataset`` (its name), ``pushed`` (records) and ``review_url``.

    Raises:
        DataError: The run's dataset cannot be read or has no rows, or ``sample`` is not positive.
        ArgillaUnavailable: No Argilla is configured or running, it does not answer, or it
            rejects the API key.
        ArgillaRequestError: Argilla refused a request.
        ConfigError: The Argilla dataset exists but was not made by `rader review push`.
    """
    source = load_generation_dataset(run_folder)
    client = connect(resolve_connection())
    result = push(client, source.pairs(), source.default_name(), DEFAULT_WORKSPACE, sample)
    say(f"review: {result.pushed} of {result.candidates} judged pairs in Argilla dataset {result.dataset!r}: answer them at {result.url}")
    return {"argilla_dataset": result.dataset, "pushed": result.pushed, "review_url": result.url}


def pull_when_answered(run_folder: Path, out_dir: Path, name: str, poll_seconds: float, say: Callable[[str], None]) -> dict[str, Any]:
    """Wait until people have answered every pushed record, then write the reviewed dataset to ``out_dir``.

    Interrupting the wait loses nothing: the answers stay in Argilla.

    Args:
        run_folder: The generation run folder whose pairs were pushed.
        out_dir: Where the reviewed dataset is written (`rader_hub.review.pull.pull`).
        name: The Argilla dataset they were pushed to.
        poll_seconds: Seconds between two looks at the answers.
        say: Called with how many rows review kept.

    Returns:
        `dict`: the ``review.json`` content (agreement with the judge, ties, row counts).

    Raises:
        DataError: The run's dataset cannot be read.
        ArgillaUnavailable: No Argilla is configured or running, or the connection was lost.
        ArgillaRequestError: Argilla refused a request.
        ConfigError: There is no Argilla dataset ``name``, or ``out_dir`` is the run folder.
        NothingToPull: The Argilla dataset holds none of the run's pairs.
    """
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
