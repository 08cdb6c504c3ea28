"""Parsers, answer equivalence, negatives and query synthesis: the small units of generation."""

from __future__ import annotations

import dataclasses
import json

import pytest
from generation_scripted_llm import AsyncScriptedLLM, DrawingScriptedLLM, ScriptedLLM
from pydantic import ValidationError

from rader_hub.corpus import Document
from rader_hub.generation import prompts as P
from rader_hub.generation.answers import answers_match, extract_answer, extract_boxed
from rader_hub.generation.checkpoint import CheckpointStore
from rader_hub.generation.mcts import JudgeInput, SearchConfig
from rader_hub.generation.negatives import MiningWindow, mined_negatives, select_negatives
from rader_hub.generation.parsing import (
    NOT_RELEVANT,
    RELEVANT,
    parse_candidate_theorems,
    parse_labelled_query,
    parse_sentence,
    parse_step,
    parse_verdict,
)
from rader_hub.generation.provenance import relaxed_filters
from rader_hub.generation.query_filters import is_filler, names_theorem, round_trip_cutoff, theorem_title
from rader_hub.generation.steps import DeduplicateQueries, RetrievalMCTSSearch, SelectHardNegatives, SynthesizeQueries
from rader_hub.generation.steps.load_problems import gold_answer
from rader_hub.retrieval import BM25Retriever
from rader_hub.schema import UNPARSED


@pytest.mark.parametrize(
    ("predicted", "gold"),
    [
        ("6/7", "\\frac{6}{7}"),
        ("8.0", "8"),
        ("\\frac{\\sqrt2}{2}", "\\sqrt{2}/2"),
        ("[1,2)", "[1, 2)"),
        ("5\\text{ cm}", "5"),
        ("\\dfrac12", "0.5"),
    ],
)
def test_equivalent_answers_match(predicted, gold):
    assert answers_match(predicted, gold)


@pytest.mark.parametrize(("predicted", "gold"), [("7", "8"), ("(1,2)", "[1,2)"), ("answer", "3"), ("", "3")])
def test_different_answers_do_not_match(predicted, gold):
    assert not answers_match(predicted, gold)


def test_extract_boxed_takes_the_last_balanced_box():
    assert extract_boxed("first \\boxed{1}, then \\boxed{\\frac{1}{2}}.") == "\\frac{1}{2}"
    assert extract_boxed("no box") is None and extract_boxed("\\boxed{unclosed") is None


def test_final_answers_are_boxed_or_stated_as_the_official_code_reads_them():
    assert extract_answer("So 6 * 4 = 24. The answer is \\boxed{24}.") == "24"
    assert extract_answer("The final answer is also 16.") == "16" and extract_answer("answer: 3.5") == "3.5"
    assert extract_answer("so the answer is $\\frac{3}{4}$.") == "\\frac{3}{4}"
    assert (
        extract_answer("Q is 48") is None and extract_answer("the answer is that we need many more steps before anything is known") is None
    )
    assert (
        extract_answer("The answer is a result of a mathematical curiosity.") is None
        and extract_answer("The answer is no solution.") == "no solution"
    )


