"""`rader publish` against the loopback Hub: a dataset made by the real distilabel pipeline and
models trained by `rader train`, published with the real huggingface_hub client and loaded back
with SentenceTransformer / CrossEncoder / load_dataset / ModelCard / DatasetCard in fresh
processes (HF_ENDPOINT and HF_HUB_DISABLE_XET are read at import, so clients run as subprocesses).
Only the tests that talk to the loopback Hub are marked ``hub``: the offline renders and refusals
also run under ``-m "not hub"``."""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from conftest import TINY_DOCUMENTS, write_jsonl
from generation_scripted_llm import ServedScriptedLLM, run_scripted_pipeline
from helpers import FAST_TRAINING, run_in_fresh_process, run_rader
from typer.testing import CliRunner

from devtools.hub_server import LoopbackHub
from rader_hub.cli import app
from rader_hub.errors import AssetError, CardError, ConfigError, DataError
from rader_hub.evaluation.bootstrap import paired_bootstrap
from rader_hub.fingerprints import recipe_hash
from rader_hub.generation.hardware import record_run
from rader_hub.portable import SERVER_URL
from rader_hub.publish import ArtifactKind, CardOptions, render_publish_folder
from rader_hub.review.pairs import load_generation_dataset
from rader_hub.review.pull import write_reviewed_dataset

# The Hub token every publish here uses: a canary that must never leave this machine's memory.
TOKEN = f"hf_canary{uuid.uuid4().hex}"
PROBLEMS = [
    {"id": "socks", "problem": "A drawer holds red and blue socks. How many socks give a matching pair for sure?", "answer": "3"},
    {"id": "gloves", "problem": "Gloves come in two colours. How many gloves must you take to get two of one colour?", "answer": "3"},
]
EVAL_QUERIES = [
    {"id": "socks", "query": "Ten socks go into nine drawers; show a drawer holds two.", "gold_ids": ["pigeonhole"]},
    {"id": "ladder", "query": "A ladder leans on a wall; how high does it reach?", "gold_ids": ["pythagoras"]},
    {"id": "test", "query": "A test is 99% accurate and the disease is rare; is a positive real?", "gold_ids": ["bayes"]},
]
REVIEW = {
    "reviewed": 6,
    "agreement": 0.8333,
    "cohen_kappa": 0.5714,
    "labels": ["relevant", "not_relevant"],
    "confusion_matrix": [[3, 1], [0, 2]],
    "ties": 1,
    "per_query_type": {
        "cot": {"reviewed": 4, "agreement": 0.75, "cohen_kappa": 0.5},
        "question": {"reviewed": 2, "agreement": 1.0, "cohen_kappa": None},
    },
    "annotator_count": 2,
    "estimates": {
        "positives_relevant": {
            "rate": 0.8,
            "low": 0.2844,
            "high": 0.9758,
            "reviewed": 4,
            "effective_sample": 2.94,
            "pairs": 10,
            "coverage": 1.0,
        },
        "negatives_relevant": None,
        "strata": "role x judge label x query type",
        "between_humans": {"records": 3, "pairwise_agreement": 0.6667, "fleiss_kappa": 0.3194},
    },
}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("publish")


