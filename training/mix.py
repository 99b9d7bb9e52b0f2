"""Dynamic mixing from the cache (train split for training; val split for the fixed val lists).

Every batch is a pure function of (seed, step): the data-sampler state is just the step, so
resuming continues the exact same stream.

A mixture item = speaker A + speaker B (+ background), returned with its targets
[3, T] (A, B, background); speaker B / background may be all-zero (single speaker / no
background). Augmentations: random crops and placement, relative level -5..+5 dB,
background (real music/noise or synthetic coloured noise / hum) at a random SNR, reverb
(real RIRs of the split + synthetic exponential-decay RIRs), speed perturbation,
telephone/wideband band-limiting, overall gain and occasional clipping of the mixture.

Mix version 2 (hparams "mix", used from run 2 step 1,621 on) adds two knobs, both off in v1:
* p_overlap: a short second utterance is placed over the first one's speech instead of
  anywhere in the crop. Random placement of two short clips often leaves them barely
  overlapping, which turns separation into speaker tracking across silence and kept val
  SI-SNRi near 0.5 dB for 2,000 steps in runs 0-2.
* curriculum (start, steps, floor): a difficulty d(step) ramping from floor to 1 over `steps`
  steps from `start` scales the probability of every degradation (background, reverb,
  band-limiting, codec, speed, clipping) and pulls the background SNR range up at low d.
A third knob (run 8 from step 54,808 on), off by default: p_close_pitch pairs voices of similar pitch in that share
of the items (see training/pitch.py for why).
"""
import numpy as np
from scipy.signal import butter, fftconvolve, resample_poly, sosfilt

from .pitch import f0_table

SR = 16000
_SOS = {}


def band_sos(lo, hi, order=4):
    key = (lo, hi, order)
    if key not in _SOS:
        _SOS[key] = butter(order, [lo, hi], btype="bandpass", fs=SR, output="sos")
    return _SOS[key]


def rms(x):
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2) + 1e-12))


def synth_rir(rng, rt60=None):
    rt60 = rt60 if rt60 is not None else rng.uniform(0.15, 0.9)
    n = int(min(rt60, 1.0) * SR)
    t = np.arange(n) / SR
    h = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)
    h[: int(rng.integers(0, 40))] = 0
    d = int(rng.integers(0, 40))
    h[d] += rng.uniform(1.0, 4.0) * np.abs(h).max()  # direct path
    h = sosfilt(band_sos(60, rng.uniform(3000, 7900), 2), h)
    return (h / np.abs(h).max()).astype(np.float32)


def synth_noise(rng, n):
    kind = rng.integers(0, 3)
    if kind == 0:  # coloured noise 1/f^a
        a = rng.uniform(0, 2)
        spec = np.fft.rfft(rng.standard_normal(n))
        f = np.maximum(np.arange(len(spec)), 1)
        x = np.fft.irfft(spec / f ** (a / 2), n)
    elif kind == 1:  # mains hum + harmonics
        f0 = rng.choice([50.0, 60.0])
        t = np.arange(n) / SR
        x = sum(rng.uniform(0.1, 1) / k * np.sin(2 * np.pi * f0 * k * t + rng.uniform(0, 6.3)) for k in range(1, 8))
        x = x + 0.05 * rng.standard_normal(n)
    else:  # clicks / crackle over hiss
        x = 0.1 * rng.standard_normal(n)
        k = rng.integers(5, 60)
        pos = rng.integers(0, n, k)
        x[pos] += rng.uniform(-5, 5, k)
    return x.astype(np.float32)


def check_shares(**shares):
    """Every p_* knob of the Mixer is the share of items that get something: refuse one outside 0..1 by name (a typo
    such as p_reverb=45 would otherwise silently mean "always")."""
    for k, v in shares.items():
        if k.startswith("p_") and not 0.0 <= float(v) <= 1.0:
            raise ValueError(f"{k}={v} is not a share between 0 and 1")


