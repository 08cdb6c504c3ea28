"""Exceptions raised on bad user input; the CLI prints them as one line and exits non-zero."""


class RaderError(Exception):
    """Base class for errors that are the user's to fix (bad input, missing package).

    ``field``, when one input is at fault, names it as a Python caller passes it (a parameter or a
    config field: ``bf16``, ``out``, ``repo_id``). The message then starts with ``field=VALUE``,
    ``field:`` or ``field `` (one value), or with the key at fault (an input of several settings:
    ``params``, ``train``), never with a command-line flag: the CLI puts its flag there instead.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class DataError(RaderError):
    """A data file or dataset is malformed; the message names the source and row."""


class RowError(DataError):
    """One row's problem. ``kind`` names the problem without the row's particulars (ids, line
    numbers), so a file with many bad rows can report the first row of each kind."""

    def __init__(self, location: str, problem: str, kind: str | None = None) -> None:
        super().__init__(f"{location}: {problem}")
        self.location = location
        self.kind = kind or problem


class AssetError(RaderError):
    """A model or package could not be resolved; the message says what to install or pass."""


class ConfigError(RaderError):
    """A recipe or command-line option is invalid; the message names the key."""


class CardError(RaderError):
    """A dataset or model card's metadata does not validate; the message names the key."""


class HubError(RaderError):
    """The Hub (or the mirror at HF_ENDPOINT) could not be reached or refused a request; the message names the endpoint."""


class ServerError(RaderError):
    """A server the run needs (an OpenAI-compatible LLM server, the local Argilla) could not be
    started, does not answer, or does not serve what the run asks for; the message names its URL."""


def not_utf8(path: object, exc: UnicodeDecodeError) -> str:
    """The message for a text file that is not UTF-8: which file, and the first byte that is not."""
    return f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x}: {exc.reason}); save it as UTF-8"
