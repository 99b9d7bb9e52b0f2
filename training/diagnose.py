"""Diagnostics behind the model card's "why run 2 stalled" figures (CPU, a few minutes each).

    /usr/bin/python3 -m training.diagnose throughput [--batch 4] [--seconds 4] [--ckpt CKPT [--config K=V ...]]
        [--bf16-front]
        median seconds per training step (run it with and without OMP_NUM_THREADS=2); with --bf16-front also with
        the conv front end in bfloat16, and how far that turns the gradient (cosine to the fp32 one); with --config a
        fresh model of another size instead of the checkpoint's weights, on the checkpoint's mix and loss
    /usr/bin/python3 -m training.diagnose segments CKPT [--items 48]
        val SI-SNRi with one permutation per item vs the permutation chosen per 0.5 s (oracle):
        tells a speaker-tracking failure (second much higher) from no separation at all
    /usr/bin/python3 -m training.diagnose masks CKPT [--items 48]
        mean mask per output, share of bins with mask > 0.99, SI-SNRi of the louder / quieter speaker:
        finds an output stuck passing the whole mixture through (saturated sigmoid, run 3)
    /usr/bin/python3 -m training.diagnose clean-run [--steps 600] [--lr 1e-3] [--seed 0] [--no-in-norm] [--min-seconds S] [--tcn] [--fixed-batches N] [key=value ...]
        a fresh model on clean two-speaker mixtures (no degradation, no single-speaker items):
        train SI-SNRi every 50 steps; key=value are model config overrides (e.g. enc_kernel=512 chunk=32)
    /usr/bin/python3 -m training.diagnose pitch CKPT [--items 48]
        val SI-SNRi per pitch distance of the two voices (median F0 of each reference, training/pitch.py):
        does the model separate only voices of different pitch?
    /usr/bin/python3 -m training.diagnose sources CKPT [--items 48] [--data ../shared/data]
        val SI-SNRi of two-speaker mixtures drawn within one corpus at a time (LibriSpeech, Common Voice, ...):
        which recordings and languages does the model separate worst?
    /usr/bin/python3 -m training.diagnose leak-gate CKPT [--gates off,-15,-13.5,-12] [--items 48]
        val SI-SNRi of the checkpoint exported with each leak-gate threshold (off: no gate)
    /usr/bin/python3 -m training.diagnose phase-ensemble CKPT [--gate -13.5] [--items 48]
        val SI-SNRi of a chunk-phase ensemble: the model run on the input delayed by 0, 1/2, 1/4-step parts of a
        chunk, speaker order aligned to the first pass, outputs averaged
    /usr/bin/python3 -m training.diagnose refiner CKPT [--items 48]
        val SI-SNRi with and without the checkpoint's mask refiner, and how far it moves the mask logits:
        is the refiner (run 9) doing anything yet?
    /usr/bin/python3 -m training.diagnose head-ceiling CKPT [--items 12] [--iters 400]
        what the checkpoint's mask head could give if the trunk were perfect: the trunk's output per frame (the
        head's 128-d input) optimised freely against the references, then the mask logits themselves (full rank):
        tells whether the head or the trunk limits the model
    /usr/bin/python3 -m training.diagnose noise-floor [--split train]
        each cached utterance's noise floor (10th-percentile 25 ms frame energy relative to the 90th): are the
        references too noisy to separate?
    /usr/bin/python3 -m training.diagnose curves LOG [LOG ...] [--bin 500] [--to STEP]
        trainer logs side by side: mean train SI-SNRi per --bin steps and the val figures at each bin's end; runs
        started with the same --seed see the same batches, so their train figures compare step for step
    /usr/bin/python3 -m training.diagnose two-pass CKPT [--gate -13.5] [--items 48] [--bg]
        val SI-SNRi of one pass vs a second pass of the model over each of its own speaker outputs (the louder
        speaker output of the second pass kept): does the model clean the other voice's residue it leaves?
    /usr/bin/python3 -m training.diagnose rooms
        each cached room impulse response (train and val): length, RT60 (from the -5..-25 dB slope of its
        Schroeder decay) and direct-to-reverberant ratio: is the val room one the training rooms cover?
"""
import argparse
import os
import sys
import time

