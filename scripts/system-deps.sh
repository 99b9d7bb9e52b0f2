#!/usr/bin/env bash
# Installs the Debian packages VoxSplit needs, only if missing (idempotent).
#   scripts/system-deps.sh app    — nothing beyond Node (the app is pure web)
#   scripts/system-deps.sh test   — Chromium, ffmpeg, sox, espeak-ng (e2e fixtures) + the training toolchain
set -euo pipefail
case "${1:-test}" in
  app) pkgs=() ;;
  test) pkgs=(chromium ffmpeg sox libsox-fmt-all espeak-ng python3-torch python3-onnx python3-numpy python3-scipy python3-soundfile libopus0) ;;
  *) echo "usage: $0 app|test" >&2; exit 2 ;;
esac
missing=()
for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "Installing Debian packages: ${missing[*]}"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
