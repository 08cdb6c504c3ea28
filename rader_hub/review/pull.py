"""Submitted answers from Argilla, merged into a new version of the dataset.

Merge rules, per row (one training sample):
- the human verdict on a pair overrides the judge's; several annotators decide by majority, a
  tie decides nothing (the judge's verdict stands) and is reported;
- a positive that humans reject drops its row, or, with ``rejected_positives="negatives"``,
  becomes a hard negative of the other rows with the same problem and query (first, within the
  cap of negatives);
- a negative that humans accept is removed from the row's negatives; a row left without any
  negative is dropped (and counted).

New columns: ``human_verdict`` (on the row's positive, in the judge's vocabulary: "relevant" /
"not relevant", or null), ``annotators`` (who answered that pair) and ``review_status``
(``reviewed``, ``tie``, ``pending``: pushed but unanswered, ``not_pushed``).

The output folder holds ``data/train-00000-of-00001.parquet`` (the source's Arrow schema plus
those columns), ``summary.json`` (the source's, with the rows after review and a ``review``
section), ``recipe.yaml`` when the source has one, and ``review.json`` (written last).
"""

from __future__ import annotations

import shutil
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from rader_hub.errors import ConfigError, RaderError
from rader_hub.files import atomic_path, read_json, write_json_atomic
from rader_hub.review.agreement import agreement_report
from rader_hub.review.connection import argilla_errors
from rader_hub.review.estimates import review_estimates
from rader_hub.review.pairs import LABELS, VERDICT_OF_LABEL, GenerationDataset, JudgedPair, judged_pairs, row_pairs
from rader_hub.review.push import QUESTION, find_dataset
from rader_hub.schema import DATA_FILE, MAX_NEGATIVES, RunFolder

REVIEWED, TIE, PENDING, NOT_PUSHED = "reviewed", "tie", "pending", "not_pushed"
HUMAN_COLUMNS = ("human_verdict", "annotators", "review_status")
RECIPE_FILE = "recipe.yaml"
REVIEW_FILE = "review.json"


class RejectedPositives(str, Enum):
    """What becomes of a row whose positive humans rejected: dropped, or a hard negative of its query's other rows."""

    drop = "drop"
    negatives = "negatives"


class NothingToPull(RaderError):
    """No submitted answers yet for the dataset's records."""


@dataclass(frozen=True)
class HumanVerdict:
    """The submitted answers on one record: votes per label and who answered."""

    votes: dict[str, int]  # label -> submitted answers
    annotators: tuple[str, ...]

    @property
    def label(self) -> str | None:
        """The majority label; None without answers or on a tie."""
        ranked = Counter(self.votes).most_common()
        if not ranked or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
            return None
        return ranked[0][0]

    @property
    def status(self) -> str:
        """``reviewed``, ``tie`` (no majority) or ``pending`` (no answer yet)."""
        if not self.votes:
            return PENDING
        return TIE if self.label is None else REVIEWED


@dataclass
class PullResult:
    """The reviewed dataset's folder, its ``review.json`` content, and the rows before and after review."""

    out_dir: Path
    review: dict
    rows_in: int
    rows_out: int


@dataclass
class _Merge:
    rows: list[dict[str, Any]] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)


def fetch_verdicts(client: Any, name: str, workspace: str) -> dict[str, HumanVerdict]:
    """Fetch every record of the Argilla dataset, by record id, with its submitted answers.

    Args:
        client: A connected ``argilla.Argilla`` client.
        name: The Argilla dataset the pairs were pushed to.
        workspace: Its workspace.

    Returns:
        `dict`: record id -> `HumanVerdict` (the votes per label and who gave them; no votes: pending).

    Raises:
        ConfigError: There is no dataset ``name`` in ``workspace``.
    """
    dataset = find_dataset(client, name, workspace)
    if dataset is None:
        raise ConfigError(
            f"name={name!r}: no Argilla dataset of that name in workspace {workspace!r}: push it first with `rader review push DATASET` "
            "(or give the name it was pushed under)",
            field="name",
        )
    usernames: dict[Any, str] = {}
    verdicts = {}
    for record in dataset.records(with_responses=True, with_suggestions=False):
        votes: Counter = Counter()
        annotators = []
        for response in record.responses[QUESTION]:
            if str(getattr(response.status, "value", response.status)) != "submitted" or response.value not in LABELS:
                continue
            votes[response.value] += 1
            if response.user_id not in usernames:
                user = client.users(id=response.user_id)
                usernames[response.user_id] = user.username if user is not None else str(response.user_id)
            annotators.append(usernames[response.user_id])
        verdicts[str(record.id)] = HumanVerdict(dict(votes), tuple(sorted(annotators)))
    return verdicts


