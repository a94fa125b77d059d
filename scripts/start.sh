#!/usr/bin/env bash
# `npm start`: installs what is missing, builds the app and serves it on localhost.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh app
npx vite build --logLevel warn
port=${PORT:-4173}
echo
echo "Bootsmith is running at http://localhost:$port/  (Ctrl+C stops it)"
echo
exec npx vite preview --port "$port" --strictPort --host 127.0.0.1
