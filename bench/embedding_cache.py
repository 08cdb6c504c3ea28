"""Corpus-embedding cache: time to build a dense retriever over the embedded corpus, cold vs warm.

Both runs happen in this one process against a fresh temporary cache, so the ratio is measured
side by side. Run: python bench/embedding_cache.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from rader_hub.corpus import load_corpus
from rader_hub.embedded_data import resolve_source
from rader_hub.retrieval.dense import DenseRetriever
from rader_hub.retrieval.embedding_cache import EmbeddingCache


def timed_build(corpus, cache: EmbeddingCache) -> tuple[float, bool]:
    started = time.perf_counter()
    retriever = DenseRetriever(corpus, cache=cache)
    return time.perf_counter() - started, retriever.cache_hit


def main() -> None:
    corpus = load_corpus(resolve_source("embedded", "theorems"))
    with tempfile.TemporaryDirectory() as folder:
        cache = EmbeddingCache(Path(folder))
        DenseRetriever(corpus.__class__(corpus.documents[:1], "warm-up"), cache=cache)  # load weights once
        cold, cold_hit = timed_build(corpus, cache)
        warm, warm_hit = timed_build(corpus, cache)
    print(f"corpus: {len(corpus)} documents, embedder: all-MiniLM-L6-v2 (embedded)")
    print(f"cold build (encode + store): {cold:.2f}s  cache hit: {cold_hit}")
    print(f"warm build (load from cache): {warm:.2f}s  cache hit: {warm_hit}")
    print(f"speed-up: {cold / warm:.1f}x")


if __name__ == "__main__":
    main()