def _without(row: dict[str, Any], theorem_ids: set[str]) -> int:
    """Remove these theorems from the row's negatives; returns how many were removed."""
    keep = [i for i, doc_id in enumerate(row["negative_ids"] or []) if doc_id not in theorem_ids]
    removed = len(row["negative_ids"] or []) - len(keep)
    row["negative_ids"] = [row["negative_ids"][i] for i in keep]
    row["negatives"] = [row["negatives"][i] for i in keep]
    return removed


def merge(rows: list[dict[str, Any]], verdicts: dict[str, HumanVerdict], rejected_positives: RejectedPositives) -> _Merge:
    """Apply the human verdicts to the dataset's rows, by this module's merge rules; returns the rows kept and the counts."""
    result = _Merge()
    rejected: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    emptied: set[int] = set()  # rows whose every negative humans accepted
    for source in rows:
        row = dict(source)
        positive, *negatives = row_pairs(row)
        accepted = {pair.theorem_id for pair in negatives if (v := verdicts.get(pair.record_id)) and v.label == LABELS[0]}
        removed = _without(row, accepted)
        result.counts["negatives_removed"] += removed
        if removed and not row["negative_ids"]:
            emptied.add(id(row))
        verdict = verdicts.get(positive.record_id)
        row["human_verdict"] = VERDICT_OF_LABEL.get(verdict.label or "") if verdict else None
        row["annotators"] = list(verdict.annotators) if verdict else []
        row["review_status"] = verdict.status if verdict else NOT_PUSHED
        result.counts[f"rows_{row['review_status']}"] += 1
        if verdict is not None and verdict.label == LABELS[1]:
            result.counts["rows_dropped_rejected_positive"] += 1
            rejected[(row["problem_id"], row["query"])].append((row["positive_id"], row["positive"]))
            continue
        result.rows.append(row)
    if rejected_positives is RejectedPositives.negatives:
        for row in result.rows:
            for theorem_id, text in rejected.get((row["problem_id"], row["query"]), []):
                if theorem_id == row["positive_id"] or theorem_id in (row["negative_ids"] or []):
                    continue
                row["negative_ids"] = [theorem_id, *(row["negative_ids"] or [])][:MAX_NEGATIVES]
                row["negatives"] = [text, *(row["negatives"] or [])][:MAX_NEGATIVES]
                result.counts["rejected_positives_moved_to_negatives"] += 1
    # A row the review left without any negative is no training sample any more (the generation
    # drops such rows too, and the trainer refuses them when hard negatives are asked for).
    kept = [row for row in result.rows if id(row) not in emptied or row["negative_ids"]]
    if len(kept) < len(result.rows):
        result.counts["rows_dropped_no_negatives_left"] = len(result.rows) - len(kept)
        result.rows = kept
    return result


def review_summary(
    pairs: list[JudgedPair],
    verdicts: dict[str, HumanVerdict],
    merged: _Merge,
    rows_in: int,
    rejected_positives: RejectedPositives,
    dataset_name: str,
) -> dict:
    """review.json: the agreement figures (the dataset card reads them) and the merge counts."""
    pushed = [pair for pair in pairs if pair.record_id in verdicts]
    decided = [(pair, label) for pair in pushed if (label := verdicts[pair.record_id].label) is not None]
    statuses = Counter(verdicts[pair.record_id].status for pair in pushed)
    annotators = sorted({name for pair in pushed for name in verdicts[pair.record_id].annotators})
    return {
        **agreement_report(decided),
        "ties": statuses[TIE],
        "pending": statuses[PENDING],
        "records_pushed": len(pushed),
        "judged_pairs": len(pairs),
        "annotators": annotators,
        "annotator_count": len(annotators),
        "estimates": review_estimates(pairs, decided, [verdicts[pair.record_id].votes for pair in pushed]),
        "argilla_dataset": dataset_name,
        "rejected_positives": rejected_positives.value,
        "rows": {"before": rows_in, "after": len(merged.rows), **dict(sorted(merged.counts.items()))},
    }


