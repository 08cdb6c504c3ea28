"""What the cards say at first glance, checked without a trained model: the status line for a demo
model that loses to its base and for a model that beats it, the paired-bootstrap interval, the
model-index and `.eval_results` entries (Hub dataset ids), BRIGHT outputs accepted by `--eval`, and
the sentence-transformers widget and tables cut to size."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from huggingface_hub.utils import validate_repo_id

from rader_hub.errors import DataError
from rader_hub.evaluation.bootstrap import paired_bootstrap
from rader_hub.publish.evals import PublishedModel, eval_result_entries, evaluation_sets, load_eval_runs, model_index_results
from rader_hub.publish.model_card import status_line
from rader_hub.publish.saved_card import shrink_training_details, trimmed_widget, widget_from_examples

MODEL = Path("/runs/math/model")
PUBLISHED = PublishedModel("retriever", "org/rader", MODEL, "sentence-transformers/all-MiniLM-L6-v2", frozenset({"embedded"}))
DEMO_DATA = {
    "rows": 23,
    "problems": 6,
    "generators": ["HuggingFaceTB/SmolLM2-135M-Instruct (Q4_1 GGUF)"],
    "demo": True,
    "failing_paper_filters": 16,
}
TRAINING = {"steps": 2, "train_rows": 23, "data": {"path": "outputs/math/data", "config": None, "split": None}}


def eval_file(tmp_path: Path, name: str, model: str, ndcg: list[float], **settings) -> Path:
    """A `rader eval --json` object as the command prints it, with per-query scores."""
    per_query = {f"q{i}": {"ndcg@10": value, "recall@10": float(value > 0)} for i, value in enumerate(ndcg)}
    metrics = {"ndcg@10": float(np.mean(ndcg)), "recall@10": float(np.mean([v > 0 for v in ndcg])), "p@10": 0.1}
    record = {
        **metrics,
        "queries": len(ndcg),
        "docs": 354,
        "most_gold": 1,
        "per_query": per_query,
        "label": f"dense {name} [question]",
        "settings": {"retriever": "dense", "model": model, "reranker": None, "query_mode": "question", "alpha": 0.8}
        | {"corpus": "embedded", "queries": "embedded", **settings},
    }
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(record))
    return path


def test_paired_bootstrap_interval_brackets_the_mean_difference_and_is_reproducible():
    rng = np.random.default_rng(1)
    base = {f"q{i}": float(v) for i, v in enumerate(rng.uniform(0, 1, 200))}
    better = {query: score + 0.05 for query, score in base.items()}  # every query gains exactly 0.05
    difference = paired_bootstrap(better, base)
    assert difference.mean == pytest.approx(0.05) and difference.low == pytest.approx(0.05) and difference.significant
    noisy = {query: score + float(rng.normal(0, 0.2)) for query, score in base.items()}
    first, second = paired_bootstrap(noisy, base), paired_bootstrap(noisy, base)
    assert first == second and first.low < first.mean < first.high
    # The interval's half width is about 1.96 standard errors of the mean difference.
    deltas = np.array([noisy[q] - base[q] for q in base])
    assert (first.high - first.low) / 2 == pytest.approx(1.96 * deltas.std() / np.sqrt(len(deltas)), rel=0.1)
    with pytest.raises(DataError, match="same queries"):
        paired_bootstrap({"a": 1.0}, {"b": 1.0})


def test_status_line_of_a_demo_model_that_does_not_beat_its_base(tmp_path):
    files = [
        eval_file(tmp_path, "model", str(MODEL), [0.5, 0.6, 0.0, 1.0, 0.3, 0.62]),
        eval_file(tmp_path, "base", "embedded", [0.6, 0.5, 0.0, 1.0, 0.3, 0.6]),
    ]
    sets = evaluation_sets(load_eval_runs(files), PUBLISHED)
    line = status_line(sets, TRAINING, DEMO_DATA)
    assert line.startswith("**Demo model, not for use.** Trained for 2 steps on 23 rows from 6 problems")
    assert "16 of 23 rows would not pass the paper's filters" in line
    assert "nDCG@10 is 0.5033 against 0.5000 for its base model: +0.0033" in line
    assert line.endswith("no measurable difference from its base.")


def test_status_line_of_a_model_that_beats_its_base(tmp_path):
    base_scores = [0.2, 0.5, 0.3, 0.6, 0.1, 0.4, 0.5, 0.3]
    files = [
        eval_file(tmp_path, "model", str(MODEL), [score + 0.2 for score in base_scores]),
        eval_file(tmp_path, "base", "embedded", base_scores),
    ]
    line = status_line(evaluation_sets(load_eval_runs(files), PUBLISHED), TRAINING, None)
    assert not line.startswith("**Demo")
    assert "On TheoremQA dev (8 queries), nDCG@10 is 0.5625 against 0.3625 for its base model: +0.2000" in line
    assert line.endswith("better than its base.")
    assert status_line([], {}, None) == "It has not been evaluated: its quality is unmeasured."
    in_memory = status_line([], {"steps": 25, "train_rows": 399, "data": None}, None)
    assert in_memory.startswith("Trained for 25 steps on 399 rows passed in memory (the training record names no dataset).")


def test_model_index_and_eval_results_name_hub_datasets_with_config_and_split(tmp_path):
    files = [eval_file(tmp_path, "model", str(MODEL), [0.5, 1.0]), eval_file(tmp_path, "base", "embedded", [0.5, 0.5])]
    local = eval_file(tmp_path, "local", str(MODEL), [1.0], corpus="/data/corpus.jsonl", queries="/data/queries.jsonl")
    sets = evaluation_sets(load_eval_runs([*files, local]), PUBLISHED)
    results = model_index_results(sets, "org/rader")
    # One gold per query: P@10 is left out; the local query file has no Hub id, so no entry.
    assert {(r.dataset_type, r.dataset_split, r.metric_type) for r in results} == {
        ("TIGER-Lab/TheoremQA", "test", "ndcg_at_10"),
        ("TIGER-Lab/TheoremQA", "test", "recall_at_10"),
    }
    for result in results:
        validate_repo_id(result.dataset_type)
        assert result.source_url == "https://huggingface.co/org/rader"
    (entry,) = eval_result_entries(sets)
    assert (entry.dataset_id, entry.task_id, entry.value) == ("TIGER-Lab/TheoremQA", "test", 0.75)


def test_bright_output_is_accepted_per_split_and_averaged(tmp_path):
    split = {"ndcg@10": 0.2, "recall@10": 0.4, "p@10": 0.05, "queries": 76, "docs": 206, "most_gold": 3, "per_query": {}}
    record = {
        "splits": {"theoremqa_theorems": split, "aops": {**split, "ndcg@10": 0.1}},
        "average": {"ndcg@10": 0.15, "recall@10": 0.4, "p@10": 0.05},
        "label": "dense model [question]",
        "settings": {"retriever": "dense", "model": str(MODEL), "query_mode": "question", "bright": ["aops", "theoremqa_theorems"]}
        | {"bright_source": "xlangai/BRIGHT", "reasoner": "gpt4"},
    }
    path = tmp_path / "bright.json"
    path.write_text(json.dumps(record))
    sets = evaluation_sets(load_eval_runs([path]), PUBLISHED)
    assert [s.name for s in sets] == ["BRIGHT theoremqa_theorems", "BRIGHT aops", "BRIGHT, average of 2 splits"]
    assert sets[0].metric_keys == ["ndcg@10", "recall@10", "p@10"]  # several gold documents: P@10 says something
    datasets = {(r.dataset_type, r.dataset_config, r.dataset_split) for r in model_index_results(sets, "org/rader")}
    assert datasets == {("xlangai/BRIGHT", "examples", "theoremqa_theorems"), ("xlangai/BRIGHT", "examples", "aops")}
    del record["splits"]["aops"]["docs"]
    path.write_text(json.dumps(record))
    with pytest.raises(DataError, match="split aops: missing docs"):
        load_eval_runs([path])


def test_widget_holds_distinct_trimmed_texts_and_tables_keep_three_columns():
    long_theorem = "Pigeonhole principle. " + "If n items go into m boxes and n > m, a box holds two. " * 20
    example = {"query": "How many socks?", "positive": long_theorem, "negatives": ["Bayes", "Bayes", "Euler"], "query_type": "cot"}
    (widget,) = widget_from_examples([example])
    assert widget["sentences"][1:] == ["Bayes", "Euler"] and widget["sentences"][0].endswith(" ...")
    assert len(widget["sentences"][0]) <= 304 and not widget["sentences"][0][:-4].endswith(" If n")  # cut at a word boundary
    saved = [{"source_sentence": "q", "sentences": ["a", "b", "a", "a", "c", "d", "e"]}] * 5
    assert trimmed_widget(saved) == [{"source_sentence": "q", "sentences": ["a", "b", "c", "d"]}] * 3
    section = "\n".join(
        [
            "#### Unnamed Dataset",
            "* Samples:",
            "  | query | positive | negative_1 | negative_2 |",
            "  |:--|:--|:--|:--|",
            "  | <code>q</code> | <code>p</code> | <code>n1</code> | <code>n2</code> |",
            "* Loss: x",
        ]
    )
    shrunk = shrink_training_details(section, "[`org/data`](https://huggingface.co/datasets/org/data)")
    assert shrunk.splitlines()[0] == "#### [`org/data`](https://huggingface.co/datasets/org/data)"
    assert "  | <code>q</code> | <code>p</code> | <code>n1</code> |" in shrunk and "n2" not in shrunk and shrunk.endswith("* Loss: x")
