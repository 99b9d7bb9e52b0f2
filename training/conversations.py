"""Whole conversations through the app's separate and associate stages: are the two people on their own tracks?

    /usr/bin/python3 -m training.conversations [SEPARATOR.onnx] [VOICEPRINT.onnx] [--items 16] [--seconds 60]
        [--seed 11] [--json OUT]

The val lists (training/eval) score 4-s crops: inside one crop the model's permutation does not matter. People bring
interviews and meetings, where a lone voice comes out wherever the model puts lone voices, so two people taking
turns can share a track. Here:
  conversations   two val speakers (never trained on) taking turns for --seconds: turns of 1.5-5 s, 30 % of them
                  overlapping the previous one by up to 0.8 s; clean, and again with a background at 5 dB SNR. Scored
                  as the user hears it: SI-SNRi of each whole track against each person (one assignment for the whole
                  file), and purity (share of each person's solo speech on their own track; 0.5 = chance). Also
                  the oracle: the best keep/swap per 0.5 s frame chosen with the references (the ceiling of routing).
  one voice       one val speaker alone, in turns: the share of speech on the main track (1 = never split); clean,
                  and again with a background at 5 dB SNR.
  meetings        the AMI excerpts (training.meetings figures: two-person, consistency).
each without the associate stage (as the app did before it) and with it (training/js/associate.mjs runs the app's
own TypeScript: ChunkedSeparator, then VoiceAssociator with the voiceprint model).
Exit: 0 ok; 2 missing data; 3 a model breaking the contract.
"""
import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

from .cache import DEFAULT_DATA, Cache, DataError
from .manifest import shipped_model
from .meetings import load as load_meeting, meetings, score_file, summarise
from .mix import SR

HERE = os.path.dirname(os.path.abspath(__file__))
NODE = os.path.join(HERE, "js", "associate.mjs")


def sisnr(est, ref):
    ref, est = ref - ref.mean(), est - est.mean()
    s = (est @ ref) / (ref @ ref + 1e-9) * ref
    n = est - s
    return 10 * np.log10((s @ s + 1e-9) / (n @ n + 1e-9))


def speaker_pool(cache, min_seconds=10):
    by = collections.defaultdict(list)
    for i, (_, _, spk) in enumerate(cache.speech_idx):
        by[int(spk)].append(i)
    return {s: ii for s, ii in by.items() if sum(int(cache.speech_idx[i][1]) for i in ii) >= min_seconds * SR}


def conversation(cache, pool, rng, seconds, same=False, bg_snr=None):
    """(mixture, references [2, T]): speaker A and B alternate turns from their concatenated val speech."""
    spks = sorted(pool)
    a, b = rng.choice(spks, 2, replace=False)
    if same:
        b = a
    T = int(seconds * SR)
    refs = np.zeros((2, T), np.float32)
    srcs = [np.concatenate([cache.utt(i) for i in pool[s]]) for s in (a, b)]
    srcs = [x / (np.sqrt((x ** 2).mean()) + 1e-9) * 0.05 * 10 ** (rng.uniform(-3, 3) / 20) for x in srcs]
    pos, t, who = [0, 0], int(rng.uniform(0, 0.5) * SR), int(rng.integers(2))
    while t < T:
        L = int(rng.uniform(1.5, 5) * SR)
        x = srcs[who]
        p = pos[who] % max(1, len(x) - L)
        seg = x[p:p + L]
        pos[who] = p + L
        e = min(T, t + len(seg))
        refs[who, t:e] += seg[:e - t]
        gap = rng.uniform(-0.8, 0.6) if rng.random() < 0.3 else rng.uniform(0.05, 0.6)
        t, who = max(0, t + len(seg) + int(gap * SR)), 1 - who
    mix = refs.sum(0)
    if bg_snr is not None:
        j = int(rng.integers(len(cache.bg_idx)))
        g = np.resize(cache.background(j, 0, T), T)
        mix = mix + g / (np.sqrt((g ** 2).mean()) + 1e-9) * np.sqrt((mix ** 2).mean()) * 10 ** (-bg_snr / 20)
    if same:
        refs = np.stack([refs.sum(0), np.zeros(T, np.float32)])
    return mix.astype(np.float32), refs