def _output_table(source: GenerationDataset, rows: list[dict[str, Any]]) -> Any:
    import pyarrow as pa

    schema = source.table.schema
    for name in HUMAN_COLUMNS:
        if name in schema.names:
            schema = schema.remove(schema.get_field_index(name))
    schema = schema.append(pa.field("human_verdict", pa.string())).append(pa.field("annotators", pa.list_(pa.string())))
    return pa.Table.from_pylist(rows, schema=schema.append(pa.field("review_status", pa.string())))


def write_reviewed_dataset(out_dir: Path, source: GenerationDataset, rows: list[dict[str, Any]], review: dict) -> None:
    """The output folder; each file replaced atomically, review.json last (it marks a finished pull)."""
    import pyarrow.parquet as pq

    out = RunFolder(out_dir)
    table = _output_table(source, rows)
    with atomic_path(out.data_dir / DATA_FILE) as temporary:
        pq.write_table(table, temporary)
    summary = read_json(RunFolder(source.folder).summary_file, {}) if source.folder else {}
    per_type = Counter(row["query_type"] for row in rows)
    counts = {key: review[key] for key in ("reviewed", "agreement", "cohen_kappa", "ties", "pending", "records_pushed", "judge_unparsed")}
    summary.update(
        {
            "rows": len(rows),
            "rows_per_query_type": dict(sorted(per_type.items())),
            "dataset": str(out.data_dir / DATA_FILE),
            "review": {**counts, "rows_before_review": review["rows"]["before"]},
        }
    )
    write_json_atomic(out.summary_file, summary)
    if source.folder and (source.folder / RECIPE_FILE).is_file():
        with atomic_path(out_dir / RECIPE_FILE) as temporary:
            shutil.copyfile(source.folder / RECIPE_FILE, temporary)
    write_json_atomic(out_dir / REVIEW_FILE, review)


def pull(
    client: Any,
    source: GenerationDataset,
    name: str,
    workspace: str,
    out_dir: Path,
    rejected_positives: RejectedPositives = RejectedPositives.drop,
) -> PullResult:
    """Fetch the answers for ``source``'s pairs and write the reviewed dataset to ``out_dir``.

    Human verdicts override the judge's (majority of annotators; a tie leaves the judge's), see
    this module's docstring for the merge rules. ``out_dir`` gets the Parquet data with the
    columns ``human_verdict``, ``annotators`` and ``review_status`` added, ``summary.json``,
    ``recipe.yaml`` and ``review.json`` (the agreement figures; written last).

    Args:
        client: A connected ``argilla.Argilla`` client.
        source: The generation dataset that was pushed (`load_generation_dataset`).
        name: The Argilla dataset it was pushed to.
        workspace: Its workspace.
        out_dir: Where the reviewed dataset is written; must differ from the source's folder.
        rejected_positives: What becomes of a row whose positive humans rejected. Defaults to
            ``drop``; ``negatives`` makes it a hard negative of the rows with the same problem and query.

    Returns:
        `PullResult`: the output folder, the ``review.json`` content, and the rows before and after.

    Raises:
        ConfigError: ``out_dir`` is the source's folder, or there is no dataset ``name`` in ``workspace``.
        NothingToPull: No pair has a submitted answer yet; nothing is written.
        ArgillaUnavailable: The connection to Argilla was lost.
        ArgillaRequestError: Argilla refused a request.
    """
    if out_dir.resolve() in {source.source.resolve(), *([source.folder.resolve()] if source.folder else [])}:
        raise ConfigError(f"out_dir={out_dir}: must differ from the dataset it reviews", field="out_dir")
    rows = source.rows
    pairs = judged_pairs(rows)
    with argilla_errors(client.api_url):
        verdicts = fetch_verdicts(client, name, workspace)
    answered = [pair for pair in pairs if pair.record_id in verdicts and verdicts[pair.record_id].votes]
    if not answered:
        pushed = sum(pair.record_id in verdicts for pair in pairs)
        raise NothingToPull(
            f"Argilla dataset {name!r} has no submitted answers yet for {source.source} ({pushed} of its {len(pairs)} "
            f"pairs pushed and pending): answer some in the web UI, then pull again; nothing was written"
        )
    merged = merge(rows, verdicts, rejected_positives)
    review = review_summary(pairs, verdicts, merged, len(rows), rejected_positives, name)
    write_reviewed_dataset(out_dir, source, merged.rows, review)
    return PullResult(out_dir=out_dir, review=review, rows_in=len(rows), rows_out=len(merged.rows))
