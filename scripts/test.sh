#!/usr/bin/env bash
# Every test: types, unit tests (Vitest), the app built and driven end to end
# in Debian's Chromium (Playwright), and the model pipeline's smoke test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-deps.sh test
bash scripts/npm-deps.sh
echo "== typecheck";   npx tsc --noEmit -p tsconfig.json
echo "== unit";        npx vitest run
echo "== build";       npx vite build
echo "== e2e";         npx playwright test
echo "== training smoke"; bash training/smoke.sh
echo "All tests passed."
