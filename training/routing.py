"""Where the associate stage loses: its segments and voiceprints against who really spoke.

    /usr/bin/python3 -m training.routing [SEPARATOR.onnx] [VOICEPRINT.onnx] [--items 16] [--seconds 60] [--seed 11]
        [--background] [--one-voice] [--params JSON] [--json OUT]

training.conversations scores the whole tracks; this looks inside, on the same clean val conversations. Each segment
the app's VoiceAssociator cut (training/js/associate.mjs --trace: its output, frames, voiceprint and the decision at
the time) is labelled with the person whose reference it matches best on that output, then:
  mixed         share of segment frames whose audio is less than 80 % one person (a turn change inside a segment:
                one voiceprint cannot route both halves)
  decided       share of frames routed to the right person's track when judged (best person-to-track mapping per file)
  oracle 2-means share of frames right when each segment goes to the nearer of the two *true* voice centroids (the
                voiceprint's ceiling on these segments, whatever the clustering)
  2-means       the same with an offline 2-means over all solo segments of the file (the clustering's ceiling)
  centroid cos  cosine between the two people's true centroids (the associate's `oneVoice` splits below it)
  within cos    mean cosine of a segment's voiceprint with its own person's centroid
Then, per file, an offline 2-means over its solo voiceprints (two people, and with --one-voice the one-person files):
the split's centroid cosine, mean margin, spread, the share of the spread it explains and the smaller side's share —
the statistics a one-voice-or-two rule can use (training/MODEL_CARD.md, ninth session: the centroid cosine is best).
"""
import argparse
import json
import sys
import tempfile

import numpy as np

from .cache import Cache, DataError
from .conversations import common_args, draw, run_node
from .manifest import shipped_model
from .mix import SR

FRAME = SR // 10


def label(o, refs, d):
    """(person, dominance) of segment d's audio on its output."""
    sl = slice(d["start"] * FRAME, d["end"] * FRAME)
    c = np.array([max(0.0, float(o[d["output"], sl] @ refs[i, sl])) for i in range(2)])
    return int(c.argmax()), float(c.max() / (c.sum() + 1e-12))


def unit(v):
    return v / (np.linalg.norm(v) + 1e-12)


def two_means(E, w, iters=20):
    """Spherical 2-means from the farthest pair; labels 0/1."""
    i = int(np.argmin(E @ E[0]))
    j = int(np.argmin(E @ E[i]))
    c = np.stack([E[i], E[j]])
    for _ in range(iters):
        lab = (E @ c[1] > E @ c[0]).astype(int)
        new = np.stack([unit((E[lab == k] * w[lab == k, None]).sum(0)) if (lab == k).any() else c[k] for k in (0, 1)])
        if np.allclose(new, c):
            break
        c = new
    return c


def mapped_accuracy(pred, truth, w):
    """Frame-weighted accuracy of `pred` tracks against `truth` persons under the better of the two mappings."""
    ok = (pred == truth)
    a = float((w * ok).sum() / w.sum())
    return max(a, 1 - a)


def judged_segments(decisions):
    """The segments the associator judged (not the tail it had no time to judge): each with its frames and voiceprint."""
    segs = [d for d in decisions if not d.get("tail")]
    w = np.array([d["end"] - d["start"] for d in segs], float)
    E = np.array([d["print"] for d in segs], float).reshape(len(segs), -1)
    solo = np.array([d["solo"] for d in segs], bool)
    return segs, w, E, solo


def file_report(o, refs, decisions):
    segs, w, E, solo = judged_segments(decisions)
    if len(segs) < 2:
        return None
    lab = np.array([label(o, refs, d) for d in segs])
    person, dom = lab[:, 0].astype(int), lab[:, 1]
    r = {"frames": float(w.sum()), "mixed": float(w[dom < 0.8].sum() / w.sum())}
    # the route judged at the time: the track the segment's voice was sent to
    two = np.array([None not in d["cosines"] for d in segs])  # NaN (no voice on a track yet) comes as null
    track = np.array([d["track"] for d in segs])
    r["decided"] = mapped_accuracy(track[two], person[two], w[two]) if two.any() else float("nan")
    r["decided_share"] = float(w[two].sum() / w.sum())
    if len(set(person[solo])) == 2:
        cent = np.stack([unit((E[solo & (person == k)] * w[solo & (person == k), None]).sum(0)) for k in (0, 1)])
        r["oracle"] = mapped_accuracy((E @ cent[1] > E @ cent[0]).astype(int), person, w)
        r["centroid_cos"] = float(cent[0] @ cent[1])
        r["within_cos"] = float(np.mean([E[n] @ cent[person[n]] for n in range(len(segs))]))
    if solo.sum() >= 2:
        c = two_means(E[solo], w[solo])
        r["two_means"] = mapped_accuracy((E @ c[1] > E @ c[0]).astype(int), person, w)
    r.update(split_stats(E[solo], w[solo]))
    return r


