"""Semantics of the retrieval-augmented MCTS, proven with a scripted LLM (docs/method.md, sections 1-2)."""

from __future__ import annotations

import math
import random

import pytest
from generation_scripted_llm import PIGEONHOLE_SUMMARY, RULES, SOCKS, SOCKS_QUERY, AsyncScriptedLLM, DrawingScriptedLLM, ScriptedLLM

from rader_hub.generation import prompts as P
from rader_hub.generation.mcts import Problem, RetrievalMCTS, SearchConfig
from rader_hub.generation.requests import ConcurrentCompletions, completions_for, llm_generator
from rader_hub.generation.samples import extract_samples
from rader_hub.generation.steps.synthesize_queries import cot_query
from rader_hub.generation.tree import Action, Judgement, Node, backpropagate, iter_nodes, select_child, uct
from rader_hub.retrieval import BM25Retriever

# A second query, asked after the pigeonhole theorem and a step that uses it, that finds Bayes.
BAYES_QUERY = "Bayes rule for socks. The posterior probability is the likelihood times the prior."
TWO_QUERY_RULES = [
    (P.TASK_QG, "Consider the colours", f"Theorem 1: {BAYES_QUERY}\nSubject: Probability"),
    (P.TASK_SUMMARY, "Bayes", "Bayes' theorem - a posterior comes from a prior and a likelihood."),
    (P.TASK_JUDGE, "Theorem: Bayes", "Relevant: True\nReason: it weighs the colours."),
    (P.TASK_CRS, "", "So three socks are enough. The answer is \\boxed{3}."),
] + RULES


def tree_search(tiny_corpus, rules=RULES, **overrides):
    llm = ScriptedLLM(rules=rules)
    llm.load()
    config = SearchConfig(**{"rollouts": 6, "max_depth": 4, "top_k": 3, "ost_children": 0, "qg_children": 1, "seed": 1, **overrides})
    search = RetrievalMCTS(completions_for(llm), BM25Retriever(tiny_corpus), config)
    return search, llm


def prompts_sent(llm: ScriptedLLM) -> list[str]:
    return [prompt for call in llm.calls for prompt in call]


def test_uct_arithmetic_and_unvisited_first():
    parent = Node(Action.ROOT, "p", 0, visits=10)
    a = parent.add_child(Node(Action.OST, "a", 1, visits=4, value=3.0))
    b = parent.add_child(Node(Action.OST, "b", 1, visits=1, value=0.0))
    rng = random.Random(0)
    assert uct(a, 10, 2.0) == pytest.approx(3 / 4 + 2 * math.sqrt(math.log(10) / 4))
    assert uct(b, 10, 2.0) == pytest.approx(0 + 2 * math.sqrt(math.log(10) / 1))
    assert select_child(parent, 2.0, rng) is b  # 0 + 2*1.517 = 3.03 > 0.75 + 2*0.759 = 2.27
    assert select_child(parent, 0.0, rng) is a  # pure exploitation
    c = parent.add_child(Node(Action.CRS, "c", 1))
    assert select_child(parent, 2.0, rng) is c  # unvisited first


def test_unvisited_children_are_chosen_at_random_with_a_seed():
    parent = Node(Action.ROOT, "p", 0, visits=3)
    visited = parent.add_child(Node(Action.OST, "seen", 1, visits=3, value=3.0))
    unvisited = [parent.add_child(Node(Action.OST, f"new {i}", 1)) for i in range(5)]
    picks = [select_child(parent, 2.0, random.Random(seed)) for seed in range(30)]
    assert visited not in picks and len(set(map(id, picks))) > 1  # not always the earliest
    assert {id(p) for p in picks} <= {id(u) for u in unvisited}
    assert [select_child(parent, 2.0, random.Random(seed)) for seed in range(30)] == picks  # seeded


def test_backpropagation_adds_reward_and_visit_along_the_path():
    root = Node(Action.ROOT, "p", 0)
    mid = root.add_child(Node(Action.OST, "m", 1))
    leaf = mid.add_child(Node(Action.CRS, "l", 2))
    other = root.add_child(Node(Action.CRS, "o", 1))
    backpropagate(leaf, 1.0)
    backpropagate(other, 0.0)
    assert (root.visits, root.value) == (2, 1.0)
    assert (mid.visits, mid.value, leaf.visits, leaf.value) == (1, 1.0, 1, 1.0)
    assert (other.visits, other.value) == (1, 0.0)


