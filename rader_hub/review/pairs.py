"""The judged (query, theorem) pairs of a generation dataset: what humans review.

A row of the dataset (its columns: ``rader_hub.schema``) is one training sample. The judge
(self-reflection) gave a verdict on its positive, and, for rows whose negatives come from
self-reflection, on each of those negatives; BM25/dense-mined negatives (q_lexical rows) were
never judged and are not reviewed. One record per distinct pair: rows that share the problem, the
query type, the query and the theorem share one record, whose id is derived from exactly these,
so pushing again updates a record instead of adding a copy.

``REQUIRED_COLUMNS`` is the one place that says what review needs from a dataset; a dataset
without them is rejected before anything is sent.
"""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rader_hub.errors import DataError
from rader_hub.schema import DATA, NOT_RELEVANT, RELEVANT, SELF_REFLECTION, RunFolder

REQUIRED_COLUMNS = (
    "problem_id",
    "problem",
    "partial_solution",
    "query",
    "query_type",
    "positive",
    "positive_id",
    "judge_verdict",
    "judge_reason",
    "negatives",
    "negative_ids",
    "negative_source",
    "reflection_negative_verdicts",
    "reflection_negative_reasons",
    "reward",
    "judge",
    "recipe_hash",
)
# When present, the ids the negative verdicts belong to (else verdicts align with negative_ids).
REFLECTION_IDS = "reflection_negative_ids"

# Argilla label names, in the order of review.json's confusion matrix.
LABELS = ("relevant", "not_relevant")
LABEL_OF_VERDICT = {RELEVANT: "relevant", NOT_RELEVANT: "not_relevant"}
VERDICT_OF_LABEL = {label: verdict for verdict, label in LABEL_OF_VERDICT.items()}

POSITIVE, NEGATIVE = "positive", "negative"


@dataclass(frozen=True)
class JudgedPair:
    """One (query, theorem) pair the judge gave a verdict on: one Argilla record."""

    record_id: str
    role: str  # POSITIVE or NEGATIVE in the row it came from
    problem_id: str
    problem: str
    partial_solution: str
    query_type: str
    query: str
    theorem_id: str
    theorem: str  # as the dataset holds it: title, newline, text
    judge_label: str | None  # one of LABELS; None when the judge's answer could not be parsed
    judge_reason: str
    judge: str
    reward: float | None
    recipe_hash: str

    @property
    def theorem_title(self) -> str:
        """The theorem's first line (its title)."""
        return self.theorem.split("\n", 1)[0].strip()

    @property
    def theorem_text(self) -> str:
        """The theorem without its title line."""
        parts = self.theorem.split("\n", 1)
        return parts[1].strip() if len(parts) == 2 else self.theorem


@dataclass
class GenerationDataset:
    """A generation output read for review: its rows, the Arrow table, and where it came from."""

    source: Path
    folder: Path | None  # the run folder (summary.json, recipe.yaml), when there is one
    table: Any  # pyarrow.Table

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The dataset's rows as dicts, in file order."""
        return self.table.to_pylist()

    def pairs(self) -> list[JudgedPair]:
        """Every distinct judged pair of the dataset (`judged_pairs`)."""
        return judged_pairs(self.rows)

    def default_name(self) -> str:
        """The Argilla dataset name push and pull agree on (`default_dataset_name`)."""
        return default_dataset_name(self.rows)


def default_dataset_name(rows: list[dict[str, Any]]) -> str:
    """The Argilla dataset name push and pull agree on: the recipe's name and hash."""
    names = sorted({row["recipe_name"] for row in rows if row.get("recipe_name")})
    hashes = sorted({row["recipe_hash"] for row in rows if row.get("recipe_hash")})
    return f"{names[0] if names else 'rader'}-{hashes[0] if hashes else 'dataset'}"


def record_id(problem_id: str, query_type: str, query: str, theorem_id: str) -> str:
    """The pair's stable Argilla record id: the same pair always gets the same id, so a push again updates it."""
    key = f"{problem_id}\x1f{query_type}\x1f{query}\x1f{theorem_id}"  # a separator no id or query contains
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _parquet_files(path: Path) -> tuple[list[Path], Path | None]:
    if path.is_file():
        if path.suffix != ".parquet":
            raise DataError(f"{path}: expected a generation output folder or a .parquet file")
        folder = path.parent.parent if path.parent.name == DATA else None
        return [path], folder if folder is not None and RunFolder(folder).summary_file.exists() else None
    if path.is_dir():
        files = sorted((path / DATA).glob("*.parquet")) or sorted(path.glob("*.parquet"))
        if not files:
            raise DataError(f"{path}: no Parquet files in {path / DATA} or {path} (is it a `rader generate` output folder?)")
        return files, path if files[0].parent.name == DATA else None
    raise DataError(f"{path}: no such file or folder")


