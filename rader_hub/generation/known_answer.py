"""A known-answer LLM: answers every prompt of the recipe from each problem's gold theorems and answer.

It separates two questions the embedded 135M model mixes up: is the data path right (search,
self-reflection, query synthesis, dedup, negatives, training), and how good must the LLM be. It is
given, at construction, only problems with their gold theorem ids and gold answer (the TheoremQA
dev questions by default) and reads everything else from the prompt itself
(:func:`rader_hub.generation.prompts.read_request`): the problem shown says which problem it is,
the theorem shown says which theorem (looked up in the corpus it loads itself). It never sees the
pipeline's state. Its answers:

- OST: a reasoning step without an answer; CRS: a solution ending in ``\\boxed{gold answer}``;
- QG: each gold theorem, written from its text with its name taken out (retrieval still has to
  find it);
- self-reflection: relevant exactly when the theorem shown is a gold theorem of the problem,
  except that a seeded share ``judge_error`` of verdicts is flipped (a noisy judge);
- summaries ("name - first sentence"), q_llmq (a question about what the theorem says, without its
  name) and q_lexical (its name and a few of its words).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any, ClassVar

from distilabel.mixins.runtime_parameters import RuntimeParameter
from distilabel.models.llms.base import LLM
from distilabel.models.llms.utils import prepare_output
from pydantic import Field, PrivateAttr

from rader_hub.assets import EMBEDDED
from rader_hub.corpus import Corpus, Document
from rader_hub.embedded_data import resolve_source
from rader_hub.errors import DataError
from rader_hub.generation.prompts import LLMQ_QUERY_LABEL, PromptKind, PromptStyle, Request, read_request, shown_theorem
from rader_hub.generation.steps.common import load_theorems
from rader_hub.records import read_rows

NAME_STANDIN = "this result"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_WORD = re.compile(r"[A-Za-z][A-Za-z-]{5,}")


@dataclass(frozen=True)
class KnownProblem:
    gold_ids: frozenset[str]
    answer: str


def _key(text: str) -> str:
    return " ".join(text.split())


def _nameless_sentences(document: Document) -> list[str]:
    """The theorem's sentences with its name replaced (a query that names it is no paraphrase)."""
    text = _key(document.text)
    if document.title:
        text = re.sub(r"\b(?:the\s+)?" + re.escape(document.title), NAME_STANDIN, text, flags=re.I)
    return [sentence for sentence in _SENTENCE_END.split(text) if sentence.strip()]


def paraphrase(document: Document, max_words: int = 60) -> str:
    """A QG candidate: the theorem's first sentences, without its name."""
    return " ".join(" ".join(_nameless_sentences(document)[:2]).split()[:max_words])


def summary(document: Document) -> str:
    """Its name, a dash, and what it says, as the summary instruction asks."""
    sentences = _nameless_sentences(document)
    return f"{document.title or document.id} - {sentences[0] if sentences else document.text[:200]}"


def information_need(document: Document, max_words: int = 30) -> str:
    """q_llmq: one question about what the theorem states, without its name."""
    sentences = _nameless_sentences(document)
    statement = " ".join(re.sub(r"[.!?]", "", sentences[0] if sentences else document.text).split()[:max_words])
    if statement.lower().startswith(f"{NAME_STANDIN} is "):
        return f"What is {statement[len(NAME_STANDIN) + 4 :]}?"
    return f"Which result says that {statement}?"


def keyword_query(document: Document, keywords: int = 4) -> str:
    """q_lexical: its name and a few long words of its text."""
    title_words = set(f"{document.title} {NAME_STANDIN}".lower().split())
    words = [w.lower() for w in _WORD.findall(" ".join(_nameless_sentences(document)))]
    chosen = list(dict.fromkeys(w for w in words if w not in title_words))[:keywords]
    return " ".join([document.title.lower(), *chosen]).strip()