def test_search_finds_the_retrieval_trajectory_and_rewards_it(tiny_corpus):
    search, _ = tree_search(tiny_corpus)
    [result] = search.search([SOCKS])
    root = result.root
    assert root.visits == 6
    assert sorted(c.action.value for c in root.children) == ["CRS", "QG"]
    [qg] = [c for c in root.children if c.action is Action.QG]
    [crs] = [c for c in root.children if c.action is Action.CRS]
    assert qg.text == SOCKS_QUERY  # the candidate theorem's name and statement, not its preconditions
    assert crs.terminal and crs.answer == "2" and crs.reward == 0.0
    [rt] = qg.children  # only the relevant theorem becomes a node
    assert rt.action is Action.RT and rt.theorem_id == "pigeonhole" and rt.verdict == "relevant" and rt.text == PIGEONHOLE_SUMMARY
    assert [j.doc_id for j in qg.judgements][0] == "pigeonhole" and len(qg.judgements) == 3
    [final] = rt.children
    assert final.answer == "3" and final.reward == 1.0
    # Q of every node is the sum of rewards of the rollouts through it.
    assert qg.value == final.visits == final.value
    assert root.value == qg.value and crs.value == 0.0
    assert result.stats["retrievals"] == 1 and result.stats["theorems_kept"] == 1 and result.stats["theorems_rejected"] == 2


def test_correct_retrieval_trajectory_gives_exactly_the_prescribed_sample(tiny_corpus):
    search, _ = tree_search(tiny_corpus)
    [result] = search.search([SOCKS])
    samples = extract_samples(result, lambda doc_id: tiny_corpus[doc_id].full_text)
    [sample] = samples
    [qg] = [c for c in result.root.children if c.action is Action.QG]
    rejected = [j.doc_id for j in qg.judgements if j.verdict != "relevant"]
    assert sample["positive_id"] == "pigeonhole"
    assert sample["positive"] == tiny_corpus["pigeonhole"].full_text
    assert sample["reflection_negative_ids"] == rejected and len(rejected) == 2 and "pigeonhole" not in rejected
    assert sample["partial_solution"] == ""  # the QG node was the first step
    assert sample["qg_query"] == qg.text and sample["reward"] == 1.0
    assert sample["trajectory_actions"] == ["QG", "RT", "CRS"]


def test_children_follow_the_official_successors(tiny_corpus):
    search, _ = tree_search(tiny_corpus, rules=TWO_QUERY_RULES, rollouts=40, max_depth=6, ost_children=1, max_queries_per_path=2)
    [result] = search.search([SOCKS])
    allowed = {
        Action.ROOT: {Action.OST, Action.CRS, Action.QG},
        Action.OST: {Action.OST, Action.QG},
        Action.RT: {Action.OST, Action.CRS},
        Action.QG: {Action.RT},
        Action.CRS: set(),
    }
    seen = set()
    for node in iter_nodes(result.root):
        actions = {child.action for child in node.children}
        assert actions <= allowed[node.action], (node.action, actions)  # after RT never directly a new query
        assert node.queries_on_path() <= 2
        seen |= {(node.action, action) for action in actions}
    assert {(Action.RT, Action.OST), (Action.RT, Action.CRS), (Action.OST, Action.QG), (Action.ROOT, Action.QG)} <= seen
    search, _ = tree_search(tiny_corpus, rules=TWO_QUERY_RULES, rollouts=20, max_depth=6, ost_children=1, crs_after_ost=True)
    [result] = search.search([SOCKS])
    assert any(child.action is Action.CRS for node in iter_nodes(result.root) if node.action is Action.OST for child in node.children)


