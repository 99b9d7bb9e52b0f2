"""Average the weights of several checkpoints of one run (stochastic weight averaging after the fact).

    /usr/bin/python3 -m training.average OUT.pt CKPT1 CKPT2 [...]
    /usr/bin/python3 -m training.average --ema OUT.pt CKPT [...]   (the weight EMA kept by `train --ema`, or its mean)

Checkpoints of one run taken after its learning rate has settled lie in one basin: their mean usually sits nearer its
floor than any of them, at no cost at inference. Every checkpoint must have the same model config. OUT is a regular
checkpoint (export, diagnose and candidate.sh take it) holding the mean weights and the newest input's step, wall
time, optimizer and sampler state, with hparams["averaged_steps"] naming the steps averaged. It is meant for export,
not for resuming: the optimizer state belongs to the newest input, not to the mean.
Exit: 0 ok; 3 a checkpoint is unreadable or its config differs from the first's.
"""
import argparse
import os
import sys

import torch

from . import checkpoint as ck
from .model import Separator, make_config


def average(objs, use_ema=False):
    """objs: loaded checkpoints (ck.load). Returns a checkpoint dict: the newest one with the mean model weights
    (use_ema: the mean of their EMA weights)."""
    if use_ema:
        missing = [str(o["step"]) for o in objs if "ema" not in o]
        if missing:
            raise ck.CheckpointError(f"no EMA weights in the checkpoint of step {', '.join(missing)} (train with --ema)")
        params = {k for k, _ in Separator(make_config(**objs[0]["config"])).named_parameters()}
        # buffers (fixed DFT kernels) from the weights: an EMA kept before they were excluded from it drifted by rounding
        objs = [{**o, "model": {k: (v if k in params else o["model"][k]) for k, v in o["ema"].items()}} for o in objs]
    first = objs[0]
    for o in objs[1:]:
        ck.check_config(o, first["config"])
        if set(o["model"]) != set(first["model"]):
            raise ck.CheckpointError("the checkpoints hold different weight names")
    newest = max(objs, key=lambda o: int(o["step"]))
    mean = {}
    for k, v in newest["model"].items():
        if v.is_floating_point():
            mean[k] = torch.stack([o["model"][k].double() for o in objs]).mean(0).to(v.dtype)
        else:  # integer buffers (counters): the newest checkpoint's
            mean[k] = v.clone()
    steps = sorted(int(o["step"]) for o in objs)
    hp = {**newest["hparams"], "averaged_steps": steps}
    if use_ema:
        hp["weights"] = "ema"
    out = {**newest, "model": mean, "hparams": hp}
    out.pop("ema", None)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ema", action="store_true", help="take each checkpoint's EMA weights instead of its weights")
    ap.add_argument("out")
    ap.add_argument("ckpts", nargs="+")
    a = ap.parse_args(argv)
    if len(a.ckpts) < 2 and not a.ema:
        ap.error("give at least two checkpoints to average (or one with --ema)")
    try:
        objs = [ck.load(p) for p in a.ckpts]
        out = average(objs, use_ema=a.ema)
    except ck.CheckpointError as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    tmp = a.out + ".tmp"
    torch.save(ck._enc(out), tmp)
    os.replace(tmp, a.out)
    print(f"[average] {a.out}: mean of {'the EMA weights' if a.ema else 'the weights'} of steps {out['hparams']['averaged_steps']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
