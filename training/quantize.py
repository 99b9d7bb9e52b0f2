"""Deterministic int8 weight quantization of an exported VoxSplit ONNX model.

    /usr/bin/python3 -m training.quantize IN_fp32.onnx OUT_int8.onnx [--manifest public/models/manifest.json ...]

Every float initializer with >= 2 dims and >= 1024 elements that feeds the weight input of a
MatMul / Gemm / Conv / ConvTranspose is replaced by an int8 initializer + per-channel
symmetric scales (zero point 0) and a DequantizeLinear node (opset 13+ `axis`). Everything
else (LayerNorm gains/biases, biases, positional tables, any DFT kernel) stays float32.
The rewrite is a pure function of the input file, so running it twice gives byte-identical
output. With --manifest it also (re)writes the app manifest for OUT (training/manifest.py).
"""
import argparse
import os
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper

WEIGHT_INPUT = {"MatMul": 1, "Gemm": 1, "Conv": 1, "ConvTranspose": 1}
MIN_ELEMS = 1024


def _axis(op, node, arr):
    if op == "MatMul":
        return arr.ndim - 1  # B [.., in, out]: per output column
    if op == "Gemm":
        trans_b = next((a.i for a in node.attribute if a.name == "transB"), 0)
        return 0 if trans_b else 1
    return 0  # Conv W [out, in, k]; ConvTranspose W [in, out, k]: per basis function


def quantize_model(model):
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    targets = {}
    for node in g.node:
        k = WEIGHT_INPUT.get(node.op_type)
        if k is None or len(node.input) <= k:
            continue
        name = node.input[k]
        t = inits.get(name)
        if t is None or name in targets or t.data_type != onnx.TensorProto.FLOAT or "stft" in name:
            continue  # stored DFT kernels (files exported before training/dft_graph.py) stay float32
        arr = numpy_helper.to_array(t)
        if arr.ndim < 2 or arr.size < MIN_ELEMS:
            continue
        targets[name] = _axis(node.op_type, node, arr)
    new_inits, dq_nodes = [], []
    for t in g.initializer:
        if t.name not in targets:
            new_inits.append(t)
            continue
        arr = numpy_helper.to_array(t).astype(np.float32)
        ax = targets[t.name]
        red = tuple(i for i in range(arr.ndim) if i != ax)
        amax = np.abs(arr).max(axis=red)
        scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
        shp = [1] * arr.ndim
        shp[ax] = -1
        q = np.clip(np.rint(arr / scale.reshape(shp)), -127, 127).astype(np.int8)
        qn, sn, zn = t.name + "_q", t.name + "_scale", t.name + "_zp"
        new_inits += [numpy_helper.from_array(q, qn), numpy_helper.from_array(scale, sn),
                      numpy_helper.from_array(np.zeros(scale.shape, np.int8), zn)]
        dq_nodes.append(helper.make_node("DequantizeLinear", [qn, sn, zn], [t.name], name=t.name + "_dq", axis=ax))
    del g.initializer[:]
    g.initializer.extend(new_inits)
    nodes = dq_nodes + list(g.node)
    del g.node[:]
    g.node.extend(nodes)
    # the graph-level value_info of a quantized weight would be stale only in dtype; drop it if present
    keep = [v for v in g.value_info if v.name not in targets]
    del g.value_info[:]
    g.value_info.extend(keep)
    p = model.metadata_props.add()
    p.key, p.value = "voxsplit_quantization", f"int8 per-channel symmetric weights ({len(targets)} tensors)"
    return model, len(targets)


def quantize_file(src, dst):
    m = onnx.load(src)
    m, n = quantize_model(m)
    onnx.checker.check_model(m)
    os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
    data = m.SerializeToString(deterministic=True)
    tmp = dst + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, dst)
    return n


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--manifest", default=None, help="write the app manifest (e.g. public/models/manifest.json)")
    ap.add_argument("--meta", default=None, help="export metadata json (default SRC.json)")
    ap.add_argument("--val-si-snri", type=float, default=None)
    a = ap.parse_args(argv)
    if not os.path.isfile(a.src):
        print(f"error: no such model: {a.src}", file=sys.stderr)
        return 2
    n = quantize_file(a.src, a.dst)
    print(f"[quantize] {a.dst}: {n} weight tensors int8, {os.path.getsize(a.dst)} bytes")
    if a.manifest:
        from .manifest import write_manifest
        meta = a.meta or a.src + ".json"
        write_manifest(a.manifest, a.dst, meta_path=meta if os.path.isfile(meta) else None, val_si_snri=a.val_si_snri)
        print(f"[quantize] wrote {a.manifest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
