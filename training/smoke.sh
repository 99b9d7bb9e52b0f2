#!/usr/bin/env bash
# CI smoke test of the model pipeline, without ../shared: generated audio, a tiny model.
#   training/smoke.sh            (exit non-zero on any failure; a few minutes on 2 cores)
# Steps: generate data -> cache (and refusal of a wrong sample rate) -> a few training steps ->
# checkpoint save/resume equality -> config-mismatch and NaN refusals -> export -> onnxruntime-node
# parity -> quantize twice + byte compare -> manifest -> eval on the tiny set (+ contract/data refusals).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
PY=/usr/bin/python3
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
W="$(mktemp -d /tmp/voxsplit-smoke.XXXXXX)"
trap 'rm -rf "$W"' EXIT
step() { echo "== smoke: $*"; }
die() { echo "SMOKE FAILED: $*" >&2; exit 1; }
expect_rc() {  # expect_rc RC what cmd...
  local want=$1 what=$2; shift 2
  set +e; "$@" >"$W/out.txt" 2>&1; local rc=$?; set -e
  [ "$rc" = "$want" ] || { cat "$W/out.txt" >&2; die "$what: exit $rc, expected $want"; }
  grep -q "error" "$W/out.txt" || { cat "$W/out.txt" >&2; die "$what: no error message"; }
  echo "   ok ($what -> exit $rc: $(grep -m1 error "$W/out.txt" | cut -c1-150))"
}

same_function() {  # same_function SMALL.pt GROWN.pt 'assertion on small, big' WHAT: a grown model starts as the same function
  "$PY" - "$@" <<'EOF' || die "$4 is not the same function as the model it grew from"
import sys, torch
from training import checkpoint as ck
from training.model import Separator, make_config
models = []
for p in sys.argv[1:3]:
    st = ck.load(p)
    m = Separator(make_config(**st["config"]))
    m.load_state_dict(st["model"])
    models.append(m.eval())
small, big = models
assert eval(sys.argv[3]), sys.argv[3]
x = torch.randn(2, 5003, generator=torch.Generator().manual_seed(1))
with torch.no_grad():
    d = float((small(x) - big(x)).abs().max())
assert d < 1e-6, d
print(f"   {sys.argv[4]} = original to {d:.1e}")
EOF
}

for t in "$PY" node ffmpeg; do command -v "$t" >/dev/null || die "missing $t (run training/setup.sh)"; done
"$PY" -c "import torch, onnx, numpy, scipy, soundfile" || die "python modules missing (run training/setup.sh)"

step "generate data + cache"
"$PY" -m training.smoke_data "$W/data" >/dev/null
"$PY" -m training.cache --data "$W/data" --out "$W/cache" --workers 1 >/dev/null
"$PY" -m training.smoke_data "$W/badrate" --bad-rate >/dev/null
expect_rc 2 "cache with an 8 kHz file" "$PY" -m training.cache --data "$W/badrate" --out "$W/cache-bad" --workers 1
expect_rc 2 "cache with missing data" "$PY" -m training.cache --data "$W/nonexistent" --out "$W/cache-none"

CFG=(--config enc_kernel=32 enc_dim=32 d_model=32 n_heads=2 ffn_dim=32 n_blocks=1 chunk=10 inter_radius=2)
TR=(-m training.train --cache "$W/cache" --batch 2 --seconds 1 --val-items 2 --val-every 2 --log-every 1)
MIX=(--mix p_overlap=0.8 curriculum=0,3,0.0)
step "mix v2 knobs, loss terms"
"$PY" -m training.mix_check "$W/cache"
"$PY" -m training.loss_check
step "train 4 steps straight, and 2 + resume 2 (the resumed run takes the mix from the checkpoint)"
"$PY" "${TR[@]}" "${CFG[@]}" "${MIX[@]}" --ema 0.9 --ckpt "$W/a/latest.pt" --max-steps 4 >/dev/null
"$PY" "${TR[@]}" "${CFG[@]}" "${MIX[@]}" --ema 0.9 --ckpt "$W/b/latest.pt" --max-steps 2 >/dev/null
"$PY" "${TR[@]}" --ckpt "$W/b/latest.pt" --max-steps 4 >/dev/null
"$PY" -m training.resume_check "$W/a/latest.pt" "$W/b/latest.pt" || die "resume is not exact (weights, Adam, RNG, weight EMA)"
step "weight EMA and checkpoint averaging: the EMA arithmetic, scored in the log, exported by training.average"
"$PY" - "$W/a/latest.pt" <<'EOF' || die "weight EMA is wrong"
import sys, torch
from training import checkpoint as ck
from training.ema import WeightEMA
m = torch.nn.Linear(3, 2)
e = WeightEMA(m, 0.9)
w0 = m.weight.detach().clone()
with torch.no_grad():
    m.weight.add_(1.0)
