"""Resumable training of the VoxSplit separator (CPU or CUDA).

    /usr/bin/python3 -m training.train [--max-minutes M] [--max-steps N] [--ckpt training/checkpoints/latest.pt]

Starts fresh when --ckpt does not exist, otherwise resumes it exactly (weights, Adam state,
step, RNG states, data-sampler state = step). Saves --ckpt (temp file + rename) every
--save-minutes, at the end, and on SIGTERM/SIGINT. Appends to --log (TSV: step, loss,
val SI-SNRi on a fixed seeded clean 2-speaker val subset, lr, cumulative wall hours).
Exit codes: 0 ok, 2 data error, 3 checkpoint/config mismatch, 4 NaN/inf loss (last good
checkpoint kept on disk).
"""
import argparse
import collections
import copy
import concurrent.futures
import json
import math
import multiprocessing
import random
import os
import sys
import time

import numpy as np
import torch

from . import checkpoint as ck
from .cache import Cache, DataError
from .ema import WeightEMA
from .stopping import stop_requested
from .losses import SILENCE_LOSSES, SPEAKER_LOSSES, TrainingLoss, batch_sisnri, sisnri_2spk
from .mix import Mixer, check_shares
from .model import (Separator, check_grown_shift, count_params, make_config, make_identity, refine_bins,
                    widen_front_inputs)

HERE = os.path.dirname(os.path.abspath(__file__))
LOG_HEADER = "step\tloss\tval_sisnri_db\tlr\twall_h\ttime\ttrain_sisnri_db\tval_ema_sisnri_db\n"


def upgrade_log_header(path):
    """Logs written before the train_sisnri_db / val_ema_sisnri_db columns get the new header (old rows lack them)."""
    with open(path) as f:
        lines = f.readlines()
    if lines and lines[0] != LOG_HEADER:
        lines[0] = LOG_HEADER
        with open(path + ".tmp", "w") as f:
            f.writelines(lines)
        os.replace(path + ".tmp", path)


def lr_at(step, base, warmup, rewarm=None):
    """rewarm = (from_step, steps): a second linear warm-up after a resume that changes the batch or the lr a lot."""
    w = min(1.0, (step + 1) / warmup)
    if rewarm:
        w *= min(1.0, max(0, step - rewarm[0] + 1) / rewarm[1])
    return base * w * 0.5 ** max(0.0, (step - 60000) / 40000)


GROWN_ADDONS = ("refine.", "front.")  # modules that start at zero when grown onto a trained model


def cpu_has_bf16():
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return True  # unknown: no warning
    return "avx512_bf16" in flags or "amx_bf16" in flags


def bf16_front_cosine(model, loss_of):
    """Cosine between the gradients of loss_of() with the front end in fp32 and in bfloat16, on the same weights
    (leaves model.front_bf16 on): how far --bf16-front turns a training step."""
    g = []
    for on in (False, True):
        model.front_bf16 = on
        model.zero_grad()
        loss_of().backward()
        g.append(torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None]))
    return float(g[0] @ g[1] / (g[0].norm() * g[1].norm()))


def bf16_front_sound(model, loss_of, min_cosine=0.9):
    """Whether --bf16-front trains correctly on this machine: the gradient with the front end in bfloat16 is finite
    and points where the fp32 one does. Torch 1.13's oneDNN AMX kernels (Sapphire Rapids and later) gave an inf
    weight gradient for an undilated bfloat16 conv (ConvFrontEnd now keeps that one in fp32); a kernel bug of that
    kind must not stop or corrupt a run. Leaves model.front_bf16 on, the RNG untouched (a resumed run must draw what it
    would have drawn) and the gradients cleared."""
    rng = torch.get_rng_state()
    try:
        cos = bf16_front_cosine(model, loss_of)
    finally:
        torch.set_rng_state(rng)
        model.zero_grad(set_to_none=True)
    return math.isfinite(cos) and cos >= min_cosine, cos