@pytest.fixture(scope="module")
def offline_env(workdir: Path):
    """What the autouse per-test fixture sets, for the module's fixtures (they run before it)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RADER_CACHE_DIR", str(workdir / "rader-cache"))
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setenv("DISTILABEL_CACHE_DIR", str(workdir / "distilabel-cache"))
        yield


@pytest.fixture(scope="module")
def hub():
    with LoopbackHub(token=TOKEN) as server:
        yield server


@pytest.fixture(scope="module")
def corpus(workdir: Path) -> Path:
    return write_jsonl(workdir / "corpus.jsonl", [{"id": doc.id, "title": doc.title, "text": doc.text} for doc in TINY_DOCUMENTS])


@pytest.fixture(scope="module")
def dataset_dir(workdir: Path, corpus: Path, offline_env) -> Path:
    """A run folder made by the real generation pipeline (the scripted LLM, behind a server URL as
    the OpenAI recipe's), in today's schema."""
    out = workdir / "run"
    problems = write_jsonl(workdir / "problems.jsonl", PROBLEMS)
    run_in_fresh_process(run_scripted_pipeline, str(out), str(problems), str(corpus), None, ServedScriptedLLM)
    return out


@pytest.fixture(scope="module")
def retriever_dir(workdir: Path, dataset_dir: Path, offline_env) -> Path:
    out = workdir / "retriever"
    args = ["--num-negatives", "2", "--max-steps", "2", "--json", *FAST_TRAINING]
    result = run_rader("train", "retriever", "--data", str(dataset_dir / "data"), "--out", str(out), *args)
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def reranker_dir(workdir: Path, dataset_dir: Path, offline_env) -> Path:
    out = workdir / "reranker"
    args = ["--num-negatives", "2", "--max-steps", "1", "--batch-size", "2", "--max-seq-length", "64", "--json"]
    result = run_rader("train", "reranker", "--data", str(dataset_dir / "data"), "--out", str(out), *args)
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def eval_files(workdir: Path, corpus: Path, retriever_dir: Path, offline_env) -> dict[str, Path]:
    """`rader eval --json` for the trained model, its base and BM25, as users write them."""
    queries = write_jsonl(workdir / "eval_queries.jsonl", EVAL_QUERIES)
    runs = {
        "model": ["--retriever", "dense", "--model", str(retriever_dir)],
        "base": ["--retriever", "dense"],  # the embedded MiniLM, the retriever's base
        "bm25": ["--retriever", "bm25"],
    }
    files = {}
    for name, args in runs.items():
        result = CliRunner().invoke(app, ["eval", *args, "--corpus", str(corpus), "--queries", str(queries), "--json"])
        assert result.exit_code == 0, result.output
        files[name] = workdir / f"eval-{name}.json"
        files[name].write_text(result.stdout.strip().splitlines()[-1])
    return files


def hub_env(hub: LoopbackHub, home: Path, token: str | None = TOKEN, **extra: str) -> dict[str, str]:
    """A client environment: the loopback endpoint, no Xet, a fresh HF_HOME, online."""
    env = {**os.environ, "HF_ENDPOINT": hub.url, "HF_HUB_DISABLE_XET": "1", "HF_HOME": str(home), **extra}
    env.pop("HF_HUB_OFFLINE", None)
    env.pop("HF_TOKEN", None)
    if token:
        env["HF_TOKEN"] = token
    return env


def run_python(script: str, env: dict[str, str], *args: str) -> dict:
    """Run a loading script in a fresh interpreter; it prints one JSON object last."""
    result = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, env=env, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def front_matter(readme: Path) -> dict:
    return yaml.safe_load(readme.read_text(encoding="utf-8").split("---", 2)[1])


def commits(hub: LoopbackHub, kind: str, repo_id: str, branch: str = "main") -> list[str]:
    repo = hub.state.repo(kind, repo_id)
    return [commit.oid for commit in repo.history(branch)]


# -- the dry run -----------------------------------------------------------------------------


@pytest.mark.hub
def test_dry_run_renders_the_model_folder_and_card_without_network(hub, retriever_dir, eval_files, tmp_path) -> None:
    out = tmp_path / "render"
    before = len(hub.state.requests)
    args = ["publish", "model", str(retriever_dir), "--repo", "org/rader", "--dataset", "org/rader-math", "--dry-run", "--out", str(out)]
    result = run_rader(*args, *[part for path in eval_files.values() for part in ("--eval", str(path))], env=hub_env(hub, tmp_path / "hf"))
    assert result.returncode == 0, result.stderr
    assert len(hub.state.requests) == before  # nothing reached the Hub

    expected = {p.relative_to(retriever_dir).as_posix() for p in retriever_dir.rglob("*") if p.is_file()}
    assert {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} == expected  # README.md replaced, nothing else
    assert {"model.safetensors", "config_sentence_transformers.json", "rader_training.json", "loss_curve.png"} <= expected

    meta = front_matter(out / "README.md")
    assert meta["library_name"] == "sentence-transformers" and meta["license"] == "apache-2.0"
    assert meta["base_model"] == "sentence-transformers/all-MiniLM-L6-v2" and meta["datasets"] == ["org/rader-math"]
    assert "loss:MultipleNegativesRankingLoss" in meta["tags"] and "rader" in meta["tags"]  # sentence-transformers' own tags kept
    assert "model-index" not in meta  # the evaluation queries are a local file, not a Hub dataset the index could name
    for example in meta["widget"]:  # a few distinct, trimmed texts, not every padded negative column
        assert len(example["sentences"]) == len(set(example["sentences"])) <= 4
    assert (out / "README.md").stat().st_size < 30_000

    from huggingface_hub import ModelCard

    from rader_hub.publish.metadata import check_card

    card = ModelCard.load(out / "README.md")
    check_card(card, out)  # the offline validation a publish runs
    body = card.text
    assert 'SentenceTransformer("org/rader")' in body and "encode_query" in body and "encode_document" in body
    assert "| `query` | `Query: ` |" in body  # the saved prompts
    assert "sentence_transformers_model_id" not in body and "<!--" not in body
    rows = {
        "model": "| **this model (`org/rader`)** |",
        "base": "| base model (`sentence-transformers/all-MiniLM-L6-v2`) |",
        "bm25": "| BM25 |",
    }
    for name, start in rows.items():  # every evaluated run is a row named for what it is, with its figures
        figures = json.loads(eval_files[name].read_text())
        (row,) = [line for line in body.splitlines() if line.startswith(start)]
        # One gold theorem per query: P@10 would be Recall@10 / 10, so it is not shown.
        assert row.endswith(f" {figures['ndcg@10']:.4f} | {figures['recall@10']:.4f} |")
    # The first paragraph is the status line, true to the training record and to the evaluations.
    status = body.split("# rader\n\n", 1)[1].split("\n\n", 1)[0]
    training = json.loads((retriever_dir / "rader_training.json").read_text())
    assert status.startswith(f"Trained for {training['steps']} steps on {training['train_rows']} rows from 2 problems")
    per_query = {name: json.loads(eval_files[name].read_text())["per_query"] for name in ("model", "base")}
    difference = paired_bootstrap(*({q: s["ndcg@10"] for q, s in per_query[name].items()} for name in ("model", "base")))
    assert f": {difference.mean:+.4f} (95% interval {difference.low:+.4f} to {difference.high:+.4f})" in status
    assert "Unnamed Dataset" not in body and "#### [`org/rader-math`](https://huggingface.co/datasets/org/rader-math)" in body
    assert "## Training Details" in body and "### Training Hyperparameters" in body  # what sentence-transformers wrote
    # The data revision it was trained on, and the commands that train it again on it.
    fingerprint_row = f"| training data revision | local `run/data`, content fingerprint `{training['dataset_revision']['fingerprint']}`"
    assert fingerprint_row in body
    # ... and that the command, which reads the published dataset, trains on that data only if it was published unchanged.
    assert (
        "To train it again with the same versions (the model was trained on the local data above; the command reads `org/rader-math`"
        in body
    )
    assert "das2025rader" in body and "reimers-2019-sentence-bert" in body


def test_reranker_card_shows_cross_encoder_usage_and_loads(reranker_dir, dataset_dir, tmp_path) -> None:
    from sentence_transformers import CrossEncoder

    out = tmp_path / "render"
    rendered = render_publish_folder(ArtifactKind.reranker, reranker_dir, "org/rader-reranker", out)
    assert "README.md" in rendered.files and "model.safetensors" in rendered.files
    meta = front_matter(out / "README.md")
    assert meta["library_name"] == "sentence-transformers" and meta["pipeline_tag"] == "text-ranking" and "cross-encoder" in meta["tags"]
    body = (out / "README.md").read_text()
    assert 'CrossEncoder("org/rader-reranker")' in body and "model.predict(" in body
    assert "no in-batch negatives" in body
    # The training data as rader_training.json records it, without this machine's path.
    assert "(a local dataset)" in body and str(dataset_dir) not in body
    pair = ("How many socks give a pair?", TINY_DOCUMENTS[0].full_text)
    assert CrossEncoder(str(out)).predict([pair])[0] == pytest.approx(CrossEncoder(str(reranker_dir)).predict([pair])[0], abs=1e-6)


# -- round trips through the loopback Hub ---------------------------------------------------

LOAD_MODEL = """
import json, sys
import numpy as np
import yaml
from huggingface_hub import ModelCard, hf_hub_download
from sentence_transformers import SentenceTransformer

local_dir, first = sys.argv[1], sys.argv[2]
local, hub, old = SentenceTransformer(local_dir), SentenceTransformer("org/rader"), SentenceTransformer("org/rader", revision=first)
queries, documents = ["ten socks in nine drawers", "a rare disease test"], ["Pigeonhole principle", "Bayes' theorem"]
same = lambda a, b: float(np.abs(a - b).max())
card = ModelCard.load("org/rader")
first_card = ModelCard.load(hf_hub_download("org/rader", "README.md", revision=first))
eval_results = hf_hub_download("org/rader", ".eval_results/rader.yaml")
print(json.dumps({
    "query_diff": same(local.encode_query(queries), hub.encode_query(queries)),
    "document_diff": same(local.encode_document(documents), hub.encode_document(documents)),
    "old_revision_diff": same(local.encode_query(queries), old.encode_query(queries)),
    "prompt_applied": same(hub.encode_query(queries), hub.encode(["Query: " + q for q in queries])),
    "prompt_matters": same(hub.encode_query(queries), hub.encode(queries)),
    "prompts": hub.prompts,
    "metrics": {r.metric_type: r.metric_value for r in card.data.eval_results or []},
    "first_metrics": len(first_card.data.eval_results or []),
    "base_model": card.data.base_model,
    "datasets": sorted({(r.dataset_type, r.dataset_split) for r in card.data.eval_results or []}),
    "eval_results": [{k: v for k, v in entry.items() if k != "notes"} for entry in yaml.safe_load(open(eval_results))],
}))
"""


@pytest.mark.hub
def test_model_published_twice_loads_by_repo_id_at_both_revisions(hub, retriever_dir, eval_files, tmp_path) -> None:
    env = hub_env(hub, tmp_path / "hf")
    first = run_rader("publish", "model", str(retriever_dir), "--repo", "org/rader", env=env)
    assert first.returncode == 0, first.stderr
    first_sha = commits(hub, "model", "org/rader")[0]
    assert first.stdout.strip().splitlines()[-1].endswith(f"/org/rader/commit/{first_sha}")  # the commit URL, last
    # On the embedded TheoremQA dev set: a Hub dataset, so model-index and .eval_results name it.
    dev_eval = tmp_path / "eval-dev.json"
    result = CliRunner().invoke(app, ["eval", "--retriever", "dense", "--model", str(retriever_dir), "--json"])
    assert result.exit_code == 0, result.output
    dev_eval.write_text(result.stdout.strip().splitlines()[-1])
    evaluated = ["--eval", str(dev_eval), "-m", "Add the evaluation"]
    second = run_rader("publish", "model", str(retriever_dir), "--repo", "org/rader", *evaluated, env=env)
    assert second.returncode == 0, second.stderr
    history = commits(hub, "model", "org/rader")
    assert len(history) == 3 and history[1] == first_sha  # repo creation, then one commit per publish
    assert hub.state.repo("model", "org/rader").commits[history[0]].title == "Add the evaluation"

    loaded = run_python(LOAD_MODEL, hub_env(hub, tmp_path / "fresh-hf"), str(retriever_dir), first_sha)
    assert loaded["query_diff"] == 0.0 and loaded["document_diff"] == 0.0 and loaded["old_revision_diff"] == 0.0
    assert loaded["prompts"]["query"] == "Query: " and loaded["prompts"]["document"] == "Passage: "
    assert loaded["prompt_applied"] < 1e-6 < loaded["prompt_matters"]
    figures = json.loads(dev_eval.read_text())
    assert loaded["metrics"] == {"ndcg_at_10": round(figures["ndcg@10"], 4), "recall_at_10": round(figures["recall@10"], 4)}
    assert loaded["datasets"] == [["TIGER-Lab/TheoremQA", "test"]]
    assert loaded["eval_results"] == [{"dataset": {"id": "TIGER-Lab/TheoremQA", "task_id": "test"}, "value": round(figures["ndcg@10"], 4)}]
    assert loaded["first_metrics"] == 0 and loaded["base_model"] == "sentence-transformers/all-MiniLM-L6-v2"


LOAD_DATASET = """
import json, sys
from datasets import load_dataset
from huggingface_hub import DatasetCard, HfApi

hub = load_dataset("org/rader-math", split="train")
local = load_dataset("parquet", data_files=sys.argv[1] + "/data/*.parquet", split="train")
card = DatasetCard.load("org/rader-math")
where = ["search_retriever", "generator_revision"]  # local paths and server URLs: published without them
print(json.dumps({
    "equal": hub.remove_columns(where).to_list() == local.remove_columns(where).to_list(),
    "where": sorted({tuple(row[name] for name in where) for row in hub.to_list()}),
    "rows": hub.num_rows, "features_equal": hub.features == local.features,
    "files": sorted(HfApi().list_repo_files("org/rader-math", repo_type="dataset")),
    "license": card.data.license, "task_categories": card.data.task_categories, "configs": card.data.to_dict()["configs"],
    "text": card.text,
}))
"""


@pytest.mark.hub
def test_dataset_round_trip_with_its_recipe_summary_and_review(hub, dataset_dir, tmp_path) -> None:
    run = tmp_path / "reviewed"  # as `rader review pull` leaves it: the run's files plus review.json
    shutil.copytree(dataset_dir, run)
    (run / "review.json").write_text(json.dumps(REVIEW))
    result = run_rader("publish", "dataset", str(run), "--repo", "org/rader-math", "--license", "mit", env=hub_env(hub, tmp_path / "hf"))
    assert result.returncode == 0, result.stderr

    loaded = run_python(LOAD_DATASET, hub_env(hub, tmp_path / "fresh-hf"), str(run))
    data_file = "data/train-00000-of-00001.parquet"
    assert loaded["equal"] and loaded["features_equal"] and loaded["rows"] == pq.read_metadata(run / data_file).num_rows > 0
    assert loaded["where"] == [["bm25 over corpus.jsonl", f"scripted-test-llm served by {SERVER_URL}"]]
    assert loaded["files"] == [".gitattributes", "README.md", data_file, "recipe.yaml", "review.json", "summary.json"]
    assert loaded["license"] == "mit" and loaded["task_categories"] == ["text-retrieval"]
    assert loaded["configs"] == [{"config_name": "default", "data_files": [{"split": "train", "path": "data/train-*"}]}]
    text = loaded["text"]
    negatives_by_type: dict[str, list[int]] = {}
    for row in pq.read_table(run / data_file, columns=["query_type", "negatives"]).to_pylist():
        negatives_by_type.setdefault(row["query_type"], []).append(len(row["negatives"]))
    assert negatives_by_type
    for query_type, counts in negatives_by_type.items():  # rows and negatives (min / median / max) per query type
        assert f"| `{query_type}` | {len(counts)} | {min(counts)} / {statistics.median(counts):g} / {max(counts)} |" in text
    assert "**83.3%**, Cohen's kappa 0.571" in text and "| relevant | 3 | 1 |" in text and "| `question` | 2 | 100.0% | n/a |" in text
    assert "`recipe.yaml` hashes to the same value" in text and "| `rollouts` | **6** | 16 |" in text  # differs from the default
    # The review's estimates for the whole dataset lead the section; raw agreement follows, collapsed.
    assert "| positives that are relevant (precision of the positives) | **80.0%** | 28.4-97.6% | 4 | 10 | 100% |" in text
    assert "| hard negatives that are relevant (false hard negatives) | not reviewed |" in text
    assert "People (2 annotators) decided 6 judged (query, theorem) pairs." in text and "Fleiss' kappa 0.319" in text

    # The same folder again: the client skips an empty commit, and says so.
    main_before = commits(hub, "dataset", "org/rader-math")
    same = run_rader("publish", "dataset", str(run), "--repo", "org/rader-math", "--license", "mit", env=hub_env(hub, tmp_path / "hf"))
    assert same.returncode == 0 and f"nothing changed since commit {main_before[0]}: no new commit" in same.stderr
    assert commits(hub, "dataset", "org/rader-math") == main_before

    # A branch: main stays where it was.
    draft = run_rader(
        "publish",
        "dataset",
        str(dataset_dir),
        "--repo",
        "org/rader-math",
        "--license",
        "mit",
        "--revision",
        "draft",
        env=hub_env(hub, tmp_path / "hf"),
    )
    assert draft.returncode == 0, draft.stderr
    assert commits(hub, "dataset", "org/rader-math") == main_before
    assert commits(hub, "dataset", "org/rader-math", "draft")[1:] == main_before
    draft_files = hub.state.repo("dataset", "org/rader-math").resolve("draft").files
    assert "review.json" not in draft_files  # the new version's files exactly: the stale one is removed


def test_the_licence_defaults_to_the_embedded_sources_and_an_edited_recipe_is_flagged(dataset_dir, tmp_path) -> None:
    run = tmp_path / "embedded"
    shutil.copytree(dataset_dir, run)
    recipe = yaml.safe_load((run / "recipe.yaml").read_text())
    for entry in recipe["pipeline"]["steps"]:
        for key in ("source", "corpus"):
            if key in entry["step"]:
                entry["step"][key] = "embedded"
    (run / "recipe.yaml").write_text(yaml.safe_dump(recipe, sort_keys=False))
    render_publish_folder(ArtifactKind.dataset, run, "org/x", tmp_path / "out")
    text = (tmp_path / "out" / "README.md").read_text()
    assert front_matter(tmp_path / "out" / "README.md")["license"] == "mit"  # TheoremQA and MATH are MIT
    assert "1,000 MATH training problems (Hendrycks et al., 2021)" in text
    assert "it is not exactly the recipe these rows were made with" in text


def test_the_dataset_card_says_the_hardware_and_time_of_the_run(dataset_dir, tmp_path) -> None:
    run = tmp_path / "timed"
    shutil.copytree(dataset_dir, run)
    record_run(run / "summary.json", time.time() - 65, earlier_checkpoints=False)  # as `rader generate` ends
    render_publish_folder(ArtifactKind.dataset, run, "org/x", tmp_path / "out", CardOptions(license="mit"))
    text = (tmp_path / "out" / "README.md").read_text()
    assert f"The generation ran on {os.cpu_count()} logical CPU cores" in text
    assert " of wall time. Its LLMs ran behind a server, on hardware not recorded here." in text  # the scripted LLM is served
    assert "The hardware and time of the run are not recorded" not in text


def test_the_status_line_says_how_much_of_the_data_the_review_estimate_covers(dataset_dir, tmp_path) -> None:
    run = tmp_path / "reviewed"
    shutil.copytree(dataset_dir, run)
    partial = json.loads(json.dumps(REVIEW))
    partial["estimates"]["positives_relevant"]["coverage"] = 0.37  # strata without a review are not estimated
    (run / "review.json").write_text(json.dumps(partial))
    render_publish_folder(ArtifactKind.dataset, run, "org/x", tmp_path / "out", CardOptions(license="mit"))
    status = (tmp_path / "out" / "README.md").read_text().split("\n# ", 1)[1].split("\n\n")[1]
    assert "an estimated 80% of the positives are relevant\n(95% interval 28-98%; the reviewed strata hold 37% of the positives, " in status
    assert "the rest is not estimated): see [Human review](#human-review)." in status


# -- secrets ----------------------------------------------------------------------------------


@pytest.mark.hub
def test_the_token_canary_appears_in_no_uploaded_file_and_no_log_line(hub, dataset_dir, tmp_path) -> None:
    env = hub_env(hub, tmp_path / "hf", HF_HUB_VERBOSITY="debug")  # as chatty as the client gets
    publish = ["publish", "dataset", str(dataset_dir), "--repo", "org/canary", "--license", "mit"]
    published = run_rader(*publish, "--out", str(tmp_path / "out"), env=env)
    assert published.returncode == 0, published.stderr
    wrong = run_rader(*publish, env=hub_env(hub, tmp_path / "hf", token=TOKEN[::-1]))
    assert wrong.returncode == 2 and wrong.stderr.strip().splitlines()[-1].startswith("error: the Hub at ")
    assert "401" in wrong.stderr
    for output in (published.stdout, published.stderr, wrong.stdout, wrong.stderr):
        assert TOKEN not in output and TOKEN[::-1] not in output
    assert all(TOKEN.encode() not in blob for blob in hub.state.blobs.values())  # every file of every repo and commit
    assert all(TOKEN.encode() not in path.read_bytes() for path in (tmp_path / "out").rglob("*") if path.is_file())


@pytest.mark.hub
def test_a_file_holding_the_token_is_refused(hub, dataset_dir, tmp_path) -> None:
    run = tmp_path / "leaky"
    shutil.copytree(dataset_dir, run)
    summary = json.loads((run / "summary.json").read_text())
    (run / "summary.json").write_text(json.dumps({**summary, "note": f"token {TOKEN}"}))
    result = run_rader("publish", "dataset", str(run), "--repo", "org/leak", "--license", "mit", env=hub_env(hub, tmp_path / "hf"))
    assert result.returncode == 2
    assert "refusing to publish: summary.json contain(s) the value of a secret" in result.stderr and TOKEN not in result.stderr
    assert ("dataset", "org/leak") not in hub.state.repos


# -- what leaves this machine ------------------------------------------------------------------

SERVER = ServedScriptedLLM.model_fields["base_url"].default  # the LLM server the run used
ANNOTATORS = ("ada-canary-annotator", "grace-canary-annotator")
CAN_READ = """
import json, sys
from huggingface_hub import HfApi
from huggingface_hub.errors import RepositoryNotFoundError
try:
    HfApi().repo_info(sys.argv[1], repo_type="dataset")
    print(json.dumps({"readable": True}))
except RepositoryNotFoundError:
    print(json.dumps({"readable": False}))
"""
RUN_PUBLISH_STAGE = """
import json, sys
from pathlib import Path
from rader_hub.run.publishing import publish_both
print(json.dumps(publish_both(Path(sys.argv[1]), Path(sys.argv[2]), [], Path(sys.argv[3]), "org/run-math", "org/run", True, True)))
"""


@pytest.fixture(scope="module")
def reviewed_dir(workdir: Path, dataset_dir: Path) -> Path:
    """The run reviewed by two annotators, written by `rader review pull`'s writer."""
    source = load_generation_dataset(dataset_dir)
    rows = [
        {**row, "human_verdict": row["judge_verdict"], "annotators": list(ANNOTATORS), "review_status": "reviewed"} for row in source.rows
    ]
    counts = {"pending": 0, "records_pushed": 6, "judge_unparsed": 0, "rows": {"before": len(rows), "after": len(rows)}}
    out = workdir / "reviewed-by-people"
    write_reviewed_dataset(out, source, rows, {**REVIEW, **counts, "annotators": list(ANNOTATORS)})
    return out


def published_files(hub: LoopbackHub, kind: str, repo_id: str) -> dict[str, bytes]:
    files = hub.state.repo(kind, repo_id).resolve("main").files
    return {name: hub.state.file_bytes(stored) for name, stored in files.items()}


def local_details(files: dict[str, bytes], machine_paths: Path, *names: str) -> list[tuple[str, str]]:
    """(file, detail) for each path under ``machine_paths``, server URL and name found in a file's bytes."""
    details = [str(machine_paths), SERVER.split("://")[1].split("/")[0], *names]
    return [(name, detail) for name, content in files.items() for detail in details if detail.encode() in content]


@pytest.mark.hub
def test_published_files_hold_no_local_path_server_url_or_annotator_name(hub, reviewed_dir, retriever_dir, workdir, tmp_path) -> None:
    machine = workdir.parent  # every path of this test session
    env = hub_env(hub, tmp_path / "hf")
    assert str(machine) in (reviewed_dir / "summary.json").read_text() and SERVER in (reviewed_dir / "recipe.yaml").read_text()
    dataset = run_rader("publish", "dataset", str(reviewed_dir), "--repo", "org/portable", "--license", "mit", env=env)
    assert dataset.returncode == 0, dataset.stderr
    model = run_rader("publish", "model", str(retriever_dir), "--repo", "org/portable-model", env=env)
    assert model.returncode == 0, model.stderr
    assert str(machine) in (retriever_dir / "rader_training.json").read_text()  # the local files keep them

    files = published_files(hub, "dataset", "org/portable")
    model_files = published_files(hub, "model", "org/portable-model")
    assert {"summary.json", "recipe.yaml", "review.json"} <= set(files) and "rader_training.json" in model_files
    assert local_details(files, machine, *ANNOTATORS) == [] and local_details(model_files, machine) == []
    table = pq.read_table(pa.BufferReader(files["data/train-00000-of-00001.parquet"]))
    assert set(map(tuple, table["annotators"].to_pylist())) == {("annotator-1", "annotator-2")}
    assert json.loads(files["review.json"])["annotators"] == ["annotator-1", "annotator-2"]
    # The published recipe is the recipe the rows were made with: it hashes to their recipe_hash.
    recipe = yaml.safe_load(files["recipe.yaml"])
    assert set(table["recipe_hash"].to_pylist()) == {recipe_hash(recipe)}
    llms = [entry["step"]["llm"] for entry in recipe["pipeline"]["steps"] if "llm" in entry["step"]]
    assert llms and {llm["base_url"] for llm in llms} == {SERVER_URL}
    training = json.loads(model_files["rader_training.json"])
    assert (training["config"]["out_dir"], training["data"]["path"]) == (retriever_dir.name, "data")
    assert "`recipe.yaml` hashes to the same value" in files["README.md"].decode()

    named = run_rader(
        "publish", "dataset", str(reviewed_dir), "--repo", "org/portable-named", "--license", "mit", "--include-annotators", env=env
    )
    assert named.returncode == 0, named.stderr
    files = published_files(hub, "dataset", "org/portable-named")
    assert json.loads(files["review.json"])["annotators"] == list(ANNOTATORS) and local_details(files, machine) == []


def test_a_local_path_in_a_column_that_is_not_made_portable_is_refused(dataset_dir, tmp_path) -> None:
    run = tmp_path / "quoted"
    shutil.copytree(dataset_dir, run)
    corpus = str(dataset_dir.parent / "corpus.jsonl")  # the recipe records it; a row's text quotes it
    shard = run / "data" / "train-00000-of-00001.parquet"
    table = pq.read_table(shard)
    reasons = pa.array([f"see {corpus}"] * table.num_rows)
    pq.write_table(table.set_column(table.column_names.index("judge_reason"), "judge_reason", reasons), shard)
    with pytest.raises(ConfigError, match=r"refusing to publish: data/train-00000-of-00001.parquet contain\(s\) a path or server URL"):
        render_publish_folder(ArtifactKind.dataset, run, "org/x", tmp_path / "out", CardOptions(license="mit"))
    assert not (tmp_path / "out").exists()


@pytest.mark.hub
def test_private_on_a_public_repo_makes_it_private_and_says_so(hub, dataset_dir, tmp_path) -> None:
    env = hub_env(hub, tmp_path / "hf")
    publish = ["publish", "dataset", str(dataset_dir), "--repo", "org/visibility", "--license", "mit"]
    assert run_rader(*publish, env=env).returncode == 0
    assert hub.state.repo("dataset", "org/visibility").private is False
    private = run_rader(*publish, "--private", env=env)
    assert private.returncode == 0, private.stderr
    assert "org/visibility was public: made it private (--private)" in private.stderr
    assert hub.state.repo("dataset", "org/visibility").private is True
    anonymous = run_python(CAN_READ, hub_env(hub, tmp_path / "anonymous", token=None), "org/visibility")
    assert anonymous == {"readable": False}
    again = run_rader(*publish, "--private", env=env)
    assert again.returncode == 0 and "made it private" not in again.stderr


@pytest.mark.hub
def test_rader_runs_publish_stage_uploads_no_local_detail_and_makes_public_repos_private(
    hub, dataset_dir, retriever_dir, workdir, tmp_path
) -> None:
    run = tmp_path / "run"  # the embedded sources, as `rader run`'s math recipe has them (their licence is known)
    shutil.copytree(dataset_dir, run)
    recipe = yaml.safe_load((run / "recipe.yaml").read_text())
    for entry in recipe["pipeline"]["steps"]:
        entry["step"].update({key: "embedded" for key in ("source", "corpus") if key in entry["step"]})
    (run / "recipe.yaml").write_text(yaml.safe_dump(recipe, sort_keys=False))
    for kind, repo_id in (("dataset", "org/run-math"), ("model", "org/run")):
        hub.state.create_repo(kind, repo_id, private=False)
    published = run_python(RUN_PUBLISH_STAGE, hub_env(hub, tmp_path / "hf"), str(run), str(retriever_dir), str(tmp_path / "publish"))
    assert published["made_private"] == ["dataset", "model"]
    for kind, repo_id in (("dataset", "org/run-math"), ("model", "org/run")):
        assert hub.state.repo(kind, repo_id).private
        assert local_details(published_files(hub, kind, repo_id), workdir.parent) == []


def _crash_report(result, log_folder: Path) -> Path:
    """The last two stderr lines of a command that met an unexpected error: the one `error:` line
    and the path of its traceback log, which must lie in ``log_folder``, readable by its owner only."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1, result.stderr[-3000:]
    assert [line for line in lines if line.startswith("error:")] == [lines[-2]], result.stderr[-3000:]
    assert lines[-2] == "error: unexpected AttributeError: 'list' object has no attribute 'get'"
    prefix = "full traceback (secrets redacted): "
    assert lines[-1].startswith(prefix)
    log = Path(lines[-1].removeprefix(prefix))
    assert log.parent == log_folder and log.stat().st_mode & 0o777 == 0o600
    text = log.read_text()
    assert "Traceback (most recent call last)" in text and "AttributeError" in text
    assert "locals" not in result.stderr  # rich's traceback panel of local variables (distilabel installs it)
    for output in (result.stdout, result.stderr, text):
        assert TOKEN not in output
    return log


@pytest.mark.hub
def test_an_unexpected_hub_answer_is_one_line_and_a_redacted_log_without_the_token(hub, dataset_dir, tmp_path) -> None:
    hub.state.answer_next("preupload", [5])  # a list where every Hub sends an object: the client fails in its own code
    env = hub_env(hub, tmp_path / "hf", HF_HUB_VERBOSITY="debug")
    result = run_rader("publish", "dataset", str(dataset_dir), "--repo", "org/odd", "--license", "mit", env=env)
    _crash_report(result, Path(os.environ["RADER_CACHE_DIR"]) / "logs")


@pytest.mark.hub
def test_rader_run_publish_stage_meets_an_unexpected_answer_without_leaking_the_token(
    hub, dataset_dir, retriever_dir, eval_files, tmp_path, monkeypatch
) -> None:
    """A run folder whose first four stages are finished (prepared in-process with their real
    ledger, the heavy work replaced by copies of this module's artefacts), then `rader run --repo`."""
    from types import SimpleNamespace

    import rader_hub.generation.run_recipe
    import rader_hub.run.evaluation
    import rader_hub.training
    from rader_hub.run.main_job import MainJob, MainJobOptions

    recipe = Path(__file__).resolve().parent.parent / "recipes" / "math.yaml"
    root = tmp_path / "outputs" / "math"

    def generated(*args, **kwargs) -> None:
        shutil.copytree(dataset_dir, root, dirs_exist_ok=True)
        # `rader run` takes no --license: the recorded sources are made the embedded ones, whose licence is known.
        recipe_copy = root / "recipe.yaml"
        text = recipe_copy.read_text()
        for source in ("problems.jsonl", "corpus.jsonl"):
            text = text.replace(str(dataset_dir.parent / source), "embedded")
        recipe_copy.write_text(text)

    def trained(config, data):
        shutil.copytree(retriever_dir, config.out_dir, dirs_exist_ok=True)
        return SimpleNamespace(steps=2, train_rows=4, train_loss=0.5, loss_curve=None)

    def evaluated(model, base, out_dir, *args):
        out_dir.mkdir(parents=True)
        files = {name: Path(shutil.copy(path, out_dir / f"{name}.json")) for name, path in eval_files.items()}
        chart = out_dir / "ndcg.png"
        chart.write_bytes(b"chart")
        return files, chart

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(rader_hub.generation.run_recipe, "run_recipe", generated)
    monkeypatch.setattr(rader_hub.training, "train_retriever", trained, raising=False)
    monkeypatch.setattr(rader_hub.run.evaluation, "evaluate_beside_baselines", evaluated)
    MainJob(MainJobOptions(recipe=recipe)).run()

    hub.state.answer_next("preupload", [5])
    env = hub_env(hub, tmp_path / "hf", HF_HUB_VERBOSITY="debug")
    result = run_rader("run", str(recipe), "--repo", "org/odd-run", env=env, cwd=str(tmp_path))
    assert all(f"[{n}/5] {name}: done earlier" in result.stderr for n, name in enumerate(["generate", "review", "train", "evaluate"], 1))
    assert "[5/5] publish ..." in result.stderr
    _crash_report(result, Path(os.environ["RADER_CACHE_DIR"]) / "logs")


# -- refusals and failures ----------------------------------------------------------------------


@pytest.mark.hub
def test_a_failed_upload_leaves_the_repo_at_its_previous_commit(hub, dataset_dir, tmp_path) -> None:
    env = hub_env(hub, tmp_path / "hf")
    assert run_rader("publish", "dataset", str(dataset_dir), "--repo", "org/fail", "--license", "mit", env=env).returncode == 0
    before = commits(hub, "dataset", "org/fail")
    hub.state.fail_next("commit", 500)
    failed = run_rader("publish", "dataset", str(dataset_dir), "--repo", "org/fail", "--license", "cc-by-4.0", env=env)
    assert failed.returncode == 2
    assert failed.stderr.strip().splitlines()[-1] == f"error: the Hub at {hub.url} answered 500: injected failure of commit"
    assert commits(hub, "dataset", "org/fail") == before
    again = run_rader("publish", "dataset", str(dataset_dir), "--repo", "org/fail", "--license", "cc-by-4.0", env=env)
    assert again.returncode == 0, again.stderr
    assert commits(hub, "dataset", "org/fail")[1:] == before


def test_a_hub_that_is_down_is_one_line_naming_the_endpoint(dataset_dir, tmp_path) -> None:
    env = {**os.environ, "HF_ENDPOINT": "http://127.0.0.1:9", "HF_HUB_DISABLE_XET": "1", "HF_TOKEN": TOKEN, "HF_HOME": str(tmp_path / "hf")}
    env.pop("HF_HUB_OFFLINE")
    result = run_rader("publish", "dataset", str(dataset_dir), "--repo", "org/down", "--license", "mit", env=env)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "error: cannot reach the Hub at http://127.0.0.1:9 ([Errno 111] Connection refused); check HF_ENDPOINT and the network"
    )


def _parquet(path: Path, table) -> Path:
    import pyarrow.parquet as pq

    (path / "data").mkdir(parents=True)
    pq.write_table(table, path / "data" / "train-00000-of-00001.parquet")
    return path


def _shard(dataset_dir: Path):
    import pyarrow.parquet as pq

    return pq.read_table(dataset_dir / "data" / "train-00000-of-00001.parquet")


def _negatives_as_json(table):
    import pyarrow as pa

    texts = pa.array([json.dumps(values) for values in table.column("negatives").to_pylist()])
    return table.set_column(table.schema.get_field_index("negatives"), "negatives", texts)


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda table: table.drop_columns(["query_type"]), "missing column(s) query_type"),
        (_negatives_as_json, "column 'negatives' is string, the generation output schema says list<item: string>"),
        (lambda table: table.slice(0, 0), "the dataset has no rows"),
    ],
    ids=["missing-column", "wrong-type", "no-rows"],
)
def test_a_dataset_failing_the_output_schema_or_empty_is_refused(dataset_dir, tmp_path, damage, expected) -> None:
    bad = _parquet(tmp_path / "bad", damage(_shard(dataset_dir)))
    with pytest.raises(DataError, match=re.escape(expected)):
        render_publish_folder(ArtifactKind.dataset, bad, "org/bad", tmp_path / "out", CardOptions(license="mit"))
    assert not (tmp_path / "out").exists()


