"""Hard negatives per query: self-reflection negatives, or BM25 + dense results for q_lexical."""

from collections.abc import Callable
from typing import Annotated

from distilabel.mixins.runtime_parameters import RuntimeParameter
from distilabel.steps import Step, StepInput
from distilabel.typing import StepOutput
from pydantic import AfterValidator, Field, PrivateAttr

from rader_hub.assets import EMBEDDED
from rader_hub.corpus import Corpus
from rader_hub.errors import ConfigError
from rader_hub.generation.failures import FailsTheRun
from rader_hub.generation.negatives import MiningWindow, mined_negatives, select_negatives
from rader_hub.generation.steps.common import load_theorems
from rader_hub.retrieval import BM25Retriever, DenseRetriever
from rader_hub.retrieval.base import Retriever
from rader_hub.retrieval.bm25 import DEFAULT_B, DEFAULT_K1
from rader_hub.schema import MAX_NEGATIVES, SELF_REFLECTION


def _first_not_after_last(ranks: list[int]) -> list[int]:
    if ranks[0] > ranks[1]:
        raise ValueError("expected [first, last] with first <= last")
    return ranks


# A rank window [first, last] of a miner: checked with the recipe and --param, before anything runs.
RankWindow = Annotated[list[Annotated[int, Field(ge=1)]], Field(min_length=2, max_length=2), AfterValidator(_first_not_after_last)]