import numpy as np
import torch

from . import checkpoint as ck
from .cache import DEFAULT_DATA, Cache, DataError, read_manifest
from .export import load_model
from .losses import TrainingLoss, batch_sisnri, np_sisnr, pit2, separation_loss, sisnr, sisnri_2spk
from .mix import SR, Mixer
from .pitch import semitones, utterance_f0
from .model import Separator, count_params, make_config
from .train import ValSet, bf16_front_cosine, parse_overrides

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.path.join(HERE, "cache")
CLEAN = dict(p_bg=0, p_reverb=0, p_tel=0, p_codec=0, p_speed=0, p_clip=0, p_single=0)


def read_log(path):
    """A trainer log (train.py) as {column: [values]}; empty cells are None."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            head = f.readline().rstrip("\n").split("\t")
            rows = [ln.rstrip("\n").split("\t") for ln in f if ln.strip()]
    except OSError as e:
        raise DataError(f"cannot read {path}: {e.strerror}") from e
    if "step" not in head or "train_sisnri_db" not in head:
        raise DataError(f"{path} is not a trainer log (no step / train_sisnri_db columns)")
    if not rows:
        raise DataError(f"{path} has no rows yet")
    num = lambda v: float(v) if v not in ("", None) else None
    return {k: [num(r[i]) if i < len(r) else None for r in rows] for i, k in enumerate(head) if k != "time"}


def curves(a):
    logs = [read_log(p) for p in a.logs]
    for L in logs:  # each row's train figure is the mean since the row before (a save at a stop writes a short row)
        L["covers"] = [s - p for s, p in zip(L["step"], [0.0] + L["step"][:-1])]
        L["last"] = max(L["step"])
    last = max(L["last"] for L in logs)
    end = min(a.to or last, last)
    names = [os.path.basename(os.path.dirname(p)) if os.path.basename(p) == "train_log.tsv" else os.path.basename(p)
             for p in a.logs]
    print("steps\t" + "\t".join(f"{n} train\t{n} val" for n in names))
    for lo in range(0, int(end), a.bin):
        hi = lo + a.bin
        cells = []
        for L in logs:
            tr = [(t, w) for s, w, t in zip(L["step"], L["covers"], L["train_sisnri_db"])
                  if lo < s <= hi and t is not None and w > 0]
            va = [v for s, v in zip(L["step"], L["val_sisnri_db"]) if s == hi and v is not None]
            full = L["last"] >= hi
            mean = sum(t * w for t, w in tr) / sum(w for _, w in tr) if tr else None
            cells += [f"{mean:.2f}" + ("" if full else "*") if tr else "", f"{va[0]:.2f}" if va else ""]
        print(f"{lo + 1}-{hi}\t" + "\t".join(cells))
    print("(* the log ends inside this bin)")
    return 0


def throughput(a):
    if a.config and not a.ckpt:
        print("error: --config needs --ckpt (the run whose mix and loss to time it with)", file=sys.stderr)
        return 2
    c = Cache(CACHE, "train")
    if a.ckpt:  # the checkpoint's model, mix and loss at its step (what a resumed run does per step)
        st = ck.load(a.ckpt)
        hp = st["hparams"]
        model = Separator(make_config(**{**st["config"], **parse_overrides(a.config)}))
        if not a.config:  # with --config: a fresh model of another size on the same mix and loss
            model.load_state_dict(st["model"])
        m = Mixer(c, seed=hp["seed"], seconds=a.seconds, **hp.get("mix", {}))
        loss_fn, first = TrainingLoss(model, hp.get("loss", {})), int(st["step"])
    else:
        model, m, first = Separator(make_config()), Mixer(c, seed=0, seconds=a.seconds), 0
        loss_fn = separation_loss
    print(f"model: {count_params(model):,} parameters")
    if a.bf16_front and model.front is None:
        print("error: --bf16-front needs a model with the conv front end (config front_ch)", file=sys.stderr)
        return 2
    model.train()
    batches = [m.batch(first + s, a.batch) for s in range(14)]

    def loss_of(mix, ref):
        mt, rt = torch.from_numpy(mix), torch.from_numpy(ref)
        return loss_fn(model(mt), rt, mt)

    if a.bf16_front:  # before any optimizer step: both precisions see the same weights
        cos = [bf16_front_cosine(model, lambda: loss_of(mix, ref)) for mix, ref in batches[:4]]
        print(f"gradient cosine, bf16 front end vs fp32 (4 batches): {min(cos):.4f}-{max(cos):.4f}")
    for on in ((False, True) if a.bf16_front else (False,)):
        model.front_bf16 = on
        opt = torch.optim.Adam(model.parameters(), 1e-4)
        ts = []
        for mix, ref in batches:
            t = time.time()
            loss = loss_of(mix, ref)
            opt.zero_grad()
            loss.backward()
            opt.step()
            ts.append(time.time() - t)
        print(f"batch {a.batch} x {a.seconds} s, torch threads {torch.get_num_threads()}, front end "
              f"{'bf16' if on else 'fp32'}: median {np.median(ts[4:]):.3f} s/step (after 4 warm-up steps)")


def segments(a):
    model, meta = load_model(a.ckpt)
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
    print(f"{a.ckpt} (step {meta['step']}): val SI-SNRi {np.mean(item):.2f} dB (median {np.median(item):.2f}), "
          f"with the permutation chosen per 0.5 s (oracle) {np.mean(seg):.2f} dB")


def pitch(a):
    model, meta = load_model(a.ckpt)
    v = ValSet(CACHE, a.items, 4.0)
    with torch.no_grad():
        est = model(torch.from_numpy(v.mix)).numpy()
    imp = np.array([sisnri_2spk(est[j], v.ref[j, :2], v.mix[j])[0] for j in range(len(v.mix))])
    dist = np.array([semitones(utterance_f0(r[0]), utterance_f0(r[1])) for r in v.ref])
    print(f"{a.ckpt} (step {meta['step']}): val SI-SNRi {imp.mean():.2f} dB over {len(imp)} items; "
          f"correlation with the pitch distance {np.corrcoef(np.minimum(dist, 24), imp)[0, 1]:.2f}")
    for lo, hi in ((0, 3), (3, 6), (6, 12), (12, np.inf)):
        m = (dist >= lo) & (dist < hi)
        fig = f"{imp[m].mean():6.2f} dB" if m.any() else "     -"
        print(f"  voices {lo:>2}-{hi:<3} semitones apart: {m.sum():3d} items, SI-SNRi {fig}")


def speech_sources(data_dir, split="val"):
    """Corpus name per speaker number of the cache's split, numbered as training/cache.py numbers them (first
    appearance among the split's speech rows of the data manifest)."""
    spk = {}
    for r in read_manifest(data_dir):
        if r["split"] == split and r["path"].startswith("speech/"):
            spk.setdefault(r["speaker"], r["source"] or "?")
    return list(spk.values())


