"""Recipe validation: distilabel drops unknown YAML keys silently, so check before running.

Every step (and nested object with a ``type_info``, such as an LLM) is checked against the class
the recipe names: an unknown key or a value of the wrong type raises ConfigError naming the key's
path, e.g. ``steps[1] (mcts_search).rolouts: unknown key``.
"""

from __future__ import annotations

import difflib
import importlib
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from rader_hub.errors import ConfigError

_TOP_KEYS = {"distilabel", "pipeline", "requirements"}
_PIPELINE_KEYS = {"name", "description", "steps", "connections", "routing_batch_functions", "type_info"}
_SERIALISED_EXTRAS = {"type_info", "runtime_parameters_info"}


def load_recipe(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read recipe ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a recipe is a YAML mapping with a 'pipeline' key")
    return data


def validate_recipe(path: str | Path) -> dict[str, Any]:
    """Check a recipe file; return its parsed content. Raises ConfigError naming the bad key."""
    data = load_recipe(path)
    where = str(path)
    _unknown_keys(data, _TOP_KEYS, where)
    pipeline = data.get("pipeline")
    if not isinstance(pipeline, dict):
        raise ConfigError(f"{where}: missing 'pipeline' section")
    _unknown_keys(pipeline, _PIPELINE_KEYS, f"{where}: pipeline")
    steps = pipeline.get("steps")
    if not isinstance(steps, list) or not steps:
        raise ConfigError(f"{where}: pipeline.steps must be a non-empty list")
    for index, entry in enumerate(steps):
        if not isinstance(entry, dict) or not isinstance(entry.get("step"), dict):
            raise ConfigError(f"{where}: pipeline.steps[{index}] must be a mapping with a 'step' mapping")
        _unknown_keys(entry, {"step", "name"}, f"{where}: pipeline.steps[{index}]")
        step = entry["step"]
        _validate_object(step, f"{where}: pipeline.steps[{index}] ({step.get('name', '?')})")
    return data


def _unknown_keys(mapping: dict[str, Any], allowed: set[str], where: str) -> None:
    for key in mapping:
        if key not in allowed:
            raise ConfigError(f"{where}.{key}: unknown key{_did_you_mean(key, allowed)}")


def _did_you_mean(key: str, allowed: set[str]) -> str:
    close = difflib.get_close_matches(str(key), sorted(allowed), n=1)
    return f" (did you mean '{close[0]}'?)" if close else f" (valid keys: {', '.join(sorted(allowed))})"


def _class_of(type_info: Any, where: str) -> type[BaseModel]:
    if not isinstance(type_info, dict) or not {"module", "name"} <= set(type_info):
        raise ConfigError(f"{where}.type_info: needs 'module' and 'name'")
    try:
        cls = getattr(importlib.import_module(type_info["module"]), type_info["name"])
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"{where}.type_info: cannot import {type_info['module']}.{type_info['name']} ({exc})") from exc
    if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
        raise ConfigError(f"{where}.type_info: {type_info['name']} is not a distilabel step or model")
    return cls


def _validate_object(obj: dict[str, Any], where: str) -> None:
    cls = _class_of(obj.get("type_info"), where)
    fields = cls.model_fields
    _unknown_keys(obj, set(fields) | _SERIALISED_EXTRAS, where)
    for key, value in obj.items():
        if key in _SERIALISED_EXTRAS:
            continue
        if isinstance(value, dict) and "type_info" in value:
            _validate_object(value, f"{where}.{key}")
            continue
        try:
            TypeAdapter(fields[key].annotation).validate_python(value)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise ConfigError(f"{where}.{key}: {first['msg']} (got {value!r})") from None
        except Exception:  # annotations pydantic cannot build an adapter for are left to distilabel
            continue
