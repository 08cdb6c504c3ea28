"""Retrieval-augmented MCTS (METHOD.md section 1), many problems searched together.

All problems of a batch are searched together: every round, the nodes that the problems' searches
wait on are turned into prompts and sent to the generator in one call (then one more for the
summaries of the theorems self-reflection kept). Small-model calls dominate the cost, and large
calls are what batched inference (one decoding batch on CPU, vLLM continuous batching) needs.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from tqdm.auto import tqdm

from rader_hub.generation import prompts
from rader_hub.generation.answers import answers_match, extract_boxed
from rader_hub.generation.parsing import NOT_RELEVANT, RELEVANT, parse_query, parse_solution, parse_step, parse_summary, parse_verdict
from rader_hub.generation.tree import Action, Judgement, Node, backpropagate, select_child
from rader_hub.retrieval.base import Retriever

logger = logging.getLogger(__name__)


class TextGenerator(Protocol):
    """Generates one completion per prompt within that prompt's token budget; None where the
    backend produced nothing."""

    def __call__(self, prompts: list[prompts.Messages], max_new_tokens: list[int]) -> list[str | None]: ...


@dataclass(frozen=True)
class SearchConfig:
    """Every parameter of the search; defaults are the paper's (METHOD.md section 1)."""

    rollouts: int = 16
    max_depth: int = 6
    top_k: int = 5
    ost_children: int = 2
    qg_children: int = 1
    exploration_weight: float = 2.0
    step_tokens: int = 256
    solution_tokens: int = 1024
    query_tokens: int = 256
    judge_tokens: int = 128
    summary_tokens: int = 256
    theorem_chars: int = 4000
    # Relaxation (off in the paper): when self-reflection rejects every retrieved theorem, keep
    # the top-ranked one as a child anyway (marked kept_by_relaxation; never a negative).
    keep_top_theorem_if_none_relevant: bool = False
    seed: int = 0


@dataclass(frozen=True)
class Problem:
    id: str
    problem: str
    gold_answer: str


@dataclass
class SearchResult:
    problem: Problem
    root: Node
    stats: Counter = field(default_factory=Counter)


class _ProblemSearch:
    """One problem's search in progress: its tree, where it stands, and its own random choices
    (seeded by the problem's id, so a problem's search does not depend on what it is batched with)."""

    def __init__(self, problem: Problem, seed: int) -> None:
        self.result = SearchResult(problem, Node(Action.ROOT, problem.problem, depth=0))
        self.cursor = self.result.root
        self.rng = random.Random(f"{seed}:{problem.id}")


@dataclass
class _Request:
    """One prompt and what to do with its completion."""

    messages: prompts.Messages
    max_new_tokens: int
    on_result: Callable[[str | None], None]


