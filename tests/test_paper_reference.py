"""`rader eval --bright` prints the paper's BRIGHT figures per split beside ours for the paper's retrievers."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from helpers import run_rader

from rader_hub.evaluation.bright import BRIGHT_SPLITS
from rader_hub.evaluation.paper_reference import GTE_QWEN2, PAPER_AVERAGE, PAPER_BRIGHT, beside_split, paper_references


def test_each_papers_row_has_every_split_and_averages_to_the_published_mean() -> None:
    # A figure typed into the wrong split or mistyped moves the mean off the published one.
    for rows in PAPER_BRIGHT.values():
        for name, values in rows.items():
            assert list(values) == list(BRIGHT_SPLITS)
            assert abs(statistics.mean(values.values()) - PAPER_AVERAGE[name]) <= 0.001, name


def test_a_model_trained_from_the_papers_base_gets_the_base_and_rader_rows(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "rader_training.json").write_text(json.dumps({"config": {"base": GTE_QWEN2}}))
    rows = paper_references("dense", str(model), "question")
    assert list(rows) == ["gte-Qwen2-7B-instruct", "RaDeR-gte-Qwen2-7B"] and rows == paper_references("hybrid", GTE_QWEN2, "question")
    assert beside_split(rows, "theoremqa_theorems") == "  (paper: gte-Qwen2-7B-instruct 0.326, RaDeR-gte-Qwen2-7B 0.351)"
    assert paper_references("dense", "embedded", "question") == {}  # not a model the paper reports
    assert paper_references("dense", GTE_QWEN2, "reasoning") == {}  # the paper's figures are for the original queries


def test_bright_eval_prints_the_papers_bm25_beside_ours_per_split_and_on_average(tmp_path: Path, tiny_corpus_rows) -> None:
    root = tmp_path / "BRIGHT"
    for config, rows in (
        ("documents", [{"id": row["id"], "content": f"{row['title']}. {row['text']}"} for row in tiny_corpus_rows]),
        ("examples", [{"id": "q1", "query": "socks in drawers", "gold_ids": ["pigeonhole"], "excluded_ids": ["N/A"]}]),
    ):
        (root / config).mkdir(parents=True)
        pq.write_table(pa.Table.from_pylist(rows), root / config / "theoremqa_theorems-00000-of-00001.parquet")
    result = run_rader("eval", "--retriever", "bm25", "--bright", "theoremqa_theorems", "--bright-source", str(root))
    assert result.returncode == 0, result.stderr
    split_line, average_line = result.stdout.strip().splitlines()[-2:]
    assert split_line.startswith("theoremqa_theorems: 1 queries, 4 documents, nDCG@10 ")
    assert split_line.endswith("  (paper: BM25 0.049)")
    assert average_line.startswith("average over 1 split(s): ndcg@10 ")
    assert average_line.endswith("  (paper, over the same 1 split(s): BM25 0.049)")
