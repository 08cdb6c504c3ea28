"""Final-answer extraction and equivalence (the MCTS reward)."""

from __future__ import annotations

import re
import threading

from math_verify import parse, verify

_BOXED = re.compile(r"\\(?:boxed|fbox)\s*\{")


def extract_boxed(text: str) -> str | None:
    """Content of the last ``\\boxed{...}`` in ``text`` (braces matched), or None."""
    matches = list(_BOXED.finditer(text))
    for match in reversed(matches):
        depth, start = 1, match.end()
        for position in range(start, len(text)):
            char = text[position]
            if char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth == 0:
                    content = text[start:position].strip()
                    if content:
                        return content
                    break
    return None


# Official RaDeR also ends a step on "the answer is ..." (rstar_utils.reach_terminal_ost_step).
_STATED = re.compile(r"\b(?:final\s+)?answer\s*(?:is|:|=)\s*(?:also\s+)?\$*\s*([^\s$][^\n$]*?)\s*\$*\s*(?:[.;,](?:\s|$)|\n|$)", re.I)


def extract_answer(text: str) -> str | None:
    """The final answer a step or solution states: its last ``\\boxed{}``, else the last
    "the answer is X" / "final answer: X" (as the official code reads answers), else None."""
    boxed = extract_boxed(text)
    if boxed is not None:
        return boxed
    stated = [match.group(1).strip() for match in _STATED.finditer(text)]
    stated = [answer for answer in stated if _looks_like_an_answer(answer)]
    return stated[-1] if stated else None


def _looks_like_an_answer(text: str) -> bool:
    """A number, a formula or a word or two ("yes", "no solution"), not prose."""
    return 0 < len(text) <= 40 and (bool(_MATHY.search(text)) or len(text.split()) <= 2)


_MATHY = re.compile(r"[\d\\^/=()\[\]{}√π]")


def _normalise(answer: str) -> str:
    return re.sub(r"\s+|\\[,;!]|\$|\\text\{\s*\}", "", answer).rstrip(".").lower()


def answers_match(predicted: str, gold: str) -> bool:
    """Mathematical equivalence of two final answers (fractions, radicals, intervals, units...).

    math-verify guards its parser with SIGALRM, which only works on the main thread; distilabel
    may call us from another thread, so the timeout is dropped there.
    """
    if _normalise(predicted) == _normalise(gold):
        return True
    timeout = 5 if threading.current_thread() is threading.main_thread() else None
    try:
        gold_parsed = parse(f"${gold}$", parsing_timeout=timeout)
        predicted_parsed = parse(f"${predicted}$", parsing_timeout=timeout)
        if not gold_parsed or not predicted_parsed:
            return False
        return bool(verify(gold_parsed, predicted_parsed, timeout_seconds=timeout))
    except Exception:  # math-verify raises on exotic LaTeX; an unparseable answer is simply wrong
        return False
