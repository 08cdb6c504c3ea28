"""Atomic writes: readers see the old file or the new one, never a half; files are shareable."""

from __future__ import annotations

import errno
import os
import shutil
import stat
from pathlib import Path

import pytest

from rader_hub.files import (
    append_line_atomic,
    atomic_directory,
    atomic_path,
    read_json,
    remove_leftovers,
    remove_tree,
    write_atomic,
    write_json_atomic,
)


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

    with pytest.raises(RuntimeError, match="killed"):
        write_atomic(target, fail_halfway)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["data.bin"]


def test_a_directory_appears_whole_or_not_at_all(tmp_path):
    target = tmp_path / "model"
    with pytest.raises(RuntimeError, match="killed before the weights"), atomic_directory(target) as staging:
        (staging / "config.json").write_text("{}")
        raise RuntimeError("killed before the weights")
    assert not target.exists() and list(tmp_path.iterdir()) == []
    with atomic_directory(target) as staging:
        (staging / "config.json").write_text("{}")
    assert (target / "config.json").is_file()
    with atomic_directory(target) as staging:
        assert staging is None  # already there: nothing to do


def test_files_written_by_other_writers_reach_the_disk_before_their_name(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda descriptor: synced.append(os.readlink(f"/proc/self/fd/{descriptor}")) or real_fsync(descriptor))
    target = tmp_path / "data.parquet"
    with atomic_path(target) as temporary:
        temporary.write_bytes(b"written by a library that closes without fsync")
    assert synced == [str(temporary), str(tmp_path)]  # the file's bytes, then its name in the folder


def test_a_runs_file_append_that_fails_keeps_the_file_as_it_was(tmp_path, monkeypatch):
    from rader_hub.evaluation.runs import append_run, load_runs

    runs = tmp_path / "runs.jsonl"
    append_run(runs, "a", {"ndcg@10": 0.5}, {})
    append_run(runs, "b", {"ndcg@10": 0.6}, {})
    before = runs.read_text()

    def disk_full(descriptor):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        append_run(runs, "c", {"ndcg@10": 0.7}, {})
    monkeypatch.undo()
    assert runs.read_text() == before and [label for label, _ in load_runs(runs)] == ["a", "b"]  # no half line
    assert [p.name for p in tmp_path.iterdir()] == ["runs.jsonl"]
    runs.write_text(before.rstrip("\n"))  # a file whose last line has no newline (edited by hand)
    append_line_atomic(runs, '{"label": "d", "metrics": {}}')
    assert [label for label, _ in load_runs(runs)] == ["a", "b", "d"]


def test_a_failed_chart_keeps_the_previous_image(tmp_path):
    from rader_hub.figures import pyplot, save_figure

    chart = tmp_path / "ndcg.png"
    save_figure(pyplot().figure(), chart)
    before = chart.read_bytes()
    figure = pyplot().figure()

    def disk_full(path, **options):
        Path(path).write_bytes(b"\x89PNG half")
        raise OSError(errno.ENOSPC, "No space left on device")

    figure.savefig = disk_full
    with pytest.raises(OSError, match="No space left"):
        save_figure(figure, chart)
    assert chart.read_bytes() == before and before.startswith(b"\x89PNG")
    assert [p.name for p in tmp_path.iterdir()] == ["ndcg.png"]


def test_a_folder_removed_part_way_is_gone_under_its_name_and_leftovers_are_cleared(tmp_path, monkeypatch):
    run = tmp_path / "run"
    checkpoint = run / "model" / "checkpoints" / "checkpoint-2"
    checkpoint.mkdir(parents=True)
    (checkpoint / "model.safetensors").write_bytes(b"w")
    (run / "model" / "model.safetensors").write_bytes(b"final")

    def killed(path, ignore_errors=False):
        raise KeyboardInterrupt  # the process dies while deleting

    monkeypatch.setattr(shutil, "rmtree", killed)
    with pytest.raises(KeyboardInterrupt):
        remove_tree(run / "model" / "checkpoints")
    monkeypatch.undo()
    assert not (run / "model" / "checkpoints").exists()  # nothing half-deleted under the name a resume reads
    (run / "data").mkdir()
    (run / "data" / ".tmp-train.parquet-x1").write_bytes(b"half")
    (run / ".staging-model-x2").mkdir()
    (run / "data" / "train.parquet").write_bytes(b"kept")
    removed = remove_leftovers(run)
    assert len(removed) == 3
    assert sorted(str(p.relative_to(run)) for p in run.rglob("*")) == ["data", "data/train.parquet", "model", "model/model.safetensors"]
