"""Retrieval-augmented MCTS (docs/method.md, section 1), many problems searched together.

Each problem's search walks its own tree and waits only for its own completions: it submits the
prompts of the node it expands to a :class:`~rader_hub.generation.requests.Completions` and moves
on as soon as they are back, while other problems' requests are still being answered. A node's
completions are applied in the order its prompts were made, whichever request finished first, and
each problem's random choices are seeded by its id: a problem grows the same tree alone, with
others in synchronous rounds (:class:`~rader_hub.generation.requests.BatchedCompletions`: every
pending prompt in one call, as the local CPU engine wants) or concurrently against a serving
engine (:class:`~rader_hub.generation.requests.ConcurrentCompletions`). Expanding a QG node takes
two phases of prompts: self-reflection on the retrieved theorems needs their summaries first
(or, judging the theorems' text, the kept ones are summarised after their verdicts).

The tree has the official search's shape (Debrup-61/RaDeR, ``run_src/MCTS_for_reasoning.py``):
the root expands to OST, CRS and QG children; an OST node to OST and QG; a QG node to one RT child
per retrieved theorem that self-reflection keeps (theorems already on the path are not retrieved
again); an RT node to OST and CRS (never directly to a new query). A QG whose theorems are all
rejected falls back to OST and CRS children. Unvisited children are tried in random order, seeded
per problem. QG nodes are never part of a prompt's partial solution (:meth:`Node.steps`).
"""

from __future__ import annotations

import logging
import random
import shutil
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from tqdm.auto import tqdm

from rader_hub.generation import prompts
from rader_hub.generation.answers import answers_match, extract_answer
from rader_hub.generation.parsing import (
    parse_candidate_theorems,
    parse_solution,
    parse_step,
    parse_summary,
    parse_verdict,
)
from rader_hub.generation.requests import Completions
from rader_hub.generation.tree import Action, Judgement, Node, backpropagate, select_child
from rader_hub.retrieval.base import Retriever
from rader_hub.schema import NOT_RELEVANT, RELEVANT

logger = logging.getLogger(__name__)


class JudgeInput(str, Enum):
    """What self-reflection reads of a retrieved theorem."""

    summary = "summary"  # its self-summary (the official code: summarise, then judge the summary)
    theorem = "theorem"  # its text, cut to ``theorem_chars``


def _parameter(default: Any, description: str, **bounds: float) -> Any:
    """A field of :class:`SearchConfig`: its default, what it does and its bounds (``ge``, ``le``).
    The distilabel step declares its runtime parameters from these, so a recipe, ``--param`` and
    ``distilabel pipeline info`` show and check them as they are written here."""
    return field(default=default, metadata={"description": description, **bounds})


@dataclass(frozen=True)
class SearchConfig:
    """Every parameter of the search. Defaults are the paper's (docs/method.md, section 1) and, where
    the paper leaves room, the official implementation's (Debrup-61/RaDeR, run_src/): this is
    the one place that holds them, with their descriptions and bounds."""

    rollouts: int = _parameter(16, "MCTS rollouts per problem.", ge=1)
    max_depth: int = _parameter(6, "Maximum number of steps in a trajectory.", ge=1)
    top_k: int = _parameter(5, "Theorems retrieved per RT.", ge=1)
    ost_children: int = _parameter(2, "OST children per expansion.", ge=0)
    qg_children: int = _parameter(1, "QG completions per expansion.", ge=0)
    exploration_weight: float = _parameter(2.0, "UCT exploration weight c.", ge=0)
    step_tokens: int = _parameter(256, "Token budget of an OST step.", ge=1)
    solution_tokens: int = _parameter(1024, "Token budget of a CRS completion.", ge=1)
    query_tokens: int = _parameter(1024, "Token budget of a QG completion.", ge=1)
    judge_tokens: int = _parameter(200, "Token budget of a self-reflection verdict.", ge=1)
    summary_tokens: int = _parameter(512, "Token budget of a theorem summary.", ge=1)
    theorem_chars: int = _parameter(4000, "Theorem text shown to the LLM is cut to this length.", ge=1)
    qg_candidates: int = _parameter(
        0, "Candidate theorems kept from one QG completion, each its own QG child and query (0: all, as the official code).", ge=0
    )
    max_queries_per_path: int = _parameter(3, "QG nodes allowed on one path (official: max_depth // 2).", ge=0)
    exclude_path_theorems: bool = _parameter(True, "Theorems already on a path are not retrieved again below it (official).")
    judge_input: JudgeInput = _parameter(JudgeInput.summary, "What self-reflection reads: the theorem's summary (official) or its text.")
    crs_after_ost: bool = _parameter(
        False, "Give every OST node a CRS child (official: OST and QG children, and a CRS child only when those fail)."
    )
    fallback_children: bool = _parameter(
        True,
        "A node whose expansion yields no child (a QG whose theorems were all rejected, unparsable output) is expanded "
        "once more: OST and CRS children after a QG, CRS otherwise (official). False makes it a dead end (reward 0).",
    )
    complete_at_max_depth: bool = _parameter(
        False,
        "Only a CRS child at the depth limit, so every trajectory ends with a solution "
        "(official: any action, and a step at the limit without an answer gets reward 0).",
    )
    keep_top_theorem_if_none_relevant: bool = _parameter(
        False,
        "Relaxation (off in the paper): keep the top retrieved theorem when self-reflection rejects all "
        "(marked kept_by_relaxation; never a negative).",
    )
    crs_samples: int = _parameter(
        4, "Solutions a CRS node draws; it keeps the first that reaches the gold answer, else the first (official: 4).", ge=1
    )
    harvest_every_solution: bool = _parameter(
        True, "Samples from every solution node of the tree that reached an answer (official), not only those a rollout evaluated."
    )
    prompt_style: prompts.PromptStyle = _parameter(
        prompts.PromptStyle.paper,
        "Instructions as the paper's prompts ('paper') or tuned for a tiny model ('small': the embedded recipe).",
    )
    seed: int = _parameter(0, "Seed of the search's random choices (per problem).", ge=0)


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
    # Theorem id -> its self-summary, made once per problem and reused when it is retrieved again.
    summaries: dict[str, str] = field(default_factory=dict)


