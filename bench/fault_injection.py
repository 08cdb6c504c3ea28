"""Fault injection: SIGKILL `rader run` at seeded random points, run it again, check that nothing was lost.

One uninterrupted reference run of a tiny configuration first (4 embedded problems, 1 rollout,
small token budgets, greedy decoding, 3 training steps with a checkpoint after each, a 3-theorem
evaluation set, published for real to a loopback Hub started here). Then, per trial, a fresh
`rader run` is killed with SIGKILL (its whole process group: distilabel's step processes too) at a
point drawn from the seed, in one of the stages (the stages in turn, and within a stage its kinds
of kill point in turn, each round in a seeded order; the delays are seeded random draws):

- generate: after k of the problems were checkpointed (k from 0..n; k = n lands in query
  synthesis, hard negatives or the save), plus a random delay;
- train: just after checkpoint j was written, or while checkpoint j is being written (its folder
  exists, its trainer_state.json not yet);
- evaluate: a random delay into the stage;
- publish: while the loopback Hub holds the dataset's or the model's upload in flight: its
  preupload request (the file list) or its commit request (the commit itself, with the files);
  for the model, the dataset's commit went through before. A held request is never applied.

The same command then runs again to completion, and the trial checks:

- every problem was searched exactly once after the kill: those checkpointed before it were not
  searched again (their checkpoint files are untouched, same inode and mtime), each of the others
  was searched once (the search's own "problem X: N rollouts done" log line, counted);
- the dataset has no duplicate row and equals the reference's row for row, every column but
  ``created_at`` (the row's write time). Decoding is greedy, the search's random choices are seeded
  per problem and the embedded engine gives the same tokens for a prompt whatever it is batched
  with, so a search resumed with fewer problems grows the same trees: the datasets must be equal,
  not merely similar;
- training resumed from the last complete checkpoint at the kill (``resumed_from`` in
  rader_training.json, and the run's own "resuming from checkpoint-j" line), not from step 0, and
  ran to the configured number of steps;
- the killed stage was not recorded as finished, the stages before it were skipped on the re-run;
- the evaluation equals the reference's where the model is the reference's (evaluate and publish
  trials);
- at the kill, each Hub repo is at its previous commit or at a complete new one (never a partial
  commit); after the re-run each repo's head holds exactly the local publish folder, and one
  commit was added on top of the previous one (publish trials start from repos that already hold
  an older version).

Trials of the later stages start from a copy of the reference's run folder as it stood when that
stage began (the stage ledger truncated there): the state an uninterrupted first attempt would have
reached, without paying for generation again. Generation trials start from an empty folder. The
embedded models and the embedding cache are shared by all trials (``--cache-dir``).

Beside SIGKILL, faults a step hits and must fail the run on (``--kinds``), each tried on `rader
generate` alone (the stage they happen in), with 3 problems:

- ``llm-5xx`` / ``llm-timeout``: the OpenAI recipe (``recipes/math-openai.yaml``) against the
  embedded SmolLM2 behind `transformers serve` (or ``--base-url``), reached through a loopback proxy
  (bench/llm_proxy.py) that, from the Nth chat completion on, answers HTTP 500 or holds the request
  past the client's timeout (N drawn among the reference run's requests: the search's or the query
  synthesis');
- ``enospc``: the embedded recipe, with the K-th problem's search checkpoint failing with ENOSPC
  half-written (bench/enospc/sitecustomize.py on PYTHONPATH).

Each such trial checks: the failed run exits 2 with one line naming the step and the cause and
writes no dataset; the problems checkpointed before the fault are kept (untouched by the re-run,
each other problem searched once); the re-run with the fault cleared (same settings, same URL)
makes a dataset equal to an uninterrupted run's, row for row (``created_at`` aside).

Usage: python bench/fault_injection.py --trials 20 [--seed 0] [--kinds sigkill,llm-5xx,llm-timeout,enospc]
       [--stages generate,train,evaluate,publish]
Prints one row per trial, then a JSON line with the totals last.
"""

from __future__ import annotations

import argparse
import base64
import collections
import contextlib
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from llm_proxy import FailingProxy, Fault
from machine import machine_fields
from servers import add_server_arguments, check_server_arguments, server

from devtools.hub_server import HubState, LoopbackHub
from devtools.openai_server import EMBEDDED_STAND_INS  # the tests' stand-ins for the OpenAI recipe's Hub data

