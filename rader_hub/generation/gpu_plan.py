"""Where a recipe's models go on N GPUs, checked before anything loads.

distilabel loads a pipeline in stages (a global step starts a new one) and places each LLM engine
of a stage on GPUs of its own: with ``cuda_devices: auto`` an engine takes the first devices no
other engine of the run holds, and one that finds none is left seeing every device, where it
fails for memory once it starts. :func:`plan_gpus` replays that placement for a recipe, its
``--param`` values and a GPU count, and raises ConfigError when an engine would find no device,
when engines sharing a device ask for more than all of its memory, or when tensor parallelism
asks for more devices than the step is given. Nothing is loaded and no GPU is needed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rader_hub.errors import ConfigError

# vLLM's own default share of a GPU's memory, when the recipe does not set one.
VLLM_DEFAULT_MEMORY_SHARE = 0.9


@dataclass(frozen=True)
class EnginePlacement:
    """One replica of a step's LLM engine and the devices it gets."""

    step: str
    replica: int
    engine: str
    model: str
    devices: tuple[int, ...]
    memory_share: float  # of each of its devices
    tensor_parallel: int
    beside: str | None  # an embedding model the same process loads on the same devices


@dataclass(frozen=True)
class StagePlan:
    number: int
    steps: tuple[str, ...]
    engines: tuple[EnginePlacement, ...]
    embedders: tuple[tuple[str, str], ...]  # (step, model) of steps that embed without an engine

    @property
    def devices(self) -> set[int]:
        return {device for engine in self.engines for device in engine.devices}


@dataclass(frozen=True)
class GpuPlan:
    gpus: int
    stages: tuple[StagePlan, ...]

    @property
    def engines(self) -> list[EnginePlacement]:
        return [engine for stage in self.stages for engine in stage.engines]

    def lines(self) -> list[str]:
        """The plan as a person reads it: one line per stage, one per engine or embedder in it."""
        out = [f"GPU plan for {self.gpus} GPU{'s' if self.gpus != 1 else ''}:"]
        for stage in self.stages:
            out.append(f"stage {stage.number}: {', '.join(stage.steps)}")
            for engine in stage.engines:
                devices = ",".join(str(device) for device in engine.devices)
                line = (
                    f"  {engine.step} (replica {engine.replica}): {engine.engine} {engine.model} on GPU {devices}, "
                    f"{engine.memory_share:.0%} of memory, tensor parallel {engine.tensor_parallel}"
                )
                if engine.beside:
                    line += f"; beside it: embedder {engine.beside} in the rest"
                out.append(line)
            out.extend(f"  {step}: embedder {model} on GPU 0 (sentence-transformers)" for step, model in stage.embedders)
        if not self.engines:
            out.append("no step loads an LLM engine on a GPU (a served LLM runs on its own server)")
        underused = [stage for stage in self.stages if stage.engines and len(stage.devices) < self.gpus]
        if underused:
            uses = ", ".join(f"stage {stage.number} uses {len(stage.devices)} of {self.gpus}" for stage in underused)
            steps = sorted({engine.step for stage in underused for engine in stage.engines})
            knobs = " and ".join(f"{step}.resources.replicas" for step in steps)
            out.append(f"GPUs idle ({uses}): raise {knobs} (one engine per replica, on GPUs of its own) to use them")
        return out


def plan_gpus(recipe: str | Path, parameters: dict[str, dict[str, Any]], gpus: int) -> GpuPlan:
    """Place every LLM engine of ``recipe`` (with ``parameters``, as parse_runtime_parameters
    returns them) on ``gpus`` devices as distilabel would. Raises ConfigError naming the steps
    when the plan cannot fit."""
    if gpus < 1:
        raise ConfigError(f"gpus={gpus}: at least 1", field="gpus")
    from distilabel.pipeline import Pipeline

    pipeline = Pipeline.from_yaml(str(recipe))
    stage_names, _ = pipeline.get_load_stages()
    steps = {name: pipeline.dag.get_step(name)["step"] for stage in stage_names for name in stage}
    for name, values in parameters.items():
        steps[name].set_runtime_parameters(values)
    stages = tuple(_plan_stage(number, [steps[name] for name in names], gpus) for number, names in enumerate(stage_names, 1))
    return GpuPlan(gpus=gpus, stages=stages)


