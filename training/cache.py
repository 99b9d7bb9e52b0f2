"""Decode ../shared/data once into a compact int16 cache (training/cache/, git-ignored).

    /usr/bin/python3 -m training.cache [--data ../shared/data] [--out training/cache]

Layout (per split in {train, val}):
  speech_<split>.npy  int16, all utterances concatenated
  speech_<split>_idx.npy int64 [n, 3]: start, length, speaker number
  bg_<split>.npy / bg_<split>_idx.npy  backgrounds (music + noise): start, length, kind (0 music, 1 noise)
  rir_<split>.npy float32 / rir_<split>_idx.npy  room impulse responses: start, length, 0
  meta.json  counts, speaker names, source list

Fails (non-zero, clear message) on a missing manifest/file, unreadable audio, a sample rate
other than 16 kHz for speech/backgrounds, or an empty split. RIRs at another rate are resampled.
"""
import argparse
import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor

import numpy as np

# ../shared/data beside the project checkout (DEVELOPERS.md): where every tool looks unless told --data
DEFAULT_DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data")

SR = 16000


class DataError(Exception):
    pass


def read_manifest(data_dir):
    path = os.path.join(data_dir, "manifest.tsv")
    if not os.path.isfile(path):
        raise DataError(f"data manifest not found: {path} (is ../shared/data present?)")
    rows = []
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        if header[:4] != ["path", "duration_s", "speaker", "split"]:
            raise DataError(f"{path}: unexpected header {header}")
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) < 4:
                continue
            rows.append({"path": p[0], "dur": float(p[1]), "speaker": p[2], "split": p[3],
                         "source": p[4] if len(p) > 4 else ""})
    return rows


def _decode(args):
    path, kind = args
    import soundfile as sf
    try:
        x, sr = sf.read(path, dtype="float32", always_2d=True)
        x = x.mean(axis=1)
    except Exception as e:  # noqa: BLE001
        # libsndfile rejects a few Ogg Opus files; fall back to ffmpeg (decodes Opus at 48 kHz: ask for 16 kHz)
        import subprocess
        r = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", path, "-ac", "1", "-ar", str(SR), "-f", "f32le", "-"],
                           capture_output=True)
        if r.returncode != 0 or not r.stdout:
            return path, None, f"unreadable audio: {e}; ffmpeg: {r.stderr.decode(errors='replace').strip()[:200]}"
        x, sr = np.frombuffer(r.stdout, dtype=np.float32).copy(), SR
    if sr != SR:
        if kind != "rir":
            return path, None, f"sample rate {sr} Hz (expected {SR})"
        from math import gcd
        from scipy.signal import resample_poly
        g = gcd(sr, SR)
        x = resample_poly(x, SR // g, sr // g).astype(np.float32)
    if not np.all(np.isfinite(x)):
        return path, None, "non-finite samples"
    return path, x, None


def _to_i16(x):
    return np.clip(np.round(x * 32767.0), -32768, 32767).astype(np.int16)


def build(data_dir, out_dir, workers=2):
    rows = read_manifest(data_dir)
    os.makedirs(out_dir, exist_ok=True)
    meta = {"sampleRate": SR, "splits": {}}
    for split in ("train", "val"):
        groups = {
            "speech": [r for r in rows if r["split"] == split and r["path"].startswith("speech/")],
            "bg": [r for r in rows if r["split"] == split and (r["path"].startswith("music/") or r["path"].startswith("noise/"))],
            "rir": [r for r in rows if r["split"] == split and r["path"].startswith("rir/")],
        }
        meta["splits"][split] = {}
        for g, items in groups.items():
            if not items:
                raise DataError(f"empty split: no {g} files with split={split} in the manifest")
            jobs = []
            for r in items:
                p = os.path.join(data_dir, r["path"])
                if not os.path.isfile(p):
                    raise DataError(f"missing data file: {p}")
                jobs.append((p, g))
            with ProcessPoolExecutor(workers) as ex:
                res = list(ex.map(_decode, jobs, chunksize=16))
            chunks, idx, pos = [], [], 0
            spk_names = {}
            for r, (p, x, err) in zip(items, res):
                if err:
                    raise DataError(f"{p}: {err}")
                if g == "rir":
                    # trim leading silence before the direct path, normalise peak
                    k = int(np.argmax(np.abs(x)))
                    x = x[max(0, k - 16):]
                    x = (x / (np.abs(x).max() + 1e-9)).astype(np.float32)
                    tag = 0
                elif g == "bg":
                    tag = 0 if r["path"].startswith("music/") else 1
                else:
                    tag = spk_names.setdefault(r["speaker"], len(spk_names))
                if len(x) < SR // 10:
                    continue
                chunks.append(x if g == "rir" else _to_i16(x))
                idx.append((pos, len(x), tag))
                pos += len(x)
            if not idx:
                raise DataError(f"empty split: no usable {g} audio for split={split}")
            arr = np.concatenate(chunks)
            np.save(os.path.join(out_dir, f"{g}_{split}.npy"), arr)
            np.save(os.path.join(out_dir, f"{g}_{split}_idx.npy"), np.asarray(idx, dtype=np.int64))
            meta["splits"][split][g] = {"items": len(idx), "seconds": round(pos / SR, 1)}
            if g == "speech":
                meta["splits"][split]["speakers"] = len(spk_names)
            print(f"[cache] {split} {g}: {len(idx)} items, {pos / SR / 60:.1f} min", flush=True)
    with open(os.path.join(out_dir, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    return meta


CODECS = (("mp3", "libmp3lame", "mp3", 32), ("opus", "libopus", "ogg", 24))


def build_codec_variants(out_dir, split="train"):
    """Round-trip the whole concatenated speech array of a split through MP3 (32 kb/s) and Opus (24 kb/s)
    once with ffmpeg, sample-aligned with the clean array (speech_<split>_<codec>.npy). The mixer uses
    them as degraded inputs with clean targets (ffmpeg per step would be too slow)."""
    import subprocess
    src = os.path.join(out_dir, f"speech_{split}.npy")
    x = np.load(src)
    for name, lib, ext, kbps in CODECS:
        dst = os.path.join(out_dir, f"speech_{split}_{name}.npy")
        if os.path.isfile(dst):
            continue
        enc = os.path.join(out_dir, f"tmp_{split}.{ext}")
        r = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "s16le", "-ar", str(SR), "-ac", "1", "-i", "-",
                            "-c:a", lib, "-b:a", f"{kbps}k", enc], input=x.tobytes(), capture_output=True)
        if r.returncode != 0:
            raise DataError(f"ffmpeg {name} encode failed: {r.stderr.decode(errors='replace')[:300]}")
        r = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", enc, "-ac", "1", "-ar", str(SR), "-f", "s16le", "-"],
                           capture_output=True)
        os.remove(enc)
        if r.returncode != 0:
            raise DataError(f"ffmpeg {name} decode failed: {r.stderr.decode(errors='replace')[:300]}")
        y = np.frombuffer(r.stdout, dtype=np.int16)
        out = np.zeros_like(x)
        out[:min(len(x), len(y))] = y[:len(x)]
        np.save(dst + ".tmp.npy", out)
        os.replace(dst + ".tmp.npy", dst)
        print(f"[cache] {split} speech {name} {kbps} kb/s variant: {len(y) - len(x):+d} samples vs clean", flush=True)


