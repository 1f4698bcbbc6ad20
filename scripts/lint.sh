#!/usr/bin/env bash
# The static checks CI runs before the tests (README.md's test command): ruff's linter, ruff's format check
# and mypy. Their settings live in pyproject.toml ([tool.ruff], [tool.mypy]); the pinned versions come with
# the `dev` extra. Runs all three, then fails if any of them failed.
#
#   bash scripts/lint.sh
#
# Fixing what they report: `ruff check --fix` (safe fixes only; review the diff), `ruff format` (rewrites
# files: see docs/index.md, "Checks"), and mypy's errors by hand.
set -uo pipefail
cd "$(dirname "$0")/.."

failed=()
# (`ruff format --diff` shows what the format check would change; the check itself lists the files)
for check in "ruff check ." "ruff format --check --output-format concise ." "mypy"; do
  echo "+ $check"
  $check || failed+=("$check")
done
if [ ${#failed[@]} -gt 0 ]; then
  printf 'failed: %s\n' "${failed[@]}" >&2
  exit 1
fi
