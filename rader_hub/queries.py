"""Evaluation queries with relevance judgements (BRIGHT's example format)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from rader_hub.errors import DataError, RowError
from rader_hub.records import DataSource, Row, parse_unique_rows, row_id, string_list, text_field

IGNORED_EXCLUDED_ID = "N/A"  # BRIGHT marks "nothing excluded" this way


class QueryMode(str, Enum):
    """Which text of an example is the query: the question, or BRIGHT's GPT-4 reasoning (CoT)."""

    question = "question"
    reasoning = "reasoning"


@dataclass(frozen=True)
class EvalQuery:
    """One evaluation query: its id, text, gold document ids, and the ids excluded from its ranking."""

    id: str
    text: str
    gold_ids: tuple[str, ...]
    excluded_ids: frozenset[str] = field(default_factory=frozenset)


def query_from_row(row: Row, mode: QueryMode = QueryMode.question) -> EvalQuery:
    """A query from a row with ``id``, ``query`` (or ``reasoning``), non-empty ``gold_ids`` and optional ``excluded_ids``."""
    query_id = row_id(row)
    text = text_field(row, ("query" if mode is QueryMode.question else "reasoning",), owner=f"query '{query_id}'")
    gold_ids = string_list(row, "gold_ids", required=True)
    if not gold_ids:
        raise RowError(row.location, f"'gold_ids' is empty for query '{query_id}'", kind="'gold_ids' is empty")
    excluded = {doc_id for doc_id in string_list(row, "excluded_ids") if doc_id != IGNORED_EXCLUDED_ID}
    return EvalQuery(id=query_id, text=text, gold_ids=tuple(gold_ids), excluded_ids=frozenset(excluded))


def load_queries(source: DataSource, mode: QueryMode = QueryMode.question) -> list[EvalQuery]:
    """Load and validate evaluation queries with their relevance judgements (BRIGHT's example format).

    Args:
        source: A file, folder or Hub dataset id whose rows have ``id``, ``query`` (or
            ``reasoning``), ``gold_ids`` and optional ``excluded_ids``.
        mode: Which text is the query: ``question`` (the ``query`` field) or ``reasoning``.
            Defaults to ``question``.

    Returns:
        `list[EvalQuery]`: the queries in file order.

    Raises:
        DataError: The source cannot be read or is empty, a row lacks its query text or has empty
            ``gold_ids``, or two rows share an id.
    """
    queries = parse_unique_rows(source, lambda row: query_from_row(row, mode), what="query id")
    if not queries:
        raise DataError(f"{source}: no queries")
    return queries
