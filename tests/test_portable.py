"""What a published file may say about the machine that made it (rader_hub.portable)."""

from __future__ import annotations

import pytest

from rader_hub.fingerprints import recipe_hash
from rader_hub.portable import SERVER_URL, local_details_in, portable, portable_text


@pytest.mark.parametrize(
    ("local", "published"),
    [
        ("bm25 over /home/ada/data/corpus.jsonl", "bm25 over corpus.jsonl"),
        ("Qwen/Qwen2.5-7B-Instruct served by http://10.0.0.7:8000/v1", f"Qwen/Qwen2.5-7B-Instruct served by {SERVER_URL}"),
        ("local folder /srv/models/qwen/", "local folder qwen"),
        ("dense (/models/e5) over ~/corpora/theorems.jsonl:train", "dense (e5) over theorems.jsonl:train"),
        # Relative paths, Hub ids and ordinary text stay as they are.
        ("outputs/math/data", "outputs/math/data"),
        ("org/rader-math", "org/rader-math"),
        ("1/2 of a / b", "1/2 of a / b"),
        ("embedded", "embedded"),
    ],
)
def test_paths_keep_their_last_part_and_urls_are_removed(local: str, published: str) -> None:
    assert portable_text(local) == published
    assert portable_text(published) == published  # a published value is already portable


def test_nested_values_and_the_details_removed() -> None:
    recipe = {"llm": {"base_url": "http://10.0.0.7:8000/v1", "model": "m"}, "steps": [{"corpus": "/data/c.jsonl", "top_k": 3}]}
    assert portable(recipe) == {"llm": {"base_url": SERVER_URL, "model": "m"}, "steps": [{"corpus": "c.jsonl", "top_k": 3}]}
    assert local_details_in(recipe) == {"http://10.0.0.7:8000/v1", "/data/c.jsonl"}


def test_the_recipe_hash_does_not_depend_on_where_the_run_was() -> None:
    here = {"source": "/home/ada/problems.jsonl", "llm": {"base_url": "http://10.0.0.7:8000/v1"}, "rollouts": 64}
    there = {"source": "/scratch/bob/problems.jsonl", "llm": {"base_url": "http://gpu-3:9000/v1"}, "rollouts": 64}
    assert recipe_hash(here) == recipe_hash(there) == recipe_hash(portable(here))
    assert recipe_hash(here) != recipe_hash({**here, "rollouts": 32})
