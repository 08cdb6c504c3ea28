"""How `rader` fails: one redacted line, a traceback log without locals, exit status 1 or 2; log
records scrubbed of secrets whichever handler prints them."""

from __future__ import annotations

import errno
import io
import logging
import sys
import uuid
from pathlib import Path

import pytest

from rader_hub.cli import main
from rader_hub.redaction import redact_logs

CANARY = f"hf_canary{uuid.uuid4().hex}"


@pytest.fixture(autouse=True)
def record_factory():
    """redact_logs() (main() calls it) replaces the process's log record factory and routes warnings
    through logging: undone after each test, so other test modules see the process as it was."""
    previous = logging.getLogRecordFactory()
    yield
    logging.setLogRecordFactory(previous)
    logging.captureWarnings(False)


def test_log_records_are_redacted_for_handlers_attached_later(monkeypatch) -> None:
    monkeypatch.setenv("HF_TOKEN", CANARY)
    redact_logs()
    stream = io.StringIO()
    logger = logging.getLogger(f"late-{uuid.uuid4().hex}")  # as distilabel replaces handlers after start-up
    logger.addHandler(logging.StreamHandler(stream))
    logger.propagate = False
    logger.warning("sending token %s", CANARY)
    try:
        raise RuntimeError(f"server echoed {CANARY}")
    except RuntimeError:
        logger.exception("request failed")
    text = stream.getvalue()
    assert CANARY not in text
    assert "sending token ***" in text and "RuntimeError: server echoed ***" in text


def run_main(argv: list[str], monkeypatch, capsys) -> tuple[int, list[str]]:
    """`rader ARGV` through the entry point, in this process: its exit status and stderr lines."""
    monkeypatch.setattr(sys, "argv", ["rader", *argv])
    with pytest.raises(SystemExit) as exit_info:
        main()
    return exit_info.value.code, capsys.readouterr().err.strip().splitlines()


def test_a_library_error_shows_the_flag_of_the_field_it_names(tmp_path, monkeypatch, capsys) -> None:
    # publish's check_repo_id names repo_id; the one line a user reads names --repo.
    argv = ["publish", "dataset", str(tmp_path), "--repo", "rader", "--dry-run", "--out", str(tmp_path / "out")]
    status, lines = run_main(argv, monkeypatch, capsys)
    assert status == 2 and lines == ["error: --repo 'rader': expected ORG/NAME, e.g. my-org/rader"]


def test_an_unexpected_error_is_one_redacted_line_and_a_log_without_locals(monkeypatch, capsys) -> None:
    monkeypatch.setenv("HF_TOKEN", CANARY)

    def broken(*args, **kwargs):
        token = CANARY  # a local holding the secret, as huggingface_hub's frames have
        raise KeyError(f"no field for {token}")

    monkeypatch.setattr("rader_hub.generation.recipe.validate_recipe", broken)
    status, lines = run_main(["generate", "recipes/math.yaml"], monkeypatch, capsys)
    assert status == 1
    assert lines[0] == "error: unexpected KeyError: 'no field for ***'"
    log = Path(lines[1].removeprefix("full traceback (secrets redacted): "))
    text = log.read_text()
    assert "Traceback (most recent call last)" in text and 'KeyError(f"no field for {token}")' in text  # source, not values
    assert CANARY not in text and len(lines) == 2


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_a_file_system_refusal_is_one_line_naming_the_file_with_status_2(code, monkeypatch, capsys, tmp_path) -> None:
    def refused(*args, **kwargs):
        raise OSError(code, "refused", str(tmp_path / "out.json"))

    monkeypatch.setattr("rader_hub.generation.recipe.validate_recipe", refused)
    status, lines = run_main(["generate", "recipes/math.yaml"], monkeypatch, capsys)
    assert status == 2
    assert lines == [f"error: {tmp_path / 'out.json'}: refused"]