# Completions SmolLM2-135M gave to the judge prompt (sampled, temperature 0.8), with the label
# each must get; the last two are no verdict at all.
SMOLLM_VERDICTS = [
    ("Relevant: False\nReason: the number of items is not the same as", NOT_RELEVANT),
    ("Relevant: True\nReason: the Gamma function is used to find", RELEVANT),
    ("Relevant: False\nReason: it does", NOT_RELEVANT),  # cut off by the token budget after the verdict
    ("Relevant: True", RELEVANT),
    ("Relevant: False \nReason: There is no relevant connection", NOT_RELEVANT),
    ("**Relevant:** True\nReason: yes", RELEVANT),
    ("relevant: false", NOT_RELEVANT),
    ("Yes, that is correct.", RELEVANT),
    ("Not relevant. Reason: it is about geometry.", NOT_RELEVANT),
    ("False", NOT_RELEVANT),
    ("Relevant: False\nReason: it is relevant to a different problem", NOT_RELEVANT),  # a reason's words are no verdict
    ("Relevant: True\nReason: not relevant to the wrong step", RELEVANT),
    ("Relevant - the principle counts boxes", RELEVANT),
    ("This theorem is irrelevant here, though relevant elsewhere", NOT_RELEVANT),
    ("Relevant: True\nReason: it applies.", RELEVANT),
    ("Relevant: False\nReason: Not a", NOT_RELEVANT),
    ("Relevant: True\nReason: the triangle formed", RELEVANT),
    ("Relevant: False\nReason: using the formula", NOT_RELEVANT),
    ("Relevant: False\nReason: the Binomial", NOT_RELEVANT),
    ("Relevant: True\nReason: Vieta's formulas", RELEVANT),
    ("The Catalan numbers have numerous applications in combinatorial mathematics.", UNPARSED),
    ("", UNPARSED),
]


def test_verdicts_of_the_embedded_model_parse_at_least_nine_in_ten():
    labels = [parse_verdict(text).label for text, _ in SMOLLM_VERDICTS]
    assert labels == [expected for _, expected in SMOLLM_VERDICTS]
    assert sum(label != UNPARSED for label in labels) / len(labels) >= 0.9
    assert parse_verdict("Relevant: False\nReason: it is about geometry.").reason == "it is about geometry."
    assert parse_verdict("42 %").label == UNPARSED


def test_the_llm_is_shown_a_theorem_s_statement_without_its_proof():
    text = "\\section{Euclid's Lemma}\nLet p be prime and p | ab. Then p | a or p | b.\n\\begin{proof}\nBy Bezout ...\n\\end{proof}"
    assert P.shown_theorem(text, 4000) == "\\section{Euclid's Lemma}\nLet p be prime and p | ab. Then p | a or p | b."
    assert P.shown_theorem(text, 10) == "\\section{E" and P.shown_theorem("no proof here", 100) == "no proof here"


def test_candidate_theorems_are_name_and_statement_blocks():
    text = (
        "Theorem 3: Factor theorem. A polynomial has root a exactly when x - a divides it.\nPreconditions: p is a polynomial.\n"
        "Why they hold: it is.\nSubject: Algebra\nTheorem 4: Remainder theorem. p(a) is the remainder of p(x) / (x - a).\n"
        "Theorem 5: Factor theorem. A polynomial has root a exactly when x - a divides it."
    )
    assert parse_candidate_theorems(text) == [
        "Factor theorem. A polynomial has root a exactly when x - a divides it.",
        "Remainder theorem. p(a) is the remainder of p(x) / (x - a).",
    ]  # repeats dropped
    assert len(parse_candidate_theorems(text, limit=1)) == 1
    assert parse_candidate_theorems("Use the pigeonhole principle on the colours.") == ["Use the pigeonhole principle on the colours."]
    assert parse_candidate_theorems("??") == [] and parse_candidate_theorems(None) == []


def test_step_and_sentence_parsers_reject_unusable_output():
    assert parse_step("Step 2: Multiply both sides by 3.\n\nMore rambling.") == "Multiply both sides by 3."
    assert parse_step("The answer is \\boxed{answer}.") is None  # copied placeholder
    assert parse_step("   ") is None and parse_step(None) is None
    assert parse_sentence('Query: "Which rule bounds the number of socks?" Then more.') == "Which rule bounds the number of socks?"
    assert parse_sentence("ok") is None


