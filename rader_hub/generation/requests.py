"""Completions for many independent searches, each handed back as soon as it is ready.

A search submits one prompt at a time (chat messages and a token budget) and gets a ticket; it
collects completions by ticket, never by their order, so what a search does next depends only on its
own results, whichever request finishes first. Two ways to serve the prompts:

- :class:`ConcurrentCompletions`, for LLMs that take concurrent requests (distilabel's ``AsyncLLM``:
  an OpenAI-compatible server such as ``vllm serve`` or ``transformers serve --continuous-batching``).
  Each prompt is its own request through the LLM's ``agenerate``, at most ``max_concurrent_requests``
  in flight, and :meth:`~ConcurrentCompletions.collect` returns as soon as any of them is done: a
  search moves on while the others' requests are still running, so the server's continuous batching
  always has work, instead of idling while the longest completion of a synchronous round finishes.
- :class:`BatchedCompletions`, for LLMs that batch a call's prompts themselves (the local CPU engine,
  vLLM offline): :meth:`~BatchedCompletions.collect` sends every pending prompt in one call.

:func:`completions_for` picks the one that suits a distilabel LLM.

Example::

    completions = completions_for(llm, max_concurrent_requests=64)
    waiting = {completions.submit(messages, 256): node for messages, node in expansions}
    while waiting:
        for ticket, text in completions.collect().items():
            waiting.pop(ticket)  # ... and hand `text` to the search that asked for it
"""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from collections.abc import Callable
from typing import Any, Protocol

from distilabel.models.llms.base import LLM, AsyncLLM

from rader_hub.generation.prompts import Messages

# Requests in flight at once unless a step's `max_concurrent_requests` says otherwise.
MAX_CONCURRENT_REQUESTS = 64

# One completion per prompt within that prompt's token budget, None where the backend produced nothing.
BatchGenerator = Callable[[list[Messages], list[int]], list[str | None]]


class Completions(Protocol):
    def submit(self, messages: Messages, max_new_tokens: int) -> int:
        """Queue a prompt; returns its ticket."""
        ...

    def collect(self) -> dict[int, str | None]:
        """Completions by ticket: at least one when any prompt is pending, none when none is."""
        ...


def takes_concurrent_requests(llm: LLM) -> bool:
    """Whether ``llm`` is served best by :class:`ConcurrentCompletions` (else :class:`BatchedCompletions`)."""
    return isinstance(llm, AsyncLLM) and not llm.use_offline_batch_generation


class ConcurrentCompletions:
    """Each prompt a request of its own to an async distilabel LLM, a bounded number in flight.

    ``llm`` must be loaded. Its ``generation_kwargs`` (the recipe's sampling) apply to every request,
    with the prompt's token budget on top. A failed request fails :meth:`collect` and cancels the others.
    """

    def __init__(self, llm: AsyncLLM, max_concurrent_requests: int = MAX_CONCURRENT_REQUESTS) -> None:
        if max_concurrent_requests < 1:
            raise ValueError(f"max_concurrent_requests must be at least 1, got {max_concurrent_requests}")
        self.llm = llm
        self.max_concurrent_requests = max_concurrent_requests
        self._loop = llm.event_loop  # the LLM's own loop: its async client's connections belong to it
        self._slots = asyncio.Semaphore(max_concurrent_requests)
        self._tickets = itertools.count()
        self._running: dict[asyncio.Task, int] = {}

    def submit(self, messages: Messages, max_new_tokens: int) -> int:
        ticket = next(self._tickets)
        # The request starts when the loop next runs, i.e. in collect().
        self._running[self._loop.create_task(self._complete(messages, max_new_tokens))] = ticket
        return ticket

    def collect(self) -> dict[int, str | None]:
        if not self._running:
            return {}
        done, _ = self._loop.run_until_complete(asyncio.wait(set(self._running), return_when=asyncio.FIRST_COMPLETED))
        failed = next((task for task in done if task.exception() is not None), None)
        if failed is not None:
            self._cancel_all()
            raise failed.exception()
        return {self._running.pop(task): task.result() for task in done}

    async def _complete(self, messages: Messages, max_new_tokens: int) -> str | None:
        kwargs: dict[str, Any] = {**(self.llm.generation_kwargs or {}), "max_new_tokens": max_new_tokens}
        async with self._slots:
            output = await self.llm.agenerate(input=messages, num_generations=1, **kwargs)
        return (output.get("generations") or [None])[0]

    def _cancel_all(self) -> None:
        for task in self._running:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*self._running, return_exceptions=True))
        self._running.clear()


class BatchedCompletions:
    """Every pending prompt in one call to ``generate``, which batches them itself."""

    def __init__(self, generate: BatchGenerator) -> None:
        self.generate = generate
        self._tickets = itertools.count()
        self._pending: list[tuple[int, Messages, int]] = []

    def submit(self, messages: Messages, max_new_tokens: int) -> int:
        ticket = next(self._tickets)
        self._pending.append((ticket, messages, max_new_tokens))
        return ticket

    def collect(self) -> dict[int, str | None]:
        if not self._pending:
            return {}
        pending, self._pending = self._pending, []
        outputs = self.generate([messages for _, messages, _ in pending], [budget for _, _, budget in pending])
        return {ticket: output for (ticket, _, _), output in zip(pending, outputs)}


def completions_for(llm: LLM, max_concurrent_requests: int = MAX_CONCURRENT_REQUESTS) -> Completions:
    """Concurrent requests for an LLM that takes them (:func:`takes_concurrent_requests`), else one
    batched call per :meth:`~Completions.collect`. ``llm`` must be loaded."""
    if takes_concurrent_requests(llm):
        return ConcurrentCompletions(llm, max_concurrent_requests)  # type: ignore[arg-type]
    return BatchedCompletions(llm_generator(llm))


def complete_all(completions: Completions, prompts: list[Messages], max_new_tokens: list[int]) -> list[str | None]:
    """Every prompt's completion, in the prompts' order."""
    tickets = [completions.submit(messages, budget) for messages, budget in zip(prompts, max_new_tokens, strict=True)]
    done: dict[int, str | None] = {}
    while len(done) < len(tickets):
        done.update(completions.collect())
    return [done[ticket] for ticket in tickets]


def llm_generator(llm: LLM) -> BatchGenerator:
    """A distilabel LLM's synchronous ``generate`` as a :data:`BatchGenerator`: the recipe's
    generation_kwargs (sampling) with each prompt's token budget on top. An LLM that takes a budget
    per prompt (``LocalTransformersLLM``) gets all prompts in one call; any other, one call per budget."""

    def call(prompts: list[Messages], max_new_tokens: int | list[int]) -> list[str | None]:
        kwargs = {**(llm.generation_kwargs or {}), "max_new_tokens": max_new_tokens}
        outputs = llm.generate_outputs(inputs=prompts, num_generations=1, **kwargs)
        return [(output.get("generations") or [None])[0] for output in outputs]

    def generate(prompts: list[Messages], max_new_tokens: list[int]) -> list[str | None]:
        if not prompts:
            return []
        if getattr(llm, "takes_token_budget_per_prompt", False):
            return call(prompts, list(max_new_tokens))
        by_budget: dict[int, list[int]] = defaultdict(list)
        for index, budget in enumerate(max_new_tokens):
            by_budget[budget].append(index)
        completions: list[str | None] = [None] * len(prompts)
        for budget, indices in by_budget.items():
            for index, text in zip(indices, call([prompts[i] for i in indices], budget)):
                completions[index] = text
        return completions

    return generate
