"""Generate a tiny stand-in for ../shared/data (same layout and manifest) for CI smoke tests.

    /usr/bin/python3 -m training.smoke_data OUT_DIR [--bad-rate]

Speech: espeak-ng voices (one "speaker" per voice/pitch) when espeak-ng is installed, else
synthetic harmonic glides; backgrounds: coloured noise and tone "music"; RIRs: synthetic.
With --bad-rate one speech file is written at 8 kHz (the cache builder must refuse it).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import soundfile as sf

SR = 16000
SENTENCES = ["the quick brown fox jumps over the lazy dog", "please call stella and ask her to bring these things",
             "a rainbow is a division of white light into many beautiful colours",
             "we went to the market on a sunny afternoon", "open the window and let the fresh air in",
             "numbers one two three four five six seven"]
VOICES = ["en", "en-us", "de", "fr", "es", "it", "nl", "pl", "sv", "pt"]


def espeak(text, voice, pitch, speed):
    with tempfile.TemporaryDirectory() as d:
        w = os.path.join(d, "a.wav")
        subprocess.run(["espeak-ng", "-v", voice, "-p", str(pitch), "-s", str(speed), "-w", w, text], check=True,
                       capture_output=True)
        x, sr = sf.read(w, dtype="float32")
    if sr != SR:
        from scipy.signal import resample_poly
        from math import gcd
        g = gcd(sr, SR)
        x = resample_poly(x, SR // g, sr // g).astype(np.float32)
    return x


def harmonic(rng, seconds):
    n = int(seconds * SR)
    f0 = rng.uniform(90, 260) * (1 + 0.2 * np.sin(2 * np.pi * rng.uniform(0.5, 3) * np.arange(n) / SR))
    ph = 2 * np.pi * np.cumsum(f0) / SR
    x = sum(np.sin(k * ph) / k for k in range(1, 12))
    env = (np.sin(2 * np.pi * rng.uniform(2, 5) * np.arange(n) / SR) > -0.3).astype(np.float32)
    return (0.3 * x * env).astype(np.float32)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--bad-rate", action="store_true")
    ap.add_argument("--speakers", type=int, default=10)
    a = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    if os.path.exists(a.out):
        shutil.rmtree(a.out)
    rows = []
    use_espeak = shutil.which("espeak-ng") is not None

    def put(rel, x, dur_sr=SR, speaker="-", split="train", source="smoke"):
        p = os.path.join(a.out, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        sf.write(p, x, dur_sr, format="FLAC")
        rows.append(f"{rel}\t{len(x) / dur_sr:.2f}\t{speaker}\t{split}\t{source}")

    said = {}
    for s in range(a.speakers):
        split = "val" if s % 4 == 3 else "train"
        voice, pitch, speed = VOICES[s % len(VOICES)], 20 + 7 * s % 70, 140 + 9 * s % 60
        for u in range(2):
            x = espeak(SENTENCES[(s + u) % len(SENTENCES)], voice, pitch, speed) if use_espeak else harmonic(rng, 2.5)
            said[s, u] = x
            put(f"speech/smoke/spk{s:02d}_{u}.flac", x, speaker=f"smoke-{s}", split=split,
                source="espeak-ng" if use_espeak else "synthetic")
    # a labelled "meeting" (training.meetings): A alone, B alone, then A again over the end of B
    turns, t = [], 0.0
    for spk, utt, gap in ((0, 0, 0.3), (1, 0, -0.8), (0, 1, 0.3)):
        turns.append((t, t + len(said[spk, utt]) / SR, f"smoke-{spk}", said[spk, utt]))
        t = turns[-1][1] + gap
    meet = np.zeros(int(np.ceil(max(e for _, e, _, _ in turns) * SR)) + SR // 2, np.float32)
    for start, _, _, x in turns:
        i = int(round(start * SR))
        meet[i:i + len(x)] += x
    put("meetings/smoke/meet0.flac", (0.9 * meet / np.abs(meet).max()).astype(np.float32), speaker="multi", split="eval")
    with open(os.path.join(a.out, "meetings", "smoke", "meet0.rttm"), "w") as f:
        f.writelines(f"SPEAKER meet0 1 {s:.3f} {e - s:.3f} <NA> <NA> {spk} <NA> <NA>\n" for s, e, spk, _ in turns)
    if a.bad_rate:
        put("speech/smoke/bad_rate.flac", harmonic(rng, 1.0)[:8000], dur_sr=8000, speaker="smoke-bad")
    for i in range(4):
        split = "val" if i == 3 else "train"
        n = 3 * SR
        spec = np.fft.rfft(rng.standard_normal(n))
        noise = np.fft.irfft(spec / np.maximum(np.arange(len(spec)), 1) ** (0.5 * i), n)
        put(f"noise/smoke/n{i}.flac", (0.1 * noise / np.abs(noise).max()).astype(np.float32), split=split)
        t = np.arange(n) / SR
        tone = sum(np.sin(2 * np.pi * f * t) for f in rng.uniform(200, 900, 3)) * (np.sin(2 * np.pi * 2 * t) > 0)
        put(f"music/smoke/m{i}.flac", (0.05 * tone).astype(np.float32), split=split)
    for i in range(3):
        n = int(0.3 * SR)
        h = rng.standard_normal(n) * np.exp(-np.arange(n) / (0.05 * SR))
        h[0] = 3
        put(f"rir/smoke/r{i}.flac", (h / np.abs(h).max()).astype(np.float32), split="val" if i == 2 else "train")
    with open(os.path.join(a.out, "manifest.tsv"), "w") as f:
        f.write("path\tduration_s\tspeaker\tsplit\tsource\n" + "\n".join(rows) + "\n")
    print(f"[smoke_data] {len(rows)} files in {a.out} ({'espeak-ng' if use_espeak else 'synthetic'} speech)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
