"""Training data: loading the generation output's schema, validation, filtering, leak-free splits."""

from __future__ import annotations

import json
import typing
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import write_jsonl

from rader_hub.errors import ConfigError, DataError
from rader_hub.records import DataSource
from rader_hub.training.config import RerankerTrainingConfig, RetrieverTrainingConfig
from rader_hub.training.data import (
    example_triples,
    length_statistics,
    load_triples,
    negative_statistics,
    split_by_group,
    to_columns,
    training_data,
)

QUERY_TYPES = ("llmq", "cot", "question", "lexical")


def generation_rows(problems: int = 6) -> list[dict]:
    """Rows shaped like the generation recipe's output: one row per (problem, query type)."""
    rows = []
    for p in range(problems):
        for query_type in QUERY_TYPES:
            rows.append(
                {
                    "query": f"{query_type} query for problem {p}",
                    "positive": f"theorem {p}",
                    "negatives": [f"theorem {p + 100}", f"theorem {p + 200}"],
                    "query_type": query_type,
                    "positive_id": f"t{p}",
                    "negative_ids": [f"t{p + 100}", f"t{p + 200}"],
                    "problem_id": f"math-{p}",
                }
            )
    return rows


def write_parquet(path: Path, rows: list[dict]) -> Path:
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def test_loads_generation_parquet_and_filters_by_query_type(tmp_path):
    path = write_parquet(tmp_path / "out.parquet", generation_rows())
    everything = load_triples(DataSource(str(path)))
    assert len(everything) == 24
    kept = load_triples(DataSource(str(path)), ["llmq", "cot"])
    assert len(kept) == 12
    assert {t.query_type for t in kept} == {"llmq", "cot"}
    assert kept[0].negatives == ("theorem 100", "theorem 200")
    assert kept[0].group == "math-0"


def test_unknown_query_type_names_the_types_present(tmp_path):
    path = write_parquet(tmp_path / "out.parquet", generation_rows())
    with pytest.raises(DataError, match=r"unknown query type\(s\) \['reasoning'\].*'cot'"):
        load_triples(DataSource(str(path)), ["reasoning"])


def test_missing_positive_column_is_a_clear_error(tmp_path):
    path = write_jsonl(tmp_path / "bad.jsonl", [{"query": "q", "passage": "p"}])
    with pytest.raises(DataError, match=r"needs columns 'query' and 'positive'.*missing \['positive'\]"):
        load_triples(DataSource(str(path)))


def test_empty_query_names_the_row(tmp_path):
    path = write_jsonl(tmp_path / "bad.jsonl", [{"query": "q", "positive": "p"}, {"query": " ", "positive": "p"}])
    with pytest.raises(DataError, match=r"bad.jsonl line 2: missing or empty 'query'"):
        load_triples(DataSource(str(path)))


def test_negatives_must_be_a_list_of_strings(tmp_path):
    path = write_jsonl(tmp_path / "bad.jsonl", [{"query": "q", "positive": "p", "negatives": "n"}])
    with pytest.raises(DataError, match=r"line 1: 'negatives' must be a list"):
        load_triples(DataSource(str(path)))


def test_empty_negatives_are_an_error_only_when_negatives_are_required(tmp_path):
    rows = [{"query": "q1", "positive": "p1", "negatives": ["n1"]}, {"query": "q2", "positive": "p2", "negatives": []}]
    triples = load_triples(DataSource(str(write_jsonl(tmp_path / "d.jsonl", rows))))
    assert to_columns(triples, 0, seed=0) == {"query": ["q1", "q2"], "positive": ["p1", "p2"]}
    with pytest.raises(DataError, match=r"d.jsonl line 2: empty 'negatives'"):
        to_columns(triples, 1, seed=0)


def test_rows_with_few_negatives_are_filled_from_their_own(tmp_path):
    rows = [{"query": "q", "positive": "p", "negatives": ["a", "b"]}]
    triples = load_triples(DataSource(str(write_jsonl(tmp_path / "d.jsonl", rows))))
    columns = to_columns(triples, 4, seed=0)
    negatives = [columns[f"negative_{i}"][0] for i in range(1, 5)]
    assert set(negatives) == {"a", "b"}  # both used, then re-drawn; never another row's text


def test_split_keeps_every_problem_on_one_side(tmp_path):
    triples = load_triples(DataSource(str(write_parquet(tmp_path / "o.parquet", generation_rows(problems=20)))))
    train, held_out = split_by_group(triples, eval_fraction=0.25, seed=3)
    train_groups, eval_groups = {t.group for t in train}, {t.group for t in held_out}
    assert len(eval_groups) == 5 and len(train_groups) == 15
    assert not train_groups & eval_groups
    assert len(train) + len(held_out) == len(triples)
    # Each held-out problem keeps all four of its query types.
    assert all(sum(t.group == g for t in held_out) == 4 for g in eval_groups)


