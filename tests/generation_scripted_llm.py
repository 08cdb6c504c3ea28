"""Scripted distilabel LLMs for the generation tests, and the scripts the tests share.

Each rule is (task marker, substring, response): the first rule whose marker and substring both
occur in the prompt's last message gives the response; no match gives an empty completion
(which the parsers must survive). :class:`ScriptedLLM` answers a call's prompts together and
records every call's prompts, so tests can see what the LLM was shown and how prompts were
batched. :class:`AsyncScriptedLLM` answers each prompt as a request of its own, after a delay
that depends on the prompt, so requests finish in another order than they were sent. Its delays are
counted in turns of the event loop, not in seconds, so no test depends on how fast the machine is.
"""

from __future__ import annotations

import asyncio
import dataclasses
import zlib
from collections import Counter
from typing import Any

from distilabel.models.llms.base import LLM, AsyncLLM
from distilabel.models.llms.utils import prepare_output
from pydantic import PrivateAttr, field_validator

from pipelines.math_recipes import RecipeSettings
from rader_hub.generation import prompts as P
from rader_hub.generation.mcts import Problem


class _Rules:
    rules: list[dict[str, str]] = []

    @field_validator("rules", mode="before")
    @classmethod
    def _from_tuples(cls, rules: list[Any]) -> list[dict[str, str]]:
        # dicts, not tuples: distilabel's signature code walks the dump and expects mappings.
        return [dict(zip(("task", "contains", "reply"), r)) if isinstance(r, (tuple, list)) else r for r in rules]

    def reply(self, prompt: str) -> str:
        return next((r["reply"] for r in self.rules if r["task"] in prompt and r["contains"] in prompt), "")


class ScriptedLLM(_Rules, LLM):
    _calls: list[list[str]] = PrivateAttr(default_factory=list)

    @property
    def model_name(self) -> str:
        return "scripted-test-llm"

    def load(self) -> None:
        super().load()

    def generate(
        self,
        inputs: list[Any],
        num_generations: int = 1,
        max_new_tokens: int = 128,
        temperature: float = 1.0,
        top_p: float = 1.0,
        top_k: int = 0,
    ) -> list[dict[str, Any]]:
        prompts = [messages[-1]["content"] for messages in inputs]
        self._calls.append(prompts)
        outputs = []
        for prompt in prompts:
            outputs.append(prepare_output([self.reply(prompt)] * num_generations, input_tokens=[0], output_tokens=[0]))
        return outputs

    @property
    def calls(self) -> list[list[str]]:
        return self._calls


class DrawingScriptedLLM(ScriptedLLM):
    """As ScriptedLLM, but a reply may list draws separated by `` || ``: the n-th time a prompt is
    asked it gets draw n (cycling), as sampling gives repeated requests different completions."""

    _asked: Counter = PrivateAttr(default_factory=Counter)

    def reply(self, prompt: str) -> str:
        draws = super().reply(prompt).split(" || ")
        self._asked[prompt] += 1
        return draws[(self._asked[prompt] - 1) % len(draws)]


class ServedScriptedLLM(ScriptedLLM):
    """ScriptedLLM as if served by an OpenAI-compatible server on the local network: the recipe and
    the rows' provenance record its ``base_url``, as they do for the OpenAI recipe."""

    base_url: str = "http://10.11.12.13:8000/v1"


class AsyncScriptedLLM(_Rules, AsyncLLM):
    """Each request answered after 0-9 turns of the event loop, by a hash of its prompt: a virtual
    clock, so requests finish out of order, in the same order on every run. Requests whose prompt
    contains ``hold`` wait until :meth:`release`, or give up after ``hold_turns`` turns without it.
    Turns pass only while requests are being collected, so a caller that waits for a held request
    before it goes on spins through them at once and fails :attr:`held_too_long` instead of hanging.
    Records the prompts in the order their requests finished and the most requests in flight at once."""

    hold: str | None = None
    # Far more turns than the searches around a held request take (216 in test_generation_mcts).
    hold_turns: int = 100_000

    _released: bool = PrivateAttr(False)
    _held_too_long: bool = PrivateAttr(False)
    _in_flight: int = PrivateAttr(0)
    _peak: int = PrivateAttr(0)
    _finished: list[str] = PrivateAttr(default_factory=list)

    @property
    def model_name(self) -> str:
        return "scripted-test-llm"

    def release(self) -> None:
        self._released = True

    async def agenerate(
        self, input: Any, num_generations: int = 1, max_new_tokens: int = 128, temperature: float = 1.0, top_p: float = 1.0
    ) -> dict[str, Any]:
        prompt = input[-1]["content"]
        self._in_flight += 1
        self._peak = max(self._peak, self._in_flight)
        for _ in range(zlib.crc32(prompt.encode()) % 10):
            await asyncio.sleep(0)  # one turn of the loop: the other requests run meanwhile
        if self.hold is not None and self.hold in prompt:
            turns = 0
            while not self._released and turns < self.hold_turns:
                await asyncio.sleep(0)
                turns += 1
            self._held_too_long |= not self._released
        self._in_flight -= 1
        self._finished.append(prompt)
        return prepare_output([self.reply(prompt)] * num_generations, input_tokens=[0], output_tokens=[0])

    @property
    def finished(self) -> list[str]:
        return self._finished

    @property
    def peak_in_flight(self) -> int:
        return self._peak

    @property
    def held_too_long(self) -> bool:
        """Whether a held request waited ``hold_turns`` turns without being released."""
        return self._held_too_long