def sources(a):
    model, meta = load_model(a.ckpt)
    vc = Cache(CACHE, "val")
    corpus = np.array(speech_sources(a.data))
    spk = vc.speech_idx[:, 2]
    if spk.max() >= len(corpus):
        raise SystemExit("error: the cache's val speakers do not match the data manifest (rebuild: python3 -m training.cache)")
    utt_corpus = corpus[spk]
    print(f"{a.ckpt} (step {meta['step']}): clean two-speaker val mixtures, both voices from one corpus")
    for name in sorted(set(utt_corpus)):
        pool = np.flatnonzero(utt_corpus == name)
        if len(np.unique(spk[pool])) < 2:
            print(f"  {name:<16} fewer than 2 val speakers: skipped")
            continue
        mx = Mixer(vc, seed=20240611, seconds=4.0, p_speed=0, p_clip=0)  # as ValSet, restricted to this corpus
        mx.pool = pool
        lst = mx.fixed_list(20240611, a.items, single=False, bg=False, reverb=False, band=None)
        mix = np.stack([m for m, _ in lst])
        ref = np.stack([r for _, r in lst])
        with torch.no_grad():
            est = model(torch.from_numpy(mix)).numpy()
        imp = np.array([sisnri_2spk(est[j], ref[j, :2], mix[j])[0] for j in range(len(mix))])
        print(f"  {name:<16} {len(np.unique(spk[pool])):4d} speakers, {len(pool):4d} utterances: "
              f"SI-SNRi {imp.mean():5.2f} dB (median {np.median(imp):5.2f}) over {len(imp)} items")