e.update(m)
assert torch.allclose(e.state["weight"], w0 + 0.1), "one update of decay 0.9 moves the average 0.1 of the way"
a = ck.load(sys.argv[1])
assert a["hparams"]["ema"] == 0.9 and set(a["ema"]) == set(a["model"])
assert any(not torch.equal(a["ema"][k], a["model"][k]) for k in a["model"]), "the EMA equals the weights after 4 steps"
EOF
awk -F'\t' 'NR > 1 && $3 != "" && $8 == "" {bad = 1} END {exit bad}' "$W/a/train_log.tsv" || die "a val row without the EMA score"
"$PY" -m training.average --ema "$W/a-ema.pt" "$W/a/latest.pt" >/dev/null
"$PY" -m training.average "$W/a-mean.pt" "$W/a/latest.pt" "$W/a-ema.pt" >/dev/null
"$PY" - "$W/a/latest.pt" "$W/a-ema.pt" "$W/a-mean.pt" <<'EOF' || die "training.average is wrong"
import sys, torch
from training import checkpoint as ck
a, e, m = (ck.load(p) for p in sys.argv[1:])
k = "mask.weight"
assert torch.equal(e["model"][k], a["ema"][k]) and "ema" not in e and e["hparams"]["weights"] == "ema"
assert torch.allclose(m["model"][k], (a["model"][k] + a["ema"][k]) / 2, atol=1e-7) and m["hparams"]["averaged_steps"] == [4, 4]
EOF
"$PY" -m training.export --ckpt "$W/a-mean.pt" --out "$W/a-mean.onnx" >/dev/null || die "an averaged checkpoint does not export"
[ "$(wc -l < "$W/a/train_log.tsv")" -ge 5 ] || die "training log too short"
expect_rc 3 "unknown --mix key" "$PY" "${TR[@]}" --ckpt "$W/c/latest.pt" --max-steps 1 --mix p_nonsense=1
expect_rc 3 "a --mix share outside 0..1" "$PY" "${TR[@]}" --ckpt "$W/c/latest.pt" --max-steps 1 --mix p_reverb=45
expect_rc 2 "diagnose throughput --config without --ckpt" "$PY" -m training.diagnose throughput --config d_model=192
"$PY" -m training.diagnose curves "$W/a/train_log.tsv" "$W/a/train_log.tsv" --bin 2 > "$W/curves.txt"
grep -q '^1-2	' "$W/curves.txt" || die "diagnose curves does not bin a trainer log"
expect_rc 2 "diagnose curves on a file that is no trainer log" "$PY" -m training.diagnose curves "$W/a-mean.onnx"
expect_rc 3 "unknown --loss key" "$PY" "${TR[@]}" --ckpt "$W/c/latest.pt" --max-steps 1 --loss p_nonsense=1
"$PY" "${TR[@]}" "${CFG[@]}" --ckpt "$W/l/latest.pt" --max-steps 2 --loss quiet=hinge logit_l2=0.01 >/dev/null
"$PY" "${TR[@]}" --ckpt "$W/l/latest.pt" --max-steps 3 >/dev/null
expect_rc 3 "--ema out of range on resume" "$PY" "${TR[@]}" --ckpt "$W/a/latest.pt" --max-steps 5 --ema 1.5
grep -q "EMA changed" "$W/out.txt" && die "a refused --ema was reported as changed"
expect_rc 3 "--ema on a checkpoint without EMA weights" "$PY" -m training.average --ema "$W/x.pt" "$W/l/latest.pt"
"$PY" "${TR[@]}" "${CFG[@]}" --ckpt "$W/p/latest.pt" --max-steps 2 --loss speaker=psm >/dev/null
expect_rc 3 "PSA loss without the STFT front end" "$PY" "${TR[@]}" "${CFG[@]}" frontend=learned --ckpt "$W/q/latest.pt" --max-steps 1 --loss speaker=psm
"$PY" -c "
from training import checkpoint as ck
h = ck.load('$W/l/latest.pt')['hparams']
assert h['loss'] == {'quiet': 'hinge', 'logit_l2': 0.01} and ck.load('$W/l/latest.pt')['step'] == 3, h" || die "loss settings not kept on resume"
"$PY" -c "import torch; torch.load('$W/a/latest.pt', weights_only=True)" || die "checkpoint not loadable with weights_only=True"

step "bfloat16 front end: kept on resume, gradients follow fp32, eval and export untouched"
"$PY" "${TR[@]}" "${CFG[@]}" front_ch=4 --ckpt "$W/h/latest.pt" --max-steps 2 --bf16-front on >/dev/null
"$PY" "${TR[@]}" --ckpt "$W/h/latest.pt" --max-steps 3 >/dev/null
"$PY" - "$W/h/latest.pt" <<'EOF' || die "the bfloat16 front end is wrong"
import sys, torch
from training import checkpoint as ck
from training.model import Separator, make_config
from training.train import bf16_front_cosine
st = ck.load(sys.argv[1])
assert st["hparams"]["bf16_front"] is True and st["step"] == 3, st["hparams"]
torch.manual_seed(0)
m = Separator(make_config(enc_kernel=64, hop=16, d_model=32, n_heads=2, ffn_dim=32, n_blocks=1, chunk=10, inter_radius=2, front_ch=4))
x, ref = torch.randn(2, 4000), torch.randn(2, 3, 4000)
m.train()
cos = bf16_front_cosine(m, lambda: ((m(x) - ref) ** 2).mean())
assert cos > 0.98, f"bf16 front-end gradients off the fp32 direction: cosine {cos}"
m.front_bf16 = True
with torch.no_grad():
    y_train = m(x)
    m.eval()
    y1 = m(x)
    m.front_bf16 = False
    y0 = m(x)
assert torch.equal(y0, y1), "the bf16 setting changed the eval (shipped) function"
assert not torch.equal(y_train, y0), "bf16 was not used in training mode"
from training.train import bf16_front_sound
m.train()
ok, cos = bf16_front_sound(m, lambda: ((m(x) - ref) ** 2).mean())
assert ok and m.front_bf16, f"a sound bf16 front end refused: cosine {cos}"
rng = torch.get_rng_state()
ok, _ = bf16_front_sound(m, lambda: ((m(x) - ref) ** 2).mean() * (float("inf") if m.front_bf16 else 1.0))
assert not ok, "a non-finite bf16 gradient (torch 1.13's AMX kernels) was not caught"
assert torch.equal(rng, torch.get_rng_state()) and all(p.grad is None for p in m.parameters()), "the check left RNG or gradients behind"
# the shipped front end at a training batch's shape: where oneDNN takes its AMX kernels (Sapphire Rapids and later)
# an undilated bfloat16 conv gave an inf weight gradient here (2026-12-07); elsewhere this passes either way
from training.model import ConvFrontEnd
f, feat, g = ConvFrontEnd(257, 16, 128), torch.randn(4, 504, 257), []
for on in (False, True):
    f.zero_grad()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=on):
        f(feat).float().square().mean().backward()
    g.append(torch.cat([p.grad.flatten() for p in f.parameters()]))
cos = float(g[0] @ g[1] / (g[0].norm() * g[1].norm()))
assert cos > 0.98, f"bf16 gradient of the shipped-size front end off the fp32 one: cosine {cos}"
EOF

