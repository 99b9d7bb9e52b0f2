#!/usr/bin/env bash
# Installs what training/ needs (Debian 12, apt only). Idempotent: skips packages already installed.
#   sudo training/setup.sh      (node + onnxruntime-node come from the project's node_modules)
set -euo pipefail
PKGS=(python3-torch python3-onnx python3-numpy python3-scipy python3-soundfile espeak-ng ffmpeg sox libopus0)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "training/setup.sh: all packages already installed"
else
  echo "training/setup.sh: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
/usr/bin/python3 -c "import torch, onnx, numpy, scipy, soundfile; print('python ok: torch', torch.__version__, 'onnx', onnx.__version__)"
command -v node >/dev/null || { echo "node is missing" >&2; exit 1; }
[ -d "$(dirname "$0")/../node_modules/onnxruntime-node" ] || echo "warning: node_modules/onnxruntime-node missing (npm ci --ignore-scripts)" >&2
