#!/usr/bin/env bash
# Should this checkpoint replace the shipped model? Exports it (with the shipped leak gate), quantizes it to int8
# beside the other candidates, evaluates it on several seeded val lists and compares the mean of each figure with the
# shipped file's (training.compare: exit 0 = at least as good everywhere, 1 = worse somewhere, each named).
#   training/candidate.sh CKPT TAG [--seeds 777,1777,2777,3777] [--gate -13.5] [--items 40] [--accept LABEL]...
# The shipped model's figures are cached per file hash (training/runs/shipped-<sha>/), so they are computed once per
# machine; a candidate's files go to training/runs/candidates/TAG/. Both are git-ignored.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
usage() { echo "usage: $0 CKPT TAG [--seeds S1,S2,...] [--gate DB] [--items N] [--accept LABEL]..." >&2; exit 2; }
[ $# -ge 2 ] || usage
CKPT=$1 TAG=$2; shift 2
SEEDS=777,1777,2777,3777 GATE=-13.5 ITEMS=40 ACCEPT=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seeds) SEEDS=$2; shift 2 ;;
    --gate) GATE=$2; shift 2 ;;
    --items) ITEMS=$2; shift 2 ;;
    --accept) ACCEPT+=(--accept "$2"); shift 2 ;;
    *) usage ;;
  esac
done
[ -f "$CKPT" ] || { echo "no checkpoint at $CKPT" >&2; exit 2; }
SHIPPED=$($PY -c "from training.manifest import shipped_model; print(shipped_model())")
SHA=$(sha256sum "$SHIPPED" | cut -c1-12)
BASE=training/runs/shipped-$SHA
OUT=training/runs/candidates/$TAG
mkdir -p "$BASE" "$OUT"

$PY -m training.export --ckpt "$CKPT" --leak-gate "$GATE" --out "$OUT/fp32.onnx"
$PY -m training.quantize "$OUT/fp32.onnx" "$OUT/int8.onnx" --meta "$OUT/fp32.onnx.json"

evaluate() {  # MODEL JSON SEED: skip a list already evaluated (rerunning after an interruption costs only what is left)
  [ -s "$2" ] || training/eval "$1" --items "$ITEMS" --seed "$3" --no-oracle --json "$2" > "$2.log"
}
cand=() ship=()
for s in ${SEEDS//,/ }; do
  evaluate "$SHIPPED" "$BASE/eval-$s-$ITEMS.json" "$s"
  evaluate "$OUT/int8.onnx" "$OUT/eval-$s-$ITEMS.json" "$s"
  cand+=("$OUT/eval-$s-$ITEMS.json") ship+=("$BASE/eval-$s-$ITEMS.json")
done
join() { local IFS=,; echo "$*"; }
$PY -m training.compare "$(join "${cand[@]}")" "$(join "${ship[@]}")" "${ACCEPT[@]}"
