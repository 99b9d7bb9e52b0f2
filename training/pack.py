"""Pack the train split of the cache small enough to travel to a lent GPU machine, and unpack it there.

    /usr/bin/python3 -m training.pack pack [--cache training/cache] [--out training/pack] [--speech-kbps 12] [--bg-kbps 8]
    python3 -m training.pack unpack [--pack training/pack] [--out DIR]     (on the GPU machine; no ffmpeg needed)
    /usr/bin/python3 -m training.pack check [--cache training/cache] [--pack training/pack]

Why: a device call carries at most 64 MiB of working tree, the repository already takes about 30 MB of it, and the
decoded train speech is 640 MB. Speech and backgrounds travel as Opus packets (training/opus.py; 12 kb/s speech is
about 28 MB for 5.5 h, 12-13 dB SNR against the original), RIRs as float16, the utterance index and F0 table as
they are; libopus travels with them. `unpack` writes a cache folder the trainer reads like the one
training/cache.py builds (train split only: training on the GPU machine runs without the val list,
`--val-items 0`; checkpoints are evaluated here). The pack lives in training/pack/ (git-ignored: the data's licences
forbid committing it). `check` decodes the pack here and reports its SNR against the cache and the travel size.
Exit: 0 ok; 2 missing cache / pack, or a pack that does not decode.
"""
import argparse
import json
import os
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from .cache import SR, Cache, DataError
from .opus import FRAME, OpusError, carried_lib_copy, decode_segment, encode_segment

HERE = os.path.dirname(os.path.abspath(__file__))
SEGMENT_S = 600  # seconds per independent Opus segment: the unit of parallel work at both ends
TRAVEL_LIMIT = 64 * 2 ** 20
FORMAT = "voxsplit-pack/1"


def _segments(n):
    step = SEGMENT_S * SR
    return [(s, min(n, s + step)) for s in range(0, n, step)]


def _encode_job(args):
    path, s, e, kbps = args
    x = np.asarray(np.load(path, mmap_mode="r")[s:e], np.float32) / 32768.0
    return encode_segment(x, kbps)


def _decode_job(args):
    packets, lens, n, la, lib = args
    y = decode_segment(packets, lens, n, la, lib)
    return np.clip(np.round(y * 32767.0), -32768, 32767).astype(np.int16)


def pack_array(src, dst, kbps, workers):
    n = len(np.load(src, mmap_mode="r"))
    segs = _segments(n)
    with ProcessPoolExecutor(workers) as ex:
        res = list(ex.map(_encode_job, [(src, s, e, kbps) for s, e in segs]))
    np.savez(dst, packets=np.concatenate([r[0] for r in res]), lens=np.concatenate([r[1] for r in res]),
             seg_packets=np.array([len(r[1]) for r in res], np.int64), seg_len=np.array([e - s for s, e in segs], np.int64),
             lookahead=np.array([r[2] for r in res], np.int64), kbps=np.array(kbps, np.float64))
    return os.path.getsize(dst)


def unpack_array(src, dst, lib, workers):
    z = np.load(src)
    lens, packets = z["lens"], z["packets"]
    jobs, p_off, b_off = [], 0, 0
    for k, n, la in zip(z["seg_packets"], z["seg_len"], z["lookahead"]):
        seg_lens = lens[p_off:p_off + k]
        nbytes = int(seg_lens.sum(dtype=np.int64))
        jobs.append((packets[b_off:b_off + nbytes], seg_lens, int(n), int(la), lib))
        p_off, b_off = p_off + k, b_off + nbytes
    if p_off != len(lens) or b_off != len(packets):
        raise DataError(f"{src}: packet tables do not add up (corrupt pack)")
    with ProcessPoolExecutor(workers) as ex:
        parts = list(ex.map(_decode_job, jobs))
    arr = np.concatenate(parts)
    np.save(dst, arr)
    return len(arr)


PLAIN = ("speech_train_idx.npy", "bg_train_idx.npy", "rir_train_idx.npy", "speech_train_f0.npy")


