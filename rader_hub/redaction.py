"""Keeping secrets out of uploads and logs: the Hugging Face token, and the other service keys a
rader-hub user holds in the environment (Argilla, OpenAI-compatible servers)."""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

SECRET_VARIABLES = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "ARGILLA_API_KEY", "OPENAI_API_KEY")
REDACTED = "***"
_MIN_SECRET_LENGTH = 8  # shorter values ("EMPTY", "none") would redact ordinary words


def secret_values(stored_token: bool = False) -> list[str]:
    """The secrets in this process's environment, and the stored Hub login token when asked for or once
    huggingface_hub is loaded (a process that never loaded it never read the token; `rader --help` stays light)."""
    values = {os.environ.get(name, "") for name in SECRET_VARIABLES}
    if stored_token or "huggingface_hub" in sys.modules:
        from huggingface_hub import get_token

        values.add(get_token() or "")
    return sorted((value for value in values if len(value) >= _MIN_SECRET_LENGTH), key=len, reverse=True)


def redact(text: str) -> str:
    for value in secret_values():
        text = text.replace(value, REDACTED)
    return text


def files_with_secrets(folder: Path) -> list[str]:
    """Files under ``folder`` that contain a secret (relative paths)."""
    return files_containing(folder, secret_values(stored_token=True))


def files_containing(folder: Path, texts: Iterable[str]) -> list[str]:
    """Files under ``folder`` that contain any of ``texts`` (relative paths): every byte is read, in chunks."""
    needles = [text.encode() for text in texts if text]
    if not needles:
        return []
    overlap = max(len(needle) for needle in needles) - 1
    found = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and _contains_any(path, needles, overlap):
            found.append(path.relative_to(folder).as_posix())
    return found


def _contains_any(path: Path, needles: list[bytes], overlap: int, chunk_size: int = 8 << 20) -> bool:
    tail = b""
    with path.open("rb") as stream:
        while chunk := stream.read(chunk_size):
            window = tail + chunk
            if any(needle in window for needle in needles):
                return True
            tail = window[-overlap:] if overlap else b""
    return False


def redact_logs() -> None:
    """Scrub secrets from every log record this process creates from now on, and from those of the
    worker processes it forks (distilabel's steps). Done where records are made, not in handlers:
    libraries (huggingface_hub, distilabel) attach and replace their own handlers at any time.
    Warnings are routed through logging, so they are scrubbed too."""
    make_record = logging.getLogRecordFactory()
    if isinstance(make_record, _RedactingRecordFactory):
        return
    logging.setLogRecordFactory(_RedactingRecordFactory(make_record))
    logging.captureWarnings(True)  # huggingface_hub reports some server answers as warnings


class _RedactingRecordFactory:
    def __init__(self, make_record: Callable[..., logging.LogRecord]) -> None:
        self.make_record = make_record

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.make_record(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not format: logging reports that itself, when a handler formats it
            return record
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info:  # a logged exception: its text redacted, and no frame objects left for a handler to show locals of
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
            record.exc_info = None
        return record