def test_negatives_never_hold_the_positive_and_are_deduplicated(tiny_corpus):
    text_of = lambda d: {"dup-of-bayes": tiny_corpus["bayes"].full_text}.get(d) or tiny_corpus[d].full_text  # noqa: E731
    chosen = select_negatives(
        ["bayes", "pigeonhole", "bayes", "dup-of-bayes", "pythagoras", "fermat-little"], "pigeonhole", text_of, limit=2
    )
    assert chosen == ["bayes", "pythagoras"]
    assert select_negatives(["bayes", "pythagoras"], "pigeonhole", text_of, other_positive_ids=["dup-of-bayes"]) == ["pythagoras"]
    bm25 = BM25Retriever(tiny_corpus)
    [mined] = mined_negatives(["pigeonhole items containers"], ["pigeonhole"], [(bm25, MiningWindow(1, 12))], text_of, limit=12)
    assert "pigeonhole" not in mined and len(mined) == len(set(mined)) == 3


def test_lexical_negatives_come_from_the_rank_window_drawn_with_a_seed(tiny_corpus):
    bm25, text_of = BM25Retriever(tiny_corpus), (lambda d: tiny_corpus[d].full_text)
    ranked = [doc_id for doc_id, _ in bm25.search(["theorem"], top_k=4, exclude=[frozenset({"pigeonhole"})])[0]]
    window = MiningWindow(2, 3)  # ranks 2-3 after the positive is set aside: never the top one
    [mined] = mined_negatives(["theorem"], ["pigeonhole"], [(bm25, window)], text_of)
    assert mined == ranked[1:3]
    draws = {
        tuple(mined_negatives(["theorem"], ["pigeonhole"], [(bm25, MiningWindow(1, 3, samples=1))], text_of, seed=seed)[0])
        for seed in range(20)
    }
    assert len(draws) > 1 and all(len(d) == 1 and d[0] in ranked[:3] for d in draws)
    assert mined_negatives(["theorem"], ["pigeonhole"], [(bm25, MiningWindow(1, 3, samples=1))], text_of, seed=7) == mined_negatives(
        ["theorem"], ["pigeonhole"], [(bm25, MiningWindow(1, 3, samples=1))], text_of, seed=7
    )


def _row(query, positive, query_type="question", sample="p#0", negatives=()):
    return {
        "query": query,
        "positive_id": positive,
        "problem_id": "p",
        "sample_id": sample,
        "query_type": query_type,
        "reflection_negative_ids": list(negatives),
    }


def test_a_positive_of_a_query_is_never_its_negative_in_another_row(tmp_path, tiny_corpus, tiny_corpus_rows):
    corpus_file = tmp_path / "corpus.jsonl"
    corpus_file.write_text("".join(json.dumps(r) + "\n" for r in tiny_corpus_rows))
    rows = [
        _row("How many socks?", "pigeonhole", sample="p#0", negatives=["bayes", "pythagoras"]),
        _row("How many  socks?", "bayes", sample="p#1", negatives=["pigeonhole", "fermat-little"]),  # same text, another positive
        _row("how many socks?", "pigeonhole", sample="p#2", negatives=["fermat-little"]),  # a repeat of the first pair
        _row("pigeonhole principle items", "pigeonhole", "lexical", sample="p#0"),
        _row("pigeonhole principle items", "bayes", "lexical", sample="p#1"),
    ]
    dedup = DeduplicateQueries(output_dir=str(tmp_path / "run"))
    dedup.load()
    kept = next(dedup.process(rows))
    assert [(r["sample_id"], r["query_type"]) for r in kept] == [
        ("p#0", "lexical"),
        ("p#0", "question"),
        ("p#1", "lexical"),
        ("p#1", "question"),
    ]
    negatives = SelectHardNegatives(corpus=str(corpus_file), lexical_miners=["bm25"], bm25_negative_ranks=[1, 4], bm25_k1=0.9, bm25_b=0.4)
    negatives.load()
    bm25 = negatives._miners[0][0]._index
    assert (bm25.k1, bm25.b) == (0.9, 0.4)  # the official code's BM25 defines the window
    for row in next(negatives.process(kept)):
        positives_of_query = {r["positive_id"] for r in kept if r["query"].lower().split() == row["query"].lower().split()}
        assert not positives_of_query & set(row["negative_ids"]), row
        assert row["negative_ids"]
    stats = json.loads((tmp_path / "run" / "run" / "dedup" / "all.json").read_text())
    assert stats == {"duplicates_dropped": 1}


