"""Reading FLAIR-INC checkpoints: a `.pth` state dict (smp keys, with or without `model.seg_model.`)
or a Lightning `.ckpt` (`{"state_dict": {"model.seg_model.<smp key>": tensor, ...}, ...}`).

As IGN's loader does, the prefix is stripped and the weights are loaded with strict=True; unlike
a bare `load_state_dict`, every problem names the file and lists the first offending keys.
"""

import os
from collections import OrderedDict
from typing import Any, List, Mapping, Optional, Tuple

import torch
from torch import nn

PREFIX = "model.seg_model."
#: How many keys an error message lists per category before "... and N more".
SHOWN_KEYS = 8


class CheckpointError(Exception):
    """A checkpoint that cannot be read or does not match the architecture."""


def _first(keys: List[str], n: int = SHOWN_KEYS) -> str:
    shown = ", ".join(keys[:n])
    return shown + (f", ... and {len(keys) - n} more" if len(keys) > n else "")


def _torch_load(path: str, allow_pickle: bool) -> Any:
    if not allow_pickle:
        try:
            return torch.load(path, map_location="cpu", weights_only=True)
        except TypeError:  # a torch older than 1.13 has no weights_only
            pass
        except Exception as err:  # noqa: BLE001 - torch raises UnpicklingError/RuntimeError/...
            if "weights_only" in str(err) or "Unpickl" in type(err).__name__ or "unpickl" in str(err).lower():
                raise CheckpointError(
                    f"{path}: holds Python objects besides tensors, which the safe loader refuses "
                    f"({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}). "
                    "If you trust the file, run again with --allow-pickle."
                ) from err
            raise CheckpointError(f"{path}: cannot read it as a PyTorch file: {err}") from err
    try:
        return torch.load(path, map_location="cpu")
    except Exception as err:  # noqa: BLE001
        raise CheckpointError(f"{path}: cannot read it as a PyTorch file: {err}") from err


def strip_prefix(state: Mapping[str, Any], prefix: str = PREFIX) -> Tuple["OrderedDict[str, Any]", List[str]]:
    """If any key starts with `prefix`, keeps only those keys, without it (a Lightning module also
    saves e.g. its loss weights next to the model); returns (state dict, dropped keys).
    Otherwise returns the state dict unchanged."""
    if not any(k.startswith(prefix) for k in state):
        return OrderedDict(state), []
    kept: "OrderedDict[str, Any]" = OrderedDict()
    dropped: List[str] = []
    for k, v in state.items():
        if k.startswith(prefix):
            kept[k[len(prefix):]] = v
        else:
            dropped.append(k)
    return kept, dropped


def read_state_dict(path: str, allow_pickle: bool = False) -> Tuple["OrderedDict[str, torch.Tensor]", List[str]]:
    """The smp state dict inside `path` (.pth or .ckpt), prefix stripped; plus the dropped non-model keys."""
    if not os.path.isfile(path):
        raise CheckpointError(f"{path}: no such file")
    obj = _torch_load(path, allow_pickle)
    if isinstance(obj, Mapping) and isinstance(obj.get("state_dict"), Mapping):
        obj = obj["state_dict"]  # Lightning checkpoint
    if not isinstance(obj, Mapping):
        raise CheckpointError(f"{path}: expected a state dict (or a Lightning checkpoint with 'state_dict'), got {type(obj).__name__}")
    non_tensors = [str(k) for k, v in obj.items() if not isinstance(v, torch.Tensor)]
    if non_tensors:
        raise CheckpointError(
            f"{path}: expected a state dict of tensors; these entries are not tensors: {_first(non_tensors)}"
        )
    state, dropped = strip_prefix(obj)
    return state, dropped


def check_keys(path: str, model: nn.Module, state: Mapping[str, torch.Tensor]) -> None:
    """Raises CheckpointError if `state` does not load into `model` with strict=True."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    mismatched = [
        f"{k} {list(state[k].shape)} (model: {list(v.shape)})"
        for k, v in expected.items()
        if k in state and tuple(state[k].shape) != tuple(v.shape)
    ]
    if not (missing or unexpected or mismatched):
        return
    lines = [f"{path}: does not match smp Unet(resnet34, in_channels=5, classes=19) (loaded with strict=True):"]
    if missing:
        lines.append(f"  {len(missing)} missing key(s): {_first(missing)}")
    if unexpected:
        lines.append(f"  {len(unexpected)} unexpected key(s): {_first(unexpected)}")
    if mismatched:
        lines.append(f"  {len(mismatched)} shape mismatch(es): {_first(mismatched)}")
    lines.append(f"  (the prefix '{PREFIX}' is stripped when present; a Lightning .ckpt is read from its 'state_dict')")
    raise CheckpointError("\n".join(lines))


def load_checkpoint(path: str, model: Optional[nn.Module] = None, allow_pickle: bool = False) -> nn.Module:
    """Loads `path` into `model` (default: a new UnetResNet34) with strict=True, in eval mode."""
    if model is None:
        from .unet_resnet34 import UnetResNet34

        model = UnetResNet34()
    state, _dropped = read_state_dict(path, allow_pickle)
    check_keys(path, model, state)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as err:  # belt and braces: check_keys should have caught it
        raise CheckpointError(f"{path}: {err}") from err
    return model.eval()


def describe_dropped(dropped: List[str]) -> Optional[str]:
    if not dropped:
        return None
    return f"ignored {len(dropped)} checkpoint entr{'y' if len(dropped) == 1 else 'ies'} outside '{PREFIX}': {_first(dropped)}"


__all__: Tuple[str, ...] = (
    "PREFIX",
    "CheckpointError",
    "strip_prefix",
    "read_state_dict",
    "check_keys",
    "load_checkpoint",
    "describe_dropped",
)
