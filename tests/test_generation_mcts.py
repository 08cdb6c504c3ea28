"""Semantics of the retrieval-augmented MCTS, proven with a scripted LLM (METHOD.md sections 1-2)."""

from __future__ import annotations

import math

import pytest
from generation_scripted_llm import ScriptedLLM

from rader_hub.generation import prompts as P
from rader_hub.generation.mcts import Problem, RetrievalMCTS, SearchConfig
from rader_hub.generation.samples import extract_samples
from rader_hub.generation.steps.common import llm_generator
from rader_hub.generation.tree import Action, Node, backpropagate, select_child, uct
from rader_hub.retrieval import BM25Retriever

SOCKS = Problem("socks", "A drawer holds red and blue socks. How many socks must you take to be sure of a matching pair?", "3")

# The QG query names the pigeonhole principle; only that theorem is judged relevant; a final
# step after the retrieved theorem answers correctly, one without it answers wrongly.
RULES = [
    (P.TASK_QG, "", "Pigeonhole principle: if n items are put into m containers with n > m, a container holds two items."),
    (P.TASK_JUDGE, "Pigeonhole principle\n", "relevant. Reason: two colours are two containers."),
    (P.TASK_JUDGE, "", "not relevant. Reason: unrelated to counting socks."),
    (P.TASK_SUMMARY, "", "More items than boxes means some box gets two items."),
    (P.TASK_CRS, "some box gets two", "Two colours are two boxes, so three socks suffice: \\boxed{3}"),
    (P.TASK_CRS, "", "Take two socks: \\boxed{2}"),
    (P.TASK_OST, "", "Consider the colours."),
]


def tree_search(tiny_corpus, rules=RULES, **overrides):
    llm = ScriptedLLM(rules=rules)
    llm.load()
    config = SearchConfig(**{"rollouts": 6, "max_depth": 4, "top_k": 3, "ost_children": 0, "qg_children": 1, "seed": 1, **overrides})
    search = RetrievalMCTS(llm_generator(llm), BM25Retriever(tiny_corpus), config)
    return search, llm


def test_uct_arithmetic_and_unvisited_first():
    parent = Node(Action.ROOT, "p", 0, visits=10)
    a = parent.add_child(Node(Action.OST, "a", 1, visits=4, value=3.0))
    b = parent.add_child(Node(Action.OST, "b", 1, visits=1, value=0.0))
    assert uct(a, 10, 2.0) == pytest.approx(3 / 4 + 2 * math.sqrt(math.log(10) / 4))
    assert uct(b, 10, 2.0) == pytest.approx(0 + 2 * math.sqrt(math.log(10) / 1))
    assert select_child(parent, 2.0) is b  # 0 + 2*1.517 = 3.03 > 0.75 + 2*0.759 = 2.27
    assert select_child(parent, 0.0) is a  # pure exploitation
    c = parent.add_child(Node(Action.CRS, "c", 1))
    assert select_child(parent, 2.0) is c  # unvisited first


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
    assert [c.action for c in root.children] == [Action.QG, Action.CRS]  # retrieval first
    qg, crs = root.children
    assert crs.terminal and crs.answer == "2" and crs.reward == 0.0
    [rt] = qg.children  # only the relevant theorem becomes a node
    assert rt.action is Action.RT and rt.theorem_id == "pigeonhole" and rt.verdict == "relevant"
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
    qg = result.root.children[0]
    rejected = [j.doc_id for j in qg.judgements if j.verdict != "relevant"]
    assert sample["positive_id"] == "pigeonhole"
    assert sample["positive"] == tiny_corpus["pigeonhole"].full_text
    assert sample["reflection_negative_ids"] == rejected and len(rejected) == 2 and "pigeonhole" not in rejected
    assert sample["partial_solution"] == ""  # the QG node was the first step
    assert sample["qg_query"] == qg.text and sample["reward"] == 1.0
    assert sample["trajectory_actions"] == ["QG", "RT", "CRS"]


