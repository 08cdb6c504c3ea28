"""The main job's stage records: what makes a finished stage count as done, and what re-runs it."""

from __future__ import annotations

import shutil

from rader_hub.run.ledger import StageLedger, fingerprint, local_inputs, settings_key, unchanged


def test_a_stage_is_done_only_under_the_key_it_finished_with(tmp_path):
    ledger = StageLedger(tmp_path / "run" / "stages.json")
    key = settings_key("train", {"epochs": 1}, "data-fp")
    assert ledger.finished("train", key) is None
    ledger.record("train", key, 12.3, {"model": "m", "fingerprint": "abc"})

    reread = StageLedger(tmp_path / "run" / "stages.json")  # as a later run sees it
    record = reread.finished("train", key)
    assert record is not None and record.outputs == {"model": "m", "fingerprint": "abc"} and record.seconds == 12.3
    assert reread.finished("train", settings_key("train", {"epochs": 2}, "data-fp")) is None  # a changed setting
    assert reread.finished("train", settings_key("train", {"epochs": 1}, "other-data")) is None  # changed upstream output


def test_settings_keys_ignore_mapping_order_but_not_values():
    assert settings_key({"a": 1, "b": [1, 2]}) == settings_key({"b": [1, 2], "a": 1})
    assert settings_key({"a": 1}) != settings_key({"a": 2})


def test_fingerprints_follow_content_and_names(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "weights.bin").write_bytes(b"1234")
    before = fingerprint(folder)
    (folder / "weights.bin").write_bytes(b"1235")
    assert fingerprint(folder) != before
    (folder / "weights.bin").write_bytes(b"1234")
    assert fingerprint(folder) == before
    (folder / "weights.bin").rename(folder / "other.bin")
    assert fingerprint(folder) != before


def test_a_record_holds_only_while_its_outputs_keep_their_fingerprint(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.safetensors").write_bytes(b"trained")
    ledger = StageLedger(tmp_path / "run" / "stages.json")
    record = ledger.record("train", "k", 1.0, {"model": str(model), "fingerprint": fingerprint(model)})
    assert unchanged(record, [model])
    (model / "model.safetensors").write_bytes(b"replaced")  # the same name, another model
    assert not unchanged(record, [model])
    shutil.rmtree(model)
    assert not unchanged(record, [model])


def test_local_inputs_are_the_contents_of_the_files_settings_name(tmp_path):
    problems = tmp_path / "problems.jsonl"
    problems.write_text('{"id": "p1"}\n')
    run = tmp_path / "outputs" / "math"
    (run / "data").mkdir(parents=True)
    (run / "data" / "train.parquet").write_bytes(b"written by the run")
    settings = {"load_problems": {"source": str(problems), "num_problems": 3}, "save": {"output_dir": str(run)}}
    description = "Embedded CPU default: " + "a long description, no path " * 20  # too long a name for a file
    found = local_inputs([settings, ["embedded", description, str(run / "data" / "train.parquet")]], outside=run)
    assert found == {str(problems): fingerprint(problems)}  # not the run's own files, not names of no file
    problems.write_text('{"id": "p2"}\n')  # same path, other problems
    assert local_inputs([settings], outside=run) != found
