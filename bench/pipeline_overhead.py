"""Benchmark: the generation recipe's wall time vs the same prompts sent straight to the engine.

1. The recipe (recipes/math.yaml by default) runs as `rader generate` runs it (validated, then
   ``rader_hub.generation.run_recipe.run_recipe``: the real distilabel pipeline, one process per step), with
   small ``--param`` settings. Its LLMs are swapped, in a copy of the recipe, for ``RecordingLLM``: the
   same ``LocalTransformersLLM`` that also writes every ``generate`` call (prompts, token budgets,
   sampling keywords), the seconds it took and its completions to a JSON-lines file per step.
2. The recorded calls are replayed in this process, step by step in pipeline order, on a fresh
   ``LocalTransformersLLM`` per step with the recipe's settings (same seed, so sampling draws the same
   numbers): ``engine_s`` is the time of those ``generate`` calls alone, ``load_s`` of loading the models.

``pipeline_s / engine_s`` is the pipeline's overhead ratio: everything besides generating text (process
start-up, model and corpus loading, retrieval, the search's bookkeeping, query filters, hard-negative
mining with the dense miner, checkpoints, writing the dataset). ``engine_in_pipeline_s`` (the recorded
calls' own seconds) tells apart overhead around the engine from an engine that runs slower inside the
pipeline; ``same_completions`` counts replayed completions equal to the pipeline's (the replay did the
same work). Caches (the dequantised generator, the corpus embeddings) are warmed before timing.

Prints the pipeline's progress, one JSON line per replayed step, then a summary line last.
Usage: python bench/pipeline_overhead.py [--recipe recipes/math.yaml] [--param STEP.FIELD=VALUE ...] [--repeats 1]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from machine import machine_fields
from pydantic import Field
from tqdm import tqdm

from rader_hub.corpus import load_corpus
from rader_hub.embedded_data import resolve_source
from rader_hub.errors import RaderError
from rader_hub.generation.llm import LocalTransformersLLM, generator_folder
from rader_hub.generation.recipe import parse_runtime_parameters, validate_recipe
from rader_hub.generation.run_recipe import run_recipe
from rader_hub.retrieval import DenseRetriever

REPO = Path(__file__).resolve().parent.parent
# 2 problems, 2 rollouts and smaller token budgets than the recipe's: minutes on 2 cores.
SMALL = [
    "load_problems.num_problems=2",
    "mcts_search.rollouts=2",
    "mcts_search.step_tokens=32",
    "mcts_search.solution_tokens=48",
    "mcts_search.query_tokens=48",
    "synthesize_queries.query_tokens=32",
]
# The distilabel processes import this file as a module (type_info below); sys.path[0] is bench/.
MODULE = Path(__file__).stem


class RecordingLLM(LocalTransformersLLM):
    """``LocalTransformersLLM`` that appends each ``generate`` call and its completions to ``record_to``."""

    record_to: str = Field(description="JSON-lines file the calls are appended to.")

    @functools.wraps(LocalTransformersLLM.generate)  # distilabel reads the generation keywords from the signature
    def generate(self, inputs: list[Any], **keywords: Any) -> list[dict[str, Any]]:
        self.load()  # outside the timed call: loading is not generating
        started = time.perf_counter()
        outputs = super().generate(inputs, **keywords)
        seconds = time.perf_counter() - started
        call = {"inputs": inputs, "keywords": keywords, "seconds": seconds, "completions": [output["generations"] for output in outputs]}
        with open(self.record_to, "a", encoding="utf-8") as stream:
            stream.write(json.dumps(call) + "\n")
        return outputs


def recording_recipe(recipe: Path, folder: Path) -> tuple[Path, dict[str, dict[str, Any]]]:
    """A copy of ``recipe`` writing under ``folder``, each LLM a ``RecordingLLM``; the LLM settings by step."""
    data = validate_recipe(recipe)
    llms = {}
    for entry in data["pipeline"]["steps"]:
        step = entry["step"]
        if "output_dir" in step:
            step["output_dir"] = str(folder / "outputs")
        llm = step.get("llm")
        if llm is None:
            continue
        if llm["type_info"]["name"] != LocalTransformersLLM.__name__:
            kind = llm["type_info"]["name"]
            raise SystemExit(f"{recipe}: step {step['name']} uses {kind}; this benchmark replays LocalTransformersLLM calls")
        llms[step["name"]] = {key: value for key, value in llm.items() if key not in {"type_info", "runtime_parameters_info"}}
        llm["type_info"] = {"module": MODULE, "name": RecordingLLM.__name__}
        llm["record_to"] = str(folder / f"calls-{step['name']}.jsonl")
    copy = folder / "recipe.yaml"
    copy.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    validate_recipe(copy)  # the recording LLM is checked like any other
    return copy, llms


def replay(step: str, settings: dict[str, Any], overrides: dict[str, Any], calls: list[dict]) -> dict[str, Any]:
    """The step's recorded calls, straight to a fresh engine with the step's LLM settings."""
    llm = LocalTransformersLLM(**{**settings, **{key: value for key, value in overrides.items() if key != "generation_kwargs"}})
    started = time.perf_counter()
    llm.load()
    load_seconds = time.perf_counter() - started
    engine_seconds, same, completions = 0.0, 0, 0
    for call in tqdm(calls, desc=f"replaying {step}", unit="call"):
        started = time.perf_counter()
        outputs = llm.generate(call["inputs"], **call["keywords"])
        engine_seconds += time.perf_counter() - started
        replayed = [output["generations"] for output in outputs]
        same += sum(a == b for recorded, mine in zip(call["completions"], replayed) for a, b in zip(recorded, mine))
        completions += sum(len(recorded) for recorded in call["completions"])
    return {
        "step": step,
        "calls": len(calls),
        "prompts": sum(len(call["inputs"]) for call in calls),
        "load_s": round(load_seconds, 2),
        "engine_s": round(engine_seconds, 2),
        "engine_in_pipeline_s": round(sum(call["seconds"] for call in calls), 2),
        "completions": completions,
        "same_completions": same,
    }


def one_round(recipe_path: Path, params: list[str]) -> dict[str, Any]:
    """Run the recipe once, recording its calls, then replay them: the round's timings."""
    with tempfile.TemporaryDirectory(prefix="rader-bench-pipeline-") as scratch:
        folder = Path(scratch)
        os.environ["DISTILABEL_CACHE_DIR"] = str(folder / "distilabel")
        recipe, llms = recording_recipe(recipe_path, folder)
        parameters = parse_runtime_parameters(validate_recipe(recipe), params)
        started = time.perf_counter()
        run_recipe(recipe, parameters)
        pipeline_seconds = time.perf_counter() - started
        summary = json.loads((folder / "outputs" / "summary.json").read_text(encoding="utf-8"))
        steps = []
        for step, settings in llms.items():
            record = folder / f"calls-{step}.jsonl"
            calls = [json.loads(line) for line in record.read_text(encoding="utf-8").splitlines()] if record.is_file() else []
            steps.append(replay(step, settings, parameters.get(step, {}).get("llm", {}), calls))
            print(json.dumps(steps[-1]), flush=True)
    return {
        "pipeline_s": pipeline_seconds,
        "summary": summary,
        "steps": steps,
        **{
            key: sum(step[key] for step in steps)
            for key in ("engine_s", "load_s", "engine_in_pipeline_s", "calls", "prompts", "completions", "same_completions")
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", type=Path, default=REPO / "recipes" / "math.yaml")
    parser.add_argument("--param", action="append", default=[], help=f"STEP.FIELD=VALUE, after the defaults {' '.join(SMALL)}")
    parser.add_argument("--repeats", type=int, default=1, help="rounds of pipeline then replay; each timing keeps its best round")
    args = parser.parse_args()
    params = SMALL + args.param
    try:  # a bad recipe or --param fails here, in one line, before anything runs
        parse_runtime_parameters(validate_recipe(args.recipe), params)
    except RaderError as exc:
        parser.error(str(exc))
    generator_folder()  # warm caches: the dequantised generator and the corpus embeddings of the dense miner
    DenseRetriever(load_corpus(resolve_source("embedded", "theorems")))

    load_before = os.getloadavg()
    rounds = []
    for number in range(args.repeats):
        rounds.append(one_round(args.recipe, params))
        print(
            json.dumps(
                {
                    "round": number,
                    **{key: round(rounds[-1][key], 2) for key in ("pipeline_s", "engine_s", "engine_in_pipeline_s")},
                    "load_average_1min": round(os.getloadavg()[0], 2),
                }
            ),
            flush=True,
        )
    # Seeded sampling: every round makes the same calls (same_completions says so), so each timing keeps its best.
    pipeline, engine, loads, inside = (min(r[key] for r in rounds) for key in ("pipeline_s", "engine_s", "load_s", "engine_in_pipeline_s"))
    last = rounds[-1]
    print(
        f"pipeline {pipeline:.1f} s; the same calls straight to the engine {engine:.1f} s (+{loads:.1f} s loading the models): "
        f"overhead ratio {pipeline / engine:.2f}x; the engine inside the pipeline took {inside:.1f} s"
    )
    print(
        json.dumps(
            {
                "bench": "pipeline_overhead",
                "recipe": str(args.recipe),
                "params": params,
                "repeats": args.repeats,
                **machine_fields(load_before),
                "problems": last["summary"].get("problems"),
                "rollouts": last["summary"].get("rollouts"),
                "rows": last["summary"].get("rows"),
                "calls": last["calls"],
                "prompts": last["prompts"],
                "pipeline_s": round(pipeline, 2),
                "engine_s": round(engine, 2),
                "load_s": round(loads, 2),
                "engine_in_pipeline_s": round(inside, 2),
                "overhead_ratio": round(pipeline / engine, 2),
                "overhead_ratio_with_model_loads": round(pipeline / (engine + loads), 2),
                "non_engine_share_of_pipeline": round(1 - inside / pipeline, 3),
                "same_completions": sum(r["same_completions"] for r in rounds),
                "completions": sum(r["completions"] for r in rounds),
            }
        )
    )


if __name__ == "__main__":
    main()
