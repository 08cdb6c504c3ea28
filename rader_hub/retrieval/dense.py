"""Dense retrieval with a sentence-transformers bi-encoder (cosine similarity)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from rader_hub.assets import EMBEDDED, load_sentence_transformer, resolve_embedder
from rader_hub.corpus import Corpus
from rader_hub.retrieval.base import Retriever
from rader_hub.retrieval.embedding_cache import EmbeddingCache, model_fingerprint

logger = logging.getLogger(__name__)

QUERY_PROMPT_NAME = "query"
# Models trained by rader-hub save a "passage" prompt; other libraries use "document".
PASSAGE_PROMPT_NAMES = ("passage", "document")


class DenseRetriever(Retriever):
    """Encodes the corpus once (cached on disk) and scores queries by cosine similarity.

    Prompts saved in the model (``query`` and ``passage``/``document``) are applied, so a model
    trained with "Query: "/"Passage: " prefixes is evaluated the way it was trained.
    """

    name = "dense"

    def __init__(
        self,
        corpus: Corpus,
        model: str = EMBEDDED,
        batch_size: int = 32,
        cache: EmbeddingCache | None = None,
        show_progress: bool = False,
    ) -> None:
        super().__init__(corpus)
        self.model_name = model
        self.batch_size = batch_size
        self.show_progress = show_progress
        self.encoder = load_sentence_transformer(model)
        prompts = self.encoder.prompts or {}
        self.query_prompt_name = QUERY_PROMPT_NAME if QUERY_PROMPT_NAME in prompts else None
        self.passage_prompt_name = next((name for name in PASSAGE_PROMPT_NAMES if name in prompts), None)
        self.cache = cache or EmbeddingCache()
        self.cache_hit = False
        self.doc_embeddings = self._corpus_embeddings()

    def _corpus_embeddings(self) -> np.ndarray:
        location = resolve_embedder(self.model_name).location
        passage_prompt = (self.encoder.prompts or {}).get(self.passage_prompt_name or "", "")
        path = self.cache.path_for(
            model_fingerprint(location),
            self.corpus.fingerprint,
            passage_prompt,
            str(self.encoder.max_seq_length),
        )
        cached = self.cache.load(path, expected_rows=len(self.corpus))
        if cached is not None:
            self.cache_hit = True
            logger.info("corpus embeddings loaded from cache %s", path)
            return cached
        embeddings = self.encode(self.corpus.texts, self.passage_prompt_name)
        self.cache.store(path, embeddings)
        return embeddings

    def encode(self, texts: Sequence[str], prompt_name: str | None) -> np.ndarray:
        return self.encoder.encode(
            list(texts),
            prompt_name=prompt_name,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=self.show_progress,
        ).astype(np.float32)

    def score(self, queries: Sequence[str]) -> np.ndarray:
        return self.encode(queries, self.query_prompt_name) @ self.doc_embeddings.T
