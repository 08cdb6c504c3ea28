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
    assert set(metrics) == {"ndcg@10", "recall@10", "p@10", "queries", "docs", "most_gold", "per_query", "label", "settings"}
    # Every query's scores, whose mean is the reported metric (what a paired comparison of two runs reads).
    assert len(metrics["per_query"]) == 399 and metrics["most_gold"] == 1  # one gold theorem per dev question
    assert sum(q["ndcg@10"] for q in metrics["per_query"].values()) / 399 == pytest.approx(metrics["ndcg@10"])
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


def test_queries_without_gold_documents_in_the_corpus_are_counted_and_none_present_is_an_error(
    tmp_path: Path, tiny_corpus_rows: list[dict]
) -> None:
    corpus = write_jsonl(tmp_path / "c.jsonl", tiny_corpus_rows)
    found = {"id": "q1", "query": "right triangle hypotenuse", "gold_ids": ["pythagoras"]}
    lost = [{"id": f"q{n}", "query": "prime modulo", "gold_ids": [f"tqa-{n}"]} for n in (2, 3)]
    some_queries = write_jsonl(tmp_path / "some.jsonl", [found, *lost])
    some = run_rader("eval", "--retriever", "bm25", "--corpus", str(corpus), "--queries", str(some_queries))
    assert some.returncode == 0, some.stderr
    assert "warning: 2 of 3 queries have none of their gold documents in the corpus; they score 0" in some.stderr

    none = run_rader("eval", "--retriever", "bm25", "--corpus", str(corpus), "--queries", str(write_jsonl(tmp_path / "none.jsonl", lost)))
    assert none.returncode == 2
    assert none.stderr.strip().splitlines() == [
        f"error: {corpus}: none of the 2 queries' gold documents are in this corpus (are the corpus and the queries from the same dataset?)"
    ]


def test_alpha_outside_the_unit_interval_is_refused_before_anything_loads(tmp_path: Path) -> None:
    result = run_rader("eval", "--retriever", "hybrid", "--alpha", "1.5", "--corpus", str(tmp_path / "missing.jsonl"))
    assert result.returncode == 2
    assert result.stderr.strip() == "error: alpha must be between 0 and 1, got 1.5"  # not the missing corpus: nothing was read


def test_a_corpus_with_several_problems_reports_the_first_of_each_kind_on_one_line(tmp_path: Path) -> None:
    corpus = tmp_path / "bad.jsonl"
    corpus.write_text('{"id": "a", "text": "x"}\n{"id": "b" "text": "y"}\n{"id": "c"}\n{"id": "d"}\n{"id": "a", "text": "z"}\n')
    result = run_rader("eval", "--retriever", "bm25", "--corpus", str(corpus))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {corpus}: 4 problems of 3 kinds; "
        f"{corpus} line 2: invalid JSON at column 12: Expecting ',' delimiter; "
        f"{corpus} line 3: missing or empty 'text' (or 'content') for id 'c' (and 1 more row like it); "
        f"{corpus} line 5: duplicate id 'a' (first at {corpus} line 1)"
    ]
