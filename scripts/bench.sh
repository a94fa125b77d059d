#!/usr/bin/env bash
# `npm run bench`: installs what is missing, then runs every benchmark. Each prints its figures as
# ratios against the native tool, measured in the same run. No pass/fail.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
npx tsx bench/initramfs.ts
npx tsx bench/images.ts
npx tsx bench/zip.ts
npx tsx bench/boot.ts
npx vite build --logLevel warn
npx tsx bench/testboot-browser.ts
