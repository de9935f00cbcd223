"""Writes a flair-fleet model folder: `model.onnx` + `model.json`.

The ONNX graph takes `input` float32 [N, 5, H, W] (normalised R, G, B, NIR, E; N, H and W dynamic,
H and W multiples of 32) and returns `logits` float32 [N, 19, H, W]. It is exported in eval mode, so
batchnorm uses the checkpoint's running statistics.
"""

import copy
import hashlib
import json
import os
import tempfile
import warnings
from typing import Any, Dict, Optional

import torch
from torch import nn

from .unet_resnet34 import FLAIR_CLASSES, FLAIR_IN_CHANNELS, UnetResNet34

INPUT_NAME = "input"
OUTPUT_NAME = "logits"
DEFAULT_OPSET = 17
#: FLAIR-INC's normalisation (docs: /work/shared/FLAIR.md; models/flair-inc/model.json), R G B NIR E.
FLAIR_MEAN = (105.08, 110.87, 101.82, 106.38, 53.26)
FLAIR_STD = (52.17, 45.38, 44.0, 39.69, 79.3)
#: models/flair-inc/model.json in the repository, the manifest every export starts from.
DEFAULT_MANIFEST = os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "models", "flair-inc", "model.json")
)


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def checkpoint_version(path: str) -> str:
    """Version string for a checkpoint: its file name without extension and the start of its SHA-256,
    e.g. `FLAIR-INC_RVBIE_resnet34_unet_15cl_norm.sha256-3f2a9c1b0d4e`. Two different files never
    share it, and a re-export of the same file gives the same one."""
    stem = os.path.splitext(os.path.basename(path))[0]
    return f"{stem}.sha256-{sha256_file(path)[:12]}"


def random_model(seed: int, calibration_size: int = 128) -> UnetResNet34:
    """A model of the real shape with random weights, for benchmarks and export tests.

    Convolutions get He-normal weights; batchnorm running statistics are first measured on random
    bytes normalised as the pipeline does, with FLAIR's mean and std (so activations stay O(1)
    through all 36 layers for that kind of input instead of vanishing or exploding),
    then perturbed moderately (mean shift ~0.05 sd, variance x e^(+-0.1), gamma 0.9..1.1,
    beta ~0.05) so eval-mode batchnorm is not an identity. On such input the logits have a standard
    deviation of about 1-1.5 and a largest magnitude around 10; all 19 logits win somewhere.
    """
    gen = torch.Generator().manual_seed(seed)
    model = UnetResNet34()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                fan_in = m.in_channels * m.kernel_size[0] * m.kernel_size[1]
                m.weight.normal_(0.0, (2.0 / fan_in) ** 0.5, generator=gen)
                if m.bias is not None:
                    m.bias.normal_(0.0, 0.1, generator=gen)
        bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
        for bn in bns:
            bn.reset_running_stats()
            bn.momentum = None  # cumulative average over the calibration batch
        model.train()
        raw = torch.randint(0, 256, (4, FLAIR_IN_CHANNELS, calibration_size, calibration_size), generator=gen)
        mean = torch.tensor(FLAIR_MEAN, dtype=torch.float64).view(1, -1, 1, 1)
        std = torch.tensor(FLAIR_STD, dtype=torch.float64).view(1, -1, 1, 1)
        model(((raw.double() - mean) / std).float())
        for bn in bns:
            bn.momentum = 0.1
            sd = bn.running_var.sqrt()
            bn.running_mean.add_(0.05 * sd * torch.randn(bn.running_mean.shape, generator=gen))
            bn.running_var.mul_(torch.exp(0.1 * torch.randn(bn.running_var.shape, generator=gen)))
            bn.weight.uniform_(0.9, 1.1, generator=gen)
            bn.bias.normal_(0.0, 0.05, generator=gen)
    return model.eval()


def check_patch(patch: int) -> None:
    """A window side the U-Net can take: positive and a multiple of its output stride, 32 (5 poolings)."""
    if patch <= 0 or patch % 32 != 0:
        raise ValueError(f"patch must be a positive multiple of 32 (the U-Net's 5 poolings), got {patch}")


def build_manifest(template: Dict[str, Any], version: str, name: Optional[str] = None, patch: Optional[int] = None) -> Dict[str, Any]:
    """models/flair-inc/model.json with this export's version (and the graph's tensor names), and
    `patch` in place of the template's when given (the window side the pipeline plans with)."""
    manifest = copy.deepcopy(template)
    if name:
        manifest["name"] = name
    if patch is not None:
        check_patch(patch)
        manifest["patch"] = patch
    manifest["version"] = version
    manifest["input"] = INPUT_NAME
    manifest["output"] = OUTPUT_NAME
    bands = manifest.get("bands", [])
    if len(bands) != FLAIR_IN_CHANNELS:
        raise ValueError(f"manifest lists {len(bands)} bands but the model takes {FLAIR_IN_CHANNELS}")
    for c in manifest.get("classes", []):
        if not 0 <= c["logit"] < FLAIR_CLASSES:
            raise ValueError(f"manifest class {c.get('name')} uses logit {c['logit']}, outside 0..{FLAIR_CLASSES - 1}")
    return manifest


def export_onnx(model: nn.Module, path: str, opset: int = DEFAULT_OPSET, dynamic_hw: bool = True, patch: int = 512) -> None:
    """Exports `model` (in eval mode) to `path` and checks the result with onnx.checker."""
    import onnx  # imported here so `--help` works without it

    model = model.eval()
    size = 64 if dynamic_hw else patch
    dummy = torch.zeros(1, FLAIR_IN_CHANNELS, size, size)
    axes = {0: "batch", 2: "height", 3: "width"} if dynamic_hw else {0: "batch"}
    out_dir = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(suffix=".onnx.tmp", dir=out_dir)
    os.close(fd)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            # torch 1.13 warns for the empty `roi` constant of every Resize (nearest upsampling); benign.
            warnings.filterwarnings("ignore", message="The shape inference of prim::Constant type is missing")
            torch.onnx.export(
                model,
                dummy,
                tmp,
                export_params=True,
                opset_version=opset,
                do_constant_folding=True,
                input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME],
                dynamic_axes={INPUT_NAME: axes, OUTPUT_NAME: axes},
                training=torch.onnx.TrainingMode.EVAL,
            )
        graph = onnx.load(tmp)
        onnx.checker.check_model(graph)
        inputs = [i.name for i in graph.graph.input]
        outputs = [o.name for o in graph.graph.output]
        if inputs != [INPUT_NAME] or outputs != [OUTPUT_NAME]:
            raise RuntimeError(f"exported graph has inputs {inputs} and outputs {outputs}")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it 0600
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_model_folder(
    model: nn.Module,
    out_dir: str,
    version: str,
    manifest_path: str = DEFAULT_MANIFEST,
    name: Optional[str] = None,
    opset: int = DEFAULT_OPSET,
    dynamic_hw: bool = True,
    patch: Optional[int] = None,
) -> Dict[str, Any]:
    """Writes out_dir/model.onnx and out_dir/model.json; returns the manifest written. `patch`
    overrides the template's; a fixed-size graph (not `dynamic_hw`) takes patch x patch inputs."""
    with open(manifest_path, encoding="utf-8") as f:
        template = json.load(f)
    manifest = build_manifest(template, version, name, patch)
    os.makedirs(out_dir, exist_ok=True)
    export_onnx(model, os.path.join(out_dir, "model.onnx"), opset, dynamic_hw, int(manifest.get("patch", 512)))
    with open(os.path.join(out_dir, "model.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    return manifest
