"""The end-of-run summary: problems, rollouts, retrievals, kept/rejected theorems, samples per type."""

from __future__ import annotations

from collections import Counter
from typing import Any

from rader_hub.files import read_json
from rader_hub.generation.runfiles import RunFolder


def build_summary(run: RunFolder, rows: list[dict[str, Any]], dropped_few_negatives: int) -> dict[str, Any]:
    problems = read_json(run.problems_file, {"selected": [], "skipped_without_gold_answer": []})
    selected = set(problems["selected"])
    search = Counter()
    for stats in run.stats("search"):
        if stats.get("problem_id") in selected:
            search.update({k: v for k, v in stats.items() if isinstance(v, (int, float)) and k != "problem_id"})
    queries = Counter()
    for stats in run.stats("queries"):
        if stats.get("problem_id") in selected:
            queries.update({k: v for k, v in stats.items() if isinstance(v, (int, float))})
    parse_failures = {k.removeprefix("parse_failures_"): v for k, v in search.items() if k.startswith("parse_failures_")}
    parse_failures.update({k: v for k, v in queries.items() if k.endswith("_unparsed")})
    return {
        "problems": len(selected),
        "problems_skipped_without_gold_answer": len(problems["skipped_without_gold_answer"]),
        "rollouts": search["rollouts"],
        "correct_terminals": search["correct_terminals"],
        "terminals": search["terminals"],
        "retrievals": search["retrievals"],
        "theorems_kept": search["theorems_kept"],
        "theorems_kept_by_relaxation": search["theorems_kept_by_relaxation"],
        "theorems_rejected": search["theorems_rejected"],
        "samples": search["samples"],
        "parse_failures": parse_failures,
        "lexical_round_trip_rejected": queries["lexical_round_trip_rejected"],
        "rows_dropped_too_few_negatives": dropped_few_negatives,
        "rows": len(rows),
        "rows_per_query_type": dict(sorted(Counter(row["query_type"] for row in rows).items())),
    }


def format_summary(summary: dict[str, Any]) -> str:
    lines = ["generation summary:"]
    for key, value in summary.items():
        lines.append(f"  {key}: {value}")
    return "\n".join(lines)