def pack(a):
    from .pitch import f0_table
    f0_table(Cache(a.cache, "train"))  # the close-pitch pairing's F0 table: computed once if the cache lacks it
    os.makedirs(a.out, exist_ok=True)
    sizes = {}
    for name, kbps in (("speech_train", a.speech_kbps), ("bg_train", a.bg_kbps)):
        sizes[name] = pack_array(os.path.join(a.cache, name + ".npy"), os.path.join(a.out, name + ".npz"), kbps, a.workers)
        print(f"[pack] {name}: {sizes[name] / 1e6:.1f} MB at {kbps} kb/s", flush=True)
    np.save(os.path.join(a.out, "rir_train.npy"), np.load(os.path.join(a.cache, "rir_train.npy")).astype(np.float16))
    for f in PLAIN:
        np.save(os.path.join(a.out, f), np.load(os.path.join(a.cache, f)))
    lib = carried_lib_copy(a.out)
    with open(os.path.join(a.cache, "meta.json")) as f:
        meta = json.load(f)
    meta = {"format": FORMAT, "sampleRate": SR, "frame": FRAME, "speechKbps": a.speech_kbps, "bgKbps": a.bg_kbps,
            "lib": lib, "splits": {"train": meta["splits"]["train"]}}
    with open(os.path.join(a.out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    report_travel(a.out)
    return 0


def tree_bytes(root):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(root) for f in fs)


def report_travel(pack_dir):
    """The pack's size next to what the repository already sends, against the device's working-tree limit."""
    repo = os.path.dirname(HERE)
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=repo,
                           capture_output=True).stdout.split(b"\0")
    tracked = sum(os.path.getsize(os.path.join(repo, f.decode())) for f in files
                  if f and os.path.isfile(os.path.join(repo, f.decode())))
    p = tree_bytes(pack_dir)
    total = tracked + p
    print(f"[pack] pack {p / 2 ** 20:.1f} MiB + repository {tracked / 2 ** 20:.1f} MiB = {total / 2 ** 20:.1f} MiB "
          f"of the device's {TRAVEL_LIMIT / 2 ** 20:.0f} MiB working-tree limit"
          + ("" if total <= TRAVEL_LIMIT else " -- TOO LARGE: lower --speech-kbps / --bg-kbps"), flush=True)
    return total


def unpack(a):
    meta_path = os.path.join(a.pack, "meta.json")
    if not os.path.isfile(meta_path):
        raise DataError(f"pack not found: {meta_path} (make it with: /usr/bin/python3 -m training.pack pack)")
    with open(meta_path) as f:
        meta = json.load(f)
    if meta.get("format") != FORMAT:
        raise DataError(f"{meta_path}: not a {FORMAT} pack")
    os.makedirs(a.out, exist_ok=True)
    lib = os.path.abspath(os.path.join(a.pack, meta["lib"]))
    for name in ("speech_train", "bg_train"):
        n = unpack_array(os.path.join(a.pack, name + ".npz"), os.path.join(a.out, name + ".npy"), lib, a.workers)
        print(f"[unpack] {name}: {n / SR / 60:.1f} min", flush=True)
    np.save(os.path.join(a.out, "rir_train.npy"), np.load(os.path.join(a.pack, "rir_train.npy")).astype(np.float32))
    for f in PLAIN:
        np.save(os.path.join(a.out, f), np.load(os.path.join(a.pack, f)))
    with open(os.path.join(a.out, "meta.json"), "w") as f:
        json.dump({"sampleRate": SR, "splits": meta["splits"], "fromPack": {k: meta[k] for k in ("speechKbps", "bgKbps")}}, f, indent=1)
    return 0


def check(a):
    """Decodes the pack here and compares it with the cache it came from: SNR per array, index identical."""
    import tempfile
    with tempfile.TemporaryDirectory(prefix="voxsplit-unpack-") as d:
        unpack(argparse.Namespace(pack=a.pack, out=d, workers=a.workers))
        for name in ("speech_train", "bg_train"):
            x = np.load(os.path.join(a.cache, name + ".npy"), mmap_mode="r")
            y = np.load(os.path.join(d, name + ".npy"), mmap_mode="r")
            if len(x) != len(y):
                raise DataError(f"{name}: {len(y)} samples unpacked, {len(x)} in the cache")
            num = den = 0.0
            for s in range(0, len(x), 10 ** 7):
                xs, ys = np.asarray(x[s:s + 10 ** 7], np.float64), np.asarray(y[s:s + 10 ** 7], np.float64)
                num, den = num + (xs * xs).sum(), den + ((xs - ys) ** 2).sum()
            snr = 10 * np.log10(num / max(den, 1e-9))
            print(f"[check] {name}: {len(y) / SR / 60:.1f} min, SNR {snr:.1f} dB against the cache")
            if snr < a.min_snr:
                raise DataError(f"{name}: unpacked audio only {snr:.1f} dB from the cache (--min-snr {a.min_snr})")
        for f in PLAIN:
            if not np.array_equal(np.load(os.path.join(a.cache, f)), np.load(os.path.join(d, f))):
                raise DataError(f"{f} differs after unpacking")
        print("[check] index, F0 table: identical")
    report_travel(a.pack)
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pack")
    p.add_argument("--cache", default=os.path.join(HERE, "cache"))
    p.add_argument("--out", default=os.path.join(HERE, "pack"))
    p.add_argument("--speech-kbps", type=float, default=12.0)
    p.add_argument("--bg-kbps", type=float, default=8.0)
    p.add_argument("--workers", type=int, default=2)
    p = sub.add_parser("unpack")
    p.add_argument("--pack", default=os.path.join(HERE, "pack"))
    p.add_argument("--out", default=os.path.join(HERE, "cache"))
    p.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    p = sub.add_parser("check")
    p.add_argument("--cache", default=os.path.join(HERE, "cache"))
    p.add_argument("--pack", default=os.path.join(HERE, "pack"))
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--min-snr", type=float, default=0.0, help="fail (exit 2) below this SNR against the cache")
    a = ap.parse_args(argv)
    try:
        return {"pack": pack, "unpack": unpack, "check": check}[a.cmd](a)
    except (DataError, OpusError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
