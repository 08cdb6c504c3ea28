"""Atomic writes: readers see the old file or the new one, never a half; files are shareable."""

from __future__ import annotations

import stat

import pytest

from rader_hub.files import atomic_directory, read_json, write_atomic, write_json_atomic


def test_written_files_are_readable_by_others_and_leave_no_temporary(tmp_path):
    target = tmp_path / "sub" / "summary.json"
    write_json_atomic(target, {"rows": 3})
    assert read_json(target) == {"rows": 3}
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert [p.name for p in target.parent.iterdir()] == ["summary.json"]


def test_a_failed_write_keeps_the_previous_content(tmp_path):
    target = tmp_path / "data.bin"
    write_atomic(target, lambda stream: stream.write(b"old"))

    def fail_halfway(stream):
        stream.write(b"new, but only ha")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        write_atomic(target, fail_halfway)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["data.bin"]


def test_a_directory_appears_whole_or_not_at_all(tmp_path):
    target = tmp_path / "model"
    with pytest.raises(RuntimeError), atomic_directory(target) as staging:
        (staging / "config.json").write_text("{}")
        raise RuntimeError("killed before the weights")
    assert not target.exists() and list(tmp_path.iterdir()) == []
    with atomic_directory(target) as staging:
        (staging / "config.json").write_text("{}")
    assert (target / "config.json").is_file()
    with atomic_directory(target) as staging:
        assert staging is None  # already there: nothing to do
