"""Query synthesis: q_CoT, q_question, q_llmq (LLM) and q_lexical (LLM + BM25 round trip)."""

import logging
from functools import partial
from typing import Any, Literal

from distilabel.mixins.runtime_parameters import RuntimeParameter
from distilabel.models.llms.base import LLM
from distilabel.steps import Step, StepInput
from distilabel.typing import StepOutput
from pydantic import Field, PrivateAttr

from rader_hub.assets import EMBEDDED
from rader_hub.corpus import Corpus
from rader_hub.files import write_json_atomic
from rader_hub.generation import prompts
from rader_hub.generation.checkpoint import CheckpointStore
from rader_hub.generation.failures import FailsTheRun
from rader_hub.generation.parsing import parse_labelled_query, parse_sentence
from rader_hub.generation.provenance import PAPER_FILTERS, filter_struct, relaxed_filters
from rader_hub.generation.query_filters import MIN_QUERY_WORDS, is_filler, names_theorem, round_trip_cutoff, theorem_title
from rader_hub.generation.requests import MAX_CONCURRENT_REQUESTS, Completions, complete_all, completions_for
from rader_hub.generation.steps.common import load_theorems
from rader_hub.generation.steps.dedup import query_key
from rader_hub.retrieval import BM25Retriever
from rader_hub.retrieval.bm25 import DEFAULT_B, DEFAULT_K1
from rader_hub.schema import RunFolder

logger = logging.getLogger(__name__)

QUERY_TYPES = ("cot", "question", "llmq", "lexical")


def cot_query(problem: str, partial_solution: str) -> str:
    """q_CoT: the problem and the steps before the QG node (the QG query itself is never used)."""
    return f"{problem}\n\n{partial_solution}" if partial_solution else problem


