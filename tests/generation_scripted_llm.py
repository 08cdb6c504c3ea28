"""A scripted distilabel LLM for the generation tests: replays responses chosen by rules.

Each rule is (task marker, substring, response): the first rule whose marker and substring both
occur in the prompt's last message gives the response; no match gives an empty completion
(which the parsers must survive). Every call's prompt count is recorded, so tests can see how
prompts were batched.
"""

from __future__ import annotations

from typing import Any

from distilabel.models.llms.base import LLM
from pydantic import PrivateAttr, field_validator


class ScriptedLLM(LLM):
    rules: list[dict[str, str]] = []

    @field_validator("rules", mode="before")
    @classmethod
    def _from_tuples(cls, rules: list[Any]) -> list[dict[str, str]]:
        # dicts, not tuples: distilabel's signature code walks the dump and expects mappings.
        return [dict(zip(("task", "contains", "reply"), r)) if isinstance(r, (tuple, list)) else r for r in rules]

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
            response = next((r["reply"] for r in self.rules if r["task"] in prompt and r["contains"] in prompt), "")
            outputs.append({"generations": [response] * num_generations, "statistics": {"input_tokens": [0], "output_tokens": [0]}})
        return outputs

    @property
    def calls(self) -> list[list[str]]:
        return self._calls
