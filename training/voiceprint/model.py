"""Log-mel TDNN with statistics pooling (x-vector family), small enough for a browser: [B, T] audio -> [B, D] unit vectors.

The STFT is a Conv1d with fixed DFT kernels (as in the separator: torch.stft does not export at opset 17); the
log-mel features are normalised per utterance over time (cepstral mean normalisation), so a constant channel (a
microphone, a room's colouring) moves them less.
"""
import math

import torch
from torch import nn
import torch.nn.functional as F

from ..model import dft_kernels

SR = 16000
DEFAULTS = {"arch": "voxsplit-voiceprint/1", "n_fft": 512, "hop": 160, "n_mels": 40, "channels": 256, "emb_dim": 128}


def make_config(**over):
    unknown = set(over) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown voiceprint config keys: {', '.join(sorted(unknown))}")
    return dict(DEFAULTS, **over)


def mel_filterbank(n_fft, n_mels, sr=SR, fmin=60.0, fmax=7600.0):
    hz = lambda m: 700.0 * (10 ** (m / 2595.0) - 1)  # noqa: E731
    mel = lambda h: 2595.0 * math.log10(1 + h / 700.0)  # noqa: E731
    pts = torch.tensor([hz(m) for m in torch.linspace(mel(fmin), mel(fmax), n_mels + 2).tolist()], dtype=torch.float64)
    bins = torch.arange(n_fft // 2 + 1, dtype=torch.float64) * sr / n_fft
    lo, c, hi = pts[:-2, None], pts[1:-1, None], pts[2:, None]
    fb = torch.clamp(torch.minimum((bins - lo) / (c - lo), (hi - bins) / (hi - c)), min=0.0)
    return fb.float()  # [n_mels, n_fft/2+1]


class VoicePrint(nn.Module):
    def __init__(self, config=None):
        super().__init__()
        c = make_config(**(config or {}))
        self.config = c
        an, _ = dft_kernels(c["n_fft"])
        self.register_buffer("stft_analysis", an)                  # [n_fft+2, 1, n_fft]
        self.register_buffer("mel", mel_filterbank(c["n_fft"], c["n_mels"]))
        C = c["channels"]
        layers = [(c["n_mels"], C, 5, 1), (C, C, 3, 2), (C, C, 3, 3), (C, C, 1, 1), (C, 3 * C // 2, 1, 1)]
        self.tdnn = nn.ModuleList(nn.Conv1d(i, o, k, dilation=d, padding=d * (k - 1) // 2) for i, o, k, d in layers)
        self.norms = nn.ModuleList(nn.BatchNorm1d(o) for _, o, _, _ in layers)
        self.embed = nn.Linear(3 * C, c["emb_dim"])

    def features(self, x):  # [B, T] -> [B, n_mels, frames]
        nb = self.config["n_fft"] // 2 + 1
        spec = F.conv1d(x.unsqueeze(1), self.stft_analysis, stride=self.config["hop"])
        power = spec[:, :nb] ** 2 + spec[:, nb:] ** 2
        logmel = torch.log(torch.matmul(self.mel, power) + 1e-6)
        return logmel - logmel.mean(-1, keepdim=True)

    def forward(self, x):
        h = self.features(x)
        for conv, bn in zip(self.tdnn, self.norms):
            h = bn(F.relu(conv(h)))
        stats = torch.cat([h.mean(-1), torch.sqrt(h.var(-1, unbiased=False) + 1e-5)], 1)
        return F.normalize(self.embed(stats), dim=-1)


class AAMSoftmax(nn.Module):
    """Additive angular margin softmax (ArcFace): pulls a speaker's embeddings together by a margin in angle."""

    def __init__(self, emb_dim, n_classes, margin=0.2, scale=30.0):
        super().__init__()
        self.w = nn.Parameter(torch.randn(n_classes, emb_dim) * 0.01)
        self.m, self.s = margin, scale

    def forward(self, emb, labels):
        cos = F.linear(emb, F.normalize(self.w, dim=-1)).clamp(-1 + 1e-7, 1 - 1e-7)
        target = torch.cos(torch.acos(cos.gather(1, labels[:, None])) + self.m)
        logits = cos.scatter(1, labels[:, None], target) * self.s
        return F.cross_entropy(logits, labels), (cos.argmax(1) == labels).float().mean()


def count_params(m):
    return sum(p.numel() for p in m.parameters())
