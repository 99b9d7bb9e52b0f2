"""Labelled crops of the train speakers, degraded the way separated speech reaches the associate stage.

Every batch is a pure function of (seed, step), as in training.mix: resuming continues the same stream.
Each item: one speaker (drawn uniformly over speakers, so the many one-clip Common Voice speakers and the
LibriSpeech readers weigh alike), one of their utterances, a crop of `seconds` (short clips are tiled), then with
some probability: another speaker leaking in at -25..-10 dB (what an imperfect separation leaves), a background at
0..25 dB SNR, a real or synthetic room, telephone or wideband band-limiting, the MP3/Opus round-trip of the cache.
"""
import numpy as np
from scipy.signal import fftconvolve, sosfilt

from ..mix import band_sos, rms, synth_noise, synth_rir

SR = 16000


class SpeakerCrops:
    def __init__(self, cache, seed, seconds=2.0, p_leak=0.4, p_bg=0.4, p_reverb=0.3, p_band=0.2, p_codec=0.2,
                 separated=None, p_separated=0.0):
        self.c, self.seed, self.n = cache, int(seed), int(seconds * SR)
        spk = np.asarray(cache.speech_idx[:, 2])
        self.speakers, self.labels = np.unique(spk, return_inverse=True)
        self.utts = [np.flatnonzero(self.labels == k) for k in range(len(self.speakers))]
        self.p = dict(leak=p_leak, bg=p_bg, reverb=p_reverb, band=p_band, codec=p_codec)
        # separated: (crops int16 [M, L], speaker ids [M]) from training.voiceprint.separated; a speaker who has some
        # is heard through the separator with probability p_separated
        self.p_separated = float(p_separated) if separated is not None else 0.0
        self.sep_crops, self.sep_of = None, {}
        if self.p_separated > 0:
            crops, ids = separated
            if crops.shape[1] < self.n:
                raise ValueError(f"separated crops of {crops.shape[1]} samples, shorter than the {self.n} of a training crop")
            k = np.searchsorted(self.speakers, ids)
            ok = (k < len(self.speakers)) & (self.speakers[np.minimum(k, len(self.speakers) - 1)] == ids)
            if not ok.any():
                raise ValueError("none of the separated crops belongs to a speaker of this split")
            self.sep_crops = crops
            for i in np.flatnonzero(ok):
                self.sep_of.setdefault(int(k[i]), []).append(int(i))

    @property
    def n_speakers(self):
        return len(self.speakers)

    def crop(self, rng, utt, variant=-1):
        x = self.c.utt(int(utt), variant)
        if len(x) < self.n:
            x = np.tile(x, self.n // max(1, len(x)) + 1)
        s = int(rng.integers(0, len(x) - self.n + 1))
        return x[s:s + self.n]

    def separated_item(self, rng, k):
        """A crop of one of speaker k's separated outputs: already degraded the way the app's speech is."""
        c = self.sep_crops[self.sep_of[k][int(rng.integers(len(self.sep_of[k])))]]
        s = int(rng.integers(0, c.shape[0] - self.n + 1))
        x = c[s:s + self.n].astype(np.float32)
        x = x * 10 ** (rng.uniform(-20, 0) / 20) * 0.1 / (rms(x) + 1e-8)
        return np.clip(x, -1, 1).astype(np.float32)

    def item(self, rng, k):
        if self.p_separated > 0 and k in self.sep_of and rng.random() < self.p_separated:
            return self.separated_item(rng, k)
        var = int(rng.integers(0, len(self.c.codecs))) if self.c.codecs and rng.random() < self.p["codec"] else -1
        x = self.crop(rng, rng.choice(self.utts[k]), var)
        x = x / (rms(x) + 1e-8)
        if rng.random() < self.p["reverb"]:
            h = synth_rir(rng) if rng.random() < 0.5 else np.asarray(self.c.rir_at(int(rng.integers(len(self.c.rir_idx)))), np.float32)
            x = fftconvolve(x, h)[:self.n]
        if rng.random() < self.p["leak"]:
            j = int(rng.integers(self.n_speakers - 1))
            j += j >= k
            y = self.crop(rng, rng.choice(self.utts[j]))
            x = x + y / (rms(y) + 1e-8) * rms(x) * 10 ** (rng.uniform(-25, -10) / 20)
        if rng.random() < self.p["bg"]:
            if rng.random() < 0.3:
                b = synth_noise(rng, self.n)
            else:
                i = int(rng.integers(len(self.c.bg_idx)))
                b = self.c.background(i, int(rng.integers(0, max(1, int(self.c.bg_idx[i, 1]) - self.n))), self.n)
                b = np.resize(b, self.n)
            x = x + b / (rms(b) + 1e-8) * rms(x) * 10 ** (-rng.uniform(0, 25) / 20)
        if rng.random() < self.p["band"]:
            lo, hi = (300, 3400) if rng.random() < 0.5 else (50, 7000)
            x = sosfilt(band_sos(lo, hi), x)
        x = x * 10 ** (rng.uniform(-20, 0) / 20) * 0.1 / (rms(x) + 1e-8)
        return np.clip(x, -1, 1).astype(np.float32)

    def batch(self, step, size):
        rng = np.random.default_rng([self.seed, int(step)])
        ks = rng.choice(self.n_speakers, size, replace=False)
        return np.stack([self.item(rng, int(k)) for k in ks]), ks.astype(np.int64)