def masks(a):
    """Per-output mask statistics and per-speaker SI-SNRi on the val list: finds a saturated output (mask 1.0
    everywhere = the mixture passed through), the trap run 3 fell into with sigmoid masks."""
    model, meta = load_model(a.ckpt)
    v = ValSet(CACHE, a.items, 4.0)
    cap = {}
    hook = model.logits_out.register_forward_hook(lambda _m, _i, out: cap.__setitem__("logits", out))
    with torch.no_grad():
        est = model(torch.from_numpy(v.mix)).numpy()
    hook.remove()
    B, S, N = len(v.mix), model.S, model.N
    lg = cap["logits"].reshape(B, -1, S, N)
    mk = model.mask_activation(cap["logits"])
    print(f"{a.ckpt} (step {meta['step']}, mask {model.config['mask']}), {B} val items")
    for s in range(S):
        print(f"  output {s}: mean mask {float(mk[:, :, s].mean()):.3f}, bins with mask > 0.99 "
              f"{100 * float((mk[:, :, s] > 0.99).float().mean()):.1f} %, mean logit {float(lg[:, :, s].mean()):.2f}")
    loud, quiet, corr = [], [], []
    for j in range(B):
        e, r, x = est[j], v.ref[j, :2], v.mix[j]
        _, p = pit2(e, r)
        gain = [np_sisnr(e[p[k]], r[k]) - np_sisnr(x, r[k]) for k in range(2)]
        k_loud = 0 if np_sisnr(x, r[0]) >= np_sisnr(x, r[1]) else 1
        loud.append(gain[k_loud])
        quiet.append(gain[1 - k_loud])
        corr.append(np.corrcoef(e[0], e[1])[0, 1])
    print(f"  SI-SNRi of the louder speaker {np.mean(loud):.2f} dB, of the quieter {np.mean(quiet):.2f} dB; "
          f"correlation of the two speaker outputs {np.mean(corr):.2f}")


