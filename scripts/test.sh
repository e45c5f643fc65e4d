#!/usr/bin/env bash
# Install mljobs with its test extras into ./.venv and run the whole offline test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]" 2>&1 | { grep -v "^WARNING: Location" || true; }
# Gates first: lint (pyflakes, bugbear) and types, then the tests.
.venv/bin/ruff check .
bash scripts/typecheck.sh
# pytest exits 5 when it collects nothing; that is a failure here too.
exec .venv/bin/python -m pytest -q "$@"