def test_a_query_whose_theorems_are_all_rejected_falls_back_to_ost_and_crs(tiny_corpus):
    rules = [r for r in RULES if not r[2].startswith("Relevant: True")]
    search, _ = tree_search(tiny_corpus, rules=rules, ost_children=1)
    [result] = search.search([SOCKS])
    [qg] = [c for c in result.root.children if c.action is Action.QG]
    assert qg.fallback and not qg.terminal and sorted(c.action.value for c in qg.children) == ["CRS", "OST"]
    assert len(qg.judgements) == 3 and not any(j.kept for j in qg.judgements)
    assert result.stats["fallback_expansions"] >= 1 and result.stats["dead_ends"] == 0
    # Without fall-backs it is a reward-0 dead end.
    search, _ = tree_search(tiny_corpus, rules=rules, ost_children=1, fallback_children=False)
    [result] = search.search([SOCKS])
    [qg] = [c for c in result.root.children if c.action is Action.QG]
    assert qg.children == [] and qg.terminal and qg.reward == 0.0


def test_theorems_on_the_path_are_not_retrieved_again(tiny_corpus):
    def later_retrievals(**overrides) -> list[tuple[frozenset[str], list[str]]]:
        rules = [(P.TASK_QG, "", f"Theorem 1: {SOCKS_QUERY}")] + RULES  # every query would find pigeonhole first
        search, _ = tree_search(tiny_corpus, rules=rules, rollouts=40, max_depth=6, ost_children=1, max_queries_per_path=2, **overrides)
        [result] = search.search([SOCKS])
        return [
            (node.theorem_ids(), [j.doc_id for j in node.judgements])
            for node in iter_nodes(result.root)
            if node.action is Action.QG and node.theorem_ids() and node.judgements
        ]

    retrievals = later_retrievals()
    assert retrievals  # a second query below a retrieved theorem was asked
    assert all(not (on_path & set(judged)) for on_path, judged in retrievals)
    assert any("pigeonhole" in judged for _, judged in later_retrievals(exclude_path_theorems=False))


def test_each_candidate_theorem_of_a_qg_completion_is_its_own_query(tiny_corpus):
    reply = "\n".join(f"Theorem {i}: Candidate {i}. Statement number {i} about socks.\nPreconditions: none." for i in (1, 2, 3))
    rules = [(P.TASK_QG, "", reply)] + RULES
    for limit, expected in ((2, 2), (0, 3)):
        search, llm = tree_search(tiny_corpus, rules=rules, rollouts=1, qg_candidates=limit)
        [result] = search.search([SOCKS])
        queries = [c.text for c in result.root.children if c.action is Action.QG]
        assert queries == [f"Candidate {i}. Statement number {i} about socks." for i in range(1, expected + 1)]
        assert sum(P.TASK_QG in prompt for prompt in prompts_sent(llm)) == 1  # one completion, several children


