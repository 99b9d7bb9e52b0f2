"""How a model behaves on real meetings, where no clean references exist: AMI excerpts with who-spoke-when labels.

    /usr/bin/python3 -m training.meetings MODEL.onnx [--data ../shared/data] [--frame 0.5] [--json OUT]

The val figures (training/eval) come from mixtures we made; people bring far-field meetings. Here the labels (RTTM)
stand in for references. Each file (30 s, 2-4 speakers) goes through the model in one call; its outputs are cut
into frames and, per frame, the energy of speaker output A, speaker output B and the background output is compared
with who the labels say is talking:
  solo leak      frames where exactly one person talks: level of the quieter speaker output relative to the louder
                 (median; the share of frames at <= -20 dB). A model that keeps a lone voice in one output: low.
  overlap split  frames where two people talk: the same level ratio (median). Near 0 dB: both outputs carry speech,
                 as separation needs; as low as the solo leak: one output took both voices.
  consistency    for each person with >= --min-solo seconds of solo frames, the share of them in the output that
                 holds most of them (frame-weighted mean; 1 = the person never changes track within the file).
  two-person     files with exactly two labelled people: the share of each person's solo frames in the output
                 assigned to them, averaged over the two, under the better of the two assignments (0.5 = chance or
                 both on one track whatever their talk time; 1 = each person on their own track).
  background     share of the background output in all output energy, in speech and in silence frames (median, dB).
The labels are speaker turns from the AMI annotation, not energy: a "solo" frame can hold a cough of someone else.
Compare models with it; do not read it as SI-SNR. Exit: 0 ok; 2 no meetings or labels; 3 a model breaking the contract.
"""
import argparse
import collections
import glob
import json
import os
import sys

import numpy as np
import soundfile as sf

from .cache import DEFAULT_DATA, DataError
from .evaluate import ContractError, check_model_file, contract_refused, infer
from .mix import SR

EPS = 1e-10


