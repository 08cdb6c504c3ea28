"""What rader_training.json records to reproduce a model (dataset revision, commands), and the card's
rendering of it: one source for both."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rader_hub import __version__
from rader_hub.fingerprints import files_fingerprint
from rader_hub.publish.model_card import reproduce_block, reproduce_data_note, revision_fact
from rader_hub.records import DataSource
from rader_hub.training.reproduce import data_argument, dataset_revision, reproduce_commands


def test_a_hub_dataset_is_recorded_with_the_commit_it_was_loaded_at(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    source = DataSource("org/rader-math", split="train")
    assert dataset_revision(source) == {"hub_id": "org/rader-math", "commit": None}  # not loaded here: not known
    refs = tmp_path / "datasets--org--rader-math" / "refs"
    refs.mkdir(parents=True)
    (refs / "main").write_text("0123abcd" * 5)
    assert dataset_revision(source) == {"hub_id": "org/rader-math", "commit": "0123abcd" * 5}
    assert data_argument(source) == "org/rader-math"
    assert revision_fact(dataset_revision(source)) == f"`org/rader-math` at commit `{'0123abcd' * 5}`"


def test_a_local_dataset_is_recorded_by_content_and_recipe_hash_without_its_path(tmp_path: Path) -> None:
    data = tmp_path / "outputs" / "math" / "data"
    data.mkdir(parents=True)
    pq.write_table(pa.table({"query": ["q1", "q2"], "recipe_hash": ["h2", "h1"]}), data / "train-00000-of-00001.parquet")
    revision = dataset_revision(DataSource(str(data)))
    assert revision == {"name": "math/data", "fingerprint": files_fingerprint(data), "recipe_hashes": ["h1", "h2"]}
    assert str(tmp_path) not in str(revision) and data_argument(DataSource(str(data))) == "math/data"
    jsonl = tmp_path / "triples.jsonl"
    jsonl.write_text('{"query": "q", "positive": "p"}\n')
    assert dataset_revision(DataSource(str(jsonl)))["recipe_hashes"] == []  # not a generation output
    assert dataset_revision(None) is None and data_argument(None) == "DATA"
    assert revision_fact(revision) == f"local `math/data`, content fingerprint `{files_fingerprint(data)}`, recipe hash `h1`, `h2`"


def test_the_commands_name_the_settings_that_differ_from_the_defaults() -> None:
    config = {"out_dir": "/home/me/model", "base": "Qwen/Qwen2.5-0.5B", "num_negatives": 12, "learning_rate": 5e-5, "bf16": True}
    commands = reproduce_commands("retriever", config, "org/rader-math")
    assert commands == {
        "install": f"pip install rader-hub=={__version__}",
        "train": "rader train retriever --data org/rader-math --out model --base Qwen/Qwen2.5-0.5B --lr 5e-05 --bf16",
        "eval": "rader eval --retriever dense --model model --json > eval-model.json",
    }
    assert "eval" not in reproduce_commands("reranker", config, "org/rader-math")


def test_the_card_shows_the_recorded_commands_with_the_published_dataset() -> None:
    training = {"config": {"base": "b/m", "epochs": 2.0}, "data": {"path": "/home/me/outputs/math/data"}}
    block = reproduce_block(training, None, "retriever", [])
    train = "rader train retriever --data math/data --out model --base b/m --epochs 2.0"
    assert block.splitlines() == [f"pip install rader-hub=={__version__}", train]
    assert "--data org/rader-math " in reproduce_block(training, "org/rader-math", "retriever", [])
    assert reproduce_block({}, None, "retriever", []) is None


def test_the_card_says_whether_its_command_reads_the_data_the_model_was_trained_on():
    hub = {"hub_id": "org/rader-math", "commit": "0123abcd" * 5}
    local = {"name": "math/data", "fingerprint": "f" * 16, "recipe_hashes": ["h1"]}
    note = reproduce_data_note
    assert (
        note(hub, "org/rader-math") == "the model was trained on the revision above; the command reads `org/rader-math`'s current revision"
    )
    assert note(hub, "org/other") == "the command reads `org/other`, the model was trained on the revision above"
    assert note(local, "org/rader-math").startswith("the model was trained on the local data above; the command reads `org/rader-math`, ")
    assert "which is that data only if it was published unchanged" in note(local, "org/rader-math")
    assert note(local, None) == "on the local data above, identified by its content fingerprint"
    assert note(None, "org/rader-math") == "the training data's revision is not recorded; the command reads the current `org/rader-math`"
    # Nothing recorded, nothing published beside it: no claim that a dataset was.
    assert note(None, None) == "the training data is not recorded: replace `DATA` with it"


def test_a_record_from_before_the_cached_default_reproduces_its_plain_loss():
    # mini_batch_size None was the plain loss; the flag for it is now 0 (the default is cached, 16).
    train = reproduce_commands("retriever", {"base": "embedded", "mini_batch_size": None}, "DATA")["train"]
    assert train == "rader train retriever --data DATA --out model --base embedded --mini-batch-size 0"
    assert "--mini-batch-size" not in reproduce_commands("retriever", {"base": "embedded", "mini_batch_size": 16}, "DATA")["train"]