def test_qg_queries_never_reach_a_prompt_or_a_partial_solution(tiny_corpus):
    """A hand-built QG -> RT -> OST -> QG -> RT -> CRS tree: the second sample's q_CoT, its llmq
    prompt and the prompts generated at its nodes hold neither query; so do all prompts of a search."""
    root = Node(Action.ROOT, SOCKS.problem, 0)
    qg1 = root.add_child(Node(Action.QG, "FIRST QUERY: pigeonhole", 1))
    rt1 = qg1.add_child(Node(Action.RT, "Pigeonhole summary", 2, theorem_id="pigeonhole", verdict="relevant"))
    qg1.judgements = [Judgement("pigeonhole", 1, 1.0, "relevant", "", True), Judgement("bayes", 2, 0.5, "not relevant", "", False)]
    ost = rt1.add_child(Node(Action.OST, "Two colours are two boxes.", 3))
    qg2 = ost.add_child(Node(Action.QG, "SECOND QUERY: Bayes", 4))
    rt2 = qg2.add_child(Node(Action.RT, "Bayes summary", 5, theorem_id="bayes", verdict="relevant"))
    qg2.judgements = [Judgement("bayes", 1, 1.0, "relevant", "", True), Judgement("pythagoras", 2, 0.5, "not relevant", "", False)]
    crs = rt2.add_child(Node(Action.CRS, "So \\boxed{3}.", 6, answer="3", terminal=True, reward=1.0))
    from rader_hub.generation.mcts import SearchResult

    first, second = extract_samples(SearchResult(SOCKS, root), lambda doc_id: tiny_corpus[doc_id].full_text)
    assert second["partial_steps"] == [P.theorem_step("Pigeonhole summary"), "Two colours are two boxes."]
    assert second["partial_solution"] == "Step 1: Useful theorem: Pigeonhole summary\nStep 2: Two colours are two boxes."
    assert second["qg_query"] == "SECOND QUERY: Bayes" and first["partial_steps"] == []
    texts = [
        cot_query(SOCKS.problem, second["partial_solution"]),
        *(m["content"] for m in P.reasoning_query(SOCKS.problem, second["partial_steps"], second["positive"])),
        *(
            m["content"]
            for node in (ost, qg2, rt2, crs)
            for build in (P.one_step_thought, P.complete_remaining_steps, P.generate_query)
            for m in build(SOCKS.problem, node.steps())
        ),
    ]
    assert not any("QUERY" in text for text in texts)
    assert crs.steps() == [
        P.theorem_step("Pigeonhole summary"),
        "Two colours are two boxes.",
        P.theorem_step("Bayes summary"),
        "So \\boxed{3}.",
    ]

    search, llm = tree_search(tiny_corpus, rules=TWO_QUERY_RULES, rollouts=40, max_depth=6, ost_children=1, max_queries_per_path=2)
    [result] = search.search([SOCKS])
    queries = {node.text for node in iter_nodes(result.root) if node.action is Action.QG}
    assert queries == {SOCKS_QUERY, BAYES_QUERY}  # the search did ask both
    assert not any(query in prompt for query in queries for prompt in prompts_sent(llm))
    assert any(
        s["trajectory_actions"][:5] == ["QG", "RT", "OST", "QG", "RT"] for s in extract_samples(result, lambda d: tiny_corpus[d].full_text)
    )


def test_wrong_answers_give_no_sample_unless_the_relaxation_is_on(tiny_corpus):
    rules = [r for r in RULES if not r[2].endswith("\\boxed{3}.")]
    search, _ = tree_search(tiny_corpus, rules=rules)
    [result] = search.search([SOCKS])
    text_of = lambda doc_id: tiny_corpus[doc_id].full_text  # noqa: E731
    assert extract_samples(result, text_of) == []
    relaxed = extract_samples(result, text_of, require_correct_answer=False)
    assert [s["positive_id"] for s in relaxed] == ["pigeonhole"] and relaxed[0]["reward"] == 0.0


def test_rejected_theorems_are_kept_only_under_the_named_relaxation(tiny_corpus):
    rules = [r for r in RULES if not r[2].startswith("Relevant: True")]
    search, _ = tree_search(tiny_corpus, rules=rules, keep_top_theorem_if_none_relevant=True)
    [result] = search.search([SOCKS])
    [qg] = [c for c in result.root.children if c.action is Action.QG]
    [rt] = qg.children
    assert rt.kept_by_relaxation and rt.verdict == "not relevant" and not qg.fallback
    [sample] = extract_samples(result, lambda d: tiny_corpus[d].full_text)
    assert sample["kept_by_relaxation"] and rt.theorem_id not in sample["reflection_negative_ids"]
    assert len(sample["reflection_negative_ids"]) == 2


def test_unparsed_verdicts_are_neither_positives_nor_negatives(tiny_corpus):
    rules = [
        (P.TASK_JUDGE, "Theorem: Pigeonhole principle", "Relevant: True"),
        (P.TASK_JUDGE, "Theorem: Bayes", "Relevant: False"),
        (P.TASK_JUDGE, "", "I like socks"),
        (P.TASK_SUMMARY, "Bayes", "Bayes' theorem - posterior from prior."),
    ] + RULES
    search, _ = tree_search(tiny_corpus, rules=rules)
    [result] = search.search([SOCKS])
    [sample] = extract_samples(result, lambda d: tiny_corpus[d].full_text)
    assert sample["positive_id"] == "pigeonhole" and sample["reflection_negative_ids"] == ["bayes"]
    assert len(sample["unparsed_verdict_ids"]) == 1 and sample["unparsed_verdict_ids"][0] not in ("pigeonhole", "bayes")
    assert result.stats["theorems_unparsed"] == 1 and result.stats["theorems_rejected"] == 1