SOCKS = Problem("socks", "A drawer holds red and blue socks. How many socks must you take to be sure of a matching pair?", "3")

# A QG query no other prompt contains, so tests can see where it travels.
SOCKS_QUERY = "Pigeonhole principle for socks. Putting more items than containers forces two items into one container."
PIGEONHOLE_SUMMARY = "Pigeonhole principle - more items than boxes means some box gets two items."

# The QG names the pigeonhole principle; only that theorem is judged relevant (self-reflection
# reads the summaries); a final step after the retrieved theorem answers correctly, one without
# it answers wrongly.
RULES = [
    (P.TASK_QG, "", f"Theorem 1: {SOCKS_QUERY}\nPreconditions: more socks than colours.\nSubject: Combinatorics"),
    (P.TASK_SUMMARY, "Pigeonhole principle", PIGEONHOLE_SUMMARY),
    (P.TASK_SUMMARY, "", "Another fact - it is about something else."),
    (P.TASK_JUDGE, "Theorem: Pigeonhole principle", "Relevant: True\nReason: two colours are two containers."),
    (P.TASK_JUDGE, "", "Relevant: False\nReason: unrelated to counting socks."),
    (P.TASK_CRS, "some box gets two", "Two colours are two boxes, so three socks suffice. The answer is \\boxed{3}."),
    (P.TASK_CRS, "", "Take two socks. The answer is \\boxed{2}."),
    (P.TASK_OST, "", "Consider the colours."),
]
# The whole pipeline on top of RULES: q_llmq and a q_lexical that finds its theorem.
PIPELINE_RULES = RULES + [
    # The paper-style q_llmq reply: the theorem's preconditions, then the query.
    (
        P.TASK_LLMQ,
        "",
        "Preconditions: more items than groups.\nWhy they hold: more socks than colours.\n"
        "Query: How many objects force two into one group?",
    ),
    (P.TASK_LEXICAL, "Pigeonhole", "pigeonhole principle items containers"),
]
# A recipe for the tiny corpus (tests/conftest.py) and PIPELINE_RULES.
PIPELINE_SETTINGS = RecipeSettings(
    name="tiny",
    description="scripted test",
    num_problems=0,
    problems_per_batch=2,
    search={"rollouts": 6, "max_depth": 4, "top_k": 3, "ost_children": 0, "qg_children": 1, "show_progress": False},
    queries={"lexical_round_trip_top_n": 2},
    negatives={"bm25_negative_ranks": [1, 3]},  # four theorems: the official ranks 31-50 do not exist
)


def run_scripted_pipeline(
    output_dir: str,
    problems: str,
    corpus: str,
    argilla: dict[str, str] | None = None,
    llm_class: type[LLM] | None = None,
    llm_stages_apart: bool = False,
) -> None:
    """The whole recipe with the scripted LLM (`llm_class`, default ScriptedLLM) on `problems` and `corpus`, written to `output_dir`; with
    `argilla` ({"api_url", "api_key"}), a PushToArgilla step after the save step; with `llm_stages_apart`, the search and
    the query synthesis in load stages of their own (the paper recipe's layout). Module-level, so that
    `helpers.run_in_fresh_process` can run it in a spawned interpreter."""
    from distilabel.constants import STEP_ATTR_NAME

    from pipelines.math_recipes import build_pipeline
    from rader_hub.review.push_step import PushToArgilla

    make_llm = llm_class or ScriptedLLM
    settings = dataclasses.replace(PIPELINE_SETTINGS, llm_stages_apart=llm_stages_apart)
    pipeline = build_pipeline(settings, lambda: make_llm(rules=PIPELINE_RULES), output_dir=output_dir, problems=problems, corpus=corpus)
    parameters = None
    if argilla is not None:
        with pipeline:
            push = PushToArgilla(name="push_to_argilla", dataset_name="review-pipeline")
            pipeline.dag.get_step("save_dataset")[STEP_ATTR_NAME] >> push
        parameters = {"push_to_argilla": argilla}
    pipeline.run(parameters=parameters, use_cache=False)
