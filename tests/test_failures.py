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


@pytest.fixture
def record_factory():
    """redact_logs() replaces the process's log record factory: put the previous one back."""
    previous = logging.getLogRecordFactory()
    yield
    logging.setLogRecordFactory(previous)


def test_log_records_are_redacted_for_handlers_attached_later(monkeypatch, record_factory) -> None:
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


def test_an_unexpected_error_is_one_redacted_line_and_a_log_without_locals(monkeypatch, capsys, record_factory) -> None:
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