def test_unparseable_output_discards_the_node_and_is_counted(tiny_corpus):
    rules = [(P.TASK_QG, "", "??"), (P.TASK_CRS, "", "")]  # nothing usable at all
    search, _ = tree_search(tiny_corpus, rules=rules)
    [result] = search.search([SOCKS])
    assert result.root.children == [] and result.root.terminal
    assert result.stats["parse_failures_QG"] >= 1 and result.stats["parse_failures_CRS"] >= 1
    assert result.stats["fallback_expansions"] == 1  # a CRS retry first, then a dead end
    assert extract_samples(result, lambda d: tiny_corpus[d].full_text, require_correct_answer=False) == []


def _shape(node: Node) -> tuple:
    return (node.action, node.text, node.visits, node.value, tuple(_shape(child) for child in node.children))


def test_a_problem_grows_the_same_tree_alone_in_rounds_and_concurrently(tiny_corpus):
    # Answers differ by variant, so the searches end their rollouts at different depths.
    rules = [
        (P.TASK_OST, f"(variant {i})", "Consider the colours." if i % 2 else "Two colours. The answer is \\boxed{3}.") for i in range(4)
    ] + RULES
    problems = [Problem(f"socks-{i}", SOCKS.problem + f" (variant {i})", "3") for i in range(4)]
    # One token budget for all prompts: the scripted LLM then gets one call per collect.
    budgets = dict.fromkeys(("step_tokens", "solution_tokens", "query_tokens", "judge_tokens", "summary_tokens"), 64)
    config = SearchConfig(rollouts=3, max_depth=4, top_k=3, ost_children=1, qg_children=1, crs_samples=1, seed=1, **budgets)

    def searched(llm, group, **options):
        llm.load()
        return RetrievalMCTS(completions_for(llm, 4), BM25Retriever(tiny_corpus), config).search(group, **options)

    alone_llms = [ScriptedLLM(rules=rules) for _ in problems]
    alone = [searched(llm, [problem])[0] for llm, problem in zip(alone_llms, problems)]
    rounds_llm = ScriptedLLM(rules=rules)
    rounds = searched(rounds_llm, problems)
    # Concurrently: the first problem's requests are held until the other three have finished
    # their whole searches; meanwhile requests finish in another order than they were sent.
    concurrent_llm = AsyncScriptedLLM(rules=rules, hold="(variant 0)")
    finished: list[str] = []

    def on_finished(result):
        finished.append(result.problem.id)
        if len(finished) == 3:
            concurrent_llm.release()

    concurrent = searched(concurrent_llm, problems, on_finished=on_finished)
    assert isinstance(RetrievalMCTS(completions_for(concurrent_llm), None, config).completions, ConcurrentCompletions)
    # A problem's search depends neither on what it is searched with nor on when its completions arrive.
    assert [_shape(r.root) for r in rounds] == [_shape(r.root) for r in concurrent] == [_shape(r.root) for r in alone]
    assert [r.stats for r in rounds] == [r.stats for r in concurrent] == [r.stats for r in alone]
    assert all(r.stats["rollouts"] == 3 and r.stats["retrievals"] for r in alone)
    # In rounds nobody waits for more than its own phases: one call per phase of the longest search
    # (the first expands all four roots at once), not their sum.
    alone_calls = [len(llm.calls) for llm in alone_llms]
    assert len(rounds_llm.calls) == max(alone_calls) < sum(alone_calls)
    assert len({p.split("(variant ")[1][0] for p in rounds_llm.calls[0]}) == 4
    # Concurrently the other searches went on while the first one's requests were in flight...
    assert finished[-1] == "socks-0" and not concurrent_llm.held_too_long
    # ... with completions arriving out of order, and never more requests in flight than allowed.
    sent = [prompt for call in rounds_llm.calls for prompt in call]
    assert concurrent_llm.finished != sent and sorted(concurrent_llm.finished) == sorted(sent)
    assert concurrent_llm.peak_in_flight == 4  # the first problem held three of the four slots