class SelectHardNegatives(FailsTheRun, Step):
    """Add hard negatives to every row: never a positive of the row's query, no repeated id or text.

    Rows of the reasoning query types (cot, question, llmq) take the theorems self-reflection
    rejected for the same QG query. q_lexical rows take a window of each lexical miner's ranking:
    by default (the official choice) 10 drawn at random from BM25 ranks 31-50 and the dense
    retriever's top 10 (top BM25 ranks would risk false negatives), interleaved and capped.

    Attributes:
        lexical_miners: retrievers mining q_lexical negatives (`bm25`, `dense`).

    Runtime parameters:
        - `max_negatives`: hard negatives kept per query (the paper's train group is 12).
        - `bm25_negative_ranks`, `bm25_negative_samples`: the BM25 rank window (first, last) and
            how many to draw from it (0: all).
        - `bm25_k1`, `bm25_b`: the BM25 miner's parameters (the paper recipes: pyserini's 0.9 / 0.4,
            on which the official code defined ranks 31-50).
        - `dense_negative_ranks`, `dense_negative_samples`: the same for the dense retriever.
        - `seed`: seed of the draws (per row).
        - `embedder`: the dense miner's embedding model.
        - `corpus`, `corpus_config`, `corpus_split`: the theorem corpus.

    Input columns:
        - query (`str`), query_type (`str`), positive_id (`str`): the row.
        - reflection_negative_ids (`List[str]`): theorems self-reflection rejected for its QG query.
        - same_query_positive_ids (`List[str]`): positives of other rows with the same query.

    Output columns:
        - negatives (`List[str]`), negative_ids (`List[str]`): the hard negatives' texts and ids.
        - negative_source (`str`): `self-reflection`, or the miners (e.g. `bm25+dense`).

    Categories:
        - filtering

    Examples:
        ```python
        from rader_hub.generation.steps import SelectHardNegatives

        step = SelectHardNegatives(bm25_negative_ranks=[1, 20])
        step.load()
        rows = next(step.process(rows))  # the rows DeduplicateQueries wrote
        ```
    """

    max_negatives: RuntimeParameter[int] = Field(default=MAX_NEGATIVES, ge=1, description="Hard negatives kept per query.")
    lexical_miners: list[str] = Field(default=["bm25", "dense"], description="Retrievers mining q_lexical negatives.")
    bm25_negative_ranks: RuntimeParameter[RankWindow] = Field(
        default=[31, 50], description="BM25 ranks (first, last) q_lexical negatives come from."
    )
    bm25_negative_samples: RuntimeParameter[int] = Field(default=10, ge=0, description="How many to draw from the BM25 ranks (0: all).")
    bm25_k1: RuntimeParameter[float] = Field(default=DEFAULT_K1, gt=0, description="k1 of the BM25 miner (official: 0.9).")
    bm25_b: RuntimeParameter[float] = Field(default=DEFAULT_B, ge=0, le=1, description="b of the BM25 miner (official: 0.4).")
    dense_negative_ranks: RuntimeParameter[RankWindow] = Field(
        default=[1, 10], description="Dense ranks (first, last) q_lexical negatives come from."
    )
    dense_negative_samples: RuntimeParameter[int] = Field(default=0, ge=0, description="How many to draw from the dense ranks (0: all).")
    seed: RuntimeParameter[int] = Field(default=0, ge=0, description="Seed of the draws.")
    embedder: RuntimeParameter[str] = Field(default=EMBEDDED, description="Embedding model of the dense miner.")
    corpus: RuntimeParameter[str] = Field(default=EMBEDDED, description="Theorem corpus.")
    corpus_config: RuntimeParameter[str] | None = Field(default=None, description="Config of a Hub corpus.")
    corpus_split: RuntimeParameter[str] | None = Field(default=None, description="Split of a Hub corpus.")

    _corpus: Corpus | None = PrivateAttr(None)
    _miners: list[tuple[Retriever, MiningWindow]] = PrivateAttr(default_factory=list)

    @property
    def inputs(self) -> list[str]:
        return ["query", "query_type", "positive_id", "reflection_negative_ids", "same_query_positive_ids"]

    @property
    def outputs(self) -> list[str]:
        return ["negatives", "negative_ids", "negative_source"]

    def load(self) -> None:
        super().load()
        self._corpus = load_theorems(self.corpus, self.corpus_config, self.corpus_split)
        miners: dict[str, tuple[Callable[[], Retriever], list[int], int]] = {
            "bm25": (
                lambda: BM25Retriever(self._corpus, k1=self.bm25_k1, b=self.bm25_b),
                self.bm25_negative_ranks,
                self.bm25_negative_samples,
            ),
            "dense": (lambda: DenseRetriever(self._corpus, model=self.embedder), self.dense_negative_ranks, self.dense_negative_samples),
        }
        unknown = [name for name in self.lexical_miners if name not in miners]
        if unknown:
            raise ConfigError(f"hard_negatives.lexical_miners: unknown retriever '{unknown[0]}' (use {', '.join(miners)})")
        self._miners = []
        for name in self.lexical_miners:
            build, ranks, samples = miners[name]
            self._miners.append((build(), MiningWindow(ranks[0], ranks[1], samples)))

    def process(self, inputs: StepInput) -> StepOutput:  # type: ignore[override]
        assert self._corpus is not None
        text_of = lambda doc_id: self._corpus[doc_id].full_text  # noqa: E731
        lexical = [row for row in inputs if row["query_type"] == "lexical"]
        mined = mined_negatives(
            [r["query"] for r in lexical],
            [r["positive_id"] for r in lexical],
            self._miners,
            text_of,
            self.max_negatives,
            [r["same_query_positive_ids"] or [] for r in lexical],
            self.seed,
        )
        mined_by_row = {id(row): ids for row, ids in zip(lexical, mined)}
        for row in inputs:
            if row["query_type"] == "lexical":
                ids, source = mined_by_row[id(row)], "+".join(self.lexical_miners)
            else:
                ids = select_negatives(
                    row["reflection_negative_ids"] or [],
                    row["positive_id"],
                    text_of,
                    self.max_negatives,
                    row["same_query_positive_ids"] or [],
                )
                source = SELF_REFLECTION
            row["negative_ids"] = ids
            row["negatives"] = [text_of(doc_id) for doc_id in ids]
            row["negative_source"] = source
        yield inputs
