"""The generation recipe's distilabel DAG end to end, with the scripted LLM and a tiny corpus."""

from __future__ import annotations

import json

import pytest
import yaml
from datasets import load_dataset
from generation_scripted_llm import ScriptedLLM
from test_generation_mcts import RULES

from pipelines.math_recipes import RecipeSettings, build_pipeline
from rader_hub.generation import prompts as P
from rader_hub.generation.steps.save import recipe_hash

PIPELINE_RULES = RULES + [
    (P.TASK_LLMQ, "", "How many objects force two into one group?"),
    (P.TASK_LEXICAL, "Pigeonhole", "pigeonhole principle items containers"),
]
SETTINGS = RecipeSettings(
    name="tiny",
    description="scripted test",
    num_problems=0,
    problems_per_batch=2,
    search={"rollouts": 6, "max_depth": 4, "top_k": 3, "ost_children": 0, "qg_children": 1, "show_progress": False},
    queries={"lexical_round_trip_top_n": 2},
)


@pytest.fixture
def problem_file(tmp_path):
    rows = [
        {"id": "socks", "problem": "A drawer holds red and blue socks. How many socks give a matching pair for sure?", "answer": "3"},
        {"id": "gloves", "problem": "Gloves come in two colours. How many gloves must you take to get two of one colour?", "answer": "3"},
        {"id": "no-gold", "problem": "A problem that ships without an answer.", "answer": None},
    ]
    path = tmp_path / "problems.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_pipeline_writes_a_loadable_self_describing_dataset(tmp_path, tiny_corpus_rows, problem_file, monkeypatch):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in tiny_corpus_rows))
    monkeypatch.setenv("DISTILABEL_CACHE_DIR", str(tmp_path / "distilabel-cache"))
    out = tmp_path / "out"
    pipeline = build_pipeline(SETTINGS, lambda: ScriptedLLM(rules=PIPELINE_RULES), output_dir=str(out), problems=str(problem_file), corpus=str(corpus))
    pipeline.run(use_cache=False)

    rows = load_dataset("parquet", data_files=str(out / "**" / "*.parquet"), split="train").to_list()
    by_type = {}
    for row in rows:
        by_type.setdefault(row["query_type"], []).append(row)
    assert set(by_type) == {"cot", "question", "llmq", "lexical"}
    assert {r["problem_id"] for r in rows} == {"socks", "gloves"}
    for row in rows:
        assert row["positive_id"] == "pigeonhole" and row["negatives"] and "pigeonhole" not in row["negative_ids"]
        assert len(set(row["negative_ids"])) == len(row["negative_ids"]) <= 12
        assert row["query"] != row["qg_query"]  # the QG query is never a training query
        assert row["recipe_name"] == "tiny" and len(row["recipe_hash"]) == 16
        assert row["generator"] == "scripted-test-llm" and row["judge_verdict"] == "relevant" and row["reward"] == 1.0
        assert json.loads(row["filters"])["require_correct_answer"] is True and row["relaxed_filters"] == []
    assert by_type["question"][0]["query"] == by_type["question"][0]["problem"]
    assert by_type["lexical"][0]["negative_source"] == "bm25+dense" and by_type["lexical"][0]["lexical_bm25_rank"] == 1
    assert by_type["cot"][0]["negative_source"] == "self-reflection"

    summary = json.loads((out / "summary.json").read_text())
    assert summary["problems"] == 2 and summary["problems_skipped_without_gold_answer"] == 1
    assert summary["rollouts"] == 12 and summary["retrievals"] == 2
    assert summary["theorems_kept"] == 2 and summary["theorems_rejected"] == 4
    assert summary["rows_per_query_type"] == {"cot": 2, "lexical": 2, "llmq": 2, "question": 2}

    recipe = yaml.safe_load((out / "recipe.yaml").read_text())  # the whole pipeline as run: it reproduces the rows' hash
    assert [entry["name"] for entry in recipe["pipeline"]["steps"]][:2] == ["load_problems", "mcts_search"]
    assert recipe_hash(recipe) == rows[0]["recipe_hash"]
