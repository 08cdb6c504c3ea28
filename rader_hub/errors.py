"""Exceptions raised on bad user input; the CLI prints them as one line and exits non-zero."""


class RaderError(Exception):
    """Base class for errors that are the user's to fix (bad input, missing package)."""


class DataError(RaderError):
    """A data file or dataset is malformed; the message names the source and row."""


class AssetError(RaderError):
    """A model or package could not be resolved; the message says what to install or pass."""


class ConfigError(RaderError):
    """A recipe or command-line option is invalid; the message names the key."""


class ServerError(RaderError):
    """A server the run needs (an OpenAI-compatible LLM server) does not answer or does not serve
    what the run asks for; the message names its URL."""
