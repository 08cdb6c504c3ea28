"""The content hashes that decide what is redone, and the values earlier runs recorded."""

from __future__ import annotations

from pathlib import Path

from rader_hub.fingerprints import file_sha256, files_fingerprint, settings_hash


def test_settings_hashes_ignore_mapping_order_but_not_values():
    assert settings_hash({"a": 1, "b": [1, 2]}) == settings_hash({"b": [1, 2], "a": 1})
    assert settings_hash({"a": 1}) != settings_hash({"a": 2})
    assert settings_hash(("train", {"epochs": 1})) == settings_hash(["train", {"epochs": 1}])


def test_settings_hashes_are_those_earlier_checkpoints_and_ledgers_recorded():
    """Values the two functions this one replaced (generation.checkpoint.settings_hash of a mapping,
    run.ledger.settings_key of its arguments) gave: a resumed run still finds its work."""
    assert settings_hash({"search": {"rollouts": 2}, "llm": "embedded", "path": Path("x")}) == "6edf48d87f7d5ed0"
    assert settings_hash(["train", {"epochs": 1}, "data-fp"]) == "a4c5d5200a3359e9"


def _files(tmp_path: Path) -> Path:
    folder = tmp_path / "folder"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("alpha")
    (folder / "sub" / "b.bin").write_bytes(b"\0beta")
    return folder


def test_file_fingerprints_are_those_earlier_ledgers_and_provenance_recorded(tmp_path):
    folder = _files(tmp_path)
    assert files_fingerprint(folder) == "9bf4ae5a95b2b2a4"
    assert files_fingerprint(folder / "a.txt") == "5c0256f909613130"
    assert files_fingerprint(folder / "a.txt", folder / "sub") == "56b2ed8e4f45b2a0"
    assert file_sha256(folder / "sub" / "b.bin") == "e23537b050e84af2cbaab46f2f83d8d3b5febc8e5ac6200d306284f687d46924"


def test_file_fingerprints_follow_content_and_names(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "weights.bin").write_bytes(b"1234")
    before = files_fingerprint(folder)
    (folder / "weights.bin").write_bytes(b"1235")
    assert files_fingerprint(folder) != before
    (folder / "weights.bin").write_bytes(b"1234")
    assert files_fingerprint(folder) == before
    (folder / "weights.bin").rename(folder / "other.bin")
    assert files_fingerprint(folder) != before


def test_a_file_sha256_reads_past_its_first_block(tmp_path):
    big = tmp_path / "weights.gguf"
    big.write_bytes(b"x" * (1 << 20) + b"tail")
    other = tmp_path / "other.gguf"
    other.write_bytes(b"x" * (1 << 20) + b"tall")
    assert file_sha256(big) != file_sha256(other)
