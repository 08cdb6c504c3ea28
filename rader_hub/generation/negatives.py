"""Hard-negative selection: never the positive, de-duplicated, capped (train group 12)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from rader_hub.retrieval.base import Retriever

MAX_NEGATIVES = 12


def select_negatives(
    candidate_ids: Iterable[str],
    positive_id: str,
    text_of: Callable[[str], str],
    limit: int = MAX_NEGATIVES,
) -> list[str]:
    """Candidates in order, dropping the positive, repeated ids and repeated texts (a corpus may
    hold the same theorem under two ids; as a negative it would contradict the positive)."""
    positive_text = " ".join(text_of(positive_id).split()).lower()
    chosen: list[str] = []
    seen_ids: set[str] = {positive_id}
    seen_texts: set[str] = {positive_text}
    for doc_id in candidate_ids:
        if len(chosen) >= limit:
            break
        text = " ".join(text_of(doc_id).split()).lower()
        if doc_id in seen_ids or text in seen_texts:
            continue
        seen_ids.add(doc_id)
        seen_texts.add(text)
        chosen.append(doc_id)
    return chosen


def interleave(rankings: Sequence[Sequence[str]]) -> list[str]:
    """Round-robin merge of several rankings (BM25 first, then dense, alternating)."""
    merged: list[str] = []
    for position in range(max((len(r) for r in rankings), default=0)):
        merged.extend(ranking[position] for ranking in rankings if position < len(ranking))
    return merged


def mined_negatives(
    queries: Sequence[str],
    positive_ids: Sequence[str],
    retrievers: Sequence[Retriever],
    text_of: Callable[[str], str],
    limit: int = MAX_NEGATIVES,
) -> list[list[str]]:
    """Top results of each retriever for each query, the positive excluded (lexical queries)."""
    exclude = [frozenset({pid}) for pid in positive_ids]
    per_retriever = [retriever.search(list(queries), top_k=limit, exclude=exclude) for retriever in retrievers]
    results = []
    for index, positive_id in enumerate(positive_ids):
        rankings = [[doc_id for doc_id, _ in ranked[index]] for ranked in per_retriever]
        results.append(select_negatives(interleave(rankings), positive_id, text_of, limit))
    return results