class KnownAnswerLLM(LLM):
    """Answers the recipe's prompts from known gold theorems and answers (see the module docstring)."""

    problems: RuntimeParameter[str] = Field(
        default=EMBEDDED,
        description="Problems with gold theorem ids ('gold_ids') and gold answer ('answer'): a JSONL file or 'embedded' (TheoremQA dev).",
    )
    problem_field: str = Field(default="query", description="The field holding a problem's text.")
    corpus: RuntimeParameter[str] = Field(default=EMBEDDED, description="Theorem corpus the theorems shown come from.")
    judge_error: RuntimeParameter[float] = Field(default=0.0, ge=0.0, le=1.0, description="Share of self-reflection verdicts flipped.")
    seed: RuntimeParameter[int] = Field(default=0, description="Seed of which verdicts are flipped.")

    # Every prompt of a call is answered at once, whatever its budget.
    takes_token_budget_per_prompt: ClassVar[bool] = True

    _known: dict[str, KnownProblem] = PrivateAttr(default_factory=dict)
    _corpus: Corpus | None = PrivateAttr(None)
    _by_summary: dict[str, str] = PrivateAttr(default_factory=dict)

    @property
    def model_name(self) -> str:
        return f"known-answer (judge_error {self.judge_error}, seed {self.seed})"

    def load(self) -> None:
        super().load()
        if self._corpus is not None:
            return
        self._corpus = load_theorems(self.corpus, None, None)
        self._by_summary = {_key(summary(document)): document.id for document in self._corpus}
        for row in read_rows(resolve_source(self.problems, "dev_queries")):
            problem, gold_ids, answer = row.data.get(self.problem_field), row.data.get("gold_ids"), row.data.get("answer")
            if not isinstance(problem, str) or not isinstance(gold_ids, list) or answer is None:
                raise DataError(f"{row.location}: a known problem needs '{self.problem_field}', a 'gold_ids' list and an 'answer'")
            unknown = [doc_id for doc_id in gold_ids if doc_id not in self._corpus]
            if unknown:
                raise DataError(f"{row.location}: gold theorem {unknown[0]!r} is not in the corpus {self.corpus!r}")
            self._known[_key(problem)] = KnownProblem(frozenset(gold_ids), str(answer))

    def generate(  # the sampling keywords are accepted (recipes pass them) and have nothing to do
        self,
        inputs: list[Any],
        num_generations: int = 1,
        max_new_tokens: int | list[int] = 128,
        temperature: float = 1.0,
        top_p: float = 1.0,
        top_k: int = 0,
        do_sample: bool = True,
    ) -> list[dict[str, Any]]:
        self.load()
        return [prepare_output([self.answer(read_request(messages))] * num_generations, [0], [0]) for messages in inputs]

    def answer(self, request: Request) -> str:
        """The reply to one request."""
        if request.kind is PromptKind.SUMMARY:
            return summary(self.theorem(request.theorem))
        if request.kind is PromptKind.LEXICAL:
            return keyword_query(self.theorem(request.theorem))
        if request.kind is PromptKind.LLMQ:
            query = information_need(self.theorem(request.theorem))
            if request.style is PromptStyle.small:
                return query
            return f"Preconditions: what the theorem assumes.\nWhy they hold: the problem gives it.\n{LLMQ_QUERY_LABEL}{query}"
        known = self.problem(request.problem)
        if request.kind is PromptKind.CRS:
            return f"Putting the steps together gives the result. The answer is \\boxed{{{known.answer}}}."
        if request.kind is PromptKind.QG:
            candidates = [paraphrase(self.corpus_document(doc_id)) for doc_id in sorted(known.gold_ids)]
            return "\n".join(f"Theorem {number}: {candidate}" for number, candidate in enumerate(candidates, start=1))
        if request.kind is PromptKind.JUDGE:
            theorem_id = self.theorem(request.theorem).id
            relevant = (theorem_id in known.gold_ids) != self.flipped(request, theorem_id)
            return f"Relevant: {relevant}\nReason: the theorem {'is' if relevant else 'is not'} what the next step needs."
        if any(step.startswith("Useful theorem:") for step in request.steps):
            return "Apply the useful theorem above to the quantities the problem gives."
        return "List the quantities the problem gives and the one it asks for."

    def flipped(self, request: Request, theorem_id: str) -> bool:
        """Whether this verdict is one of the ``judge_error`` share that is wrong; the same for the
        same problem, partial solution and theorem, whatever else is asked around it."""
        draw = random.Random(f"{self.seed}:{request.problem}:{request.steps}:{theorem_id}").random()
        return draw < self.judge_error

    def problem(self, text: str | None) -> KnownProblem:
        known = self._known.get(_key(text or ""))
        if known is None:
            raise DataError(f"known-answer LLM: the problem shown is not one of {self.problems!r}: {(text or '')[:80]!r}")
        return known

    def corpus_document(self, doc_id: str) -> Document:
        assert self._corpus is not None, "load() was not called"
        return self._corpus[doc_id]

    def theorem(self, shown: str | None) -> Document:
        """The corpus theorem a prompt shows: one of its summaries, or its text cut to any length."""
        assert self._corpus is not None, "load() was not called"
        shown = (shown or "").strip()
        doc_id = self._by_summary.get(_key(shown))
        if doc_id is None:
            doc_id = next((d.id for d in self._corpus if shown and shown_theorem(d.full_text, len(d.full_text)).startswith(shown)), None)
        if doc_id is None:
            raise DataError(f"known-answer LLM: the theorem shown is not in the corpus {self.corpus!r}: {shown[:80]!r}")
        return self._corpus[doc_id]
