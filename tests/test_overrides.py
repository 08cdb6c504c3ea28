"""FIELD=VALUE settings (``--param``, ``--train``): how an item is read, and the errors that name it
(with the field the command line translates to its flag)."""

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import Field

from rader_hub.errors import ConfigError
from rader_hub.overrides import parse_override, validated


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("epochs=2", ("epochs", 2)),
        ("bm25_negative_ranks=[31, 50]", ("bm25_negative_ranks", [31, 50])),
        ("corpus_split=null", ("corpus_split", None)),
        ("bf16=true", ("bf16", True)),
        ("base_model=my-org/my-model", ("base_model", "my-org/my-model")),  # plain strings need no quotes
        ('prompt="a=b"', ("prompt", "a=b")),  # the key ends at the first '='
        ("lr=", ("lr", "")),
    ],
)
def test_values_are_json_when_they_parse_else_plain_strings(item, expected):
    assert parse_override(item, "FIELD=VALUE", "epochs=2") == expected


def test_dotted_keys_are_kept_whole():
    assert parse_override("mcts_search.llm.batch_size=8", "STEP.FIELD=VALUE", "s.f=1") == ("mcts_search.llm.batch_size", 8)


@pytest.mark.parametrize(
    ("item", "form", "message"),
    [
        ("epochs", "FIELD=VALUE", "'epochs': expected FIELD=VALUE, e.g. x.y=1"),
        ("=2", "FIELD=VALUE", "'=2': expected FIELD=VALUE"),
        ("rollouts=2", "STEP.FIELD=VALUE", "'rollouts=2': expected STEP.FIELD=VALUE"),  # too few names
        ("mcts_search..rollouts=2", "STEP.FIELD=VALUE", "'mcts_search..rollouts=2': expected STEP.FIELD=VALUE"),
        ("mcts_search.=2", "STEP.FIELD=VALUE", "'mcts_search.=2': expected STEP.FIELD=VALUE"),
    ],
)
def test_a_malformed_item_is_named_with_the_form_expected(item, form, message):
    with pytest.raises(ConfigError) as error:
        parse_override(item, form, "x.y=1", field="train")
    assert str(error.value).startswith(message)
    assert error.value.field == "train"


def test_values_are_checked_against_the_type_and_its_bounds():
    positive = Annotated[int, Field(ge=1)]
    assert validated(positive, "3", "rollouts") == 3
    with pytest.raises(ConfigError, match=r"^rollouts: Input should be greater than or equal to 1 \(got 0\)$"):
        validated(positive, 0, "rollouts")
    with pytest.raises(ConfigError) as error:
        validated(positive, 0, "rollouts", field="train")
    assert error.value.field == "train"
    with pytest.raises(ConfigError, match=r"^rollouts: Input should be a valid integer, .* \(got 'many'\)$"):
        validated(positive, "many", "rollouts")
