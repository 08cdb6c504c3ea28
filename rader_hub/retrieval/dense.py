"""Dense retrieval with a sentence-transformers bi-encoder (cosine similarity)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence

import numpy as np

from rader_hub.assets import EMBEDDED, load_sentence_transformer, resolve_embedder
from rader_hub.corpus import Corpus
from rader_hub.retrieval.base import Retriever
from rader_hub.retrieval.embedding_cache import EmbeddingCache, model_fingerprint

logger = logging.getLogger(__name__)


class DenseRetriever(Retriever):
    """Encodes the corpus once (cached on disk) and scores queries by cosine similarity.

    Queries go through sentence-transformers' ``encode_query`` and documents through
    ``encode_document``, which apply the prompts saved in the model as ``query`` and ``document``,
    so a model trained with "Query: "/"Passage: " prefixes is evaluated the way it was trained.
    (sentence-transformers gives every model a ``document`` prompt, empty unless saved, so a model
    that saves only ``passage`` gets no document prompt; models trained here save both names.)
    ``query_prompt`` replaces the saved query prompt, e.g. with a task instruction (BRIGHT).
    """

    name = "dense"

    def __init__(
        self,
        corpus: Corpus,
        model: str = EMBEDDED,
        batch_size: int = 32,
        cache: EmbeddingCache | None = None,
        show_progress: bool = False,
        query_prompt: str | None = None,
    ) -> None:
        super().__init__(corpus)
        self.model_name = model
        self.query_prompt = query_prompt
        self.batch_size = batch_size
        self.show_progress = show_progress
        self.encoder = load_sentence_transformer(model)
        self.cache = cache or EmbeddingCache()
        self.cache_hit = False
        self.doc_embeddings = self._corpus_embeddings()

    def _corpus_embeddings(self) -> np.ndarray:
        location = resolve_embedder(self.model_name).location
        path = self.cache.path_for(
            model_fingerprint(location),
            self.corpus.fingerprint,
            # Every saved prompt, so that whichever one encode_document picks is part of the key.
            json.dumps(self.encoder.prompts, sort_keys=True),
            str(self.encoder.max_seq_length),
        )
        cached = self.cache.load(path, expected_rows=len(self.corpus))
        if cached is not None:
            self.cache_hit = True
            logger.info("corpus embeddings loaded from cache %s", path)
            return cached
        embeddings = self._encode(self.encoder.encode_document, self.corpus.texts)
        self.cache.store(path, embeddings)
        return embeddings

    def _encode(self, encode: Callable[..., np.ndarray], texts: Sequence[str], **prompt: str) -> np.ndarray:
        embeddings = encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=self.show_progress,
            **prompt,
        )
        return embeddings.astype(np.float32)

    def score(self, queries: Sequence[str]) -> np.ndarray:
        """Cosine similarities of the queries' embeddings (with the query prompt) to the corpus's, shape (queries, corpus)."""
        prompt = {"prompt": self.query_prompt} if self.query_prompt is not None else {}
        return self._encode(self.encoder.encode_query, queries, **prompt) @ self.doc_embeddings.T
