"""Diagnostics behind the model card's "why run 2 stalled" figures (CPU, a few minutes each).

    /usr/bin/python3 -m training.diagnose throughput [--batch 4] [--seconds 4]
        median seconds per training step (run it with and without OMP_NUM_THREADS=2)
    /usr/bin/python3 -m training.diagnose segments CKPT [--items 48]
        val SI-SNRi with one permutation per item vs the permutation chosen per 0.5 s (oracle):
        tells a speaker-tracking failure (second much higher) from no separation at all
    /usr/bin/python3 -m training.diagnose clean-run [--steps 600] [--lr 1e-3] [--no-in-norm] [--min-seconds S] [key=value ...]
        a fresh model on clean two-speaker mixtures (no degradation, no single-speaker items):
        train SI-SNRi every 50 steps; key=value are model config overrides (e.g. enc_kernel=512 chunk=32)
"""
import argparse
import os
import sys
import time

import numpy as np
import torch

from . import checkpoint as ck
from .cache import Cache
from .losses import batch_sisnri, np_sisnr, separation_loss, sisnri_2spk
from .mix import Mixer
from .model import Separator, make_config
from .train import ValSet

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.path.join(HERE, "cache")
CLEAN = dict(p_bg=0, p_reverb=0, p_tel=0, p_codec=0, p_speed=0, p_clip=0, p_single=0)


def throughput(a):
    c = Cache(CACHE, "train")
    m = Mixer(c, seed=0, seconds=a.seconds)
    model = Separator(make_config())
    opt = torch.optim.Adam(model.parameters(), 1e-4)
    ts = []
    for s in range(14):
        mix, ref = m.batch(s, a.batch)
        t = time.time()
        mt, rt = torch.from_numpy(mix), torch.from_numpy(ref)
        loss = separation_loss(model(mt), rt, mt)
        opt.zero_grad()
        loss.backward()
        opt.step()
        ts.append(time.time() - t)
    print(f"batch {a.batch} x {a.seconds} s, torch threads {torch.get_num_threads()}: "
          f"median {np.median(ts[4:]):.3f} s/step (after 4 warm-up steps)")


def segments(a):
    st = ck.load(a.ckpt)
    model = Separator(make_config(**st["config"]))
    model.load_state_dict(st["model"])
    model.eval()
    v = ValSet(CACHE, a.items, 4.0)
    with torch.no_grad():
        est = model(torch.from_numpy(v.mix)).numpy()
    item, seg = [], []
    L = 8000
    for j in range(len(v.mix)):
        e, r, x = est[j], v.ref[j, :2], v.mix[j]
        item.append(sisnri_2spk(e, r, x)[0])
        out = np.zeros_like(r)
        for s in range(0, r.shape[1], L):
            keep = ((e[0, s:s + L] - r[0, s:s + L]) ** 2).sum() + ((e[1, s:s + L] - r[1, s:s + L]) ** 2).sum()
            swap = ((e[1, s:s + L] - r[0, s:s + L]) ** 2).sum() + ((e[0, s:s + L] - r[1, s:s + L]) ** 2).sum()
            out[:, s:s + L] = e[:2, s:s + L] if keep <= swap else e[1::-1, s:s + L]
        base = (np_sisnr(x, r[0]) + np_sisnr(x, r[1])) / 2
        seg.append((np_sisnr(out[0], r[0]) + np_sisnr(out[1], r[1])) / 2 - base)
    print(f"{a.ckpt} (step {st['step']}): val SI-SNRi {np.mean(item):.2f} dB (median {np.median(item):.2f}), "
          f"with the permutation chosen per 0.5 s (oracle) {np.mean(seg):.2f} dB")


def clean_run(a):
    torch.manual_seed(0)
    cfg = dict(kv.split("=", 1) for kv in a.overrides)
    m = Mixer(Cache(CACHE, "train"), seed=1, seconds=4.0, min_seconds=a.min_seconds, **CLEAN)
    model = Separator(make_config(**cfg))
    if a.no_in_norm:
        model.in_norm = torch.nn.Identity()
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    t0, acc = time.time(), []
    for step in range(a.steps):
        mix, ref = m.batch(step, 4)
        mt, rt = torch.from_numpy(mix), torch.from_numpy(ref)
        for g in opt.param_groups:
            g["lr"] = a.lr * min(1.0, (step + 1) / 200)
        est = model(mt)
        loss = separation_loss(est, rt, mt)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        acc.append(batch_sisnri(est.detach(), rt, mt))
        if (step + 1) % 50 == 0:
            print(f"{step + 1} train SI-SNRi {np.mean(acc[-50:]):.2f} dB {(time.time() - t0) / (step + 1):.2f} s/step", flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("throughput")
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--seconds", type=float, default=4.0)
    p = sub.add_parser("segments")
    p.add_argument("ckpt")
    p.add_argument("--items", type=int, default=48)
    p = sub.add_parser("clean-run")
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--no-in-norm", action="store_true")
    p.add_argument("--min-seconds", type=float, default=0.0, help="only utterances at least this long (fully overlapped crops)")
    p.add_argument("overrides", nargs="*")
    a = ap.parse_args(argv)
    {"throughput": throughput, "segments": segments, "clean-run": clean_run}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
