"""The STFT's DFT kernels built inside the ONNX graph instead of stored in it.

The analysis and synthesis kernels of a 512-sample window are two float32 [514, 1, 512] tensors: 2.1 MB, half of the
shipped int8 file and more than all its quantized weights. They are a fixed function of (n_fft, hop), so the graph
can build them from a 512-entry cosine table and the window: Range -> Mul -> Mod gives each (bin, sample) phase
index, Gather reads cos and sin (sin x = cos(x - pi/2), a quarter-turn of the table) and Mul applies the window and
the synthesis gain. Every input is a constant, so onnxruntime folds the subgraph once when the session is created
(no cost per run); the values equal the stored ones to float32 rounding (checked here against the kernels they
replace, and end to end by the parity test).
"""
import math

import numpy as np
import onnx
from onnx import helper, numpy_helper

ANALYSIS, SYNTHESIS = "stft_analysis", "stft_synthesis"
PREFIX = "dft/"
MAX_ABS_DIFF = 1e-6  # vs the stored kernels (entries up to 1 for analysis, 2 / n_fft for synthesis)


def tables(n_fft, hop):
    """The small constants the subgraph needs: cos(2 pi m / N), the sqrt-periodic-Hann window and the synthesis gain
    per sample (window / N * 2 hop / N) and per bin (1 for DC and Nyquist, 2 otherwise), as in model.dft_kernels."""
    n = np.arange(n_fft, dtype=np.float64)
    cos = np.cos(2 * math.pi * n / n_fft)
    w = np.sqrt(0.5 - 0.5 * np.cos(2 * math.pi * n / n_fft))
    c = np.full((n_fft // 2 + 1, 1), 2.0)
    c[0] = c[-1] = 1.0
    return {"cos_table": cos.astype(np.float32), "window": w.astype(np.float32),
            "synthesis_gain": (w / n_fft * (2 * hop / n_fft)).astype(np.float32), "bin_gain": c.astype(np.float32)}


def reference_kernels(n_fft, hop):
    """What the subgraph computes, in numpy with the graph's float32 operations (for the check before rewriting)."""
    t = tables(n_fft, hop)
    k = np.arange(n_fft // 2 + 1)[:, None]
    m = (k * np.arange(n_fft)[None]) % n_fft
    cos, sin = t["cos_table"][m], t["cos_table"][(m + 3 * n_fft // 4) % n_fft]
    an = np.concatenate([cos * t["window"], -(sin * t["window"])])[:, None]
    sy = np.concatenate([(cos * t["bin_gain"]) * t["synthesis_gain"], -((sin * t["bin_gain"]) * t["synthesis_gain"])])
    return an.astype(np.float32), sy[:, None].astype(np.float32)


def _nodes(n_fft, has_synthesis):
    K, p = n_fft // 2 + 1, PREFIX
    c = lambda name, v: helper.make_node("Constant", [], [p + name], value=numpy_helper.from_array(np.array(v, np.int64), p + name))  # noqa: E731
    nodes = [c("zero", 0), c("bins", K), c("n_fft", n_fft), c("one", 1), c("quarter", 3 * n_fft // 4),
             c("axis0", [0]), c("axis1", [1]),
             helper.make_node("Range", [p + "zero", p + "bins", p + "one"], [p + "k"]),
             helper.make_node("Range", [p + "zero", p + "n_fft", p + "one"], [p + "n"]),
             helper.make_node("Unsqueeze", [p + "k", p + "axis1"], [p + "k_col"]),
             helper.make_node("Unsqueeze", [p + "n", p + "axis0"], [p + "n_row"]),
             helper.make_node("Mul", [p + "k_col", p + "n_row"], [p + "kn"]),
             helper.make_node("Mod", [p + "kn", p + "n_fft"], [p + "phase"]),
             helper.make_node("Add", [p + "phase", p + "quarter"], [p + "phase_q"]),
             helper.make_node("Mod", [p + "phase_q", p + "n_fft"], [p + "phase_sin"]),
             helper.make_node("Gather", [p + "cos_table", p + "phase"], [p + "cos"], axis=0),
             helper.make_node("Gather", [p + "cos_table", p + "phase_sin"], [p + "sin"], axis=0),
             helper.make_node("Mul", [p + "cos", p + "window"], [p + "an_re"]),
             helper.make_node("Mul", [p + "sin", p + "window"], [p + "an_im_pos"]),
             helper.make_node("Neg", [p + "an_im_pos"], [p + "an_im"]),
             helper.make_node("Concat", [p + "an_re", p + "an_im"], [p + "an"], axis=0),
             helper.make_node("Unsqueeze", [p + "an", p + "axis1"], [ANALYSIS])]
    if has_synthesis:
        nodes += [helper.make_node("Mul", [p + "cos", p + "bin_gain"], [p + "cos_g"]),
                  helper.make_node("Mul", [p + "cos_g", p + "synthesis_gain"], [p + "sy_re"]),
                  helper.make_node("Mul", [p + "sin", p + "bin_gain"], [p + "sin_g"]),
                  helper.make_node("Mul", [p + "sin_g", p + "synthesis_gain"], [p + "sy_im_pos"]),
                  helper.make_node("Neg", [p + "sy_im_pos"], [p + "sy_im"]),
                  helper.make_node("Concat", [p + "sy_re", p + "sy_im"], [p + "sy"], axis=0),
                  helper.make_node("Unsqueeze", [p + "sy", p + "axis1"], [SYNTHESIS])]
    return nodes


def build_kernels_in_graph(m, hop):
    """Replace the stored stft_analysis / stft_synthesis initializers of m (an exported STFT-front-end model) by the
    subgraph that computes them. Refuses (ValueError) when the stored kernels are not the ones the subgraph builds.
    Returns the bytes saved; 0 for a model without stored kernels (the learned front end)."""
    inits = {t.name: t for t in m.graph.initializer}
    if ANALYSIS not in inits:
        return 0
    an = numpy_helper.to_array(inits[ANALYSIS])
    n_fft = an.shape[-1]
    if an.shape != (2 * (n_fft // 2 + 1), 1, n_fft) or n_fft % 4:
        raise ValueError(f"unexpected {ANALYSIS} shape {an.shape}")
    ref_an, ref_sy = reference_kernels(n_fft, hop)
    stored = {ANALYSIS: (an, ref_an)}
    if SYNTHESIS in inits:
        stored[SYNTHESIS] = (numpy_helper.to_array(inits[SYNTHESIS]), ref_sy)
    for name, (have, want) in stored.items():
        diff = float(np.abs(have - want).max())
        if have.shape != want.shape or diff > MAX_ABS_DIFF:
            raise ValueError(f"{name} differs from the in-graph DFT kernels by {diff:.2e} (n_fft {n_fft}, hop {hop})")
    removed = sum(len(inits[name].raw_data) for name in stored)
    for name in stored:
        m.graph.initializer.remove(inits[name])
    needed = tables(n_fft, hop)
    if SYNTHESIS not in stored:
        needed = {k: v for k, v in needed.items() if k in ("cos_table", "window")}
    m.graph.initializer.extend(numpy_helper.from_array(v, PREFIX + k) for k, v in needed.items())
    # the kernels' names become node outputs, produced before any node that reads them
    nodes = _nodes(n_fft, SYNTHESIS in stored) + list(m.graph.node)
    del m.graph.node[:]
    m.graph.node.extend(nodes)
    return removed - sum(v.nbytes for v in needed.values())
