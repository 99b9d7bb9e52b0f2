"""VoxSplit separator: a chunked dual-path transformer over a learned encoder.

mixture [B, T] -> sources [B, S, T]   (S = 3: speaker A, speaker B, background)

* learned encoder: Conv1d(1, N, L, stride L/2) + ReLU; decoder: ConvTranspose1d(N, 1, L, L/2)
* the input is RMS-normalised inside the graph and the outputs scaled back, so the model
  is gain-invariant; all padding is constant-size and the output is cropped back to T, so
  any T works (including T not a multiple of the hop)
* dual-path blocks: intra-chunk self-attention (chunks of K frames) then inter-chunk
  attention restricted to a sliding window of +-R chunks (relative-position bias), so the
  cost is linear in the input length (no attention over all frames of a long input)
* masks: Linear(d -> S*N), then a softmax over the S sources (or per-output sigmoid, older runs),
  applied to the mixture spectrum
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

DEFAULT_CONFIG = {
    "arch": "voxsplit-dptnet/2",
    "n_src": 3,
    "enc_kernel": 256,   # samples (16 ms)
    "hop": 0,            # STFT hop in samples; 0: enc_kernel/2 (runs 0-7). With the STFT front end a longer window at
                         # the same hop (512/128) resolves voice harmonics (31 Hz bins) at the same frame rate, so the
                         # transformer's cost stays the same: oracle PSM 20.1 vs 18.1 dB on the clean val list
    "enc_dim": 256,
    "d_model": 128,
    "n_heads": 4,
    "ffn_dim": 256,
    "n_blocks": 4,
    "chunk": 50,         # frames per chunk
    "inter_radius": 8,   # chunks either side seen by inter-chunk attention
    "mask": "softmax",   # "sigmoid" (runs 1-3): ReLU masks died on the background output in run 0, and sigmoid masks
                         # saturated in run 3 (one speaker output = the whole mixture, mask 1.0, logit ~17: no
                         # gradient left); "softmax": the S masks of each bin sum to 1 (run 4), so the outputs
                         # share the mixture, sum to it exactly, and no output can pass it all through while another
                         # also takes a part
    "frontend": "stft",  # "stft": fixed DFT kernels (sqrt-Hann, n_fft = enc_kernel), log-magnitude features,
                         # magnitude masks, inverse via ConvTranspose1d; "learned": Conv1d encoder + ReLU
    "conv_kernel": 0,    # >0: a Conformer-style depthwise-conv module (this many frames) over the whole frame
                         # sequence before each dual-path block; 0: none (runs 0-3)
    "intra_rnn": 0,      # >0: the intra-chunk FFN is a BiLSTM of this hidden size + Linear (DPTNet's
                         # "improved transformer"); 0: the plain ReLU FFN (runs 0-3)
    "refine_ch": 0,      # >0: a time-frequency refiner (MaskRefiner, this many channels) after the mask head; 0: none
                         # (runs 0-8). The mask head maps one 128-d vector per frame to 3 x 257 bins (rank <= 128 over
                         # frequency), so it cannot follow one voice's harmonics bin by bin; the refiner sees the
                         # mixture's log spectrum next to the logits and corrects them locally (run 9)
    "front_ch": 0,       # >0: a convolutional front end (ConvFrontEnd, this many channels) over (frequency, time) of the
                         # log spectrum, added to the input projection; 0: none (runs 0-10). The input projection is one
                         # dense map per frame, so each voice's harmonic pattern must be learnt at every pitch apart;
                         # convolutions share their weights across frequency (the trunk, not the mask head, is what
                         # limits the model: with the trunk's output free, the trained head reaches 19.3 dB)
    "front_depth": 2,    # dilated 3x3 convs in the conv front end, dilations 2, 4, 8, ... bins: 2 (runs 11-14) reaches
                         # +-7 bins (+-220 Hz), 4 reaches +-31 bins (+-970 Hz: several harmonics of any voice)
    "front_phase": 0,    # 1: the conv front end also sees the phase: the unit phasor of each bin's advance over one
                         # hop, minus the advance of the bin's centre frequency (instantaneous frequency, places a
                         # harmonic to a fraction of a bin), and of the step from the bin below, minus that of a pulse
                         # at the frame's centre (where in the frame the energy sits: glottal pulses). Log-magnitude
                         # alone cannot tell two voices a semitone apart inside one 31 Hz bin; 0: magnitude only (runs
                         # 0-14). From scratch it learns faster than run 12 on the same batches (2026-12-07, sixteenth)
    "shift_blocks": 0,   # the last this many dual-path blocks see the frames in chunks offset by half a chunk (as
                         # Swin's shifted windows): with one chunk grid every frame at a chunk edge has context on one
                         # side only, and running the model on inputs delayed by part of a chunk and averaging gained
                         # 0.26 dB (diagnose phase-ensemble); 0: one grid (runs 0-9)
}

CONFIG_KEYS = tuple(DEFAULT_CONFIG.keys())


def stft_hop(c):
    """The hop a config means: its `hop`, or half the window (runs 0-7, configs without the key)."""
    return c["hop"] or c["enc_kernel"] // 2


def make_config(**over):
    c = dict(DEFAULT_CONFIG)
    for k, v in over.items():
        if k not in c:
            raise ValueError(f"unknown model config key {k!r}")
        c[k] = type(DEFAULT_CONFIG[k])(v)
    if c["enc_kernel"] % 2:
        raise ValueError("enc_kernel must be even")
    hop = stft_hop(c)
    if c["enc_kernel"] % hop or c["enc_kernel"] // hop not in (2, 4):
        raise ValueError("hop must be enc_kernel/2 or enc_kernel/4 (sqrt-Hann perfect reconstruction)")
    if c["hop"] and c["frontend"] != "stft":
        raise ValueError("hop applies to the stft front end only")
    if c["conv_kernel"] and c["conv_kernel"] % 2 == 0:
        raise ValueError("conv_kernel must be odd (same-length padding)")
    if c["mask"] not in ("sigmoid", "softmax", "relu"):
        raise ValueError(f"mask must be sigmoid, softmax or relu, not {c['mask']!r}")
    if c["refine_ch"] and not (c["frontend"] == "stft" and c["mask"] == "softmax"):
        raise ValueError("refine_ch needs the STFT front end and softmax masks")
    if c["d_model"] % c["n_heads"]:
        raise ValueError("d_model must be divisible by n_heads")
    if not 1 <= c["front_depth"] <= 6:
        raise ValueError("front_depth must be between 1 and 6")
    if c["front_phase"] not in (0, 1):
        raise ValueError("front_phase must be 0 or 1")
    if c["front_phase"] and not (c["front_ch"] and c["frontend"] == "stft"):
        raise ValueError("front_phase needs the conv front end (front_ch) over the STFT")
    if not 0 <= c["shift_blocks"] <= c["n_blocks"]:
        raise ValueError("shift_blocks must be between 0 and n_blocks")
    return c


def dft_kernels(n_fft, hop=None):
    """Analysis / synthesis kernels of a sqrt-periodic-Hann STFT with hop n_fft/2 or n_fft/4 (perfect reconstruction:
    the squared window, a periodic Hann, sums to n_fft / (2 hop) over the overlapping frames)."""
    hop = hop or n_fft // 2
    n = torch.arange(n_fft, dtype=torch.float64)
    w = torch.sqrt(0.5 - 0.5 * torch.cos(2 * math.pi * n / n_fft))
    k = torch.arange(n_fft // 2 + 1, dtype=torch.float64)[:, None]
    ang = 2 * math.pi * k * n[None] / n_fft
    an = torch.cat([w * torch.cos(ang), -w * torch.sin(ang)])
    c = torch.full((n_fft // 2 + 1, 1), 2.0, dtype=torch.float64)
    c[0] = c[-1] = 1.0
    sy = torch.cat([c * torch.cos(ang), -c * torch.sin(ang)]) * w / n_fft * (2 * hop / n_fft)
    return an.float().unsqueeze(1), sy.float().unsqueeze(1)


class FFN(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.fc1 = nn.Linear(d, h)
        self.fc2 = nn.Linear(h, d)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


class RNNFFN(nn.Module):
    """DPTNet's FFN: a BiLSTM over the chunk's frames then a Linear back to d (order without positions)."""

    def __init__(self, d, hidden):
        super().__init__()
        self.rnn = nn.LSTM(d, hidden, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * hidden, d)

    def forward(self, x):
        return self.fc(F.relu(self.rnn(x)[0]))


class ConvModule(nn.Module):
    """Conformer convolution module over frames [B, F, d]: local context that attention learns only slowly.
    LayerNorm instead of BatchNorm, so inference does not depend on batch statistics."""

    def __init__(self, d, kernel):
        super().__init__()
        self.ln = nn.LayerNorm(d)
        self.pw1 = nn.Linear(d, 2 * d)
        self.dw = nn.Conv1d(d, d, kernel, padding=kernel // 2, groups=d)
        self.ln2 = nn.LayerNorm(d)
        self.pw2 = nn.Linear(d, d)

    def forward(self, x):
        y = self.pw1(self.ln(x))
        y = y[..., : y.shape[-1] // 2] * torch.sigmoid(y[..., y.shape[-1] // 2:])  # GLU
        y = self.dw(y.transpose(1, 2)).transpose(1, 2)
        y = self.ln2(y)
        return x + self.pw2(y * torch.sigmoid(y))  # SiLU


class IntraLayer(nn.Module):
    """Pre-LN transformer layer with full attention inside a chunk of K frames."""

    def __init__(self, d, heads, ffn, chunk, rnn=0):
        super().__init__()
        self.h = heads
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.ffn = RNNFFN(d, rnn) if rnn else FFN(d, ffn)
        self.pos = nn.Parameter(torch.zeros(chunk, d))
        nn.init.normal_(self.pos, std=0.02)

    def forward(self, x):  # x [N, K, d]
        n, k, d = x.shape
        h = self.h
        y = self.ln1(x + self.pos)
        q, kk, v = self.qkv(y).reshape(n, k, 3, h, d // h).permute(2, 0, 3, 1, 4)
        a = torch.softmax(torch.matmul(q, kk.transpose(-1, -2)) * (1.0 / math.sqrt(d // h)), dim=-1)
        o = torch.matmul(a, v).permute(0, 2, 1, 3).reshape(n, k, d)
        x = x + self.proj(o)
        return x + self.ffn(self.ln2(x))


class InterLayer(nn.Module):
    """Pre-LN transformer layer over the chunk axis, attention limited to +-R chunks.

    Blocked band attention: the chunks are cut into blocks of R; the queries of block b attend to
    the keys of blocks b-1, b, b+1 (3R keys) through MatMuls, and a fixed band mask keeps exactly
    the keys within +-R. Same function as gathering a +-R window per query (the previous form),
    at a fraction of the cost: that gather and its elementwise products were 65 % of a training
    step and ~60 % of inference time. Cost stays linear in the input length; the 3-way Concat
    keeps WebGPU's limit of 8 storage buffers per stage.
    """

    def __init__(self, d, heads, ffn, radius):
        super().__init__()
        self.h = heads
        self.r = radius
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.ffn = FFN(d, ffn)
        self.rel = nn.Parameter(torch.zeros(2 * radius + 1, heads))
        r = radius
        off = torch.arange(3 * r)[None, :] - r - torch.arange(r)[:, None]  # key offset from the query [R, 3R]
        self.register_buffer("band_index", (off.clamp(-r, r) + r).reshape(-1), persistent=False)
        self.register_buffer("band_mask", ((off.abs() > r).float() * -1e4), persistent=False)

    def forward(self, x):  # x [N, C, d]
        n, c, d = x.shape
        h, r = self.h, self.r
        dh = d // h
        y = self.ln1(x)
        q, kk, v = self.qkv(y).reshape(n, c, 3, h, dh).permute(2, 0, 3, 1, 4)  # [N, h, C, dh]
        nb = (c + r - 1) // r
        extra = nb * r - c
        q = F.pad(q, (0, 0, 0, extra)).reshape(n, h, nb, r, dh)
        kp = F.pad(kk, (0, 0, r, extra + r)).reshape(n, h, nb + 2, r, dh)
        vp = F.pad(v, (0, 0, r, extra + r)).reshape(n, h, nb + 2, r, dh)
        kw = torch.cat([kp[:, :, :-2], kp[:, :, 1:-1], kp[:, :, 2:]], dim=3)  # [N, h, nb, 3R, dh]
        vw = torch.cat([vp[:, :, :-2], vp[:, :, 1:-1], vp[:, :, 2:]], dim=3)
        valid = F.pad(torch.ones_like(kk[:1, :1, :, :1]), (0, 0, r, extra + r)).reshape(1, 1, nb + 2, r)
        mw = torch.cat([valid[:, :, :-2], valid[:, :, 1:-1], valid[:, :, 2:]], dim=3).unsqueeze(3)  # [1, 1, nb, 1, 3R]
        bias = self.rel.index_select(0, self.band_index).reshape(r, 3 * r, h).permute(2, 0, 1)  # [h, R, 3R]
        s = torch.matmul(q, kw.transpose(-1, -2)) * (1.0 / math.sqrt(dh))  # [N, h, nb, R, 3R]
        s = s + bias.unsqueeze(1) + self.band_mask + (mw - 1.0) * 1e4
        a = torch.softmax(s, dim=-1)
        o = torch.matmul(a, vw).reshape(n, h, nb * r, dh)[:, :, :c]
        x = x + self.proj(o.permute(0, 2, 1, 3).reshape(n, c, d))
        return x + self.ffn(self.ln2(x))


class MaskRefiner(nn.Module):
    """Residual correction of the mask logits from the mixture's (normalised) log spectrum, by 2-D convolutions over
    (frequency, time). Dilations 1, 2, 4, 8 bins over frequency reach +-15 bins (+-470 Hz at 31 Hz bins: several
    harmonics of any voice), +-4 frames over time. The last convolution starts at zero, so a model grown with a
    refiner starts as exactly the function of the one it was copied from."""

    DILATIONS = (2, 4, 8)

    def __init__(self, n_src, ch):
        super().__init__()
        self.first = nn.Conv2d(1 + n_src, ch, 3, padding=1)
        self.mid = nn.ModuleList([nn.Conv2d(ch, ch, 3, padding=(dl, 1), dilation=(dl, 1)) for dl in self.DILATIONS])
        self.last = nn.Conv2d(ch, n_src, 1)
        nn.init.zeros_(self.last.weight)
        nn.init.zeros_(self.last.bias)

    def forward(self, feat, logits):  # feat [B, N, F], logits [B, S, N, F] -> corrected logits [B, S, N, F]
        h = F.relu(self.first(torch.cat([feat.unsqueeze(1), logits], 1)))
        for conv in self.mid:
            h = h + F.relu(conv(h))
        return logits + self.last(h)


class ConvFrontEnd(nn.Module):
    """Per-frame features from 2-D convolutions over (frequency, time) of the normalised log spectrum: the same small
    filters at every bin (a 3x3 conv, then `depth` convs dilated 2, 4, 8, ... bins over frequency; depth 2 reaches
    +-7 bins = +-220 Hz, two or three harmonics of a voice, and +-3 frames), then a few channels per bin projected to
    the model width. Grown onto a trained model (train.py --grow), its projection is zeroed (make_identity), so the
    grown model starts as exactly the old function; from scratch it starts random like every other layer
    (zero-started, it stayed out of early learning: diagnose clean-run, 2026-12-06). in_ch: 1 (the log spectrum) or 5
    (with the four channels of Separator.phase_features)."""

    OUT_CH = 8

    def __init__(self, nbins, ch, d, depth=DEFAULT_CONFIG["front_depth"], in_ch=1):
        super().__init__()
        self.first = nn.Conv2d(in_ch, ch, 3, padding=1)
        self.mid = nn.ModuleList([nn.Conv2d(ch, ch, 3, padding=(2 ** i, 1), dilation=(2 ** i, 1))
                                  for i in range(1, depth + 1)])
        self.squeeze = nn.Conv2d(ch, self.OUT_CH, 1)
        self.proj = nn.Linear(self.OUT_CH * nbins, d)

    def forward(self, feat, extra=None):  # feat [B, F, N], extra None or [B, C, N, F] -> [B, F, d]
        B, Fr, N = feat.shape
        x = feat.transpose(1, 2).unsqueeze(1)  # [B, 1, N, F]
        if extra is not None:
            x = torch.cat([x, extra], 1)
        if torch.is_autocast_cpu_enabled() or torch.is_autocast_enabled():
            # fp32 even under --bf16-front: torch 1.13's oneDNN AMX kernels return an inf/NaN weight gradient for an
            # undilated bfloat16 3x3 conv (2026-12-07, fourteenth); the dilated ones are sound, and this one is 3 % of
            # the front end's work. Only under autocast, so the exported graph stays as it was.
            with torch.autocast(x.device.type, enabled=False):
                h = F.relu(self.first(x.float()))  # [B, ch, N, F]
        else:
            h = F.relu(self.first(x))
        for conv in self.mid:
            h = h + F.relu(conv(h))
        h = F.relu(self.squeeze(h))  # [B, OUT_CH, N, F]
        return self.proj(h.permute(0, 3, 1, 2).reshape(B, Fr, self.OUT_CH * N))


class LeakGate(nn.Module):
    """Inference-only: fades a speaker output whose ~1 s energy sits far below the other speaker's, and gives its
    mask to the louder speaker. Why: with one voice the model leaks −13…−15 dB of it into the unused speaker output
    (target ≤ −20 dB); where both talk the two stay within a few dB, so the gate does not touch them. The masks still
    sum to one, so the outputs still sum to the input. No weights: any trained checkpoint can be exported with it.

    threshold_db: level of the quieter speaker relative to the louder where its gate is 0.5; knee_db: the sigmoid's
    width; frames: the energy window (125 frames of 8 ms ≈ 1 s)."""

    def __init__(self, threshold_db=-15.0, knee_db=2.0, frames=125):
        super().__init__()
        self.threshold_db, self.knee_db, self.frames = float(threshold_db), float(knee_db), int(frames) | 1

    def forward(self, m, mag2):  # m [B, S, N, F] masks (speakers first), mag2 [B, N, F] mixture power
        e = ((m[:, :2] * m[:, :2]) * mag2.unsqueeze(1)).sum(2)  # [B, 2, F] speaker output power per frame
        e = F.avg_pool1d(e, self.frames, stride=1, padding=self.frames // 2, count_include_pad=False)
        rel = 10.0 * torch.log10((e[:, 0:1] + 1e-8) / (e[:, 1:2] + 1e-8))  # speaker A relative to B [B, 1, F]
        ga = torch.sigmoid((rel - self.threshold_db) / self.knee_db).unsqueeze(2)  # [B, 1, 1, F]; ~1 unless far below
        gb = torch.sigmoid((-rel - self.threshold_db) / self.knee_db).unsqueeze(2)
        a, b = m[:, 0:1], m[:, 1:2]
        return torch.cat([ga * a + (1.0 - gb) * b, gb * b + (1.0 - ga) * a, m[:, 2:]], 1)


class Separator(nn.Module):
    def __init__(self, config=None):
        super().__init__()
        c = make_config(**(config or {}))
        self.config = c
        L, N, d = c["enc_kernel"], c["enc_dim"], c["d_model"]
        self.L, self.H, self.N, self.S, self.K = L, stft_hop(c), N, c["n_src"], c["chunk"]
        self.P = L - self.H  # front padding: the first output sample is covered by every overlapping frame
        self.stft = c["frontend"] == "stft"
        if self.stft:
            an, sy = dft_kernels(L, self.H)
            self.register_buffer("stft_analysis", an)   # [L+2, 1, L]  (re 0..L/2, im 0..L/2)
            self.register_buffer("stft_synthesis", sy)  # [L+2, 1, L]
            self.nbins = L // 2 + 1
            N = self.nbins
            self.N = N
        else:
            self.encoder = nn.Conv1d(1, N, L, stride=L // 2, bias=False)
            self.decoder = nn.ConvTranspose1d(N, 1, L, stride=L // 2, bias=False)
        self.in_norm = nn.LayerNorm(N)
        self.in_proj = nn.Linear(N, d)
        self.front = (ConvFrontEnd(N, c["front_ch"], d, c["front_depth"], in_ch=1 + 4 * c["front_phase"])
                      if c["front_ch"] else None)
        if c["front_phase"]:
            k = torch.arange(self.nbins, dtype=torch.float64)[:, None]
            adv = 2 * math.pi * k * self.H / L  # a bin-centre sinusoid's phase advance over one hop
            self.register_buffer("phase_demod", torch.stack([torch.cos(adv), torch.sin(adv)]).float())  # [2, nb, 1]
        self.front_bf16 = False  # a training setting, not part of the graph: see forward()
        self.intra = nn.ModuleList([IntraLayer(d, c["n_heads"], c["ffn_dim"], c["chunk"], c["intra_rnn"])
                                    for _ in range(c["n_blocks"])])
        self.convs = nn.ModuleList([ConvModule(d, c["conv_kernel"]) for _ in range(c["n_blocks"])]) if c["conv_kernel"] else None
        self.inter = nn.ModuleList([InterLayer(d, c["n_heads"], c["ffn_dim"], c["inter_radius"]) for _ in range(c["n_blocks"])])
        self.out_norm = nn.LayerNorm(d)
        self.mask = nn.Linear(d, self.S * N)
        self.refine = MaskRefiner(self.S, c["refine_ch"]) if c["refine_ch"] else None
        self.logits_out = nn.Identity()  # the final mask logits [B, F, S*N]: what the PSA loss hooks
        self.leak_gate = None  # a LeakGate at export (set_leak_gate; inference only, no weights); never while training

    def mask_activation(self, logits):
        """Mask head output [B, F, S*N] -> masks [B, F, S, N] (also used by the PSA loss and diagnose)."""
        z = logits.reshape(logits.shape[0], -1, self.S, self.N)
        kind = self.config["mask"]
        if kind == "softmax":
            return torch.softmax(z, dim=2)
        return torch.sigmoid(z) if kind == "sigmoid" else F.relu(z)

    def forward(self, mixture):  # [B, T]
        B = mixture.shape[0]
        T = mixture.shape[-1]
        H, L, K, N, S = self.H, self.L, self.K, self.N, self.S
        rms = torch.sqrt((mixture * mixture).mean(-1, keepdim=True) + 1e-8)
        x = (mixture / rms).unsqueeze(1)
        x = F.pad(x, (self.P, L))  # constant padding: output samples [P, P+T) are fully covered by frames
        if self.stft:
            spec = F.conv1d(x, self.stft_analysis, stride=H)  # [B, 2*nb, F]
            nb = self.nbins
            re, im = spec[:, :nb], spec[:, nb:]
            mag = torch.sqrt(re * re + im * im + 1e-10)
            e = torch.log(mag + 1e-4)  # log-magnitude features [B, nb, F]
        else:
            e = F.relu(self.encoder(x))  # [B, N, F]
        Fr = e.shape[-1]
        feat = self.in_norm(e.transpose(1, 2))  # [B, F, N]
        z = self.in_proj(feat)  # [B, F, d]
        if self.front is not None:
            # bfloat16 convolutions in training only (train.py --bf16-front): half a CPU training step went to them,
            # and their gradients keep the fp32 direction to a cosine of 0.93-0.9996 (2026-12-07, tenth). Eval,
            # val and export run fp32: what ships is the fp32 function.
            extra = self.phase_features(re, im, mag) if self.config["front_phase"] else None
            with torch.autocast(z.device.type, dtype=torch.bfloat16, enabled=self.front_bf16 and self.training):
                fz = self.front(feat, extra)
            z = z + (fz.float() if fz.dtype != z.dtype else fz)  # no Cast node in the exported fp32 graph
        d = z.shape[-1]
        z = F.pad(z, (0, 0, 0, K))  # pad frames by one chunk, then keep whole chunks
        nc = (Fr + K) // K
        z = z[:, : nc * K].reshape(B, nc, K, d)
        first_shifted = len(self.intra) - self.config["shift_blocks"]
        for i, (intra, inter) in enumerate(zip(self.intra, self.inter)):
            if i == first_shifted:  # half a chunk of zero frames in front (and the rest of a chunk behind)
                z = F.pad(z.reshape(B, nc * K, d), (0, 0, K // 2, K - K // 2))
                nc = nc + 1
                z = z.reshape(B, nc, K, d)
            if self.convs is not None:
                z = self.convs[i](z.reshape(B, nc * K, d)).reshape(B, nc, K, d)
            z = intra(z.reshape(B * nc, K, d)).reshape(B, nc, K, d)
            z = inter(z.transpose(1, 2).reshape(B * K, nc, d)).reshape(B, K, nc, d).transpose(1, 2)
        z = z.reshape(B, nc * K, d)
        z = z[:, K // 2: K // 2 + Fr] if first_shifted < len(self.intra) else z[:, :Fr]
        m = self.mask(self.out_norm(z))  # [B, F, S*N]
        if self.refine is not None:
            r = self.refine(feat.transpose(1, 2), m.reshape(B, Fr, S, N).permute(0, 2, 3, 1))
            m = r.permute(0, 3, 1, 2).reshape(B, Fr, S * N)
        m = self.logits_out(m)
        m = self.mask_activation(m).permute(0, 2, 3, 1)  # [B, S, N, F]
        if self.leak_gate is not None:
            m = self.leak_gate(m, spec[:, : self.nbins] ** 2 + spec[:, self.nbins:] ** 2)
        if self.stft and self.config["mask"] == "softmax":
            # The masks sum to one and the STFT reconstructs perfectly, so the last output is the input minus the
            # others: a third less synthesis, which was 23 % of the model's time (docs/performance.md).
            y = (m[:, : S - 1].unsqueeze(2) * spec.reshape(B, 1, 2, N, Fr)).reshape(B * (S - 1), 2 * N, Fr)
            out = F.conv_transpose1d(y, self.stft_synthesis, stride=H).reshape(B, S - 1, -1)[:, :, self.P:self.P + T]
            out = torch.cat([out, mixture.unsqueeze(1) / rms.unsqueeze(1) - out.sum(1, keepdim=True)], 1)
        else:
            if self.stft:
                y = (m.unsqueeze(2) * spec.reshape(B, 1, 2, N, Fr)).reshape(B * S, 2 * N, Fr)
                out = F.conv_transpose1d(y, self.stft_synthesis, stride=H).reshape(B, S, -1)
            else:
                y = (m * e.unsqueeze(1)).reshape(B * S, N, Fr)
                out = self.decoder(y).reshape(B, S, -1)
            out = out[:, :, self.P:self.P + T]
        return out * rms.unsqueeze(1)

    def phase_features(self, re, im, mag=None):
        """[B, nb, F] real and imaginary STFT (and its magnitude) -> [B, 4, nb, F]: cos and sin of the demodulated
        phase step over time (0 for a sinusoid at the bin's centre) and over frequency (0 for a pulse at the frame's
        centre); 0 where a bin has no energy or no neighbour."""
        mag = torch.sqrt(re * re + im * im + 1e-10) if mag is None else mag

        def step(dim):  # X conj(X one step back along dim) / |..|: the unit phasor of the phase step
            n = re.shape[dim]
            r1, i1, m1 = (t.narrow(dim, 1, n - 1) for t in (re, im, mag))
            r0, i0, m0 = (t.narrow(dim, 0, n - 1) for t in (re, im, mag))
            den = m1 * m0 + 1e-4
            return (r1 * r0 + i1 * i0) / den, (i1 * r0 - r1 * i0) / den

        c, s = self.phase_demod[0], self.phase_demod[1]
        pr, pi = step(2)
        tc, ts = F.pad(pr * c + pi * s, (1, 0)), F.pad(pi * c - pr * s, (1, 0))
        qr, qi = step(1)
        fc, fs = F.pad(-qr, (0, 0, 1, 0)), F.pad(-qi, (0, 0, 1, 0))  # times -1: a centred pulse's step
        return torch.stack([tc, ts, fc, fs], 1)

    def set_leak_gate(self, threshold_db):
        """Adds the inference-only LeakGate (None removes it). Refused (ValueError) unless the masks sum to one over
        an STFT, which is what lets the gate move mask between speakers without changing the outputs' sum."""
        if threshold_db is not None and not (self.stft and self.config["mask"] == "softmax"):
            raise ValueError("the leak gate needs the STFT front end and softmax masks (masks that sum to one)")
        self.leak_gate = None if threshold_db is None else LeakGate(threshold_db)

    def reconstruct(self, mixture):  # [B, T] -> [B, T]
        """The STFT front end's analysis then synthesis, no masks: the input again iff the kernels reconstruct
        perfectly (what lets forward() compute the last softmax output as the input minus the others)."""
        T = mixture.shape[-1]
        x = F.pad(mixture.unsqueeze(1), (self.P, self.L))
        y = F.conv_transpose1d(F.conv1d(x, self.stft_analysis, stride=self.H), self.stft_synthesis, stride=self.H)
        return y[:, 0, self.P:self.P + T]


