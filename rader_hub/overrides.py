"""Settings given on top of a recipe or a config as ``FIELD=VALUE`` (``--param STEP.FIELD=VALUE``,
``--train FIELD=VALUE``): one reading of the item and its value, one check of the value against its
field's type, and errors that name the item."""

from __future__ import annotations

import json
from typing import Any

from pydantic import TypeAdapter, ValidationError

from rader_hub.errors import ConfigError


def parse_override(item: str, form: str, example: str, field: str | None = None) -> tuple[str, Any]:
    """``item``'s key (before the first ``=``) and value (after it), read as JSON when it parses
    (``3``, ``true``, ``[31, 50]``, ``null``), else as a plain string: plain strings need no quotes.

    ``form`` is what ``item`` must look like, e.g. ``STEP.FIELD=VALUE``: the key needs at least as
    many dot-separated names as it shows, none empty. Raises ConfigError (with ``field``) naming
    ``item`` otherwise, with ``example`` as a well-formed one."""
    key, sep, raw = item.partition("=")
    names = key.split(".")
    if not sep or not all(names) or len(names) < len(form.partition("=")[0].split(".")):
        raise ConfigError(f"{item!r}: expected {form}, e.g. {example}", field=field)
    try:
        return key, json.loads(raw)
    except json.JSONDecodeError:
        return key, raw


def validated(annotation: Any, value: Any, where: str, field: str | None = None) -> Any:
    """``value`` as the type ``annotation`` makes it, constraints (``Field(ge=1)``) included. Raises
    ConfigError (with ``field``) naming ``where``, pydantic's reason and the value when it does not fit."""
    try:
        return TypeAdapter(annotation).validate_python(value)
    except ValidationError as exc:
        raise ConfigError(f"{where}: {exc.errors()[0]['msg']} (got {value!r})", field=field) from None
