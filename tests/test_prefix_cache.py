"""The prefix cache: longest cached beginning, least-recently-used eviction, shared beginnings."""

from __future__ import annotations

import torch

from rader_hub.generation.prefix_cache import Prefix, PrefixCache, shared_beginnings


def states(tokens: list[int], layers: int = 2) -> Prefix:
    """Fake key/value states whose entries identify their token, so slicing can be checked."""
    per_token = torch.tensor(tokens, dtype=torch.float32)[None, :, None].expand(3, len(tokens), 4)
    return Prefix([per_token.clone() for _ in range(layers)], [per_token.clone() + 0.5 for _ in range(layers)])


def test_longest_cached_beginning_is_found_and_cut_to_what_matches():
    cache = PrefixCache(max_bytes=10**6)
    cache.add([1, 2, 3, 4], states([1, 2, 3, 4]))
    cache.add([1, 2, 9], states([1, 2, 9]))
    length, prefix = cache.longest([1, 2, 3, 7, 8])
    assert length == 3
    assert prefix.length == 3 and prefix.keys[1][0, :, 0].tolist() == [1, 2, 3] and prefix.values[0][0, :, 0].tolist() == [1.5, 2.5, 3.5]
    assert cache.longest([1, 2, 9, 9])[0] == 3
    assert cache.longest([5, 1, 2]) == (0, None)


def test_least_recently_used_prefixes_leave_first_when_memory_runs_out():
    one = states([1, 2, 3]).nbytes
    cache = PrefixCache(max_bytes=2 * one)
    cache.add([1, 2, 3], states([1, 2, 3]))
    cache.add([4, 5, 6], states([4, 5, 6]))
    cache.longest([1, 2, 3, 0])  # used: now the most recent
    cache.add([7, 8, 9], states([7, 8, 9]))
    assert len(cache) == 2
    assert cache.longest([4, 5, 6])[0] == 0  # the least recently used went
    assert cache.longest([1, 2, 3])[0] == 3 and cache.longest([7, 8, 9])[0] == 3
    longer = [1, 2, 3, *range(10)]
    cache.add(longer, states(longer))  # larger than the whole budget: not kept
    assert cache.longest(longer)[0] == 3


def test_shared_beginnings_are_what_two_prompts_share_never_a_whole_prompt():
    system = [100, 101, 102]
    node = system + [1, 2, 3, 4]
    prompts = [node + [50, 51], node + [60], node + [50, 51], system + [9, 9, 9, 9], [7, 7]]
    found = shared_beginnings(prompts, min_tokens=4)
    # node+[50] is the twin prompts' whole beginning but its last token; the system prompt alone
    # (3 tokens) is under the minimum.
    assert found == [tuple(node), tuple(node + [50])]
    assert shared_beginnings([[1, 2, 3, 4, 5]], min_tokens=1) == []