def test_wrong_answers_give_no_sample_unless_the_relaxation_is_on(tiny_corpus):
    rules = [r for r in RULES if not r[2].endswith("\\boxed{3}")]
    search, _ = tree_search(tiny_corpus, rules=rules)
    [result] = search.search([SOCKS])
    text_of = lambda doc_id: tiny_corpus[doc_id].full_text  # noqa: E731
    assert extract_samples(result, text_of) == []
    relaxed = extract_samples(result, text_of, require_correct_answer=False)
    assert [s["positive_id"] for s in relaxed] == ["pigeonhole"] and relaxed[0]["reward"] == 0.0


def test_rejected_theorems_are_kept_only_under_the_named_relaxation(tiny_corpus):
    rules = [r for r in RULES if not r[2].startswith("relevant")]
    search, _ = tree_search(tiny_corpus, rules=rules)
    [result] = search.search([SOCKS])
    qg = result.root.children[0]
    assert qg.children == [] and qg.terminal and qg.reward == 0.0  # dead end: nothing kept
    search, _ = tree_search(tiny_corpus, rules=rules, keep_top_theorem_if_none_relevant=True)
    [result] = search.search([SOCKS])
    [rt] = result.root.children[0].children
    assert rt.kept_by_relaxation and rt.verdict == "not relevant"
    [sample] = extract_samples(result, lambda d: tiny_corpus[d].full_text)
    assert sample["kept_by_relaxation"] and rt.theorem_id not in sample["reflection_negative_ids"]
    assert len(sample["reflection_negative_ids"]) == 2


def test_unparseable_output_discards_the_node_and_is_counted(tiny_corpus):
    rules = [(P.TASK_QG, "", "??"), (P.TASK_CRS, "", "")]  # nothing usable at all
    search, _ = tree_search(tiny_corpus, rules=rules)
    [result] = search.search([SOCKS])
    assert result.root.children == [] and result.root.terminal
    assert result.stats["parse_failures_QG"] >= 1 and result.stats["parse_failures_CRS"] >= 1
    assert extract_samples(result, lambda d: tiny_corpus[d].full_text, require_correct_answer=False) == []


def _shape(node: Node) -> tuple:
    return (node.action, node.text, node.visits, node.value, tuple(_shape(child) for child in node.children))


def test_problems_searched_together_grow_the_trees_they_grow_alone_in_fewer_rounds(tiny_corpus):
    # Answers differ by variant, so the searches end their rollouts at different depths.
    rules = [(P.TASK_OST, f"(variant {i})", "Consider the colours." if i % 2 else "Two colours: \\boxed{3}") for i in range(4)] + RULES
    problems = [Problem(f"socks-{i}", SOCKS.problem + f" (variant {i})", "3") for i in range(4)]

    def searched(group):
        search, llm = tree_search(tiny_corpus, rules=rules, rollouts=3, ost_children=1)
        rounds, finished = [], []
        expand = search._expand
        search._expand = lambda pending: (rounds.append(len(pending)), expand(pending))
        results = search.search(group, on_finished=lambda result: finished.append(result.problem.id))
        return results, len(rounds), finished, llm

    together, together_rounds, finished, llm = searched(problems)
    alone = [searched([problem]) for problem in problems]
    assert sorted(finished) == [p.id for p in problems]
    assert all(r.stats["rollouts"] == 3 for r in together)
    # A problem's search does not depend on its batch: same tree, same counts.
    assert [_shape(r.root) for r in together] == [_shape(results[0].root) for results, *_ in alone]
    assert [r.stats for r in together] == [results[0].stats for results, *_ in alone]
    # No problem waits for another: as many rounds as the longest search alone, not their sum.
    assert together_rounds == max(rounds for _, rounds, *_ in alone) < sum(rounds for _, rounds, *_ in alone)
    # The first call expands all four roots at once.
    assert len({p.split("(variant ")[1][0] for p in llm.calls[0]}) == 4


def test_generator_sends_one_call_per_token_budget_unless_the_llm_takes_a_budget_per_prompt():
    llm = ScriptedLLM(rules=[(P.TASK_OST, "alpha", "A"), (P.TASK_OST, "beta", "B"), (P.TASK_OST, "gamma", "C")])
    llm.load()
    messages = [P.one_step_thought(text, []) for text in ("alpha", "beta", "gamma")]
    assert llm_generator(llm)(messages, [10, 20, 10]) == ["A", "B", "C"]
    assert [len(call) for call in llm.calls] == [2, 1]  # alpha and gamma share a budget