def test_the_refusal_is_one_line_and_exit_2(dataset_dir, tmp_path) -> None:
    bad = _parquet(tmp_path / "empty", _shard(dataset_dir).slice(0, 0))
    result = run_rader("publish", "dataset", str(bad), "--repo", "org/x", "--license", "mit", "--dry-run", "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(f"error: {bad}: the dataset has no rows")


def test_a_model_folder_that_does_not_load_is_refused(retriever_dir, tmp_path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(retriever_dir, broken)
    weights = broken / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: 1 << 16])  # a truncated download
    with pytest.raises(AssetError, match="does not load with sentence-transformers SentenceTransformer"):
        render_publish_folder(ArtifactKind.model, broken, "org/broken", tmp_path / "out")
    with pytest.raises(AssetError, match="is a SentenceTransformer, not a CrossEncoder"):
        render_publish_folder(ArtifactKind.reranker, retriever_dir, "org/broken", tmp_path / "out")


def test_a_card_whose_metadata_does_not_validate_is_refused(dataset_dir, retriever_dir, tmp_path) -> None:
    with pytest.raises(CardError, match=r"license 'apache2' is not a licence identifier the Hub knows \(did you mean 'apache-2.0'\?\)"):
        render_publish_folder(ArtifactKind.dataset, dataset_dir, "org/x", tmp_path / "a", CardOptions(license="apache2"))
    broken_index = tmp_path / "model.md.j2"
    broken_index.write_text("---\n{{ card_data }}\nmodel-index:\n- name: x\n  results: 7\n---\n# {{ repo_id }}\n")
    with pytest.raises(CardError, match="does not parse"):
        render_publish_folder(ArtifactKind.model, retriever_dir, "org/x", tmp_path / "b", CardOptions(template=broken_index))
    wrong_files = tmp_path / "dataset.md.j2"
    wrong_files.write_text("---\n{{ card_data | replace('data/train-*', 'train/*.parquet') }}\n---\n")
    with pytest.raises(CardError, match="data_files 'train/\\*.parquet' matches no file to upload"):
        render_publish_folder(ArtifactKind.dataset, dataset_dir, "org/x", tmp_path / "c", CardOptions(license="mit", template=wrong_files))
    for out in ("a", "b", "c"):
        assert not (tmp_path / out).exists()  # nothing half-rendered is left