def test_filler_short_and_theorem_naming_queries_are_recognised():
    assert is_filler("I'm ready to assist you.") and is_filler("Sure! Here is a query about sets.") and is_filler("det formula")
    assert is_filler("I cannot help with that request.") and not is_filler("polygon interior angle sum formula")
    assert names_theorem("Use the pigeonhole principle here", "Pigeonhole principle")
    assert names_theorem("what does Bayes theorem say?", "Bayes' theorem") and not names_theorem("what does Bayes say?", "Bayes' theorem")
    assert theorem_title(Document("d", "\\section{Sum of Geometric Sequence}\nTags: Algebra", "")) == "Sum of Geometric Sequence"
    assert theorem_title(Document("d", "no heading", "")) == "" and not names_theorem("anything", "")


def test_the_round_trip_cutoff_scales_with_a_small_corpus():
    assert round_trip_cutoff(20, 0.0, 354) == 20  # the paper's filter
    assert round_trip_cutoff(20, 0.01, 354) == 4 and round_trip_cutoff(20, 0.01, 23_839) == 20 and round_trip_cutoff(20, 0.001, 10) == 1


def test_gold_answers_come_from_the_field_or_its_last_box():
    assert gold_answer("3") == "3" and gold_answer("so $x = \\boxed{\\frac{1}{2}}$, not \\boxed{2}") == "2"
    assert gold_answer("  ") is None and gold_answer(None) is None and gold_answer("an empty \\boxed{}") is None


def test_relaxed_filters_name_only_looser_settings():
    assert relaxed_filters({"require_correct_answer": True, "lexical_round_trip_top_n": 5, "lexical_round_trip_fraction": 0.5}) == []
    assert relaxed_filters(
        {"require_correct_answer": False, "keep_top_theorem_if_none_relevant": True, "lexical_round_trip_top_n": 50}
    ) == ["keep_top_theorem_if_none_relevant", "lexical_round_trip_top_n", "require_correct_answer"]


def test_checkpoints_ignore_other_settings_and_half_written_files(tmp_path):
    store = CheckpointStore(tmp_path, {"rollouts": 2})
    store.save("math/1", {"samples": [1]})
    assert store.load("math/1") == {"samples": [1]}
    assert CheckpointStore(tmp_path, {"rollouts": 3}).load("math/1") is None
    (tmp_path / next(p.name for p in tmp_path.glob("*.json"))).write_text('{"key": "math/1", "set')
    assert store.load("math/1") is None


def _sample(positive_id, corpus, steps=("Two colours.",)):
    return {
        "sample_id": f"p#{positive_id}",
        "problem_id": "p",
        "problem": f"How many socks make a pair? ({positive_id})",
        "partial_solution": P.format_steps(steps) if steps else "",
        "partial_steps": list(steps),
        "positive": corpus[positive_id].full_text,
        "positive_id": positive_id,
        "filters": {"require_correct_answer": True},
    }


