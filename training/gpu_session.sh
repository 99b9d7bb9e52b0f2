#!/usr/bin/env bash
# Training on a lent GPU machine, from the committed checkpoint, in one device call; and joining what it returns.
#
# Here, once per machine:   /usr/bin/python3 -m training.pack pack     (training/pack/, git-ignored, ~35 MB)
# On the device (`run` with carry ["training/pack"], timeout_s 600; the whole call must stay inside the device time):
#   bash training/gpu_session.sh train MINUTES [train.py options, e.g. --lr 2e-4 --rewarm 300]
# Back here (FILES = the reply's files_at folder):
#   bash training/gpu_session.sh join FILES
#
# `train` unpacks the pack (training/pack.py: Opus-coded train split, decoded with the carried libopus), resumes
# training/checkpoints/latest.pt with a large batch on CUDA (workers mix batches ahead) for MINUTES, without the val
# list (the machine has no val data: evaluate the result here), and leaves in $OUT the checkpoint in pieces under
# the 16 MiB per-file limit, its SHA-256, the log rows and the console output. `join` checks and reassembles the
# checkpoint into training/checkpoints/latest.pt and appends the log rows to training/checkpoints/train_log.tsv.
# GROW=1 starts a new run grown from CKPT instead of resuming it (train.py --init-from CKPT --grow; name the new model
# with --config ... and the run's --loss / --mix / --lr / --warmup / --seed among the options; join then replaces
# CKPT with the new run and LOG gets its rows: keep the old log under another name first).
# DEVICE / BATCH / WORKERS / PY override the defaults (cuda / 64 / 12 / python3), CKPT / PACK / LOG the paths
# (training/checkpoints/latest.pt, training/pack, training/checkpoints/train_log.tsv): the smoke test runs it on CPU.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
die() { echo "error: $*" >&2; exit 2; }
cmd="${1:-}"; shift || true
CKPT="${CKPT:-training/checkpoints/latest.pt}"
PACK="${PACK:-training/pack}"
LOG="${LOG:-training/checkpoints/train_log.tsv}"
case "$cmd" in
  train)
    MIN="${1:-}"; shift || true
    [[ "$MIN" =~ ^[0-9]+([.][0-9]+)?$ ]] || die "usage: $0 train MINUTES [train.py options]"
    PY="${PY:-python3}"
    OUT="${OUT:?OUT must name the folder to leave results in (the device sets it)}"
    WORK="${WORK:-/tmp/voxsplit-gpu}"
    export PYTHONUNBUFFERED=1 PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
    [ -f "$CKPT" ] || die "$CKPT missing: nothing to resume"
    mkdir -p "$WORK" "$OUT"
    t0=$(date +%s)
    "$PY" -c "
import sys, torch
dev = '${DEVICE:-cuda}'
print('[gpu] torch', torch.__version__, 'python', sys.version.split()[0], 'device', dev,
      torch.cuda.get_device_name(0) if torch.cuda.is_available() else '(no CUDA)')
sys.exit(3 if dev.startswith('cuda') and not torch.cuda.is_available() else 0)" || die "no CUDA device here (DEVICE=cpu to run on the CPU)"
    "$PY" -m training.pack unpack --pack "$PACK" --out "$WORK/cache"
    echo "[gpu] unpacked in $(( $(date +%s) - t0 )) s"
    rm -f "$WORK/latest.pt" "$WORK/train_log.tsv"
    START=()
    if [ "${GROW:-0}" = 1 ]; then START=(--init-from "$CKPT" --grow); else cp "$CKPT" "$WORK/latest.pt"; fi
    "$PY" -m training.train --cache "$WORK/cache" --ckpt "$WORK/latest.pt" --log "$WORK/train_log.tsv" --val-items 0 \
      --device "${DEVICE:-cuda}" --batch "${BATCH:-64}" --workers "${WORKERS:-12}" --max-minutes "$MIN" --save-minutes 2 \
      --log-every 50 "${START[@]}" "$@" 2>&1 | tee "$OUT/train.out" && rc=0 || rc=${PIPESTATUS[0]}
    # A run stopped by a NaN loss (or any failure after a save) still returns its last good checkpoint: minutes of
    # device time are worth keeping; the exit status below still reports the failure.
    [ -f "$WORK/latest.pt" ] || die "training exited with status $rc before saving a checkpoint"
    split -b 15000000 -d "$WORK/latest.pt" "$OUT/ckpt.part"
    (cd "$WORK" && sha256sum latest.pt) > "$OUT/ckpt.sha256"
    tail -n +2 "$WORK/train_log.tsv" > "$OUT/train_log_rows.tsv"
    echo "[gpu] done in $(( $(date +%s) - t0 )) s (training exit status $rc); results: $(ls "$OUT" | tr '\n' ' ')"
    exit "$rc"
    ;;
  join)
    FILES="${1:-}"
    [ -d "$FILES" ] || die "usage: $0 join FOLDER (the device reply's files_at)"
    ls "$FILES"/ckpt.part* >/dev/null 2>&1 || die "no ckpt.part* in $FILES"
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    cat "$FILES"/ckpt.part* > "$tmp/latest.pt"
    (cd "$tmp" && sha256sum -c "$FILES/ckpt.sha256" >/dev/null) || die "the joined checkpoint does not match its SHA-256"
    /usr/bin/python3 -c "
import sys; sys.path.insert(0, '$ROOT')
from training import checkpoint as ck
s = ck.load('$tmp/latest.pt'); print(f'[join] checkpoint at step {s[\"step\"]}, batch {s[\"hparams\"][\"batch\"]}')" \
      || die "the joined checkpoint does not load"
    mv "$tmp/latest.pt" "$CKPT"
    cat "$FILES/train_log_rows.tsv" >> "$LOG"
    echo "[join] $CKPT replaced; $(wc -l < "$FILES/train_log_rows.tsv") log rows appended to $LOG"
    ;;
  *) die "usage: $0 train MINUTES [options] | join FOLDER" ;;
esac