@dataclass
class _Request:
    """One prompt and what to do with its completion."""

    messages: prompts.Messages
    max_new_tokens: int
    on_result: Callable[[str | None], None]


class _ProblemSearch:
    """One problem's search in progress: its tree, the node it stands at, its own random choices
    (seeded by the problem's id, so a problem's search does not depend on what it is searched
    with) and, while that node is being expanded, the prompts it waits on."""

    def __init__(self, problem: Problem, seed: int) -> None:
        self.result = SearchResult(problem, Node(Action.ROOT, problem.problem, depth=0))
        self.cursor = self.result.root
        self.rng = random.Random(f"{seed}:{problem.id}")
        self.asked: list[_Request] = []  # the expansion's current phase
        self.answers: dict[int, str | None] = {}  # its completions so far, by position in `asked`
        self.followups: list[_Request] = []  # the next phase, filled as the current one is applied


# Which search asked for a completion, and its position among the prompts of that search's phase.
_Waiting = dict[int, tuple[_ProblemSearch, int]]


class RetrievalMCTS:
    def __init__(
        self,
        completions: Completions,
        retriever: Retriever,
        config: SearchConfig,
        theorem_text: Callable[[str], str] | None = None,
        show_progress: bool = False,
    ) -> None:
        self.completions = completions
        self.retriever = retriever
        self.config = config
        self.theorem_text = theorem_text or (lambda doc_id: retriever.corpus[doc_id].full_text)
        self.show_progress = show_progress

    # -- search ---------------------------------------------------------------------------
    def search(self, problems: Sequence[Problem], on_finished: Callable[[SearchResult], None] | None = None) -> list[SearchResult]:
        """Run ``config.rollouts`` rollouts for every problem, each problem's search advancing on its own.

        A search walks to the next node that needs expanding and submits that node's prompts;
        whenever completions come back, the searches whose node is then expanded walk on (those
        that reach a QG node together retrieve in one batch). ``on_finished`` sees each problem as
        soon as its last rollout ends.
        """
        searches = [_ProblemSearch(problem, self.config.seed) for problem in problems]
        bar = self._progress_bar(self.config.rollouts * len(searches))
        waiting: _Waiting = {}
        ready = list(searches)
        shown = 0.0
        while ready or waiting:
            walking = [search for search in ready if self._advance(search, bar, on_finished)]
            requests = self._expansion_requests(walking)
            ready = [search for search in walking if not self._ask(search, requests[search], waiting)]
            if not ready and waiting:  # every search still searching waits on the LLM
                if time.monotonic() - shown > 1:  # completions may come back hundreds of times a second
                    bar.set_postfix_str(f"{len(waiting)} requests pending")
                    shown = time.monotonic()
                ready = self._collect(waiting)
        bar.close()
        return [search.result for search in searches]

    def _progress_bar(self, total: int) -> tqdm:
        """Rollouts done, with the requests still pending as a postfix, so a first rollout that
        takes many requests still shows progress. The width falls back to $COLUMNS or 80 where
        the terminal reports none (tqdm would draw an empty line)."""
        return tqdm(
            total=total, desc="MCTS rollouts", unit="rollout", disable=not self.show_progress, ncols=shutil.get_terminal_size().columns
        )

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
                    logger.info(
                        "problem %s: %d rollouts done, %d correct terminals",
                        result.problem.id,
                        result.stats["rollouts"],
                        result.stats["correct_terminals"],
                    )
                    if on_finished is not None:
                        on_finished(result)
                    return False
                node = self._select(result.root, search.rng)
            else:
                node = search.rng.choice(node.children)
        search.cursor = node
        return True

    def _select(self, root: Node, rng: random.Random) -> Node:
        node = root
        while node.expanded and not node.terminal:
            node = select_child(node, self.config.exploration_weight, rng)
        return node

    def _reward(self, leaf: Node, result: SearchResult) -> float:
        if leaf.reward is None:
            correct = leaf.answer is not None and answers_match(leaf.answer, result.problem.gold_answer)
            leaf.reward = 1.0 if correct else 0.0
            result.stats["terminals"] += 1
            result.stats["correct_terminals"] += int(correct)
        return leaf.reward

    # -- scheduling -----------------------------------------------------------------------
    def _ask(self, search: _ProblemSearch, requests: list[_Request], waiting: _Waiting) -> bool:
        """Submit the next phase of prompts of ``search``'s node; False when none is left, and the
        node's expansion is finished."""
        while not requests and search.followups:  # a phase with nothing to ask hands on at once
            requests, search.followups = search.followups, []
        if not requests:
            self._finish_expansion(search.result, search.cursor)
            return False
        search.asked, search.answers = requests, {}
        for index, request in enumerate(requests):
            waiting[self.completions.submit(request.messages, request.max_new_tokens)] = (search, index)
        return True

    def _collect(self, waiting: _Waiting) -> list[_ProblemSearch]:
        """Hand the completions that are back to their searches; a search whose phase is complete
        applies it in the prompts' order (so its tree never depends on which request finished
        first) and asks for its next phase. Returns the searches whose node is now expanded."""
        ready = []
        for ticket, text in self.completions.collect().items():
            search, index = waiting.pop(ticket)
            search.answers[index] = text
            if len(search.answers) == len(search.asked):
                for position, request in enumerate(search.asked):
                    request.on_result(search.answers[position])
                followups, search.followups = search.followups, []
                if not self._ask(search, followups, waiting):
                    ready.append(search)
        return ready

    # -- expansion ------------------------------------------------------------------------
    def _expansion_requests(self, searches: list[_ProblemSearch]) -> dict[_ProblemSearch, list[_Request]]:
        """The first prompts of the expansion of each search's node. QG nodes retrieve together,
        in one batch; the prompts that need their completions go to each search's followups."""
        retrievals = [search for search in searches if search.cursor.action is Action.QG and not search.cursor.fallback]
        requests = {search: self._reasoning_requests(search.result, search.cursor) for search in searches if search not in retrievals}
        if retrievals:
            requests.update(zip(retrievals, self._retrieval_requests(retrievals)))
        return requests

    def _finish_expansion(self, result: SearchResult, node: Node) -> None:
        """A node with children is expanded. One without is expanded once more with fall-back actions,
        or, if it had them already (or fall-backs are off), becomes a reward-0 dead end."""
        if node.children:
            node.expanded = True
        elif self.config.fallback_children and not node.fallback:
            node.fallback = True
            result.stats["fallback_expansions"] += 1
        else:
            node.expanded = node.terminal = True
            result.stats["dead_ends"] += 1

    def _child_actions(self, node: Node) -> list[Action]:
        """Which actions follow ``node`` (the official search's successors), within the depth limit."""
        cfg, child_depth = self.config, node.depth + 1
        if node.fallback:
            actions = [Action.OST, Action.CRS] if node.action is Action.QG else [Action.CRS]
        elif node.action is Action.RT:  # a retrieved theorem is used before any new query
            actions = [Action.OST, Action.CRS]
        elif node.action is Action.OST:
            actions = [Action.OST, Action.QG] + ([Action.CRS] if cfg.crs_after_ost else [])
        else:  # the root
            actions = [Action.OST, Action.CRS, Action.QG]
        if child_depth >= cfg.max_depth and cfg.complete_at_max_depth:
            actions = [Action.CRS]
        # A query needs room below it for its theorem and a step that uses it.
        if child_depth + 2 > cfg.max_depth or node.queries_on_path() >= cfg.max_queries_per_path:
            actions = [action for action in actions if action is not Action.QG]
        return actions

    def _reasoning_requests(self, result: SearchResult, node: Node) -> list[_Request]:
        cfg, problem, steps = self.config, result.problem.problem, node.steps()
        child_depth = node.depth + 1

        def add_step(action: Action) -> Callable[[str | None], None]:
            def make(text: str | None) -> None:
                parsed = parse_solution(text) if action is Action.CRS else parse_step(text)
                if parsed is None:
                    result.stats[f"parse_failures_{action.value}"] += 1
                    return
                child = node.add_child(Node(action, parsed, child_depth))
                child.answer = extract_answer(parsed)
                child.terminal = action is Action.CRS or child.answer is not None or child_depth >= cfg.max_depth

            return make

        def add_queries(text: str | None) -> None:
            candidates = parse_candidate_theorems(text, cfg.qg_candidates)
            if not candidates:
                result.stats["parse_failures_QG"] += 1
            for query in candidates:
                node.add_child(Node(Action.QG, query, child_depth))
            result.stats["qg_candidates"] += len(candidates)

        requests = []
        for action in self._child_actions(node):
            if action is Action.OST:
                requests += [_Request(prompts.one_step_thought(problem, steps), cfg.step_tokens, add_step(Action.OST))] * cfg.ost_children
            elif action is Action.CRS:
                requests += self._solution_requests(result, node, add_step(Action.CRS))
            else:
                prompt = prompts.generate_query(problem, steps, cfg.qg_candidates, cfg.prompt_style)
                requests += [_Request(prompt, cfg.query_tokens, add_queries)] * cfg.qg_children
        result.stats["expansions"] += 1
        return requests

    def _solution_requests(self, result: SearchResult, node: Node, add: Callable[[str | None], None]) -> list[_Request]:
        """A CRS child from ``crs_samples`` drafts of the rest of the solution: the first draft whose
        answer equals the gold answer, else the first draft (official)."""
        cfg, gold = self.config, result.problem.gold_answer
        drafts: list[str | None] = []

        def drafted(text: str | None) -> None:
            drafts.append(text)
            if len(drafts) < cfg.crs_samples:
                return
            answers = [extract_answer(solution) if (solution := parse_solution(draft)) else None for draft in drafts]
            correct = [draft for draft, answer in zip(drafts, answers) if answer is not None and answers_match(answer, gold)]
            result.stats["crs_drafts"] += len(drafts)
            result.stats["crs_drafts_correct"] += len(correct)
            add(correct[0] if correct else drafts[0])

        prompt = prompts.complete_remaining_steps(result.problem.problem, node.steps(), cfg.prompt_style)
        return [_Request(prompt, cfg.solution_tokens, drafted)] * cfg.crs_samples

    def _retrieval_requests(self, searches: list[_ProblemSearch]) -> list[list[_Request]]:
        """RT: retrieve for every search's QG node in one batch; then summaries and self-reflection
        on each theorem (the second of the two a followup)."""
        cfg = self.config
        nodes = [search.cursor for search in searches]
        exclude = [node.theorem_ids() if cfg.exclude_path_theorems else frozenset() for node in nodes]
        rankings = self.retriever.search([node.text for node in nodes], top_k=cfg.top_k, exclude=exclude)
        requests = []
        for search, node, ranking in zip(searches, nodes, rankings):
            search.result.stats["retrievals"] += 1
            retrieval = _Retrieval(self, search.result, node, ranking)
            if cfg.judge_input is JudgeInput.summary:  # summarise every theorem first, then judge the summaries
                requests.append(
                    retrieval.summary_requests(
                        [doc_id for doc_id, _ in ranking], then=lambda r=retrieval, s=search: s.followups.extend(r.judge_requests())
                    )
                )
            else:  # judge the theorems' text, then summarise the kept ones
                requests.append(
                    retrieval.judge_requests(then=lambda r=retrieval, s=search: s.followups.extend(r.summary_requests(r.kept_ids())))
                )
        return requests

    def theorem(self, doc_id: str) -> str:
        """A theorem's text as the LLM is shown it."""
        return prompts.shown_theorem(self.theorem_text(doc_id), self.config.theorem_chars)