def test_text_files_that_are_not_utf8_are_named(tmp_path, monkeypatch, capsys) -> None:
    recipe = tmp_path / "recipe.yaml"
    recipe.write_bytes(b"pipeline: \xff\n")
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_bytes(b'{"id": "a", "text": "caf\xe9"}\n')
    queries = tmp_path / "queries.jsonl"
    queries.write_bytes(b'{"id": "q", "query": "caf\xe9", "gold_ids": ["a"]}\n')
    good_corpus = tmp_path / "good.jsonl"
    good_corpus.write_text('{"id": "a", "text": "a theorem"}\n')

    assert run_main(["generate", str(recipe), "--check"], monkeypatch, capsys) == (
        2,
        [f"error: {recipe}: not UTF-8 text (byte 0xff: invalid start byte); save it as UTF-8"],
    )
    bm25 = ["eval", "--retriever", "bm25", "--corpus"]
    status, lines = run_main([*bm25, str(corpus), "--queries", str(queries)], monkeypatch, capsys)
    assert (status, lines) == (2, [f"error: {corpus}: not UTF-8 text (byte 0xe9: invalid continuation byte); save it as UTF-8"])
    status, lines = run_main([*bm25, str(good_corpus), "--queries", str(queries)], monkeypatch, capsys)
    assert (status, lines) == (2, [f"error: {queries}: not UTF-8 text (byte 0xe9: invalid continuation byte); save it as UTF-8"])


def test_a_port_out_of_range_is_a_usage_error_naming_the_option(tmp_path, monkeypatch, capsys) -> None:
    status, lines = run_main(["review", "serve", "--port", "70000", "--state-dir", str(tmp_path / "state")], monkeypatch, capsys)
    assert status == 2 and "Invalid value for '--port'" in "\n".join(lines)
    assert not (tmp_path / "state").exists()  # refused before anything starts


def test_an_output_folder_that_cannot_be_made_is_named_before_the_pipeline_starts(tmp_path, monkeypatch, capsys) -> None:
    (tmp_path / "outputs").write_text("a file where the run folder's parent should be")
    monkeypatch.chdir(tmp_path)
    recipe = Path(__file__).resolve().parent.parent / "recipes" / "math.yaml"
    status, lines = run_main(["generate", str(recipe)], monkeypatch, capsys)
    assert status == 2 and lines[-1] in ("error: outputs/math: Not a directory", "error: outputs: File exists")


def test_a_full_disk_is_found_before_a_run_and_names_the_folder(tmp_path, monkeypatch) -> None:
    from rader_hub import files

    def full(handle, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "write", full)
    with pytest.raises(OSError) as error:
        files.check_writable_folder(tmp_path / "run")
    assert (error.value.errno, error.value.filename) == (errno.ENOSPC, str(tmp_path / "run"))
    assert list((tmp_path / "run").iterdir()) == []  # the probe file is gone


def test_an_atomic_write_on_a_full_disk_names_the_target_and_keeps_the_old_file(tmp_path, monkeypatch) -> None:
    from rader_hub import files

    target = tmp_path / "summary.json"
    files.write_json_atomic(target, {"rows": 1})

    def full(handle):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full)
    with pytest.raises(OSError) as error:
        files.write_json_atomic(target, {"rows": 2})
    assert (error.value.errno, error.value.filename) == (errno.ENOSPC, str(target))
    assert [path.name for path in tmp_path.iterdir()] == ["summary.json"] and files.read_json(target) == {"rows": 1}


def test_a_full_disk_without_a_file_name_is_status_2_and_points_at_the_traceback(monkeypatch, capsys) -> None:
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("rader_hub.generation.recipe.validate_recipe", full)
    status, lines = run_main(["generate", "recipes/math.yaml"], monkeypatch, capsys)
    assert status == 2 and len(lines) == 1
    assert lines[0].startswith("error: No space left on device while writing an output (which one: ")


def test_an_interrupt_ends_with_status_130_and_no_traceback(monkeypatch, capsys) -> None:
    monkeypatch.setenv("HF_TOKEN", CANARY)

    def interrupted(*args, **kwargs):
        token = CANARY  # noqa: F841 - a local holding the secret, as a publish's frames do
        raise KeyboardInterrupt

    monkeypatch.setattr("rader_hub.generation.recipe.validate_recipe", interrupted)
    monkeypatch.setattr(sys, "argv", ["rader", "generate", "recipes/math.yaml"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    err = capsys.readouterr().err
    # typer's click turns Ctrl-C into exit status 130 itself, with no traceback (so no locals) to print.
    assert exit_info.value.code == 130 and "Traceback" not in err and CANARY not in err