def param_groups(model, refine_mult):
    """One Adam group, or two when the model has an add-on that starts at zero when grown (mask refiner, conv front
    end): the add-ons' at `refine_mult` x the base lr (the multiplier rides in the group, so a resumed optimizer
    keeps it)."""
    ref = [p for n, p in model.named_parameters() if n.startswith(GROWN_ADDONS)]
    if not ref:
        return [{"params": list(model.parameters()), "mult": 1.0}]
    rest = [p for n, p in model.named_parameters() if not n.startswith(GROWN_ADDONS)]
    return [{"params": rest, "mult": 1.0}, {"params": ref, "mult": float(refine_mult)}]


_FEED_MIXER = None


def _feed_batch(args):
    step, size = args
    return _FEED_MIXER.batch(step, size)


class BatchFeed:
    """Mixer batches for consecutive steps; with workers > 0 they are mixed ahead in forked processes (a GPU eats a
    64-item batch faster than one core mixes it). Each batch is a pure function of (seed, step), so the stream is the
    same with or without workers."""

    def __init__(self, mixer, size, workers, ahead=None):
        global _FEED_MIXER
        self.mixer, self.size, self.pool = mixer, size, None
        if workers > 0:
            _FEED_MIXER = mixer
            # concurrent.futures rather than multiprocessing.Pool: Pool.terminate() hung once in the smoke test
            # (workers reaped, the parent blocked on a queue lock); the executor raises on a dead worker instead
            # and shuts down without joining the queues.
            self.pool = concurrent.futures.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
            self.ahead = ahead or 2 * workers
            self.queue = collections.deque()

    def get(self, step):
        if self.pool is None:
            return self.mixer.batch(step, self.size)
        if self.queue and self.queue[0][0] != step:
            self.queue.clear()
        nxt = self.queue[-1][0] + 1 if self.queue else step
        while len(self.queue) < self.ahead:
            self.queue.append((nxt, self.pool.submit(_feed_batch, (nxt, self.size))))
            nxt += 1
        return self.queue.popleft()[1].result()

    def close(self):
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = None


def parse_overrides(items):
    out = {}
    for it in items or []:
        k, _, v = it.partition("=")
        out[k] = v
    return out


class ValSet:
    def __init__(self, cache_dir, items, seconds, seed=20240611, bg=False):
        vc = Cache(cache_dir, "val")
        mx = Mixer(vc, seed=seed, seconds=seconds, p_speed=0, p_clip=0)
        lst = mx.fixed_list(seed, items, single=False, bg=bg, reverb=False, band=None)
        self.mix = np.stack([m for m, _ in lst])
        self.ref = np.stack([s for _, s in lst])

    @torch.no_grad()
    def score(self, model, device, bs=8):
        model.eval()
        vals = []
        for i in range(0, len(self.mix), bs):
            est = model(torch.from_numpy(self.mix[i:i + bs]).to(device)).cpu().numpy()
            for j in range(est.shape[0]):
                vals.append(sisnri_2spk(est[j], self.ref[i + j, :2], self.mix[i + j])[0])
        model.train()
        return float(np.mean(vals))


MIX_KEYS = {"p_overlap": float, "p_single": float, "p_reverb": float, "p_close_pitch": float, "close_semitones": float, "curriculum": lambda v: [float(x) for x in v.split(",")]}
LOSS_KEYS = {"speaker": str, "quiet": str, "cap": float, "logit_l2": float, "psm": float, "single_hinge": float,
             "bg_weight": float}
LOSS_USAGE = "speaker=sisnr|snr|psm quiet=floor|hinge cap=DB logit_l2=W psm=W single_hinge=W bg_weight=W"


def parse_settings(items, known, option):
    """key=value items of --mix / --loss, each converted by its type in `known`; unknown keys are refused."""
    out = {}
    for k, v in parse_overrides(items).items():
        if k not in known:
            raise ValueError(f"unknown {option} key {k!r} (known: {', '.join(known)})")
        out[k] = known[k](v)
    return out


