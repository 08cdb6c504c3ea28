from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_jsonl

from rader_hub.embedded_data import resolve_source
from rader_hub.errors import DataError
from rader_hub.queries import QueryMode, load_queries
from rader_hub.records import DataSource


def test_embedded_dev_queries() -> None:
    queries = load_queries(resolve_source("embedded", "dev_queries"))
    assert len(queries) == 399
    assert all(query.gold_ids for query in queries)


def test_bright_format_with_reasoning_and_excluded_ids(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "examples.jsonl",
        [
            {"id": "0", "query": "q", "reasoning": "r", "gold_ids": ["a"], "excluded_ids": ["N/A"]},
            {"id": "1", "query": "q2", "reasoning": "r2", "gold_ids": ["b"], "excluded_ids": ["c"]},
        ],
    )
    by_question = load_queries(DataSource(str(path)))
    assert [q.text for q in by_question] == ["q", "q2"]
    assert by_question[0].excluded_ids == frozenset()  # "N/A" means nothing is excluded
    assert by_question[1].excluded_ids == frozenset({"c"})
    assert [q.text for q in load_queries(DataSource(str(path)), QueryMode.reasoning)] == ["r", "r2"]


def test_missing_gold_ids_names_row(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "q.jsonl", [{"id": "0", "query": "q"}])
    with pytest.raises(DataError, match=r"q\.jsonl line 1: missing 'gold_ids'"):
        load_queries(DataSource(str(path)))


def test_duplicate_query_id(tmp_path: Path) -> None:
    row = {"id": "0", "query": "q", "gold_ids": ["a"]}
    path = write_jsonl(tmp_path / "q.jsonl", [row, row])
    with pytest.raises(DataError, match=r"line 2: duplicate query id '0'"):
        load_queries(DataSource(str(path)))
