"""`rader eval` as users run it: a real subprocess of the installed console script."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import write_jsonl
from helpers import run_rader


def test_bm25_reproduces_the_published_dev_baseline() -> None:
    result = run_rader("eval", "--retriever", "bm25", "--json")
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)
    assert metrics["ndcg@10"] == pytest.approx(0.540, abs=0.01)
    assert (metrics["queries"], metrics["docs"]) == (399, 354)
    assert set(metrics) == {"ndcg@10", "recall@10", "p@10", "queries", "docs", "label", "settings"}
    assert metrics["label"] == "bm25 [question]" and metrics["settings"]["retriever"] == "bm25"
    assert set(metrics["settings"]) == {"retriever", "model", "reranker", "query_mode", "alpha", "corpus", "queries"}


@pytest.mark.slow
def test_dense_reproduces_the_minilm_dev_baseline() -> None:
    result = run_rader("eval", "--retriever", "dense", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["ndcg@10"] == pytest.approx(0.654, abs=0.01)


def test_table_output_on_a_custom_corpus_and_queries(tmp_path: Path, tiny_corpus_rows: list[dict]) -> None:
    corpus = write_jsonl(tmp_path / "c.jsonl", tiny_corpus_rows)
    queries = write_jsonl(tmp_path / "q.jsonl", [{"id": "q1", "query": "right triangle hypotenuse", "gold_ids": ["pythagoras"]}])
    result = run_rader("eval", "--retriever", "bm25", "--corpus", str(corpus), "--queries", str(queries))
    assert result.returncode == 0, result.stderr
    assert "1 queries, 4 documents" in result.stdout
    assert "ndcg@10    1.0000" in result.stdout


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([{"id": "a", "text": "x"}, {"id": "a", "text": "y"}], "line 2: duplicate id 'a' (first at"),
        ([{"id": "a", "text": "x"}, {"id": "b"}], "line 2: missing or empty 'text'"),
        ([], "corpus is empty"),
    ],
    ids=["duplicate-id", "missing-text", "empty-file"],
)
def test_bad_corpus_is_a_one_line_error_and_nonzero_exit(tmp_path: Path, rows: list[dict], expected: str) -> None:
    corpus = write_jsonl(tmp_path / "bad.jsonl", rows)
    result = run_rader("eval", "--retriever", "bm25", "--corpus", str(corpus))
    assert result.returncode == 2
    error_lines = result.stderr.strip().splitlines()
    assert len(error_lines) == 1, result.stderr
    assert error_lines[0].startswith(f"error: {corpus}")
    assert expected in error_lines[0]
