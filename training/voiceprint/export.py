"""Export the voiceprint to ONNX (opset 17): input `audio` float32 [B, T] 16 kHz, output `embedding` float32 [B, D],
unit length (cosine = dot product); B and T dynamic (T >= one STFT window, 512 samples).

    /usr/bin/python3 -m training.voiceprint.export [--ckpt training/checkpoints/voiceprint.pt] --out OUT.onnx
        [--parity-dir DIR]

With --parity-dir it writes PyTorch reference embeddings for several lengths for training/js/parity.mjs --voiceprint.
"""
import argparse
import json
import os
import sys
import warnings

import numpy as np
import onnx
import torch

from .. import checkpoint as ck
from ..dft_graph import build_kernels_in_graph
from .model import VoicePrint, make_config

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OPSET = 17
PARITY_LENGTHS = (16000, 12345, 48077, 8000, 512)


def load_net(path):
    state = ck.load(path)
    try:
        net = VoicePrint(make_config(**state["config"]))
        net.load_state_dict({k[4:]: v for k, v in state["model"].items() if k.startswith("net.")})
    except (ValueError, RuntimeError, KeyError) as e:
        raise ck.CheckpointError(f"{path} is not a voiceprint checkpoint: {e}") from e
    net.eval()
    return net, {"step": int(state["step"]), "wall_s": float(state["wall_s"]), "seed": int(state["hparams"]["seed"])}


def export_onnx(net, out):
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (torch.randn(2, 16000) * 0.1,), out, opset_version=OPSET, input_names=["audio"],
                          output_names=["embedding"], dynamic_axes={"audio": {0: "B", 1: "T"}, "embedding": {0: "B"}},
                          do_constant_folding=True)
    m = onnx.load(out)
    # The DFT kernels are built in the graph from a cosine table (as the separator's): 1 MB less per file.
    build_kernels_in_graph(m, net.config["n_fft"] // 2)
    onnx.checker.check_model(m, full_check=True)
    del m.metadata_props[:]
    p = m.metadata_props.add()
    p.key, p.value = "voxsplit_config", json.dumps(net.config, sort_keys=True)
    m.producer_name, m.producer_version = "voxsplit-training", "1"
    onnx.save(m, out)


@torch.no_grad()
def write_parity_cases(net, outdir, seed=7):
    os.makedirs(outdir, exist_ok=True)
    rng = np.random.default_rng(seed)
    cases = []
    for T in PARITY_LENGTHS:
        t = np.arange(T) / 16000
        x = (0.05 * rng.standard_normal(T) + 0.2 * np.sin(2 * np.pi * 180 * t) * np.sin(2 * np.pi * 2.1 * t)).astype(np.float32)[None]
        y = net(torch.from_numpy(x)).numpy().astype(np.float32)
        x.tofile(os.path.join(outdir, f"in_{T}.f32"))
        y.tofile(os.path.join(outdir, f"out_{T}.f32"))
        cases.append({"T": T, "input": f"in_{T}.f32", "output": f"out_{T}.f32", "shape": list(y.shape)})
    with open(os.path.join(outdir, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", default=os.path.join(HERE, "checkpoints", "voiceprint.pt"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--parity-dir", default=None)
    a = ap.parse_args(argv)
    try:
        net, meta = load_net(a.ckpt)
    except ck.CheckpointError as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    export_onnx(net, a.out)
    with open(a.out + ".json", "w") as f:
        json.dump({"config": net.config, **meta}, f, indent=1)
    if a.parity_dir:
        write_parity_cases(net, a.parity_dir)
    print(f"[voiceprint export] {a.out} (step {meta['step']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
