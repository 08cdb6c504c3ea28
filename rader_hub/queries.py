"""Evaluation queries with relevance judgements (BRIGHT's example format)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from rader_hub.errors import DataError
from rader_hub.records import DataSource, Row, read_rows

IGNORED_EXCLUDED_ID = "N/A"  # BRIGHT marks "nothing excluded" this way


class QueryMode(str, Enum):
    """Which text of an example is the query: the question, or BRIGHT's GPT-4 reasoning (CoT)."""

    question = "question"
    reasoning = "reasoning"


@dataclass(frozen=True)
class EvalQuery:
    id: str
    text: str
    gold_ids: tuple[str, ...]
    excluded_ids: frozenset[str] = field(default_factory=frozenset)


def _string_list(row: Row, key: str, required: bool) -> list[str]:
    value = row.data.get(key)
    if value is None:
        if required:
            raise DataError(f"{row.location}: missing '{key}'")
        return []
    if isinstance(value, str) or not all(isinstance(item, str) for item in value):
        raise DataError(f"{row.location}: '{key}' must be a list of strings")
    return list(value)


def query_from_row(row: Row, mode: QueryMode = QueryMode.question) -> EvalQuery:
    data = row.data
    query_id = data.get("id")
    if query_id is None:
        raise DataError(f"{row.location}: missing 'id'")
    key = "query" if mode is QueryMode.question else "reasoning"
    text = data.get(key)
    if not isinstance(text, str) or not text.strip():
        raise DataError(f"{row.location}: missing or empty '{key}' for query '{query_id}'")
    gold_ids = _string_list(row, "gold_ids", required=True)
    if not gold_ids:
        raise DataError(f"{row.location}: 'gold_ids' is empty for query '{query_id}'")
    excluded = {doc_id for doc_id in _string_list(row, "excluded_ids", required=False) if doc_id != IGNORED_EXCLUDED_ID}
    return EvalQuery(id=str(query_id), text=text, gold_ids=tuple(gold_ids), excluded_ids=frozenset(excluded))


def load_queries(source: DataSource, mode: QueryMode = QueryMode.question) -> list[EvalQuery]:
    """Load and validate evaluation queries; duplicate ids and empty files are errors."""
    queries: list[EvalQuery] = []
    seen: set[str] = set()
    for row in read_rows(source):
        query = query_from_row(row, mode)
        if query.id in seen:
            raise DataError(f"{row.location}: duplicate query id '{query.id}'")
        seen.add(query.id)
        queries.append(query)
    if not queries:
        raise DataError(f"{source}: no queries")
    return queries
