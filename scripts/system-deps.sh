#!/usr/bin/env bash
# Installs the Debian packages VoxSplit needs, only if missing (idempotent).
#   scripts/system-deps.sh app    — nothing beyond Node (the app is pure web)
#   scripts/system-deps.sh training — the training toolchain (training/setup.sh): Python + torch/onnx, ffmpeg, sox,
#                                      espeak-ng, libopus (training/pack.py calls it directly)
#   scripts/system-deps.sh test   — the training toolchain + Chromium and sox's format plugins (e2e fixtures)
set -euo pipefail
training=(python3-torch python3-onnx python3-numpy python3-scipy python3-soundfile espeak-ng ffmpeg sox libopus0)
case "${1:-test}" in
  app) pkgs=() ;;
  training) pkgs=("${training[@]}") ;;
  test) pkgs=(chromium libsox-fmt-all "${training[@]}") ;;
  *) echo "usage: $0 app|training|test" >&2; exit 2 ;;
esac
missing=()
for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "Installing Debian packages: ${missing[*]}"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
