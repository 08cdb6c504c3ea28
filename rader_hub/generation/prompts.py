"""Chat prompts for the MCTS actions, self-reflection, self-summarization and query synthesis.

Each builder returns OpenAI-style messages, the input format of every distilabel LLM. Each user
message puts its context first (problem, steps so far, theorem) and its instruction last: prompts
about the same partial solution then begin with the same tokens, which the local LLM prefills only
once (:mod:`rader_hub.generation.prefix_cache`).
"""

from __future__ import annotations

from collections.abc import Sequence

Messages = list[dict[str, str]]

SYSTEM = "You are a careful mathematician who solves problems step by step."

# The first sentence of each instruction names its task (the scripted test LLM keys on it). No
# separate "TASK:" heading: placed after the context, SmolLM2 copied it into 11 of 54 answers.
TASK_OST = "Write only the next single reasoning step."
TASK_CRS = "Complete all remaining steps of the solution"
TASK_QG = "Write a hypothetical theorem that would help with the current sub-problem"
TASK_JUDGE = "Is this theorem relevant for solving the next step of the problem?"
TASK_SUMMARY = "Rewrite this theorem in plain language"
TASK_LLMQ = "Write one sentence that states the information need of the current sub-problem"
TASK_LEXICAL = "Write one short search query that a person would type to find this theorem."


def _chat(context: str, instruction: str) -> Messages:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": f"{context}\n\n{instruction}"}]


def format_steps(steps: Sequence[str]) -> str:
    """Steps so far as a numbered list ('(none yet)' at the root)."""
    if not steps:
        return "(none yet)"
    return "\n".join(f"Step {index}: {step}" for index, step in enumerate(steps, start=1))


def _context(problem: str, steps: Sequence[str]) -> str:
    return f"Problem: {problem}\n\nSteps so far:\n{format_steps(steps)}"


def one_step_thought(problem: str, steps: Sequence[str]) -> Messages:
    return _chat(
        _context(problem, steps),
        f"{TASK_OST} If this step reaches the final answer, write the answer as \\boxed{{...}}.",
    )


def complete_remaining_steps(problem: str, steps: Sequence[str]) -> Messages:
    return _chat(_context(problem, steps), f"{TASK_CRS} and end with the final answer as \\boxed{{...}}.")


def generate_query(problem: str, steps: Sequence[str]) -> Messages:
    return _chat(
        _context(problem, steps),
        f"{TASK_QG}, as a retrieval query: the theorem's name, its statement, its preconditions and why "
        "they hold here, and its subject.",
    )


def judge_theorem(problem: str, steps: Sequence[str], theorem: str) -> Messages:
    return _chat(
        f"{_context(problem, steps)}\n\nTheorem: {theorem}",
        f"{TASK_JUDGE} Answer 'relevant' or 'not relevant', then write 'Reason:' and one short sentence.",
    )


def summarize_theorem(theorem: str) -> Messages:
    return _chat(f"Theorem: {theorem}", f"{TASK_SUMMARY}, without heavy LaTeX, in a few sentences.")


def reasoning_query(problem: str, steps: Sequence[str], theorem: str) -> Messages:
    return _chat(
        f"{_context(problem, steps)}\n\nHelpful theorem: {theorem}",
        f"{TASK_LLMQ}, as a search query. Do not reuse the theorem's words or name.",
    )


def lexical_query(theorem: str) -> Messages:
    return _chat(f"Theorem: {theorem}", TASK_LEXICAL)