@pytest.mark.parametrize("llm_class", [ScriptedLLM, AsyncScriptedLLM])  # one batched call; concurrent requests, out of order
def test_query_synthesis_filters_and_the_lexical_round_trip(llm_class, tmp_path, tiny_corpus, tiny_corpus_rows):
    corpus_file = tmp_path / "corpus.jsonl"
    corpus_file.write_text("".join(json.dumps(r) + "\n" for r in tiny_corpus_rows))
    rules = [
        (P.TASK_LLMQ, "(pigeonhole)", "Which fact forces two socks of one colour?"),
        (P.TASK_LLMQ, "(bayes)", "I'm ready to assist you."),  # boilerplate: dropped
        (P.TASK_LLMQ, "(pythagoras)", "Apply the Pythagorean theorem to the socks."),  # names its theorem: dropped
        (P.TASK_LEXICAL, "Pigeonhole", "pigeonhole principle containers items"),  # finds its theorem
        (P.TASK_LEXICAL, "Bayes", "right triangle hypotenuse"),  # finds another theorem: filtered out
        (P.TASK_LEXICAL, "Pythagorean", "ok"),  # too short
    ]
    step = SynthesizeQueries(
        llm=llm_class(rules=rules),
        corpus=str(corpus_file),
        output_dir=str(tmp_path / "run"),
        lexical_round_trip_top_n=1,
        max_concurrent_requests=2,
        prompt_style="small",  # replies of one sentence
    )
    step.load()
    samples = [_sample("pigeonhole", tiny_corpus), _sample("bayes", tiny_corpus), _sample("pythagoras", tiny_corpus, steps=())]
    rows = next(step.process(samples))
    if llm_class is AsyncScriptedLLM:
        assert len(step.llm.finished) == 6 and step.llm.peak_in_flight == 2  # six requests, at most two at once
    kinds = {(r["positive_id"], r["query_type"]): r for r in rows}
    assert set(kinds) == (
        {("pigeonhole", t) for t in ("cot", "question", "llmq", "lexical")}
        | {("bayes", "cot"), ("bayes", "question")}
        | {("pythagoras", "question")}
    )  # no steps before the query: no q_CoT, only q_question
    assert kinds[("pigeonhole", "lexical")]["lexical_bm25_rank"] == 1
    assert kinds[("pigeonhole", "cot")]["query"] == "How many socks make a pair? (pigeonhole)\n\nStep 1: Two colours."
    assert kinds[("pigeonhole", "question")]["query"] == "How many socks make a pair? (pigeonhole)"
    stats = {
        s["positive_id"]: json.loads((tmp_path / "run" / "run" / "queries" / f"p_{s['positive_id']}.json").read_text()) for s in samples
    }
    assert stats["bayes"]["lexical_round_trip_rejected"] == 1 and stats["bayes"]["llmq_filler"] == 1
    assert stats["pythagoras"]["llmq_names_theorem"] == 1 and stats["pythagoras"]["lexical_filler"] == 1
    assert stats["pythagoras"]["cot_same_as_question"] == 1 and stats["pigeonhole"]["cot_same_as_question"] == 0
    filters = kinds[("bayes", "cot")]["filters"]
    assert (
        filters["lexical_round_trip_top_n"] == 1
        and filters["require_correct_answer"] is True
        and filters["drop_llmq_naming_theorem"] is True
    )


def test_several_llmq_and_lexical_queries_are_drawn_per_sample(tmp_path, tiny_corpus, tiny_corpus_rows):
    """The paper's query mix: several q_llmq / q_lexical per sample, each draw its own request; a
    draw that repeats a kept query is dropped and counted."""
    corpus_file = tmp_path / "corpus.jsonl"
    corpus_file.write_text("".join(json.dumps(r) + "\n" for r in tiny_corpus_rows))
    llmq = ["Which fact forces two socks of one colour?", "Which fact  forces two socks of one colour?", "What makes a colour repeat?"]
    lexical = ["pigeonhole principle containers items", "pigeonhole principle boxes objects"]
    rules = [(P.TASK_LLMQ, "", " || ".join(llmq)), (P.TASK_LEXICAL, "", " || ".join(lexical))]
    step = SynthesizeQueries(
        llm=DrawingScriptedLLM(rules=rules),
        corpus=str(corpus_file),
        output_dir=str(tmp_path / "run"),
        lexical_round_trip_top_n=1,
        llmq_per_sample=3,
        lexical_per_sample=2,
        prompt_style="small",
    )
    step.load()
    rows = next(step.process([_sample("pigeonhole", tiny_corpus)]))
    by_type = {}
    for row in rows:
        by_type.setdefault(row["query_type"], []).append(row["query"])
    assert by_type["llmq"] == [llmq[0], llmq[2]] and by_type["lexical"] == lexical
    stats = json.loads((tmp_path / "run" / "run" / "queries" / "p_pigeonhole.json").read_text())
    assert stats["llmq_repeated"] == 1 and stats["lexical_repeated"] == 0
    assert sum(P.TASK_LLMQ in prompt for call in step.llm.calls for prompt in call) == 3


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


