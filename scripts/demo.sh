#!/usr/bin/env bash
# Install everything and run the main job: `hub demo` on embedded defaults (SQLite, embedded
# Redis, the platform sandboxes, a worker, the web UI). Extra arguments go to `hub demo`
# (e.g. `--once` for a headless run that prints a summary, `--port 8000`).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup-env.sh
make_venv ""
exec .venv/bin/hub demo "$@"
