"""The retrieval-augmented MCTS step: problems in, training samples (positive + negatives) out."""

import logging
import typing
from dataclasses import asdict, fields
from enum import Enum
from typing import Any, Literal

from distilabel.mixins.runtime_parameters import RuntimeParameter
from distilabel.models.llms.base import LLM
from distilabel.steps import Step, StepInput
from distilabel.typing import StepOutput
from pydantic import Field, PrivateAttr, create_model

from rader_hub.assets import EMBEDDED
from rader_hub.files import write_json_atomic
from rader_hub.generation.checkpoint import CheckpointStore
from rader_hub.generation.failures import FailsTheRun
from rader_hub.generation.mcts import Problem, RetrievalMCTS, SearchConfig, SearchResult
from rader_hub.generation.provenance import PAPER_FILTERS, filter_struct, llm_revision, relaxed_filters
from rader_hub.generation.requests import MAX_CONCURRENT_REQUESTS, completions_for
from rader_hub.generation.samples import extract_samples
from rader_hub.generation.steps.common import load_theorems
from rader_hub.retrieval import build_retriever
from rader_hub.schema import RunFolder

logger = logging.getLogger(__name__)

SAMPLE_COLUMNS = [
    "sample_id",
    "problem_id",
    "problem",
    "gold_answer",
    "partial_solution",
    "partial_steps",
    "qg_query",
    "positive_id",
    "positive",
    "positive_summary",
    "judge_verdict",
    "judge_reason",
    "kept_by_relaxation",
    "reflection_negative_ids",
    "reflection_negative_verdicts",
    "reflection_negative_reasons",
    "unparsed_verdict_ids",
    "trajectory",
    "trajectory_actions",
    "final_answer",
    "reward",
]
PROVENANCE_COLUMNS = ["generator", "generator_revision", "seed", "judge", "search_retriever", "filters", "relaxed_filters"]


def _runtime_parameters(config: type) -> dict[str, Any]:
    """The fields of the dataclass ``config`` as distilabel runtime parameters, with the default,
    description and bounds each declares; an enum becomes the ``Literal`` of its values, which is
    what a recipe holds."""
    hints = typing.get_type_hints(config)
    declared = {}
    for item in fields(config):
        kind, default = hints[item.name], item.default
        if _is_enum(kind):
            kind, default = Literal[tuple(member.value for member in kind)], default.value
        declared[item.name] = (RuntimeParameter[kind], Field(default=default, **item.metadata))
    return declared


def _is_enum(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, Enum)


# SearchConfig's fields, declared once there: a base of the step, so the step and the search cannot
# disagree on a name, default, bound or description.
_SearchParameters = create_model("_SearchParameters", __module__=__name__, **_runtime_parameters(SearchConfig))


