"""Benchmark: retrieval queries/second for BM25, dense (warm embedding cache) and hybrid, and how they scale.

The embedded dev queries (the first ``--queries`` of 399 TheoremQA questions) are searched (top 10, ``Retriever.search``, the path
`rader eval` takes) over the embedded corpus (354 theorems) and over corpora 10x and 100x as large, made
by repeating its documents under fresh ids (copy 0 keeps the original ids). Every retriever and scale is
measured in this one process, interleaved over ``--repeats`` rounds; each keeps its best round (noise
on a shared machine only adds time).

- ``bm25``: rader_hub's BM25Retriever (bm25s, Lucene variant); its index is built per corpus.
- ``dense``: DenseRetriever with the embedded all-MiniLM-L6-v2, corpus embeddings loaded from a warm
  cache; each query is encoded (torch, ``--threads``) and scored against every document.
- ``hybrid``: HybridRetriever over the two (z-scored fusion, the default alpha).

A repeated document has the same text, hence the same embedding: the 10x and 100x corpora get the 1x
embeddings tiled, written into a temporary cache that their DenseRetriever then loads like any warm
cache (encoding 35,400 documents would take most of an hour on 2 cores and is not what is measured;
bench/embedding_cache.py measures cold vs warm builds).

Prints one JSON line per retriever, scale and round, then a summary line last: queries/s per retriever
and scale, and each scale's queries/s as a ratio of the 1x corpus's. ``same_top1`` is the share of
queries whose best document at that scale is (a copy of) the one at 1x: copies tie, and BM25's document
frequencies shift a little with the corpus size.
Usage: python bench/retrieval.py [--scales 1 10 100] [--repeats 3] [--queries 100] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from machine import machine_fields
from tqdm import tqdm

from rader_hub.corpus import Corpus, Document, load_corpus
from rader_hub.embedded_data import resolve_source
from rader_hub.queries import load_queries
from rader_hub.retrieval import (
    DEFAULT_HYBRID_ALPHA,
    BM25Retriever,
    DenseRetriever,
    HybridRetriever,
    Retriever,
)
from rader_hub.retrieval.embedding_cache import EmbeddingCache

TOP_K = 10
COPY_MARK = "~copy"  # copy k of document ID is ID~copyk


def repeated(corpus: Corpus, times: int) -> Corpus:
    """``corpus`` repeated ``times`` times; copy 0 keeps the ids, copy k gets ``ID~copyk``."""
    if any(COPY_MARK in doc.id for doc in corpus):
        raise ValueError(f"document ids must not contain {COPY_MARK!r}")
    documents = [Document(f"{doc.id}{COPY_MARK}{copy}" if copy else doc.id, doc.text, doc.title) for copy in range(times) for doc in corpus]
    return Corpus(documents, f"{corpus.source} x{times}")


class TiledEmbeddingCache(EmbeddingCache):
    """A cache that, asked for a corpus whose embeddings it lacks, first stores the base corpus's embeddings
    tiled to that corpus's size (its documents are the base's, repeated); every read is a real warm load."""

    def __init__(self, directory: Path, base_embeddings: np.ndarray) -> None:
        super().__init__(directory)
        self.base_embeddings = base_embeddings

    def load(self, path: Path, expected_rows: int) -> np.ndarray | None:
        copies, remainder = divmod(expected_rows, len(self.base_embeddings))
        if not path.is_file() and remainder == 0:
            self.store(path, np.tile(self.base_embeddings, (copies, 1)))
        return super().load(path, expected_rows)


def build(kind: str, corpus: Corpus, cache: EmbeddingCache, built: dict[str, Retriever]) -> Retriever:
    if kind == "bm25":
        return BM25Retriever(corpus)
    if kind == "dense":
        retriever = DenseRetriever(corpus, cache=cache)
        assert retriever.cache_hit, "the dense retriever must load its corpus embeddings from the warm cache"
        return retriever
    return HybridRetriever(built["dense"], built["bm25"], alpha=DEFAULT_HYBRID_ALPHA)


def measure(retriever: Retriever, queries: list[str]) -> tuple[float, list[str]]:
    """Seconds to search ``queries``, and each query's best document as an id of the 1x corpus."""
    started = time.perf_counter()
    rankings = retriever.search(queries, top_k=TOP_K)
    seconds = time.perf_counter() - started
    return seconds, [ranking[0][0].partition(COPY_MARK)[0] if ranking else "" for ranking in rankings]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10, 100], help="corpus sizes as multiples of the 354 theorems")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds; each retriever and scale keeps its best")
    parser.add_argument("--queries", type=int, default=100, help="use the first N dev queries (0: all 399)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads for query encoding (1: steady on shared cores)")
    args = parser.parse_args()
    if 1 not in args.scales:
        parser.error("--scales must include 1 (the reference of the ratios)")
    torch.set_num_threads(args.threads)

    base = load_corpus(resolve_source("embedded", "theorems"))
    queries = [query.text for query in load_queries(resolve_source("embedded", "dev_queries"))]
    queries = queries[: args.queries or len(queries)]
    load_before = os.getloadavg()
    kinds = ["bm25", "dense", "hybrid"]
    best: dict[tuple[str, int], float] = {}
    build_seconds: dict[tuple[str, int], float] = {}
    top1: dict[tuple[str, int], list[str]] = {}
    with tempfile.TemporaryDirectory(prefix="rader-bench-retrieval-") as folder:
        # The 1x embeddings from the user's cache (encoded there once if cold), tiled for the larger corpora.
        cache = TiledEmbeddingCache(Path(folder), DenseRetriever(base).doc_embeddings)
        retrievers: dict[int, dict[str, Retriever]] = {}
        for scale in tqdm(sorted(args.scales), desc="building retrievers", unit="corpus"):
            corpus = repeated(base, scale)
            retrievers[scale] = {}
            for kind in kinds:
                started = time.perf_counter()
                retrievers[scale][kind] = build(kind, corpus, cache, retrievers[scale])
                build_seconds[kind, scale] = time.perf_counter() - started
        measure(retrievers[1]["hybrid"], queries[:8])  # warm-up: lazy imports, first-call allocations
        runs = [(round_, scale, kind) for round_ in range(args.repeats) for scale in sorted(args.scales) for kind in kinds]
        for round_, scale, kind in tqdm(runs, desc="searching", unit="run"):
            seconds, firsts = measure(retrievers[scale][kind], queries)
            best[kind, scale] = min(seconds, best.get((kind, scale), float("inf")))
            top1[kind, scale] = firsts
            line = {
                "retriever": kind,
                "scale": scale,
                "documents": len(base) * scale,
                "round": round_,
                "queries": len(queries),
                "seconds": round(seconds, 3),
                "queries_per_s": round(len(queries) / seconds, 1),
                "load_average_1min": round(os.getloadavg()[0], 2),
            }
            tqdm.write(json.dumps(line))

    qps = {kind: {scale: round(len(queries) / best[kind, scale], 1) for scale in sorted(args.scales)} for kind in kinds}
    print(f"{'retriever':<8} " + " ".join(f"{f'{scale}x ({len(base) * scale} docs)':>22}" for scale in sorted(args.scales)))
    for kind in kinds:
        cells = [f"{qps[kind][scale]:>9} q/s ({qps[kind][scale] / qps[kind][1]:.2f}x)" for scale in sorted(args.scales)]
        print(f"{kind:<8} " + " ".join(f"{cell:>22}" for cell in cells))
    print(
        json.dumps(
            {
                "bench": "retrieval",
                "queries": len(queries),
                "top_k": TOP_K,
                "repeats": args.repeats,
                "threads": args.threads,
                "documents": {scale: len(base) * scale for scale in sorted(args.scales)},
                "hybrid_alpha": DEFAULT_HYBRID_ALPHA,
                **machine_fields(load_before),
                "queries_per_s": qps,
                "ratio_vs_1x": {
                    kind: {scale: round(qps[kind][scale] / qps[kind][1], 3) for scale in sorted(args.scales)} for kind in kinds
                },
                "build_s": {kind: {scale: round(build_seconds[kind, scale], 2) for scale in sorted(args.scales)} for kind in kinds},
                "same_top1": {
                    kind: {
                        scale: round(np.mean([a == b for a, b in zip(top1[kind, scale], top1[kind, 1])]), 3)
                        for scale in sorted(args.scales)
                    }
                    for kind in kinds
                },
            }
        )
    )


if __name__ == "__main__":
    main()
