"""Export a checkpoint to ONNX (opset 17, input `mixture` [1,T], output `sources` [1,3,T], T dynamic).

    /usr/bin/python3 -m training.export [--ckpt training/checkpoints/latest.pt | --random]
        [--out training/runs/export/voxsplit-dp-small-fp32.onnx] [--parity-dir DIR] [--leak-gate DB]

--leak-gate DB adds the inference-only LeakGate (training/model.py): a speaker output whose ~1 s level is DB below
the other's is faded into it. The threshold is recorded in the graph metadata (voxsplit_leak_gate_db).

With --parity-dir it also writes PyTorch reference outputs for several lengths (raw float32
files + cases.json) for training/js/parity.mjs.
"""
import argparse
import json
import os
import sys
import warnings

import numpy as np
import onnx
import torch

from . import checkpoint as ck
from .dft_graph import build_kernels_in_graph
from .manifest import MODEL_ID
from .model import Separator, make_config

HERE = os.path.dirname(os.path.abspath(__file__))
OPSET = 17
PARITY_LENGTHS = (16000, 12345, 48077, 160000, 257, 1)


def load_model(ckpt=None, random_seed=None, config=None):
    if ckpt:
        state = ck.load(ckpt)
        cfg = make_config(**state["config"])
        if config:
            ck.check_config(state, make_config(**config), ckpt)
        m = Separator(cfg)
        m.load_state_dict(state["model"])
        meta = {"step": int(state["step"]), "wall_s": float(state["wall_s"]), "seed": int(state["hparams"]["seed"])}
    else:
        torch.manual_seed(random_seed or 0)
        m = Separator(config or {})
        meta = {"step": 0, "wall_s": 0.0, "seed": int(random_seed or 0)}
    m.eval()
    return m, meta


# WebGPU binds one storage buffer per input of a Concat (plus its output) and
# devices may allow only 8 per shader stage; onnxruntime-web then silently
# returns wrong numbers. Refuse such a graph at export instead.
MAX_CONCAT_INPUTS = 7


def check_webgpu_limits(m):
    wide = [(n.name, len(n.input)) for n in m.graph.node if n.op_type == "Concat" and len(n.input) > MAX_CONCAT_INPUTS]
    if wide:
        raise SystemExit(f"[export] error: Concat nodes with more than {MAX_CONCAT_INPUTS} inputs break WebGPU: {wide[:5]}")


def export_onnx(model, out):
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    x = torch.randn(1, 32000) * 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), out, opset_version=OPSET, input_names=["mixture"], output_names=["sources"],
                          dynamic_axes={"mixture": {1: "T"}, "sources": {2: "T"}}, do_constant_folding=True)
    m = onnx.load(out)
    if model.stft:
        try:
            build_kernels_in_graph(m, model.H)
        except ValueError as e:
            raise SystemExit(f"[export] error: {e}") from e
    onnx.checker.check_model(m, full_check=True)
    check_webgpu_limits(m)
    # record the model config in the graph metadata
    cfg = json.dumps(model.config, sort_keys=True)
    del m.metadata_props[:]
    p = m.metadata_props.add()
    p.key, p.value = "voxsplit_config", cfg
    if model.leak_gate is not None:
        p = m.metadata_props.add()
        p.key, p.value = "voxsplit_leak_gate_db", repr(model.leak_gate.threshold_db)
    m.producer_name = "voxsplit-training"
    m.producer_version = "1"
    onnx.save(m, out)
    return out


@torch.no_grad()
def write_parity_cases(model, outdir, lengths=PARITY_LENGTHS, seed=7):
    os.makedirs(outdir, exist_ok=True)
    rng = np.random.default_rng(seed)
    cases = []
    for T in lengths:
        t = np.arange(T) / 16000
        x = (0.1 * rng.standard_normal(T) + 0.2 * np.sin(2 * np.pi * 220 * t) * np.sin(2 * np.pi * 1.3 * t)).astype(np.float32)
        y = model(torch.from_numpy(x)[None]).numpy().astype(np.float32)
        x.tofile(os.path.join(outdir, f"in_{T}.f32"))
        y.tofile(os.path.join(outdir, f"out_{T}.f32"))
        cases.append({"T": T, "input": f"in_{T}.f32", "output": f"out_{T}.f32", "shape": list(y.shape)})
    with open(os.path.join(outdir, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", default=os.path.join(HERE, "checkpoints", "latest.pt"))
    ap.add_argument("--random", action="store_true", help="export randomly initialised weights")
    ap.add_argument("--config", nargs="*", default=[], help="model config (with --random)")
    ap.add_argument("--out", default=os.path.join(HERE, "runs", "export", f"{MODEL_ID}-fp32.onnx"))
    ap.add_argument("--parity-dir", default=None)
    ap.add_argument("--leak-gate", type=float, default=None, metavar="DB",
                    help="fade a speaker output whose ~1 s level is DB (negative) below the other's")
    a = ap.parse_args(argv)
    if a.leak_gate is not None and not -60.0 <= a.leak_gate < 0.0:
        print(f"error: --leak-gate {a.leak_gate}: expected a level in dB below the other speaker, -60 <= DB < 0",
              file=sys.stderr)
        return 2
    try:
        cfg = dict(kv.split("=", 1) for kv in a.config)
        model, meta = load_model(None if a.random else a.ckpt, config=cfg or None)
    except (ck.CheckpointError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    if a.leak_gate is not None:
        try:
            model.set_leak_gate(a.leak_gate)
        except ValueError as e:
            print(f"error: --leak-gate: {e}", file=sys.stderr)
            return 3
        meta["leak_gate_db"] = a.leak_gate
    export_onnx(model, a.out)
    with open(a.out + ".json", "w") as f:
        json.dump({"config": model.config, **meta}, f, indent=1)
    if a.parity_dir:
        write_parity_cases(model, a.parity_dir)
    print(f"[export] {a.out} ({os.path.getsize(a.out)} bytes) step={meta['step']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