def draw(cache, items, seconds, seed):
    """The val conversations of a seed, always drawn in this order (a set added later goes last, so the earlier ones
    stay the same files): clean, background 5 dB, one voice, one voice with a background at 5 dB."""
    pool = speaker_pool(cache)
    if len(pool) < 2:
        raise DataError("fewer than 2 val speakers with 10 s of speech")
    rng = np.random.default_rng(seed)
    ones = max(1, items // 2)
    return {
        "clean": [conversation(cache, pool, rng, seconds) for _ in range(items)],
        "background 5 dB": [conversation(cache, pool, rng, seconds, bg_snr=5) for _ in range(items)],
        "one voice": [conversation(cache, pool, rng, seconds, same=True) for _ in range(ones)],
        "one voice bg 5 dB": [conversation(cache, pool, rng, seconds, same=True, bg_snr=5) for _ in range(ones)],
    }


def common_args(ap):
    """What training.conversations and training.routing share: the models, the draw, the stage's parameters."""
    ap.add_argument("separator", nargs="?", default=None, help="default: the shipped model (public/models/manifest.json)")
    ap.add_argument("voiceprint", nargs="?", default=None, help="default: the shipped voiceprint")
    ap.add_argument("--cache", default=os.path.join(HERE, "cache"))
    ap.add_argument("--items", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--json", default=None)
    ap.add_argument("--params", default=None, help='associate parameters to try, JSON (e.g. \'{"oneVoice": 0.5}\')')


def oracle_route(o, refs, frame=SR // 2):
    o = o.copy()
    for s in range(0, o.shape[1], frame):
        sl = slice(s, s + frame)
        keep = o[0, sl] @ refs[0, sl] + o[1, sl] @ refs[1, sl]
        swap = o[1, sl] @ refs[0, sl] + o[0, sl] @ refs[1, sl]
        if swap > keep:
            o[[0, 1], sl] = o[[1, 0], sl]
    return o


def score_conversation(o, mix, refs):
    pair = [sisnr(o[0], refs[0]) + sisnr(o[1], refs[1]), sisnr(o[1], refs[0]) + sisnr(o[0], refs[1])]
    p = (0, 1) if pair[0] >= pair[1] else (1, 0)
    imp = np.mean([sisnr(o[p[i]], refs[i]) - sisnr(mix, refs[i]) for i in range(2)])
    pur = []
    for i in range(2):
        solo = (np.abs(refs[i]) > 0) & (refs[1 - i] == 0)
        e = [(o[p[i]][solo] ** 2).sum(), (o[p[1 - i]][solo] ** 2).sum()]
        pur.append(e[0] / (e[0] + e[1] + 1e-12))
    return float(imp), float(np.mean(pur))


def main_track_share(o):
    e = (o[:2] ** 2).sum(1)
    return float(e.max() / (e.sum() + 1e-12))


def run_node(sep, vp, cases, d, params=None, trace=False):
    for name, x in cases:
        x.astype(np.float32).tofile(os.path.join(d, f"{name}.mix.f32"))
    with open(os.path.join(d, "cases.json"), "w") as f:
        json.dump([{"name": n, "T": len(x)} for n, x in cases], f)
    args = [*(["--params", params] if params else []), *(["--trace"] if trace else [])]
    r = subprocess.run(["node", NODE, sep, vp, d, *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError((r.stderr or r.stdout).strip())
    info = json.loads(r.stdout.strip().splitlines()[-1])
    S = info["S"]
    out = {}
    for name, x in cases:
        out[name] = {k: np.fromfile(os.path.join(d, f"{name}.{k}.f32"), np.float32).reshape(S, len(x)) for k in ("none", "assoc")}
    return out, info


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common_args(ap)
    ap.add_argument("--data", default=DEFAULT_DATA)
    a = ap.parse_args(argv)
    sep = a.separator or shipped_model()
    vp = a.voiceprint or shipped_model(role="voiceprint")
    try:
        sets = draw(Cache(a.cache, "val"), a.items, a.seconds, a.seed)
        ami = meetings(a.data)
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    cases = [(f"{k.replace(' ', '_')}_{i}", m) for k, items in sets.items() for i, (m, _) in enumerate(items)]
    cases += [(f"ami_{fid}", load_meeting(p)) for fid, p, _ in ami]
    with tempfile.TemporaryDirectory(prefix="voxsplit-conv-") as d:
        try:
            outs, info = run_node(sep, vp, cases, d, a.params)
        except RuntimeError as e:
            print(f"error: {e}", file=sys.stderr)
            return 3
    result = {"separator": sep, "voiceprint": vp, "seconds": a.seconds, "items": a.items, "seed": a.seed, "params": a.params}
    print(f"{'set':<18} {'':>6} {'SI-SNRi dB':>10} {'purity':>7}")
    for k, items in sets.items():
        names = [f"{k.replace(' ', '_')}_{i}" for i in range(len(items))]
        if k.startswith("one voice"):
            for mode in ("none", "assoc"):
                share = float(np.mean([main_track_share(outs[n][mode]) for n in names]))
                result[f"{k}/{mode}/main_track_share"] = share
                print(f"{k:<18} {mode:>6} {'':>10} {share:>7.3f}  (share on the main track)")
            continue
        rows = {"none": [], "assoc": [], "oracle": []}
        for n, (mix, refs) in zip(names, items):
            rows["none"].append(score_conversation(outs[n]["none"], mix, refs))
            rows["assoc"].append(score_conversation(outs[n]["assoc"], mix, refs))
            rows["oracle"].append(score_conversation(oracle_route(outs[n]["none"], refs), mix, refs))
        for mode, r in rows.items():
            imp, pur = (float(v) for v in np.mean(r, 0))
            result[f"{k}/{mode}"] = {"si_snri_db": imp, "purity": pur}
            print(f"{k:<18} {mode:>6} {imp:>10.2f} {pur:>7.3f}")
    for mode in ("none", "assoc"):
        files = {fid: score_file(outs[f"ami_{fid}"][mode], turns, 0.5, 3.0) for fid, _, turns in ami}
        s = summarise(files)
        result[f"meetings/{mode}"] = s
        print(f"{'meetings':<18} {mode:>6} two-person {s['two_person']:.2f} ({s['two_person_files']} files), "
              f"consistency {s['consistency']:.2f}")
    result["node"] = info
    print(f"associate stage: {info['associateMs'] / 1000:.1f} s for {sum(len(x) for _, x in cases) / SR / 60:.1f} min of audio "
          f"(voiceprints {info['embedMs'] / 1000:.1f} s), onnxruntime-node 1 thread")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
