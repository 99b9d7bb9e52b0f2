#!/usr/bin/env bash
# Export the latest checkpoint, check ONNX parity, quantize to int8 into public/models/ and write the manifest.
#   training/publish.sh [--ckpt PATH | --random] [--val-si-snri DB] [--leak-gate DB]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
ID=$($PY -c "from training.manifest import MODEL_ID; print(MODEL_ID)")
WORK=training/runs/export
SRC=(--ckpt training/checkpoints/latest.pt)
VAL=()
GATE=()
while [ $# -gt 0 ]; do
  case "$1" in
    --ckpt) SRC=(--ckpt "$2"); shift 2 ;;
    --random) SRC=(--random); shift ;;
    --val-si-snri) VAL=(--val-si-snri "$2"); shift 2 ;;
    --leak-gate) GATE=(--leak-gate "$2"); shift 2 ;;
    *) echo "usage: $0 [--ckpt PATH | --random] [--val-si-snri DB] [--leak-gate DB]" >&2; exit 2 ;;
  esac
done
mkdir -p "$WORK" public/models
$PY -m training.export "${SRC[@]}" "${GATE[@]}" --out "$WORK/$ID-fp32.onnx" --parity-dir "$WORK/parity"
node training/js/parity.mjs "$WORK/$ID-fp32.onnx" "$WORK/parity"
$PY -m training.quantize "$WORK/$ID-fp32.onnx" "public/models/$ID-int8.onnx" \
  --meta "$WORK/$ID-fp32.onnx.json" --manifest public/models/manifest.json "${VAL[@]}"
