"""Separated speech of the train speakers, labelled: what the voiceprint really hears in the app.

    /usr/bin/python3 -m training.voiceprint.separated [--separator training/checkpoints/latest.pt] [--items 3000]
        [--seconds 4] [--seed 31] [--p-background P] [--out training/cache/separated_train.npz]

The voiceprint was trained on clean crops with simulated leak and backgrounds; in the app it hears the separator's
speaker outputs, whose residue (another voice's leak, a background the mask let through, mask artefacts) spreads one
person's voiceprints (training.routing: cosine to their own centroid 0.52 with a background, 0.60 clean). Here the
separator (its EMA weights when the checkpoint has them, as shipped) runs over two-speaker train mixtures made by the
separator's own mixer (training.mix, every degradation on), each speaker output is matched to a person by
permutation-invariant SI-SNR, and outputs that are that person by at least --min-sisnr dB are kept as int16 with the
person's speaker id. training.voiceprint.train --separated FILE mixes them into its batches. A pure function of
(separator weights, seed, items, background share; the share is stored in the file): resuming a voiceprint run
regenerates the same file.
Exit: 0 ok; 2 missing data or a --p-background outside 0..1; 3 unusable separator checkpoint.
"""
import argparse
import os
import sys
import time

import numpy as np
import torch

from .. import checkpoint as ck
from ..average import average
from ..cache import Cache, DataError
from ..losses import np_sisnr, pit2
from ..mix import Mixer, check_shares
from ..model import Separator, make_config

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(HERE, "cache", "separated_train.npz")


def load_separator(path):
    state = ck.load(path)
    ema = "ema" in state
    if ema:  # the EMA weights as shipped (training.average keeps the model's own DFT buffers)
        state = average([state], use_ema=True)
    m = Separator(make_config(**state["config"]))
    m.load_state_dict(state["model"])
    m.eval()
    return m, int(state["step"]), ema


def build(cache, model, items, seconds, seed, min_sisnr, p_background=None, batch=8, log=print):
    own = {} if p_background is None else {"p_bg": p_background}  # None: the mixer's own share, as older files had
    mixer = Mixer(cache, seed=seed, seconds=seconds, p_single=0.0, **own)
    rng = np.random.default_rng([seed, 4711])
    crops, speakers, scores = [], [], []
    t0 = time.time()
    for start in range(0, items, batch):
        mixes, refs, ids = [], [], []
        for _ in range(min(batch, items - start)):
            who = []
            x, s = mixer.item(rng, single=False, speakers=who)
            mixes.append(x)
            refs.append(s[:2])
            ids.append(who)
        with torch.no_grad():
            out = model(torch.from_numpy(np.stack(mixes))).numpy()[:, :2]
        for o, r, who in zip(out, refs, ids):
            o = o[list(pit2(o, r)[1])]
            for k in (0, 1):
                q = np_sisnr(o[k], r[k])
                if q < min_sisnr:
                    continue
                peak = np.abs(o[k]).max() + 1e-9
                crops.append(np.round(o[k] / peak * 32000).astype(np.int16))
                speakers.append(who[k])
                scores.append(q)
        if (start // batch) % 50 == 0:
            log(f"[separated] {start + len(mixes)}/{items} mixtures, {len(crops)} outputs kept, {time.time() - t0:.0f} s")
    return np.stack(crops), np.asarray(speakers, np.int64), np.asarray(scores, np.float32), mixer.p_bg


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--separator", default=os.path.join(HERE, "checkpoints", "latest.pt"))
    ap.add_argument("--cache", default=os.path.join(HERE, "cache"))
    ap.add_argument("--items", type=int, default=3000)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--seed", type=int, default=31)
    ap.add_argument("--min-sisnr", type=float, default=3.0, help="keep an output only if it is its person by this many dB")
    ap.add_argument("--p-background", type=float, default=None,
                    help="share of mixtures with a background (default: training.mix's own); 1 makes every output "
                         "carry the residue a background leaves, the case where the voiceprint fails in the app")
    ap.add_argument("--out", default=DEFAULT_OUT)
    a = ap.parse_args(argv)
    try:
        if a.p_background is not None:
            check_shares(p_bg=a.p_background)
    except ValueError as e:
        print(f"error: --p-background: {e}", file=sys.stderr)
        return 2
    try:
        cache = Cache(a.cache, "train")
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        model, step, ema = load_separator(a.separator)
    except (ck.CheckpointError, RuntimeError, KeyError) as e:
        print(f"error: separator checkpoint {a.separator}: {e}", file=sys.stderr)
        return 3
    crops, speakers, scores, p_background = build(cache, model, a.items, a.seconds, a.seed, a.min_sisnr, a.p_background)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    tmp = a.out + ".tmp.npz"
    np.savez(tmp, crops=crops, speakers=speakers, sisnr=scores,
             meta=np.array([step, int(ema), a.seed, a.items], np.int64),
             p_background=np.float32(p_background))
    os.replace(tmp, a.out)
    print(f"[separated] {a.out}: {len(crops)} outputs of {len(np.unique(speakers))} speakers "
          f"(separator step {step}{' EMA' if ema else ''}; SI-SNR median {np.median(scores):.1f} dB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