step "refusals: config mismatch, NaN loss"
expect_rc 3 "mismatched config" "$PY" "${TR[@]}" --ckpt "$W/a/latest.pt" --max-steps 5 --config d_model=64
cp "$W/a/latest.pt" "$W/a-before.pt"
expect_rc 4 "NaN loss" "$PY" "${TR[@]}" --ckpt "$W/a/latest.pt" --max-steps 8 --debug-nan-step 5
cmp -s "$W/a/latest.pt" "$W/a-before.pt" || die "NaN run changed the last good checkpoint"

step "warm start: --init-from copies every weight but the mask head"
"$PY" "${TR[@]}" "${CFG[@]}" --ckpt "$W/w/latest.pt" --max-steps 0 --init-from "$W/a/latest.pt" >/dev/null
"$PY" - "$W/a/latest.pt" "$W/w/latest.pt" <<'EOF' || die "warm start did not copy the trunk"
import sys, torch
from training import checkpoint as ck
a, w = (ck.load(p) for p in sys.argv[1:])
same = [k for k in a["model"] if torch.equal(a["model"][k], w["model"][k])]
assert sorted(set(a["model"]) - set(same)) == ["mask.bias", "mask.weight"], sorted(set(a["model"]) - set(same))
assert w["step"] == 0 and "init_from" in w["hparams"]
EOF
step "grow: --init-from --grow into 2 blocks starts as the same function as the 1-block checkpoint"
"$PY" "${TR[@]}" --config enc_kernel=32 enc_dim=32 d_model=32 n_heads=2 ffn_dim=32 n_blocks=2 chunk=10 inter_radius=2 \
  --ckpt "$W/g/latest.pt" --max-steps 0 --init-from "$W/a/latest.pt" --grow >/dev/null
same_function "$W/a/latest.pt" "$W/g/latest.pt" 'big.config["n_blocks"] == 2 and small.config["n_blocks"] == 1' "grown model"
expect_rc 3 "grow over frequency with another hop" "$PY" "${TR[@]}" --config enc_kernel=64 enc_dim=32 d_model=32 n_heads=2 ffn_dim=32 n_blocks=2 chunk=10 inter_radius=2 \
  --ckpt "$W/g2/latest.pt" --max-steps 0 --init-from "$W/a/latest.pt" --grow
step "grow by blocks on a chunk grid offset by half a chunk (shift_blocks): same function, trains, export parity"
SCFG=(--config enc_kernel=32 enc_dim=32 d_model=32 n_heads=2 ffn_dim=32 n_blocks=3 chunk=10 inter_radius=2 shift_blocks=2)
"$PY" "${TR[@]}" "${SCFG[@]}" --ckpt "$W/s/latest.pt" --max-steps 0 --init-from "$W/a/latest.pt" --grow >/dev/null
same_function "$W/a/latest.pt" "$W/s/latest.pt" 'big.config["shift_blocks"] == 2 and small.config["shift_blocks"] == 0' "model grown by 2 shifted blocks"
"$PY" "${TR[@]}" "${SCFG[@]}" --ckpt "$W/s2/latest.pt" --max-steps 2 --init-from "$W/a/latest.pt" --grow --loss speaker=psm >/dev/null
"$PY" -m training.export --ckpt "$W/s2/latest.pt" --out "$W/s-fp32.onnx" --parity-dir "$W/parity-s" >/dev/null
node training/js/parity.mjs "$W/s-fp32.onnx" "$W/parity-s" | tail -1 | sed 's/^/   with shifted blocks: /'
expect_rc 3 "grow that would shift a copied block's chunk grid" "$PY" "${TR[@]}" --config enc_kernel=32 enc_dim=32 d_model=32 \
  n_heads=2 ffn_dim=32 n_blocks=2 chunk=10 inter_radius=2 shift_blocks=2 --ckpt "$W/s3/latest.pt" --max-steps 0 --init-from "$W/a/latest.pt" --grow
step "grow over frequency: n_fft 32 -> 64 at hop 16 (per-bin weights interpolated, perfect reconstruction kept)"
"$PY" "${TR[@]}" --config enc_kernel=64 hop=16 enc_dim=32 d_model=32 n_heads=2 ffn_dim=32 n_blocks=1 chunk=10 inter_radius=2 \
  --ckpt "$W/f/latest.pt" --max-steps 0 --init-from "$W/a/latest.pt" --grow >/dev/null
"$PY" - "$W/a/latest.pt" "$W/f/latest.pt" <<'EOF' || die "grow over frequency is wrong"
import sys, torch
from training import checkpoint as ck
from training.model import Separator, make_config
a, f = (ck.load(p) for p in sys.argv[1:])
for k in ("in_norm.weight", "in_norm.bias"):  # interpolated: same end points, 2x the bins
    assert f["model"][k].shape[0] == 33 and a["model"][k].shape[0] == 17, k
    assert torch.allclose(f["model"][k][[0, -1]], a["model"][k][[0, -1]]) and torch.allclose(f["model"][k][2], a["model"][k][1]), k
assert torch.equal(f["model"]["intra.0.qkv.weight"], a["model"]["intra.0.qkv.weight"])
m = Separator(make_config(**f["config"])).eval()
m.load_state_dict(f["model"])
x = torch.randn(2, 5003, generator=torch.Generator().manual_seed(2))
with torch.no_grad():
    y, r = m(x), m.reconstruct(x)
d = float((r - x).abs().max())  # the grown kernels still reconstruct perfectly
assert y.shape == (2, 3, 5003) and d < 1e-4, d
print(f"   analysis + synthesis gives the input back to {d:.1e}")
EOF
step "grow a mask refiner: starts as the same function, trains its own lr group (kept on resume), export parity"
TINY=(enc_kernel=32 enc_dim=32 d_model=32 n_heads=2 ffn_dim=32 n_blocks=1 chunk=10 inter_radius=2)
export_parity() {  # export_parity CKPT NAME LABEL: fp32 export of CKPT, PyTorch vs onnxruntime-node parity printed
  "$PY" -m training.export --ckpt "$1" --out "$W/$2-fp32.onnx" --parity-dir "$W/parity-$2" >/dev/null
  node training/js/parity.mjs "$W/$2-fp32.onnx" "$W/parity-$2" | tail -1 | sed "s/^/   $3: /"
}
RCFG=(--config "${TINY[@]}" refine_ch=4)
"$PY" "${TR[@]}" "${RCFG[@]}" --ckpt "$W/r/latest.pt" --max-steps 0 --init-from "$W/a/latest.pt" --grow >/dev/null
same_function "$W/a/latest.pt" "$W/r/latest.pt" 'big.refine is not None and small.refine is None' "model + zero-started refiner"
"$PY" "${TR[@]}" "${RCFG[@]}" --ckpt "$W/r2/latest.pt" --max-steps 2 --init-from "$W/a/latest.pt" --grow --refine-lr-mult 7 \
  --loss speaker=psm >/dev/null