class _Retrieval:
    """One QG node's retrieved theorems on their way to becoming RT children: each is summarised
    (once per problem) and judged; relevant ones become children, the rest stay on record."""

    def __init__(self, search: RetrievalMCTS, result: SearchResult, node: Node, ranking: list[tuple[str, float]]) -> None:
        self.search, self.result, self.node, self.ranking = search, result, node, ranking
        self.judgements: dict[str, Judgement] = {}

    def text_for_judge(self, doc_id: str) -> str:
        if self.search.config.judge_input is JudgeInput.summary:
            return self.result.summaries.get(doc_id) or self.search.theorem(doc_id)
        return self.search.theorem(doc_id)

    def summary_requests(self, doc_ids: Sequence[str], then: Callable[[], None] | None = None) -> list[_Request]:
        """Summaries of ``doc_ids`` not yet summarised for this problem; once all are known,
        ``then`` runs (by default: the kept theorems become children)."""
        missing = list(dict.fromkeys(doc_id for doc_id in doc_ids if doc_id not in self.result.summaries))
        done: set[str] = set()

        def summarized(text: str | None, doc_id: str) -> None:
            summary = parse_summary(text)
            if summary is None:
                self.result.stats["parse_failures_summary"] += 1
            else:
                self.result.summaries[doc_id] = summary
            done.add(doc_id)
            if len(done) == len(missing):
                self._after_summaries(then)

        if not missing:
            self._after_summaries(then)
            return []
        budget = self.search.config.summary_tokens
        return [
            _Request(prompts.summarize_theorem(self.search.theorem(doc_id)), budget, lambda text, d=doc_id: summarized(text, d))
            for doc_id in missing
        ]

    def _after_summaries(self, then: Callable[[], None] | None) -> None:
        if then is not None:
            then()
        else:
            self.add_children()

    def judge_requests(self, then: Callable[[], None] | None = None) -> list[_Request]:
        """Self-reflection on every retrieved theorem; ``then`` runs once all verdicts are in."""
        result, node = self.result, self.node
        steps = node.steps()  # the partial solution the judge sees (QG nodes are never part of it)

        def judged(text: str | None, rank: int, doc_id: str, score: float) -> None:
            verdict = parse_verdict(text)
            self.judgements[doc_id] = Judgement(doc_id, rank, score, verdict.label, verdict.reason, kept=verdict.label == RELEVANT)
            if len(self.judgements) == len(self.ranking):
                self._record_judgements()
                if then is not None:
                    then()
                else:
                    self.add_children()

        if not self.ranking:
            self._record_judgements()
            return []
        budget = self.search.config.judge_tokens
        return [
            _Request(
                prompts.judge_theorem(result.problem.problem, steps, self.text_for_judge(doc_id)),
                budget,
                lambda text, rank=rank, doc_id=doc_id, score=score: judged(text, rank, doc_id, score),
            )
            for rank, (doc_id, score) in enumerate(self.ranking, start=1)
        ]

    def _record_judgements(self) -> None:
        judgements = [self.judgements[doc_id] for doc_id, _ in self.ranking]
        rejected = [index for index, j in enumerate(judgements) if j.verdict == NOT_RELEVANT]
        if rejected and not any(j.kept for j in judgements) and self.search.config.keep_top_theorem_if_none_relevant:
            top = judgements[rejected[0]]
            judgements[rejected[0]] = Judgement(
                top.doc_id, top.rank, top.score, top.verdict, top.reason, kept=True, kept_by_relaxation=True
            )
        self.node.judgements = judgements
        stats = self.result.stats
        for judgement in judgements:
            stats["theorems_judged"] += 1
            if judgement.verdict not in (RELEVANT, NOT_RELEVANT):
                stats["parse_failures_judge"] += 1
                stats["theorems_unparsed"] += 1
            elif judgement.kept:
                stats["theorems_kept"] += 1
                stats["theorems_kept_by_relaxation"] += int(judgement.kept_by_relaxation)
            else:
                stats["theorems_rejected"] += 1

    def kept_ids(self) -> list[str]:
        return [judgement.doc_id for judgement in self.node.judgements if judgement.kept]

    def add_children(self) -> None:
        """Each kept theorem becomes an RT child whose text is its summary (or its own text, cut,
        when no summary could be parsed)."""
        for judgement in self.node.judgements:
            if not judgement.kept:
                continue
            summary = self.result.summaries.get(judgement.doc_id) or self.search.theorem(judgement.doc_id)
            child = Node(
                Action.RT,
                summary,
                self.node.depth + 1,
                theorem_id=judgement.doc_id,
                verdict=judgement.verdict,
                reason=judgement.reason,
                kept_by_relaxation=judgement.kept_by_relaxation,
            )
            child.terminal = child.depth >= self.search.config.max_depth
            self.node.add_child(child)