class SynthesizeQueries(FailsTheRun, Step):
    """Turn each sample into up to four rows, one per query type.

    q_question is the problem; q_CoT the problem and the steps before the QG node (only when there
    are steps: otherwise it would repeat q_question); q_llmq an LLM-written sentence stating the
    information need, meant to share few words with the theorem; q_lexical an LLM-written keyword
    query from the theorem alone, kept only if BM25 ranks the theorem within the round-trip
    cut-off. Filler (boilerplate, refusals, fragments) and q_llmq that names its theorem are
    dropped and counted. Each sample's queries are checkpointed under ``output_dir``.

    Attributes:
        llm: the LLM that writes q_llmq and q_lexical.
        output_dir: the run folder (checkpoints, per-sample statistics).

    Runtime parameters:
        - `query_tokens`: token budget of a q_llmq / q_lexical completion.
        - `theorem_chars`: theorem text shown to the LLM is cut to this length.
        - `lexical_round_trip_top_n`: paper filter, the rank BM25 must give the theorem (20).
        - `lexical_round_trip_fraction`: a cut-off relative to the corpus size for small
            corpora (0: off); the stricter of the two applies.
        - `bm25_k1`, `bm25_b`: the round trip's BM25 (the paper recipes: pyserini's 0.9 / 0.4, as the
            official code).
        - `prompt_style`: `paper` (the LLM writes the theorem's preconditions and why they hold, then
            the query after `Query:`) or `small` (one sentence, for the embedded 135M model).
        - `llmq_per_sample`, `lexical_per_sample`: q_llmq / q_lexical drawn per sample, each a request
            of its own (the recipe's sampling makes them differ; a repeat of a kept query is dropped).
        - `min_query_words`: shorter q_llmq / q_lexical are dropped (counted as filler).
        - `drop_llmq_naming_theorem`: drop a q_llmq that contains its theorem's title.
        - `corpus`, `corpus_config`, `corpus_split`: the theorem corpus (for BM25 and titles).
        - `max_concurrent_requests`: requests in flight at once to an OpenAI-compatible server
            (other LLMs get a batch's prompts in one call).

    Input columns:
        - sample_id (`str`), problem_id (`str`), problem (`str`): the sample and its problem.
        - partial_solution (`str`), partial_steps (`List[str]`): the steps before the QG node.
        - positive (`str`), positive_id (`str`): the theorem.
        - filters (`Dict`): the search's filters, extended here.

    Output columns:
        - query (`str`), query_type (`str`): the query and its type (cot, question, llmq, lexical).
        - query_generator (`str`): the LLM that wrote q_llmq / q_lexical.
        - lexical_bm25_rank (`int`): the positive's BM25 rank for a q_lexical.
        - filters (`Dict`), relaxed_filters (`List[str]`): filter provenance.

    Categories:
        - text-generation

    Examples:
        Queries for one sample:

        ```python
        from rader_hub.generation.llm import LocalTransformersLLM
        from rader_hub.generation.steps import SynthesizeQueries

        step = SynthesizeQueries(llm=LocalTransformersLLM(), lexical_round_trip_fraction=0.01)
        step.load()
        rows = next(step.process([sample]))  # a row of RetrievalMCTSSearch's output
        ```
    """

    llm: LLM
    query_tokens: RuntimeParameter[int] = Field(default=128, ge=1, description="Token budget of a q_llmq / q_lexical query.")
    theorem_chars: RuntimeParameter[int] = Field(default=4000, ge=1, description="Theorem text shown to the LLM is cut to this length.")
    lexical_round_trip_top_n: RuntimeParameter[int] = Field(
        default=PAPER_FILTERS["lexical_round_trip_top_n"],
        ge=1,
        description="Paper filter: keep q_lexical only if BM25 ranks its theorem this high or better.",
    )
    lexical_round_trip_fraction: RuntimeParameter[float] = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Also a cut-off of this fraction of the corpus size (small corpora; 0: off); the stricter applies.",
    )
    min_query_words: RuntimeParameter[int] = Field(
        default=MIN_QUERY_WORDS, ge=0, description="q_llmq / q_lexical with fewer words are dropped."
    )
    bm25_k1: RuntimeParameter[float] = Field(default=DEFAULT_K1, gt=0, description="k1 of the round trip's BM25 (official: 0.9).")
    bm25_b: RuntimeParameter[float] = Field(default=DEFAULT_B, ge=0, le=1, description="b of the round trip's BM25 (official: 0.4).")
    prompt_style: RuntimeParameter[Literal["paper", "small"]] = Field(
        default=prompts.PromptStyle.paper.value,
        description="q_llmq prompt as the paper's (preconditions, then the query) or one sentence for a tiny model ('small').",
    )
    llmq_per_sample: RuntimeParameter[int] = Field(
        default=1, ge=0, description="q_llmq drawn per sample (repeats dropped; the paper's data has about 2.5 per sample)."
    )
    lexical_per_sample: RuntimeParameter[int] = Field(
        default=1, ge=0, description="q_lexical drawn per sample (repeats dropped; the paper's data has about 1.4 per sample)."
    )
    drop_llmq_naming_theorem: RuntimeParameter[bool] = Field(
        default=True, description="Drop a q_llmq that contains its theorem's title verbatim."
    )
    corpus: RuntimeParameter[str] = Field(default=EMBEDDED, description="Theorem corpus (BM25 round trip, titles).")
    corpus_config: RuntimeParameter[str] | None = Field(default=None, description="Config of a Hub corpus.")
    corpus_split: RuntimeParameter[str] | None = Field(default=None, description="Split of a Hub corpus.")
    max_concurrent_requests: RuntimeParameter[int] = Field(
        default=MAX_CONCURRENT_REQUESTS,
        ge=1,
        description="Requests in flight at once to an OpenAI-compatible server (other LLMs get a batch's prompts in one call).",
    )
    output_dir: str = Field(default="outputs/math", description="Run folder (checkpoints, dataset, summary).")

    _corpus: Corpus | None = PrivateAttr(None)
    _completions: Completions | None = PrivateAttr(None)
    _bm25: BM25Retriever | None = PrivateAttr(None)
    _store: CheckpointStore | None = PrivateAttr(None)

    @property
    def inputs(self) -> list[str]:
        return ["sample_id", "problem_id", "problem", "partial_solution", "partial_steps", "positive", "positive_id", "filters"]

    @property
    def outputs(self) -> list[str]:
        return ["query", "query_type", "query_generator", "lexical_bm25_rank", "filters", "relaxed_filters"]

    @property
    def cutoff(self) -> int:
        assert self._corpus is not None
        return round_trip_cutoff(self.lexical_round_trip_top_n, self.lexical_round_trip_fraction, len(self._corpus))

    @property
    def filters(self) -> dict[str, Any]:
        return {
            "lexical_round_trip_top_n": self.lexical_round_trip_top_n,
            "lexical_round_trip_fraction": self.lexical_round_trip_fraction,
            "lexical_round_trip_cutoff": self.cutoff,
            "lexical_round_trip_bm25_k1": self.bm25_k1,
            "lexical_round_trip_bm25_b": self.bm25_b,
            "min_query_words": self.min_query_words,
            "drop_llmq_naming_theorem": self.drop_llmq_naming_theorem,
        }

    def load(self) -> None:
        super().load()
        self.llm.load()
        self._completions = completions_for(self.llm, self.max_concurrent_requests)
        self._corpus = load_theorems(self.corpus, self.corpus_config, self.corpus_split)
        self._bm25 = BM25Retriever(self._corpus, k1=self.bm25_k1, b=self.bm25_b)
        settings = {
            "llm": self.llm.model_name,
            "generation_kwargs": self.llm.generation_kwargs,
            "query_tokens": self.query_tokens,
            "prompt_style": self.prompt_style,
            "llmq_per_sample": self.llmq_per_sample,
            "lexical_per_sample": self.lexical_per_sample,
            "theorem_chars": self.theorem_chars,
            "filters": self.filters,
            "corpus": self._corpus.fingerprint,
        }
        self._store = CheckpointStore(RunFolder(self.output_dir).checkpoints("queries"), settings)

    def unload(self) -> None:
        self.llm.unload()

    def process(self, inputs: StepInput) -> StepOutput:  # type: ignore[override]
        assert self._store is not None
        done = {row["sample_id"]: self._store.load(row["sample_id"]) for row in inputs}
        todo = [row for row in inputs if done[row["sample_id"]] is None]
        if todo:
            for row, queries in zip(todo, self._synthesize(todo)):
                self._store.save(row["sample_id"], queries)
                done[row["sample_id"]] = queries
        run = RunFolder(self.output_dir)
        rows = []
        for row in inputs:
            queries = done[row["sample_id"]]
            write_json_atomic(run.stats_file("queries", row["sample_id"]), {"problem_id": row["problem_id"], **queries["stats"]})
            filters = {**(row["filters"] or {}), **self.filters}
            provenance = {
                "query_generator": self.llm.model_name,
                "filters": filter_struct(filters),
                "relaxed_filters": relaxed_filters(filters),
            }
            for query in queries["queries"]:
                rows.append({**row, **query, **provenance})
        yield rows

    def _synthesize(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        assert self._corpus is not None and self._completions is not None
        n_llmq, n_lexical = self.llmq_per_sample, self.lexical_per_sample
        theorems = [prompts.shown_theorem(r["positive"], self.theorem_chars) for r in rows]
        # Each draw is its own request: with the recipe's sampling, the draws of one prompt differ.
        style = prompts.PromptStyle(self.prompt_style)
        llmq_prompts = [
            prompts.reasoning_query(r["problem"], r["partial_steps"], t, style) for r, t in zip(rows, theorems) for _ in range(n_llmq)
        ]
        lexical_prompts = [prompts.lexical_query(theorem) for theorem in theorems for _ in range(n_lexical)]
        outputs = complete_all(
            self._completions, llmq_prompts + lexical_prompts, [self.query_tokens] * (len(llmq_prompts) + len(lexical_prompts))
        )
        # Too-short queries are counted as filler below. A paper-style q_llmq is the question after its preconditions.
        read_llmq = parse_labelled_query if style is prompts.PromptStyle.paper else partial(parse_sentence, min_words=1)
        llmq = [read_llmq(text) for text in outputs[: len(llmq_prompts)]]
        lexical = [parse_sentence(text, min_words=1) for text in outputs[len(llmq_prompts) :]]
        ranks = self._round_trip_ranks([q or "" for q in lexical], [r["positive_id"] for r in rows for _ in range(n_lexical)])
        return [
            self._queries(
                row,
                llmq[index * n_llmq : (index + 1) * n_llmq],
                lexical[index * n_lexical : (index + 1) * n_lexical],
                ranks[index * n_lexical : (index + 1) * n_lexical],
            )
            for index, row in enumerate(rows)
        ]

    def _queries(
        self, row: dict[str, Any], llm_queries: list[str | None], lexical_queries: list[str | None], ranks: list[int | None]
    ) -> dict[str, Any]:
        """One sample's queries, and what was dropped on the way (counted in ``stats``)."""
        assert self._corpus is not None
        stats = dict.fromkeys(
            (
                "cot_same_as_question",
                "llmq_unparsed",
                "llmq_filler",
                "llmq_names_theorem",
                "llmq_repeated",
                "lexical_unparsed",
                "lexical_filler",
                "lexical_round_trip_rejected",
                "lexical_repeated",
            ),
            0,
        )
        queries = [{"query": row["problem"], "query_type": "question", "lexical_bm25_rank": None}]
        if row["partial_solution"]:
            queries.append({"query": cot_query(row["problem"], row["partial_solution"]), "query_type": "cot", "lexical_bm25_rank": None})
        else:
            stats["cot_same_as_question"] = 1  # no steps before the query: q_CoT would be q_question again
        title = theorem_title(self._corpus[row["positive_id"]])
        seen: set[str] = set()

        def drop_reason(query: str | None, rejected_as: str | None) -> str | None:
            """Why a drawn query is dropped (``rejected_as``: its own filter's verdict), or None to keep it."""
            if query is None:
                return "unparsed"
            if is_filler(query, self.min_query_words):
                return "filler"
            if rejected_as is not None:
                return rejected_as
            return "repeated" if query_key(query) in seen else None

        def keep(query: str | None, query_type: str, rejected_as: str | None, rank: int | None = None) -> None:
            reason = drop_reason(query, rejected_as)
            if reason is not None:
                stats[f"{query_type}_{reason}"] += 1
                return
            seen.add(query_key(query))
            queries.append({"query": query, "query_type": query_type, "lexical_bm25_rank": rank})

        for llm_query in llm_queries:
            names = llm_query is not None and self.drop_llmq_naming_theorem and names_theorem(llm_query, title)
            keep(llm_query, "llmq", "names_theorem" if names else None)
        for lexical_query, rank in zip(lexical_queries, ranks):
            keep(lexical_query, "lexical", "round_trip_rejected" if rank is None else None, rank)
        return {"queries": queries, "stats": stats}

    def _round_trip_ranks(self, queries: list[str], positive_ids: list[str]) -> list[int | None]:
        """Rank (1-based) of the positive in BM25's top ``cutoff`` for each query, None if not there."""
        assert self._bm25 is not None
        rankings = self._bm25.search(queries, top_k=self.cutoff)
        ranks = []
        for query, ranking, positive_id in zip(queries, rankings, positive_ids):
            ids = [doc_id for doc_id, score in ranking if score > 0]
            ranks.append(ids.index(positive_id) + 1 if query and positive_id in ids else None)
        return ranks
