"""`rader generate`: validate a generation recipe, then run it (resumable)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from rader_hub.errors import ConfigError
from rader_hub.generation.recipe import validate_recipe


def _parse_params(params: list[str]) -> dict[str, dict]:
    """`step.field=value` (or `step.llm.field=value`) into distilabel's nested runtime parameters."""
    parameters: dict[str, dict] = {}
    for param in params:
        key, sep, raw = param.partition("=")
        parts = key.split(".")
        if not sep or len(parts) < 2 or not all(parts):
            raise ConfigError(f"--param {param!r}: expected STEP.FIELD=VALUE")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw  # plain strings need no quotes
        target = parameters.setdefault(parts[0], {})
        for part in parts[1:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    return parameters


def generate_command(
    recipe: Annotated[Path, typer.Argument(help="Recipe YAML, e.g. recipes/math.yaml.")],
    param: Annotated[list[str] | None, typer.Option("--param", help="Runtime parameter STEP.FIELD=VALUE (repeatable).")] = None,
    check: Annotated[bool, typer.Option("--check", help="Only validate the recipe.")] = False,
    ray: Annotated[bool, typer.Option("--ray", help="Run on Ray with distilabel's RayPipeline (a local Ray instance unless --ray-address).")] = False,
    ray_address: Annotated[str | None, typer.Option("--ray-address", help="Ray head node to connect to, e.g. ray://head:10001 (implies --ray).")] = None,
) -> None:
    """Validate RECIPE (unknown keys and wrong types are errors), then run it with distilabel.

    A killed run resumes when the same command is run again: finished problems are read back
    from the run folder's checkpoints (distilabel's own cache is not used: its resume hangs).
    """
    validate_recipe(recipe)
    parameters = _parse_params(param or [])
    if check:
        typer.echo(f"{recipe}: valid")
        return
    from distilabel.pipeline import Pipeline

    from rader_hub.generation.llm import check_llm_servers

    pipeline = Pipeline.from_yaml(recipe)
    unknown = set(parameters) - set(pipeline.dag)
    if unknown:
        raise ConfigError(f"--param: no step named {sorted(unknown)[0]!r} in {recipe} (steps: {', '.join(pipeline.dag)})")
    check_llm_servers(pipeline, parameters)  # one clear line now, not a failed step process later
    if ray or ray_address:
        _require_ray()
        pipeline = pipeline.ray(ray_head_node_url=ray_address)
    pipeline.run(parameters=parameters, use_cache=False)


def _require_ray() -> None:
    try:
        import ray  # noqa: F401
    except ImportError as exc:
        raise ConfigError('--ray needs Ray: pip install "rader-hub[ray]"') from exc