"$PY" "${TR[@]}" --ckpt "$W/r2/latest.pt" --max-steps 3 >/dev/null
"$PY" - "$W/a/latest.pt" "$W/r2/latest.pt" <<'EOF' || die "refiner did not train in its own lr group"
import sys, torch
from training import checkpoint as ck
a, r = (ck.load(p) for p in sys.argv[1:])
groups = r["optim"]["param_groups"]
assert [g["mult"] for g in groups] == [1.0, 7.0] and r["hparams"]["refine_lr_mult"] == 7.0 and r["step"] == 3, groups
assert float(r["model"]["refine.last.weight"].abs().max()) > 0, "the refiner's last layer is still zero"
EOF
export_parity "$W/r2/latest.pt" r "with a refiner"
step "grow a conv front end: starts as the same function, trains in the add-on lr group, export parity"
FCFG=(--config "${TINY[@]}" front_ch=4)
"$PY" "${TR[@]}" "${FCFG[@]}" --ckpt "$W/cf/latest.pt" --max-steps 0 --init-from "$W/a/latest.pt" --grow >/dev/null
same_function "$W/a/latest.pt" "$W/cf/latest.pt" 'big.front is not None and small.front is None' "model + zero-started front end"
"$PY" "${TR[@]}" "${FCFG[@]}" --ckpt "$W/cf2/latest.pt" --max-steps 2 --init-from "$W/a/latest.pt" --grow --refine-lr-mult 5 \
  --loss speaker=psm >/dev/null
"$PY" - "$W/cf2/latest.pt" <<'EOF' || die "the front end did not train in the add-on lr group"
import sys
from training import checkpoint as ck
r = ck.load(sys.argv[1])
assert [g["mult"] for g in r["optim"]["param_groups"]] == [1.0, 5.0], r["optim"]["param_groups"]
assert float(r["model"]["front.proj.weight"].abs().max()) > 0, "the front end's projection is still zero"
EOF
export_parity "$W/cf2/latest.pt" cf "with a conv front end"
"$PY" "${TR[@]}" --config "${TINY[@]}" front_ch=4 front_depth=3 --ckpt "$W/cd/latest.pt" --max-steps 1 >/dev/null
export_parity "$W/cd/latest.pt" cd "with a deeper conv front end (front_depth 3)"
step "phase features in the conv front end: a sinusoid's demodulated phase steps, training, export parity"
"$PY" - <<'EOF' || die "the front end's phase features are wrong"
import math, torch
import torch.nn.functional as F
from training.model import Separator, make_config
m = Separator(make_config(enc_kernel=64, hop=16, d_model=32, n_heads=2, ffn_dim=32, n_blocks=1, chunk=10, inter_radius=2,
                          front_ch=4, front_phase=1))
t = torch.arange(4000, dtype=torch.float64)
for df in (0.0, 40.0, -40.0):  # a sinusoid off bin 5's centre by df Hz advances df * 2 pi * hop / 16000 more per hop
    x = torch.cos(2 * math.pi * (5 * 16000 / 64 + df) * t / 16000).float()[None]
    spec = F.conv1d(F.pad(x.unsqueeze(1), (m.P, m.L)), m.stft_analysis, stride=m.H)
    ph = m.phase_features(spec[:, :m.nbins], spec[:, m.nbins:])
    got = float(torch.atan2(ph[0, 1, 5, 20:200], ph[0, 0, 5, 20:200]).mean())
    assert abs(got - 2 * math.pi * df * 16 / 16000) < 1e-3, (df, got)
