"""Human review against a real Argilla 2.8 that `rader review serve` starts (no mocks of Argilla).

One server for the session (its virtual environment is built on first use, about 2 minutes);
every test pushes under its own Argilla dataset name. Answers come through the SDK, through the
REST call the web UI makes (`POST /api/v1/records/{id}/responses`) and, in the slow test, through
the web UI itself in headless Chromium.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psutil
import pyarrow.parquet as pq
import pytest
from generation_scripted_llm import run_scripted_pipeline
from helpers import RADER, find_pair, run_in_fresh_process, run_rader

from rader_hub.review.pairs import judged_pairs, load_generation_dataset
from rader_hub.review.push import find_dataset
from rader_hub.review.server import free_port

pytestmark = pytest.mark.argilla

REPO = Path(__file__).resolve().parent.parent
DATASET = Path(__file__).parent / "data" / "review-math"
DATA_FILE = Path("data") / "train-00000-of-00001.parquet"
# Captured at import, before the per-test cache isolation: the server's virtual environment goes
# to the user's rader cache, built once and reused. ARGILLA_* are dropped so tests reach our server.
SESSION_ENV = {key: value for key, value in os.environ.items() if not key.startswith("ARGILLA_")}
ANNOTATOR = ("ann1", "annotator-password-1")
# Keys in the shell that starts the server: none of its processes may inherit them.
SHELL_SECRETS = {name: f"canary-{uuid.uuid4().hex}" for name in ("HF_TOKEN", "OPENAI_API_KEY", "AWS_SECRET_ACCESS_KEY")}


@dataclass(frozen=True)
class Server:
    url: str
    api_key: str
    password: str
    state_dir: Path
    serve_output: str
    processes: dict  # as the first `serve` started them


@pytest.fixture(scope="session")
def argilla(tmp_path_factory) -> Server:
    state = tmp_path_factory.mktemp("argilla-state")
    # As a folder made by hand or by an older version is: readable by others, with an old log.
    (state / "logs").mkdir()
    (state / "logs" / "server.log").write_text("an older run\n")
    for path, mode in ((state, 0o755), (state / "logs", 0o755), (state / "logs" / "server.log", 0o644)):
        path.chmod(mode)
    port = free_port()
    env = {**SESSION_ENV, **SHELL_SECRETS}
    done = run_rader("review", "serve", "--state-dir", str(state), "--port", str(port), env=env, timeout=1200)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    credentials = json.loads((state / "credentials.json").read_text())
    processes = json.loads((state / "server.json").read_text())["processes"]
    yield Server(f"http://127.0.0.1:{port}", credentials["api_key"], credentials["password"], state, done.stdout, processes)
    stopped = run_rader("review", "stop", "--state-dir", str(state), env=SESSION_ENV)
    assert stopped.returncode == 0 and "stopped server, search, redis" in stopped.stdout, stopped.stdout + stopped.stderr


@pytest.fixture(scope="session")
def client(argilla):
    import argilla as rg

    return rg.Argilla(api_url=argilla.url, api_key=argilla.api_key)


@pytest.fixture(scope="session")
def annotator(client) -> str:
    """A second user (role annotator) in the default workspace; returns a web-UI session token."""
    import argilla as rg

    user = rg.User(username=ANNOTATOR[0], password=ANNOTATOR[1], role="annotator", client=client).create()
    user.add_to_workspace(client.workspaces("argilla"))
    return _login(client.api_url, *ANNOTATOR)


def _login(url: str, username: str, password: str) -> str:
    """The bearer token the web UI gets when a user signs in."""
    response = httpx.post(f"{url}/api/v1/token", data={"username": username, "password": password})
    response.raise_for_status()
    return response.json()["access_token"]


def review(server: Server, *args: str, env: dict[str, str] | None = None):
    return run_rader("review", *args, "--state-dir", str(server.state_dir), env=env or SESSION_ENV)


def _answers(dataset) -> dict[str, list[tuple[str, str, str]]]:
    """Record id -> sorted (user id, value, status) of its answers to the label question."""
    return {
        str(record.id): sorted((str(r.user_id), r.value, str(getattr(r.status, "value", r.status))) for r in record.responses["relevance"])
        for record in dataset.records(with_responses=True)
    }


def _answer_with_sdk(client, dataset, labels: dict[str, str]) -> None:
    """Owner answers through the SDK: add a submitted response to each record and log it again."""
    import argilla as rg

    records = {str(record.id): record for record in dataset.records(with_responses=True)}
    for record_id, label in labels.items():
        records[record_id].responses.add(rg.Response("relevance", label, user_id=client.me.id, status="submitted"))
    dataset.records.log([records[record_id] for record_id in labels])


def _answer_like_the_web_ui(url: str, token: str, dataset, record_id: str, label: str, status: str = "submitted") -> None:
    server_id = next(r._server_id for r in dataset.records() if str(r.id) == record_id)
    response = httpx.post(
        f"{url}/api/v1/records/{server_id}/responses",
        headers={"Authorization": f"Bearer {token}"},
        json={"values": {"relevance": {"value": label}}, "status": status},
    )
    assert response.status_code == 201, response.text


def _one_error_line(done) -> str:
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert done.returncode == 2 and len(errors) == 1, done.stdout + done.stderr
    return errors[0]


@pytest.fixture
def source(tmp_path) -> Path:
    """The fixture run folder, with a recipe.yaml as SaveDataset writes one."""
    folder = tmp_path / "run"
    shutil.copytree(DATASET, folder)
    shutil.copyfile(REPO / "recipes" / "math.yaml", folder / "recipe.yaml")
    return folder


def test_serve_again_finds_it_running_and_secrets_stay_private(argilla, tmp_path):
    assert f"URL:      {argilla.url}" in argilla.serve_output and argilla.api_key in argilla.serve_output
    again = review(argilla, "serve")
    assert again.returncode == 0 and "already running" in again.stdout and argilla.url in again.stdout
    # The password and key were printed when they were made; later, where they are.
    assert argilla.api_key not in again.stdout + again.stderr and argilla.password not in again.stdout + again.stderr
    assert f"password and API key: in {argilla.state_dir / 'credentials.json'}" in again.stdout
    busy = run_rader("review", "serve", "--state-dir", str(tmp_path / "other"), "--port", argilla.url.rsplit(":", 1)[1], env=SESSION_ENV)
    assert "the port is in use" in _one_error_line(busy)
    nothing = run_rader("review", "stop", "--state-dir", str(tmp_path / "empty"), env=SESSION_ENV)
    assert nothing.returncode == 0 and "nothing to stop" in nothing.stdout
    for folder in (argilla.state_dir, argilla.state_dir / "logs"):  # they existed, readable by others
        assert folder.stat().st_mode & 0o777 == 0o700, folder
    for secret_file in ("credentials.json", "argilla.db", "redis.conf"):
        assert (argilla.state_dir / secret_file).stat().st_mode & 0o777 == 0o600
    for log in (argilla.state_dir / "logs").iterdir():
        assert log.stat().st_mode & 0o777 == 0o600, log
        text = log.read_text(errors="replace")
        assert argilla.api_key not in text and argilla.password not in text, log


def test_server_processes_inherit_no_secret_and_redis_needs_a_password(argilla):
    for name, entry in argilla.processes.items():
        process = psutil.Process(entry["pid"])
        inherited = process.environ()
        assert not set(SHELL_SECRETS) & set(inherited), name
        assert not any(secret in value for secret in SHELL_SECRETS.values() for value in inherited.values()), name
        assert "requirepass" not in process.cmdline() and not any("pass" in part for part in process.cmdline()), name
    redis = psutil.Process(argilla.processes["redis"]["pid"])
    port = next(c.laddr.port for c in redis.net_connections(kind="tcp") if c.status == psutil.CONN_LISTEN)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(b"PING\r\n")
        assert connection.recv(100).startswith(b"-NOAUTH")
    # The server's own connection (its environment, which only the owner reads) has the password.
    password = urlsplit(psutil.Process(argilla.processes["server"]["pid"]).environ()["ARGILLA_REDIS_URL"]).password
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(f"AUTH {password}\r\nPING\r\n".encode())
        time.sleep(0.5)
        assert connection.recv(100) == b"+OK\r\n+PONG\r\n"


def test_serve_waits_for_a_slow_server_and_never_stops_it(argilla, tmp_path):
    before = json.loads((argilla.state_dir / "server.json").read_text())["processes"]
    server = before["server"]["pid"]
    errors = tmp_path / "serve.err"
    os.kill(server, signal.SIGSTOP)  # alive, answering nothing: as under a heavy load
    try:
        with errors.open("w") as stderr:
            command = [*RADER, "review", "serve", "--state-dir", str(argilla.state_dir)]
            serving = subprocess.Popen(command, env=SESSION_ENV, stdout=subprocess.PIPE, stderr=stderr, text=True)
        deadline = time.monotonic() + 60  # far beyond a 2 s liveness check, plus the CLI's start-up
        while "slow to answer" not in errors.read_text() and serving.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        with contextlib.suppress(ProcessLookupError):  # gone if `serve` stopped it: the assertions below say so
            os.kill(server, signal.SIGCONT)
    output, _ = serving.communicate(timeout=300)
    assert serving.returncode == 0 and "already running" in output, output + errors.read_text()
    assert f"the Argilla server at {argilla.url} is running but slow to answer; waiting for it" in errors.read_text()
    assert json.loads((argilla.state_dir / "server.json").read_text())["processes"] == before


def test_push_answer_pull_merges_and_measures_agreement(argilla, client, annotator, source, tmp_path):
    name = "review-main"
    pushed = review(argilla, "push", str(source), "--name", name)
    assert pushed.returncode == 0 and "pushed 28 of 28 judged pairs" in pushed.stdout, pushed.stdout + pushed.stderr
    dataset = find_dataset(client, name, "argilla")
    pairs = judged_pairs(load_generation_dataset(source).rows)
    cot_gamma, llmq_gamma, question_gamma = (find_pair(pairs, t, "tqa-gamma-function") for t in ("cot", "llmq", "question"))
    cot_black, question_black = (find_pair(pairs, t, "tqa-black-scholes-model") for t in ("cot", "question"))
    cot_cube, llmq_cube = (find_pair(pairs, t, "tqa-doubling-the-cube") for t in ("cot", "llmq"))
    question_fermat = find_pair(pairs, "question", "tqa-fermat-s-last-theorem")

    _answer_with_sdk(
        client,
        dataset,
        {
            cot_gamma.record_id: "relevant",
            question_gamma.record_id: "not_relevant",
            question_black.record_id: "not_relevant",
            cot_cube.record_id: "not_relevant",
            llmq_gamma.record_id: "relevant",
        },
    )
    for pair, label in (
        (question_gamma, "not_relevant"),
        (llmq_gamma, "not_relevant"),
        (cot_black, "relevant"),
        (question_fermat, "not_relevant"),
    ):
        _answer_like_the_web_ui(argilla.url, annotator, dataset, pair.record_id, label)
    _answer_like_the_web_ui(argilla.url, annotator, dataset, llmq_cube.record_id, "relevant", status="draft")  # not submitted: not counted

    answers = _answers(dataset)
    again = review(argilla, "push", str(source), "--name", name)
    assert again.returncode == 0 and "(updated)" in again.stdout
    assert _answers(dataset) == answers and len(answers) == 28  # no duplicates, answers kept
    assert sum(bool(a) for a in answers.values()) == 8

    out = tmp_path / "reviewed"
    pulled = review(argilla, "pull", str(source), "--name", name, "--out", str(out))
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    report = json.loads((out / "review.json").read_text())
    # By hand. Pairs both the judge and a human majority labelled (judge -> humans):
    # cot/gamma rel->rel, question/gamma rel->not, cot/black not->rel, question/black not->not, question/fermat not->not.
    p_observed = 3 / 5
    p_chance = (2 / 5) * (2 / 5) + (3 / 5) * (3 / 5)  # both say "relevant" 2 times in 5
    assert report["reviewed"] == 5 and report["agreement"] == pytest.approx(p_observed)
    assert report["cohen_kappa"] == pytest.approx((p_observed - p_chance) / (1 - p_chance))  # 0.1667
    assert report["labels"] == ["relevant", "not_relevant"] and report["confusion_matrix"] == [[1, 1], [1, 2]]
    # llmq/gamma: one "relevant", one "not relevant"; cot/cube: the judge's answer was unparsed.
    assert report["ties"] == 1 and report["judge_unparsed"] == 1 and report["pending"] == 28 - 5 - 1 - 1
    # cot: 1 of 2 agree, judge rel/not vs humans rel/rel: chance 1/2 -> kappa 0. question: 2 of 3, humans all "not": kappa 0.
    assert report["per_query_type"] == {
        "cot": {"reviewed": 2, "agreement": 0.5, "cohen_kappa": 0.0},
        "question": {"reviewed": 3, "agreement": pytest.approx(2 / 3), "cohen_kappa": 0.0},
    }
    assert report["annotators"] == ["ann1", "argilla"] and report["annotator_count"] == 2
    # Between humans, records answered twice: question/gamma (not, not) agree, llmq/gamma (rel, not) do not;
    # labels 1 relevant of 4 answers: chance 1/16 + 9/16, Fleiss' kappa (0.5 - 0.625) / 0.375 = -1/3.
    between = report["estimates"]["between_humans"]
    assert between["records"] == 2 and between["pairwise_agreement"] == 0.5 and between["fleiss_kappa"] == pytest.approx(-1 / 3)

    source_table = pq.read_table(source / DATA_FILE)
    table = pq.read_table(out / DATA_FILE)
    assert table.schema.names == source_table.schema.names + ["human_verdict", "annotators", "review_status"]
    assert all(table.schema.field(n).type == source_table.schema.field(n).type for n in source_table.schema.names)
    rows = table.to_pylist()
    assert len(rows) == 8  # question/gamma and cot/cube: positives humans rejected
    row = {(r["query_type"], r["positive_id"]): r for r in rows}
    assert ("question", "tqa-gamma-function") not in row and ("cot", "tqa-doubling-the-cube") not in row
    cot = row[("cot", "tqa-gamma-function")]
    assert (cot["human_verdict"], cot["annotators"], cot["review_status"]) == ("relevant", ["argilla"], "reviewed")
    assert cot["negative_ids"] == ["tqa-gauss-wantzel-theorem"]  # humans accepted black-scholes: no longer a negative
    assert (row[("llmq", "tqa-gamma-function")]["review_status"], row[("llmq", "tqa-gamma-function")]["annotators"]) == (
        "tie",
        ["ann1", "argilla"],
    )
    assert row[("llmq", "tqa-doubling-the-cube")]["review_status"] == "pending"  # a draft only
    assert row[("question", "tqa-doubling-the-cube")]["negative_ids"] == ["tqa-fermat-s-last-theorem", "tqa-runge-kutta-method"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["problems"] == 2 and summary["rows"] == 8 and summary["review"]["reviewed"] == 5
    assert (out / "recipe.yaml").read_text() == (source / "recipe.yaml").read_text()

    moved = review(argilla, "pull", str(source), "--name", name, "--out", str(tmp_path / "moved"), "--rejected-positives", "negatives")
    assert moved.returncode == 0, moved.stderr
    rows = {(r["query_type"], r["positive_id"]): r for r in pq.read_table(tmp_path / "moved" / DATA_FILE).to_pylist()}
    # The rejected question/gamma positive is now a negative of the other row with the same problem and query.
    assert rows[("question", "tqa-doubling-the-cube")]["negative_ids"][0] == "tqa-gamma-function"
    assert json.loads((tmp_path / "moved" / "review.json").read_text())["rows"]["rejected_positives_moved_to_negatives"] == 1


def test_sampled_push_is_stratified_and_reproducible(argilla, client, source):
    for _ in range(2):
        done = review(argilla, "push", str(source), "--name", "review-sample", "--sample", "12", "--seed", "3")
        assert done.returncode == 0 and "pushed 12 of 28" in done.stdout, done.stdout + done.stderr
    records = list(find_dataset(client, "review-sample", "argilla").records(with_suggestions=True))
    assert len(records) == 12  # the same 12 both times
    pairs = {p.record_id: p for p in judged_pairs(load_generation_dataset(source).rows)}
    strata = {(p.judge_label, p.query_type) for p in pairs.values()}
    assert {(pairs[str(r.id)].judge_label, pairs[str(r.id)].query_type) for r in records} == strata  # every stratum
    relevant = next(r for r in records if pairs[str(r.id)].judge_label == "relevant")
    suggestion = relevant.suggestions["relevance"]
    assert suggestion.value == "relevant" and suggestion.agent == "HuggingFaceTB/SmolLM2-135M-Instruct Q4_1 GGUF"
    assert relevant.metadata["judge"] == "HuggingFaceTB/SmolLM2-135M-Instruct (Q4_1 GGUF)"
    assert "--sample 0" in _one_error_line(review(argilla, "push", str(source), "--name", "review-sample", "--sample", "0"))


def test_pull_without_answers_says_so_and_writes_nothing(argilla, source, tmp_path):
    assert review(argilla, "push", str(source), "--name", "review-empty").returncode == 0
    done = review(argilla, "pull", str(source), "--name", "review-empty", "--out", str(tmp_path / "out"))
    assert "no submitted answers yet" in _one_error_line(done) and "nothing was written" in done.stderr
    assert not (tmp_path / "out").exists()


def test_bad_input_and_unreachable_servers_are_one_line(argilla, client, source, tmp_path):
    table = pq.read_table(source / DATA_FILE).drop_columns(["reflection_negative_verdicts"])
    pq.write_table(table, tmp_path / "old.parquet")
    line = _one_error_line(review(argilla, "push", str(tmp_path / "old.parquet"), "--name", "review-rejected"))
    assert "missing column(s) reflection_negative_verdicts" in line
    assert find_dataset(client, "review-rejected", "argilla") is None  # rejected before anything was sent
    assert "no such file or folder" in _one_error_line(review(argilla, "push", str(tmp_path / "missing")))

    down = {**SESSION_ENV, "ARGILLA_API_URL": f"http://127.0.0.1:{free_port()}", "ARGILLA_API_KEY": "some-key"}
    wrong_key = {**SESSION_ENV, "ARGILLA_API_URL": argilla.url, "ARGILLA_API_KEY": "not-the-key"}
    for env, what in ((down, "no Argilla answers"), (wrong_key, "rejected the API key")):
        line = _one_error_line(run_rader("review", "push", str(source), env=env))
        assert what in line and "rader review serve" in line and "ARGILLA_API_URL" in line and "ARGILLA_API_KEY" in line
        assert "not-the-key" not in line
    nothing = _one_error_line(
        run_rader("review", "pull", str(source), "--out", str(tmp_path / "o"), "--state-dir", str(tmp_path / "none"), env=SESSION_ENV)
    )
    assert "no Argilla server is running" in nothing and "rader review serve" in nothing


def test_a_restarted_search_engine_is_reindexed(argilla, annotator, client, source):
    assert review(argilla, "push", str(source), "--name", "review-restart", "--sample", "4").returncode == 0
    search = json.loads((argilla.state_dir / "server.json").read_text())["processes"]["search"]["pid"]
    os.kill(search, signal.SIGKILL)  # the in-memory index is gone; SQLite still has the records
    time.sleep(1)
    restarted = review(argilla, "serve")
    assert restarted.returncode == 0 and "rebuilt" in restarted.stdout, restarted.stdout + restarted.stderr
    dataset = find_dataset(client, "review-restart", "argilla")
    found = httpx.post(
        f"{argilla.url}/api/v1/me/datasets/{dataset.id}/records/search", headers={"X-Argilla-Api-Key": argilla.api_key}, json={}
    )
    assert found.status_code == 200 and found.json()["total"] == 4  # the web UI's record list works again
    record_id = str(next(iter(dataset.records())).id)
    _answer_like_the_web_ui(argilla.url, _login(argilla.url, *ANNOTATOR), dataset, record_id, "relevant")
    assert _answers(dataset)[record_id][0][1:] == ("relevant", "submitted")


def test_recipe_step_pushes_the_runs_judged_pairs(argilla, client, tmp_path, tiny_corpus_rows, monkeypatch):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in tiny_corpus_rows))
    problems = tmp_path / "problems.jsonl"
    problems.write_text(
        json.dumps({"id": "socks", "problem": "A drawer holds red and blue socks. How many socks give a matching pair?", "answer": "3"})
        + "\n"
    )
    monkeypatch.setenv("DISTILABEL_CACHE_DIR", str(tmp_path / "distilabel-cache"))

    def run(out: Path, api_url: str) -> None:
        run_in_fresh_process(run_scripted_pipeline, str(out), str(problems), str(corpus), {"api_url": api_url, "api_key": argilla.api_key})

    run(tmp_path / "out", argilla.url)
    rows = pq.read_table(tmp_path / "out" / DATA_FILE).to_pylist()
    pairs = {p.record_id: p for p in judged_pairs(rows)}
    records = list(find_dataset(client, "review-pipeline", "argilla").records(with_suggestions=True))
    assert rows and {str(r.id) for r in records} == set(pairs)
    for record in records:
        pair = pairs[str(record.id)]
        assert record.suggestions["relevance"].value == pair.judge_label and record.suggestions["relevance"].agent == "scripted-test-llm"
        assert record.metadata["role"] == pair.role and record.fields["query"] == pair.query

    # Argilla unreachable: the run still finishes and saves its dataset; the error names what to run later.
    run(tmp_path / "offline", f"http://127.0.0.1:{free_port()}")
    assert pq.read_table(tmp_path / "offline" / DATA_FILE).num_rows == len(rows)


@pytest.mark.slow
def test_an_answer_given_in_the_web_ui_is_pulled(argilla, client, source, tmp_path, monkeypatch):
    """Headless Chromium (Debian's chromium + chromium-driver, no browser download): sign in, open
    the dataset, answer the record shown, submit; `rader review pull` then has that answer."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    assert review(argilla, "push", str(source), "--name", "review-ui").returncode == 0
    dataset = find_dataset(client, "review-ui", "argilla")
    monkeypatch.setenv("SE_OFFLINE", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1440,1100"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        wait = WebDriverWait(driver, 90)
        driver.get(f"{argilla.url}/sign-in")
        wait.until(ready.presence_of_element_located((By.NAME, "Username"))).send_keys("argilla")
        driver.find_element(By.NAME, "Password").send_keys(argilla.password)
        wait.until(ready.element_to_be_clickable((By.CSS_SELECTOR, "button[type=submit]"))).click()
        card = wait.until(ready.element_to_be_clickable((By.CSS_SELECTOR, f"a[href*='/dataset/{dataset.id}/annotation-mode']")))
        card.click()
        relevant = wait.until(ready.element_to_be_clickable((By.CSS_SELECTOR, "label[for='relevance_relevant']")))
        not_relevant = driver.find_element(By.CSS_SELECTOR, "label[for='relevance_not_relevant']")
        # A suggestion pre-selects the judge's label (clicking it again would unselect it): pick the other one.
        chosen, element = ("not_relevant", not_relevant) if "label-active" in relevant.get_attribute("class") else ("relevant", relevant)
        element.click()
        wait.until(lambda _: "label-active" in element.get_attribute("class"))
        driver.save_screenshot(str(tmp_path / "argilla-record.png"))
        driver.find_element(By.CSS_SELECTOR, "button.button--submit").click()
        deadline = time.monotonic() + 60
        while not (answered := {k: v for k, v in _answers(dataset).items() if v}) and time.monotonic() < deadline:
            time.sleep(1)
    finally:
        driver.quit()
    assert (tmp_path / "argilla-record.png").stat().st_size > 10_000
    [(record_id, [(_, value, status)])] = answered.items()
    assert (value, status) == (chosen, "submitted")

    pulled = review(argilla, "pull", str(source), "--name", "review-ui", "--out", str(tmp_path / "out"))
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    report = json.loads((tmp_path / "out" / "review.json").read_text())
    pair = {p.record_id: p for p in judged_pairs(load_generation_dataset(source).rows)}[record_id]
    assert report["annotators"] == ["argilla"] and report["pending"] == 27
    if pair.judge_label is None:
        assert report["judge_unparsed"] == 1 and report["reviewed"] == 0
    else:
        column = ["relevant", "not_relevant"].index(chosen)
        assert report["reviewed"] == 1 and sum(row[column] for row in report["confusion_matrix"]) == 1
