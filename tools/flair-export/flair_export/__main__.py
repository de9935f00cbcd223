"""CLI: PYTHONPATH=tools/flair-export /usr/bin/python3 -m flair_export --checkpoint FILE --out DIR
                                                                 --random [--seed N] --out DIR"""

import argparse
import os
import sys
import time
from typing import List, Optional

from .checkpoint import CheckpointError, PREFIX, check_keys, describe_dropped, read_state_dict
from .export import DEFAULT_MANIFEST, DEFAULT_OPSET, check_patch, checkpoint_version, random_model, write_model_folder
from .unet_resnet34 import UnetResNet34


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python3 -m flair_export",
        description="Convert a FLAIR-INC checkpoint (smp Unet resnet34, 5 bands, 19 logits) to a flair-fleet model folder "
        "(model.onnx + model.json).",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", metavar="FILE", help=f".pth state dict (keys with or without '{PREFIX}') or Lightning .ckpt")
    src.add_argument("--random", action="store_true", help="random weights of the same shape (benchmarks, tests)")
    p.add_argument("--seed", type=int, default=0, help="seed for --random (default 0)")
    p.add_argument("--out", required=True, metavar="DIR", help="model folder to write (created if missing)")
    p.add_argument("--manifest", default=DEFAULT_MANIFEST, metavar="FILE", help="model.json to start from (default: models/flair-inc/model.json)")
    p.add_argument("--version", dest="model_version", metavar="STR", help="version to write in model.json (default: from the checkpoint's name and SHA-256)")
    p.add_argument("--opset", type=int, default=DEFAULT_OPSET, help=f"ONNX opset (default {DEFAULT_OPSET})")
    p.add_argument(
        "--patch",
        type=int,
        metavar="N",
        help="window side in px to write in model.json, a multiple of 32 (default: the manifest's patch); "
        "the graph runs any size unless --fixed-size",
    )
    p.add_argument("--fixed-size", action="store_true", help="fix H and W to the patch (--patch or the manifest's) instead of leaving them dynamic")
    p.add_argument("--allow-pickle", action="store_true", help="let torch.load unpickle arbitrary objects (only for files you trust)")
    return p.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    if args.patch is not None:
        try:
            check_patch(args.patch)
        except ValueError as err:  # before loading anything: a wrong flag should not cost an export
            print(f"error: --patch: {err}", file=sys.stderr)
            return 2
    started = time.monotonic()
    name = None
    if args.random:
        model = random_model(args.seed)
        version = args.model_version or f"random-seed{args.seed}"
        name = "FLAIR-INC_random-weights"
        print(f"random weights, seed {args.seed}", file=sys.stderr)
    else:
        try:
            state, dropped = read_state_dict(args.checkpoint, args.allow_pickle)
            model = UnetResNet34()
            check_keys(args.checkpoint, model, state)
            model.load_state_dict(state, strict=True)
        except CheckpointError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        note = describe_dropped(dropped)
        if note:
            print(f"{args.checkpoint}: {note}", file=sys.stderr)
        version = args.model_version or checkpoint_version(args.checkpoint)
        print(f"{args.checkpoint}: {len(state)} tensors loaded (strict)", file=sys.stderr)
    model.eval()
    manifest = write_model_folder(model, args.out, version, args.manifest, name, args.opset, not args.fixed_size, args.patch)
    size = os.path.getsize(os.path.join(args.out, "model.onnx"))
    print(
        f"wrote {os.path.join(args.out, 'model.onnx')} ({size / 1e6:.1f} MB, opset {args.opset}) and model.json "
        f"({manifest['name']} {manifest['version']}) in {time.monotonic() - started:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
