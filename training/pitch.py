"""Median voice pitch (F0) of an utterance, and a per-utterance table of it in the cache.

Why: on the val list the model separates pairs whose voices lie >= 6 semitones apart by ~5 dB SI-SNRi but
pairs within 3 semitones by ~1 dB (`python3 -m training.diagnose pitch CKPT`). The mixer can draw more
close-pitch pairs (`--mix p_close_pitch=P`), which needs each utterance's pitch.

The estimate is deliberately simple (normalised autocorrelation over the loudest 40 ms frames, median over
the voiced ones): it only has to sort voices into pitch neighbourhoods, not track intonation.
"""
import os

import numpy as np

SR = 16000
FRAME = 640  # 40 ms: at least two periods of a 60 Hz voice
F0_MIN, F0_MAX = 60.0, 400.0
VOICED = 0.3  # normalised autocorrelation peak a frame needs to count as voiced


def utterance_f0(x, sr=SR):
    """Median F0 in Hz over the voiced frames among the loudest of x (1-D float); 0.0 when none is voiced."""
    n = len(x) // FRAME
    if n == 0:
        return 0.0
    fr = np.asarray(x[:n * FRAME], np.float64).reshape(n, FRAME)
    fr = fr - fr.mean(1, keepdims=True)
    e = (fr ** 2).mean(1)
    fr = fr[e > 0.1 * e.max()] if e.max() > 0 else fr[:0]
    if len(fr) == 0:
        return 0.0
    spec = np.fft.rfft(fr, 2 * FRAME, axis=1)
    ac = np.fft.irfft(np.abs(spec) ** 2, axis=1)[:, :FRAME]
    lo, hi = int(sr / F0_MAX), int(sr / F0_MIN)
    lag = lo + np.argmax(ac[:, lo:hi], axis=1)
    peak = ac[np.arange(len(ac)), lag] / np.maximum(ac[:, 0], 1e-12)
    lag = lag[peak > VOICED]
    return float(np.median(sr / lag)) if len(lag) else 0.0


def semitones(f_a, f_b):
    """|pitch distance| in semitones; inf when either is unvoiced (0)."""
    f_a, f_b = np.asarray(f_a, np.float64), np.asarray(f_b, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.abs(12 * np.log2(f_a / f_b))
    return np.where((f_a > 0) & (f_b > 0), d, np.inf)


def f0_table(cache):
    """float32 [n_utterances] median F0 of every utterance of cache's split, computed once and kept in
    cache.dir/speech_<split>_f0.npy (rebuilt when the utterance count no longer matches)."""
    path = os.path.join(cache.dir, f"speech_{cache.split}_f0.npy")
    n = len(cache.speech_idx)
    if os.path.isfile(path):
        t = np.load(path)
        if len(t) == n:
            return t
    t = np.array([utterance_f0(cache.utt(i)) for i in range(n)], np.float32)
    np.save(path + ".tmp.npy", t)
    os.replace(path + ".tmp.npy", path)
    return t
