"""`rader eval` extensions: BRIGHT's layout and query modes, reranking, runs file and chart."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import run_rader

from rader_hub.errors import ConfigError, DataError
from rader_hub.evaluation.bright import (
    BRIGHT_SPLITS,
    PAPER_HYBRID_ALPHA,
    TASK_INSTRUCTIONS,
    bright_split,
    paper_protocol,
    resolve_splits,
)
from rader_hub.evaluation.evaluate import RetrievalSetup
from rader_hub.evaluation.runs import append_run, load_runs
from rader_hub.queries import QueryMode
from rader_hub.retrieval import DenseRetriever

# The question shares a word with every document but its gold one, so BM25 ranks the gold last (4th) whatever
# the tie-breaking; the reasoning shares words with the gold document only (as in BRIGHT).
EXAMPLES = [
    {"id": "q1", "query": "socks hypotenuse posterior prime", "reasoning": "-", "gold_ids": ["pigeonhole"], "excluded_ids": ["N/A"]}
]
REASONED = [
    {
        "id": "q1",
        "query": "items put into containers: some container holds more than one item",
        "gold_ids": ["pigeonhole"],
        "excluded_ids": ["N/A"],
    }
]


def write_parquet(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path)


@pytest.fixture
def local_bright(tmp_path: Path, tiny_corpus_rows: list[dict]) -> Path:
    """A local copy in the Hub's file layout: ROOT/<config>/<split>-00000-of-00001.parquet."""
    root = tmp_path / "BRIGHT"
    documents = [{"id": row["id"], "content": f"{row['title']}. {row['text']}"} for row in tiny_corpus_rows]
    write_parquet(root / "documents" / "theoremqa_theorems-00000-of-00001.parquet", documents)
    write_parquet(root / "examples" / "theoremqa_theorems-00000-of-00001.parquet", EXAMPLES)
    write_parquet(root / "gpt4_reason" / "theoremqa_theorems-00000-of-00001.parquet", REASONED)
    return root


def test_split_names_and_sources() -> None:
    assert len(BRIGHT_SPLITS) == 12 and resolve_splits(["all"]) == list(BRIGHT_SPLITS)
    assert resolve_splits(["theoremqa_theorems", "biology"]) == ["biology", "theoremqa_theorems"]
    with pytest.raises(ConfigError, match="unknown BRIGHT split"):
        resolve_splits(["theorems"])
    hub = bright_split("aops", "xlangai/BRIGHT", QueryMode.reasoning)
    assert (hub.corpus[0].config, hub.corpus[0].split) == ("documents", "aops")
    assert (hub.queries[0].config, hub.queries[0].split) == ("gpt4_reason", "aops")
    with pytest.raises(ConfigError, match="unknown reasoner"):
        bright_split("aops", "xlangai/BRIGHT", QueryMode.reasoning, reasoner="gpt5")


def test_local_bright_loads_documents_and_both_query_modes(local_bright: Path) -> None:
    split = bright_split("theoremqa_theorems", str(local_bright))
    assert len(split.load_corpus()) == 4
    assert split.load_queries()[0].text == EXAMPLES[0]["query"]
    reasoning = bright_split("theoremqa_theorems", str(local_bright), QueryMode.reasoning).load_queries()
    assert reasoning[0].text.startswith("items put into containers")
    with pytest.raises(DataError, match="no file for BRIGHT split 'biology'"):
        bright_split("biology", str(local_bright))


def test_eval_on_local_bright_in_both_modes(local_bright: Path) -> None:
    common = ["eval", "--retriever", "bm25", "--bright", "theoremqa_theorems", "--bright-source", str(local_bright), "--json"]
    question = run_rader(*common)
    assert question.returncode == 0, question.stderr
    result = json.loads(question.stdout)
    assert set(result) == {"splits", "average", "label", "settings"}
    assert result["splits"]["theoremqa_theorems"]["queries"] == 1
    assert result["average"]["ndcg@10"] == pytest.approx(1 / math.log2(5))  # the gold document at rank 4
    assert result["label"] == "bm25 [question]"
    assert result["settings"] == {
        "retriever": "bm25", "model": "embedded", "reranker": None, "query_mode": "question", "alpha": 0.8,
        "bright": ["theoremqa_theorems"], "bright_source": str(local_bright), "reasoner": "gpt4", "paper_protocol": False,
    }  # fmt: skip
    reasoning = run_rader(*common, "--query-mode", "reasoning")
    assert reasoning.returncode == 0, reasoning.stderr
    assert json.loads(reasoning.stdout)["average"]["ndcg@10"] == 1.0


