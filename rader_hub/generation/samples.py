"""Trajectories to training samples (docs/method.md, section 2).

A trajectory is the path from the root to a terminal node: one a rollout reached or, by default
(the official harvest), any solution node the expansions made, its reward judged by the same
rule (its answer equals the gold answer). From every
trajectory with reward 1 (or any reward, under the ``require_correct_answer=False`` relaxation)
that passes through a retrieval node, each RT node gives one sample: its theorem is the positive,
and the theorems retrieved for the same QG node that self-reflection did not label relevant are
the negatives. A theorem whose verdict could not be parsed is neither: it is only recorded. The
QG query is kept only as provenance, never as a training query nor in a partial solution.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rader_hub.generation.answers import answers_match
from rader_hub.generation.mcts import SearchResult
from rader_hub.generation.prompts import format_steps
from rader_hub.generation.tree import Action, Node, iter_nodes
from rader_hub.schema import NOT_RELEVANT, UNPARSED


def trajectories(root: Node, every_solution: bool = True) -> list[Node]:
    """Terminal nodes that a rollout evaluated and, with ``every_solution``, every other one that
    reached an answer (the official harvest); each stands for its root-to-leaf path."""
    return [node for node in iter_nodes(root) if node.terminal and (node.reward is not None or (every_solution and node.answer))]


def _reward(leaf: Node, gold_answer: str) -> float:
    """A rollout's reward, or for a solution no rollout reached, the same rule (answer equals gold)."""
    if leaf.reward is not None:
        return leaf.reward
    return 1.0 if leaf.answer is not None and answers_match(leaf.answer, gold_answer) else 0.0


def extract_samples(
    result: SearchResult,
    theorem_text: Callable[[str], str],
    require_correct_answer: bool = True,
    every_solution: bool = True,
) -> list[dict[str, Any]]:
    """One sample per distinct RT node on an accepted trajectory, de-duplicated across trajectories."""
    samples: list[dict[str, Any]] = []
    seen: set[int] = set()
    for leaf in trajectories(result.root, every_solution):
        reward = _reward(leaf, result.problem.gold_answer)
        if require_correct_answer and reward != 1.0:
            continue
        path = leaf.path()
        for position, node in enumerate(path):
            if node.action is not Action.RT or id(node) in seen:
                continue
            seen.add(id(node))
            query_node = path[position - 1]
            negatives = [j for j in query_node.judgements if j.verdict == NOT_RELEVANT and not j.kept]
            partial = query_node.parent.steps() if query_node.parent is not None else []
            samples.append(
                {
                    "sample_id": f"{result.problem.id}#{len(samples)}",
                    "problem_id": result.problem.id,
                    "problem": result.problem.problem,
                    "gold_answer": result.problem.gold_answer,
                    "partial_solution": format_steps(partial) if partial else "",
                    "partial_steps": partial,
                    "qg_query": query_node.text,
                    "positive_id": node.theorem_id,
                    "positive": theorem_text(node.theorem_id),
                    "positive_summary": node.text,
                    "judge_verdict": node.verdict,
                    "judge_reason": node.reason,
                    "kept_by_relaxation": node.kept_by_relaxation,
                    "reflection_negative_ids": [j.doc_id for j in negatives],
                    "reflection_negative_verdicts": [j.verdict for j in negatives],
                    "reflection_negative_reasons": [j.reason for j in negatives],
                    "unparsed_verdict_ids": [j.doc_id for j in query_node.judgements if j.verdict == UNPARSED],
                    "trajectory": [step.text for step in path[1:]],
                    "trajectory_actions": [step.action.value for step in path[1:]],
                    "final_answer": leaf.answer,
                    "reward": reward,
                }
            )
    return samples
