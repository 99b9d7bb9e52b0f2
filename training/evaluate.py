"""Evaluate any ONNX model obeying the VoxSplit contract on fixed, seeded val lists.

    training/eval MODEL.onnx [--items 40] [--seconds 4] [--cache training/cache] [--data ../shared/data] [--json OUT]
                  [--seed 777]

Ship decisions use the default lists (seed 777); --seed N draws other lists from the same val split, to check that a
choice made on the fixed lists (e.g. an inference-time setting) holds on items it was not chosen on.

All lists are built only from the `val` split (val speakers, val backgrounds, val RIRs) of the
cache (built from ../shared/data on first use). ONNX inference runs in onnxruntime-node
(training/js/infer.mjs, one thread); everything else here. Figures (dB, mean over items):
  clean      two speakers: SI-SNRi (PIT) and SI-SNR
  bg         + val background at 0-10 dB SNR: speaker SI-SNRi, background-output SI-SNR / SI-SNRi
  reverb     both speakers convolved with val RIRs (reference = reverberant images)
  tel300     300-3400 Hz band-limited;  tel50: 50-7000 Hz (references band-limited alike)
  mp3, opus  clean mixture round-tripped through MP3 / Opus at 24-32 kb/s (ffmpeg); clean references
  single / single_bg  one speaker (without / with background): SI-SNR of the best speaker
             output, level of the other speaker output relative to it (should be <= -20 dB)
  oracle_psm phase-sensitive-mask ceiling on the clean list (sqrt-Hann STFT of the model's own n_fft/hop when its
             graph metadata holds a VoxSplit STFT config, else 256/128)
  rtf        single-thread onnxruntime-node real-time factor on 10 s
Exit: 0 ok; 2 missing/bad data (missing files, wrong sample rate, empty split); 3 model breaks the contract.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from scipy.signal import fftconvolve, istft, stft

from .cache import DEFAULT_DATA, Cache, DataError, build
from .losses import np_sisnr, pit2
from .mix import SR, Mixer, band_sos, sosfilt
from .model import make_config, stft_hop

HERE = os.path.dirname(os.path.abspath(__file__))
NODE_INFER = os.path.join(HERE, "js", "infer.mjs")


class ContractError(Exception):
    pass


def contract_refused(e):
    """The one message (and exit code) for a model that breaks the contract."""
    print(f"error: model breaks the contract: {e}", file=sys.stderr)
    return 3


def check_model_file(path):
    if not os.path.isfile(path):
        raise ContractError(f"model file not found: {path}")
    import onnx
    try:
        m = onnx.load(path)
    except Exception as e:  # noqa: BLE001
        raise ContractError(f"not a readable ONNX model: {path}: {e}") from e
    ops = [o.version for o in m.opset_import if o.domain in ("", "ai.onnx")]
    if ops and max(ops) > 17:
        raise ContractError(f"opset {max(ops)} > 17")
    ins = [i for i in m.graph.input if i.name not in {t.name for t in m.graph.initializer}]
    if [i.name for i in ins] != ["mixture"]:
        raise ContractError(f"inputs {[i.name for i in ins]} (expected ['mixture'])")
    if "sources" not in [o.name for o in m.graph.output]:
        raise ContractError(f"outputs {[o.name for o in m.graph.output]} lack 'sources'")
    t = ins[0].type.tensor_type
    if t.elem_type != 1 or len(t.shape.dim) != 2:
        raise ContractError("input 'mixture' must be float32 of rank 2 [1,T]")
    r = subprocess.run(["node", NODE_INFER, "contract", path], capture_output=True, text=True)
    if r.returncode != 0:
        raise ContractError((r.stderr or r.stdout).strip())
    S = json.loads(r.stdout)["S"]
    if S != 3:
        raise ContractError(f"model has S={S} outputs; the evaluation needs 3 (speaker, speaker, background)")


def infer(model, items):
    with tempfile.TemporaryDirectory(prefix="voxsplit-eval-") as d:
        np.concatenate(items).astype(np.float32).tofile(os.path.join(d, "in.f32"))
        with open(os.path.join(d, "len.json"), "w") as f:
            json.dump([len(x) for x in items], f)
        r = subprocess.run(["node", NODE_INFER, "run", model, os.path.join(d, "in.f32"), os.path.join(d, "len.json"),
                            os.path.join(d, "out.f32")], capture_output=True, text=True)
        if r.returncode != 0:
            raise ContractError((r.stderr or r.stdout).strip())
        S = json.loads(r.stdout)["S"]
        y = np.fromfile(os.path.join(d, "out.f32"), dtype=np.float32)
    outs, off = [], 0
    for x in items:
        n = S * len(x)
        o = y[off:off + n].reshape(S, len(x))
        if not np.all(np.isfinite(o)):
            raise ContractError("model produced non-finite output")
        outs.append(o)
        off += n
    return outs


def codec(x, kind, kbps):
    """Round-trip through MP3/Opus with ffmpeg at 16 kHz; returns float32 of the same length."""
    with tempfile.TemporaryDirectory(prefix="voxsplit-codec-") as d:
        src = os.path.join(d, "in.f32")
        enc = os.path.join(d, "enc." + ("mp3" if kind == "mp3" else "ogg"))
        x.astype(np.float32).tofile(src)
        c = ["-c:a", "libmp3lame"] if kind == "mp3" else ["-c:a", "libopus", "-application", "audio"]
        subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "f32le", "-ar", str(SR), "-ac", "1", "-i", src,
                        *c, "-b:a", f"{kbps}k", enc], check=True)
        r = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", enc, "-ac", "1", "-ar", str(SR), "-f", "f32le", "-"],
                           check=True, capture_output=True)
    y = np.frombuffer(r.stdout, dtype=np.float32)
    out = np.zeros(len(x), np.float32)
    out[:min(len(x), len(y))] = y[:len(x)]
    return out


def oracle_psm(mix, ref, nfft=256, hop=128):
    win = np.sqrt(np.hanning(nfft + 1)[:nfft])
    kw = dict(fs=SR, window=win, nperseg=nfft, noverlap=nfft - hop)
    _, _, X = stft(mix, **kw)
    est = []
    for r in ref:
        _, _, Sr = stft(r, **kw)
        m = np.clip(np.abs(Sr) / (np.abs(X) + 1e-8) * np.cos(np.angle(Sr) - np.angle(X)), 0, 1)
        _, y = istft(m * X, **kw)
        est.append(y[:len(mix)])
    return np.stack(est)


def lists(cache_dir, n, seconds, seed=777):
    vc = Cache(cache_dir, "val")
    base = dict(seconds=seconds, p_speed=0.0, p_clip=0.0, p_synth_noise=0.0)
    def mk(k, **kw):
        mixer = Mixer(vc, seed=seed + k, snr_range=(0.0, 10.0), rir_synth_frac=0.0, **base)
        return mixer.fixed_list(seed + k, n, **kw)
    out = {
        "clean": mk(0, single=False, bg=False, reverb=False, band=None),
        "bg": mk(1, single=False, bg=True, reverb=False, band=None),
        "reverb": mk(2, single=False, bg=False, reverb=True, band=None),
        "tel300": mk(3, single=False, bg=False, reverb=False, band=(300, 3400)),
        "tel50": mk(4, single=False, bg=False, reverb=False, band=(50, 7000)),
        "single": mk(7, single=True, bg=False, reverb=False, band=None),
        "single_bg": mk(8, single=True, bg=True, reverb=False, band=None),
    }
    rng = np.random.default_rng(seed + 5)
    out["mp3"] = [(codec(m, "mp3", int(rng.choice([24, 32]))), s) for m, s in out["clean"]]
    out["opus"] = [(codec(m, "opus", int(rng.choice([24, 28, 32]))), s) for m, s in out["clean"]]
    return out


def score_pair(est, ref, mix):
    s, perm = pit2(est, ref[:2])
    base = (np_sisnr(mix, ref[0]) + np_sisnr(mix, ref[1])) / 2
    return s - base, s


def model_stft(path):
    """(n_fft, hop) of a VoxSplit STFT model from its graph metadata (export.py writes `voxsplit_config`); 256/128
    for any other model, the STFT of the first shipped models."""
    import onnx
    meta = {p.key: p.value for p in onnx.load(path, load_external_data=False).metadata_props}
    try:
        cfg = make_config(**json.loads(meta["voxsplit_config"]))
        if cfg["frontend"] == "stft":
            return cfg["enc_kernel"], stft_hop(cfg)
    except (KeyError, ValueError, TypeError):
        pass
    return 256, 128


def evaluate(model, cache_dir, n, seconds, with_oracle=True, seed=777):
    L = lists(cache_dir, n, seconds, seed)
    res = {}
    for cond in ("clean", "bg", "reverb", "tel300", "tel50", "mp3", "opus"):
        items = L[cond]
        outs = infer(model, [m for m, _ in items])
        imp, abs_ = [], []
        bg_s, bg_i = [], []
        for (m, s), o in zip(items, outs):
            i, a = score_pair(o, s, m)
            imp.append(i)
            abs_.append(a)
            if cond == "bg":
                bg_s.append(np_sisnr(o[2], s[2]))
                bg_i.append(bg_s[-1] - np_sisnr(m, s[2]))
        res[cond] = {"si_snri_db": float(np.mean(imp)), "si_snr_db": float(np.mean(abs_)), "items": len(items)}
        if cond == "bg":
            res[cond]["background_si_snr_db"] = float(np.mean(bg_s))
            res[cond]["background_si_snri_db"] = float(np.mean(bg_i))
    for cond in ("single", "single_bg"):
        items = L[cond]
        outs = infer(model, [m for m, _ in items])
        sis, other, impr = [], [], []
        for (m, s), o in zip(items, outs):
            a, b = np_sisnr(o[0], s[0]), np_sisnr(o[1], s[0])
            k = 0 if a >= b else 1
            sis.append(max(a, b))
            impr.append(max(a, b) - np_sisnr(m, s[0]))
            e_main = np.sum(o[k].astype(np.float64) ** 2) + 1e-12
            e_other = np.sum(o[1 - k].astype(np.float64) ** 2) + 1e-12
            other.append(10 * np.log10(e_other / e_main))
        res[cond] = {"speaker_si_snr_db": float(np.mean(sis)),
                     "speaker_si_snri_db": float(np.mean(impr)) if cond == "single_bg" else None,
                     "other_output_rel_db": float(np.mean(other)),
                     "other_output_rel_db_worst": float(np.max(other)),
                     "items_other_quieter_20db": float(np.mean(np.asarray(other) <= -20)), "items": len(items)}
    if with_oracle:
        nfft, hop = model_stft(model)
        vals = [score_pair(oracle_psm(m, s[:2], nfft, hop), s, m)[0] for m, s in L["clean"]]
        res["oracle_psm"] = {"si_snri_db": float(np.mean(vals)), "stft": f"{nfft}/{hop} sqrt-Hann, 16 kHz"}
    r = subprocess.run(["node", NODE_INFER, "rtf", model, "10", "3"], capture_output=True, text=True)
    if r.returncode != 0:
        raise ContractError(r.stderr.strip())
    res["rtf"] = json.loads(r.stdout)
    res["size_bytes"] = os.path.getsize(model)
    return res


def print_report(model, res):
    p = lambda *a: print(*a, flush=True)  # noqa: E731
    p(f"model: {model} ({res['size_bytes']} bytes)")
    p(f"{'condition':<12} {'SI-SNRi dB':>11} {'SI-SNR dB':>10}  extra")
    for c in ("clean", "bg", "reverb", "tel300", "tel50", "mp3", "opus"):
        r = res[c]
        extra = ""
        if c == "bg":
            extra = f"background output SI-SNR {r['background_si_snr_db']:.2f} dB (SI-SNRi {r['background_si_snri_db']:.2f})"
        p(f"{c:<12} {r['si_snri_db']:>11.2f} {r['si_snr_db']:>10.2f}  {extra}  (n={r['items']})")
    for c in ("single", "single_bg"):
        r = res[c]
        si = "" if r["speaker_si_snri_db"] is None else f" (SI-SNRi {r['speaker_si_snri_db']:.2f})"
        p(f"{c:<12} speaker SI-SNR {r['speaker_si_snr_db']:.2f} dB{si}; other speaker "
          f"output {r['other_output_rel_db']:.1f} dB rel. (worst {r['other_output_rel_db_worst']:.1f}; "
          f"{100 * r['items_other_quieter_20db']:.0f}% of items <= -20 dB) (n={r['items']})")
    if "oracle_psm" in res:
        p(f"{'oracle_psm':<12} {res['oracle_psm']['si_snri_db']:>11.2f}  ceiling of STFT masking ({res['oracle_psm']['stft']})")
    p(f"rtf          {res['rtf']['rtf']:.4f} (10 s in {res['rtf']['ms']} ms, onnxruntime-node, 1 thread)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--cache", default=os.path.join(HERE, "cache"))
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--items", type=int, default=40)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--json", default=None)
    ap.add_argument("--no-oracle", action="store_true")
    ap.add_argument("--seed", type=int, default=777, help="seed of the val lists (default: the fixed ship lists)")
    a = ap.parse_args(argv)
    t0 = time.time()
    try:
        check_model_file(a.model)
    except ContractError as e:
        return contract_refused(e)
    try:
        if not os.path.isfile(os.path.join(a.cache, "meta.json")):
            print(f"[eval] no cache at {a.cache}; decoding {a.data} once", file=sys.stderr)
            build(a.data, a.cache)
        with open(os.path.join(a.cache, "meta.json")) as f:
            meta = json.load(f)
        if meta.get("sampleRate") != SR:
            raise DataError(f"cache sample rate {meta.get('sampleRate')} (expected {SR})")
        if a.items < 1:
            raise DataError("--items must be >= 1")
        res = evaluate(a.model, a.cache, a.items, a.seconds, not a.no_oracle, a.seed)
        res["seed"] = a.seed
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except ContractError as e:
        return contract_refused(e)
    print_report(a.model, res)
    res["eval_seconds"] = round(time.time() - t0, 1)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
