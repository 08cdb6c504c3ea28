"""Keeping secrets out of uploads and logs: the Hugging Face token, and the other service keys a
rader-hub user holds in the environment (Argilla, OpenAI-compatible servers)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path

SECRET_VARIABLES = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "ARGILLA_API_KEY", "OPENAI_API_KEY")
REDACTED = "***"
_MIN_SECRET_LENGTH = 8  # shorter values ("EMPTY", "none") would redact ordinary words


def secret_values() -> list[str]:
    """The secrets in this process's environment, and the stored Hub login token."""
    from huggingface_hub import get_token

    values = {os.environ.get(name, "") for name in SECRET_VARIABLES} | {get_token() or ""}
    return sorted((value for value in values if len(value) >= _MIN_SECRET_LENGTH), key=len, reverse=True)


def redact(text: str) -> str:
    for value in secret_values():
        text = text.replace(value, REDACTED)
    return text


def files_with_secrets(folder: Path) -> list[str]:
    """Files under ``folder`` that contain a secret (relative paths)."""
    return files_containing(folder, secret_values())


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


class _RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def redact_logs() -> None:
    """Scrub secrets from every log line (and warning) this process prints from now on. Libraries
    such as huggingface_hub attach their own handlers, so every handler gets the filter."""
    import huggingface_hub  # noqa: F401 (its logger and handler exist once it is imported)

    logging.captureWarnings(True)  # huggingface_hub reports some server answers as warnings
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    loggers = [logging.getLogger()] + [logger for logger in logging.root.manager.loggerDict.values() if isinstance(logger, logging.Logger)]
    for logger in loggers:
        for handler in logger.handlers:
            if not any(isinstance(existing, _RedactingFilter) for existing in handler.filters):
                handler.addFilter(_RedactingFilter())
