#!/usr/bin/env bash
# Installs what training/ needs (Debian 12, apt only; the package list lives in scripts/system-deps.sh) and checks it.
#   training/setup.sh      (node + onnxruntime-node come from the project's node_modules: npm ci --ignore-scripts)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
bash "$ROOT/scripts/system-deps.sh" training
/usr/bin/python3 -c "import torch, onnx, numpy, scipy, soundfile; print('python ok: torch', torch.__version__, 'onnx', onnx.__version__)"
command -v node >/dev/null || { echo "node is missing" >&2; exit 1; }
[ -d "$ROOT/node_modules/onnxruntime-node" ] || echo "warning: node_modules/onnxruntime-node missing (npm ci --ignore-scripts)" >&2
