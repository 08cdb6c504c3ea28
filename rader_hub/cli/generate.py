"""`rader generate`: validate a generation recipe, then run it (resumable)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rader_hub.errors import ConfigError
from rader_hub.generation.recipe import dataset_path, parse_runtime_parameters, validate_recipe


def generate_command(
    recipe: Annotated[Path, typer.Argument(help="Recipe YAML, e.g. recipes/math.yaml.")],
    param: Annotated[list[str] | None, typer.Option("--param", help="Runtime parameter STEP.FIELD=VALUE (repeatable).")] = None,
    check: Annotated[bool, typer.Option("--check", help="Only check the recipe and the --param options.")] = False,
    ray: Annotated[bool, typer.Option("--ray", help="Run on Ray with distilabel's RayPipeline (a local Ray instance unless --ray-address).")] = False,
    ray_address: Annotated[str | None, typer.Option("--ray-address", help="Ray head node to connect to, e.g. ray://head:10001 (implies --ray).")] = None,
) -> None:
    """Validate RECIPE and every --param (unknown keys and wrong types are errors), then run it with distilabel.

    A killed run resumes when the same command is run again: finished problems are read back
    from the run folder's checkpoints (distilabel's own cache is not used: its resume hangs).
    """
    data = validate_recipe(recipe)
    parameters = parse_runtime_parameters(data, param or [])
    if check:
        typer.echo(f"{recipe}: valid" + (f" (with {len(param or [])} --param)" if param else ""))
        return
    from distilabel.pipeline import Pipeline

    from rader_hub.generation.llm import check_llm_servers

    pipeline = Pipeline.from_yaml(recipe)
    check_llm_servers(pipeline, parameters)  # one clear line now, not a failed step process later
    destination = dataset_path(data)
    if destination is not None:
        typer.echo(f"rader generate: the dataset will be written to {destination}", err=True)
    if ray or ray_address:
        _require_ray()
        pipeline = pipeline.ray(ray_head_node_url=ray_address)
    pipeline.run(parameters=parameters, use_cache=False)
    if destination is not None and destination.is_file():
        typer.echo(f"rader generate: dataset written to {destination} (summary: {destination.parent.parent / 'summary.json'})", err=True)


def _require_ray() -> None:
    try:
        import ray  # noqa: F401
    except ImportError as exc:
        raise ConfigError('--ray needs Ray: pip install "rader-hub[ray]"') from exc