def test_the_paper_protocol_sets_each_splits_instruction_and_hybrid_weight(tiny_corpus) -> None:
    """As the paper evaluates trained models on BRIGHT: the split's task before each query, alpha 1.0 on math, 0.8 elsewhere."""
    setup = RetrievalSetup(retriever="hybrid", alpha=0.5)
    theorems, biology = paper_protocol(setup, "theoremqa_theorems"), paper_protocol(setup, "biology")
    assert theorems.alpha == 1.0 and paper_protocol(setup, "aops").alpha == 1.0 and biology.alpha == 0.8
    assert theorems.query_prompt == "Instruct: Given a Math problem, retrieve relevant theorems that help answer the problem\nQuery: "
    assert biology.query_prompt == "Instruct: Given a biology post, retrieve relevant passages that help answer the post\nQuery: "
    assert set(TASK_INSTRUCTIONS) == set(PAPER_HYBRID_ALPHA) == set(BRIGHT_SPLITS)
    # The instruction reaches the encoder in place of the model's saved query prompt.
    query = "how many socks make a pair"
    instructed = DenseRetriever(tiny_corpus, query_prompt=theorems.query_prompt).score([query])
    assert instructed == pytest.approx(DenseRetriever(tiny_corpus).score([theorems.query_prompt + query]), abs=1e-5)
    assert instructed != pytest.approx(DenseRetriever(tiny_corpus).score([query]), abs=1e-3)


def test_the_paper_protocol_is_for_bright_only() -> None:
    result = run_rader("eval", "--retriever", "bm25", "--paper-protocol")
    assert result.returncode == 2 and result.stderr.strip() == "error: --paper-protocol is BRIGHT's protocol: give --bright SPLIT (or all)"


def test_runs_file_keeps_the_latest_run_per_label(tmp_path: Path) -> None:
    path = tmp_path / "runs.jsonl"
    append_run(path, "a", {"ndcg@10": 0.1}, {})
    append_run(path, "b", {"ndcg@10": 0.2}, {})
    append_run(path, "a", {"ndcg@10": 0.3}, {})
    assert load_runs(path) == [("a", {"ndcg@10": 0.3}), ("b", {"ndcg@10": 0.2})]
    path.write_text("not json\n")
    with pytest.raises(DataError, match="line 1: not a run record"):
        load_runs(path)


def test_eval_appends_runs_and_charts_them(tmp_path: Path, tiny_corpus_rows: list[dict]) -> None:
    from conftest import write_jsonl

    corpus = write_jsonl(tmp_path / "c.jsonl", tiny_corpus_rows)
    queries = write_jsonl(tmp_path / "q.jsonl", [{"id": "q1", "query": "right triangle hypotenuse", "gold_ids": ["pythagoras"]}])
    runs, chart = tmp_path / "runs.jsonl", tmp_path / "runs.png"
    for alpha in ("0.5", "1.0"):
        args = ["eval", "--retriever", "hybrid", "--alpha", alpha, "--corpus", str(corpus), "--queries", str(queries)]
        result = run_rader(*args, "--runs-file", str(runs), "--plot", str(chart), "--json")
        assert result.returncode == 0, result.stderr
        printed = json.loads(result.stdout)
        assert set(printed) == {"ndcg@10", "recall@10", "p@10", "queries", "docs", "most_gold", "per_query", "label", "settings"}
        assert printed["most_gold"] == 1 and set(printed["per_query"]) == {"q1"}
        assert printed["settings"] == {
            "retriever": "hybrid", "model": "embedded", "reranker": None, "query_mode": "question", "alpha": float(alpha),
            "corpus": str(corpus), "queries": str(queries),
        }  # fmt: skip
        recorded = json.loads(runs.read_text().splitlines()[-1])
        assert (printed["label"], printed["settings"]) == (recorded["label"], recorded["settings"])  # one record, two places
    assert [label for label, _ in load_runs(runs)] == ["hybrid embedded a=0.5 [question]", "hybrid embedded a=1 [question]"]
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_missing_reranker_is_a_clear_error() -> None:
    result = run_rader("eval", "--retriever", "bm25", "--reranker", "/no/such/reranker")
    assert result.returncode == 2
    assert "cannot load reranker '/no/such/reranker'" in result.stderr
