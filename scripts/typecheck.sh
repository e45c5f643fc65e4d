#!/usr/bin/env bash
# Type-check mljobs as it installs: analyzers/, skill/ and server/ become mljobs.analyzers, .skill and
# .server (setuptools package-dir mapping), which mypy cannot follow through an editable install. A
# throw-away tree of symlinks gives mypy that layout, so cross-folder imports are checked for real.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
tree="$(mktemp -d)"
trap 'rm -rf "$tree"' EXIT
mkdir "$tree/mljobs"
for f in mljobs/*.py; do ln -s "$repo/$f" "$tree/mljobs/"; done
for d in analyzers skill server; do ln -s "$repo/$d" "$tree/mljobs/$d"; done
cd "$tree"
MYPYPATH="$tree" "$repo/.venv/bin/python" -m mypy --config-file "$repo/pyproject.toml" \
    --cache-dir "$repo/.mypy_cache" -p mljobs