HUB_VERDICT = """
import sys
from pathlib import Path
from rader_hub.errors import CardError
from rader_hub.publish.hub import upload_folder

folder = Path(sys.argv[1])
folder.mkdir()
(folder / "README.md").write_text("---\\nlicense: not-a-licence\\n---\\n# x\\n")
try:
    upload_folder(folder, "org/verdict", "model", message="m")
except CardError as exc:
    print(exc)
"""


@pytest.mark.hub
def test_the_hubs_own_verdict_on_card_metadata_is_one_line(hub, tmp_path) -> None:
    # Past the offline checks (called directly), the Hub's validate-yaml answer is reported as such.
    script = [sys.executable, "-c", HUB_VERDICT, str(tmp_path / "folder")]
    result = subprocess.run(script, capture_output=True, text=True, env=hub_env(hub, tmp_path / "hf"), timeout=300, check=False)
    assert result.stdout.strip() == (
        f"the Hub at {hub.url} rejected the card's metadata: Invalid metadata in README.md. "
        "- \"license\" must be one of the Hub's licence identifiers, got 'not-a-licence'"
    )
    assert commits(hub, "model", "org/verdict") == [hub.state.repo("model", "org/verdict").branches["main"]]  # only the creation


def test_bad_repo_ids_and_options_are_named(dataset_dir, tmp_path) -> None:
    for repo, expected in (("org/rader math", "not a valid repo id"), ("rader", "expected ORG/NAME")):
        with pytest.raises(ConfigError, match=expected):
            render_publish_folder(ArtifactKind.dataset, dataset_dir, repo, tmp_path / "out")
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("x")
    with pytest.raises(ConfigError, match="already exists and is not an empty folder"):
        render_publish_folder(ArtifactKind.dataset, dataset_dir, "org/x", tmp_path / "taken", CardOptions(license="mit"))
    with pytest.raises(DataError, match="does not exist"):
        render_publish_folder(ArtifactKind.dataset, tmp_path / "nope", "org/x", tmp_path / "out")