class TCNBaseline(torch.nn.Module):
    """Conv-TasNet's separator (temporal convolutional network) over the same STFT front end and masks as the
    shipped model: a reference point for how fast a separator learns on this data and loss (not shippable: the
    product is a transformer). X blocks of dilated depthwise convolutions 1, 2, 4, ... per repeat."""

    def __init__(self, d=128, hidden=256, blocks=8, repeats=2):
        super().__init__()
        base = Separator(make_config())
        self.stft_analysis, self.stft_synthesis = base.stft_analysis, base.stft_synthesis
        self.H, self.L, self.N, self.S, self.P = base.H, base.L, base.N, base.S, base.P
        N = self.N
        self.inp = torch.nn.Sequential(torch.nn.GroupNorm(1, N), torch.nn.Conv1d(N, d, 1))
        layers = []
        for _ in range(repeats):
            for b in range(blocks):
                dil = 2 ** b
                layers.append(torch.nn.Sequential(
                    torch.nn.Conv1d(d, hidden, 1), torch.nn.PReLU(), torch.nn.GroupNorm(1, hidden),
                    torch.nn.Conv1d(hidden, hidden, 3, padding=dil, dilation=dil, groups=hidden), torch.nn.PReLU(),
                    torch.nn.GroupNorm(1, hidden), torch.nn.Conv1d(hidden, d, 1)))
        self.blocks = torch.nn.ModuleList(layers)
        self.mask = torch.nn.Sequential(torch.nn.PReLU(), torch.nn.Conv1d(d, self.S * N, 1))

    def forward(self, mixture):
        import torch.nn.functional as F
        B, T = mixture.shape
        H, L, N, S = self.H, self.L, self.N, self.S
        rms = torch.sqrt((mixture * mixture).mean(-1, keepdim=True) + 1e-8)
        x = F.pad((mixture / rms).unsqueeze(1), (self.P, L))
        spec = F.conv1d(x, self.stft_analysis, stride=H)
        re, im = spec[:, :N], spec[:, N:]
        e = torch.log(torch.sqrt(re * re + im * im + 1e-10) + 1e-4)
        z = self.inp(e)
        for blk in self.blocks:
            z = z + blk(z)
        Fr = e.shape[-1]
        m = torch.sigmoid(self.mask(z)).reshape(B, S, 1, N, Fr)
        y = (m * spec.reshape(B, 1, 2, N, Fr)).reshape(B * S, 2 * N, Fr)
        out = F.conv_transpose1d(y, self.stft_synthesis, stride=H).reshape(B, S, -1)[:, :, self.P:self.P + T]
        return out * rms.unsqueeze(1)


def clean_run(a):
    torch.manual_seed(a.seed)
    cfg = dict(kv.split("=", 1) for kv in a.overrides)
    mix = dict(CLEAN, **{k: float(v) for k, v in (kv.split("=", 1) for kv in a.mix)})
    m = Mixer(Cache(CACHE, "train"), seed=1 + a.seed, seconds=4.0, min_seconds=a.min_seconds, **mix)
    model = TCNBaseline() if a.tcn else Separator(make_config(**cfg))
    print(f"params {sum(p.numel() for p in model.parameters())}", flush=True)
    if a.init_from:
        took, fresh, _ = ck.init_from(model, a.init_from, skip=() if a.keep_mask else ("mask.",))
        print(f"warm start from {a.init_from}: {len(took)} tensors, fresh: {', '.join(fresh)}", flush=True)
    loss_fn = TrainingLoss(model, {"speaker": a.loss, "quiet": a.quiet, "logit_l2": a.logit_l2, "psm": a.psm})
    if a.no_in_norm:
        model.in_norm = torch.nn.Identity()
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    t0, acc, share = time.time(), [], []
    for step in range(a.steps):
        mix, ref = m.batch(step % a.fixed_batches if a.fixed_batches else step, 4)
        mt, rt = torch.from_numpy(mix), torch.from_numpy(ref)
        for g in opt.param_groups:
            g["lr"] = a.lr * min(1.0, (step + 1) / 200)
        est = model(mt)
        loss = loss_fn(est, rt, mt)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        acc.append(batch_sisnri(est.detach(), rt, mt))
        with torch.no_grad():  # each output's energy relative to the mixture: a collapse shows as 0 / -30 / -30 dB
            share.append((10 * torch.log10((est ** 2).sum(-1) / (mt ** 2).sum(-1)[:, None] + 1e-9)).mean(0).numpy())
        if (step + 1) % 50 == 0:
            ok = [x for x in acc[-50:] if x is not None]
            print(f"{step + 1} train SI-SNRi {np.mean(ok) if ok else float('nan'):.2f} dB, output energy re mixture "
                  f"{' / '.join(f'{v:.1f}' for v in np.mean(share[-50:], 0))} dB, {(time.time() - t0) / (step + 1):.2f} s/step", flush=True)


