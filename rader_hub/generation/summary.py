"""The end-of-run summary: problems, rollouts, retrievals, verdicts, what was dropped, rows per type."""

from __future__ import annotations

from collections import Counter
from typing import Any

from rader_hub.files import read_json
from rader_hub.schema import RunFolder

_QUERY_DROPS = (
    "cot_same_as_question",
    "llmq_filler",
    "llmq_names_theorem",
    "llmq_repeated",
    "lexical_filler",
    "lexical_round_trip_rejected",
    "lexical_repeated",
)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


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
    dedup = Counter()
    for stats in run.stats("dedup"):
        dedup.update({k: v for k, v in stats.items() if isinstance(v, (int, float))})
    parse_failures = {k.removeprefix("parse_failures_"): v for k, v in search.items() if k.startswith("parse_failures_")}
    parse_failures.update({k: v for k, v in queries.items() if k.endswith("_unparsed")})
    judged = search["theorems_judged"]
    return {
        "problems": len(selected),
        "problems_skipped_without_gold_answer": len(problems["skipped_without_gold_answer"]),
        "rollouts": search["rollouts"],
        "correct_terminals": search["correct_terminals"],
        "terminals": search["terminals"],
        "retrievals": search["retrievals"],
        "theorems_judged": judged,
        "theorems_kept": search["theorems_kept"],
        "theorems_kept_by_relaxation": search["theorems_kept_by_relaxation"],
        "theorems_rejected": search["theorems_rejected"],
        # Neither positives nor negatives: recorded in the rows' unparsed_verdict_ids.
        "theorems_unparsed_verdict": search["theorems_unparsed"],
        "verdicts_parsed_share": _share(judged - search["theorems_unparsed"], judged),
        "fallback_expansions": search["fallback_expansions"],
        "samples": search["samples"],
        "parse_failures": parse_failures,
        "queries_dropped": {name: queries[name] for name in _QUERY_DROPS},
        "duplicates_dropped": dedup["duplicates_dropped"],
        "rows_dropped_too_few_negatives": dropped_few_negatives,
        "rows": len(rows),
        "rows_per_query_type": dict(sorted(Counter(row["query_type"] for row in rows).items())),
        "rows_with_final_answer_share": _share(sum(row.get("final_answer") is not None for row in rows), len(rows)),
    }


def format_summary(summary: dict[str, Any]) -> str:
    lines = ["generation summary:"]
    for key, value in summary.items():
        lines.append(f"  {key}: {value}")
    return "\n".join(lines)
