#!/usr/bin/env bash
# Installs npm packages from the lockfile when node_modules is missing or stale.
# onnxruntime-node's install script downloads binaries (blocked here); its
# package already carries them, so the download is skipped.
set -euo pipefail
export ONNXRUNTIME_NODE_INSTALL=skip
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # `npm install`, not `npm ci`: npm 11's ci rejects this lockfile over rollup's
  # per-platform optional packages (an npm bug; a freshly made lockfile fails the
  # same way). install still takes the locked versions.
  npm install --no-audit --no-fund
fi
