"""Hard negatives per query: self-reflection negatives, or BM25 + dense top results for q_lexical."""


from distilabel.mixins.runtime_parameters import RuntimeParameter
from distilabel.steps import Step, StepInput
from distilabel.typing import StepOutput
from pydantic import Field, PrivateAttr

from rader_hub.corpus import Corpus
from rader_hub.assets import EMBEDDED
from rader_hub.errors import ConfigError
from rader_hub.generation.negatives import MAX_NEGATIVES, mined_negatives, select_negatives
from rader_hub.generation.steps.common import load_theorems
from rader_hub.retrieval import BM25Retriever, DenseRetriever
from rader_hub.retrieval.base import Retriever

SELF_REFLECTION = "self-reflection"


class SelectHardNegatives(Step):
    """Adds ``negatives``, ``negative_ids`` and ``negative_source``: never the positive, no
    repeated id or text, at most ``max_negatives`` (the paper's train group is 12)."""

    max_negatives: RuntimeParameter[int] = Field(default=MAX_NEGATIVES, description="Hard negatives kept per query.")
    lexical_miners: list[str] = Field(default=["bm25", "dense"], description="Retrievers mining q_lexical negatives.")
    embedder: str = Field(default=EMBEDDED, description="Embedding model of the dense miner.")
    corpus: str = Field(default=EMBEDDED, description="Theorem corpus.")
    corpus_config: str | None = None
    corpus_split: str | None = None

    _corpus: Corpus | None = PrivateAttr(None)
    _miners: list[Retriever] = PrivateAttr(default_factory=list)

    @property
    def inputs(self) -> list[str]:
        return ["query", "query_type", "positive_id", "reflection_negative_ids"]

    @property
    def outputs(self) -> list[str]:
        return ["negatives", "negative_ids", "negative_source"]

    def load(self) -> None:
        super().load()
        self._corpus = load_theorems(self.corpus, self.corpus_config, self.corpus_split)
        builders = {"bm25": lambda: BM25Retriever(self._corpus), "dense": lambda: DenseRetriever(self._corpus, model=self.embedder)}
        unknown = [name for name in self.lexical_miners if name not in builders]
        if unknown:
            raise ConfigError(f"hard_negatives.lexical_miners: unknown retriever '{unknown[0]}' (use {', '.join(builders)})")
        self._miners = [builders[name]() for name in self.lexical_miners]

    def process(self, inputs: StepInput) -> StepOutput:  # type: ignore[override]
        assert self._corpus is not None
        text_of = lambda doc_id: self._corpus[doc_id].full_text  # noqa: E731
        lexical = [row for row in inputs if row["query_type"] == "lexical"]
        mined = mined_negatives([r["query"] for r in lexical], [r["positive_id"] for r in lexical], self._miners, text_of, self.max_negatives)
        mined_by_row = {id(row): ids for row, ids in zip(lexical, mined)}
        for row in inputs:
            if row["query_type"] == "lexical":
                ids, source = mined_by_row[id(row)], "+".join(self.lexical_miners)
            else:
                ids = select_negatives(row["reflection_negative_ids"] or [], row["positive_id"], text_of, self.max_negatives)
                source = SELF_REFLECTION
            row["negative_ids"] = ids
            row["negatives"] = [text_of(doc_id) for doc_id in ids]
            row["negative_source"] = source
        yield inputs
