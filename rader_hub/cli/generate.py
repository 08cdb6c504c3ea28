"""`rader generate`: validate a generation recipe, then run it (resumable)."""

from __future__ import annotations

from typing import Annotated

import typer

from rader_hub.cli.options import ParamOption, RecipeArgument


def generate_command(
    recipe: RecipeArgument,
    param: ParamOption = None,
    check: Annotated[bool, typer.Option("--check", help="Only check the recipe and the --param options.")] = False,
    ray: Annotated[
        bool, typer.Option("--ray", help="Run on Ray with distilabel's RayPipeline (a local Ray instance unless --ray-address).")
    ] = False,
    gpus: Annotated[
        int | None,
        typer.Option("--gpus", min=1, help="Plan the run for N GPUs: print which step loads which model where; stop if it cannot fit."),
    ] = None,
    ray_address: Annotated[
        str | None, typer.Option("--ray-address", help="Ray head node to connect to, e.g. ray://head:10001 (implies --ray).")
    ] = None,
) -> None:
    """Validate RECIPE and every --param (unknown keys and wrong types are errors), then run it with distilabel.

    A killed run resumes when the same command is run again: finished problems are read back
    from the run folder's checkpoints (distilabel's own cache is not used: its resume hangs).
    """
    from rader_hub.generation.recipe import dataset_path, parse_runtime_parameters, validate_recipe
    from rader_hub.generation.run_recipe import run_recipe

    data = validate_recipe(recipe)
    parameters = parse_runtime_parameters(data, param or [])
    if gpus is not None:
        from rader_hub.generation.gpu_plan import plan_gpus

        for line in plan_gpus(recipe, parameters, gpus).lines():
            typer.echo(line, err=not check)
    if check:
        typer.echo(f"{recipe}: valid" + (f" (with {len(param or [])} --param)" if param else ""))
        return
    destination = dataset_path(data)
    if destination is not None:
        typer.echo(f"rader generate: the dataset will be written to {destination}", err=True)
    run_recipe(recipe, parameters, ray=ray, ray_address=ray_address)
    if destination is not None and destination.is_file():
        typer.echo(f"rader generate: dataset written to {destination} (summary: {destination.parent.parent / 'summary.json'})", err=True)