fr = 64
x = torch.zeros(1, 4000)
x[0, fr * m.H + m.L // 2 - m.P] = 1.0  # a pulse: its step from bin to bin is 0 in the frame whose centre it sits on
spec = F.conv1d(F.pad(x.unsqueeze(1), (m.P, m.L)), m.stft_analysis, stride=m.H)
ph = m.phase_features(spec[:, :m.nbins], spec[:, m.nbins:])
assert float(ph[0, 2, 1:, fr].min()) > 0.999 and float(ph[0, 3, 1:, fr].abs().max()) < 1e-3, ph[0, 2:, :, fr]
EOF
"$PY" "${TR[@]}" --config "${TINY[@]}" front_ch=4 front_phase=1 --ckpt "$W/cp/latest.pt" --max-steps 1 >/dev/null
export_parity "$W/cp/latest.pt" cp "with phase features in the conv front end"
"$PY" "${TR[@]}" --config "${TINY[@]}" front_ch=4 front_phase=1 --ckpt "$W/cpg/latest.pt" --max-steps 0 --init-from "$W/cf2/latest.pt" \
  --grow >/dev/null
same_function "$W/cf2/latest.pt" "$W/cpg/latest.pt" 'big.front.first.in_channels == 5 and small.front.first.in_channels == 1' \
  "a conv front end grown to see the phase"
expect_rc 3 "a conv front end grown to see less" "$PY" "${TR[@]}" --config "${TINY[@]}" front_ch=4 --ckpt "$W/cpl/latest.pt" \
  --max-steps 0 --init-from "$W/cpg/latest.pt" --grow
expect_rc 3 "front_phase without the conv front end" "$PY" "${TR[@]}" --config "${TINY[@]}" front_phase=1 --ckpt "$W/cp0/latest.pt" --max-steps 0
expect_rc 3 "front_depth 0" "$PY" "${TR[@]}" --config "${TINY[@]}" front_ch=4 front_depth=0 --ckpt "$W/cd0/latest.pt" --max-steps 0
expect_rc 3 "a refiner on per-output sigmoid masks" "$PY" "${TR[@]}" "${RCFG[@]}" mask=sigmoid --ckpt "$W/r3/latest.pt" --max-steps 0
expect_rc 3 "--grow without --init-from" "$PY" "${TR[@]}" --ckpt "$W/y/latest.pt" --max-steps 0 --grow
expect_rc 3 "warm start from a checkpoint no weight of which fits" "$PY" "${TR[@]}" --ckpt "$W/x/latest.pt" --max-steps 0 \
  --config enc_kernel=64 d_model=48 n_heads=2 ffn_dim=40 chunk=10 inter_radius=3 n_blocks=1 --init-from "$W/a/latest.pt"

step "GPU session tooling, on CPU: pack (Opus through libopus) -> unpack -> resume with workers, a new batch, re-warm-up -> join"
"$PY" -m training.pack pack --cache "$W/cache" --out "$W/pack" --workers 1 >/dev/null
"$PY" -m training.pack check --cache "$W/cache" --pack "$W/pack" --workers 1 --min-snr 3 | grep -E "SNR|identical" | sed 's/^/   /'
timeout 300 "$PY" - "$W/cache" <<'EOF' || die "mixing ahead in worker processes changes the batches (or hung)"
import sys, numpy as np
from training.cache import Cache
from training.mix import Mixer
from training.train import BatchFeed
m = Mixer(Cache(sys.argv[1], "train"), seed=3, seconds=1.0)
feed = BatchFeed(m, 2, 2)
for step in (5, 6, 7, 9):
    got, want = feed.get(step), m.batch(step, 2)
    assert all(np.array_equal(g, w) for g, w in zip(got, want)), step
feed.close()
print("   batches mixed in 2 worker processes = batches mixed in the training process")
EOF
cp "$W/a/latest.pt" "$W/gpu-start.pt"
OUT="$W/gpu-out" WORK="$W/gpu-work" DEVICE=cpu BATCH=3 WORKERS=2 PY="$PY" CKPT="$W/gpu-start.pt" PACK="$W/pack" \
  timeout 300 bash training/gpu_session.sh train 5 --max-steps 7 --rewarm 2 >/dev/null
CKPT="$W/gpu-start.pt" LOG="$W/gpu-log.tsv" bash training/gpu_session.sh join "$W/gpu-out" | sed 's/^/   /'
"$PY" -c "
from training import checkpoint as ck
s = ck.load('$W/gpu-start.pt')
assert s['step'] == 7 and s['hparams']['batch'] == 3 and s['hparams']['rewarm'] == [4, 2], (s['step'], s['hparams'])
rows = [r.split('\\t') for r in open('$W/gpu-log.tsv').read().splitlines()]
assert rows and rows[-1][0] == '7', rows" || die "GPU session round trip is wrong"
OUT="$W/gpu-out2" WORK="$W/gpu-work" DEVICE=cpu BATCH=2 WORKERS=1 PY="$PY" CKPT="$W/a/latest.pt" PACK="$W/pack" GROW=1 \
  timeout 300 bash training/gpu_session.sh train 5 --max-steps 2 --config enc_kernel=32 enc_dim=32 d_model=32 n_heads=2 ffn_dim=32 \
  n_blocks=2 chunk=10 inter_radius=2 >/dev/null
"$PY" -c "
from training import checkpoint as ck
import glob
open('$W/grown.pt', 'wb').write(b''.join(open(p, 'rb').read() for p in sorted(glob.glob('$W/gpu-out2/ckpt.part*'))))
s = ck.load('$W/grown.pt')
assert s['step'] == 2 and s['config']['n_blocks'] == 2 and 'grown' in s['hparams']['init_from'], s['hparams']" \
  || die "GROW=1 did not start a grown run"
printf 'x' >> "$W/gpu-out/ckpt.part00"
expect_rc 2 "join of a damaged checkpoint piece" env CKPT="$W/gpu-start.pt" LOG="$W/gpu-log.tsv" bash training/gpu_session.sh join "$W/gpu-out"
expect_rc 4 "GPU session stopped by a NaN loss" env OUT="$W/gpu-out3" WORK="$W/gpu-work" DEVICE=cpu BATCH=3 WORKERS=1 \
  PY="$PY" CKPT="$W/gpu-start.pt" PACK="$W/pack" timeout 300 bash training/gpu_session.sh train 5 --max-steps 12 --debug-nan-step 8
"$PY" -c "
from training import checkpoint as ck
import glob
open('$W/nan.pt', 'wb').write(b''.join(open(p, 'rb').read() for p in sorted(glob.glob('$W/gpu-out3/ckpt.part*'))))
assert ck.load('$W/nan.pt')['step'] == 7" || die "a GPU session stopped by a NaN loss did not return its last good checkpoint"

step "export + parity (onnxruntime-node vs PyTorch)"
"$PY" -m training.export --ckpt "$W/a/latest.pt" --out "$W/m-fp32.onnx" --parity-dir "$W/parity" >/dev/null
node training/js/parity.mjs "$W/m-fp32.onnx" "$W/parity" | tail -1
"$PY" -m training.export --ckpt "$W/f/latest.pt" --out "$W/f-fp32.onnx" --parity-dir "$W/parity-f" >/dev/null
node training/js/parity.mjs "$W/f-fp32.onnx" "$W/parity-f" | tail -1 | sed 's/^/   n_fft 64, hop 16: /'
"$PY" - "$W/m-fp32.onnx" "$W/f-fp32.onnx" <<'EOF' || die "the DFT kernels are not built inside the graph"
import sys, onnx, torch
from training.dft_graph import build_kernels_in_graph, reference_kernels
from training.model import dft_kernels
for path in sys.argv[1:]:
    names = [t.name for t in onnx.load(path).graph.initializer]
    assert not any(n.startswith("stft_") for n in names), names  # built by the graph, not stored
for n_fft, hop in ((512, 128), (256, 128), (64, 16)):
    an, sy = reference_kernels(n_fft, hop)
    want_an, want_sy = dft_kernels(n_fft, hop)
    assert abs(an - want_an.numpy()).max() < 1e-6 and abs(sy - want_sy.numpy()).max() < 1e-6, (n_fft, hop)
an, sy = dft_kernels(64, 16)
m = onnx.helper.make_model(onnx.helper.make_graph([], "g", [], [], [onnx.numpy_helper.from_array(an.numpy(), "stft_analysis"),
                                                                      onnx.numpy_helper.from_array(sy.numpy(), "stft_synthesis")]))
try:
    build_kernels_in_graph(m, 32)  # kernels of hop 16 stored, hop 32 claimed: must refuse
    raise SystemExit("mismatched kernels accepted")
except ValueError as e:
    assert "differs" in str(e), e
print("   DFT kernels built in the graph (no stored stft_* tensors); a mismatched stored kernel is refused")
EOF

step "leak gate: fades a far quieter speaker output into the louder, keeps the sum; export parity with it"
"$PY" - "$W/a/latest.pt" <<'EOF' || die "leak gate is wrong"
import sys, torch
from training import checkpoint as ck
from training.model import LeakGate, Separator, make_config
g = LeakGate(-15.0, 2.0, frames=5)
Fr, N = 40, 6
mag2 = torch.ones(1, N, Fr)
m = torch.zeros(1, 3, N, Fr)
m[:, 0], m[:, 1], m[:, 2] = 0.6, 0.3, 0.1           # frames 0-19: the two speakers 6 dB apart: ~untouched (1 % moves)
m[:, 0, :, 20:], m[:, 1, :, 20:] = 0.88, 0.02        # frames 20-39: B 33 dB below A: faded into A
o = g(m, mag2)
assert torch.allclose(o.sum(1), m.sum(1), atol=1e-6), "masks no longer sum as before"
assert (o[:, :, :, :15] - m[:, :, :, :15]).abs().max() < 0.005, "a 6 dB difference was gated (more than 2 % of a mask moved)"
assert o[0, 1, :, 25:].max() < 1e-4 and torch.allclose(o[0, 0, :, 25:], torch.tensor(0.9), atol=1e-4), o[0, :2, 0, 25:]
assert torch.equal(o[:, 2], m[:, 2]), "the background mask changed"
st = ck.load(sys.argv[1])
net = Separator(make_config(**st["config"])).eval()
net.load_state_dict(st["model"])
x = torch.randn(1, 7001, generator=torch.Generator().manual_seed(3))
with torch.no_grad():
    plain = net(x)
    net.set_leak_gate(-15.0)
    y = net(x)
d = float((y.sum(1) - x).abs().max())
assert d < 1e-4, d
assert set(net.state_dict()) == set(st["model"]), "the gate added state"
print(f"   gate: 6 dB apart moved < 2 %, 33 dB apart faded; outputs sum to the input to {d:.1e}; "
      f"changed the random model's speaker outputs by {float((y - plain)[:, :2].abs().max()):.1e}")
EOF
"$PY" -m training.export --ckpt "$W/a/latest.pt" --leak-gate -15 --out "$W/gate-fp32.onnx" --parity-dir "$W/parity-gate" >/dev/null
"$PY" -c "import onnx; m = onnx.load('$W/gate-fp32.onnx'); assert {p.key: p.value for p in m.metadata_props}['voxsplit_leak_gate_db'] == '-15.0'" \
  || die "leak gate threshold not in the graph metadata"
node training/js/parity.mjs "$W/gate-fp32.onnx" "$W/parity-gate" | tail -1 | sed 's/^/   with the leak gate: /'
expect_rc 3 "--leak-gate on a model with per-output sigmoid masks" "$PY" -m training.export --random --leak-gate -15 \
  --config enc_kernel=32 enc_dim=32 d_model=32 n_heads=2 ffn_dim=32 n_blocks=1 chunk=10 inter_radius=2 mask=sigmoid --out "$W/gate-sig.onnx"
expect_rc 2 "--leak-gate above 0 dB" "$PY" -m training.export --ckpt "$W/a/latest.pt" --leak-gate 3 --out "$W/gate-bad.onnx"

step "quantize twice, compare bytes; manifest"
mkdir -p "$W/pub"
"$PY" -m training.quantize "$W/m-fp32.onnx" "$W/pub/q1.onnx" >/dev/null
"$PY" -m training.quantize "$W/m-fp32.onnx" "$W/pub/q2.onnx" --manifest "$W/pub/manifest.json" >/dev/null
cmp "$W/pub/q1.onnx" "$W/pub/q2.onnx" || die "quantization is not deterministic"
"$PY" - "$W/pub" <<'EOF' || die "manifest invalid"
import hashlib, json, os, sys
d = sys.argv[1]
m = json.load(open(os.path.join(d, "manifest.json")))
assert m["format"] == "voxsplit-model-manifest/1" and m["opset"] == 17 and m["sampleRate"] == 16000
assert m["input"] == {"name": "mixture", "dtype": "float32", "shape": [1, "T"]}
assert m["output"] == {"name": "sources", "dtype": "float32", "shape": [1, 3, "T"]}
assert [s["index"] for s in m["sources"]] == [0, 1, 2]
a = m["artifacts"][0]
b = open(os.path.join(d, a["file"]), "rb").read()
assert a["bytes"] == len(b) and a["sha256"] == hashlib.sha256(b).hexdigest()
assert 0 <= m["chunking"]["overlapSeconds"] * 2 < m["chunking"]["chunkSeconds"]
for k in ("trainingSteps", "trainingWallHours", "seed", "commit", "data", "modelCard", "valSiSnriCleanDb"):
    assert k in m["provenance"], k
print("   manifest ok")
EOF

step "eval on the tiny generated set"
training/eval "$W/pub/q1.onnx" --cache "$W/cache" --items 2 --seconds 1 --json "$W/eval.json" | tail -4
"$PY" -c "import json; r=json.load(open('$W/eval.json')); assert all(k in r for k in ('clean','bg','reverb','tel300','tel50','mp3','opus','single','single_bg','oracle_psm','rtf'))" \
  || die "eval output incomplete"
training/eval "$W/pub/q1.onnx" --cache "$W/cache" --items 2 --seconds 1 --no-oracle --seed 5 --json "$W/eval5.json" >/dev/null
"$PY" -c "
import json
a, b = json.load(open('$W/eval.json')), json.load(open('$W/eval5.json'))
assert a['seed'] == 777 and b['seed'] == 5, (a['seed'], b['seed'])
assert a['clean']['si_snr_db'] != b['clean']['si_snr_db'], 'another --seed drew the same list'" || die "eval --seed"
"$PY" -m training.compare "$W/eval.json" "$W/eval.json" > /dev/null || die "compare: a model is not as good as itself"
"$PY" -c "import json; r=json.load(open('$W/eval.json')); r['opus']['si_snri_db'] -= 1; json.dump(r, open('$W/worse.json', 'w'))"
set +e; "$PY" -m training.compare "$W/worse.json" "$W/eval.json" > "$W/compare.out"; rc=$?; set -e
[ "$rc" = 1 ] && grep -q "worse on opus SI-SNRi" "$W/compare.out" || die "compare: a worse candidate was not refused (exit $rc)"
"$PY" -m training.compare "$W/worse.json" "$W/eval.json" --accept "opus SI-SNRi" > /dev/null \
  || die "compare: a regression accepted by name still failed"
expect_rc 2 "compare --accept of an unknown figure" "$PY" -m training.compare "$W/worse.json" "$W/eval.json" --accept "no such figure"
"$PY" -m training.compare "$W/eval.json,$W/eval5.json" "$W/eval5.json,$W/eval.json" > /dev/null \
  || die "compare: the same two lists in another order are not equal"
set +e; "$PY" -m training.compare "$W/worse.json,$W/eval5.json" "$W/eval.json,$W/eval5.json" > "$W/compare2.out"; rc=$?; set -e
[ "$rc" = 1 ] && grep -q "over 2 lists" "$W/compare2.out" && grep -q "worse on opus SI-SNRi" "$W/compare2.out" \
  || die "compare: a candidate worse on the mean of two lists was not refused (exit $rc)"
expect_rc 2 "compare of 2 candidate lists with 1 shipped" "$PY" -m training.compare "$W/eval.json,$W/eval5.json" "$W/eval.json"
echo "   ok (compare: the same model passes, one 1 dB worse on Opus is refused unless accepted by name, also on the mean of two lists)"
"$PY" - "$W/m-fp32.onnx" "$W/broken.onnx" <<'EOF'
import sys, onnx
m = onnx.load(sys.argv[1])
old = m.graph.output[0].name
m.graph.output[0].name = "separated"
for n in m.graph.node:
    n.output[:] = ["separated" if o == old else o for o in n.output]
onnx.save(m, sys.argv[2])
EOF
step "real-meeting check (training.meetings): labelled frames scored right, the CLI on a generated meeting"
"$PY" - <<'EOF' || die "training.meetings scores constructed outputs wrongly"
import numpy as np
from training.meetings import score_file
SR = 16000
turns = [(0.0, 4.0, "p1"), (4.0, 8.0, "p2"), (6.0, 8.0, "p1")]  # p1 alone, p2 alone, then both
rng = np.random.default_rng(0)
v1, v2 = rng.standard_normal(8 * SR) * 0.1, rng.standard_normal(8 * SR) * 0.1
on = lambda s, e: (np.arange(8 * SR) >= s * SR) & (np.arange(8 * SR) < e * SR)
p1 = v1 * (on(0, 4) | on(6, 8)); p2 = v2 * on(4, 8)
good = score_file(np.stack([p2, p1, 0.001 * v1]), turns, 0.5, 1.0)  # each person on their own track (B, A)
assert good["two_person"] == 1.0 and all(c == 1.0 for c, _ in good["consistency"].values()), good
assert good["solo_frames"] == 12 and good["overlap_frames"] == 4 and max(good["solo_leak"]) < -60, good
assert max(abs(v) for v in good["overlap_split"]) < 1.0, good["overlap_split"]
lumped = score_file(np.stack([p1 + p2, 0 * p1, 0.001 * v1]), turns, 0.5, 1.0)  # no separation: one track has both
assert lumped["two_person"] == 0.5 and max(lumped["overlap_split"]) < -60, lumped
print("   one voice per track: two-person 1.00, overlap split ~0 dB; both voices on one track: 0.50, < -60 dB")
EOF
"$PY" -m training.meetings "$W/pub/q1.onnx" --data "$W/data" --min-solo 0.5 --json "$W/meet.json" | tail -5 | sed 's/^/   /'
"$PY" -c "import json; s = json.load(open('$W/meet.json'))['summary']; assert s['files'] == 1 and s['frames']['solo'] > 0, s" \
  || die "the meeting check found no labelled frames in the generated meeting"
expect_rc 2 "meeting check without meetings" "$PY" -m training.meetings "$W/pub/q1.onnx" --data "$W/nodata"
step "voiceprint (associate stage): train 4 steps straight and 2 + resume 2, publish next to the separator, conversation scoring"
VP=(-m training.voiceprint.train --cache "$W/cache" --batch 4 --seconds 1 --val-speakers 2 --val-every 2 --log-every 1)
"$PY" "${VP[@]}" --config channels=16 emb_dim=8 --ckpt "$W/vpa/vp.pt" --max-steps 4 >/dev/null
"$PY" "${VP[@]}" --config channels=16 emb_dim=8 --ckpt "$W/vpb/vp.pt" --max-steps 2 >/dev/null
"$PY" "${VP[@]}" --ckpt "$W/vpb/vp.pt" --max-steps 4 >/dev/null
"$PY" - "$W/vpa/vp.pt" "$W/vpb/vp.pt" <<'EOF' || die "voiceprint resume is not exact"
import sys, torch
from training import checkpoint as ck
a, b = (ck.load(p) for p in sys.argv[1:])
assert a["step"] == b["step"] == 4
bad = [k for k in a["model"] if not torch.equal(a["model"][k], b["model"][k])]
assert not bad, bad[:3]
EOF
awk -F'\t' 'NR > 1 && $4 != "" {v = 1} END {exit !v}' "$W/vpa/voiceprint_log.tsv" || die "no val EER in the voiceprint log"
"$PY" -m training.voiceprint.separated --separator "$W/a/latest.pt" --cache "$W/cache" --items 6 --seconds 1 \
  --min-sisnr -100 --p-background 1 --out "$W/sep.npz" | tail -1 | sed 's/^/   /'
"$PY" -c "import numpy as np, sys; assert np.load(sys.argv[1])['p_background'] == 1" "$W/sep.npz" \
  || die "the separated set does not record its --p-background"
expect_rc 2 "separated set with --p-background 2" "$PY" -m training.voiceprint.separated --separator "$W/a/latest.pt" \
  --cache "$W/cache" --items 1 --p-background 2 --out "$W/bad.npz"
mkdir -p "$W/vpc" && cp "$W/vpa/vp.pt" "$W/vpc/vp.pt"
"$PY" "${VP[@]}" --ckpt "$W/vpc/vp.pt" --max-steps 6 --separated "$W/sep.npz" --p-separated 1 >/dev/null
"$PY" - "$W/vpc/vp.pt" "$W/vpa/vp.pt" "$W/sep.npz" "$W/cache" <<'EOF' || die "separated crops did not reach the voiceprint's batches"
import sys, numpy as np, torch
from training import checkpoint as ck
from training.cache import Cache
from training.voiceprint.data import SpeakerCrops
c, a = ck.load(sys.argv[1]), ck.load(sys.argv[2])
assert c["step"] == 6 and c["hparams"]["p_separated"] == 1 and c["hparams"]["separated"].endswith("sep.npz"), c["hparams"]
assert any(not torch.equal(c["model"][k], a["model"][k]) for k in a["model"])
z = np.load(sys.argv[3])
assert len(z["crops"]) == 12 and z["crops"].dtype == np.int16, z["crops"].shape
d = SpeakerCrops(Cache(sys.argv[4], "train"), 7, 1.0, separated=(z["crops"], z["speakers"]), p_separated=1.0)
k = next(iter(d.sep_of))
x = d.item(np.random.default_rng(0), k)
crops = z["crops"][d.sep_of[k]].astype(np.float32)
cos = max(abs(float(x @ y) / (np.linalg.norm(x) * np.linalg.norm(y) + 1e-9)) for y in crops)
assert cos > 0.999, cos  # the item is that speaker's separated output (rescaled), not a fresh crop
print(f"   separated crops: {len(z['crops'])} outputs, kept in the checkpoint's hparams, drawn for their speakers")
EOF
rm "$W/sep.npz"
expect_rc 2 "voiceprint resume without its separated crops" "$PY" "${VP[@]}" --ckpt "$W/vpc/vp.pt" --max-steps 7
"$PY" -m training.voiceprint.publish --ckpt "$W/vpa/vp.pt" --models "$W/pub" --work "$W/vpwork" --val-eer 0.5 | tail -1 | sed 's/^/   /'
"$PY" - "$W/pub" <<'EOF' || die "the manifest does not list the voiceprint right"
import hashlib, json, os, sys
from training.manifest import write_manifest
d = sys.argv[1]
m = json.load(open(os.path.join(d, "manifest.json")))
roles = {a["role"]: a for a in m["artifacts"]}
assert set(roles) == {"model", "voiceprint"}, roles
b = open(os.path.join(d, roles["voiceprint"]["file"]), "rb").read()
assert roles["voiceprint"]["sha256"] == hashlib.sha256(b).hexdigest() and roles["voiceprint"]["bytes"] == len(b)
assert m["provenance"]["voiceprint"]["trainingSteps"] == 4 and m["provenance"]["voiceprint"]["valEer"] == 0.5
write_manifest(os.path.join(d, "manifest.json"), os.path.join(d, "q2.onnx"))  # a new separator keeps the voiceprint
m2 = json.load(open(os.path.join(d, "manifest.json")))
assert {a["role"] for a in m2["artifacts"]} == {"model", "voiceprint"} and m2["provenance"]["voiceprint"] == m["provenance"]["voiceprint"]
print("   manifest lists model + voiceprint (hash, size, provenance); a re-published separator keeps the voiceprint")
EOF
expect_rc 3 "voiceprint publish of a separator checkpoint" "$PY" -m training.voiceprint.publish --ckpt "$W/a/latest.pt" --models "$W/pub" --work "$W/vpwork"
"$PY" - <<'EOF' || die "conversation scoring is wrong"
import numpy as np
from training.conversations import oracle_route, score_conversation
SR = 16000
rng = np.random.default_rng(1)
refs = np.zeros((2, 8 * SR), np.float32)
refs[0, :2 * SR] = rng.standard_normal(2 * SR) * 0.1; refs[1, 2 * SR:4 * SR] = rng.standard_normal(2 * SR) * 0.1
refs[0, 4 * SR:6 * SR] = rng.standard_normal(2 * SR) * 0.1; refs[1, 6 * SR:] = rng.standard_normal(2 * SR) * 0.1
mix = refs.sum(0)
good = np.stack([refs[1], refs[0], 0 * mix])  # each person on a track of their own (order does not matter)
lumped = np.stack([mix, 0 * mix, 0 * mix])      # both on one track: what a separator does with turns
imp, pur = score_conversation(good, mix, refs)
assert pur > 0.999 and imp > 40, (imp, pur)
imp2, pur2 = score_conversation(lumped, mix, refs)
assert abs(pur2 - 0.5) < 1e-3 and abs(imp2) < 0.1, (imp2, pur2)
imp3, pur3 = score_conversation(oracle_route(lumped, refs), mix, refs)
assert pur3 > 0.999, pur3
print(f"   own tracks: purity {pur:.3f}; both on one: {pur2:.3f}, SI-SNRi {imp2:.2f} dB; oracle routing repairs it")
EOF
expect_rc 3 "eval of a contract-breaking model" training/eval "$W/broken.onnx" --cache "$W/cache" --items 1 --seconds 1
expect_rc 2 "eval with missing data" training/eval "$W/pub/q1.onnx" --cache "$W/nocache" --data "$W/nodata" --items 1
mkdir -p "$W/emptycache" && cp "$W/cache/meta.json" "$W/emptycache/"
expect_rc 2 "eval with an empty/missing split" training/eval "$W/pub/q1.onnx" --cache "$W/emptycache" --items 1
echo "SMOKE OK"
