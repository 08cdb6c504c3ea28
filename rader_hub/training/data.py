"""Training triples: load, validate, filter by query type, split by problem, build datasets.

Rows come from the generation output (Parquet), any JSONL/JSON file or folder, or a Hub dataset
id, with at least ``query`` and ``positive``; ``negatives`` (a list of texts), ``query_type`` and
``problem_id`` are used when present. Problems are one DataError naming the first row of each kind.
"""

from __future__ import annotations

import os
import random
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rader_hub.errors import DataError
from rader_hub.records import DataSource, Row, parse_rows, string_list, text_field

QUERY_COLUMN = "query"
POSITIVE_COLUMN = "positive"
NEGATIVES_COLUMN = "negatives"
QUERY_TYPE_COLUMN = "query_type"
GROUP_COLUMN = "problem_id"


@dataclass(frozen=True)
class Triple:
    """One training sample: a query, its positive passage and its hard negatives."""

    query: str
    positive: str
    negatives: tuple[str, ...]
    query_type: str | None
    group: str
    location: str


@dataclass(frozen=True)
class TrainingData:
    """The rows a run trains on, the rows held out for its eval loss, and where they came from."""

    train: list[Triple]
    held_out: list[Triple] = field(default_factory=list)
    source: DataSource | None = None  # None: triples built in memory


DataInput = DataSource | str | os.PathLike | Sequence[Triple]
"""What the trainers accept as data: a source (file, folder, Hub id) or triples already in memory."""


def training_data(data: DataInput, query_types: Iterable[str] | None = None, eval_fraction: float = 0.0, seed: int = 42) -> TrainingData:
    """Load (or take) the triples, keep ``query_types``, and hold out ``eval_fraction`` of the problems.

    Args:
        data: A source (generation output, JSONL/JSON/Parquet file, folder, Hub dataset id or a
            ``DataSource``) or triples already in memory.
        query_types: Keep only rows of these query types (e.g. ``["llmq", "cot"]``). Defaults to
            ``None``: every row.
        eval_fraction: The fraction of problems held out for an eval loss; a problem's rows never
            span both sides. Defaults to 0.
        seed: The seed of the held-out draw. Defaults to 42.

    Returns:
        `TrainingData`: the training triples, the held-out ones, and the source.

    Raises:
        DataError: The source cannot be read or has no rows, lacks the query/positive columns,
            the query types are unknown (or the data has none), or too few problems to hold out.
    """
    if isinstance(data, (str, os.PathLike)):
        data = DataSource(os.fspath(data))
    if isinstance(data, DataSource):
        triples, source = load_triples(data, query_types), data
    else:
        triples, source = select_query_types(list(data), query_types, "<memory>"), None
    train, held_out = split_by_group(triples, eval_fraction, seed)
    return TrainingData(train, held_out, source)


def negative_column(index: int) -> str:
    """Name of the i-th (0-based) negative column in the n-tuple datasets sentence-transformers takes."""
    return f"negative_{index + 1}"


def triple_from_row(row: Row) -> Triple:
    """A triple from a row with ``query`` and ``positive`` (optional: ``negatives``, ``query_type``, ``problem_id``); RowError otherwise."""
    query_type = row.data.get(QUERY_TYPE_COLUMN)
    group = row.data.get(GROUP_COLUMN)
    return Triple(
        query=text_field(row, (QUERY_COLUMN,)),
        positive=text_field(row, (POSITIVE_COLUMN,)),
        negatives=tuple(string_list(row, NEGATIVES_COLUMN)),
        query_type=None if query_type is None else str(query_type),
        # Without a problem id every row is its own group (nothing to leak between rows).
        group=str(group) if group is not None else row.location,
        location=row.location,
    )


def _check_columns(row: Row, source: DataSource) -> None:
    columns = set(row.data)
    missing = [column for column in (QUERY_COLUMN, POSITIVE_COLUMN) if column not in columns]
    if missing:
        raise DataError(
            f"{source}: training data needs columns 'query' and 'positive' (optionally 'negatives', "
            f"'query_type', 'problem_id'); missing {missing}, found {sorted(columns)}"
        )


def load_triples(source: DataSource, query_types: Iterable[str] | None = None) -> list[Triple]:
    """Read and validate triples; keep only ``query_types`` when given (e.g. {"llmq", "cot"})."""
    columns_checked = False

    def checked_triple(row: Row) -> Triple:
        nonlocal columns_checked
        if not columns_checked:  # data with other column names gets one message, not one per row
            _check_columns(row, source)
            columns_checked = True
        return triple_from_row(row)

    triples = parse_rows(source, checked_triple)
    if not triples:
        raise DataError(f"{source}: no training rows")
    return select_query_types(triples, query_types, str(source))


def select_query_types(triples: list[Triple], query_types: Iterable[str] | None, source: str) -> list[Triple]:
    """The triples of ``query_types`` (all when None or empty); asking for a type the data lacks is an error."""
    wanted = set(query_types or ())
    if not wanted:
        return triples
    present = {triple.query_type for triple in triples}
    if present == {None}:
        raise DataError(f"{source}: cannot filter by query type: the data has no '{QUERY_TYPE_COLUMN}' column")
    unknown = wanted - present
    if unknown:
        raise DataError(f"{source}: unknown query type(s) {sorted(unknown)}; the data has {sorted(t for t in present if t)}")
    return [triple for triple in triples if triple.query_type in wanted]


