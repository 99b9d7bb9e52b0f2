"""Export, check and ship the voiceprint: ONNX fp32 (parity with PyTorch < 1e-4 in onnxruntime-node), int8 (cosine with
PyTorch's embeddings >= 0.99), public/models/voxsplit-voiceprint-int8.onnx and its manifest entry.

    /usr/bin/python3 -m training.voiceprint.publish [--ckpt training/checkpoints/voiceprint.pt] [--cache training/cache]
        [--models public/models]

The manifest records the checkpoint's val EER, measured here on the same fixed val pairs as the training log
(training.voiceprint.train.ValPairs); --val-eer EER gives it instead (no cache needed).
"""
import argparse
import os
import shutil
import subprocess
import sys

from .. import checkpoint as ck
from ..manifest import VOICEPRINT_FILE, _git_commit, write_voiceprint
from ..quantize import quantize_file
from ..cache import Cache, DataError
from .export import export_onnx, load_net, write_parity_cases
from .train import ValPairs

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(HERE)
PARITY = os.path.join(HERE, "js", "parity.mjs")
MIN_COSINE = 0.99


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", default=os.path.join(HERE, "checkpoints", "voiceprint.pt"))
    ap.add_argument("--val-eer", type=float, default=None, help="val EER of this checkpoint (0..1), for the manifest")
    ap.add_argument("--cache", default=os.path.join(HERE, "cache"))
    ap.add_argument("--models", default=os.path.join(REPO, "public", "models"))
    ap.add_argument("--work", default=os.path.join(HERE, "runs", "export-voiceprint"))
    a = ap.parse_args(argv)
    try:
        net, meta = load_net(a.ckpt)
    except ck.CheckpointError as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    if a.val_eer is None:
        try:
            a.val_eer = ValPairs(Cache(a.cache, "val")).score(net)
        except DataError as e:
            print(f"error: {e} (or give --val-eer)", file=sys.stderr)
            return 2
        print(f"[voiceprint publish] val EER {100 * a.val_eer:.1f}% (step {meta['step']})")
    fp32, int8, par = (os.path.join(a.work, n) for n in ("voiceprint-fp32.onnx", "voiceprint-int8.onnx", "parity"))
    export_onnx(net, fp32)
    write_parity_cases(net, par)
    for model, check in ((fp32, []), (int8, ["--min-cosine", str(MIN_COSINE)])):
        if model == int8:
            quantize_file(fp32, int8)
        r = subprocess.run(["node", PARITY, model, par, *check], capture_output=True, text=True)
        print(r.stdout.strip().splitlines()[-1] if r.stdout.strip() else r.stderr.strip())
        if r.returncode != 0:
            print(f"error: {os.path.basename(model)} failed its parity check", file=sys.stderr)
            return 1
    shutil.copyfile(int8, os.path.join(a.models, VOICEPRINT_FILE))
    prov = {"trainingSteps": meta["step"], "trainingWallHours": round(meta["wall_s"] / 3600, 3), "seed": meta["seed"],
            "commit": _git_commit(), "config": net.config, "embeddingDim": net.config["emb_dim"],
            "valEer": None if a.val_eer is None else round(a.val_eer, 4),
            "quantization": "int8 per-channel symmetric weights (DequantizeLinear), activations float32",
            "contract": "input audio float32 [B,T] mono 16 kHz; output embedding float32 [B,D], unit length"}
    try:
        write_voiceprint(os.path.join(a.models, "manifest.json"), prov)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"[voiceprint publish] {os.path.join(a.models, VOICEPRINT_FILE)} ({os.path.getsize(int8)} bytes), manifest updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