RESIDUAL_OUTPUTS = ("proj.weight", "proj.bias", "ffn.fc2.weight", "ffn.fc2.bias")


def check_grown_shift(src_config, config):
    """A model grown by blocks appended after the copied ones starts as the same function only if every copied block
    keeps its chunk grid (shift_blocks): the shifted grid may start at a new block, or where the source's started.
    Refuses (ValueError) otherwise."""
    sc, c = make_config(**src_config), make_config(**config)
    first_src, first = sc["n_blocks"] - sc["shift_blocks"], c["n_blocks"] - c["shift_blocks"]
    ok = first == first_src if sc["shift_blocks"] else first >= sc["n_blocks"]
    if not ok:
        raise ValueError(f"shift_blocks {c['shift_blocks']} of {c['n_blocks']} blocks would move the chunk grid of "
                         f"blocks copied from a model with shift_blocks {sc['shift_blocks']} of {sc['n_blocks']}")


def make_identity(model, keys):
    """Zero the residual-branch outputs (attention projection, FFN output) of the transformer layers among `keys`
    (state-dict names), so those pre-LN layers pass their input through unchanged, and a new conv front end's
    projection, so it adds nothing yet: a model grown by new blocks or a front end starts as exactly the function of
    the smaller one it was copied from. Returns the keys zeroed."""
    sd = model.state_dict()
    done = [k for k in keys if (k.startswith(("intra.", "inter.")) and k.endswith(RESIDUAL_OUTPUTS))
            or k.startswith("front.proj.")]
    with torch.no_grad():
        for k in done:
            sd[k].zero_()
    return done


