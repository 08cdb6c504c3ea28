"""The paper's BRIGHT nDCG@10 per split for BM25 and for the dense base it trains (and the model it
trained from it), printed by `rader eval --bright` beside ours when we evaluate the same retriever,
or a model trained from that base, on the original queries.

Numbers as published (nDCG@10 x 100, original queries), read, not recomputed:
- BM25: the BRIGHT paper (Su et al., arXiv 2407.12883), Table 2, as reproduced in the RELER paper
  (Liu et al., "Learning to retrieve via reinforcement learning in embedding space"), Table 6, and
  in the BM25 rows of two public BRIGHT leaderboards (GitHub READMEs); macro average 14.5.
- gte-Qwen2-7B-instruct and RaDeR-gte-Qwen2-7B: the RELER paper's Table 6 (which quotes Chen et al.
  2026, Table 2); the RaDeR row matches a public leaderboard's. Their macro averages, 23.5 and 25.5,
  are those the RaDeR paper (arXiv 2505.18405) reports in its Table 1.
The RaDeR paper's own per-split table and the official README's (an image) were not readable here,
and no readable source gave Qwen2.5-7B-Instruct's or RaDeR-Qwen2.5-7B's per split: they are not listed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from rader_hub.evaluation.bright import BRIGHT_SPLITS

GTE_QWEN2 = "Alibaba-NLP/gte-Qwen2-7B-instruct"
# In BRIGHT's split order (BRIGHT_SPLITS): biology ... theoremqa_theorems.
_BM25 = (18.9, 27.2, 14.9, 12.5, 13.6, 18.4, 15.0, 24.4, 7.9, 6.2, 10.4, 4.9)
_GTE_QWEN2 = (34.1, 42.6, 18.2, 27.4, 13.2, 17.3, 20.9, 30.4, 2.2, 13.3, 30.6, 32.6)
_RADER_GTE_QWEN2 = (34.6, 38.9, 22.1, 33.0, 14.8, 22.5, 23.7, 37.3, 5.0, 10.2, 28.4, 35.1)

# name on the paper's table -> split -> nDCG@10 (0-1, as ours), for each retriever the paper reports.
PAPER_BRIGHT: dict[str, dict[str, dict[str, float]]] = {
    "bm25": {"BM25": dict(zip(BRIGHT_SPLITS, (value / 100 for value in _BM25), strict=True))},
    GTE_QWEN2: {
        "gte-Qwen2-7B-instruct": dict(zip(BRIGHT_SPLITS, (value / 100 for value in _GTE_QWEN2), strict=True)),
        "RaDeR-gte-Qwen2-7B": dict(zip(BRIGHT_SPLITS, (value / 100 for value in _RADER_GTE_QWEN2), strict=True)),
    },
}
# Each row's macro average over the 12 splits as the RaDeR paper's Table 1 gives it (the mean of the
# rounded per-split figures can differ in the last digit).
PAPER_AVERAGE = {"BM25": 0.145, "gte-Qwen2-7B-instruct": 0.235, "RaDeR-gte-Qwen2-7B": 0.255}


def paper_references(retriever: str, model: str | None, query_mode: str) -> dict[str, dict[str, float]]:
    """The paper's rows to print beside this run: BM25's for BM25, the base's and RaDeR's for a dense
    or hybrid run of that base or of a model trained from it (its rader_training.json says so).
    None (an empty mapping) for reasoning queries: the paper's figures are for the original ones."""
    if query_mode != "question":
        return {}
    if retriever == "bm25":
        return PAPER_BRIGHT["bm25"]
    return PAPER_BRIGHT.get(_base_of(model), {}) if model else {}


def beside_split(references: dict[str, dict[str, float]], split: str) -> str:
    """``  (paper: NAME 0.306, ...)`` for one split; empty without references."""
    if not references:
        return ""
    return "  (paper: " + ", ".join(f"{name} {values[split]:.3f}" for name, values in references.items()) + ")"


def beside_average(references: dict[str, dict[str, float]], splits: Sequence[str]) -> str:
    """The paper's macro average over the same ``splits`` (the one it reports when they are all 12)."""
    if not references:
        return ""
    every = len(splits) == len(BRIGHT_SPLITS)

    def average(name: str, values: dict[str, float]) -> float:
        return PAPER_AVERAGE[name] if every else sum(values[split] for split in splits) / len(splits)

    over = "all 12 splits" if every else f"the same {len(splits)} split(s)"
    return f"  (paper, over {over}: " + ", ".join(f"{name} {average(name, values):.3f}" for name, values in references.items()) + ")"


def _base_of(model: str) -> str:
    """The Hub id a model was trained from (its training record's base), or the model itself."""
    from rader_hub.training.runtime import SUMMARY_FILE

    record = Path(model) / SUMMARY_FILE
    if record.is_file():
        try:
            return str(json.loads(record.read_text(encoding="utf-8")).get("config", {}).get("base") or model)
        except ValueError:  # an unreadable record names no base
            return model
    return model