def split_stats(E, w):
    """What an offline 2-means over a file's solo voiceprints looks like: for telling one voice from two."""
    if len(E) < 2:
        return {}
    c = two_means(E, w)
    lab = (E @ c[1] > E @ c[0]).astype(int)
    own = (E * c[lab]).sum(1)
    other = (E * c[1 - lab]).sum(1)
    share = float(w[lab == 1].sum() / w.sum())
    # share of the spread the split explains: blind to whatever all voiceprints of the file share (a background, a room)
    mu = (w[:, None] * E).sum(0) / w.sum()
    within = sum((w[lab == k, None] * (E[lab == k] - (w[lab == k, None] * E[lab == k]).sum(0) / w[lab == k].sum()) ** 2).sum()
                 for k in (0, 1) if (lab == k).any())
    total = (w[:, None] * (E - mu) ** 2).sum()
    return {"split_explained": float(1 - within / (total + 1e-12)), "split_cos": float(c[0] @ c[1]),
            "split_margin": float((w * (own - other)).sum() / w.sum()), "split_spread": float((w * (1 - own)).sum() / w.sum()),
            "split_minor": min(share, 1 - share)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common_args(ap)
    ap.add_argument("--background", action="store_true", help="the conversations (and one-voice files) with a background at 5 dB instead of the clean ones")
    ap.add_argument("--one-voice", action="store_true", help="also the one-voice files: how their solo voiceprints split")
    a = ap.parse_args(argv)
    sep = a.separator or shipped_model()
    vp = a.voiceprint or shipped_model(role="voiceprint")
    try:
        # training.conversations' draw: the same files for a seed
        sets = draw(Cache(a.cache, "val"), a.items, a.seconds, a.seed)
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    items = sets["background 5 dB" if a.background else "clean"]
    ones = sets["one voice bg 5 dB" if a.background else "one voice"] if a.one_voice else []
    two = "bg" if a.background else "clean"  # the file names say which set they are from
    cases = [(f"{two}_{i}", m) for i, (m, _) in enumerate(items)]
    cases += [(f"one_{i}", m) for i, (m, _) in enumerate(ones)]
    with tempfile.TemporaryDirectory(prefix="voxsplit-routing-") as d:
        try:
            outs, info = run_node(sep, vp, cases, d, a.params, trace=True)
        except RuntimeError as e:
            print(f"error: {e}", file=sys.stderr)
            return 3
    rows = []
    print(f"{'file':<9} {'segs':>4} {'mixed':>6} {'decided':>8} {'oracle':>7} {'2-means':>8} {'cent cos':>8} {'within':>7}")
    for (name, _), (_, refs), f in zip(cases, items, info["files"][:len(items)]):
        r = file_report(outs[name]["none"], refs, f["decisions"])
        if r is None:
            continue
        rows.append(r)
        g = lambda k: r.get(k, float("nan"))
        print(f"{name:<9} {len(f['decisions']):>4} {g('mixed'):>6.2f} {g('decided'):>8.2f} {g('oracle'):>7.2f} "
              f"{g('two_means'):>8.2f} {g('centroid_cos'):>8.2f} {g('within_cos'):>7.2f}")
    keys = ["mixed", "decided", "oracle", "two_means", "centroid_cos", "within_cos"]
    split_keys = ["split_explained", "split_cos", "split_margin", "split_spread", "split_minor"]
    one_rows = []
    for f in info["files"][len(items):]:
        _, w, E, solo = judged_segments(f["decisions"])
        one_rows.append(split_stats(E[solo], w[solo]))
    for tag, rs in (("two people", rows), ("one voice", one_rows)):
        for r in rs:
            print(f"{tag:<10} " + " ".join(f"{k} {r.get(k, float('nan')):.3f}" for k in split_keys))
    mean = {k: float(np.nanmean([r.get(k, np.nan) for r in rows])) for k in keys}
    print("mean      " + " ".join(f"{k} {v:.3f}" for k, v in mean.items()))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"separator": sep, "voiceprint": vp, "seed": a.seed, "items": a.items, "files": rows, "one_voice": one_rows,
                       "mean": mean}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
