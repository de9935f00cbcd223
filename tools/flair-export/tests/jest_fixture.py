"""Fixtures for test/export/flair-export.test.ts (not a unittest module: its name does not match test*.py).

    jest_fixture.py ckpt --seed N --out FILE.ckpt
        a Lightning-style checkpoint of a random model: {"state_dict": {"model.seg_model.<key>": ...,
        "criterion.weight": ...}, "epoch": ..., "global_step": ...}
    jest_fixture.py reference --checkpoint FILE --manifest model.json --batch B --size S --seed N --out DIR
        random uint8 patches (DIR/input.u8, [B][5][S][S]), the same normalised as flair-fleet does,
        (v - mean) / std in float64 rounded to float32 (DIR/input.f32), and PyTorch's logits for them
        from the checkpoint (DIR/logits.f32, [B][19][S][S]); all little-endian raw arrays.
"""

import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from flair_export.checkpoint import PREFIX, load_checkpoint  # noqa: E402
from flair_export.export import random_model  # noqa: E402


def make_ckpt(seed: int, out: str) -> None:
    model = random_model(seed)
    state = {PREFIX + k: v for k, v in model.state_dict().items()}
    state["criterion.weight"] = torch.ones(19)  # a Lightning module's loss weights: not part of the model
    torch.save({"epoch": 7, "global_step": 1234, "state_dict": state}, out)


def reference(args: argparse.Namespace) -> None:
    with open(args.manifest, encoding="utf-8") as f:
        manifest = json.load(f)
    mean = np.asarray(manifest["mean"], dtype=np.float64).reshape(1, -1, 1, 1)
    std = np.asarray(manifest["std"], dtype=np.float64).reshape(1, -1, 1, 1)
    rng = np.random.default_rng(args.seed)
    raw = rng.integers(0, 256, size=(args.batch, len(manifest["bands"]), args.size, args.size), dtype=np.uint8)
    x = ((raw.astype(np.float64) - mean) / std).astype(np.float32)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    model = load_checkpoint(args.checkpoint)
    with torch.no_grad():
        logits = model(torch.from_numpy(x)).numpy().astype("<f4")
    os.makedirs(args.out, exist_ok=True)
    raw.tofile(os.path.join(args.out, "input.u8"))
    x.astype("<f4").tofile(os.path.join(args.out, "input.f32"))
    logits.tofile(os.path.join(args.out, "logits.f32"))
    with open(os.path.join(args.out, "meta.json"), "w", encoding="utf-8") as f:
        json.dump({"input": list(raw.shape), "logits": list(logits.shape), "logitStd": float(logits.std())}, f)


def main() -> None:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("ckpt")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--out", required=True)
    r = sub.add_parser("reference")
    r.add_argument("--checkpoint", required=True)
    r.add_argument("--manifest", required=True)
    r.add_argument("--batch", type=int, default=2)
    r.add_argument("--size", type=int, default=256)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--out", required=True)
    args = p.parse_args()
    if args.cmd == "ckpt":
        make_ckpt(args.seed, args.out)
    else:
        reference(args)


if __name__ == "__main__":
    main()