def noise_floor(a):
    c = Cache(CACHE, a.split)
    fl = []
    for i in range(len(c.speech_idx)):
        x = c.utt(i).astype(np.float64)
        n = len(x) // 400
        if n < 4:
            continue
        e = (x[: n * 400].reshape(n, 400) ** 2).mean(1) + 1e-12
        fl.append(10 * np.log10(np.percentile(e, 10) / np.percentile(e, 90)))
    fl = np.asarray(fl)
    dur = c.speech_idx[:, 1] / 16000
    print(f"{a.split}: {len(fl)} utterances; noise floor (dB re speech) percentiles 10/25/50/75/90: "
          + " / ".join(f"{np.percentile(fl, q):.1f}" for q in (10, 25, 50, 75, 90)))
    print("share above " + ", ".join(f"{t} dB: {100 * np.mean(fl > t):.1f} %" for t in (-15, -20, -25, -30)))
    print("utterance seconds percentiles 10/50/90: " + " / ".join(f"{np.percentile(dur, q):.1f}" for q in (10, 50, 90)))


def rooms(_a):
    for split in ("train", "val"):
        c = Cache(CACHE, split)
        for i in range(len(c.rir_idx)):
            h = np.asarray(c.rir_at(i), np.float64)
            decay = np.cumsum(h[::-1] ** 2)[::-1]
            db = 10 * np.log10(decay / decay[0] + 1e-12)
            # T20 extrapolated to 60 dB: the tail below -25 dB is often the recording's noise floor
            i5, i25 = int(np.argmax(db < -5)), int(np.argmax(db < -25))
            rt60 = 3 * (i25 - i5) / SR if i25 > i5 else float("nan")
            peak, direct = int(np.argmax(np.abs(h))), 40  # +-2.5 ms around the peak counts as the direct path
            d = np.sum(h[max(0, peak - direct): peak + direct] ** 2)
            r = np.sum(h[peak + direct:] ** 2) + 1e-12
            print(f"{split} {i}: {len(h) / SR:.2f} s, RT60 {rt60:.2f} s, DRR {10 * np.log10(d / r):+.1f} dB")


def two_pass(a):
    model, meta = load_model(a.ckpt)
    model.set_leak_gate(None if a.gate == "off" else float(a.gate))
    v = ValSet(CACHE, a.items, 4.0, bg=a.bg)

    def run(x):
        with torch.no_grad():
            return model(torch.from_numpy(np.ascontiguousarray(x, np.float32))[None])[0].numpy()

    one, two, blend = [], [], []
    for x, r in zip(v.mix, v.ref):
        y = run(x)
        z = []
        for s in y[:2]:
            w = run(s)[:2]
            z.append(w[int(np.argmax((w ** 2).sum(1)))])
        z = np.stack(z)
        one.append(sisnri_2spk(y[:2], r[:2], x)[0])
        two.append(sisnri_2spk(z, r[:2], x)[0])
        blend.append(sisnri_2spk((y[:2] + z) / 2, r[:2], x)[0])
    print(f"{a.ckpt} (step {meta['step']}), gate {a.gate}, {len(v.mix)} val items{' with a background' if a.bg else ''}: "
          f"one pass {np.mean(one):.2f} dB, two passes {np.mean(two):.2f}, their mean {np.mean(blend):.2f}; "
          f"second pass better on {100 * np.mean(np.asarray(two) > np.asarray(one)):.0f} % of items", flush=True)


def leak_gate(a):
    model, meta = load_model(a.ckpt)
    v = ValSet(CACHE, a.items, 4.0)
    for g in a.gates.split(","):
        model.set_leak_gate(None if g == "off" else float(g))
        print(f"{a.ckpt} (step {meta['step']}), gate {g}: val SI-SNRi {v.score(model, 'cpu'):.2f} dB", flush=True)


