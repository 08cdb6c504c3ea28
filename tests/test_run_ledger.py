"""The main job's stage records: what makes a finished stage count as done, and what re-runs it."""

from __future__ import annotations

from rader_hub.run.ledger import StageLedger, fingerprint, settings_key


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
