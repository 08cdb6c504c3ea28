"""How a failed `rader` command reports itself: always one redacted line on stderr, never a traceback
with local variables (importing distilabel installs rich's traceback hook with ``show_locals=True``,
and a publish's locals hold the Hub token).

- the user's to fix (:class:`RaderError`, a file or folder that cannot be read or written): the
  message, with the flag in place of the library field it names (:data:`FLAGS`), exit status 2;
- anything else (a bug, a server answering what no one expected): its type and message, exit
  status 1, and the path of a log file (0600) that holds the full traceback, redacted and without
  locals.
"""

from __future__ import annotations

import errno
import os
import sys
import time
import traceback
from pathlib import Path

from rader_hub.errors import RaderError
from rader_hub.files import cache_dir, write_text_atomic
from rader_hub.redaction import redact

USER_ERROR_STATUS = 2
UNEXPECTED_ERROR_STATUS = 1
# Errors of the file system under a path the user named: theirs to fix, not a bug.
FILE_ERRNOS = {
    errno.EACCES,
    errno.EPERM,
    errno.EROFS,
    errno.ENOSPC,
    errno.EDQUOT,
    errno.ENOENT,
    errno.ENOTDIR,
    errno.EISDIR,
    errno.EEXIST,
    errno.ENAMETOOLONG,
}
# The flag that sets each input a library error may name (RaderError.field): a command-line user
# reads the flag they passed, a Python caller the field.
FLAGS = {
    "bf16": "--bf16",
    "eval_files": "--eval",
    "gpus": "--gpus",
    "license": "--license",
    "mini_batch_size": "--mini-batch-size",
    "name": "--name",
    "out": "--out",
    "out_dir": "--out",
    "params": "--param",
    "port": "--port",
    "ray": "--ray",
    "repo_id": "--repo",
    "resume": "--resume",
    "sample": "--sample",
    "state_dir": "--state-dir",
    "template": "--template",
    "train": "--train",
    "workspace": "--workspace",
}


def report(exc: BaseException) -> int:
    """Print ``exc`` as one line (plus a log path for unexpected errors) and return the exit status."""
    if isinstance(exc, RaderError):
        return _say(USER_ERROR_STATUS, flag_message(exc))
    if isinstance(exc, OSError) and exc.errno in FILE_ERRNOS:
        if exc.filename is not None:
            return _say(USER_ERROR_STATUS, file_error_message(exc))
        # A write that hit a full disk names no file (the stream was open already): the traceback says which.
        log = _save_traceback(exc)
        return _say(USER_ERROR_STATUS, f"{exc.strerror or os.strerror(exc.errno or 0)} while writing an output (which one: {log})")
    log = _save_traceback(exc)
    where = f"full traceback (secrets redacted): {log}" if log else "the traceback could not be saved (see the line above)"
    return _say(UNEXPECTED_ERROR_STATUS, f"unexpected {type(exc).__name__}: {_first_line(exc)}\n{where}")


def flag_message(exc: RaderError) -> str:
    """``exc``'s message as the command line says it: ``bf16=True needs ...`` -> ``--bf16 needs ...``,
    ``out=DIR: ...`` -> ``--out DIR: ...``, ``license: ...`` -> ``--license: ...``, and a message that
    starts with the key at fault (``epochs: ...``) after its flag (``--train epochs: ...``)."""
    message, field = str(exc), exc.field or ""
    flag = FLAGS.get(field)
    if flag is None:
        return message
    rest = message.removeprefix(field)
    if rest == message or rest[:1] not in ("=", ":", " "):  # it starts with the key at fault
        return f"{flag} {message}"
    if rest.startswith("=True"):  # a switch: the flag alone says it is on
        return flag + rest.removeprefix("=True")
    return f"{flag} {rest[1:]}" if rest.startswith("=") else flag + rest


def file_error_message(exc: OSError) -> str:
    """'PATH: No space left on device': the file or folder the system refused, and why."""
    return f"{exc.filename}: {exc.strerror or os.strerror(exc.errno or 0)}"


def _say(status: int, message: str) -> int:
    print(f"error: {redact(message)}", file=sys.stderr)
    return status


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else "(no message)"


def _save_traceback(exc: BaseException) -> Path | None:
    """The redacted traceback (frames and messages, no local variables) in rader-hub's log folder."""
    path = cache_dir("logs") / f"rader-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.log"
    text = f"rader {' '.join(sys.argv[1:])}\n\n" + "".join(traceback.format_exception(exc))
    try:
        write_text_atomic(path, redact(text), mode=0o600)
    except OSError:
        return None
    return path
