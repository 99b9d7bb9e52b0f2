"""One resumable checkpoint file, loadable with torch.load(weights_only=True)."""
import os
import random

import numpy as np
import torch

from .model import make_config

FORMAT = "voxsplit-ckpt/1"


class CheckpointError(Exception):
    pass


def rng_state():
    np_state = np.random.get_state()
    py_state = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "numpy": {"keys": torch.from_numpy(np_state[1].astype(np.int64)), "pos": int(np_state[2]),
                  "has_gauss": int(np_state[3]), "cached_gaussian": float(np_state[4])},
        "python": {"version": int(py_state[0]), "state": [int(v) for v in py_state[1]],
                   "gauss": None if py_state[2] is None else float(py_state[2])},
    }


def set_rng_state(s):
    torch.set_rng_state(s["torch"])
    n = s["numpy"]
    np.random.set_state(("MT19937", n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached_gaussian"]))
    p = s["python"]
    random.setstate((p["version"], tuple(p["state"]), p["gauss"]))


def _enc(o):
    """torch 1.13's weights_only unpickler rejects Python floats: store them as float64 0-d tensors."""
    if isinstance(o, float):
        return torch.tensor(o, dtype=torch.float64)
    if isinstance(o, dict):
        return {k: _enc(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return type(o)(_enc(v) for v in o)
    return o


def _dec(o):
    if isinstance(o, torch.Tensor) and o.dtype == torch.float64 and o.dim() == 0:
        return float(o.item())
    if isinstance(o, dict):
        return {k: _dec(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return type(o)(_dec(v) for v in o)
    return o


def save(path, *, config, model, optim, step, wall_s, sampler, hparams, ema=None):
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    obj = {
        "format": FORMAT,
        "config": dict(config),
        "model": {k: v.detach().float().cpu().clone() for k, v in model.state_dict().items()},
        "optim": optim.state_dict(),
        "step": int(step),
        "wall_s": float(wall_s),
        "rng": rng_state(),
        "sampler": dict(sampler),
        "hparams": dict(hparams),
    }
    if ema is not None:  # training.ema: the moving average of the weights (absent when off)
        obj["ema"] = {k: v.clone() for k, v in ema.items()}
    tmp = path + ".tmp"
    torch.save(_enc(obj), tmp)
    os.replace(tmp, path)


def load(path):
    if not os.path.isfile(path):
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001
        raise CheckpointError(f"cannot load checkpoint {path} safely: {e}") from e
    obj = _dec(obj)
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a {FORMAT} checkpoint")
    return obj


def check_config(obj, config, path="checkpoint"):
    # Keys added to the model config later take their defaults (the behaviour older checkpoints were trained with).
    try:
        got = make_config(**obj.get("config", {}))
    except ValueError as e:
        raise CheckpointError(f"{path} has a model config this code does not know: {e}") from e
    diffs = [f"{k}: checkpoint {got.get(k)!r} vs requested {config.get(k)!r}"
             for k in sorted(set(got) | set(config)) if got.get(k) != config.get(k)]
    if diffs:
        raise CheckpointError(f"{path} does not match the model config ({'; '.join(diffs)}). "
                              "Use a matching --config, or start fresh with another --ckpt path.")


def init_from(model, path, skip=("mask.",), obj=None):
    """Warm start: copy the weights of another checkpoint into a fresh model, except the keys under `skip` and any
    whose shape differs (e.g. a new output head). Returns (copied, left_fresh, source step).
    obj: the checkpoint at path already loaded with load() (callers that need it again pass it, not read it twice)."""
    obj = load(path) if obj is None else obj
    own = model.state_dict()
    src = obj["model"]
    take = {k: v for k, v in src.items()
            if k in own and not k.startswith(tuple(skip)) and tuple(v.shape) == tuple(own[k].shape)}
    if not take:
        raise CheckpointError(f"{path}: no weights fit this model")
    own.update(take)
    model.load_state_dict(own)
    return sorted(take), sorted(k for k in own if k not in take), int(obj["step"])