def test_generator_sends_one_call_per_token_budget_unless_the_llm_takes_a_budget_per_prompt():
    llm = ScriptedLLM(rules=[(P.TASK_OST, "alpha", "A"), (P.TASK_OST, "beta", "B"), (P.TASK_OST, "gamma", "C")])
    llm.load()
    messages = [P.one_step_thought(text, []) for text in ("alpha", "beta", "gamma")]
    assert llm_generator(llm)(messages, [10, 20, 10]) == ["A", "B", "C"]
    assert [len(call) for call in llm.calls] == [2, 1]  # alpha and gamma share a budget


def test_a_crs_node_keeps_the_first_of_its_drafts_that_reaches_the_gold_answer(tiny_corpus):
    # Each CRS prompt is drawn four times; only the third draft is right.
    drafts = " || ".join(["Take two. \\boxed{2}", "No idea.", "Two colours, so \\boxed{3}", "\\boxed{4}"])
    rules = [(P.TASK_CRS, "", drafts), (P.TASK_QG, "", "??")]  # no query: the root's CRS child is the only solution
    llm = DrawingScriptedLLM(rules=rules)
    llm.load()
    config = SearchConfig(rollouts=1, max_depth=4, top_k=3, ost_children=0, qg_children=1, crs_samples=4, seed=1)
    [result] = RetrievalMCTS(completions_for(llm), BM25Retriever(tiny_corpus), config).search([SOCKS])
    [crs] = [child for child in result.root.children if child.action is Action.CRS]
    assert crs.answer == "3" and crs.reward == 1.0
    assert sum(P.TASK_CRS in prompt for prompt in prompts_sent(llm)) == 4
    assert result.stats["crs_drafts"] == 4 and result.stats["crs_drafts_correct"] == 1
    # One draft per node, as the embedded recipe does: the first draft stands, wrong or not.
    llm = DrawingScriptedLLM(rules=rules)
    llm.load()
    single = SearchConfig(**{**config.__dict__, "crs_samples": 1})
    [result] = RetrievalMCTS(completions_for(llm), BM25Retriever(tiny_corpus), single).search([SOCKS])
    [crs] = [child for child in result.root.children if child.action is Action.CRS]
    assert crs.answer == "2" and crs.reward == 0.0


def _tree_with_an_unvisited_solution() -> tuple[Node, Node]:
    """QG -> RT (pigeonhole) -> two solutions: one a rollout evaluated (wrong), one never visited (right)."""
    root = Node(Action.ROOT, SOCKS.problem, 0)
    qg = root.add_child(Node(Action.QG, "pigeonhole for socks", 1))
    qg.judgements = [Judgement("pigeonhole", 1, 1.0, "relevant", "", True), Judgement("bayes", 2, 0.5, "not relevant", "", False)]
    rt = qg.add_child(Node(Action.RT, "Pigeonhole summary", 2, theorem_id="pigeonhole", verdict="relevant"))
    rt.add_child(Node(Action.CRS, "Two socks. \\boxed{2}", 3, answer="2", terminal=True, reward=0.0, visits=1))
    unvisited = rt.add_child(Node(Action.OST, "Two colours, so \\boxed{3}", 3, answer="3", terminal=True))
    rt.add_child(Node(Action.OST, "A dead end with no answer", 3, terminal=True))
    return root, unvisited


def test_every_solution_node_is_harvested_not_only_those_rollouts_reached(tiny_corpus):
    from rader_hub.generation.mcts import SearchResult

    root, unvisited = _tree_with_an_unvisited_solution()
    text_of = lambda doc_id: tiny_corpus[doc_id].full_text  # noqa: E731
    [sample] = extract_samples(SearchResult(SOCKS, root), text_of)  # the official harvest (default)
    assert sample["positive_id"] == "pigeonhole" and sample["reward"] == 1.0 and sample["final_answer"] == "3"
    assert sample["reflection_negative_ids"] == ["bayes"] and unvisited.reward is None  # judged, not backed up
    assert extract_samples(SearchResult(SOCKS, root), text_of, every_solution=False) == []  # the rollout's solution was wrong
    relaxed = extract_samples(SearchResult(SOCKS, root), text_of, require_correct_answer=False)
    assert [s["final_answer"] for s in relaxed] == ["2"]  # one sample per RT node; the dead end is no solution
