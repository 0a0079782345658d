#!/usr/bin/env bash
# `npm test`: system programs, type-check, build, then every Vitest project
# (unit, integration, e2e in Chromium, load). Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
rm -f test-results/vitest.json
bash scripts/ensure-deps.sh || exit 1
npx tsc -p tsconfig.json --noEmit || { echo "0 passed, 1 failed"; exit 1; }
npx biome check . >/tmp/solo-lint.log 2>&1 || { cat /tmp/solo-lint.log; echo "0 passed, 1 failed"; exit 1; }
npm run build --silent >/tmp/solo-build.log 2>&1 || { cat /tmp/solo-build.log; echo "0 passed, 1 failed"; exit 1; }
mkdir -p test-results && rm -f test-results/vitest.json
npx vitest run --reporter=default --reporter=json --outputFile.json=test-results/vitest.json "$@"
status=$?
node scripts/totals.mjs test-results/vitest.json
exit $status
