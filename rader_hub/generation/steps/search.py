"""The retrieval-augmented MCTS step: problems in, training samples (positive + negatives) out."""


import logging
from dataclasses import asdict, fields
from typing import Any

from distilabel.models.llms.base import LLM
from distilabel.mixins.runtime_parameters import RuntimeParameter
from distilabel.steps import Step, StepInput
from distilabel.typing import StepOutput
from pydantic import Field, PrivateAttr

from rader_hub.files import write_json_atomic
from rader_hub.assets import EMBEDDED
from rader_hub.generation.checkpoint import CheckpointStore
from rader_hub.generation.mcts import Problem, RetrievalMCTS, SearchConfig, SearchResult
from rader_hub.generation.provenance import filters_json, relaxed_filters
from rader_hub.generation.runfiles import RunFolder
from rader_hub.generation.samples import extract_samples
from rader_hub.generation.steps.common import llm_generator, load_theorems
from rader_hub.retrieval import build_retriever

logger = logging.getLogger(__name__)

SAMPLE_COLUMNS = [
    "sample_id", "problem_id", "problem", "gold_answer", "partial_solution", "partial_steps", "qg_query", "positive_id", "positive",
    "positive_summary", "judge_verdict", "judge_reason", "kept_by_relaxation", "reflection_negative_ids",
    "reflection_negative_verdicts", "reflection_negative_reasons", "trajectory", "trajectory_actions", "final_answer",
    "reward",
]
PROVENANCE_COLUMNS = ["generator", "judge", "search_retriever", "filters", "relaxed_filters"]
PAPER_SEARCH = SearchConfig()  # every search field below defaults to the paper's value held here


class RetrievalMCTSSearch(Step):
    """Searches every problem of an input batch together and emits one row per sample.

    Parameters are the paper's by default (METHOD.md): 16 rollouts, depth 6, top-k 5, 2 OST and
    1 QG children, c = 2. Sampling (temperature, top-k, top-p) is the LLM's ``generation_kwargs``.
    """

    llm: LLM
    rollouts: RuntimeParameter[int] = Field(default=PAPER_SEARCH.rollouts, description="MCTS rollouts per problem.")
    max_depth: RuntimeParameter[int] = Field(default=PAPER_SEARCH.max_depth, description="Maximum number of steps in a trajectory.")
    top_k: RuntimeParameter[int] = Field(default=PAPER_SEARCH.top_k, description="Theorems retrieved per RT.")
    ost_children: RuntimeParameter[int] = Field(default=PAPER_SEARCH.ost_children, description="OST children per expansion.")
    qg_children: RuntimeParameter[int] = Field(default=PAPER_SEARCH.qg_children, description="QG children per expansion.")
    exploration_weight: RuntimeParameter[float] = Field(default=PAPER_SEARCH.exploration_weight, description="UCT exploration weight c.")
    step_tokens: RuntimeParameter[int] = Field(default=PAPER_SEARCH.step_tokens, description="Token budget of an OST step.")
    solution_tokens: RuntimeParameter[int] = Field(default=PAPER_SEARCH.solution_tokens, description="Token budget of a CRS completion.")
    query_tokens: RuntimeParameter[int] = Field(default=PAPER_SEARCH.query_tokens, description="Token budget of a QG query.")
    judge_tokens: RuntimeParameter[int] = Field(default=PAPER_SEARCH.judge_tokens, description="Token budget of a self-reflection verdict.")
    summary_tokens: RuntimeParameter[int] = Field(default=PAPER_SEARCH.summary_tokens, description="Token budget of a theorem summary.")
    theorem_chars: RuntimeParameter[int] = Field(default=PAPER_SEARCH.theorem_chars, description="Theorem text shown to the LLM is cut to this length.")
    require_correct_answer: RuntimeParameter[bool] = Field(default=True, description="Paper filter: only trajectories with reward 1 give samples.")
    keep_top_theorem_if_none_relevant: RuntimeParameter[bool] = Field(
        default=PAPER_SEARCH.keep_top_theorem_if_none_relevant, description="Relaxation: keep the top retrieved theorem when self-reflection rejects all."
    )
    seed: RuntimeParameter[int] = Field(default=PAPER_SEARCH.seed, description="Seed of the simulation's random choices.")
    corpus: str = Field(default=EMBEDDED, description="Theorem corpus: file, folder, Hub id or 'embedded'.")
    corpus_config: str | None = None
    corpus_split: str | None = None
    retriever: str = Field(default="bm25", description="Retriever inside the search: bm25, dense or hybrid.")
    embedder: str = Field(default=EMBEDDED, description="Embedding model of a dense/hybrid retriever.")
    output_dir: str = Field(default="outputs/math", description="Run folder (checkpoints, dataset, summary).")
    show_progress: bool = True

    _search: "RetrievalMCTS | None" = PrivateAttr(None)
    _store: CheckpointStore | None = PrivateAttr(None)

    @property
    def inputs(self) -> list[str]:
        return ["problem_id", "problem", "gold_answer"]

    @property
    def outputs(self) -> list[str]:
        return SAMPLE_COLUMNS + PROVENANCE_COLUMNS

    @property
    def search_config(self) -> SearchConfig:
        return SearchConfig(**{field.name: getattr(self, field.name) for field in fields(SearchConfig)})

    @property
    def filters(self) -> dict[str, Any]:
        return {"require_correct_answer": self.require_correct_answer, "keep_top_theorem_if_none_relevant": self.keep_top_theorem_if_none_relevant}

    def load(self) -> None:
        super().load()
        self.llm.load()
        corpus = load_theorems(self.corpus, self.corpus_config, self.corpus_split)
        retriever = build_retriever(self.retriever, corpus, model=self.embedder)
        self._search = RetrievalMCTS(llm_generator(self.llm), retriever, self.search_config, show_progress=self.show_progress)
        settings = {
            "search": asdict(self.search_config), "filters": self.filters, "llm": self.llm.model_name,
            "generation_kwargs": self.llm.generation_kwargs, "corpus": corpus.fingerprint, "retriever": self.retriever,
            "embedder": self.embedder,
        }
        self._store = CheckpointStore(RunFolder(self.output_dir).checkpoints("search"), settings)

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
                    "samples": extract_samples(result, theorem_text, require_correct_answer=self.require_correct_answer),
                    "stats": dict(result.stats),
                }
                self._store.save(result.problem.id, payload)
                done[result.problem.id] = payload

            self._search.search(todo, on_finished=checkpoint)
        provenance = {
            "generator": self.llm.model_name,
            "judge": self.llm.model_name,  # self-reflection is done by the generator itself
            "search_retriever": f"{self.retriever} over {self.corpus}",
            "filters": filters_json(self.filters),
            "relaxed_filters": relaxed_filters(self.filters),
        }
        run = RunFolder(self.output_dir)
        rows = []
        for row in inputs:
            payload = done[row["problem_id"]]
            write_json_atomic(run.stats_file("search", row["problem_id"]), {"problem_id": row["problem_id"], **payload["stats"], "samples": len(payload["samples"])})
            rows.extend({**sample, **provenance} for sample in payload["samples"])
        yield rows
