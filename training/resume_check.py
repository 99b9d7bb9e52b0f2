"""Checks that two checkpoints hold identical training state (weights, Adam moments, step, RNG, sampler).

    /usr/bin/python3 -m training.resume_check A.pt B.pt
"""
import sys

import torch

from . import checkpoint as ck


def same(a, b, path="ckpt"):
    if isinstance(a, torch.Tensor):
        if not isinstance(b, torch.Tensor) or a.shape != b.shape or a.dtype != b.dtype or not torch.equal(a, b):
            return [path]
        return []
    if isinstance(a, dict):
        if not isinstance(b, dict) or set(a) != set(b):
            return [path + " (keys)"]
        return [d for k in a for d in same(a[k], b[k], f"{path}.{k}")]
    if isinstance(a, (list, tuple)):
        if not isinstance(b, (list, tuple)) or len(a) != len(b):
            return [path + " (len)"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in same(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def main(argv=None):
    a, b = (argv or sys.argv[1:])[:2]
    A, B = ck.load(a), ck.load(b)
    A.pop("wall_s"), B.pop("wall_s")
    diffs = same(A, B)
    if diffs:
        print("resume check FAILED: " + "; ".join(diffs[:10]), file=sys.stderr)
        return 1
    print(f"resume check OK: identical state at step {A['step']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
