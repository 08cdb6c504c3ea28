"""The generation recipe's distilabel DAG end to end, with the scripted LLM and a tiny corpus."""

from __future__ import annotations

import json
import stat

import pytest
import yaml
from datasets import load_dataset
from generation_scripted_llm import AsyncScriptedLLM, ScriptedLLM, run_scripted_pipeline
from helpers import run_in_fresh_process

from rader_hub.fingerprints import recipe_hash


@pytest.fixture
def problem_file(tmp_path):
    rows = [
        {"id": "socks", "problem": "A drawer holds red and blue socks. How many socks give a matching pair for sure?", "answer": "3"},
        {
            "id": "gloves",
            "problem": "Gloves come in two colours. How many gloves must you take to get two of one colour?",
            "answer": "The usual argument gives \\boxed{3}.",
        },
        {"id": "no-gold", "problem": "A problem that ships without an answer.", "answer": None},
    ]
    path = tmp_path / "problems.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


# The scripted LLM answers each call's prompts at once (as the local CPU engine does); the async one
# answers each prompt as a request of its own, out of order (as an OpenAI-compatible server does).
# With the LLM steps in load stages of their own (the paper recipe's GPU layout), the boundary between
# them passes every row on: the same dataset.
@pytest.mark.parametrize(("llm_class", "llm_stages_apart"), [(ScriptedLLM, False), (AsyncScriptedLLM, False), (ScriptedLLM, True)])
def test_pipeline_writes_a_loadable_self_describing_dataset(
    llm_class, llm_stages_apart, tmp_path, tiny_corpus_rows, problem_file, monkeypatch
):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in tiny_corpus_rows))
    monkeypatch.setenv("DISTILABEL_CACHE_DIR", str(tmp_path / "distilabel-cache"))
    out = tmp_path / "out"
    run_in_fresh_process(run_scripted_pipeline, str(out), str(problem_file), str(corpus), None, llm_class, llm_stages_apart)

    data_file = out / "data" / "train-00000-of-00001.parquet"
    assert stat.S_IMODE(data_file.stat().st_mode) == 0o644 and stat.S_IMODE((out / "summary.json").stat().st_mode) == 0o644
    rows = load_dataset("parquet", data_files=str(data_file), split="train").to_list()
    by_type = {}
    for row in rows:
        by_type.setdefault(row["query_type"], []).append(row)
    # The QG node was each trajectory's first step: q_CoT would repeat q_question, so it is not made.
    assert set(by_type) == {"question", "llmq", "lexical"}
    assert {r["problem_id"] for r in rows} == {"socks", "gloves"}
    for row in rows:
        assert row["positive_id"] == "pigeonhole" and row["negatives"] and "pigeonhole" not in row["negative_ids"]
        assert len(set(row["negative_ids"])) == len(row["negative_ids"]) <= 12
        assert row["query"] != row["qg_query"]  # the QG query is never a training query
        assert row["recipe_name"] == "tiny" and len(row["recipe_hash"]) == 16
        assert row["generator"] == "scripted-test-llm" and row["judge_verdict"] == "relevant" and row["reward"] == 1.0
        assert row["filters"]["require_correct_answer"] is True and row["filters"]["lexical_round_trip_cutoff"] == 2
        assert row["relaxed_filters"] == [] and row["final_answer"] == "3" and row["gold_answer"] == "3"
        assert row["seed"] == 0 and row["created_at"].endswith("+00:00") and row["rader_hub_version"] and row["distilabel_version"]
        assert row["transformers_version"] and row["generator_revision"].startswith("scripted-test-llm")
    assert by_type["question"][0]["query"] == by_type["question"][0]["problem"]
    assert by_type["lexical"][0]["negative_source"] == "bm25+dense" and by_type["lexical"][0]["lexical_bm25_rank"] == 1
    assert by_type["question"][0]["negative_source"] == "self-reflection"
    # Both problems got the same q_llmq and q_lexical with the same positive: one row of each is kept.
    pairs = [(row["query"], row["positive_id"]) for row in rows]
    assert len(pairs) == len(set(pairs)) and len(by_type["llmq"]) == len(by_type["lexical"]) == 1

    summary = json.loads((out / "summary.json").read_text())
    assert summary["problems"] == 2 and summary["problems_skipped_without_gold_answer"] == 1
    assert summary["rollouts"] == 12 and summary["retrievals"] == 2 and summary["verdicts_parsed_share"] == 1.0
    assert summary["theorems_kept"] == 2 and summary["theorems_rejected"] == 4
    assert summary["rows_per_query_type"] == {"lexical": 1, "llmq": 1, "question": 2}
    assert summary["duplicates_dropped"] == 2 and summary["queries_dropped"]["cot_same_as_question"] == 2
    assert summary["rows_with_final_answer_share"] == 1.0
    assert summary["provenance"]["seed"] == 0 and summary["provenance"]["rader_hub_version"] == rows[0]["rader_hub_version"]

    recipe = yaml.safe_load((out / "recipe.yaml").read_text())  # the whole pipeline as run: it reproduces the rows' hash
    expected = ["load_problems", "mcts_search", "after_search" if llm_stages_apart else "synthesize_queries"]
    assert [entry["name"] for entry in recipe["pipeline"]["steps"]][:3] == expected
    assert recipe_hash(recipe) == rows[0]["recipe_hash"]