FREQUENCY_KEYS = ("in_norm.weight", "in_norm.bias", "in_proj.weight", "mask.weight", "mask.bias")


def _resample(t, n_new, axis):
    """Linear interpolation of `t` along `axis` from its bins (0..nyquist) onto n_new bins over the same range."""
    n_old = t.shape[axis]
    pos = torch.linspace(0, n_old - 1, n_new, dtype=torch.float64)
    lo = pos.floor().long().clamp(max=n_old - 2)
    frac = (pos - lo).to(t.dtype)
    a, b = t.index_select(axis, lo), t.index_select(axis, lo + 1)
    shape = [1] * t.dim()
    shape[axis] = n_new
    return a + (b - a) * frac.reshape(shape)


def refine_bins(model, src, src_config):
    """Fill the frequency-indexed weights of an STFT model from a state dict `src` trained with fewer bins (e.g. n_fft
    256 -> 512 at the same hop), interpolated over frequency so the refined model starts close to the old function:
    per-bin input norm and mask rows interpolated, input projection columns interpolated and scaled by the bin ratio
    (each old bin's feature is now spread over ~2 bins). Returns the keys filled. Refuses (ValueError) a change of
    hop: the transformer was trained on one frame rate."""
    own = model.state_dict()
    sc = make_config(**src_config)
    if any(k in src and src[k].shape != own[k].shape for k in FREQUENCY_KEYS) and stft_hop(sc) != model.H:
        raise ValueError(f"the per-bin weights can only be refined at the same hop ({stft_hop(sc)} "
                         f"samples in the source, {model.H} here)")
    S, n_new = model.S, model.N
    done = []
    with torch.no_grad():
        for k in FREQUENCY_KEYS:
            if k not in src or src[k].shape == own[k].shape:
                continue
            v = src[k].float()
            if k.startswith("in_norm."):
                own[k].copy_(_resample(v, n_new, 0))
            elif k == "in_proj.weight":
                own[k].copy_(_resample(v, n_new, 1) * (v.shape[1] / n_new))
            else:  # mask head rows are (source, bin)
                n_old = v.shape[0] // S
                r = v.reshape(S, n_old, *v.shape[1:])
                own[k].copy_(_resample(r, n_new, 1).reshape(S * n_new, *v.shape[1:]))
            done.append(k)
    model.load_state_dict(own)
    return done


def widen_front_inputs(model, src):
    """The conv front end's first conv grown from a source that saw fewer input channels (front_phase added to a
    magnitude-only model): the source's filters are kept for its channels and the new channels' start at zero, so the
    grown model starts as exactly the source's function. Returns the keys filled; refuses (ValueError) any other
    change of that conv's shape."""
    k = "front.first.weight"
    own = model.state_dict()
    if k not in src or k not in own or src[k].shape == own[k].shape:
        return []
    old, new = src[k], own[k]
    if old.shape[0] != new.shape[0] or old.shape[2:] != new.shape[2:] or old.shape[1] > new.shape[1]:
        raise ValueError(f"the front end's first conv {tuple(old.shape)} cannot grow into {tuple(new.shape)}")
    with torch.no_grad():
        new.zero_()
        new[:, : old.shape[1]].copy_(old)
    return [k]


def count_params(m):
    return sum(p.numel() for p in m.parameters())
