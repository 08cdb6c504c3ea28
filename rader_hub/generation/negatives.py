"""Hard-negative selection: never a positive of the query, de-duplicated, capped (train group 12)."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rader_hub.schema import MAX_NEGATIVES

if TYPE_CHECKING:
    from rader_hub.retrieval.base import Retriever


def select_negatives(
    candidate_ids: Iterable[str],
    positive_id: str,
    text_of: Callable[[str], str],
    limit: int = MAX_NEGATIVES,
    other_positive_ids: Iterable[str] = (),
) -> list[str]:
    """Candidates in order, dropping the positive, the query's other positives, repeated ids and
    repeated texts (a corpus may hold the same theorem under two ids; as a negative it would
    contradict the positive)."""
    positives = {positive_id, *other_positive_ids}
    seen_ids: set[str] = set(positives)
    seen_texts: set[str] = {" ".join(text_of(doc_id).split()).lower() for doc_id in positives}
    chosen: list[str] = []
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


@dataclass(frozen=True)
class MiningWindow:
    """Where a retriever's negatives come from: ranks ``first``..``last`` (1-based, inclusive),
    of which ``samples`` are drawn at random (0: all, in rank order). Top ranks risk false
    negatives: the official lexical negatives are 10 drawn from BM25 ranks 31-50, plus the dense
    retriever's top 10."""

    first: int
    last: int
    samples: int = 0

    def pick(self, ranked_ids: Sequence[str], rng: random.Random) -> list[str]:
        window = list(ranked_ids[self.first - 1 : self.last])
        if 0 < self.samples < len(window):
            chosen = set(rng.sample(window, self.samples))
            window = [doc_id for doc_id in window if doc_id in chosen]
        return window


def mined_negatives(
    queries: Sequence[str],
    positive_ids: Sequence[str],
    miners: Sequence[tuple[Retriever, MiningWindow]],
    text_of: Callable[[str], str],
    limit: int = MAX_NEGATIVES,
    other_positive_ids: Sequence[Sequence[str]] | None = None,
    seed: int = 0,
) -> list[list[str]]:
    """Each retriever's window of results for each query (lexical queries), the query's positives
    excluded. The random draws are seeded per query and positive, so a row's negatives do not
    depend on the rows batched with it."""
    others = other_positive_ids or [()] * len(queries)
    exclude = [frozenset({positive_id, *other}) for positive_id, other in zip(positive_ids, others)]
    per_miner = [retriever.search(list(queries), top_k=window.last, exclude=exclude) for retriever, window in miners]
    results = []
    for index, (query, positive_id) in enumerate(zip(queries, positive_ids)):
        rng = random.Random(f"{seed}:{query}:{positive_id}")
        rankings = [window.pick([doc_id for doc_id, _ in ranked[index]], rng) for (_, window), ranked in zip(miners, per_miner)]
        results.append(select_negatives(interleave(rankings), positive_id, text_of, limit, others[index]))
    return results
