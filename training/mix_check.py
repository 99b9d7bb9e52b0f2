"""Checks of the mix version 2 knobs on a cache (run by training/smoke.sh on generated data).

    /usr/bin/python3 -m training.mix_check CACHE_DIR
"""
import sys

import numpy as np

from .cache import Cache
from .mix import Mixer
from .pitch import semitones, utterance_f0


def main(cache_dir):
    c = Cache(cache_dir, "train")
    m = Mixer(c, seed=0, seconds=1.0, curriculum=[100, 200, 0.0])
    d = [m.difficulty(s) for s in (0, 100, 200, 300, 400)]
    assert d == [0.0, 0.0, 0.5, 1.0, 1.0], d
    assert Mixer(c, seed=0).difficulty(0) == 1.0, "no curriculum = full difficulty"

    # d = 0: no degradation at all, whatever the probabilities say.
    easy = Mixer(c, seed=0, seconds=1.0, p_bg=1.0, p_reverb=1.0, p_tel=1.0, p_clip=1.0, p_speed=1.0, p_codec=1.0)
    rng = np.random.default_rng(1)
    for _ in range(20):
        mix, ref = easy.item(rng, d=0.0)
        assert not ref[2].any(), "a background at difficulty 0"
        assert np.allclose(mix, ref.sum(0), atol=1e-6), "a degraded mixture at difficulty 0"
    _, ref = easy.item(np.random.default_rng(1), d=1.0)
    assert ref[2].any(), "no background at difficulty 1 with p_bg = 1"

    # anchor placement: a short utterance lands over the anchor span.
    n = 8 * 16000
    short = int(np.argmin(c.speech_idx[:, 1]))
    L = int(c.speech_idx[short, 1])
    assert L < n // 2, f"the smoke data needs an utterance under 4 s (shortest {L} samples)"
    for a0, al in ((0, n // 4), (n // 2, n // 2), (n - L, L)):
        for k in range(10):
            x = m.speech(np.random.default_rng(k), short, n, anchor=(a0, al))
            act = np.flatnonzero(np.abs(x[0]) > 1e-4)
            s, e = act[0], act[-1] + 1
            inside = max(0, min(e, a0 + al) - max(s, a0))
            assert inside >= min(e - s, al) * 0.9, (a0, al, s, e)
    # pitch: a harmonic voice-like tone is found within 2 %, noise and silence are unvoiced.
    t = np.arange(16000) / 16000
    for f0 in (95.0, 140.0, 230.0):
        tone = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 12))
        est = utterance_f0(tone)
        assert abs(est / f0 - 1) < 0.02, (f0, est)
    assert utterance_f0(np.random.default_rng(0).standard_normal(16000)) == 0.0, "white noise counted as voiced"
    assert utterance_f0(np.zeros(16000)) == 0.0 and utterance_f0(np.zeros(100)) == 0.0

    # close-pitch pairs: the partner is another speaker within the window, and the item draws it.
    cp = Mixer(c, seed=0, seconds=1.0, p_close_pitch=1.0, close_semitones=3.0, p_single=0.0)
    found = 0
    for a in range(len(c.speech_idx)):
        b = cp.close_pitch_partner(np.random.default_rng(a), a)
        if b is None:
            continue
        found += 1
        assert cp.spk[b] != cp.spk[a], "a close-pitch partner of the same speaker"
        assert semitones(cp.f0[a], cp.f0[b]) <= 3.0 + 1e-6, (cp.f0[a], cp.f0[b])
    assert found > 0, "the smoke data has no close-pitch pair"
    drawn = []
    cp.close_pitch_partner = lambda rng, a: drawn.append(a) or Mixer.close_pitch_partner(cp, rng, a)
    cp.item(np.random.default_rng(3))
    assert drawn, "p_close_pitch = 1 did not ask for a close-pitch partner"
    print("mix check ok: curriculum ramp, clean items at difficulty 0, overlap placement, pitch, close-pitch pairs")


if __name__ == "__main__":
    main(sys.argv[1])