def load_generation_dataset(path: str | Path) -> GenerationDataset:
    """Read a generation output folder (or one of its Parquet files) and check its columns.

    Args:
        path: A `rader generate` run folder (its ``data/*.parquet``), a folder of Parquet files,
            or one Parquet file.

    Returns:
        `GenerationDataset`: the Arrow table, its source, and the run folder when there is one.

    Raises:
        DataError: ``path`` does not exist, holds no Parquet file, cannot be read, or lacks a
            column review needs (``REQUIRED_COLUMNS``).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = Path(path)
    files, folder = _parquet_files(source)
    try:
        table = pa.concat_tables([pq.read_table(file) for file in files])
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(f"{source}: cannot read Parquet ({exc})") from exc
    missing = [column for column in REQUIRED_COLUMNS if column not in table.column_names]
    if missing:
        raise DataError(
            f"{source}: missing column(s) {', '.join(missing)}: review needs the judge's verdicts of a `rader generate` dataset"
        )
    return GenerationDataset(source=source, folder=folder, table=table)


def _label(verdict: str | None) -> str | None:
    return LABEL_OF_VERDICT.get(verdict or "")


def negative_judgements(row: dict[str, Any]) -> list[tuple[str, str, str | None, str]]:
    """(theorem id, theorem text, judge label, reason) of each self-reflection negative of a row.

    Verdicts are looked up by id when the row names their ids; otherwise they align with
    ``negative_ids`` (the hard-negative step keeps their order and drops none unless a duplicate or
    the cap intervenes); if the lengths differ, the verdict is unknown (None) rather than guessed.
    """
    if row["negative_source"] != SELF_REFLECTION:
        return []
    ids, texts = row["negative_ids"] or [], row["negatives"] or []
    verdicts, reasons = row["reflection_negative_verdicts"] or [], row["reflection_negative_reasons"] or []
    judged_ids = row.get(REFLECTION_IDS)
    if judged_ids is not None:
        by_id = {doc_id: (verdict, reason) for doc_id, verdict, reason in zip(judged_ids, verdicts, reasons)}
    elif len(verdicts) == len(ids):
        by_id = {doc_id: (verdict, reason) for doc_id, verdict, reason in zip(ids, verdicts, reasons)}
    else:
        by_id = {}
    return [
        (doc_id, text, _label(by_id.get(doc_id, (None, ""))[0]), by_id.get(doc_id, (None, ""))[1] or "") for doc_id, text in zip(ids, texts)
    ]


def row_pairs(row: dict[str, Any]) -> list[JudgedPair]:
    """The judged pairs of one row: its positive first, then its self-reflection negatives."""
    common = {
        "problem_id": row["problem_id"],
        "problem": row["problem"] or "",
        "partial_solution": row["partial_solution"] or "",
        "query_type": row["query_type"],
        "query": row["query"],
        "judge": row["judge"] or "",
        "reward": row["reward"],
        "recipe_hash": row["recipe_hash"] or "",
    }

    def ids(theorem_id: str) -> str:
        return record_id(row["problem_id"], row["query_type"], row["query"], theorem_id)

    pairs = [
        JudgedPair(
            record_id=ids(row["positive_id"]),
            role=POSITIVE,
            theorem_id=row["positive_id"],
            theorem=row["positive"],
            judge_label=_label(row["judge_verdict"]),
            judge_reason=row["judge_reason"] or "",
            **common,
        )
    ]
    for theorem_id, text, label, reason in negative_judgements(row):
        pairs.append(
            JudgedPair(
                record_id=ids(theorem_id),
                role=NEGATIVE,
                theorem_id=theorem_id,
                theorem=text,
                judge_label=label,
                judge_reason=reason,
                **common,
            )
        )
    return pairs


def judged_pairs(rows: list[dict[str, Any]]) -> list[JudgedPair]:
    """Every distinct judged pair of the dataset, in row order (the first row's copy wins)."""
    unique: dict[str, JudgedPair] = {}
    for row in rows:
        for pair in row_pairs(row):
            unique.setdefault(pair.record_id, pair)
    return list(unique.values())


def stratified_sample(pairs: list[JudgedPair], size: int, seed: int) -> list[JudgedPair]:
    """``size`` pairs drawn without replacement, stratified by (judge label, query type).

    Each stratum gets its proportional share (largest remainders), and every stratum at least one
    when ``size`` allows, so rare verdicts (the embedded judge rarely says "relevant") are seen.
    The same pairs, size and seed always give the same sample, so an interrupted push re-runs.
    """
    if size <= 0:
        raise DataError(f"sample={size}: must be a positive number of records", field="sample")
    if size >= len(pairs):
        return list(pairs)
    strata: dict[tuple[str, str], list[JudgedPair]] = defaultdict(list)
    for pair in sorted(pairs, key=lambda p: p.record_id):
        strata[(pair.judge_label or "unparsed", pair.query_type)].append(pair)
    keys = sorted(strata)
    quotas = {key: 1 for key in keys} if size >= len(keys) else {key: 0 for key in keys}
    remaining = size - sum(quotas.values())
    spare = {key: len(strata[key]) - quotas[key] for key in keys}
    total_spare = sum(spare.values())
    shares = {key: remaining * spare[key] / total_spare for key in keys}
    for key in keys:
        quotas[key] += int(shares[key])
    leftover = size - sum(quotas.values())
    for key in sorted(keys, key=lambda k: (-(shares[k] - int(shares[k])), k))[:leftover]:
        quotas[key] += 1
    rng = random.Random(seed)
    chosen = {p.record_id for key in keys for p in rng.sample(strata[key], min(quotas[key], len(strata[key])))}
    return [pair for pair in pairs if pair.record_id in chosen]
