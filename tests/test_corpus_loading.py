from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import write_jsonl
from datasets import Dataset, DatasetDict

from rader_hub.corpus import load_corpus
from rader_hub.embedded_data import embedded_path, resolve_source
from rader_hub.errors import DataError
from rader_hub.records import DataSource


def test_loads_jsonl_and_indexes_title_then_text(tmp_path: Path, tiny_corpus_rows: list[dict]) -> None:
    corpus = load_corpus(DataSource(str(write_jsonl(tmp_path / "c.jsonl", tiny_corpus_rows))))
    assert corpus.ids == [row["id"] for row in tiny_corpus_rows]
    assert corpus.texts[0] == "Pigeonhole principle\n" + tiny_corpus_rows[0]["text"]
    assert corpus["bayes"].title == "Bayes' theorem"


def test_loads_parquet(tmp_path: Path, tiny_corpus_rows: list[dict]) -> None:
    pq.write_table(pa.Table.from_pylist(tiny_corpus_rows), tmp_path / "c.parquet")
    assert len(load_corpus(DataSource(str(tmp_path / "c.parquet")))) == 4


def test_loads_bright_style_content_field_without_title(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "docs.jsonl", [{"id": "a", "content": "alpha"}, {"id": "b", "content": "beta"}])
    corpus = load_corpus(DataSource(str(path)))
    assert corpus.texts == ["alpha", "beta"]


def test_loads_saved_dataset_folder_with_split(tmp_path: Path, tiny_corpus_rows: list[dict]) -> None:
    DatasetDict({"theorems": Dataset.from_list(tiny_corpus_rows)}).save_to_disk(str(tmp_path / "saved"))
    corpus = load_corpus(DataSource(str(tmp_path / "saved"), split="theorems"))
    assert len(corpus) == 4
    with pytest.raises(DataError, match="choose one with a split"):
        load_corpus(DataSource(str(tmp_path / "saved")))


def test_loads_folder_of_files(tmp_path: Path, tiny_corpus_rows: list[dict]) -> None:
    folder = tmp_path / "shards"
    folder.mkdir()
    write_jsonl(folder / "part-0.jsonl", tiny_corpus_rows[:2])
    write_jsonl(folder / "part-1.jsonl", tiny_corpus_rows[2:])
    assert load_corpus(DataSource(str(folder))).ids == [row["id"] for row in tiny_corpus_rows]


def test_duplicate_id_names_both_rows(tmp_path: Path, tiny_corpus_rows: list[dict]) -> None:
    path = write_jsonl(tmp_path / "dup.jsonl", tiny_corpus_rows + [tiny_corpus_rows[1]])
    with pytest.raises(DataError) as error:
        load_corpus(DataSource(str(path)))
    assert str(error.value) == f"{path} line 5: duplicate id 'pythagoras' (first at {path} line 2)"


def test_row_without_text_names_line(tmp_path: Path, tiny_corpus_rows: list[dict]) -> None:
    rows = tiny_corpus_rows[:2] + [{"id": "no-text", "title": "Nothing"}]
    path = write_jsonl(tmp_path / "missing.jsonl", rows)
    with pytest.raises(DataError, match=r"missing\.jsonl line 3: missing or empty 'text'.*'no-text'"):
        load_corpus(DataSource(str(path)))


def test_row_without_id_names_line(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "noid.jsonl", [{"text": "x"}])
    with pytest.raises(DataError, match=r"noid\.jsonl line 1: missing 'id'"):
        load_corpus(DataSource(str(path)))


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("\n")
    with pytest.raises(DataError, match=r"empty\.jsonl: corpus is empty"):
        load_corpus(DataSource(str(path)))


def test_invalid_json_names_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.jsonl"
    path.write_text(json.dumps({"id": "a", "text": "x"}) + "\n{not json\n")
    with pytest.raises(DataError) as error:
        load_corpus(DataSource(str(path)))
    # Where on the line, and the parser's whole message.
    assert str(error.value) == f"{path} line 2: invalid JSON at column 2: Expecting property name enclosed in double quotes"


def test_a_json_array_error_says_where(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('[{"id": "a", "text": "x"},\n {"id": "b" "text": "y"}]')
    with pytest.raises(DataError) as error:
        load_corpus(DataSource(str(path)))
    assert str(error.value) == f"{path}: invalid JSON at line 2 column 13: Expecting ',' delimiter"


def test_many_bad_rows_of_one_kind_are_one_message_with_a_count(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "noid.jsonl", [{"text": "x"}, {"text": "y"}, {"text": "z"}])
    with pytest.raises(DataError) as error:
        load_corpus(DataSource(str(path)))
    assert str(error.value) == f"{path} line 1: missing 'id' (and 2 more rows like it)"


def test_missing_path_that_is_not_a_hub_id(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file or folder"):
        load_corpus(DataSource(str(tmp_path / "nope.jsonl")))


def test_unreachable_hub_dataset_is_a_data_error() -> None:
    # HF_HUB_OFFLINE=1 (conftest): the real `datasets` code path runs and fails fast.
    with pytest.raises(DataError, match=r"xlangai/BRIGHT \[documents:theoremqa_theorems\]: cannot load Hub dataset"):
        load_corpus(DataSource("xlangai/BRIGHT", "documents", "theoremqa_theorems"))


def test_embedded_corpus_is_the_354_theorems() -> None:
    corpus = load_corpus(resolve_source("embedded", "theorems"))
    assert len(corpus) == 354
    assert embedded_path("theorems").is_file()
    assert all(doc_id.startswith("tqa-") for doc_id in corpus.ids)


def test_fingerprint_changes_with_content(tiny_corpus) -> None:
    from rader_hub.corpus import Corpus, Document

    edited = Corpus([Document(d.id, d.text + " edited", d.title) for d in tiny_corpus], source="edited")
    assert edited.fingerprint != tiny_corpus.fingerprint
