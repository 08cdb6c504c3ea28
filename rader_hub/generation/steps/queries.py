"""Query synthesis: q_CoT, q_question, q_llmq (LLM) and q_lexical (LLM + BM25 round trip)."""


import json
import logging
from typing import Any

from distilabel.mixins.runtime_parameters import RuntimeParameter
from distilabel.models.llms.base import LLM
from distilabel.steps import Step, StepInput
from distilabel.typing import StepOutput
from pydantic import Field, PrivateAttr

from rader_hub.files import write_json_atomic
from rader_hub.assets import EMBEDDED
from rader_hub.generation import prompts
from rader_hub.generation.checkpoint import CheckpointStore
from rader_hub.generation.parsing import parse_sentence
from rader_hub.generation.provenance import filters_json, relaxed_filters
from rader_hub.generation.runfiles import RunFolder
from rader_hub.generation.steps.common import llm_generator, load_theorems
from rader_hub.retrieval import BM25Retriever

logger = logging.getLogger(__name__)

QUERY_TYPES = ("cot", "question", "llmq", "lexical")


def cot_query(problem: str, partial_solution: str) -> str:
    """q_CoT: the problem and the steps before the QG node (the QG query itself is never used)."""
    return f"{problem}\n\n{partial_solution}" if partial_solution else problem


class SynthesizeQueries(Step):
    """Turns each sample into up to four rows, one per query type, with ``query`` and ``query_type``."""

    llm: LLM
    query_tokens: RuntimeParameter[int] = Field(default=64, description="Token budget of a q_llmq / q_lexical query.")
    theorem_chars: RuntimeParameter[int] = Field(default=4000, description="Theorem text shown to the LLM is cut to this length.")
    lexical_round_trip_top_n: RuntimeParameter[int] = Field(
        default=20, description="Paper filter: keep q_lexical only if BM25 ranks its theorem this high or better."
    )
    corpus: str = Field(default=EMBEDDED, description="Theorem corpus (for the BM25 round trip).")
    corpus_config: str | None = None
    corpus_split: str | None = None
    output_dir: str = Field(default="outputs/math", description="Run folder (checkpoints, dataset, summary).")

    _bm25: BM25Retriever | None = PrivateAttr(None)
    _store: CheckpointStore | None = PrivateAttr(None)

    @property
    def inputs(self) -> list[str]:
        return ["sample_id", "problem_id", "problem", "partial_solution", "partial_steps", "positive", "positive_id", "filters"]

    @property
    def outputs(self) -> list[str]:
        return ["query", "query_type", "query_generator", "lexical_bm25_rank", "filters", "relaxed_filters"]

    def load(self) -> None:
        super().load()
        self.llm.load()
        corpus = load_theorems(self.corpus, self.corpus_config, self.corpus_split)
        self._bm25 = BM25Retriever(corpus)
        settings = {"llm": self.llm.model_name, "generation_kwargs": self.llm.generation_kwargs, "query_tokens": self.query_tokens,
                    "theorem_chars": self.theorem_chars, "top_n": self.lexical_round_trip_top_n, "corpus": corpus.fingerprint}
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
            filters = {**_loads(row["filters"]), "lexical_round_trip_top_n": self.lexical_round_trip_top_n}
            for query in queries["queries"]:
                rows.append({**row, **query, "query_generator": self.llm.model_name, **_filter_columns(filters)})
        yield rows

    def _synthesize(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        generate = llm_generator(self.llm)
        llmq_prompts = [prompts.reasoning_query(r["problem"], r["partial_steps"], r["positive"][: self.theorem_chars]) for r in rows]
        lexical_prompts = [prompts.lexical_query(r["positive"][: self.theorem_chars]) for r in rows]
        outputs = generate(llmq_prompts + lexical_prompts, [self.query_tokens] * (2 * len(rows)))
        llmq, lexical = [parse_sentence(text) for text in outputs[: len(rows)]], [parse_sentence(text) for text in outputs[len(rows) :]]
        ranks = self._round_trip_ranks([q or "" for q in lexical], [r["positive_id"] for r in rows])
        results = []
        for row, llm_query, lexical_query, rank in zip(rows, llmq, lexical, ranks):
            stats = {"llmq_unparsed": int(llm_query is None), "lexical_unparsed": int(lexical_query is None), "lexical_round_trip_rejected": 0}
            queries = [
                {"query": cot_query(row["problem"], row["partial_solution"]), "query_type": "cot", "lexical_bm25_rank": None},
                {"query": row["problem"], "query_type": "question", "lexical_bm25_rank": None},
            ]
            if llm_query is not None:
                queries.append({"query": llm_query, "query_type": "llmq", "lexical_bm25_rank": None})
            if lexical_query is not None:
                if rank is not None:
                    queries.append({"query": lexical_query, "query_type": "lexical", "lexical_bm25_rank": rank})
                else:
                    stats["lexical_round_trip_rejected"] = 1
            results.append({"queries": queries, "stats": stats})
        return results

    def _round_trip_ranks(self, queries: list[str], positive_ids: list[str]) -> list[int | None]:
        """Rank (1-based) of the positive in BM25's top n for each query, None if not there."""
        assert self._bm25 is not None
        rankings = self._bm25.search(queries, top_k=self.lexical_round_trip_top_n)
        ranks = []
        for query, ranking, positive_id in zip(queries, rankings, positive_ids):
            ids = [doc_id for doc_id, score in ranking if score > 0]
            ranks.append(ids.index(positive_id) + 1 if query and positive_id in ids else None)
        return ranks


def _loads(text: str) -> dict[str, Any]:
    return json.loads(text) if text else {}


def _filter_columns(filters: dict[str, Any]) -> dict[str, Any]:
    return {"filters": filters_json(filters), "relaxed_filters": relaxed_filters(filters)}
