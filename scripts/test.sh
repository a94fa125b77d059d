#!/usr/bin/env bash
# `npm test`: installs what is missing and runs every test tier — unit, images, boots (Vitest, in
# Node) and the browser (Playwright in Debian's Chromium) — then prints one summary line.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test || { echo "set-up failed"; exit 1; }

results=$(mktemp -d)
status=0

echo "== unit, image and boot tests (vitest)"
npx vitest run --reporter=default --reporter=json --outputFile="$results/vitest.json" || status=1

echo "== browser tests (playwright, Debian chromium)"
if npx vite build --logLevel warn; then
  PLAYWRIGHT_JSON_OUTPUT_NAME="$results/playwright.json" \
    npx playwright test -c playwright/playwright.config.ts --reporter=list,json || status=1
else
  echo "the app did not build"; status=1
fi

node scripts/summary.mjs "$results/vitest.json" "$results/playwright.json" || status=1
exit $status