class Mixer:
    def __init__(self, cache, seed=0, seconds=4.0, p_bg=0.7, p_single=0.1, p_reverb=0.3,
                 p_tel=0.12, p_speed=0.2, p_clip=0.03, p_synth_noise=0.15, snr_range=(-5.0, 15.0),
                 rir_synth_frac=0.5, p_codec=0.15, p_overlap=0.0, curriculum=None, min_seconds=0.0,
                 p_close_pitch=0.0, close_semitones=2.0):
        check_shares(**{k: v for k, v in locals().items() if k.startswith("p_")})
        self.c = cache
        self.seed = int(seed)
        self.n = int(seconds * SR)
        self.p_bg, self.p_single, self.p_reverb = p_bg, p_single, p_reverb
        self.p_tel, self.p_speed, self.p_clip, self.p_synth_noise = p_tel, p_speed, p_clip, p_synth_noise
        self.snr_range = snr_range
        self.rir_synth_frac = rir_synth_frac
        self.p_codec = p_codec
        self.p_overlap = float(p_overlap)
        self.curriculum = tuple(curriculum) if curriculum else None
        self.spk = cache.speech_idx[:, 2]
        # min_seconds > 0: draw only utterances at least this long (fully overlapped crops, as in wsj0-2mix "min").
        self.pool = np.flatnonzero(cache.speech_idx[:, 1] >= min_seconds * SR) if min_seconds > 0 else np.arange(len(self.spk))
        if len(np.unique(self.spk[self.pool])) < 2:
            raise ValueError(f"min_seconds {min_seconds}: fewer than 2 speakers have utterances that long")
        # p_close_pitch > 0: that share of two-speaker items pairs voices within close_semitones of each other,
        # the pairs the model separates worst (training/pitch.py).
        self.p_close_pitch, self.close_semitones = float(p_close_pitch), float(close_semitones)
        if self.p_close_pitch > 0:
            f0 = f0_table(cache)[self.pool]
            voiced = f0 > 0
            self.pitch_pool = self.pool[voiced][np.argsort(f0[voiced])]
            self.pitch_log = np.sort(np.log2(f0[voiced]))
            self.f0 = np.zeros(len(self.spk), np.float32)
            self.f0[self.pool] = f0

    # -- pieces ---------------------------------------------------------------
    def difficulty(self, step):
        if not self.curriculum:
            return 1.0
        start, steps, floor = self.curriculum
        return float(min(1.0, max(floor, floor + (1.0 - floor) * (step - start) / max(1.0, steps))))

    def speech(self, rng, utt, n, variant=-1, anchor=None, d=1.0):
        """[2, n]: row 0 the clean crop (target), row 1 the same crop from codec variant `variant`
        (the clean one again when variant < 0). `anchor` = (start, length) of speech to overlap:
        a short utterance is then placed over it as far as it can."""
        x = self.c.utt(utt)
        x = np.stack([x, self.c.utt(utt, variant) if variant >= 0 else x])
        if rng.random() < self.p_speed * d:
            up, down = [(9, 10), (19, 20), (21, 20), (11, 10)][rng.integers(0, 4)]
            x = resample_poly(x, up, down, axis=-1).astype(np.float32)
        L = x.shape[1]
        out = np.zeros((2, n), np.float32)
        if L >= n:
            s = int(rng.integers(0, L - n + 1))
            out[:] = x[:, s:s + n]
        elif anchor is not None:  # over the other speaker's speech
            a0, al = anchor
            lo, hi = (a0, a0 + al - L) if L <= al else (a0 + al - L, a0)
            lo, hi = max(0, lo), min(n - L, hi)
            s = int(rng.integers(lo, hi + 1)) if hi >= lo else int(rng.integers(0, n - L + 1))
            out[:, s:s + L] = x
        else:  # short utterance: random placement (partial overlap)
            s = int(rng.integers(0, n - L + 1))
            out[:, s:s + L] = x
        act = np.abs(out[0]) > 1e-4
        return out / (rms(out[0][act]) if np.any(act) else 1.0)

    def background(self, rng, n):
        if rng.random() < self.p_synth_noise:
            return synth_noise(rng, n)
        i = int(rng.integers(0, len(self.c.bg_idx)))
        ln = int(self.c.bg_idx[i, 1])
        x = self.c.background(i, int(rng.integers(0, max(1, ln - n + 1))), n)
        if len(x) < n:
            x = np.tile(x, n // max(1, len(x)) + 1)[:n]
        return x.astype(np.float32)

    def rir(self, rng):
        if rng.random() < self.rir_synth_frac:
            return synth_rir(rng)
        return np.asarray(self.c.rir_at(int(rng.integers(0, len(self.c.rir_idx)))), np.float32)

    def close_pitch_partner(self, rng, a):
        """An utterance of another speaker whose median F0 is within close_semitones of a's; None when a is
        unvoiced or has no such partner (the caller then draws any speaker)."""
        if self.f0[a] <= 0:
            return None
        la, w = np.log2(self.f0[a]), self.close_semitones / 12
        lo = np.searchsorted(self.pitch_log, la - w, side="left")
        hi = np.searchsorted(self.pitch_log, la + w, side="right")  # both ends inclusive
        cand = self.pitch_pool[lo:hi]
        cand = cand[self.spk[cand] != self.spk[a]]
        return int(cand[rng.integers(0, len(cand))]) if len(cand) else None

    # -- one item ---------------------------------------------------------------
    def item(self, rng, single=None, bg=None, reverb=None, band=None, snr=None, d=1.0, speakers=None):
        """d < 1 (curriculum) scales every degradation probability down. A list `speakers` receives the speaker ids of
        sources 0 and 1 (-1: none); the random stream is the same either way."""
        n = self.n
        nu = len(self.pool)
        a = int(self.pool[rng.integers(0, nu)])
        b = self.close_pitch_partner(rng, a) if self.p_close_pitch > 0 and rng.random() < self.p_close_pitch else None
        while b is None:
            b = int(self.pool[rng.integers(0, nu)])
            if self.spk[b] == self.spk[a]:
                b = None
        single = (rng.random() < self.p_single) if single is None else single
        var = -1
        if self.c.codecs and rng.random() < self.p_codec * d:
            var = int(rng.integers(0, len(self.c.codecs)))
        s1 = self.speech(rng, a, n, var, d=d)
        anchor = None
        if not single and self.p_overlap > 0 and rng.random() < self.p_overlap:
            act = np.flatnonzero(np.abs(s1[0]) > 1e-4)
            anchor = (int(act[0]), int(act[-1] - act[0] + 1)) if len(act) else None
        s2 = np.zeros((2, n), np.float32) if single else self.speech(rng, b, n, var, anchor, d)
        if not single:
            s2 *= 10 ** (rng.uniform(-5, 5) / 20)
        reverb = (rng.random() < self.p_reverb * d) if reverb is None else reverb
        if reverb:
            h = self.rir(rng)
            s1 = fftconvolve(s1, h[None], axes=-1)[:, :n].astype(np.float32)
            if not single:
                h2 = self.rir(rng) if rng.random() < 0.5 else h
                s2 = fftconvolve(s2, h2[None], axes=-1)[:, :n].astype(np.float32)
        srcs = np.zeros((3, n), np.float32)
        srcs[0], srcs[1] = s1[0], s2[0]
        degraded = s1[1] + s2[1]  # the speech as the mixture carries it (codec round-trip or clean)
        bg = (rng.random() < self.p_bg * d) if bg is None else bg
        if bg:
            x = self.background(rng, n)
            lo, hi = self.snr_range
            snr = rng.uniform(lo + (1.0 - d) * (hi - lo) / 2, hi) if snr is None else snr
            sp = rms(s1 + s2)
            srcs[2] = x * (sp / rms(x) * 10 ** (-snr / 20))
        if band is None and rng.random() < self.p_tel * d:
            band = [(300, 3400), (50, 7000), (200, 3800)][rng.integers(0, 3)]
        if band:
            sos = band_sos(*band)
            srcs = sosfilt(sos, srcs, axis=-1).astype(np.float32)
            degraded = sosfilt(sos, degraded).astype(np.float32)
        mix = srcs.sum(0) if var < 0 else degraded + srcs[2]
        g = 10 ** (rng.uniform(-35, -12) / 20) / (rms(mix) + 1e-9)
        srcs *= g
        mix *= g
        if rng.random() < self.p_clip * d:
            lim = np.abs(mix).max() * rng.uniform(0.3, 0.8)
            mix = np.clip(mix, -lim, lim)
        if speakers is not None:
            speakers.extend([int(self.spk[a]), -1 if single else int(self.spk[b])])
        return mix.astype(np.float32), srcs

    def batch(self, step, batch_size):
        rng = np.random.default_rng([self.seed, int(step)])
        d = self.difficulty(step)
        mixes, srcs = zip(*(self.item(rng, d=d) for _ in range(batch_size)))
        return np.stack(mixes), np.stack(srcs)

    def fixed_list(self, seed, count, **kw):
        """A fixed, seeded list of items (used for val lists)."""
        rng = np.random.default_rng([seed, 991])
        return [self.item(rng, **kw) for _ in range(count)]