def _plan_stage(number: int, steps: list[Any], gpus: int) -> StagePlan:
    wanted = [want for step in steps for want in _engine_wants(step)]
    taken: set[int] = set()
    for want in wanted:  # fixed devices first: auto placement only takes what they leave
        if want["devices"] is not None:
            bad = [device for device in want["devices"] if device >= gpus]
            if bad:
                raise ConfigError(f"{want['step']}.llm.cuda_devices: GPU {bad[0]} does not exist on {gpus} GPU(s) (0-{gpus - 1})")
            taken.update(want["devices"])
    engines = []
    for want in wanted:
        devices = want["devices"]
        if devices is None:
            free = [device for device in range(gpus) if device not in taken]
            if len(free) < want["count"]:
                replicas = {w["step"]: w["replica"] + 1 for w in wanted}
                described = " and ".join(f"{step} ({count} engine{'s' if count > 1 else ''})" for step, count in replicas.items())
                total = sum(w["count"] for w in wanted)
                raise ConfigError(
                    f"stage {number}: {described} load at once and need {total} GPUs, {gpus} given "
                    "(give them fixed llm.cuda_devices with memory shares that add up to at most 100%, or fewer resources.replicas)"
                )
            devices = tuple(free[: want["count"]])
            taken.update(devices)
        engines.append(
            EnginePlacement(
                step=want["step"],
                replica=want["replica"],
                engine=want["engine"],
                model=want["model"],
                devices=tuple(devices),
                memory_share=want["share"],
                tensor_parallel=want["tensor_parallel"],
                beside=want["beside"],
            )
        )
    _check_memory(number, engines)
    embedders = tuple((step.name, model) for step in steps if not _has_engine(step) for model in _embedders(step))
    return StagePlan(number=number, steps=tuple(step.name for step in steps), engines=tuple(engines), embedders=embedders)


def _engine_wants(step: Any) -> Iterable[dict[str, Any]]:
    """What each replica of the step's LLM engine asks for, by distilabel's rules: as many devices
    as ``resources.gpus`` (1 if unset), the recipe's ``cuda_devices`` or any free ones."""
    if not _has_engine(step):
        return []
    llm = step.llm
    extra = getattr(llm, "extra_kwargs", None) or {}
    count = step.resources.gpus or 1
    tensor_parallel = int(extra.get("tensor_parallel_size", 1))
    if tensor_parallel > count:
        raise ConfigError(
            f"{step.name}: llm.extra_kwargs.tensor_parallel_size is {tensor_parallel} but resources.gpus is {count}: "
            f"set {step.name}.resources.gpus={tensor_parallel}"
        )
    share = float(extra.get("gpu_memory_utilization", VLLM_DEFAULT_MEMORY_SHARE)) if type(llm).__name__ == "vLLM" else 1.0
    fixed = None if llm.cuda_devices == "auto" or llm.disable_cuda_device_placement else tuple(llm.cuda_devices)
    beside = next(iter(_embedders(step)), None)
    return [
        {
            "step": step.name,
            "replica": replica,
            "engine": type(llm).__name__,
            "model": llm.model_name,
            "count": count,
            "devices": fixed,
            "share": share,
            "tensor_parallel": tensor_parallel,
            "beside": beside,
        }
        for replica in range(step.resources.replicas or 1)
    ]


def _has_engine(step: Any) -> bool:
    """An LLM that distilabel places on CUDA devices (vLLM, transformers on GPU), not a server client."""
    from distilabel.models.mixins.cuda_device_placement import CudaDevicePlacementMixin

    return isinstance(getattr(step, "llm", None), CudaDevicePlacementMixin)


def _embedders(step: Any) -> list[str]:
    """Embedding models the step loads with sentence-transformers (dense retriever or miner)."""
    uses_dense = getattr(step, "retriever", None) in ("dense", "hybrid") or "dense" in (getattr(step, "lexical_miners", None) or [])
    return [step.embedder] if uses_dense and getattr(step, "embedder", None) else []


def _check_memory(number: int, engines: list[EnginePlacement]) -> None:
    on_device: dict[int, list[EnginePlacement]] = defaultdict(list)
    for engine in engines:
        for device in engine.devices:
            on_device[device].append(engine)
    for device, sharing in sorted(on_device.items()):
        total = sum(engine.memory_share for engine in sharing)
        if total > 1.0 + 1e-9:
            names = " and ".join(f"{engine.step} (replica {engine.replica}, {engine.memory_share:.0%})" for engine in sharing)
            raise ConfigError(f"stage {number}: GPU {device} is shared by {names}: {total:.0%} of its memory asked for")
