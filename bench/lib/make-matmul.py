"""Writes a one-node ONNX model: Y = X @ W with W a fixed float32 initializer, for bench/engine-peak.mjs.
    /usr/bin/python3 bench/lib/make-matmul.py OUT.onnx K N
X is [1, M, K] with M dynamic, W [K, N] (seeded, so every run builds the same file)."""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out, k, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
w = (np.random.default_rng(0).standard_normal((k, n)) / np.sqrt(k)).astype(np.float32)
g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "matmul",
                      [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, "M", k])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, "M", n])],
                      [numpy_helper.from_array(w, "w")])
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), out)