def read_rttm(paths):
    """{file id: [(start s, end s, speaker), ...]} from every RTTM line `SPEAKER file 1 start dur ... speaker ...`."""
    turns = collections.defaultdict(list)
    for p in paths:
        with open(p, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                w = line.split()
                if not w or w[0] != "SPEAKER":
                    continue
                if len(w) < 8:
                    raise DataError(f"{p}:{n}: an RTTM SPEAKER line needs 8+ fields")
                start, dur = float(w[3]), float(w[4])
                turns[w[1]].append((start, start + dur, w[7]))
    return dict(turns)


def meetings(data_dir):
    """[(file id, path, turns)] for every meeting recording whose id the labels name."""
    folder = os.path.join(data_dir, "meetings")
    rttm = sorted(glob.glob(os.path.join(folder, "**", "*.rttm"), recursive=True))
    if not rttm:
        raise DataError(f"no RTTM labels under {folder} (is ../shared/data present?)")
    turns = read_rttm(rttm)
    out = []
    for p in sorted(glob.glob(os.path.join(folder, "**", "*.flac"), recursive=True)):
        fid = os.path.splitext(os.path.basename(p))[0]
        if fid in turns:
            out.append((fid, p, turns[fid]))
    if not out:
        raise DataError(f"no recording under {folder} has labels in {', '.join(rttm)}")
    return out


def load(path):
    x, sr = sf.read(path, dtype="float32", always_2d=True)
    if sr != SR:
        raise DataError(f"{path}: sample rate {sr} Hz (expected {SR})")
    return x.mean(1)


def frame_labels(turns, n_frames, frame_s, solo_cover=0.8, overlap_cover=0.5):
    """Per frame: the people covering >= solo_cover of it when nobody else touches it (solo), the two covering
    >= overlap_cover each when exactly two talk (overlap), or nobody (silence); else None (ambiguous, skipped)."""
    labels = []
    for i in range(n_frames):
        a, b = i * frame_s, (i + 1) * frame_s
        cover = collections.defaultdict(float)
        for s, e, spk in turns:
            c = min(b, e) - max(a, s)
            if c > 0:
                cover[spk] += c / frame_s
        if not cover:
            labels.append(("silence", ()))
        elif len(cover) == 1 and max(cover.values()) >= solo_cover:
            labels.append(("solo", tuple(cover)))
        elif len(cover) == 2 and min(cover.values()) >= overlap_cover:
            labels.append(("overlap", tuple(sorted(cover))))
        else:
            labels.append((None, ()))
    return labels


def frame_energy(y, frame):
    n = y.shape[-1] // frame
    return (y[..., :n * frame].reshape(*y.shape[:-1], n, frame) ** 2).mean(-1)


def score_file(out, turns, frame_s, min_solo_s):
    """out [S >= 3, T]: speaker A, speaker B, background. Returns per-file figures and the frames behind them."""
    frame = int(round(frame_s * SR))
    e = frame_energy(out[:3], frame)  # [3, N]
    labels = frame_labels(turns, e.shape[1], frame_s)
    ratio = 10 * np.log10((np.minimum(e[0], e[1]) + EPS) / (np.maximum(e[0], e[1]) + EPS))
    louder = (e[1] > e[0]).astype(int)
    bg_share = 10 * np.log10((e[2] + EPS) / (e.sum(0) + EPS))
    solo = [i for i, (k, _) in enumerate(labels) if k == "solo"]
    over = [i for i, (k, _) in enumerate(labels) if k == "overlap"]
    quiet = [i for i, (k, _) in enumerate(labels) if k == "silence"]
    per_spk = collections.defaultdict(list)
    for i in solo:
        per_spk[labels[i][1][0]].append(louder[i])
    min_frames = int(np.ceil(min_solo_s / frame_s))
    cons = {s: max(np.mean(v), 1 - np.mean(v)) for s, v in per_spk.items() if len(v) >= min_frames}
    people = {spk for _, _, spk in turns}
    two = None
    if len(people) == 2 and len(per_spk) == 2:
        s1, s2 = sorted(per_spk)
        keep = 0.5 * (np.mean(per_spk[s1]) + 1 - np.mean(per_spk[s2]))  # s1 on B, s2 on A; each person weighs alike
        two = float(max(keep, 1 - keep))
    return {
        "people": len(people),
        "solo_frames": len(solo), "overlap_frames": len(over), "silence_frames": len(quiet),
        "solo_leak": [float(ratio[i]) for i in solo],
        "overlap_split": [float(ratio[i]) for i in over],
        "consistency": {s: [float(c), len(per_spk[s])] for s, c in cons.items()},
        "two_person": two,
        "bg_share_speech": [float(bg_share[i]) for i in solo + over],
        "bg_share_silence": [float(bg_share[i]) for i in quiet],
    }


def median(v):
    return None if not v else float(np.median(v))


def summarise(files):
    cat = lambda k: [v for f in files.values() for v in f[k]]  # noqa: E731
    leak, split = cat("solo_leak"), cat("overlap_split")
    cons = [c for f in files.values() for c in f["consistency"].values()]
    two = [f["two_person"] for f in files.values() if f["two_person"] is not None]
    return {
        "files": len(files),
        "solo_leak_median_db": median(leak),
        "solo_leak_share_le_20db": None if not leak else float(np.mean(np.array(leak) <= -20)),
        "overlap_split_median_db": median(split),
        "consistency": None if not cons else float(sum(c * n for c, n in cons) / sum(n for _, n in cons)),
        "consistency_people": len(cons),
        "two_person": None if not two else float(np.mean(two)),
        "two_person_files": len(two),
        "bg_share_speech_median_db": median(cat("bg_share_speech")),
        "bg_share_silence_median_db": median(cat("bg_share_silence")),
        "frames": {"solo": len(leak), "overlap": len(split)},
    }


def fmt(v, spec=".1f"):
    return "-" if v is None else format(v, spec)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--frame", type=float, default=0.5, help="frame length in seconds")
    ap.add_argument("--min-solo", type=float, default=3.0, help="seconds of solo frames for a person to count in consistency")
    ap.add_argument("--json", default=None)
    a = ap.parse_args(argv)
    try:
        check_model_file(a.model)
    except ContractError as e:
        return contract_refused(e)
    try:
        items = meetings(a.data)
        audio = [load(p) for _, p, _ in items]
        outs = infer(a.model, audio)
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except ContractError as e:
        return contract_refused(e)
    files = {fid: score_file(o, turns, a.frame, a.min_solo) for (fid, _, turns), o in zip(items, outs)}
    print(f"{'file':<8} {'people':>6} {'solo':>5} {'overlap':>7} {'leak dB':>8} {'split dB':>8} {'consist.':>8} {'2-person':>8}")
    for fid, f in files.items():
        cons = [c for c, _ in f["consistency"].values()]
        print(f"{fid:<8} {f['people']:>6} {f['solo_frames']:>5} {f['overlap_frames']:>7} "
              f"{fmt(median(f['solo_leak'])):>8} {fmt(median(f['overlap_split'])):>8} "
              f"{fmt(np.mean(cons) if cons else None, '.2f'):>8} {fmt(f['two_person'], '.2f'):>8}")
    s = summarise(files)
    share = s["solo_leak_share_le_20db"]
    print(f"model: {a.model}; {s['files']} meetings, {a.frame} s frames")
    print(f"solo leak      median {fmt(s['solo_leak_median_db'])} dB; {fmt(None if share is None else 100 * share, '.0f')}% of {s['frames']['solo']} solo frames <= -20 dB")
    print(f"overlap split  median {fmt(s['overlap_split_median_db'])} dB over {s['frames']['overlap']} two-person frames")
    print(f"consistency    {fmt(s['consistency'], '.2f')} ({s['consistency_people']} people)")
    print(f"two-person     {fmt(s['two_person'], '.2f')} ({s['two_person_files']} files; 0.5 = chance)")
    print(f"background     {fmt(s['bg_share_speech_median_db'])} dB of the output in speech, {fmt(s['bg_share_silence_median_db'])} dB in silence")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"model": a.model, "frame_s": a.frame, "summary": s, "files": files}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
