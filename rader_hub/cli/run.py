"""`rader run`: generate, (review), train, evaluate and publish in one command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from rader_hub.assets import EMBEDDED
from rader_hub.cli.options import ParamOption, RecipeArgument
from rader_hub.overrides import parse_override
from rader_hub.run.main_job import DRY_RUN_REPO, MainJob, MainJobOptions, ReviewMode, format_duration


def run_command(
    recipe: RecipeArgument,
    param: ParamOption = None,
    review: Annotated[
        ReviewMode, typer.Option("--review", help="Human review in Argilla: skip it, push the pairs, or push and wait for every answer.")
    ] = ReviewMode.skip,
    review_sample: Annotated[
        int | None, typer.Option("--review-sample", min=1, help="With --review push|wait: push N judged pairs (stratified); default all.")
    ] = None,
    train: Annotated[
        list[str] | None,
        typer.Option("--train", help="Training setting FIELD=VALUE (repeatable), e.g. --train epochs=2 --train max_seq_length=128."),
    ] = None,
    eval_corpus: Annotated[
        str, typer.Option("--eval-corpus", help="Evaluation corpus (default: the embedded TheoremQA theorems).")
    ] = EMBEDDED,
    eval_queries: Annotated[
        str, typer.Option("--eval-queries", help="Evaluation queries with gold_ids (default: the embedded dev set).")
    ] = EMBEDDED,
    bright: Annotated[
        list[str] | None, typer.Option("--bright", help="Also evaluate on these BRIGHT splits (repeatable, or 'all'; needs the Hub).")
    ] = None,
    repo: Annotated[
        str | None,
        typer.Option("--repo", help="Publish for real: the model to ORG/NAME, the dataset to ORG/NAME-<recipe>. Default: render only."),
    ] = None,
    dataset_repo: Annotated[str | None, typer.Option("--dataset-repo", help="The dataset's repo (default ORG/NAME-<recipe>).")] = None,
    private: Annotated[bool, typer.Option("--private", help="Create the Hub repos private.")] = False,
    ray: Annotated[bool, typer.Option("--ray", help="Generate on Ray (distilabel's RayPipeline).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run summary as JSON instead of a table.")] = False,
) -> None:
    """From math problems to an evaluated, publishable retriever: generate -> review -> train -> evaluate -> publish.

    Each stage is also a command of its own (rader generate / review / train retriever / eval / publish).
    A re-run skips finished stages whose settings did not change; a killed run picks up where it stopped.
    """
    options = MainJobOptions(
        recipe=recipe,
        params=tuple(param or ()),
        review=review,
        review_sample=review_sample,
        train=dict(parse_override(item, "FIELD=VALUE", "epochs=2", field="train") for item in train or []),
        eval_corpus=eval_corpus,
        eval_queries=eval_queries,
        bright=tuple(bright or ()),
        repo=repo,
        dataset_repo=dataset_repo,
        private=private,
        ray=ray,
    )
    summary = MainJob(options, say=lambda message: typer.echo(message, err=True)).run()
    typer.echo(json.dumps(summary, indent=1) if as_json else format_summary(summary))


def format_summary(summary: dict[str, Any]) -> str:
    """One screen: rows per query type, training loss, the evaluation table, where everything is."""
    from rader_hub.evaluation.metrics import METRIC_NAMES, informative_metrics  # numpy: after the run only

    stages = "  ".join(f"{s['name']} {'skipped' if s['skipped'] else format_duration(s['seconds'])}" for s in summary["stages"])
    training, publish = summary["training"], summary["publish"]
    runs = {name: run for name, run in summary["evaluation"].items() if "ndcg@10" in run}
    keys = informative_metrics(max((run.get("most_gold", 0) for run in runs.values()), default=0))
    lines = [
        f"rader run {summary['recipe']}: {stages}",
        f"dataset: {summary['rows']} rows " + ", ".join(f"{k} {v}" for k, v in (summary["rows_per_query_type"] or {}).items()),
        f"training: {training['steps']} steps on {training['train_rows']} rows, final loss "
        + (f"{training['final_train_loss']:.4f}" if training["final_train_loss"] is not None else "n/a"),
        "",
        f"{'evaluated on ' + _eval_source(summary):<40} " + " ".join(f"{METRIC_NAMES[key]:>10}" for key in keys),
    ]
    for name, run in runs.items():
        lines.append(f"  {name + ': ' + run['label']:<38} " + " ".join(f"{run[key]:>10.4f}" for key in keys))
    lines += ["", f"run folder: {summary['run_folder']}"]
    lines.append(f"  model: {training['model']}   loss curve: {training.get('loss_curve')}")
    lines.append(f"  evaluation chart: {summary['evaluation_chart']}")
    folders = publish["folders"]
    if publish["uploaded"]:
        made_private = publish.get("made_private") or []
        lines += [
            f"  published {kind}: {url}" + (" (the repo was public: made it private)" if kind in made_private else "")
            for kind, url in publish["commits"].items()
        ]
    else:
        repos = publish["repos"]
        placeholder = " (placeholder repo ids: pass --repo ORG/NAME)" if repos["model"].startswith(DRY_RUN_REPO) else ""
        lines.append(f"  publishable folders (dry run{placeholder}): {folders['dataset']}, {folders['model']}")
    lines.append(f"  summary: {Path(summary['run_folder']) / 'run_summary.json'}")
    return "\n".join(lines)


def _eval_source(summary: dict[str, Any]) -> str:
    first = next(iter(summary["evaluation"].values()))
    settings = first["settings"]
    return "TheoremQA dev" if settings.get("queries") == EMBEDDED else str(settings.get("queries"))
