#!/usr/bin/env bash
# One command to run VoxSplit on a fresh machine: installs what it needs,
# builds the app and serves it (with the COOP/COEP/CSP headers) on localhost.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-deps.sh app
bash scripts/npm-deps.sh
npm run build
PORT="${PORT:-4173}"
echo
echo "VoxSplit is running: open http://localhost:${PORT}/ in Chromium (Ctrl+C to stop)"
exec npx vite preview --host "${HOST:-localhost}" --port "$PORT" --strictPort
