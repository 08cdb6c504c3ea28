"""Key/value states of prompt prefixes, kept so that prompts starting with them skip their prefill.

The search's prompts come in families: the next-step, complete-solution and query prompts of one
node begin with the same problem and steps, a child's prompts extend its parent's steps, and the
relevance judge sees the steps of the node whose query it judges. Prefill is compute-bound on CPU
(about 5 ms per prompt token for SmolLM2-135M on one core), so computing each shared beginning once
saves most of it. vLLM does the same on GPUs (``enable_prefix_caching``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class Prefix:
    """The key/value states of a prompt's first ``length`` tokens, per layer [kv heads, length, head dim]."""

    keys: list[torch.Tensor]
    values: list[torch.Tensor]

    @property
    def length(self) -> int:
        return self.keys[0].shape[1]

    @property
    def nbytes(self) -> int:
        return sum(t.nelement() * t.element_size() for t in (*self.keys, *self.values))

    def first(self, length: int) -> Prefix:
        return Prefix([k[:, :length] for k in self.keys], [v[:, :length] for v in self.values])


class PrefixCache:
    """Prefixes by their token ids, least recently used dropped first beyond ``max_bytes``."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple[int, ...], tuple[np.ndarray, Prefix]] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def longest(self, tokens: Sequence[int]) -> tuple[int, Prefix | None]:
        """The longest cached beginning of ``tokens``: how many tokens it covers, and their states."""
        query = np.asarray(tokens)
        best, best_key = 0, None
        for key, (ids, _) in self._entries.items():
            common = _common_length(ids, query)
            if common > best:
                best, best_key = common, key
        if best_key is None:
            return 0, None
        self._entries.move_to_end(best_key)
        return best, self._entries[best_key][1].first(best)

    def add(self, tokens: Sequence[int], prefix: Prefix) -> None:
        key = tuple(tokens)
        if key in self._entries or prefix.nbytes > self.max_bytes:
            return
        self._entries[key] = (np.asarray(key), prefix)
        self._bytes += prefix.nbytes
        while self._bytes > self.max_bytes:
            _, (_, dropped) = self._entries.popitem(last=False)
            self._bytes -= dropped.nbytes


def shared_beginnings(prompts: Sequence[Sequence[int]], min_tokens: int) -> list[tuple[int, ...]]:
    """The beginnings (at least ``min_tokens`` long) that two or more of ``prompts`` share, each
    stopping one token short of a whole prompt (the last token is always prefilled, for its logits)."""
    ordered = sorted(tuple(prompt) for prompt in prompts)
    found = set()
    for before, after in zip(ordered, ordered[1:]):
        common = min(_common_length(np.asarray(before), np.asarray(after)), len(before) - 1, len(after) - 1)
        if common >= min_tokens:
            found.add(before[:common])
    return sorted(found, key=len)


def _common_length(a: np.ndarray, b: np.ndarray) -> int:
    n = min(len(a), len(b))
    differs = np.flatnonzero(a[:n] != b[:n])
    return int(differs[0]) if len(differs) else n