ROOT = Path(__file__).resolve().parent.parent
RECIPE = ROOT / "recipes" / "math.yaml"
STAGES = ("generate", "review", "train", "evaluate", "publish")
KILLABLE = ("generate", "train", "evaluate", "publish")
PROBLEMS = 4
TRAIN_STEPS = 3
GREEDY = json.dumps({"do_sample": False})
PARAMS = {
    "load_problems.num_problems": PROBLEMS,
    "mcts_search.rollouts": 1,
    "mcts_search.max_depth": 3,
    "mcts_search.ost_children": 1,
    "mcts_search.top_k": 3,
    "mcts_search.step_tokens": 24,
    "mcts_search.solution_tokens": 32,
    "mcts_search.query_tokens": 32,
    "mcts_search.judge_tokens": 16,
    "mcts_search.summary_tokens": 16,
    "mcts_search.llm.generation_kwargs": GREEDY,
    "synthesize_queries.query_tokens": 24,
    "synthesize_queries.llm.generation_kwargs": GREEDY,
}
TRAIN = {"max_steps": TRAIN_STEPS, "save_steps": 1, "max_seq_length": 64}
EVAL_CORPUS = [
    {
        "id": "pigeonhole",
        "title": "Pigeonhole principle",
        "text": "If n items are put into m containers with n > m, some container holds two.",
    },
    {
        "id": "pythagoras",
        "title": "Pythagorean theorem",
        "text": "In a right triangle the square of the hypotenuse equals the sum of the squares of the legs.",
    },
    {
        "id": "bayes",
        "title": "Bayes' theorem",
        "text": "The posterior probability is proportional to the likelihood times the prior probability.",
    },
]
EVAL_QUERIES = [
    {"id": "socks", "query": "Ten socks go into nine drawers; show that a drawer holds two.", "gold_ids": ["pigeonhole"]},
    {"id": "ladder", "query": "A ladder leans on a wall; how high does it reach?", "gold_ids": ["pythagoras"]},
]
ORG = "fault"
STEP_FAULTS = ("llm-5xx", "llm-timeout", "enospc")
KINDS = ("sigkill", *STEP_FAULTS)
OPENAI_RECIPE = ROOT / "recipes" / "math-openai.yaml"
ENOSPC_HOOK = Path(__file__).resolve().parent / "enospc"
FAULT_PROBLEMS = 3
CLIENT_TIMEOUT = 90  # seconds the client waits for an answer (30 s timed out genuine requests at load 14); held longer
FAULT_PARAMS = {**PARAMS, "load_problems.num_problems": FAULT_PROBLEMS}
OPENAI_PARAMS = {
    "load_problems.num_problems": FAULT_PROBLEMS,
    "mcts_search.rollouts": 1,
    "mcts_search.max_depth": 3,
    "mcts_search.ost_children": 1,
    "mcts_search.top_k": 2,
    "mcts_search.step_tokens": 24,
    "mcts_search.solution_tokens": 32,
    "mcts_search.query_tokens": 24,
    "mcts_search.judge_tokens": 8,
    "mcts_search.summary_tokens": 16,
    "mcts_search.theorem_chars": 400,
    "synthesize_queries.query_tokens": 16,
    "synthesize_queries.theorem_chars": 400,
    "mcts_search.max_concurrent_requests": 2,
    "synthesize_queries.max_concurrent_requests": 2,
    **EMBEDDED_STAND_INS,
}
FAILED_LINE = re.compile(r"^error: step '(\w+)' failed: (\w+): (.*?); no dataset was written")
SEARCHED = re.compile(r"problem (\S+): \d+ rollouts done")
STAGE_LINE = re.compile(r"^\[\d/\d\] (\w+)(?: \.\.\.|: (done|skipped|done earlier).*)$", re.MULTILINE)
POLL_SECONDS = 0.02


@dataclass
class Context:
    work: Path
    hub: LoopbackHub
    env: dict[str, str]
    eval_args: list[str]
    reference: Path | None = None  # the reference run folder (outputs/math)


@dataclass
class KillPlan:
    stage: str
    description: str
    ready: Callable[[Path, str], bool]  # (run folder, stderr so far) -> kill now?
    delay: float = 0.0
    hold: Any = None  # the loopback Hub's held request, for publish trials


@dataclass
class Trial:
    index: int
    stage: str
    plan: str = ""
    killed_in: str | None = None
    kill_seconds: float = 0.0
    rerun_seconds: float = 0.0
    checks: dict[str, bool] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(self.checks.values())


# -- running `rader run` ------------------------------------------------------------------------


def command(repo: str, ctx: Context) -> list[str]:
    args = [sys.executable, "-m", "rader_hub", "run", str(RECIPE), "--json", "--repo", repo, *ctx.eval_args]
    for name, value in PARAMS.items():
        args += ["--param", f"{name}={value}"]
    for name, value in TRAIN.items():
        args += ["--train", f"{name}={value}"]
    return args


def launch(trial_dir: Path, repo: str, ctx: Context, attempt: str) -> tuple[subprocess.Popen, Path]:
    log = trial_dir / f"{attempt}.stderr"
    env = {**ctx.env, "DISTILABEL_CACHE_DIR": str(trial_dir / "distilabel-cache")}
    with (trial_dir / f"{attempt}.stdout").open("w") as out, log.open("w") as err:
        process = subprocess.Popen(command(repo, ctx), cwd=trial_dir, env=env, stdout=out, stderr=err, start_new_session=True)
    return process, log