def parse_mix(items):
    """--mix p_overlap=0.7 p_single=0.1 curriculum=START,STEPS,FLOOR (see training/mix.py, mix version 2)."""
    out = parse_settings(items, MIX_KEYS, "--mix")
    if "curriculum" in out and len(out["curriculum"]) != 3:
        raise ValueError("--mix curriculum=START,STEPS,FLOOR")
    check_shares(**out)
    return out


def parse_loss(items):
    """--loss LOSS_USAGE (training/losses.py)."""
    out = parse_settings(items, LOSS_KEYS, "--loss")
    if out.get("speaker", "sisnr") not in SPEAKER_LOSSES or out.get("quiet", "floor") not in SILENCE_LOSSES:
        raise ValueError(f"--loss speaker must be one of {SPEAKER_LOSSES}, quiet one of {SILENCE_LOSSES}")
    if "cap" in out and out.get("speaker", "sisnr") != "sisnr":
        # cap bounds only the SI-SNR term: with another speaker loss it would be ignored without a word
        raise ValueError("--loss cap=DB bounds the SI-SNR speaker loss: use it with speaker=sisnr")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", default=os.path.join(HERE, "cache"))
    ap.add_argument("--ckpt", default=os.path.join(HERE, "checkpoints", "latest.pt"))
    ap.add_argument("--log", default=None, help="default: train_log.tsv next to --ckpt")
    ap.add_argument("--config", nargs="*", default=[], help="model config overrides key=value (fresh start only)")
    ap.add_argument("--mix", nargs="*", default=None,
                    help="data-mix settings key=value, stored in the checkpoint; on resume they replace the stored ones")
    ap.add_argument("--loss", nargs="*", default=None,
                    help=f"loss settings key=value ({LOSS_USAGE}), stored in the "
                         "checkpoint; on resume they replace the stored ones. Default: the runs 0-4 loss")
    ap.add_argument("--init-from", default=None,
                    help="fresh start only: take every weight but the mask head from this checkpoint (warm start)")
    ap.add_argument("--grow", action="store_true",
                    help="with --init-from into a model with more blocks or a longer STFT window: copy every weight "
                         "that fits, the mask head too, make the new layers identities (the grown model starts as the "
                         "same function) and interpolate the per-bin weights over frequency (close to the same function)")
    ap.add_argument("--batch", type=int, default=None,
                    help="items per step (default 4); on resume it replaces the stored one (a GPU session: 64)")
    ap.add_argument("--rewarm", type=int, default=0,
                    help="on resume: warm the lr up again over this many steps (with a new --batch or a much higher --lr)")
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--lr", type=float, default=None,
                    help="base learning rate (default 5e-4); on resume it replaces the stored one (e.g. halving on a plateau)")
    ap.add_argument("--warmup", type=int, default=1000)
    ap.add_argument("--refine-lr-mult", type=float, default=None,
                    help="the learning rate of the add-ons (mask refiner, conv front end) as a multiple of the base one "
                         "(default 1; stored in the checkpoint): an add-on grown onto a trained model starts at zero "
                         "and needs to move faster")
    ap.add_argument("--ema", type=float, default=None,
                    help="keep an exponential moving average of the weights with this decay (e.g. 0.999; 0 turns it "
                         "off), stored in the checkpoint and scored beside the weights at each val (training/ema.py); "
                         "export it with `training.average --ema`")
    ap.add_argument("--bf16-front", choices=("on", "off"), default=None,
                    help="run the conv front end in bfloat16 while training (CPU autocast; about half the step time on "
                         "a CPU with AVX512-BF16); stored in the checkpoint; val and export stay fp32")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-steps", type=int, default=10 ** 9, help="stop at this global step")
    ap.add_argument("--max-minutes", type=float, default=1e9)
    ap.add_argument("--save-minutes", type=float, default=10.0)
    ap.add_argument("--log-every", type=int, default=100)
    ap.add_argument("--val-every", type=int, default=1000)
    ap.add_argument("--val-items", type=int, default=48)
    ap.add_argument("--debug-nan-step", type=int, default=-1, help=argparse.SUPPRESS)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--workers", type=int, default=0,
                    help="processes mixing batches ahead (for a GPU; 0: mix in the training process, as on this CPU)")
    a = ap.parse_args(argv)
    if a.grow and not a.init_from:
        print("error: --grow needs --init-from (the checkpoint to grow from)", file=sys.stderr)
        return 3
    log_path = a.log or os.path.join(os.path.dirname(os.path.abspath(a.ckpt)), "train_log.tsv")

    try:
        train_cache = Cache(a.cache, "train")
        val = ValSet(a.cache, a.val_items, a.seconds) if a.val_items > 0 else None
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    resume = os.path.exists(a.ckpt)
    try:
        if resume:
            state = ck.load(a.ckpt)
            config = make_config(**state["config"])
            if a.config:
                ck.check_config(state, make_config(**parse_overrides(a.config)), a.ckpt)
            hp = state["hparams"]
        else:
            config = make_config(**parse_overrides(a.config))
            hp = {"batch": a.batch or 4, "seconds": a.seconds, "lr": a.lr if a.lr is not None else 5e-4, "warmup": a.warmup, "seed": a.seed}
        if resume and a.batch is not None and a.batch != hp["batch"]:
            print(f"[train] batch changed at step {int(state['step'])}: {hp['batch']} -> {a.batch}", flush=True)
            hp = dict(hp, batch=a.batch)
        if a.rewarm > 0:
            if not resume:
                raise ValueError("--rewarm applies on resume (a fresh start warms up with --warmup)")
            hp = dict(hp, rewarm=[int(state["step"]), a.rewarm])
        if a.refine_lr_mult is not None:
            if a.refine_lr_mult <= 0:
                raise ValueError("--refine-lr-mult must be > 0")
            hp = dict(hp, refine_lr_mult=a.refine_lr_mult)
        if resume and a.lr is not None and a.lr != hp["lr"]:
            print(f"[train] base learning rate changed at step {int(state['step'])}: {hp['lr']} -> {a.lr}", flush=True)
            hp = dict(hp, lr=a.lr)
        if a.bf16_front is not None:
            on = a.bf16_front == "on"
            if resume and on != hp.get("bf16_front", False):
                print(f"[train] bfloat16 front end changed at step {int(state['step'])}: {hp.get('bf16_front', False)} -> {on}", flush=True)
            hp = dict(hp, bf16_front=on)
        if a.ema is not None:
            if a.ema:  # refused before anything is reported as changed
                WeightEMA.check_decay(a.ema)
            if resume and a.ema != hp.get("ema", 0):
                print(f"[train] weight EMA changed at step {int(state['step'])}: {hp.get('ema', 0)} -> {a.ema}", flush=True)
            hp = dict(hp, ema=a.ema)
        if a.mix is not None:
            mix_hp = parse_mix(a.mix)
            if resume and mix_hp != hp.get("mix", {}):
                print(f"[train] data mix changed at step {int(state['step'])}: {hp.get('mix', {})} -> {mix_hp}", flush=True)
            hp = dict(hp, mix=mix_hp)
        if a.loss is not None:
            loss_hp = parse_loss(a.loss)
            if resume and loss_hp != hp.get("loss", {}):
                print(f"[train] loss changed at step {int(state['step'])}: {hp.get('loss', {})} -> {loss_hp}", flush=True)
            hp = dict(hp, loss=loss_hp)
    except (ck.CheckpointError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 3

    torch.manual_seed(hp["seed"])
    np.random.seed(hp["seed"])
    random.seed(hp["seed"])
    model = Separator(config).to(a.device)
    model.front_bf16 = bool(hp.get("bf16_front", False))
    if model.front_bf16 and a.device == "cpu" and not cpu_has_bf16():
        print("[train] warning: this CPU has no AVX512-BF16/AMX: the bf16 front end is emulated and slower; "
              "resume with --bf16-front off", flush=True)
    opt = torch.optim.Adam(param_groups(model, hp.get("refine_lr_mult", 1.0)), lr=hp["lr"])
    step, wall_s = 0, 0.0
    if resume:
        try:
            ck.check_config(state, model.config, a.ckpt)
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["optim"])
            for g in opt.param_groups[1:]:  # the refiner's group: --refine-lr-mult on resume replaces the stored one
                g["mult"] = float(hp.get("refine_lr_mult", 1.0))
        except (ck.CheckpointError, RuntimeError, ValueError, KeyError) as e:
            print(f"error: checkpoint {a.ckpt} does not fit the model: {e}", file=sys.stderr)
            return 3
        step, wall_s = int(state["step"]), float(state["wall_s"])
        ck.set_rng_state(state["rng"])
        if int(state["sampler"]["seed"]) != hp["seed"]:
            print("error: sampler seed mismatch in checkpoint", file=sys.stderr)
            return 3
        print(f"[train] resumed {a.ckpt} at step {step} ({wall_s / 3600:.2f} h)", flush=True)
    else:
        if a.init_from:
            try:
                src = ck.load(a.init_from)
                took, fresh, src_step = ck.init_from(model, a.init_from, skip=() if a.grow else ("mask.",), obj=src)
                hp["init_from"] = f"{a.init_from} (step {src_step}{', grown' if a.grow else ''})"
                if a.grow:
                    try:
                        check_grown_shift(src["config"], model.config)
                        zeroed = make_identity(model, fresh)
                        refined = refine_bins(model, src["model"], src["config"])
                        widened = widen_front_inputs(model, src["model"])
                    except ValueError as e:
                        raise ck.CheckpointError(f"--grow: {e}") from e
                    if refined:
                        print(f"[train] grown over frequency: {', '.join(refined)} interpolated", flush=True)
                    if widened:
                        print("[train] grown: the front end's new input channels start at zero", flush=True)
                    tables = {n for n, _ in model.named_buffers()}  # fixed at construction, never trained
                    left = [k for k in fresh if not k.startswith(("intra.", "inter.") + GROWN_ADDONS)
                            and k not in refined and k not in tables]
                    if left:
                        raise ck.CheckpointError(f"--grow: only new blocks may be fresh, not {', '.join(left)}")
                    print(f"[train] grown: {len(zeroed)} residual outputs of the new layers zeroed", flush=True)
            except ck.CheckpointError as e:
                print(f"error: {e}", file=sys.stderr)
                return 3
            print(f"[train] warm start from {a.init_from}: {len(took)} tensors copied, fresh: {', '.join(fresh)}", flush=True)
        print(f"[train] fresh start: {json.dumps(config)} params={count_params(model)}", flush=True)
    ema = ema_model = None
    if hp.get("ema", 0):
        try:  # turned on at a resume: it starts from the weights of that step
            ema = WeightEMA(model, hp["ema"], state.get("ema") if resume else None)
        except ValueError as e:
            print(f"error: {e}", file=sys.stderr)
            return 3
        ema_model = copy.deepcopy(model)  # not a new Separator: its random init would draw from the resumed RNG
    mixer = Mixer(train_cache, seed=hp["seed"], seconds=hp["seconds"], **hp.get("mix", {}))
    feed = BatchFeed(mixer, hp["batch"], a.workers)
    if a.device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True

    if not os.path.exists(log_path):
        os.makedirs(os.path.dirname(os.path.abspath(log_path)), exist_ok=True)
        with open(log_path, "w") as f:
            f.write(LOG_HEADER)
    else:
        upgrade_log_header(log_path)

    stop = stop_requested("train")

    def save():
        ck.save(a.ckpt, config=config, model=model, optim=opt, step=step, wall_s=wall_s,
                sampler={"seed": hp["seed"], "step": step}, hparams=hp, ema=None if ema is None else ema.state)

    def log(loss, v, tr, ve=None):
        with open(log_path, "a") as f:
            f.write(f"{step}\t{'' if loss is None else f'{loss:.4f}'}\t{'' if v is None else f'{v:.3f}'}\t"
                    f"{lr_at(step, hp['lr'], hp['warmup'], hp.get('rewarm')):.3g}\t{wall_s / 3600:.4f}\t{time.strftime('%Y-%m-%dT%H:%M:%S')}\t"
                    f"{'' if tr is None else f'{tr:.3f}'}\t{'' if ve is None else f'{ve:.3f}'}\n")

    try:
        loss_fn = TrainingLoss(model, hp.get("loss", {}))
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 3

    model.train()
    if model.front_bf16:
        def check_loss():
            mix, ref = (torch.from_numpy(t).to(a.device) for t in mixer.batch(step, hp["batch"]))
            return loss_fn(model(mix), ref, mix)
        sound, cos = bf16_front_sound(model, check_loss)
        if not sound:
            # the stored setting stays on: another machine's kernels may train it correctly (and 2.5x faster)
            print(f"[train] warning: the bfloat16 front end gives a wrong gradient on this CPU (cosine to fp32 {cos:.4f}); "
                  "this process trains it in fp32", flush=True)
            model.front_bf16 = False

    t_start = time.time()
    last_save = t_log = time.time()
    losses, train_imp = [], []
    model.train()
    try:
        while step < a.max_steps and not stop["flag"] and (time.time() - t_start) < a.max_minutes * 60:
            t0 = time.time()
            mix, ref = feed.get(step)
            mix_t = torch.from_numpy(mix).to(a.device)
            ref_t = torch.from_numpy(ref).to(a.device)
            for g in opt.param_groups:
                g["lr"] = lr_at(step, hp["lr"], hp["warmup"], hp.get("rewarm")) * g.get("mult", 1.0)
            est = model(mix_t)
            loss = loss_fn(est, ref_t, mix_t)
            if step == a.debug_nan_step:
                loss = loss * float("nan")
            if not torch.isfinite(loss):
                print(f"error: non-finite loss ({loss.item()}) at step {step}; stopping, last good checkpoint kept at {a.ckpt}",
                      file=sys.stderr, flush=True)
                return 4
            opt.zero_grad(set_to_none=True)
            loss.backward()
            gn = torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            if not torch.isfinite(gn):
                print(f"error: non-finite gradient at step {step}; stopping, last good checkpoint kept at {a.ckpt}",
                      file=sys.stderr, flush=True)
                return 4
            opt.step()
            if ema is not None:
                ema.update(model)
            step += 1
            wall_s += time.time() - t0
            losses.append(loss.item())
            ti = batch_sisnri(est.detach(), ref_t, mix_t)
            if ti is not None:
                train_imp.append(ti)
            v = ve = None
            if val is not None and a.val_every > 0 and step % a.val_every == 0:
                t1 = time.time()
                v = val.score(model, a.device)
                if ema is not None:
                    ve = val.score(ema.load_into(ema_model), a.device)
                wall_s += time.time() - t1
                print(f"[train] step {step} val SI-SNRi {v:.2f} dB" + ("" if ve is None else f", EMA weights {ve:.2f} dB"),
                      flush=True)
            if step % a.log_every == 0 or v is not None:
                ml = float(np.mean(losses)) if losses else None
                tr = float(np.mean(train_imp)) if train_imp else None
                log(ml, v, tr, ve)
                print(f"[train] step {step} loss {ml:.3f} train SI-SNRi {'-' if tr is None else f'{tr:.2f}'} dB "
                      f"d={mixer.difficulty(step):.2f} {(time.time() - t_log) / max(1, len(losses)):.3f}s/step "
                      f"lr {lr_at(step, hp['lr'], hp['warmup'], hp.get('rewarm')):.2e}", flush=True)
                losses, train_imp = [], []
                t_log = time.time()
            if time.time() - last_save > a.save_minutes * 60:
                save()
                last_save = time.time()
    finally:
        feed.close()
    if losses:  # the steps since the last log row: a short run (a device call) still leaves its figures
        log(float(np.mean(losses)), None, float(np.mean(train_imp)) if train_imp else None)
    save()
    print(f"[train] saved {a.ckpt} at step {step} ({wall_s / 3600:.2f} h of training)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
