"""What a file may say about the machine that made it once it leaves that machine: the one place
for that rule. Metadata (summaries, recipes, training records, the provenance columns of rows)
records absolute paths and the URLs of LLM servers, which locally say where things are; made
portable, an absolute path keeps only its last part (``/home/me/corpus.jsonl`` -> ``corpus.jsonl``)
and a URL becomes :data:`SERVER_URL`. Relative paths and Hub ids stay as they are.

Applied to metadata only: texts (problems, theorems) are data and are never rewritten.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

SERVER_URL = "<server>"
_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>]+")
# An absolute (or home-relative) POSIX path: a '/' or '~/' that does not continue a word, a
# relative path or a URL, up to whitespace or a delimiter.
_ABSOLUTE_PATH = re.compile(r"(?<![\w.~:/-])~?/(?=[\w.~@+-])[^\s\"'<>|;,()\[\]{}]*")


def local_details(text: str) -> list[str]:
    """The server URLs and absolute paths in ``text``, as written there."""
    urls = _URL.findall(text)
    return urls + _ABSOLUTE_PATH.findall(_URL.sub(SERVER_URL, text))


def portable_text(text: str) -> str:
    without_urls = _URL.sub(SERVER_URL, text)
    return _ABSOLUTE_PATH.sub(lambda match: PurePosixPath(match.group().rstrip("/")).name or match.group(), without_urls)


def portable(value: Any) -> Any:
    """``value`` (parsed JSON or YAML) with every string value made portable (keys are names)."""
    if isinstance(value, str):
        return portable_text(value)
    if isinstance(value, dict):
        return {key: portable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [portable(item) for item in value]
    return value


def local_details_in(value: Any) -> set[str]:
    """Every server URL and absolute path in ``value``'s string values."""
    if isinstance(value, str):
        return set(local_details(value))
    if isinstance(value, dict):
        return local_details_in(list(value.values()))
    if isinstance(value, (list, tuple)):
        return set().union(*(local_details_in(item) for item in value))
    return set()
