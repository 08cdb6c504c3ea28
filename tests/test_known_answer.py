"""The known-answer LLM: what it answers to each prompt kind, and a small recipe run with it."""

from __future__ import annotations

import dataclasses
import json

import pytest
from helpers import run_in_fresh_process

from rader_hub.corpus import load_corpus
from rader_hub.embedded_data import resolve_source
from rader_hub.errors import DataError
from rader_hub.evaluation.label_quality import label_quality
from rader_hub.generation import prompts as P
from rader_hub.generation.answers import answers_match, extract_answer
from rader_hub.generation.known_answer import KnownAnswerLLM
from rader_hub.generation.parsing import (
    parse_candidate_theorems,
    parse_labelled_query,
    parse_sentence,
    parse_step,
    parse_summary,
    parse_verdict,
)
from rader_hub.generation.query_filters import names_theorem
from rader_hub.queries import load_queries
from rader_hub.retrieval import BM25Retriever
from rader_hub.schema import NOT_RELEVANT, RELEVANT

# A dev question (its gold theorem is tqa-profit-maximization, its answer 35).
QUESTION = load_queries(resolve_source("embedded", "dev_queries"))[0]
CORPUS = load_corpus(resolve_source("embedded", "theorems"))
GOLD = CORPUS[QUESTION.gold_ids[0]]
OTHERS = [document for document in CORPUS if document.id not in QUESTION.gold_ids]


@pytest.fixture(scope="module")
def llm() -> KnownAnswerLLM:
    llm = KnownAnswerLLM()
    llm.load()
    return llm


def reply(llm: KnownAnswerLLM, messages: P.Messages) -> str:
    [output] = llm.generate([messages], max_new_tokens=[16])  # budgets change nothing
    return output["generations"][0]


def test_prompts_are_read_back_as_their_builders_wrote_them():
    steps = ["Write the demand as Q = 60 - P.", P.theorem_step("Profit maximization - profit peaks where MR = MC.")]
    request = P.read_request(P.judge_theorem(QUESTION.text, steps, GOLD.full_text))
    assert request == P.Request(P.PromptKind.JUDGE, QUESTION.text, tuple(steps), GOLD.full_text)
    assert P.read_request(P.lexical_query("A theorem.\n\nWith two paragraphs.")).theorem == "A theorem.\n\nWith two paragraphs."
    assert P.read_request(P.generate_query(QUESTION.text, [], candidates=2)).kind is P.PromptKind.QG
    with pytest.raises(ValueError, match="not a prompt of rader_hub.generation.prompts"):
        P.read_request([{"role": "user", "content": "Tell me a joke."}])


def test_qg_paraphrases_the_gold_theorem_so_that_retrieval_finds_it(llm):
    [query] = parse_candidate_theorems(reply(llm, P.generate_query(QUESTION.text, [])))
    assert not names_theorem(query, GOLD.title)
    [ranking] = BM25Retriever(CORPUS).search([query], top_k=1)
    assert ranking[0][0] == GOLD.id


def test_self_reflection_is_relevant_exactly_for_gold_theorems_as_text_or_summary(llm):
    gold_summary = parse_summary(reply(llm, P.summarize_theorem(P.shown_theorem(GOLD.full_text, 400))))
    assert gold_summary is not None and gold_summary.startswith(GOLD.title)
    for shown in (P.shown_theorem(GOLD.full_text, 400), gold_summary):
        assert parse_verdict(reply(llm, P.judge_theorem(QUESTION.text, [], shown))).label == RELEVANT
    for other in OTHERS[:20]:
        summary = parse_summary(reply(llm, P.summarize_theorem(P.shown_theorem(other.full_text, 400))))
        assert parse_verdict(reply(llm, P.judge_theorem(QUESTION.text, [], summary))).label == NOT_RELEVANT


def test_judge_error_flips_a_seeded_share_of_verdicts():
    def verdicts(judge_error: float, seed: int) -> list[str]:
        noisy = KnownAnswerLLM(judge_error=judge_error, seed=seed)
        noisy.load()
        return [parse_verdict(reply(noisy, P.judge_theorem(QUESTION.text, [], other.full_text))).label for other in OTHERS]

    flipped = verdicts(0.3, seed=1)
    share = flipped.count(RELEVANT) / len(flipped)
    assert 0.22 < share < 0.38
    assert verdicts(0.3, seed=1) == flipped and verdicts(0.3, seed=2) != flipped
    assert set(verdicts(1.0, seed=0)) == {RELEVANT}


