"""Train the voiceprint (speaker embedding) on the train speakers; resumable like training.train.

    /usr/bin/python3 -m training.voiceprint.train [--ckpt training/checkpoints/voiceprint.pt] [--max-steps N]
        [--batch 48] [--seconds 2] [--lr 1e-3] [--val-every 500] [--save-minutes 10]

Loss: additive-angular-margin softmax over the 3,102 train speakers (the class weights stay in the checkpoint, not in
the exported model). Val: equal error rate of cosine scores on a fixed list of degraded crop pairs from the val
speakers (never trained on); lower is better. Log: training/checkpoints/voiceprint_log.tsv.
"""
import argparse
import os
import sys
import time

import numpy as np
import torch

from .. import checkpoint as ck
from ..stopping import stop_requested
from ..cache import Cache, DataError
from .data import SpeakerCrops
from .model import AAMSoftmax, VoicePrint, count_params, make_config

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOG_HEADER = "step\tloss\taccuracy\tval_eer\tlr\twall_h\ttime\n"


def eer(scores, same):
    """Equal error rate: the threshold where false accepts and false rejects are equally frequent."""
    order = np.argsort(-scores)
    same = same[order].astype(float)
    far = np.cumsum(1 - same) / max(1, (1 - same).sum())
    frr = 1 - np.cumsum(same) / max(1, same.sum())
    i = int(np.argmin(np.abs(far - frr)))
    return float((far[i] + frr[i]) / 2)


class ValPairs:
    """Two degraded crops per val speaker, fixed: same-speaker pairs are the diagonal, the rest differ."""

    def __init__(self, cache, speakers=150, seconds=2.0, seed=4242):
        d = SpeakerCrops(cache, seed, seconds)
        rng = np.random.default_rng(seed)
        ks = rng.choice(d.n_speakers, min(speakers, d.n_speakers), replace=False)
        self.a = torch.from_numpy(np.stack([d.item(rng, int(k)) for k in ks]))
        self.b = torch.from_numpy(np.stack([d.item(rng, int(k)) for k in ks]))

    @torch.no_grad()
    def score(self, net):
        was = net.training
        net.eval()
        s = (net(self.a) @ net(self.b).T).numpy()
        net.train(was)
        same = np.eye(len(s), dtype=bool)
        return eer(s.ravel(), same.ravel())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", default=os.path.join(HERE, "checkpoints", "voiceprint.pt"))
    ap.add_argument("--cache", default=os.path.join(HERE, "cache"))
    ap.add_argument("--max-steps", type=int, default=None)
    ap.add_argument("--batch", type=int, default=48)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--val-every", type=int, default=500)
    ap.add_argument("--val-speakers", type=int, default=150)
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--save-minutes", type=float, default=10.0)
    ap.add_argument("--config", nargs="*", default=[], help="model config overrides KEY=VALUE (fresh start only)")
    ap.add_argument("--separated", default=None, help="separated crops (training.voiceprint.separated) to mix in; kept in "
                    "the checkpoint's hparams, so a resume uses them again")
    ap.add_argument("--p-separated", type=float, default=0.5, help="with --separated: share of items, of the speakers it covers")
    a = ap.parse_args(argv)
    try:
        train, val = Cache(a.cache, "train"), Cache(a.cache, "val")
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    resume = os.path.exists(a.ckpt)
    try:
        state = ck.load(a.ckpt) if resume else None
        config = make_config(**(state["config"] if resume else {k: int(v) for k, v in (s.split("=", 1) for s in a.config)}))
    except (ck.CheckpointError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    hp = dict(state["hparams"]) if resume else {"batch": a.batch, "seconds": a.seconds, "lr": a.lr, "seed": a.seed}
    if a.separated:
        hp["separated"], hp["p_separated"] = os.path.relpath(os.path.abspath(a.separated), HERE), a.p_separated
    torch.manual_seed(hp["seed"])
    separated = None
    if hp.get("separated"):
        path = os.path.normpath(os.path.join(HERE, hp["separated"]))
        if not os.path.exists(path):
            print(f"error: {path} is missing: make it with /usr/bin/python3 -m training.voiceprint.separated "
                  f"(the checkpoint trains with it)", file=sys.stderr)
            return 2
        with np.load(path) as z:
            separated = (z["crops"], z["speakers"])
    try:
        data = SpeakerCrops(train, hp["seed"], hp["seconds"], separated=separated, p_separated=hp.get("p_separated", 0.0))
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    model = torch.nn.ModuleDict({"net": VoicePrint(config), "head": AAMSoftmax(config["emb_dim"], data.n_speakers)})
    opt = torch.optim.Adam(model.parameters(), lr=hp["lr"])
    step, wall_s = 0, 0.0
    if resume:
        try:
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["optim"])
        except (RuntimeError, ValueError, KeyError) as e:
            print(f"error: checkpoint {a.ckpt} does not fit the model: {e}", file=sys.stderr)
            return 3
        step, wall_s = int(state["step"]), float(state["wall_s"])
        ck.set_rng_state(state["rng"])
        print(f"[voiceprint] resumed {a.ckpt} at step {step}", flush=True)
    else:
        print(f"[voiceprint] fresh start: {config} params={count_params(model['net'])} speakers={data.n_speakers}", flush=True)
    vp = ValPairs(val, a.val_speakers, hp["seconds"]) if a.val_speakers > 0 else None
    log_path = os.path.join(os.path.dirname(os.path.abspath(a.ckpt)), "voiceprint_log.tsv")
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    if not os.path.exists(log_path):
        with open(log_path, "w") as f:
            f.write(LOG_HEADER)

    def save():
        ck.save(a.ckpt, config=config, model=model, optim=opt, step=step, wall_s=wall_s,
                sampler={"seed": hp["seed"], "step": step}, hparams=hp)

    stop = stop_requested("voiceprint")
    last_save, t0, losses, accs = time.time(), time.time(), [], []
    while (a.max_steps is None or step < a.max_steps) and not stop["flag"]:
        x, y = data.batch(step, hp["batch"])
        lr = hp["lr"] * min(1.0, (step + 1) / 500) * (0.5 ** (step // 8000))
        for g in opt.param_groups:
            g["lr"] = lr
        loss, acc = model["head"](model["net"](torch.from_numpy(x)), torch.from_numpy(y))
        if not torch.isfinite(loss):
            print(f"error: loss is {loss.item()} at step {step}; the last good checkpoint is kept", file=sys.stderr)
            return 4
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        now = time.time()
        wall_s += now - t0
        t0 = now
        losses.append(loss.item())
        accs.append(acc.item())
        v = vp.score(model["net"]) if vp is not None and step % a.val_every == 0 else None
        if step % a.log_every == 0 or v is not None:
            row = [step, f"{np.mean(losses):.4f}", f"{np.mean(accs):.4f}", "" if v is None else f"{v:.4f}", f"{lr:.2e}",
                   f"{wall_s / 3600:.4f}", time.strftime("%Y-%m-%dT%H:%M:%S")]
            with open(log_path, "a") as f:
                f.write("\t".join(map(str, row)) + "\n")
            print(f"[voiceprint] step {step} loss {np.mean(losses):.3f} acc {np.mean(accs):.3f}"
                  + ("" if v is None else f" val EER {100 * v:.1f}%"), flush=True)
            losses, accs = [], []
        if now - last_save > a.save_minutes * 60:
            save()
            last_save = now
    save()
    print(f"[voiceprint] saved {a.ckpt} at step {step}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
