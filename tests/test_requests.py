"""Completions for independent searches: concurrent requests to an async LLM, or one batched call."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from distilabel.models.llms.base import AsyncLLM
from pydantic import PrivateAttr

from rader_hub.generation.requests import BatchedCompletions, ConcurrentCompletions, takes_concurrent_requests


class EchoLLM(AsyncLLM):
    """Answers 'echo: <prompt>' after one turn of the event loop per token of its budget (so requests
    finish out of submission order, the same order however loaded the machine is); records how many
    requests are in flight at once and in which order they end.
    A prompt containing 'fail' raises."""

    _in_flight: int = PrivateAttr(0)
    _peak: int = PrivateAttr(0)
    _started: int = PrivateAttr(0)
    _finished: list[str] = PrivateAttr(default_factory=list)

    @property
    def model_name(self) -> str:
        return "echo"

    async def agenerate(self, input: Any, num_generations: int = 1, max_new_tokens: int = 16, temperature: float = 1.0) -> dict[str, Any]:
        prompt = input[-1]["content"]
        self._started += 1
        self._in_flight += 1
        self._peak = max(self._peak, self._in_flight)
        try:
            for _ in range(max_new_tokens):
                await asyncio.sleep(0)  # one turn: the other requests run meanwhile
            if "fail" in prompt:
                raise ConnectionError(f"no answer for {prompt!r}")
        finally:
            self._in_flight -= 1
        self._finished.append(prompt)
        return {"generations": [f"echo: {prompt} ({max_new_tokens}, t={temperature})"] * num_generations, "statistics": {}}


def _chat(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def test_concurrent_completions_come_back_by_ticket_with_a_bounded_number_in_flight():
    llm = EchoLLM(generation_kwargs={"temperature": 0.5})
    completions = ConcurrentCompletions(llm, max_concurrent_requests=3)
    budgets = [(7 * i) % 12 for i in range(12)]
    tickets = {completions.submit(_chat(f"prompt {i}"), max_new_tokens=budgets[i]): i for i in range(12)}
    results: dict[int, str | None] = {}
    collects = 0
    while batch := completions.collect():
        collects += 1
        assert not results.keys() & batch.keys()
        results.update(batch)
    assert {tickets[t]: text for t, text in results.items()} == {i: f"echo: prompt {i} ({budgets[i]}, t=0.5)" for i in range(12)}
    assert llm._peak == 3  # the bound held, and was used
    assert collects > 1  # completions came back as they finished, not all at the end
    assert llm._finished != [f"prompt {i}" for i in range(12)]  # and out of submission order
    assert completions.collect() == {}


def test_a_search_moves_on_while_other_requests_are_in_flight():
    completions = ConcurrentCompletions(EchoLLM(), max_concurrent_requests=8)
    slow = completions.submit(_chat("slow"), max_new_tokens=200)
    quick = completions.submit(_chat("quick"), max_new_tokens=1)
    assert completions.collect() == {quick: "echo: quick (1, t=1.0)"}
    later = completions.submit(_chat("later"), max_new_tokens=2)  # joins while the slow one runs
    assert completions.collect() == {later: "echo: later (2, t=1.0)"}
    assert completions.collect() == {slow: "echo: slow (200, t=1.0)"}


def test_a_failed_request_fails_collect_and_cancels_the_rest():
    llm = EchoLLM()
    completions = ConcurrentCompletions(llm, max_concurrent_requests=1)
    completions.submit(_chat("fail now"), max_new_tokens=0)
    for i in range(5):
        completions.submit(_chat(f"later {i}"), max_new_tokens=10)
    with pytest.raises(ConnectionError, match="no answer for 'fail now'"):
        while completions.collect():
            pass
    assert llm._started < 6 and llm._finished == []  # the rest were cancelled, most before they were sent
    assert completions.collect() == {}


def test_batched_completions_send_every_pending_prompt_in_one_call():
    calls: list[tuple[list[str], list[int]]] = []

    def generate(prompts, budgets):
        calls.append(([p[-1]["content"] for p in prompts], budgets))
        return [f"re: {p[-1]['content']}" for p in prompts]

    completions = BatchedCompletions(generate)
    tickets = [completions.submit(_chat(text), budget) for text, budget in (("x", 8), ("y", 16), ("z", 8))]
    assert completions.collect() == dict(zip(tickets, ["re: x", "re: y", "re: z"]))
    assert calls == [(["x", "y", "z"], [8, 16, 8])]
    assert completions.collect() == {} and len(calls) == 1


def test_which_llms_get_concurrent_requests():
    from distilabel.models.llms.openai import OpenAILLM

    from rader_hub.generation.llm import LocalTransformersLLM

    assert takes_concurrent_requests(OpenAILLM(model="m", api_key="k"))
    assert not takes_concurrent_requests(OpenAILLM(model="m", api_key="k", use_offline_batch_generation=True))
    assert not takes_concurrent_requests(LocalTransformersLLM())
    with pytest.raises(ValueError, match="at least 1"):
        ConcurrentCompletions(EchoLLM(), max_concurrent_requests=0)