class Cache:
    """Memory-mapped view of the cache for one split."""

    def __init__(self, cache_dir, split):
        self.split = split
        self.dir = cache_dir
        def load(name, mmap=True):
            p = os.path.join(cache_dir, name)
            if not os.path.isfile(p):
                raise DataError(f"cache file missing: {p} (run: /usr/bin/python3 -m training.cache)")
            return np.load(p, mmap_mode="r" if mmap else None)
        self.speech = load(f"speech_{split}.npy")
        self.speech_idx = load(f"speech_{split}_idx.npy", False)
        self.bg = load(f"bg_{split}.npy")
        self.bg_idx = load(f"bg_{split}_idx.npy", False)
        self.rir = load(f"rir_{split}.npy", False)
        self.rir_idx = load(f"rir_{split}_idx.npy", False)
        for n, a in (("speech", self.speech_idx), ("background", self.bg_idx), ("rir", self.rir_idx)):
            if len(a) == 0:
                raise DataError(f"empty split: no {n} items in cache split {split}")
        self.codecs = []
        for name, *_ in CODECS:
            p = os.path.join(cache_dir, f"speech_{split}_{name}.npy")
            if os.path.isfile(p):
                self.codecs.append(np.load(p, mmap_mode="r"))
        if len(np.unique(self.speech_idx[:, 2])) < 2:
            raise DataError(f"split {split} needs at least 2 speakers")

    def utt(self, i, variant=-1):
        """Utterance i; variant k >= 0 = the k-th codec round-trip of it (same alignment)."""
        s, n, _ = self.speech_idx[i]
        arr = self.speech if variant < 0 else self.codecs[variant]
        return np.asarray(arr[s:s + n], dtype=np.float32) / 32768.0

    def background(self, i, start, n):
        s, ln, _ = self.bg_idx[i]
        start = min(start, max(0, ln - n))
        return np.asarray(self.bg[s + start:s + start + min(n, ln)], dtype=np.float32) / 32768.0

    def rir_at(self, i):
        s, n, _ = self.rir_idx[i]
        return self.rir[s:s + n]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--out", default=os.path.join(here, "cache"))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--codecs", action="store_true", help="only add the MP3/Opus variants of the train speech")
    a = ap.parse_args(argv)
    try:
        if not a.codecs:
            build(a.data, a.out, a.workers)
        build_codec_variants(a.out, "train")
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