def split_by_group(triples: Sequence[Triple], eval_fraction: float, seed: int) -> tuple[list[Triple], list[Triple]]:
    """Train/eval split that keeps every group (problem) on one side, so no problem leaks."""
    if not 0.0 <= eval_fraction < 1.0:
        raise DataError(f"eval fraction must be in [0, 1), got {eval_fraction}")
    groups = sorted({triple.group for triple in triples})
    if eval_fraction == 0.0:
        return list(triples), []
    if len(groups) < 2:
        raise DataError(f"cannot hold out an eval split: the data has only {len(groups)} problem(s)")
    random.Random(seed).shuffle(groups)
    eval_count = min(len(groups) - 1, max(1, round(eval_fraction * len(groups))))
    eval_groups = set(groups[:eval_count])
    train = [triple for triple in triples if triple.group not in eval_groups]
    held_out = [triple for triple in triples if triple.group in eval_groups]
    return train, held_out


def effective_negatives(triples: Sequence[Triple], requested: int) -> int:
    """The train group: the requested count, capped at the most negatives any row has."""
    most = max((len(triple.negatives) for triple in triples), default=0)
    return min(requested, most) if most else requested


def negative_statistics(triples: Sequence[Triple], num_negatives: int) -> dict[str, int | float]:
    """How many of the ``num_negatives`` slots per row hold distinct texts: rows with fewer are padded
    by drawing their own negatives again (``to_columns``), which a card must not count as more."""
    distinct = [len(set(triple.negatives)) for triple in triples] or [0]
    return {
        "per_row": num_negatives,
        "distinct_min": min(distinct),
        "distinct_median": statistics.median(distinct),
        "distinct_max": max(distinct),
        "rows_padded": sum(1 for count in distinct if count < num_negatives),
        "rows": len(triples),
    }


def length_statistics(lengths: Sequence[int], limit: int) -> dict[str, int | float]:
    """Token lengths of one column against the training truncation ``limit``."""
    return {
        "mean_tokens": round(statistics.fmean(lengths), 1) if lengths else 0,
        "max_tokens": max(lengths, default=0),
        "truncated": sum(1 for length in lengths if length > limit),
        "rows": len(lengths),
    }


def example_triples(triples: Sequence[Triple], count: int = 3) -> list[dict[str, str | list[str] | None]]:
    """Up to ``count`` training rows for a card, each from another problem and, while possible, of
    another query type, with their distinct negatives (at most 3)."""
    chosen: list[Triple] = []
    for triple in triples:
        if len(chosen) == count:
            break
        if triple.group in {other.group for other in chosen} or triple.query_type in {other.query_type for other in chosen}:
            continue
        chosen.append(triple)
    for triple in triples:  # fewer query types than ``count``: other problems, any type
        if len(chosen) < count and triple.group not in {other.group for other in chosen}:
            chosen.append(triple)
    return [
        {"query": t.query, "positive": t.positive, "negatives": list(dict.fromkeys(t.negatives))[:3], "query_type": t.query_type}
        for t in chosen
    ]


def to_columns(triples: Sequence[Triple], num_negatives: int, seed: int) -> dict[str, list[str]]:
    """Column-wise data: query, positive, negative_1..negative_n.

    The loss needs the same number of negatives in every row (the paper's "train group"). Rows
    with more are subsampled; rows with fewer are filled by drawing again from their own
    negatives (as Tevatron does). A row with none is an error when negatives are asked for.
    """
    if num_negatives < 0:
        raise DataError(f"number of negatives must be >= 0, got {num_negatives}")
    if not triples:
        raise DataError("no training rows (after filtering)")
    rng = random.Random(seed)
    columns: dict[str, list[str]] = {QUERY_COLUMN: [], POSITIVE_COLUMN: []}
    columns.update({negative_column(i): [] for i in range(num_negatives)})
    for triple in triples:
        columns[QUERY_COLUMN].append(triple.query)
        columns[POSITIVE_COLUMN].append(triple.positive)
        if num_negatives == 0:
            continue
        if not triple.negatives:
            raise DataError(
                f"{triple.location}: empty '{NEGATIVES_COLUMN}', but {num_negatives} hard negative(s) per query were "
                "asked for (use 0 negatives to train with in-batch negatives only, or drop such rows)"
            )
        if len(triple.negatives) >= num_negatives:
            chosen = rng.sample(triple.negatives, num_negatives)
        else:
            chosen = list(triple.negatives) + rng.choices(triple.negatives, k=num_negatives - len(triple.negatives))
        for index, negative in enumerate(chosen):
            columns[negative_column(index)].append(negative)
    return columns


def to_dataset(triples: Sequence[Triple], num_negatives: int, seed: int):
    """A `datasets.Dataset` with the n-tuple columns sentence-transformers' losses read in order."""
    from datasets import Dataset

    return Dataset.from_dict(to_columns(triples, num_negatives, seed))
