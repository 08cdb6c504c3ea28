"""Chat prompts for the MCTS actions, self-reflection, self-summarization and query synthesis.

Each builder returns OpenAI-style messages, the input format of every distilabel LLM. The first
line of each user message names the task; the scripted test LLM keys its replies on it.
"""

from __future__ import annotations

from collections.abc import Sequence

Messages = list[dict[str, str]]

SYSTEM = "You are a careful mathematician who solves problems step by step."

TASK_OST = "TASK: next step"
TASK_CRS = "TASK: complete solution"
TASK_QG = "TASK: theorem query"
TASK_JUDGE = "TASK: theorem relevance"
TASK_SUMMARY = "TASK: theorem summary"
TASK_LLMQ = "TASK: search query from reasoning"
TASK_LEXICAL = "TASK: search query from theorem"


def _chat(user: str) -> Messages:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def format_steps(steps: Sequence[str]) -> str:
    """Steps so far as a numbered list ('(none yet)' at the root)."""
    if not steps:
        return "(none yet)"
    return "\n".join(f"Step {index}: {step}" for index, step in enumerate(steps, start=1))


def _context(problem: str, steps: Sequence[str]) -> str:
    return f"Problem: {problem}\n\nSteps so far:\n{format_steps(steps)}"


def one_step_thought(problem: str, steps: Sequence[str]) -> Messages:
    return _chat(
        f"{TASK_OST}\n{_context(problem, steps)}\n\n"
        "Write only the next single reasoning step. If this step reaches the final answer, "
        "write the answer as \\boxed{...}."
    )


def complete_remaining_steps(problem: str, steps: Sequence[str]) -> Messages:
    return _chat(
        f"{TASK_CRS}\n{_context(problem, steps)}\n\n"
        "Complete all remaining steps of the solution and end with the final answer as \\boxed{...}."
    )


def generate_query(problem: str, steps: Sequence[str]) -> Messages:
    return _chat(
        f"{TASK_QG}\n{_context(problem, steps)}\n\n"
        "Write a hypothetical theorem that would help with the current sub-problem, as a retrieval "
        "query: the theorem's name, its statement, its preconditions and why they hold here, and "
        "its subject."
    )


def judge_theorem(problem: str, steps: Sequence[str], theorem: str) -> Messages:
    return _chat(
        f"{TASK_JUDGE}\n{_context(problem, steps)}\n\nTheorem: {theorem}\n\n"
        "Is this theorem relevant for solving the next step of the problem? Answer 'relevant' or "
        "'not relevant', then write 'Reason:' and one short sentence."
    )


def summarize_theorem(theorem: str) -> Messages:
    return _chat(
        f"{TASK_SUMMARY}\nTheorem: {theorem}\n\n"
        "Rewrite this theorem in plain language, without heavy LaTeX, in a few sentences."
    )


def reasoning_query(problem: str, steps: Sequence[str], theorem: str) -> Messages:
    return _chat(
        f"{TASK_LLMQ}\n{_context(problem, steps)}\n\nHelpful theorem: {theorem}\n\n"
        "Write one sentence that states the information need of the current sub-problem, as a "
        "search query. Do not reuse the theorem's words or name."
    )


def lexical_query(theorem: str) -> Messages:
    return _chat(
        f"{TASK_LEXICAL}\nTheorem: {theorem}\n\n"
        "Write one short search query that a person would type to find this theorem."
    )
