#!/usr/bin/env bash
# Install mljobs into ./.venv and run the guided conversion of examples/train_classifier.py on the local pool.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[demo]" 2>&1 | { grep -v "^WARNING: Location" || true; }
exec .venv/bin/mljobs demo examples/train_classifier.py --backend local --accept "$@"
