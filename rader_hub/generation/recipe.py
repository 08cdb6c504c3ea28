"""Recipe validation: distilabel drops unknown YAML keys silently, so check before running.

Every step (and nested object with a ``type_info``, such as an LLM) is checked against the class
the recipe names: an unknown key or a value of the wrong type raises ConfigError naming the key's
path, e.g. ``steps[1] (mcts_search).rolouts: unknown key``, or its bounds (the fields' ``Field(ge=...)``
constraints, declared once on the step). ``--param`` options are checked the same way against the
steps' runtime parameters (:func:`parse_runtime_parameters`).
"""

from __future__ import annotations

import difflib
import importlib
import typing
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from rader_hub.errors import ConfigError, not_utf8
from rader_hub.overrides import parse_override, validated
from rader_hub.schema import DATA_FILE, RunFolder

_TOP_KEYS = {"distilabel", "pipeline", "requirements"}
_PIPELINE_KEYS = {"name", "description", "steps", "connections", "routing_batch_functions", "type_info"}
_SERIALISED_EXTRAS = {"type_info", "runtime_parameters_info"}


def load_recipe(path: str | Path) -> dict[str, Any]:
    """Read a recipe file as YAML, unchecked; ConfigError when it cannot be read or is not a mapping."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read recipe ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(not_utf8(path, exc)) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a recipe is a YAML mapping with a 'pipeline' key")
    return data


def validate_recipe(path: str | Path) -> dict[str, Any]:
    """Check a recipe file against the distilabel classes it names, before anything runs.

    Every step, and every nested object with a ``type_info`` (an LLM), is checked: unknown keys
    (with a "did you mean"), values of the wrong type and values out of the fields' bounds.

    Args:
        path: The recipe YAML file (as `rader generate` takes it, e.g. ``recipes/math_embedded.yaml``).

    Returns:
        `dict`: the parsed recipe, for `parse_runtime_parameters` and `dataset_path`.

    Raises:
        ConfigError: The file cannot be read, is not UTF-8 YAML, or has a bad key or value; the
            message names the key's path, e.g. ``steps[1] (mcts_search).rolouts: unknown key``.
    """
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
        with warnings.catch_warnings():
            # distilabel's RuntimeParameter alias makes pydantic warn at import, on every class
            # that uses it; errors must stay one line.
            warnings.filterwarnings("ignore", message=r"The 'default' attribute with value None")
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
            validated(declared_type(fields[key]), value, f"{where}.{key}")
        except ConfigError:
            raise
        except Exception:  # annotations pydantic cannot build an adapter for are left to distilabel
            continue


def parse_runtime_parameters(recipe: dict[str, Any], params: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Turn ``STEP.FIELD=VALUE`` settings into distilabel's nested runtime parameters, each checked.

    Each is checked like a recipe key before anything runs: the step must exist, FIELD must be one
    of its runtime parameters (``STEP.llm.FIELD`` for its LLM, ``STEP.llm.generation_kwargs.KEY``
    for sampling) and VALUE must have its type. VALUE is read as JSON when it parses (``3``,
    ``true``, ``[31, 50]``, ``null``), else as a plain string.

    Args:
        recipe: The recipe as `validate_recipe` returned it.
        params: ``STEP.FIELD=VALUE`` strings (`rader generate --param`), later ones winning.

    Returns:
        `dict`: step name -> its runtime parameters (nested as distilabel takes them), for `run_recipe`.

    Raises:
        ConfigError: A setting is not ``STEP.FIELD=VALUE``, names no step of the recipe or no
            runtime parameter of the step, or its value does not have the parameter's type
            (its ``field`` is ``params``).
    """
    steps = {entry["step"]["name"]: entry["step"] for entry in recipe["pipeline"]["steps"]}
    parameters: dict[str, dict[str, Any]] = {}
    for param in params:
        try:
            parts, value = _parsed_param(steps, param)
        except ConfigError as exc:
            raise ConfigError(str(exc), field="params") from None
        target = parameters.setdefault(parts[0], {})
        for part in parts[1:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    return parameters


def _parsed_param(steps: dict[str, dict[str, Any]], param: str) -> tuple[list[str], Any]:
    """One ``STEP.FIELD=VALUE`` string as its key's parts and its checked value."""
    key, value = parse_override(param, "STEP.FIELD=VALUE", "mcts_search.rollouts=2")
    parts = key.split(".")
    if parts[0] not in steps:
        raise ConfigError(f"{key}: no step named '{parts[0]}'{_did_you_mean(parts[0], set(steps))}")
    return parts, _checked_value(steps[parts[0]], parts[1:], value, key)


def _checked_value(step: dict[str, Any], path: list[str], value: Any, where: str) -> Any:
    """Walk the step's ``runtime_parameters_info`` along ``path``; validate ``value`` against the
    type of the field (or generate() argument) it reaches."""
    owner, infos = step, step.get("runtime_parameters_info") or []
    owner_class = _class_of(step["type_info"], where) if "type_info" in step else None
    for depth, name in enumerate(path):
        info = next((entry for entry in infos if entry.get("name") == name), None)
        if info is None:
            if name in owner.keys() - _SERIALISED_EXTRAS:
                raise ConfigError(f"{where}: '{name}' is not a runtime parameter: set it in the recipe file")
            names = {entry["name"] for entry in infos}
            sampling = next((entry for entry in infos if "keys" in entry), None)
            close = difflib.get_close_matches(name, [key["name"] for key in sampling["keys"]], n=1) if sampling else []
            hint = f" (did you mean '{'.'.join(path[:depth])}.{sampling['name']}.{close[0]}'?)" if close else _did_you_mean(name, names)
            raise ConfigError(f"{where}: '{name}' is not a runtime parameter{hint}")
        last = depth == len(path) - 1
        if "keys" in info:  # generation_kwargs: the generate() arguments, one (KEY=VALUE) or all ({...})
            keys = {entry["name"] for entry in info["keys"]}
            if last:
                if not isinstance(value, dict):
                    raise ConfigError(
                        f"{where}: expected a JSON object of generation keywords, or name one: "
                        f"{where}.KEY=VALUE (keywords: {', '.join(sorted(keys))})"
                    )
                return {key: _generation_keyword(owner, keys, key, item, f"{where}.{key}") for key, item in value.items()}
            if depth + 2 != len(path):
                raise ConfigError(f"{where}: '{path[depth + 1]}' is a generation keyword, not an object")
            return _generation_keyword(owner, keys, path[depth + 1], value, where)
        if "runtime_parameters_info" in info:  # a nested object: the LLM, or resources
            if last:
                raise ConfigError(f"{where}: '{name}' has fields of its own, e.g. {where}.{info['runtime_parameters_info'][0]['name']}=...")
            nested = owner.get(name) or {}
            owner, owner_class, infos = nested, _nested_class(owner_class, name, nested, where), info["runtime_parameters_info"]
            continue
        if not last:
            raise ConfigError(f"{where}: '{name}' is a value, not an object")
        field_info = owner_class.model_fields.get(name) if owner_class is not None else None
        return validated(declared_type(field_info) if field_info is not None else Any, value, where)
    raise AssertionError("unreachable: path is never empty")


def _nested_class(owner_class: type[BaseModel] | None, name: str, nested: dict[str, Any], where: str) -> type[BaseModel] | None:
    """The class of a nested object: its own ``type_info`` (an LLM) or, for one the recipe writes
    without it (a step's ``resources``), the owner's field annotation."""
    if "type_info" in nested:
        return _class_of(nested["type_info"], where)
    field_info = owner_class.model_fields.get(name) if owner_class is not None else None
    annotation = field_info.annotation if field_info is not None else None
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def declared_type(field_info: FieldInfo) -> Any:
    """A field's type with its constraints (``Field(ge=1)``): pydantic keeps those apart from ``annotation``."""
    return Annotated[(field_info.annotation, *field_info.metadata)] if field_info.metadata else field_info.annotation


def _generation_keyword(llm: dict[str, Any], keys: set[str], keyword: str, value: Any, where: str) -> Any:
    if keyword not in keys:
        raise ConfigError(f"{where}: '{keyword}' is not a generation keyword of this LLM{_did_you_mean(keyword, keys)}")
    return validated(_generate_annotation(llm, keyword, where), value, where)


def _generate_annotation(llm: dict[str, Any], keyword: str, where: str) -> Any:
    cls = _class_of(llm.get("type_info"), where)
    try:
        return typing.get_type_hints(cls.generate, include_extras=True).get(keyword, Any)
    except Exception:  # an annotation that cannot be resolved is left to the LLM
        return Any


def dataset_path(recipe: dict[str, Any]) -> Path | None:
    """Say where the recipe's SaveDataset step writes the dataset.

    Args:
        recipe: The recipe as `validate_recipe` returned it.

    Returns:
        `Path` or `None`: the absolute path of ``<output_dir>/data/train-00000-of-00001.parquet``,
        or ``None`` when the recipe has no SaveDataset step.
    """
    for entry in recipe["pipeline"]["steps"]:
        step = entry["step"]
        if (step.get("type_info") or {}).get("name") == "SaveDataset":
            return (RunFolder(step.get("output_dir") or "outputs/math").data_dir / DATA_FILE).resolve()
    return None