def test_split_is_reproducible_and_zero_fraction_keeps_everything(tmp_path):
    triples = load_triples(DataSource(str(write_parquet(tmp_path / "o.parquet", generation_rows(problems=10)))))
    assert split_by_group(triples, 0.3, seed=1) == split_by_group(triples, 0.3, seed=1)
    assert split_by_group(triples, 0.0, seed=1) == (triples, [])


def test_training_data_takes_a_path_or_triples_in_memory_alike(tmp_path):
    path = write_parquet(tmp_path / "out.parquet", generation_rows(problems=8))
    from_file = training_data(path, query_types=["llmq"], eval_fraction=0.25, seed=5)
    in_memory = training_data(load_triples(DataSource(str(path))), query_types=["llmq"], eval_fraction=0.25, seed=5)
    assert (from_file.train, from_file.held_out) == (in_memory.train, in_memory.held_out)
    assert (len(from_file.train), len(from_file.held_out)) == (6, 2)
    assert (from_file.source, in_memory.source) == (DataSource(str(path)), None)
    with pytest.raises(DataError, match=r"<memory>: unknown query type\(s\) \['reasoning'\]"):
        training_data(in_memory.train, query_types=["reasoning"])


def test_negative_statistics_count_distinct_texts_not_padded_slots(tmp_path):
    rows = [
        {"query": "q1", "positive": "p", "negatives": ["a", "b"], "problem_id": "m1"},
        {"query": "q2", "positive": "p", "negatives": ["a", "a", "b"], "problem_id": "m1"},  # a repeated text is one
        {"query": "q3", "positive": "p", "negatives": ["a", "b", "c", "d"], "problem_id": "m2"},
    ]
    triples = load_triples(DataSource(str(write_jsonl(tmp_path / "d.jsonl", rows))))
    assert negative_statistics(triples, 4) == {
        "per_row": 4, "distinct_min": 2, "distinct_median": 2, "distinct_max": 4, "rows_padded": 2, "rows": 3,
    }  # fmt: skip
    assert length_statistics([3, 9, 10, 12], limit=10) == {"mean_tokens": 8.5, "max_tokens": 12, "truncated": 1, "rows": 4}


def test_card_examples_come_from_different_problems_and_query_types(tmp_path):
    triples = load_triples(DataSource(str(write_parquet(tmp_path / "d.parquet", generation_rows(problems=3)))))
    examples = example_triples(triples)
    assert [e["query"] for e in examples] == ["llmq query for problem 0", "cot query for problem 1", "question query for problem 2"]
    assert examples[0]["negatives"] == ["theorem 100", "theorem 200"]


@pytest.mark.parametrize(
    ("config_class", "field", "value", "message"),
    [
        (RetrieverTrainingConfig, "epochs", 0, "training setting epochs: Input should be greater than 0 (got 0)"),
        (RetrieverTrainingConfig, "max_steps", -5, "training setting max_steps: Input should be greater than or equal to -1 (got -5)"),
        (RetrieverTrainingConfig, "batch_size", 1, "training setting batch_size: Input should be greater than or equal to 2 (got 1)"),
        (RetrieverTrainingConfig, "eval_fraction", 1.0, "training setting eval_fraction: Input should be less than 1 (got 1.0)"),
        (RetrieverTrainingConfig, "mini_batch_size", -1, "training setting mini_batch_size: Input should be greater than or equal to 0"),
        (RetrieverTrainingConfig, "temperature", 0.0, "training setting temperature: Input should be greater than 0"),
        (RetrieverTrainingConfig, "save_steps", 0, "training setting save_steps: Input should be greater than or equal to 1"),
        (RerankerTrainingConfig, "num_negatives", 0, "training setting num_negatives: Input should be greater than or equal to 1 (got 0)"),
        (RerankerTrainingConfig, "learning_rate", -1e-5, "training setting learning_rate: Input should be greater than 0"),
    ],
)
def test_training_settings_out_of_bounds_are_named_when_the_config_is_made(config_class, field, value, message):
    with pytest.raises(ConfigError) as error:
        config_class(out_dir="unused", **{field: value})
    assert message in str(error.value)


def test_every_numeric_training_setting_has_bounds():
    from pydantic import TypeAdapter

    for config_class in (RetrieverTrainingConfig, RerankerTrainingConfig):
        types = typing.get_type_hints(config_class, include_extras=True)
        for name, hint in types.items():
            schema = json.dumps(TypeAdapter(hint).json_schema())
            if '"integer"' in schema or '"number"' in schema:
                assert "minimum" in schema or "Minimum" in schema, f"{config_class.__name__}.{name} has no bound"
