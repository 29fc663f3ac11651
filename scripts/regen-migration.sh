#!/usr/bin/env bash
# Regenerate THE initial migration from the current models (before the first release only).
# Usage: scripts/regen-migration.sh        (from the repository root, with .venv present)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/hub ] || { echo "run scripts/test.sh or scripts/demo.sh once to create .venv" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
find hub/migrations/versions -name '*.py' ! -name '__init__.py' -delete
export HUB_DATABASE_URL="sqlite:///$tmp/regen.db" HUB_ALLOW_INSECURE_DEFAULTS=true
.venv/bin/hub db migrate -m "initial schema"
sed -i 's/[[:space:]]*$//' hub/migrations/versions/[0-9a-f]*.py
.venv/bin/ruff format --quiet hub/migrations/versions
.venv/bin/ruff check --fix --quiet hub/migrations/versions
ls hub/migrations/versions/[0-9a-f]*.py