def phase_ensemble(a):
    model, meta = load_model(a.ckpt)
    model.set_leak_gate(None if a.gate == "off" else float(a.gate))
    v = ValSet(CACHE, a.items, 4.0)
    step = model.K * model.H  # one chunk of frames, in samples

    def delayed(x, d):
        with torch.no_grad():
            y = model(torch.from_numpy(np.concatenate([np.zeros(d, np.float32), x]))[None])[0].numpy()
        return y[:, d:d + len(x)]

    def aligned(first, y):
        keep = np.dot(first[0], y[0]) + np.dot(first[1], y[1])
        return y if keep >= np.dot(first[0], y[1]) + np.dot(first[1], y[0]) else y[[1, 0, 2]]

    for delays in ([0], [0, step // 2], [0, step // 4, step // 2, 3 * step // 4]):
        vals = []
        for x, r in zip(v.mix, v.ref):
            ys = [delayed(x, d) for d in delays]
            vals.append(sisnri_2spk(np.mean([aligned(ys[0], y) for y in ys], 0), r[:2], x)[0])
        print(f"{a.ckpt} (step {meta['step']}), gate {a.gate}, {len(delays)} pass(es), delays {delays}: "
              f"val SI-SNRi {np.mean(vals):.2f} dB", flush=True)


def refiner(a):
    model, meta = load_model(a.ckpt)
    if model.refine is None:
        raise SystemExit(f"error: {a.ckpt} has no mask refiner (config refine_ch=0)")
    v = ValSet(CACHE, a.items, 4.0)
    cap = {}
    hook = model.refine.register_forward_hook(lambda _m, i, o: cap.update(moved=(o - i[1]).std(), logits=i[1].std()))
    with_r = v.score(model, "cpu")
    hook.remove()
    ref, model.refine = model.refine, None
    without = v.score(model, "cpu")
    model.refine = ref
    print(f"{a.ckpt} (step {meta['step']}): val SI-SNRi {with_r:.2f} dB with the refiner, {without:.2f} without; "
          f"it moves the mask logits by {float(cap['moved']):.3f} (std; the logits' own std {float(cap['logits']):.3f})")


class _Free(torch.nn.Module):
    """A module that ignores its input and returns a trainable tensor (stands in for part of a model)."""

    def __init__(self, t):
        super().__init__()
        self.t = torch.nn.Parameter(t)

    def forward(self, _x):
        return self.t


def head_ceiling(a):
    model, meta = load_model(a.ckpt)
    model.set_leak_gate(None)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    v = ValSet(CACHE, a.items, 4.0)
    mix, ref = torch.from_numpy(v.mix), torch.from_numpy(v.ref[:, :2])

    def score():
        with torch.no_grad():
            e = model(mix).numpy()
        return np.mean([sisnri_2spk(e[j], v.ref[j, :2], v.mix[j])[0] for j in range(len(e))])

    def optimise(name, what):
        cap = {}
        hook = getattr(model, what).register_forward_hook(lambda _m, _i, o: cap.update(out=o.detach().clone()))
        with torch.no_grad():
            model(mix)
        hook.remove()
        orig = getattr(model, what)
        free = _Free(cap["out"])
        setattr(model, what, free)
        opt = torch.optim.Adam(free.parameters(), 0.05)
        for _ in range(a.iters):
            est = model(mix)
            keep = sisnr(est[:, 0], ref[:, 0]) + sisnr(est[:, 1], ref[:, 1])
            swap = sisnr(est[:, 0], ref[:, 1]) + sisnr(est[:, 1], ref[:, 0])
            loss = -torch.maximum(keep, swap).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        got = score()
        setattr(model, what, orig)
        print(f"  {name}: {got:.2f} dB", flush=True)

    print(f"{a.ckpt} (step {meta['step']}), {len(mix)} val items: the model {score():.2f} dB; optimised per item "
          f"({a.iters} Adam steps):", flush=True)
    optimise("trunk output free, the trained mask head kept", "out_norm")
    optimise("mask logits free (full rank)", "mask")


def checkpoint_command(sub, name):
    """A subcommand that reads one checkpoint and scores it on --items val mixtures."""
    p = sub.add_parser(name)
    p.add_argument("ckpt")
    p.add_argument("--items", type=int, default=48)
    return p


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("throughput")
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--seconds", type=float, default=4.0)
    p.add_argument("--ckpt", default=None, help="time this checkpoint's model, mix and loss (default: a fresh default model)")
    p.add_argument("--bf16-front", action="store_true", help="also with the conv front end in bfloat16 (train --bf16-front)")
    p.add_argument("--config", nargs="*", default=[],
                   help="with --ckpt: a fresh model with these config overrides (key=value) instead of its weights")
    p = sub.add_parser("curves")
    p.add_argument("logs", nargs="+")
    p.add_argument("--bin", type=int, default=500)
    p.add_argument("--to", type=int, default=0, help="last step shown (default: the longest log's)")
    for name in ("segments", "pitch", "masks", "refiner"):
        checkpoint_command(sub, name)
    p = checkpoint_command(sub, "sources")
    p.add_argument("--data", default=DEFAULT_DATA)
    p = sub.add_parser("clean-run")
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0, help="torch seed (weights); the batches come from mixer seed 1 + this")
    p.add_argument("--no-in-norm", action="store_true")
    p.add_argument("--fixed-batches", type=int, default=0,
                   help="cycle over this many fixed batches (an overfitting check: can the model fit a few mixtures?)")
    p.add_argument("--tcn", action="store_true", help="Conv-TasNet's TCN separator over the same front end (reference)")
    p.add_argument("--min-seconds", type=float, default=0.0, help="only utterances at least this long (fully overlapped crops)")
    p.add_argument("--init-from", default=None, help="warm start: every weight but the mask head from this checkpoint")
    p.add_argument("--loss", default="sisnr", choices=("sisnr", "snr", "psm"), help="speaker term of the loss (losses.separation_loss)")
    p.add_argument("--keep-mask", action="store_true", help="with --init-from: take the mask head as well (fine-tuning)")
    p.add_argument("--psm", type=float, default=0.0, help="weight of the PSA loss added to a time-domain speaker loss")
    p.add_argument("--logit-l2", type=float, default=0.0, help="weight of the mask-logit spread penalty")
    p.add_argument("--quiet", default="floor", choices=("floor", "hinge"), help="loss of an output with no source")
    p.add_argument("--mix", nargs="*", default=[], help="Mixer probabilities key=value put back into the clean mix (e.g. p_single=0.1)")
    p.add_argument("overrides", nargs="*")
    p = checkpoint_command(sub, "head-ceiling")
    p.set_defaults(items=12)
    p.add_argument("--iters", type=int, default=400)
    p = sub.add_parser("noise-floor")
    p.add_argument("--split", default="train", choices=("train", "val"))
    sub.add_parser("rooms")
    p = checkpoint_command(sub, "leak-gate")
    p.add_argument("--gates", default="off,-15,-13.5,-12")
    p = checkpoint_command(sub, "phase-ensemble")
    p.add_argument("--gate", default="-13.5")
    p = checkpoint_command(sub, "two-pass")
    p.add_argument("--gate", default="-13.5")
    p.add_argument("--bg", action="store_true", help="mixtures with a background (the val backgrounds at 0-10 dB SNR)")
    a = ap.parse_args(argv)
    try:
        return {"throughput": throughput, "segments": segments, "masks": masks, "clean-run": clean_run,
             "noise-floor": noise_floor, "pitch": pitch, "sources": sources, "leak-gate": leak_gate,
             "phase-ensemble": phase_ensemble, "refiner": refiner, "head-ceiling": head_ceiling, "rooms": rooms,
             "two-pass": two_pass, "curves": curves}[a.cmd](a)
    except (ck.CheckpointError, DataError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