class RetrievalMCTSSearch(FailsTheRun, _SearchParameters, Step):
    """Search every problem of an input batch with retrieval-augmented MCTS; one row per sample.

    The LLM solves each problem by MCTS over the actions OST (one step), CRS (the rest of the
    solution), QG (candidate theorems as retrieval queries) and RT (retrieved theorems that its
    self-reflection keeps, summarised). Each RT node on a trajectory the filters accept gives a
    sample: the theorem is the positive, the theorems self-reflection rejected for the same query
    are its negatives. Defaults are the paper's and, where it leaves room, the official code's
    (``SearchConfig``). Sampling (temperature, top-k, top-p) is the LLM's ``generation_kwargs``.
    Each finished problem is checkpointed under ``output_dir``, so a rerun skips it.

    The problems of a batch are searched together, each advancing as soon as its own completions
    are back. An LLM that takes concurrent requests (an OpenAI-compatible server: ``vllm serve``,
    ``transformers serve --continuous-batching``, ...) gets each prompt as its own request, at most
    ``max_concurrent_requests`` in flight, so the server's continuous batching always has work; any
    other LLM (the local CPU engine, offline vLLM) gets every pending prompt in one call.

    Attributes:
        llm: the generator, which is also the judge (self-reflection) and the summariser.
        output_dir: the run folder (checkpoints, per-problem statistics).
        show_progress: show a progress bar per rollout.

    Runtime parameters:
        - every field of ``SearchConfig`` (`rollouts`, `max_depth`, `top_k`, ..., `seed`): the
            search's parameters, each with its default, bounds and description declared there
            (`distilabel pipeline info` lists them).
        - `require_correct_answer`: paper filter, only reward-1 trajectories give samples.
        - `max_concurrent_requests`: requests in flight at once to an OpenAI-compatible server
            (other LLMs get one call with every pending prompt).
        - `corpus`, `corpus_config`, `corpus_split`: the theorem corpus (file, folder, Hub id or
            'embedded').
        - `retriever`: the retriever inside the search: `bm25`, `dense` or `hybrid`.
        - `embedder`: the embedding model of a dense or hybrid retriever (Hub id, folder or
            'embedded').

    Input columns:
        - problem_id (`str`): the problem's id.
        - problem (`str`): the problem statement.
        - gold_answer (`str`): its final answer (the reward compares against it).

    Output columns:
        - sample_id (`str`), positive_id (`str`), positive (`str`): the sample and its theorem.
        - partial_solution (`str`), partial_steps (`List[str]`): the steps before the QG node.
        - qg_query (`str`): the query that retrieved the positive (provenance, never training data).
        - judge_verdict (`str`), judge_reason (`str`): self-reflection on the positive.
        - reflection_negative_ids (`List[str]`): theorems rejected for the same query.
        - unparsed_verdict_ids (`List[str]`): theorems whose verdict could not be read (neither).
        - trajectory (`List[str]`), trajectory_actions (`List[str]`), final_answer (`str`),
            reward (`float`): the trajectory the sample comes from.
        - generator, generator_revision, seed, judge, search_retriever, filters, relaxed_filters:
            provenance.

    Categories:
        - text-generation

    Examples:
        Search two embedded problems with the embedded LLM:

        ```python
        from rader_hub.generation.llm import LocalTransformersLLM
        from rader_hub.generation.steps import RetrievalMCTSSearch

        search = RetrievalMCTSSearch(llm=LocalTransformersLLM(), rollouts=2, max_depth=4, top_k=3)
        search.load()
        rows = next(search.process([{"problem_id": "p1", "problem": "What is 2 + 3?", "gold_answer": "5"}]))
        ```
    """

    llm: LLM
    require_correct_answer: RuntimeParameter[bool] = Field(
        default=PAPER_FILTERS["require_correct_answer"], description="Paper filter: only trajectories with reward 1 give samples."
    )
    max_concurrent_requests: RuntimeParameter[int] = Field(
        default=MAX_CONCURRENT_REQUESTS,
        ge=1,
        description="Requests in flight at once to an OpenAI-compatible server (other LLMs get every pending prompt in one call).",
    )
    corpus: RuntimeParameter[str] = Field(default=EMBEDDED, description="Theorem corpus: file, folder, Hub id or 'embedded'.")
    corpus_config: RuntimeParameter[str] | None = Field(default=None, description="Config of a Hub corpus (BRIGHT: 'documents').")
    corpus_split: RuntimeParameter[str] | None = Field(default=None, description="Split of a Hub corpus (BRIGHT: 'theoremqa_theorems').")
    retriever: RuntimeParameter[Literal["bm25", "dense", "hybrid"]] = Field(default="bm25", description="Retriever inside the search.")
    embedder: RuntimeParameter[str] = Field(
        default=EMBEDDED, description="Embedding model of a dense/hybrid retriever: Hub id, folder or 'embedded'."
    )
    output_dir: str = Field(default="outputs/math", description="Run folder (checkpoints, dataset, summary).")
    show_progress: bool = True

    _search: "RetrievalMCTS | None" = PrivateAttr(None)
    _store: CheckpointStore | None = PrivateAttr(None)
    _provenance: dict[str, Any] = PrivateAttr(default_factory=dict)

    @property
    def inputs(self) -> list[str]:
        return ["problem_id", "problem", "gold_answer"]

    @property
    def outputs(self) -> list[str]:
        return SAMPLE_COLUMNS + PROVENANCE_COLUMNS

    @property
    def search_config(self) -> SearchConfig:
        hints = typing.get_type_hints(SearchConfig)
        values = {item.name: getattr(self, item.name) for item in fields(SearchConfig)}
        return SearchConfig(**{name: hints[name](value) if _is_enum(hints[name]) else value for name, value in values.items()})

    @property
    def filters(self) -> dict[str, Any]:
        return {
            "require_correct_answer": self.require_correct_answer,
            "keep_top_theorem_if_none_relevant": self.keep_top_theorem_if_none_relevant,
        }

    def load(self) -> None:
        super().load()
        self.llm.load()
        corpus = load_theorems(self.corpus, self.corpus_config, self.corpus_split)
        retriever = build_retriever(self.retriever, corpus, model=self.embedder)
        completions = completions_for(self.llm, self.max_concurrent_requests)
        self._search = RetrievalMCTS(completions, retriever, self.search_config, show_progress=self.show_progress)
        settings = {
            "search": asdict(self.search_config),
            "filters": self.filters,
            "llm": self.llm.model_name,
            "generation_kwargs": self.llm.generation_kwargs,
            "corpus": corpus.fingerprint,
            "retriever": self.retriever,
            "embedder": self.embedder,
        }
        run = RunFolder(self.output_dir)
        self._store = CheckpointStore(run.checkpoints("search"), settings)
        corpus_name = ":".join(part for part in (self.corpus, self.corpus_config, self.corpus_split) if part)
        retriever_name = self.retriever if self.retriever == "bm25" else f"{self.retriever} ({self.embedder})"
        self._provenance = {
            "generator": self.llm.model_name,
            "generator_revision": llm_revision(self.llm),
            "seed": self.seed,
            "judge": self.llm.model_name,  # self-reflection is done by the generator itself
            "search_retriever": f"{retriever_name} over {corpus_name}",
            "filters": filter_struct(self.filters),
            "relaxed_filters": relaxed_filters(self.filters),
        }
        write_json_atomic(run.search_provenance_file, self._provenance)

    def unload(self) -> None:
        self.llm.unload()

    def process(self, inputs: StepInput) -> StepOutput:  # type: ignore[override]
        assert self._search is not None and self._store is not None, "load() was not called"
        done = {row["problem_id"]: self._store.load(row["problem_id"]) for row in inputs}
        todo = [Problem(row["problem_id"], row["problem"], str(row["gold_answer"])) for row in inputs if done[row["problem_id"]] is None]
        if len(todo) < len(inputs):
            logger.info("resuming: %d of %d problems of this batch were already searched", len(inputs) - len(todo), len(inputs))
        if todo:
            theorem_text = self._search.theorem_text

            def checkpoint(result: SearchResult) -> None:  # as soon as a problem is done: a crash keeps it
                payload = {
                    "samples": extract_samples(
                        result,
                        theorem_text,
                        require_correct_answer=self.require_correct_answer,
                        every_solution=self.harvest_every_solution,
                    ),
                    "stats": dict(result.stats),
                }
                self._store.save(result.problem.id, payload)
                done[result.problem.id] = payload

            self._search.search(todo, on_finished=checkpoint)
        run = RunFolder(self.output_dir)
        rows = []
        for row in inputs:
            payload = done[row["problem_id"]]
            write_json_atomic(
                run.stats_file("search", row["problem_id"]),
                {"problem_id": row["problem_id"], **payload["stats"], "samples": len(payload["samples"])},
            )
            rows.extend({**sample, **self._provenance} for sample in payload["samples"])
        yield rows