class RetrievalMCTS:
    def __init__(
        self,
        generate: TextGenerator,
        retriever: Retriever,
        config: SearchConfig,
        theorem_text: Callable[[str], str] | None = None,
        show_progress: bool = False,
    ) -> None:
        self.generate = generate
        self.retriever = retriever
        self.config = config
        self.theorem_text = theorem_text or (lambda doc_id: retriever.corpus[doc_id].full_text)
        self.show_progress = show_progress

    # -- search ---------------------------------------------------------------------------
    def search(self, problems: Sequence[Problem], on_finished: Callable[[SearchResult], None] | None = None) -> list[SearchResult]:
        """Run ``config.rollouts`` rollouts for every problem, all problems advancing together.

        Each problem's search moves on by itself (a problem whose rollout ends early starts its
        next one at once); every round, the nodes that the searches wait on are expanded in one
        batch of LLM calls. ``on_finished`` sees each problem as soon as its last rollout ends.
        """
        searches = [_ProblemSearch(problem, self.config.seed) for problem in problems]
        bar = tqdm(total=self.config.rollouts * len(searches), desc="MCTS rollouts", unit="rollout", disable=not self.show_progress)
        waiting = list(searches)
        while waiting:
            waiting = [search for search in waiting if self._advance(search, bar, on_finished)]
            if waiting:
                self._expand([(search.result, search.cursor) for search in waiting])
        bar.close()
        return [search.result for search in searches]

    def _advance(self, search: _ProblemSearch, bar: tqdm, on_finished: Callable[[SearchResult], None] | None) -> bool:
        """Walk one problem's search to the next node that needs expanding; False once its rollouts are done.

        A rollout is UCT selection from the root down to a node that is terminal or not yet
        expanded, then expansion and random simulation down to a terminal node, whose reward is
        back-propagated."""
        result, node = search.result, search.cursor
        while node.terminal or node.expanded:
            if node.terminal:
                backpropagate(node, self._reward(node, result))
                result.stats["rollouts"] += 1
                bar.update(1)
                if result.stats["rollouts"] == self.config.rollouts:
                    logger.info("problem %s: %d rollouts done, %d correct terminals", result.problem.id,
                                result.stats["rollouts"], result.stats["correct_terminals"])
                    if on_finished is not None:
                        on_finished(result)
                    return False
                node = self._select(result.root)
            else:
                node = search.rng.choice(node.children)
        search.cursor = node
        return True

    def _select(self, root: Node) -> Node:
        node = root
        while node.expanded and not node.terminal:
            node = select_child(node, self.config.exploration_weight)
        return node

    def _reward(self, leaf: Node, result: SearchResult) -> float:
        if leaf.reward is None:
            correct = leaf.answer is not None and answers_match(leaf.answer, result.problem.gold_answer)
            leaf.reward = 1.0 if correct else 0.0
            result.stats["terminals"] += 1
            result.stats["correct_terminals"] += int(correct)
        return leaf.reward

    # -- expansion ------------------------------------------------------------------------
    def _expand(self, pending: list[tuple[SearchResult, Node]]) -> None:
        requests: list[_Request] = []
        retrieval_nodes = [(result, node) for result, node in pending if node.action is Action.QG]
        for result, node in pending:
            if node.action is not Action.QG:
                requests.extend(self._reasoning_requests(result, node))
        summaries: list[_Request] = []
        if retrieval_nodes:
            requests.extend(self._judge_requests(retrieval_nodes, summaries))
        self._run(requests)
        self._run(summaries)
        for result, node in pending:
            node.expanded = True
            if not node.children:  # every child failed to parse, or no theorem was kept
                node.terminal = True
                result.stats["dead_ends"] += 1

    def _reasoning_requests(self, result: SearchResult, node: Node) -> list[_Request]:
        cfg, problem, steps = self.config, result.problem.problem, node.steps()
        child_depth = node.depth + 1
        requests = []

        def child_maker(action: Action) -> Callable[[str | None], None]:
            def make(text: str | None) -> None:
                parsed = parse_solution(text) if action is Action.CRS else parse_query(text) if action is Action.QG else parse_step(text)
                if parsed is None:
                    result.stats[f"parse_failures_{action.value}"] += 1
                    return
                child = node.add_child(Node(action, parsed, child_depth))
                if action is not Action.QG:
                    child.answer = extract_boxed(parsed)
                    child.terminal = action is Action.CRS or child.answer is not None or child_depth >= cfg.max_depth

            return make

        # Retrieval first: among unvisited siblings UCT takes the earliest, so every problem's
        # search tries a QG/RT branch early (the point of this data), then OST, then CRS.
        if child_depth < cfg.max_depth:  # the last step must finish the solution
            if child_depth + 2 <= cfg.max_depth:  # room for QG, RT and a final step
                for _ in range(cfg.qg_children):
                    requests.append(_Request(prompts.generate_query(problem, steps), cfg.query_tokens, child_maker(Action.QG)))
            for _ in range(cfg.ost_children):
                requests.append(_Request(prompts.one_step_thought(problem, steps), cfg.step_tokens, child_maker(Action.OST)))
        requests.append(_Request(prompts.complete_remaining_steps(problem, steps), cfg.solution_tokens, child_maker(Action.CRS)))
        result.stats["expansions"] += 1
        return requests

    def _judge_requests(self, retrieval_nodes: list[tuple[SearchResult, Node]], summaries: list[_Request]) -> list[_Request]:
        """RT: retrieve for every QG node at once, then ask self-reflection about each theorem."""
        cfg = self.config
        rankings = self.retriever.search([node.text for _, node in retrieval_nodes], top_k=cfg.top_k)
        requests = []
        for (result, node), ranking in zip(retrieval_nodes, rankings):
            result.stats["retrievals"] += 1
            steps = node.steps()[:-1]  # the partial solution the judge sees: steps before the QG node
            verdicts: dict[int, Judgement] = {}

            def judged(text: str | None, rank: int, doc_id: str, score: float, result=result, node=node, verdicts=verdicts, total=len(ranking)) -> None:
                verdict = parse_verdict(text)
                if verdict.label not in (RELEVANT, NOT_RELEVANT):
                    result.stats["parse_failures_judge"] += 1
                verdicts[rank] = Judgement(doc_id, rank, score, verdict.label, verdict.reason, kept=verdict.label == RELEVANT)
                if len(verdicts) == total:
                    self._keep_theorems(result, node, [verdicts[r] for r in sorted(verdicts)], summaries)

            for rank, (doc_id, score) in enumerate(ranking, start=1):
                theorem = self.theorem_text(doc_id)[: cfg.theorem_chars]
                requests.append(
                    _Request(
                        prompts.judge_theorem(result.problem.problem, steps, theorem),
                        cfg.judge_tokens,
                        lambda text, rank=rank, doc_id=doc_id, score=score, judged=judged: judged(text, rank, doc_id, score),
                    )
                )
        return requests

    def _keep_theorems(self, result: SearchResult, node: Node, judgements: list[Judgement], summaries: list[_Request]) -> None:
        if judgements and not any(j.kept for j in judgements) and self.config.keep_top_theorem_if_none_relevant:
            top = judgements[0]
            judgements[0] = Judgement(top.doc_id, top.rank, top.score, top.verdict, top.reason, kept=True, kept_by_relaxation=True)
        node.judgements = judgements
        for judgement in judgements:
            result.stats["theorems_judged"] += 1
            if not judgement.kept:
                result.stats["theorems_rejected"] += 1
                continue
            result.stats["theorems_kept"] += 1
            result.stats["theorems_kept_by_relaxation"] += int(judgement.kept_by_relaxation)
            theorem = self.theorem_text(judgement.doc_id)[: self.config.theorem_chars]

            def summarized(text: str | None, judgement=judgement) -> None:
                summary = parse_summary(text)
                if summary is None:
                    result.stats["parse_failures_summary"] += 1
                    return
                child = Node(Action.RT, summary, node.depth + 1, theorem_id=judgement.doc_id, verdict=judgement.verdict,
                             reason=judgement.reason, kept_by_relaxation=judgement.kept_by_relaxation)
                child.terminal = child.depth >= self.config.max_depth
                node.add_child(child)

            summaries.append(_Request(prompts.summarize_theorem(theorem), self.config.summary_tokens, summarized))

    def _run(self, requests: list[_Request]) -> None:
        """One generator call carrying every prompt, each with its own token budget."""
        if not requests:
            return
        started = time.perf_counter()
        outputs = self.generate([request.messages for request in requests], [request.max_new_tokens for request in requests])
        logger.debug("generated %d completions in %.1f s", len(requests), time.perf_counter() - started)
        for request, output in zip(requests, outputs):
            request.on_result(output)
