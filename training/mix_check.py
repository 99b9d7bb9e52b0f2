"""Checks of the mix version 2 knobs on a cache (run by training/smoke.sh on generated data).

    /usr/bin/python3 -m training.mix_check CACHE_DIR
"""
import sys

import numpy as np

from .cache import Cache
from .mix import Mixer


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
    print("mix check ok: curriculum ramp, clean items at difficulty 0, overlap placement")


if __name__ == "__main__":
    main(sys.argv[1])
