"""Parsers, answer equivalence, negatives and query synthesis: the small units of generation."""

from __future__ import annotations

import json

import pytest
from generation_scripted_llm import ScriptedLLM

from rader_hub.generation import prompts as P
from rader_hub.generation.answers import answers_match, extract_boxed
from rader_hub.generation.checkpoint import CheckpointStore
from rader_hub.generation.negatives import mined_negatives, select_negatives
from rader_hub.generation.parsing import NOT_RELEVANT, RELEVANT, UNPARSED, parse_sentence, parse_step, parse_verdict
from rader_hub.generation.provenance import relaxed_filters
from rader_hub.generation.steps import SynthesizeQueries
from rader_hub.retrieval import BM25Retriever


@pytest.mark.parametrize(
    ("predicted", "gold"),
    [("6/7", "\\frac{6}{7}"), ("8.0", "8"), ("\\frac{\\sqrt2}{2}", "\\sqrt{2}/2"), ("[1,2)", "[1, 2)"), ("5\\text{ cm}", "5"), ("\\dfrac12", "0.5")],
)
def test_equivalent_answers_match(predicted, gold):
    assert answers_match(predicted, gold)


@pytest.mark.parametrize(("predicted", "gold"), [("7", "8"), ("(1,2)", "[1,2)"), ("answer", "3"), ("", "3")])
def test_different_answers_do_not_match(predicted, gold):
    assert not answers_match(predicted, gold)


def test_extract_boxed_takes_the_last_balanced_box():
    assert extract_boxed("first \\boxed{1}, then \\boxed{\\frac{1}{2}}.") == "\\frac{1}{2}"
    assert extract_boxed("no box") is None and extract_boxed("\\boxed{unclosed") is None


def test_verdicts_from_weak_model_output():
    assert parse_verdict("Not relevant. Reason: it is about geometry.") .label == NOT_RELEVANT
    assert parse_verdict("Not relevant. Reason: it is about geometry.").reason == "it is about geometry."
    assert parse_verdict("Relevant - the principle counts boxes").label == RELEVANT
    assert parse_verdict("False").label == NOT_RELEVANT  # what SmolLM2 answers (STACK.md)
    assert parse_verdict("This theorem is irrelevant here, though relevant elsewhere").label == NOT_RELEVANT
    assert parse_verdict("").label == UNPARSED and parse_verdict("42 %").label == UNPARSED


def test_step_and_sentence_parsers_reject_unusable_output():
    assert parse_step("Step 2: Multiply both sides by 3.\n\nMore rambling.") == "Multiply both sides by 3."
    assert parse_step("The answer is \\boxed{answer}.") is None  # copied placeholder
    assert parse_step("   ") is None and parse_step(None) is None
    assert parse_sentence('Query: "Which rule bounds the number of socks?" Then more.') == "Which rule bounds the number of socks?"
    assert parse_sentence("ok") is None


def test_negatives_never_hold_the_positive_and_are_deduplicated(tiny_corpus):
    text_of = lambda d: {"dup-of-bayes": tiny_corpus["bayes"].full_text}.get(d) or tiny_corpus[d].full_text  # noqa: E731
    chosen = select_negatives(["bayes", "pigeonhole", "bayes", "dup-of-bayes", "pythagoras", "fermat-little"], "pigeonhole", text_of, limit=2)
    assert chosen == ["bayes", "pythagoras"]
    [mined] = mined_negatives(["pigeonhole items containers"], ["pigeonhole"], [BM25Retriever(tiny_corpus)], text_of, limit=12)
    assert "pigeonhole" not in mined and len(mined) == len(set(mined)) == 3


def test_relaxed_filters_name_only_looser_settings():
    assert relaxed_filters({"require_correct_answer": True, "lexical_round_trip_top_n": 5}) == []
    assert relaxed_filters({"require_correct_answer": False, "keep_top_theorem_if_none_relevant": True, "lexical_round_trip_top_n": 50}) == [
        "keep_top_theorem_if_none_relevant", "lexical_round_trip_top_n", "require_correct_answer"]


def test_checkpoints_ignore_other_settings_and_half_written_files(tmp_path):
    store = CheckpointStore(tmp_path, {"rollouts": 2})
    store.save("math/1", {"samples": [1]})
    assert store.load("math/1") == {"samples": [1]}
    assert CheckpointStore(tmp_path, {"rollouts": 3}).load("math/1") is None
    (tmp_path / next(p.name for p in tmp_path.glob("*.json"))).write_text('{"key": "math/1", "set')
    assert store.load("math/1") is None


def _sample(positive_id, corpus):
    return {"sample_id": f"p#{positive_id}", "problem_id": "p", "problem": "How many socks make a pair?", "partial_solution": "Step 1: Two colours.",
            "partial_steps": ["Two colours."], "positive": corpus[positive_id].full_text, "positive_id": positive_id,
            "filters": json.dumps({"require_correct_answer": True})}


def test_query_synthesis_and_the_lexical_round_trip(tmp_path, tiny_corpus, tiny_corpus_rows):
    corpus_file = tmp_path / "corpus.jsonl"
    corpus_file.write_text("".join(json.dumps(r) + "\n" for r in tiny_corpus_rows))
    rules = [
        (P.TASK_LLMQ, "", "Which fact forces two socks of one colour?"),
        (P.TASK_LEXICAL, "Pigeonhole", "pigeonhole principle containers items"),  # finds its theorem
        (P.TASK_LEXICAL, "Bayes", "right triangle hypotenuse"),  # finds another theorem: filtered out
    ]
    step = SynthesizeQueries(llm=ScriptedLLM(rules=rules), corpus=str(corpus_file), output_dir=str(tmp_path / "run"), lexical_round_trip_top_n=1)
    step.load()
    rows = next(step.process([_sample("pigeonhole", tiny_corpus), _sample("bayes", tiny_corpus)]))
    kinds = {(r["positive_id"], r["query_type"]): r for r in rows}
    assert set(kinds) == {("pigeonhole", t) for t in ("cot", "question", "llmq", "lexical")} | {("bayes", t) for t in ("cot", "question", "llmq")}
    assert kinds[("pigeonhole", "lexical")]["lexical_bm25_rank"] == 1
    assert kinds[("pigeonhole", "cot")]["query"] == "How many socks make a pair?\n\nStep 1: Two colours."
    assert kinds[("pigeonhole", "question")]["query"] == "How many socks make a pair?"
    stats = json.loads((tmp_path / "run" / "run" / "queries" / "p_bayes.json").read_text())
    assert stats["lexical_round_trip_rejected"] == 1
    assert json.loads(kinds[("bayes", "cot")]["filters"])["lexical_round_trip_top_n"] == 1


def test_length_batches_bound_padding_and_batch_size():
    from rader_hub.generation.llm import length_batches

    lengths = [99, 106, 113, 114, 141, 145, 337, 787]
    batches = length_batches(lengths, batch_size=64, max_padding=0.25)
    assert [(b.start, b.stop) for b in batches] == [(0, 6), (6, 7), (7, 8)]
    for batch in batches:  # padded tokens within 25% of the real ones
        chunk = lengths[batch]
        assert len(chunk) * max(chunk) <= 1.25 * sum(chunk)
    assert [(b.start, b.stop) for b in length_batches([10] * 5, batch_size=2, max_padding=0.25)] == [(0, 2), (2, 4), (4, 5)]
    assert length_batches([], batch_size=4, max_padding=0.25) == []
