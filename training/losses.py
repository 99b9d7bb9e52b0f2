"""Losses (torch) and metrics (numpy) for 2 speakers + background."""
import numpy as np
import torch

EPS = 1e-8


def sisnr(est, ref):
    est = est - est.mean(-1, keepdim=True)
    ref = ref - ref.mean(-1, keepdim=True)
    proj = (est * ref).sum(-1, keepdim=True) / ((ref * ref).sum(-1, keepdim=True) + EPS) * ref
    noise = est - proj
    return 10 * torch.log10((proj * proj).sum(-1) / ((noise * noise).sum(-1) + EPS) + EPS)


def snr_thr(est, ref, tau=1e-3):
    """SNR with a soft 30 dB ceiling (tau) so that near-perfect items do not dominate."""
    r = (ref * ref).sum(-1)
    e = ((est - ref) ** 2).sum(-1)
    return 10 * torch.log10(r / (e + tau * r + EPS) + EPS)


def silence(est, mix, floor_db=-30.0):
    """Output energy relative to the mixture, in dB, softly floored at floor_db (bounded reward, so that
    silencing an output never outweighs separating: run 0 with a -40 dB floor killed the background output)."""
    return 10 * torch.log10((est * est).sum(-1) / ((mix * mix).sum(-1) + EPS) + 10 ** (floor_db / 10))


def separation_loss(est, ref, mix, bg_weight=0.5, scale_weight=0.1):
    """est, ref [B, 3, T]; mix [B, T]. Returns (loss, per-item speaker-SI-SNR under the best permutation)."""
    active = (ref * ref).sum(-1) > 1e-10  # [B, 3]

    def spk(e, r, act):
        term = -sisnr(e, r) - scale_weight * snr_thr(e, r)
        return torch.where(act, term, silence(e, mix))

    p0 = spk(est[:, 0], ref[:, 0], active[:, 0]) + spk(est[:, 1], ref[:, 1], active[:, 1])
    p1 = spk(est[:, 0], ref[:, 1], active[:, 1]) + spk(est[:, 1], ref[:, 0], active[:, 0])
    sp = torch.minimum(p0, p1) / 2
    bgl = torch.where(active[:, 2], -snr_thr(est[:, 2], ref[:, 2]), silence(est[:, 2], mix))
    return (sp + bg_weight * bgl).mean()


@torch.no_grad()
def batch_sisnri(est, ref, mix):
    """Mean PIT SI-SNR improvement of the speaker outputs over the two-speaker items of a batch
    (the separation itself, without the loss's background and silence terms), or None."""
    two = ((ref[:, :2] ** 2).sum(-1) > 1e-10).all(-1)
    if not bool(two.any()):
        return None
    e, r, m = est[two], ref[two], mix[two]
    a = (sisnr(e[:, 0], r[:, 0]) + sisnr(e[:, 1], r[:, 1])) / 2
    b = (sisnr(e[:, 0], r[:, 1]) + sisnr(e[:, 1], r[:, 0])) / 2
    base = (sisnr(m, r[:, 0]) + sisnr(m, r[:, 1])) / 2
    return float((torch.maximum(a, b) - base).mean())


# ---- numpy metrics --------------------------------------------------------------

def np_sisnr(est, ref):
    est = est.astype(np.float64) - est.mean()
    ref = ref.astype(np.float64) - ref.mean()
    proj = np.dot(est, ref) / (np.dot(ref, ref) + EPS) * ref
    noise = est - proj
    return float(10 * np.log10(np.dot(proj, proj) / (np.dot(noise, noise) + EPS) + EPS))


def pit2(est, ref):
    """est [>=2, T] (first two = speakers), ref [2, T]. Returns (mean SI-SNR, perm)."""
    a = np_sisnr(est[0], ref[0]) + np_sisnr(est[1], ref[1])
    b = np_sisnr(est[0], ref[1]) + np_sisnr(est[1], ref[0])
    return (a / 2, (0, 1)) if a >= b else (b / 2, (1, 0))


def sisnri_2spk(est, ref, mix):
    s, _ = pit2(est, ref)
    base = (np_sisnr(mix, ref[0]) + np_sisnr(mix, ref[1])) / 2
    return s - base, s
