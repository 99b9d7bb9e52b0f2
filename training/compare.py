"""Should a candidate model replace the shipped one? Compares two `training/eval --json` results.

    /usr/bin/python3 -m training.compare CANDIDATE.json SHIPPED.json [--tolerance 0.05]
    /usr/bin/python3 -m training.compare C777.json,C1777.json,... S777.json,S1777.json,... (several seeded lists)

Prints every figure side by side and exits 0 when the candidate is at least as good (within
--tolerance dB) on every condition both files have, 1 when it is worse on any (each named),
2 on unreadable input. "Better" per figure: higher SI-SNRi for the two-speaker conditions and
for the background output; for single-speaker items a higher speaker SI-SNR and a quieter other
speaker output. The rule the model card states: ship only what beats the shipped model everywhere,
except where a regression is accepted by name with a reason written in the model card:
--accept LABEL (repeatable; a label as printed, e.g. "single: other output") lists it without failing.
Comma-separated lists of files (the same number on both sides, e.g. `training/eval --seed S` for S = 777, 1777,
2777, 3777) compare the mean of each figure over the lists: one 40-item list swings by ±0.4–0.75 dB between seeds,
more than most changes between checkpoints.
"""
import argparse
import json
import sys

# (condition, key, label, higher_is_better)
FIGURES = [(c, "si_snri_db", f"{c} SI-SNRi", True) for c in ("clean", "bg", "reverb", "tel300", "tel50", "mp3", "opus")] + [
    ("bg", "background_si_snri_db", "bg: background output SI-SNRi", True),
    ("single", "speaker_si_snr_db", "single: speaker SI-SNR", True),
    ("single", "other_output_rel_db", "single: other output (rel. dB)", False),
    ("single_bg", "speaker_si_snr_db", "single_bg: speaker SI-SNR", True),
    ("single_bg", "other_output_rel_db", "single_bg: other output (rel. dB)", False),
]


def compare(cand, ship, tol, accept=()):
    rows, worse = [], []
    for cond, key, label, higher in FIGURES:
        a, b = cand.get(cond, {}).get(key), ship.get(cond, {}).get(key)
        if a is None or b is None:
            continue
        delta = a - b if higher else b - a  # > 0: the candidate is better
        rows.append((label, a, b, delta))
        if delta < -tol and not any(label.startswith(x) for x in accept):
            worse.append(label)
    return rows, worse


def mean_of(results):
    """Each figure's mean over several eval results (only figures every result has)."""
    out = {}
    for cond, key, _, _ in FIGURES:
        vals = [r.get(cond, {}).get(key) for r in results]
        if all(v is not None for v in vals):
            out.setdefault(cond, {})[key] = sum(vals) / len(vals)
    return out


def load_results(arg):
    results = []
    for path in arg.split(","):
        with open(path) as f:
            results.append(json.load(f))
    return results


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("candidate")
    ap.add_argument("shipped")
    ap.add_argument("--tolerance", type=float, default=0.05, help="dB a figure may be worse and still count as equal")
    ap.add_argument("--accept", action="append", default=[], metavar="LABEL",
                    help="a figure (label prefix) whose regression is accepted; state the reason in MODEL_CARD.md")
    a = ap.parse_args(argv)
    try:
        cands, ships = load_results(a.candidate), load_results(a.shipped)
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if len(cands) != len(ships):
        print(f"error: {len(cands)} candidate result(s) but {len(ships)} shipped: compare the same lists",
              file=sys.stderr)
        return 2
    if len(cands) > 1:
        print(f"mean of each figure over {len(cands)} lists")
        cand, ship = mean_of(cands), mean_of(ships)
    else:
        cand, ship = cands[0], ships[0]
    labels = [f[2] for f in FIGURES]
    unknown = [x for x in a.accept if not any(lb.startswith(x) for lb in labels)]
    if unknown:
        print(f"error: --accept {unknown[0]!r} names no figure (figures: {', '.join(labels)})", file=sys.stderr)
        return 2
    rows, worse = compare(cand, ship, a.tolerance, a.accept)
    if not rows:
        print("error: the two files share no figure", file=sys.stderr)
        return 2
    print(f"{'figure':36s} {'candidate':>10s} {'shipped':>10s} {'better by':>10s}")
    for label, x, y, d in rows:
        note = "  (regression accepted)" if d < -a.tolerance and label not in worse else ""
        print(f"{label:36s} {x:10.2f} {y:10.2f} {d:+10.2f}{note}")
    if worse:
        print(f"keep the shipped model: the candidate is worse on {', '.join(worse)}")
        return 1
    print("ship the candidate: at least as good on every figure" + (" not accepted as a regression" if a.accept else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