def test_solutions_steps_and_queries(llm):
    solution = reply(llm, P.complete_remaining_steps(QUESTION.text, ["Write the profit."]))
    assert answers_match(extract_answer(solution), "35")
    step = parse_step(reply(llm, P.one_step_thought(QUESTION.text, [])))
    assert step and "\\boxed" not in step
    shown = P.shown_theorem(GOLD.full_text, 400)
    # Each style's reply: the paper's states preconditions first and labels its query; the small model's is the question alone.
    llmq = parse_labelled_query(reply(llm, P.reasoning_query(QUESTION.text, [], shown)))
    assert llmq and llmq.endswith("?") and not names_theorem(llmq, GOLD.title)
    assert parse_sentence(reply(llm, P.reasoning_query(QUESTION.text, [], shown, P.PromptStyle.small))) == llmq
    lexical = parse_sentence(reply(llm, P.lexical_query(shown)), min_words=1)
    [ranking] = BM25Retriever(CORPUS).search([lexical], top_k=1)
    assert ranking[0][0] == GOLD.id


def test_an_unknown_problem_or_theorem_is_a_clear_error(llm):
    with pytest.raises(DataError, match="the problem shown is not one of 'embedded'"):
        reply(llm, P.complete_remaining_steps("What is 2 + 2?", []))
    with pytest.raises(DataError, match="the theorem shown is not in the corpus 'embedded'"):
        reply(llm, P.lexical_query("A theorem nobody wrote."))


def test_problems_without_gold_ids_are_rejected_with_their_line(tmp_path):
    problems = tmp_path / "problems.jsonl"
    problems.write_text(json.dumps({"query": "What is 2 + 2?", "answer": 4}) + "\n")
    with pytest.raises(DataError, match="problems.jsonl line 1: a known problem needs 'query', a 'gold_ids' list and an 'answer'"):
        KnownAnswerLLM(problems=str(problems)).load()


def run_known_answer_pipeline(output_dir: str, num_problems: int) -> None:
    """The known-answer recipe over the first dev questions (module level: run in a fresh process)."""
    from pipelines.math_recipes import KNOWN_ANSWER, build_pipeline, known_answer_llm

    settings = dataclasses.replace(KNOWN_ANSWER, num_problems=num_problems, search={**KNOWN_ANSWER.search, "rollouts": 4})
    build_pipeline(settings, known_answer_llm, output_dir=output_dir).run(use_cache=False)


@pytest.mark.slow  # 3 minutes at load 11 (40 CPU-seconds): process start-up and the dense miner
def test_a_known_answer_run_makes_only_gold_positives_and_no_gold_negatives(tmp_path, monkeypatch):
    from datasets import load_dataset

    from rader_hub.generation.recipe import validate_recipe

    monkeypatch.setenv("DISTILABEL_CACHE_DIR", str(tmp_path / "distilabel-cache"))
    out = tmp_path / "out"
    run_in_fresh_process(run_known_answer_pipeline, str(out), 6)

    rows = load_dataset("parquet", data_files=str(out / "data" / "*.parquet"), split="train").to_list()
    gold = {query.id: frozenset(query.gold_ids) for query in load_queries(resolve_source("embedded", "dev_queries"))}
    quality = label_quality(rows, gold)
    assert quality["positive_precision"] == 1.0 and quality["false_negative_rate"] == 0.0
    assert set(quality["per_query_type"]) == {"question", "cot", "llmq", "lexical"}
    assert len({row["problem_id"] for row in rows}) == 6
    assert all(row["reward"] == 1.0 and row["judge"].startswith("known-answer") for row in rows)
    # The run's recipe names the LLM by its type_info, and validates like any recipe.
    recipe = validate_recipe(out / "recipe.yaml")
    llm = recipe["pipeline"]["steps"][1]["step"]["llm"]
    assert llm["type_info"] == {"module": "rader_hub.generation.known_answer", "name": "KnownAnswerLLM"}