def kill_group(process: subprocess.Popen) -> bool:
    """SIGKILL the run's whole process group; True once no process of it is left."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def running_stage(stderr: str) -> str | None:
    """The stage the run was in: the last one started and not reported done."""
    current = None
    for match in STAGE_LINE.finditer(stderr):
        current = None if match.group(2) else match.group(1)
    return current


# -- the run folder ------------------------------------------------------------------------------


def run_folder(trial_dir: Path) -> Path:
    return trial_dir / "outputs" / "math"


def dataset_rows(folder: Path) -> list[dict[str, Any]]:
    rows = pq.read_table(folder / "data" / "train-00000-of-00001.parquet").to_pylist()
    return [{key: value for key, value in row.items() if key != "created_at"} for row in rows]


def search_checkpoints(folder: Path) -> dict[str, tuple[int, int]]:
    """problem id -> (inode, mtime) of its search checkpoint: a rewrite (a second search) changes both."""
    found = {}
    for path in sorted((folder / "checkpoints" / "search").glob("*.json")):
        with suppress(OSError, ValueError):
            stat = path.stat()
            found[json.loads(path.read_text())["key"]] = (stat.st_ino, stat.st_mtime_ns)
    return found


def training_checkpoints(folder: Path) -> dict[int, bool]:
    """step -> complete (trainer_state.json written last by transformers) of every checkpoint folder."""
    found = {}
    for path in (folder / "model" / "checkpoints").glob("checkpoint-*"):
        with suppress(ValueError):
            found[int(path.name.split("-")[1])] = (path / "trainer_state.json").is_file()
    return found


def ledger(folder: Path) -> dict[str, Any]:
    path = folder / "run" / "stages.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def copy_reference_until(stage: str, ctx: Context, trial_dir: Path) -> None:
    """The reference's run folder as it stood when ``stage`` began: its outputs and ledger entries
    (paths moved to the trial's folder) for the stages before it only."""
    assert ctx.reference is not None
    target = run_folder(trial_dir)
    later = STAGES[STAGES.index(stage) :]
    made_by = {"train": ["model"], "evaluate": ["eval"], "publish": ["publish"]}
    skip = {name for stage_name in later for name in made_by.get(stage_name, [])} | {"run_summary.json"}
    shutil.copytree(ctx.reference, target, ignore=lambda folder, names: [n for n in names if folder == str(ctx.reference) and n in skip])
    stages = {name: record for name, record in ledger(ctx.reference).items() if name not in later}
    text = json.dumps(stages, indent=1).replace(str(ctx.reference), str(target))
    (target / "run" / "stages.json").write_text(text)


# -- the loopback Hub ---------------------------------------------------------------------------


def repos(repo: str) -> dict[str, tuple[str, str]]:
    return {"dataset": ("dataset", f"{repo}-math"), "model": ("model", repo)}


def head(state: HubState, kind: str, repo_id: str) -> str | None:
    with state.lock:
        found = state.repos.get((kind, repo_id))
        return found.branches["main"] if found else None


def seed_previous_version(state: HubState, repo: str) -> dict[str, str]:
    """Give both repos an older version, so that an interrupted publish has a previous commit to stay at."""
    heads = {}
    for name, (kind, repo_id) in repos(repo).items():
        state.create_repo(kind, repo_id, private=False)
        content = base64.b64encode(f"# {repo_id}\n\nan older version\n".encode()).decode()
        operations = [("file", {"path": "README.md", "content": content}), ("file", {"path": "old-notes.txt", "content": content})]
        heads[name] = state.commit(state.repo(kind, repo_id), "main", {"summary": "an older version"}, operations).oid
    return heads


def hub_files(state: HubState, kind: str, repo_id: str, oid: str) -> dict[str, str]:
    """path -> sha256 of the content of every file of a commit (.gitattributes aside)."""
    with state.lock:
        commit = state.repos[(kind, repo_id)].commits[oid]
        return {
            path: hashlib.sha256(state.blobs[stored.blob_key]).hexdigest()
            for path, stored in commit.files.items()
            if path != ".gitattributes"
        }


def local_files(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest() for path in folder.rglob("*") if path.is_file()
    }


def commits_since(state: HubState, kind: str, repo_id: str, base: str | None) -> list[str]:
    """The commits on main after ``base`` (None: after the repo's initial commit), newest first."""
    with state.lock:
        history = list(state.repos[(kind, repo_id)].history("main"))
    oids = [commit.oid for commit in history]
    return oids[: oids.index(base)] if base in oids else oids[:-1]


# -- kill plans ----------------------------------------------------------------------------------


def variants(stage: str) -> list[Any]:
    """The kinds of kill point of a stage; trials take them in turn (a seeded order), so that a
    few trials already cover them all."""
    if stage == "generate":
        return list(range(PROBLEMS + 1))  # problems checkpointed before the kill
    if stage == "train":
        return [(step, written) for step in range(1, TRAIN_STEPS) for written in (True, False)]
    if stage == "publish":
        return [(target, action) for target in ("dataset", "model") for action in ("preupload", "commit")]
    return [None]


def plan_kill(stage: str, variant: Any, rng: random.Random, state: HubState, repo: str) -> KillPlan:
    if stage == "generate":
        k = variant
        if k == 0:
            return KillPlan(stage, "search started, no problem checkpointed", lambda f, err: "MCTS rollouts" in err, rng.uniform(0, 8))
        delay = rng.uniform(0, 2) if k < PROBLEMS else rng.uniform(0, 25)
        where = f"{k} of {PROBLEMS} problems checkpointed" + (" (queries, negatives, save)" if k == PROBLEMS else "")
        return KillPlan(stage, where, lambda f, err: len(search_checkpoints(f)) >= k, delay)
    if stage == "train":
        step, written = variant
        if written:
            return KillPlan(
                stage, f"checkpoint-{step} written", lambda f, err: training_checkpoints(f).get(step) is True, rng.uniform(0, 1)
            )
        return KillPlan(stage, f"while checkpoint-{step} is written", lambda f, err: training_checkpoints(f).get(step) is False)
    if stage == "evaluate":
        return KillPlan(stage, "evaluation started", lambda f, err: running_stage(err) == "evaluate", rng.uniform(0, 3))
    # The files' LFS objects are on the server already (the reference's identical files went up
    # first), so the client skips their transfer: the requests a publish always makes are held.
    target, action = variant
    hold = state.hold_next(action, repos(repo)[target])
    return KillPlan(stage, f"{target} upload: {action} request in flight", lambda f, err: hold.arrived.is_set(), hold=hold)


# -- one trial -----------------------------------------------------------------------------------


def run_trial(index: int, stage: str, variant: Any, rng: random.Random, ctx: Context, reference: dict[str, Any]) -> Trial:
    trial = Trial(index, stage)
    trial_dir = ctx.work / f"trial-{index:02d}"
    shutil.rmtree(trial_dir, ignore_errors=True)
    trial_dir.mkdir(parents=True)
    if stage != "generate":
        copy_reference_until(stage, ctx, trial_dir)
    repo = f"{ORG}/trial-{index:02d}"
    state = ctx.hub.state
    previous = seed_previous_version(state, repo) if stage == "publish" else {}
    plan = plan_kill(stage, variant, rng, state, repo)
    trial.plan = plan.description + (f" +{plan.delay:.1f}s" if plan.delay else "")
    folder = run_folder(trial_dir)

    started = time.monotonic()
    process, log = launch(trial_dir, repo, ctx, "attempt-1")
    fired_at = None
    while process.poll() is None:
        now = time.monotonic()
        if fired_at is None and plan.ready(folder, log.read_text(errors="replace")):
            fired_at = now
        if fired_at is not None and now - fired_at >= plan.delay:
            break
        time.sleep(POLL_SECONDS)
    if process.poll() is not None:
        trial.notes.append(f"the run ended (rc {process.returncode}) before the kill point")
        trial.checks["killed"] = False
        return trial
    trial.checks["process group gone after SIGKILL"] = kill_group(process)
    trial.kill_seconds = time.monotonic() - started
    stderr = log.read_text(errors="replace")
    trial.killed_in = running_stage(stderr)
    at_kill = {
        "search": search_checkpoints(folder),
        "training": training_checkpoints(folder),
        "ledger": set(ledger(folder)),
        "heads": {name: head(state, kind, repo_id) for name, (kind, repo_id) in repos(repo).items()},
        "searched": collections.Counter(SEARCHED.findall(stderr)),
    }
    if plan.hold is not None:
        check_hub_at_kill(trial, state, repo, previous, at_kill["heads"])
        plan.hold.release()

    rerun_started = time.monotonic()
    process, log = launch(trial_dir, repo, ctx, "attempt-2")
    process.wait()
    trial.rerun_seconds = time.monotonic() - rerun_started
    stderr = log.read_text(errors="replace")
    trial.checks["re-run finished"] = process.returncode == 0
    if process.returncode != 0:
        trial.notes.append(stderr.strip().splitlines()[-1] if stderr.strip() else f"rc {process.returncode}")
        return trial
    summary = json.loads((trial_dir / "attempt-2.stdout").read_text())
    check_stages(trial, at_kill["ledger"], summary)
    check_search(trial, folder, at_kill, stderr)
    check_dataset(trial, folder, reference)
    check_training(trial, folder, at_kill, stderr)
    check_evaluation(trial, folder, reference)
    check_hub_after(trial, state, repo, folder, previous)
    return trial


def check_stages(trial: Trial, recorded_at_kill: set[str], summary: dict[str, Any]) -> None:
    killed = trial.killed_in or trial.stage
    before = set(STAGES[: STAGES.index(killed)])
    trial.checks["killed stage not recorded as finished"] = killed not in recorded_at_kill and recorded_at_kill <= before
    skipped = {stage["name"]: stage["skipped"] for stage in summary["stages"]}
    trial.checks["re-run skipped the finished stages only"] = all(skipped[name] == (name in recorded_at_kill) for name in STAGES)


def check_search(trial: Trial, folder: Path, at_kill: dict[str, Any], stderr: str) -> None:
    final = search_checkpoints(folder)
    searched = collections.Counter(SEARCHED.findall(stderr))
    expected = collections.Counter(problem for problem in final if problem not in at_kill["search"])
    untouched = all(final.get(problem) == stamp for problem, stamp in at_kill["search"].items())
    trial.checks["each problem searched exactly once after the kill"] = len(final) == PROBLEMS and untouched and searched == expected
    if trial.stage == "generate":
        redone = sorted(set(at_kill["searched"]) - set(at_kill["search"]))
        trial.notes.append(
            f"{len(at_kill['search'])} checkpointed at the kill, {sum(searched.values())} searched by the re-run"
            + (f" (finished but not yet checkpointed at the kill: {', '.join(redone)})" if redone else "")
        )


def check_dataset(trial: Trial, folder: Path, reference: dict[str, Any]) -> None:
    rows = dataset_rows(folder)
    keys = [(row["problem_id"], row["sample_id"], row["query_type"], row["query"]) for row in rows]
    trial.checks["no row lost or duplicated"] = len(keys) == len(set(keys)) == len(reference["rows"])
    trial.checks["dataset equals the reference's"] = rows == reference["rows"]


def check_training(trial: Trial, folder: Path, at_kill: dict[str, Any], stderr: str) -> None:
    training = json.loads((folder / "model" / "rader_training.json").read_text())
    complete = [step for step, done in at_kill["training"].items() if done]
    expected = f"checkpoint-{max(complete)}" if complete else None
    if trial.killed_in == "train" or trial.stage == "generate":
        said = expected is None or f"resuming from {expected}" in stderr
        trial.checks["training resumed from the last complete checkpoint"] = training.get("resumed_from") == expected and said
        trial.notes.append(f"training resumed from {expected}" if expected else "no complete checkpoint at the kill: trained from step 0")
    trial.checks["trained to the last step"] = training["steps"] == TRAIN_STEPS


def check_evaluation(trial: Trial, folder: Path, reference: dict[str, Any]) -> None:
    metrics = eval_metrics(folder)
    if trial.stage in ("evaluate", "publish"):
        trial.checks["evaluation equals the reference's"] = metrics == reference["eval"]
    else:  # a model retrained from the same data and seed: recorded, not required bit for bit
        same = metrics == reference["eval"]
        trial.notes.append("evaluation equals the reference's" if same else "evaluation differs from the reference's (model retrained)")


def eval_metrics(folder: Path) -> dict[str, dict[str, float]]:
    return {
        path.stem: {k: v for k, v in json.loads(path.read_text()).items() if k != "settings"}
        for path in sorted((folder / "eval").glob("*.json"))
    }


def check_hub_at_kill(trial: Trial, state: HubState, repo: str, previous: dict[str, str], heads: dict[str, str | None]) -> None:
    """At the kill: each repo at its previous commit, or at a complete new one (the dataset's, when the
    model's upload was the one held); never anything in between."""
    ok = heads["model"] == previous["model"]
    if heads["dataset"] != previous["dataset"]:
        kind, repo_id = repos(repo)["dataset"]
        new = commits_since(state, kind, repo_id, previous["dataset"])
        ok = ok and len(new) == 1 and trial.plan.startswith("model upload")
        trial.notes.append("dataset commit complete before the model's upload was killed")
    trial.checks["Hub repos at their previous commit at the kill"] = ok


def check_hub_after(trial: Trial, state: HubState, repo: str, folder: Path, previous: dict[str, str]) -> None:
    ok = True
    for name, (kind, repo_id) in repos(repo).items():
        new = commits_since(state, kind, repo_id, previous.get(name))
        local = local_files(folder / "publish" / name)
        ok = ok and len(new) == 1 and hub_files(state, kind, repo_id, new[0]) == local
    trial.checks["Hub: one complete commit on the previous one"] = ok


# -- faults a step hits: the LLM server, the disk ------------------------------------------------


@dataclass
class StepFaults:
    """What the step-fault trials share: the proxy in front of the LLM server, and a reference
    dataset per recipe (made by an uninterrupted `rader generate` with the same settings)."""

    proxy: FailingProxy | None = None
    model: str = ""
    references: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    reference_requests: int = 0  # chat completions the uninterrupted OpenAI run made


def fault_recipe(kind: str) -> Path:
    return OPENAI_RECIPE if kind.startswith("llm") else RECIPE


def generate_command(kind: str, faults: StepFaults) -> list[str]:
    recipe = fault_recipe(kind)
    params: dict[str, Any] = dict(FAULT_PARAMS)
    if recipe == OPENAI_RECIPE:
        assert faults.proxy is not None
        params = dict(OPENAI_PARAMS)
        for step in ("mcts_search", "synthesize_queries"):
            params |= {
                f"{step}.llm.base_url": faults.proxy.url,
                f"{step}.llm.model": faults.model,
                f"{step}.llm.generation_kwargs": json.dumps({"temperature": 0.0}),
                f"{step}.llm.timeout": CLIENT_TIMEOUT,
                f"{step}.llm.max_retries": 0,  # the proxy fails every request from the Nth on: retries only add time
            }
    args = [sys.executable, "-m", "rader_hub", "generate", str(recipe)]
    for name, value in params.items():
        args += ["--param", f"{name}={value}"]
    return args


def generate(
    trial_dir: Path, kind: str, ctx: Context, faults: StepFaults, attempt: str, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    """Run `rader generate` to its end; its exit code, its stderr, and its log (distilabel's, on stdout)."""
    log = trial_dir / f"{attempt}.stderr"
    env = {**ctx.env, "DISTILABEL_CACHE_DIR": str(trial_dir / "distilabel-cache"), **(env or {})}
    with (trial_dir / f"{attempt}.stdout").open("w") as out, log.open("w") as err:
        process = subprocess.Popen(generate_command(kind, faults), cwd=trial_dir, env=env, stdout=out, stderr=err, start_new_session=True)
        process.wait()
    kill_group(process)  # nothing of it may outlive it
    return process.returncode, log.read_text(errors="replace"), (trial_dir / f"{attempt}.stdout").read_text(errors="replace")


def fault_reference(kind: str, ctx: Context, faults: StepFaults) -> list[dict[str, Any]]:
    """The dataset of an uninterrupted run of the recipe ``kind`` uses (made once per recipe)."""
    recipe = fault_recipe(kind)
    if recipe.name not in faults.references:
        trial_dir = ctx.work / f"reference-{recipe.stem}"
        shutil.rmtree(trial_dir, ignore_errors=True)
        trial_dir.mkdir(parents=True)
        if faults.proxy is not None:
            faults.proxy.clear()
        started = time.monotonic()
        code, stderr, _ = generate(trial_dir, kind, ctx, faults, "run")
        if code != 0:
            raise SystemExit(f"the reference generation of {recipe.name} failed:\n" + stderr[-3000:])
        rows = dataset_rows(run_folder_of(trial_dir, recipe))
        if not rows:
            raise SystemExit(f"the reference generation of {recipe.name} made no rows: too small to check anything")
        if recipe == OPENAI_RECIPE and faults.proxy is not None:
            faults.reference_requests = faults.proxy.completions
        faults.references[recipe.name] = rows
        print(
            f"reference generation ({recipe.name}): {time.monotonic() - started:.0f}s, {len(rows)} rows"
            + (f", {faults.reference_requests} chat completions" if recipe == OPENAI_RECIPE else ""),
            flush=True,
        )
    return faults.references[recipe.name]


def run_folder_of(trial_dir: Path, recipe: Path) -> Path:
    return trial_dir / "outputs" / recipe.stem


def fault_variants(kind: str, faults: StepFaults) -> list[Any]:
    """Fault points: the problem whose checkpoint hits the full disk; the first failed request,
    spread over the reference run's requests (early ones fail the search, late ones the query synthesis)."""
    if kind == "enospc":
        return list(range(1, FAULT_PROBLEMS + 1))
    last = max(faults.reference_requests, 1)
    return sorted({max(1, round(last * share)) for share in (0.02, 0.3, 0.6, 0.85, 1.0)})


def run_step_fault_trial(index: int, kind: str, variant: int, ctx: Context, faults: StepFaults) -> Trial:
    reference = fault_reference(kind, ctx, faults)
    trial = Trial(index, kind)
    trial_dir = ctx.work / f"trial-{index:02d}"
    shutil.rmtree(trial_dir, ignore_errors=True)
    trial_dir.mkdir(parents=True)
    folder = run_folder_of(trial_dir, fault_recipe(kind))
    env: dict[str, str] = {}
    if kind == "enospc":
        trial.plan = f"disk full writing the search checkpoint of problem {variant} of {FAULT_PROBLEMS}"
        env = {"RADER_BENCH_ENOSPC_AT": str(variant), "PYTHONPATH": os.pathsep.join([str(ENOSPC_HOOK), ctx.env.get("PYTHONPATH", "")])}
    else:
        assert faults.proxy is not None
        answer = "HTTP 500" if kind == "llm-5xx" else f"no answer within {CLIENT_TIMEOUT}s"
        trial.plan = f"{answer} from chat completion {variant} of {faults.reference_requests} on"
        faults.proxy.fail_from(Fault("5xx" if kind == "llm-5xx" else "timeout", variant, CLIENT_TIMEOUT + 2))

    started = time.monotonic()
    code, stderr, log = generate(trial_dir, kind, ctx, faults, "attempt-1", env)
    trial.kill_seconds = time.monotonic() - started
    if faults.proxy is not None:
        faults.proxy.clear()  # the fault is gone: the same URL answers again
    last = stderr.strip().splitlines()[-1] if stderr.strip() else ""
    failed = FAILED_LINE.match(last)
    trial.killed_in = failed.group(1) if failed else None
    expected_cause = {
        "llm-5xx": ("InternalServerError", "Error code: 500"),
        "llm-timeout": ("APITimeoutError", "timed out"),
        "enospc": ("OSError", "No space left on device"),
    }[kind]
    trial.checks["failed run: exit 2, one line naming the step and the cause"] = (
        code == 2 and failed is not None and failed.group(2) == expected_cause[0] and expected_cause[1] in failed.group(3)
    )
    if not trial.checks["failed run: exit 2, one line naming the step and the cause"]:
        trial.notes.append(f"rc {code}: {last[:200]}")
    trial.checks["failed run wrote no dataset"] = not (folder / "data" / "train-00000-of-00001.parquet").exists()
    at_fault = {"search": search_checkpoints(folder), "searched": collections.Counter(SEARCHED.findall(log))}
    if kind == "enospc":
        leftovers = list((folder / "checkpoints" / "search").glob(".tmp-*"))
        trial.checks["finished problems checkpointed, the failed one not, no half file"] = (
            len(at_fault["search"]) == variant - 1 and not leftovers
        )

    rerun_started = time.monotonic()
    code, stderr, log = generate(trial_dir, kind, ctx, faults, "attempt-2")
    trial.rerun_seconds = time.monotonic() - rerun_started
    trial.checks["re-run finished"] = code == 0
    if code != 0:
        trial.notes.append(stderr.strip().splitlines()[-1] if stderr.strip() else f"rc {code}")
        return trial
    final = search_checkpoints(folder)
    searched = collections.Counter(SEARCHED.findall(log))
    expected = collections.Counter(problem for problem in final if problem not in at_fault["search"])
    untouched = all(final.get(problem) == stamp for problem, stamp in at_fault["search"].items())
    trial.checks["checkpointed problems kept, the others searched once"] = (
        len(final) == FAULT_PROBLEMS and untouched and searched == expected
    )
    trial.notes.append(
        f"failed in {trial.killed_in}; {len(at_fault['search'])} problems checkpointed at the fault, "
        f"{sum(searched.values())} searched by the re-run"
    )
    rows = dataset_rows(folder)
    keys = [(row["problem_id"], row["sample_id"], row["query_type"], row["query"]) for row in rows]
    trial.checks["no row lost or duplicated"] = len(keys) == len(set(keys)) == len(reference)
    trial.checks["dataset equals the reference's"] = rows == reference
    return trial


# -- the whole benchmark -----------------------------------------------------------------------


def reference_run(ctx: Context) -> dict[str, Any]:
    trial_dir = ctx.work / "reference"
    shutil.rmtree(trial_dir, ignore_errors=True)
    trial_dir.mkdir(parents=True)
    started = time.monotonic()
    process, log = launch(trial_dir, f"{ORG}/reference", ctx, "run")
    if process.wait() != 0:
        raise SystemExit(f"the reference run failed; see {log}:\n" + log.read_text(errors="replace")[-3000:])
    ctx.reference = run_folder(trial_dir)
    summary = json.loads((trial_dir / "run.stdout").read_text())
    rows = dataset_rows(ctx.reference)
    if not rows:
        raise SystemExit("the reference run made no dataset rows: the configuration is too small to check anything")
    return {
        "rows": rows,
        "eval": eval_metrics(ctx.reference),
        "seconds": time.monotonic() - started,
        "stages": {stage["name"]: stage["seconds"] for stage in summary["stages"]},
    }


def schedule(trials: int, lanes: list[str], variants_of: Callable[[str], list[Any]], rng: random.Random) -> list[tuple[str, Any]]:
    """(lane, its kind of fault point) per trial: every lane (a stage SIGKILL hits, or a step fault)
    equally often, and each lane's kinds in turn, both in a seeded order."""
    decks: dict[str, list[Any]] = {lane: [] for lane in lanes}
    order: list[tuple[str, Any]] = []
    while len(order) < trials:
        round_ = list(lanes)
        rng.shuffle(round_)
        for lane in round_:
            if not decks[lane]:
                decks[lane] = variants_of(lane)
                rng.shuffle(decks[lane])
            order.append((lane, decks[lane].pop()))
    return order[:trials]


def print_row(trial: Trial) -> None:
    failed = [name for name, ok in trial.checks.items() if not ok]
    verdict = "PASS" if trial.passed else "FAIL: " + "; ".join(failed)
    print(
        f"{trial.index:>3}  {trial.stage:<9} {trial.plan:<62} {trial.killed_in or '-':<9} {trial.kill_seconds:>7.1f} "
        f"{trial.rerun_seconds:>7.1f}  {sum(trial.checks.values())}/{len(trial.checks)}  {verdict}",
        flush=True,
    )
    for note in trial.notes:
        print(f"     {note}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--kinds", default=",".join(KINDS), help=f"fault kinds, comma-separated ({', '.join(KINDS)})")
    parser.add_argument("--stages", default=",".join(KILLABLE), help="sigkill: stages to kill in, comma-separated")
    parser.add_argument("--workdir", type=Path, default=None, help="default: a new temporary folder")
    parser.add_argument("--cache-dir", type=Path, default=None, help="RADER_CACHE_DIR shared by all runs (default: WORKDIR/cache)")
    parser.add_argument("--keep", action="store_true", help="keep the trials' folders")
    add_server_arguments(parser)  # llm-* kinds: the server behind the proxy
    args = parser.parse_args()
    check_server_arguments(parser, args)
    kinds = [kind.strip() for kind in args.kinds.split(",") if kind.strip()]
    stages = [stage.strip() for stage in args.stages.split(",") if stage.strip()]
    for option, given, known in (("--kinds", kinds, KINDS), ("--stages", stages, KILLABLE)):
        unknown = sorted(set(given) - set(known))
        if unknown or not given:
            parser.error(f"{option}: unknown {', '.join(unknown) or 'none given'} (choose from {', '.join(known)})")
    lanes = (stages if "sigkill" in kinds else []) + [kind for kind in kinds if kind in STEP_FAULTS]

    work = (args.workdir or Path(tempfile.mkdtemp(prefix="rader-fault-"))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    corpus, queries = work / "eval-corpus.jsonl", work / "eval-queries.jsonl"
    corpus.write_text("".join(json.dumps(row) + "\n" for row in EVAL_CORPUS))
    queries.write_text("".join(json.dumps(row) + "\n" for row in EVAL_QUERIES))
    token = f"hf_fault{uuid.uuid4().hex}"
    rng = random.Random(args.seed)
    load_before = os.getloadavg()
    llm_kinds = any(kind.startswith("llm") for kind in kinds)
    with LoopbackHub(token=token) as hub, server(args) if llm_kinds else contextlib.nullcontext((None, "")) as (upstream, model):
        env = {
            **os.environ,
            "RADER_CACHE_DIR": str((args.cache_dir or work / "cache").resolve()),
            "HF_HOME": str(work / "hf-home"),
            "HF_ENDPOINT": hub.url,
            "HF_HUB_DISABLE_XET": "1",
            "HF_TOKEN": token,
            "COLUMNS": "1000",
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("HF_HUB_OFFLINE", None)  # publishing goes to the loopback Hub; the models are local
        ctx = Context(work, hub, env, ["--eval-corpus", str(corpus), "--eval-queries", str(queries)])
        faults = StepFaults(proxy=FailingProxy(upstream).__enter__() if upstream else None, model=model)
        reference: dict[str, Any] = {"rows": [], "seconds": 0.0}
        if "sigkill" in kinds:
            reference = reference_run(ctx)
            print(
                f"reference run: {reference['seconds']:.0f}s, {len(reference['rows'])} rows, stages "
                + ", ".join(f"{name} {seconds:.0f}s" for name, seconds in reference["stages"].items()),
                flush=True,
            )
        if llm_kinds:
            fault_reference("llm-5xx", ctx, faults)  # the fault points are drawn among its requests

        def variants_of(lane: str) -> list[Any]:
            return fault_variants(lane, faults) if lane in STEP_FAULTS else variants(lane)

        print(f"{'#':>3}  {'stage':<9} {'kill point':<62} {'killed in':<9} {'kill s':>7} {'rerun s':>7}  checks", flush=True)
        results = []
        for index, (lane, variant) in enumerate(schedule(args.trials, lanes, variants_of, rng), start=1):
            if lane in STEP_FAULTS:
                trial = run_step_fault_trial(index, lane, variant, ctx, faults)
            else:
                trial = run_trial(index, lane, variant, rng, ctx, reference)
            print_row(trial)
            results.append(trial)
            if not args.keep and trial.passed:
                shutil.rmtree(work / f"trial-{index:02d}", ignore_errors=True)
        if faults.proxy is not None:
            faults.proxy.__exit__(None, None, None)
    per_stage = collections.defaultdict(lambda: {"trials": 0, "passed": 0})  # per SIGKILL stage and per step fault
    for trial in results:
        per_stage[trial.stage]["trials"] += 1
        per_stage[trial.stage]["passed"] += trial.passed
    print(
        json.dumps(
            {
                "benchmark": "fault_injection",
                "trials": len(results),
                "passed": sum(t.passed for t in results),
                "failed": [
                    {
                        "trial": t.index,
                        "stage": t.stage,
                        "plan": t.plan,
                        "failed_checks": [n for n, ok in t.checks.items() if not ok],
                        "notes": t.notes,
                    }
                    for t in results
                    if not t.passed
                ],
                "per_stage": dict(per_stage),
                "seed": args.seed,
                "reference_seconds": round(reference["seconds"], 1),
                "reference_rows": len(reference["rows"]),
                "trial_seconds_mean": round(sum(t.kill_seconds + t.rerun_seconds for t in results) / max(len(results), 1), 1),
                "workdir": str(work),
                "kinds": kinds,
                **machine_fields(load_before),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
