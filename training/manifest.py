"""Writes public/models/manifest.json (format voxsplit-model-manifest/1, parsed by src/features/model/manifest.ts).

    /usr/bin/python3 -m training.manifest MODEL.onnx [--out public/models/manifest.json] [--meta EXPORT.json]
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
MODEL_ID = "voxsplit-dp-small"
VOICEPRINT_FILE = "voxsplit-voiceprint-int8.onnx"
VERSION = "0.1.0"
CHUNKING = {"chunkSeconds": 8, "overlapSeconds": 1}
DATA = ("../shared/data train split: ~5.5 h real speech, ~3,100 speakers, ~60 languages (LibriSpeech, Common Voice, "
        "speechocean762, Speech Commands), 75 min music/noise, 10 measured RIRs + synthetic RIRs/noise; dynamic mixing")
LICENCE = ("Weights: distributed with VoxSplit. Trained (not redistributed) on CC BY 4.0 / CC0 speech and CC BY(-SA) / "
           "GPL / CC0 / some CC BY-NC backgrounds; see training/MODEL_CARD.md")


def artifact(role, path):
    with open(path, "rb") as f:
        data = f.read()
    return {"role": role, "file": os.path.basename(path), "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _git_commit():
    try:
        return subprocess.run(["git", "-C", REPO, "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except Exception:  # noqa: BLE001
        return "unknown"


def build_manifest(model_path, meta=None, val_si_snri=None, n_src=3):
    meta = meta or {}
    return {
        "format": "voxsplit-model-manifest/1",
        "id": MODEL_ID,
        "name": "VoxSplit dual-path separator (small)",
        "version": VERSION,
        "task": "speech-separation",
        "sampleRate": 16000,
        "opset": 17,
        "licence": LICENCE,
        "input": {"name": "mixture", "dtype": "float32", "shape": [1, "T"]},
        "output": {"name": "sources", "dtype": "float32", "shape": [1, n_src, "T"]},
        "sources": [
            {"index": 0, "id": "speaker1", "kind": "speaker", "label": "Speaker 1"},
            {"index": 1, "id": "speaker2", "kind": "speaker", "label": "Speaker 2"},
            {"index": 2, "id": "background", "kind": "background", "label": "Background"},
        ],
        "artifacts": [artifact("model", model_path)],
        "chunking": dict(CHUNKING),
        "provenance": {
            "trainingSteps": int(meta.get("step", 0)),
            "trainingWallHours": round(float(meta.get("wall_s", 0.0)) / 3600, 3),
            "seed": int(meta.get("seed", 0)),
            "commit": meta.get("commit") or _git_commit(),
            "data": DATA,
            "modelCard": "training/MODEL_CARD.md",
            "valSiSnriCleanDb": None if val_si_snri is None else round(float(val_si_snri), 2),
            "config": meta.get("config"),
            "leakGateDb": meta.get("leak_gate_db"),
            "quantization": "int8 per-channel symmetric weights (DequantizeLinear), activations float32",
        },
    }


def shipped_model(manifest_path=os.path.join(REPO, "public", "models", "manifest.json"), role="model"):
    """The file of an artifact the app ships (role "model": the separator), as its manifest names it (so scripts
    need not spell file names)."""
    with open(manifest_path) as f:
        m = json.load(f)
    files = [a["file"] for a in m.get("artifacts", []) if a.get("role") == role]
    if len(files) != 1:
        raise ValueError(f"{manifest_path} names {len(files)} artifacts of role {role!r}, expected 1")
    return os.path.join(os.path.dirname(manifest_path), files[0])


def with_voiceprint(m, folder, previous=None, provenance=None):
    """Lists the voiceprint (the associate stage's model) when its file sits in `folder`, hashed afresh; its provenance
    is `provenance` when given (a new voiceprint), else the previous manifest's (a new separator keeps it)."""
    path = os.path.join(folder, VOICEPRINT_FILE)
    if not os.path.isfile(path):
        return m
    m["artifacts"] = [a for a in m["artifacts"] if a["role"] != "voiceprint"] + [artifact("voiceprint", path)]
    prov = provenance if provenance is not None else (previous or {}).get("provenance", {}).get("voiceprint")
    if prov is not None:
        m["provenance"]["voiceprint"] = prov
    return m


def _write(out, m):
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(m, f, indent=2)
        f.write("\n")
    os.replace(tmp, out)
    return m


def _previous(out):
    try:
        with open(out) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def write_manifest(out, model_path, meta_path=None, val_si_snri=None):
    meta = {}
    if meta_path:
        with open(meta_path) as f:
            meta = json.load(f)
    if os.path.dirname(os.path.abspath(out)) != os.path.dirname(os.path.abspath(model_path)):
        raise ValueError("the model file must sit next to the manifest (artifacts[].file is relative)")
    m = build_manifest(model_path, meta, val_si_snri)
    return _write(out, with_voiceprint(m, os.path.dirname(os.path.abspath(out)), _previous(out)))


def write_voiceprint(out, provenance):
    """A new voiceprint (already at VOICEPRINT_FILE next to the manifest) into the existing manifest."""
    m = _previous(out)
    if m is None:
        raise ValueError(f"{out}: no manifest to add the voiceprint to (publish the separator first)")
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isfile(os.path.join(folder, VOICEPRINT_FILE)):
        raise ValueError(f"no {VOICEPRINT_FILE} next to {out}")
    return _write(out, with_voiceprint(m, folder, provenance=provenance))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("model")
    ap.add_argument("--out", default=os.path.join(REPO, "public", "models", "manifest.json"))
    ap.add_argument("--meta", default=None)
    ap.add_argument("--val-si-snri", type=float, default=None)
    a = ap.parse_args(argv)
    try:
        write_manifest(a.out, a.model, a.meta, a.val_si_snri)
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"[manifest] {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
