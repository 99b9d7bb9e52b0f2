"""Checks of the loss terms (run by training/smoke.sh): the hinge gives no reward for muting below its target,
the logit-spread penalty is zero only for equal logits, the default loss is the runs 0-4 one, the PSA loss is
order-invariant and reachable, psm=W adds W x the PSA loss to a time-domain loss, single_hinge charges only single-speaker items, and cap=DB bounds
the SI-SNR of a pass-through."""
import sys

import torch

from .losses import TrainingLoss, mask_spread, psm_loss, separation_loss, silence, silence_hinge, sisnr
from .model import Separator
from .train import parse_loss


def refused(call, what):
    try:
        call()
    except ValueError:
        return
    raise AssertionError(f"{what} accepted")


def main():
    g = torch.Generator().manual_seed(0)
    mix = torch.randn(2, 16000, generator=g)
    db = lambda e: float(silence_hinge(e, mix).mean())  # noqa: E731
    assert db(mix * 10 ** (-40 / 20)) == 0.0, "hinge must be 0 below -25 dB"
    assert abs(db(mix * 10 ** (-6 / 20)) - 19.0) < 0.05, db(mix * 10 ** (-6 / 20))
    # one speaker: the other output at -30 dB and at -60 dB cost the same under the hinge, not under the floor
    ref = torch.zeros(2, 3, 16000)
    ref[:, 0] = mix
    est = lambda lvl: torch.stack([mix, mix * 10 ** (lvl / 20), torch.zeros_like(mix)], 1)  # noqa: E731
    h30, h60 = (float(separation_loss(est(v), ref, mix, quiet="hinge")) for v in (-30, -60))
    f30, f60 = (float(separation_loss(est(v), ref, mix)) for v in (-30, -60))
    assert abs(h30 - h60) < 1e-4, (h30, h60)
    assert f60 < f30 - 0.5, (f30, f60)
    assert float(silence(mix * 1e-3, mix).mean()) < -29.0
    z = torch.zeros(2, 10, 3 * 5)
    assert float(mask_spread(z + 3.0, 3)) == 0.0
    z[..., :5] = 4.0
    assert float(mask_spread(z, 3)) > 1.0
    # PSA loss: invariant to the speaker order, and masks can reach ~0 loss on a clean two-speaker mixture
    model = Separator({"enc_kernel": 64, "d_model": 32, "n_heads": 2, "ffn_dim": 32, "n_blocks": 1, "chunk": 10,
                       "inter_radius": 2})
    ref = torch.randn(2, 3, 8000, generator=g)
    ref[:, 2] = 0
    mix = ref.sum(1)
    cap = {}
    model.mask.register_forward_hook(lambda _m, _i, out: cap.__setitem__("logits", out))
    model(mix)
    lg = cap["logits"].detach().clone().requires_grad_(True)
    a, b = float(psm_loss(model, lg, ref, mix)), float(psm_loss(model, lg, ref[:, [1, 0, 2]], mix))
    assert abs(a - b) < 1e-6 and a > 0.05, (a, b)
    opt = torch.optim.Adam([lg], lr=0.3)
    for _ in range(150):
        loss = psm_loss(model, lg, ref, mix)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss) < 0.01 * a, (float(loss), a)
    # psm=W: the time-domain loss plus exactly W x the PSA loss on the same forward pass; refused with speaker=psm
    plain = TrainingLoss(model, {"speaker": "sisnr", "quiet": "hinge"})
    anchored = TrainingLoss(model, {"speaker": "sisnr", "quiet": "hinge", "psm": 10.0})
    est = model(mix)
    p0, p1 = float(plain(est, ref, mix)), float(anchored(est, ref, mix))
    psa = float(psm_loss(model, anchored.logits, ref, mix))
    assert psa > 0 and abs(p1 - (p0 + 10.0 * psa)) < 1e-4 * max(1.0, abs(p1)), (p0, p1, psa)
    # single_hinge=W: W x (dB of the quieter speaker output above -25 dB) on single-speaker items only
    one = ref.clone()
    one[:, 1] = 0
    m1 = one.sum(1)
    lvl = lambda db_: torch.stack([m1, m1 * 10 ** (db_ / 20), torch.zeros_like(m1)], 1)  # noqa: E731
    sh = TrainingLoss(model, {"speaker": "sisnr", "quiet": "hinge", "single_hinge": 0.5})
    extra = [float(sh(lvl(v), one, m1)) - float(plain(lvl(v), one, m1)) for v in (-10.0, -40.0)]
    assert abs(extra[0] - 0.5 * 15.0) < 0.05 and abs(extra[1]) < 1e-6, extra
    assert float(sh(lvl(-10.0), ref, mix)) == float(plain(lvl(-10.0), ref, mix)), "no hinge on two-speaker items"
    # cap=DB: a perfect single-speaker item (the mixture passed through) scores about cap, not ~80 dB; below it ~ the same
    near = one[:, 0] + 1e-6 * torch.randn_like(one[:, 0])
    free, capped = float(sisnr(near, one[:, 0]).mean()), float(sisnr(near, one[:, 0], 30.0).mean())
    assert free > 60 and 29.0 < capped <= 30.0, (free, capped)
    # below the cap the ceiling is exactly -10 log10(10^(-s/10) + 10^(-cap/10)): at ~10 dB that is ~0.05 dB lower
    noisy = one[:, 0] + 0.3 * torch.randn(one[:, 0].shape, generator=g) * one[:, 0].std()
    s_free, s_cap = sisnr(noisy, one[:, 0]), sisnr(noisy, one[:, 0], 30.0)
    expect = -10 * torch.log10(10 ** (-s_free / 10) + 10 ** (-30.0 / 10))
    assert float((s_cap - expect).abs().max()) < 1e-3 and float((s_free - s_cap).max()) < 0.2, (s_free, s_cap)
    cp = TrainingLoss(model, {"speaker": "sisnr", "quiet": "hinge", "cap": 30.0})
    pass_through = torch.stack([m1, torch.zeros_like(m1), torch.zeros_like(m1)], 1)
    assert float(cp(pass_through, one, m1)) > float(plain(pass_through, one, m1)) + 5, "cap bounds the pass-through reward"
    refused(lambda: TrainingLoss(model, {"speaker": "psm", "psm": 1.0}), "speaker=psm with psm=W")
    # bg_weight=W scales the background term of both losses: doubling it adds exactly the default term once more
    # (each TrainingLoss reads the logits of the forward pass after it, through its hook)
    bg_parts = []
    for w in (0.5, 1.0):
        tl = TrainingLoss(model, {"speaker": "sisnr", "quiet": "hinge", "psm": 10.0, "bg_weight": w})
        bg_parts.append(float(tl(model(mix), ref, mix)))
    one_bg = float(separation_loss(est, ref, mix, bg_weight=0.5, speaker="sisnr", quiet="hinge")
                   - separation_loss(est, ref, mix, bg_weight=0.0, speaker="sisnr", quiet="hinge"))
    one_bg += 10.0 * float(psm_loss(model, anchored.logits, ref, mix, 0.5) - psm_loss(model, anchored.logits, ref, mix, 0.0))
    assert abs(bg_parts[1] - bg_parts[0] - one_bg) < 1e-3 * max(1.0, abs(one_bg)), (bg_parts, one_bg)
    assert parse_loss(["bg_weight=1.5"]) == {"bg_weight": 1.5}
    assert parse_loss(["cap=30"]) == {"cap": 30.0}
    for bad in (["speaker=snr", "cap=30"], ["speaker=psm", "cap=30"]):
        refused(lambda: parse_loss(bad), "--loss " + " ".join(bad))
    print(f"loss check ok: hinge has no reward below -25 dB, floor does; logit spread 0 only for equal logits; "
          f"PSA loss order-invariant, {a:.3f} -> {float(loss):.5f} with free masks; psm=10 adds 10 x {psa:.4f}; single_hinge charges a -10 dB unused output {extra[0]:.2f}, a -40 dB one 0; "
          f"cap=30 holds a pass-through at {capped:.1f} dB (unbounded {free:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
