"""The main job's stage records: what makes a finished stage count as done, and what re-runs it."""

from __future__ import annotations

import shutil

from rader_hub.fingerprints import files_fingerprint, settings_hash
from rader_hub.run.ledger import StageLedger, local_inputs, unchanged


def test_a_stage_is_done_only_under_the_key_it_finished_with(tmp_path):
    ledger = StageLedger(tmp_path / "run" / "stages.json")
    key = settings_hash(["train", {"epochs": 1}, "data-fp"])
    assert ledger.finished("train", key) is None
    ledger.record("train", key, 12.3, {"model": "m", "fingerprint": "abc"})

    reread = StageLedger(tmp_path / "run" / "stages.json")  # as a later run sees it
    record = reread.finished("train", key)
    assert record is not None and record.outputs == {"model": "m", "fingerprint": "abc"} and record.seconds == 12.3
    assert reread.finished("train", settings_hash(["train", {"epochs": 2}, "data-fp"])) is None  # a changed setting
    assert reread.finished("train", settings_hash(["train", {"epochs": 1}, "other-data"])) is None  # changed upstream output


def test_a_record_holds_only_while_its_outputs_keep_their_fingerprint(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.safetensors").write_bytes(b"trained")
    ledger = StageLedger(tmp_path / "run" / "stages.json")
    record = ledger.record("train", "k", 1.0, {"model": str(model), "fingerprint": files_fingerprint(model)})
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
    assert found == {str(problems): files_fingerprint(problems)}  # not the run's own files, not names of no file
    problems.write_text('{"id": "p2"}\n')  # same path, other problems
    assert local_inputs([settings], outside=run) != found
