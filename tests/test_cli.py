"""The `rader` entry point itself: start-up cost, --version, and the warnings it hides."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version

from helpers import run_rader

# Libraries that take seconds to import: help and usage errors must answer without them.
HEAVY = ("torch", "transformers", "sentence_transformers", "distilabel", "datasets", "argilla", "huggingface_hub", "bm25s", "scipy")

# Each argv through rader's main() in one process, then the heavy modules it loaded.
_PROBE = """
import json, sys
from rader_hub.cli import main
argvs, heavy = json.loads(sys.argv[1]), json.loads(sys.argv[2])
for argv in argvs:
    sys.argv = ["rader", *argv]
    try:
        main()
    except SystemExit:
        pass
print(json.dumps(sorted(name for name in heavy if name in sys.modules)))
"""


def test_help_and_usage_errors_do_not_import_heavy_libraries() -> None:
    argvs = [
        ["--help"],
        ["eval", "--help"],
        ["generate", "--help"],
        ["train", "retriever", "--help"],
        ["review", "push", "--help"],
        ["publish", "model", "--help"],
        ["run", "--help"],
        ["evl"],  # a typo
        ["eval", "--alpha", "2"],  # a bad value, rejected before any data is read
        ["train", "retriever", "--data", "missing.jsonl", "--out", "unused"],  # data is checked before torch is imported
        ["run", "recipes/math.yaml", "--train", "epochs"],  # a malformed FIELD=VALUE, named before the recipe is read
    ]
    done = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(argvs), json.dumps(HEAVY)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "error: alpha must be between 0 and 1" in done.stderr
    assert "error: missing.jsonl: no such file" in done.stderr
    assert "error: --train 'epochs': expected FIELD=VALUE, e.g. epochs=2" in done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == []


def test_version_is_the_installed_package_version() -> None:
    done = run_rader("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"rader-hub {version('rader-hub')}"


_IMPORT_STEPS = """
import sys
if sys.argv[1] == "filtered":
    from rader_hub.cli import _silence_third_party_noise
    _silence_third_party_noise()
import warnings
import rader_hub.generation.steps.search  # distilabel steps: pydantic warns once per RuntimeParameter class
warnings.warn("a warning of our own", UserWarning)
"""


def test_the_cli_hides_pydantic_noise_from_distilabel_steps_and_nothing_else() -> None:
    def stderr(mode: str) -> str:
        done = subprocess.run([sys.executable, "-c", _IMPORT_STEPS, mode], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stderr

    unfiltered, filtered = stderr("unfiltered"), stderr("filtered")
    assert "UnsupportedFieldAttributeWarning" in unfiltered  # the noise is real (else this test proves nothing)
    assert "UnsupportedFieldAttributeWarning" not in filtered
    assert "a warning of our own" in filtered