def test_paper_prompts_carry_the_papers_content_and_small_ones_the_tiny_models_limits():
    """Each recipe's prompts: the paper recipes ask for a solution of any length, for theorems the solution does not
    already use, and for the q_llmq's preconditions before its query; the embedded recipe keeps its tuned wording."""
    paper_crs = P.complete_remaining_steps("What is 2 + 3?", [])[-1]["content"]
    small_crs = P.complete_remaining_steps("What is 2 + 3?", [], P.PromptStyle.small)[-1]["content"]
    assert "three sentences" in small_crs and "three sentences" not in paper_crs
    assert P.QG_NOT_ALREADY_USED in P.generate_query("What is 2 + 3?", [])[-1]["content"]
    assert P.QG_NOT_ALREADY_USED not in P.generate_query("What is 2 + 3?", [], style=P.PromptStyle.small)[-1]["content"]
    paper_llmq = P.reasoning_query("What is 2 + 3?", [], "Addition - sums.")
    assert "Preconditions:" in paper_llmq[-1]["content"] and paper_llmq[2]["content"].splitlines()[-1].startswith("Query: ")
    for build in (P.complete_remaining_steps, P.generate_query):
        for style in P.PromptStyle:
            assert P.read_request(build("What is 2 + 3?", [], style=style)).style is style
    for style in P.PromptStyle:
        assert P.read_request(P.reasoning_query("What is 2 + 3?", [], "Addition - sums.", style)).style is style
    reply = "Preconditions: two numbers.\nWhy they hold: 2 and 3 are numbers.\nQuery: What is the total of two counts?"
    assert parse_labelled_query(reply) == "What is the total of two counts?" and parse_labelled_query("What is a sum?") is None


def test_the_search_step_builds_the_papers_search_config_by_default():
    assert RetrievalMCTSSearch(llm=ScriptedLLM(rules=[])).search_config == SearchConfig()


def test_search_settings_set_on_the_step_reach_the_search_as_its_types():
    step = RetrievalMCTSSearch(llm=ScriptedLLM(rules=[]), rollouts=3, exploration_weight=0.5, complete_at_max_depth=True)
    step.set_runtime_parameters({"judge_input": "theorem", "prompt_style": "small", "crs_samples": 2})
    config = step.search_config
    assert (config.rollouts, config.exploration_weight, config.complete_at_max_depth, config.crs_samples) == (3, 0.5, True, 2)
    assert config.judge_input is JudgeInput.theorem and config.prompt_style is P.PromptStyle.small


def test_every_search_setting_is_a_runtime_parameter_described_and_bounded_as_search_config_declares():
    """What `distilabel pipeline info` and --param show and check is what SearchConfig says."""
    step = RetrievalMCTSSearch(llm=ScriptedLLM(rules=[]))
    infos = {info["name"]: info for info in step.get_runtime_parameters_info()}
    for item in dataclasses.fields(SearchConfig):
        assert infos[item.name]["description"] == item.metadata["description"], item.name
        for bound, limit in item.metadata.items():
            if bound == "description":
                continue
            below = limit - 1 if isinstance(item.default, int) else limit - 0.5
            with pytest.raises(ValidationError, match="greater than or equal"):
                RetrievalMCTSSearch(llm=ScriptedLLM(rules=[]), **{item.name: below})
